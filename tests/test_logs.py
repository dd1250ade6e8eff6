"""Structured logs and redaction: no secret value survives into a log line or message."""

from __future__ import annotations

import io
import json

import pytest

from soviet_art_bot.config import Secrets
from soviet_art_bot.errors import ArtBotError, PostIncomplete
from soviet_art_bot.log import Logger


def lines(stream):
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_loaded_secrets_are_redacted_everywhere():
    secret = 'tok"en\\with-quote-and-backslash-0123456789'
    secrets = Secrets(env={"X_API_KEY": secret})
    from soviet_art_bot.log import register_secret

    secrets.on_secret = register_secret
    assert secrets.get("X_API_KEY") == secret
    stream = io.StringIO()
    log = Logger(stream)
    log.info("step", note=f"header Authorization: OAuth oauth_consumer_key={secret}")
    assert secret not in stream.getvalue() and json.dumps(secret)[1:-1] not in stream.getvalue()
    assert lines(stream)[0]["note"].endswith("oauth_consumer_key=***")
    error = PostIncomplete("2026-11-26T12:00:00Z", {"x": f"x: 401 for key {secret}"})
    assert secret not in str(error) and "***" in str(error)
    assert secret not in repr(secrets)


def test_an_error_is_logged_once_with_its_message():
    stream = io.StringIO()
    log = Logger(stream, slot="s")
    with pytest.raises(ArtBotError):
        with log.timed("post_slot"), log.timed("choose"), log.timed("load_catalog"):
            raise ArtBotError("catalog.json is not valid JSON")
    records = lines(stream)
    assert [r["step"] for r in records] == ["load_catalog", "choose", "post_slot"]
    assert [r.get("error") for r in records] == [
        "catalog.json is not valid JSON",
        None,
        None,
    ]
    assert [r["error_type"] for r in records] == ["ArtBotError"] * 3
    assert all(r["outcome"] == "error" and r["slot"] == "s" for r in records)


def test_nested_fields_are_redacted_too():
    from soviet_art_bot.log import register_secret

    secret = 'nested"secret\\value-42'
    register_secret(secret)
    stream = io.StringIO()
    Logger(stream).info("step", nested={"a": [f"x {secret} y"]})
    assert secret not in stream.getvalue() and json.dumps(secret)[1:-1] not in stream.getvalue()
    assert lines(stream)[0]["nested"] == {"a": ["x *** y"]}
