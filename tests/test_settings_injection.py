"""Settings that would inject something are refused when they are read, by the bot
and by the deploy alike (the deploy runs the bot's own resolver), before an IAM
policy or a function environment is written; and a refusal never echoes a
secret the setting may hold."""

from __future__ import annotations

import pytest

from soviet_art_bot.cli import main
from soviet_art_bot.config import Settings
from soviet_art_bot.deploy import load_config
from soviet_art_bot.errors import ConfigError

BOT = {"ART_BOT_STORE": "s3://my-soviet-art/collection", "ART_BOT_PLATFORMS": "outbox"}
DEPLOY = {
    **BOT,
    "ART_BOT_PLATFORMS": "x",
    "ART_BOT_SSM_PATH": "/soviet-art-bot",
    "AWS_REGION": "eu-west-1",
}


def refused(env: dict[str, str]) -> tuple[str, str]:
    """The bot's and the deploy's messages for the same settings."""
    with pytest.raises(ConfigError) as bot:
        Settings.resolve({**BOT, **env})
    with pytest.raises(ConfigError) as deploy:
        load_config({**DEPLOY, **env})
    return str(bot.value), str(deploy.value)


@pytest.mark.parametrize(
    "store",
    [
        "s3://my-soviet-art/*",
        "s3://my-soviet-art/collection*",
        "s3://my-soviet-art/c?llection",
        "s3://my-soviet-art/${aws:username}",
        "s3://my-soviet-art/{x}",
        "s3://my-soviet-art/a/../b",
        "s3://my-soviet-art/a//b",
        "s3://my-soviet-art/a/./b",
        "s3://my-soviet-art/a b",
        "s3://my-soviet-art/a\x00b",
    ],
)
def test_store_prefixes_that_would_widen_the_policy_are_refused(store):
    for message in refused({"ART_BOT_STORE": store}):
        assert message.startswith("ART_BOT_STORE: the S3 prefix")
        assert "IAM policy" in message


@pytest.mark.parametrize(
    "store",
    ["s3://my-soviet-art", "s3://my-soviet-art/", "s3://my-soviet-art/a/b-c_d.e/(1)/x=y@z+w,v!"],
)
def test_ordinary_prefixes_are_accepted(store):
    assert Settings.resolve({**BOT, "ART_BOT_STORE": store}).store == store
    assert load_config({**DEPLOY, "ART_BOT_STORE": store}).store == store


SECRET = "hunter2-s3cr3t-value"


@pytest.mark.parametrize("name", ["MASTODON_API_BASE_URL", "BLUESKY_PDS_URL", "X_API_BASE_URL"])
@pytest.mark.parametrize(
    ("url", "why"),
    [
        (f"https://bot:{SECRET}@mastodon.example", "user name or password"),
        (f"https://{SECRET}@mastodon.example/", "user name or password"),
        (f"https://mastodon.example/?token={SECRET}", "query"),
        (f"https://mastodon.example/api?access_token={SECRET}", "query"),
        (f"https://mastodon.example/#{SECRET}", "fragment"),
        (f"https://mastodon.example:99999{SECRET}", "invalid port"),
        (f"ftp://mastodon.example/{SECRET}", "not an http(s) URL"),
    ],
)
def test_platform_urls_carrying_secrets_are_refused_without_echo(name, url, why):
    env = {name: url, "BLUESKY_HANDLE": "a.bsky.social"}
    for message in refused(env):
        assert message.startswith(name) and why in message
        assert SECRET not in message


def test_platform_url_with_a_bad_port_is_refused():
    for message in refused({"MASTODON_API_BASE_URL": "https://mastodon.example:99999"}):
        assert "invalid port" in message


@pytest.mark.parametrize(
    "path", ["/a/../b", "/a/./b", "/..", "/a//b", "//a", "/a b", "/a/*", "/${aws:username}"]
)
def test_ssm_paths_with_dot_segments_or_empty_parts_are_refused(path):
    for message in refused({"ART_BOT_SSM_PATH": path}):
        assert message.startswith("ART_BOT_SSM_PATH")


def test_ordinary_ssm_paths_are_accepted():
    for path in ("/soviet-art-bot", "/prod/soviet.art_bot-1/", "/a.b/c..d"):
        assert load_config({**DEPLOY, "ART_BOT_SSM_PATH": path}).ssm_path == path.rstrip("/")


def test_the_cli_says_it_in_one_line(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("MASTODON_API_BASE_URL", f"https://bot:{SECRET}@mastodon.example")
    code = main(["post", "--store", str(tmp_path), "--platforms", "mastodon"])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and err.startswith("Error: MASTODON_API_BASE_URL")
    assert SECRET not in err
