"""The deploy's parts on their own: read-only clients, the IAM policy judged by
AWS's documented rules, one settings resolver with the bot, and its size."""

from __future__ import annotations

import ast
import fnmatch
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from soviet_art_bot.config import Settings, aws_region
from soviet_art_bot.deploy import load_config
from soviet_art_bot.deploy.aws import DEPLOY_SERVICES, Account, Clients, ReadOnlyViolation
from soviet_art_bot.deploy.policy import role_policy
from soviet_art_bot.errors import ConfigError

DEPLOY_PACKAGE = Path(__file__).resolve().parent.parent / "soviet_art_bot" / "deploy"
ENV = {
    "ART_BOT_STORE": "s3://my-soviet-art/collection",
    "ART_BOT_PLATFORMS": "x",
    "ART_BOT_SSM_PATH": "/soviet-art-bot",
    "AWS_REGION": "eu-west-1",
}
ACCOUNT = Account("123456789012", "aws", "eu-west-1")


def test_plan_clients_refuse_every_write_before_a_request(aws_env):
    clients = Clients(read_only=True)
    iam = clients("iam")
    for call in (
        lambda: iam.create_role(RoleName="r", AssumeRolePolicyDocument="{}"),
        lambda: iam.put_role_policy(RoleName="r", PolicyName="p", PolicyDocument="{}"),
        lambda: iam.delete_role(RoleName="r"),
        lambda: iam.get_waiter("role_exists"),
        lambda: iam.get_paginator("create_role"),
    ):
        with pytest.raises(ReadOnlyViolation, match="a read-only run may not"):
            call()
    assert clients.calls == []  # refused before anything was sent

    # Past the wrapper, the request-level check still refuses the write.
    with pytest.raises(ReadOnlyViolation, match="may not send CreateRole"):
        iam._client.create_role(RoleName="r", AssumeRolePolicyDocument="{}")
    with pytest.raises(ClientError, match="NoSuchEntity"):
        boto3.client("iam").get_role(RoleName="r")

    # Reads go through and are counted.
    iam.list_roles()
    list(iam.get_paginator("list_roles").paginate())
    assert clients.calls[-2:] == ["ListRoles", "ListRoles"]


def test_a_teardown_cannot_reach_the_bucket_or_the_secrets(aws_env):
    clients = Clients(services=DEPLOY_SERVICES)
    for service in ("s3", "ssm", "kms"):
        with pytest.raises(ReadOnlyViolation, match=f"may not use AWS {service}"):
            clients(service)
    assert clients("iam") is clients("iam")  # built once


# --------------------------------------------------------------------------
# The policy, judged by IAM's documented evaluation


def allows(policy: dict[str, Any], action: str, resource: str, context: dict[str, str]) -> bool:
    """Whether an Allow statement matches, by IAM's rules for what we use:
    wildcards in Action and Resource, and StringEquals/StringLike conditions,
    where a key absent from the request context does not match."""
    for s in policy["Statement"]:
        if s["Effect"] != "Allow" or not any(fnmatch.fnmatchcase(action, a) for a in s["Action"]):
            continue
        if not any(fnmatch.fnmatchcase(resource, r) for r in s["Resource"]):
            continue
        ok = True
        for operator, keys in s.get("Condition", {}).items():
            for key, wanted in keys.items():
                values = wanted if isinstance(wanted, list) else [wanted]
                have = context.get(key)
                match = fnmatch.fnmatchcase if operator == "StringLike" else str.__eq__
                ok = ok and have is not None and any(match(have, v) for v in values)
        if ok:
            return True
    return False


def test_the_policy_lets_s3_answer_404_for_a_missing_state_object():
    """S3 answers 404 for a missing key only to a caller with s3:ListBucket on
    the bucket (GetObject's documented permissions). A GetObject carries no
    s3:prefix (a ListObjects parameter), so the grant must hold without it."""
    policy = role_policy(load_config(ENV), ACCOUNT)
    bucket = "arn:aws:s3:::my-soviet-art"
    assert allows(policy, "s3:ListBucket", bucket, {})
    # The previous grant did not: it held only for a listing with a prefix.
    old = {"Statement": [{"Effect": "Allow", "Action": ["s3:ListBucket"], "Resource": [bucket],
           "Condition": {"StringLike": {"s3:prefix": ["collection/state/*"]}}}]}  # fmt: skip
    assert not allows(old, "s3:ListBucket", bucket, {})
    assert allows(old, "s3:ListBucket", bucket, {"s3:prefix": "collection/state/x"})


def test_the_policy_keeps_object_actions_under_the_store_and_no_wildcard_action():
    policy = role_policy(load_config(ENV), ACCOUNT)
    b = "arn:aws:s3:::my-soviet-art"
    actions = [a for s in policy["Statement"] for a in s["Action"]]
    assert not [a for a in actions if "*" in a]
    assert allows(policy, "s3:GetObject", f"{b}/collection/catalog.json", {})
    assert allows(policy, "s3:GetObject", f"{b}/collection/images/1.jpg", {})
    assert allows(policy, "s3:PutObject", f"{b}/collection/state/ledger.json", {})
    assert not allows(policy, "s3:PutObject", f"{b}/collection/catalog.json", {})
    assert not allows(policy, "s3:PutObject", f"{b}/collection/images/1.jpg", {})
    assert not allows(policy, "s3:GetObject", f"{b}/other/secret.txt", {})
    assert not allows(policy, "s3:DeleteObject", f"{b}/collection/state/ledger.json", {})
    object_resources = [
        r for s in policy["Statement"] for r in s["Resource"] if r.startswith(f"{b}/")
    ]
    assert object_resources and all(r.startswith(f"{b}/collection/") for r in object_resources)
    param = "arn:aws:ssm:eu-west-1:123456789012:parameter/soviet-art-bot"
    assert allows(policy, "ssm:GetParametersByPath", param, {})
    assert not allows(
        policy, "ssm:GetParametersByPath", "arn:aws:ssm:eu-west-1:123456789012:parameter/other", {}
    )
    assert not allows(policy, "ssm:PutParameter", f"{param}/X_API_KEY", {})


def test_a_store_without_prefix_scopes_objects_to_the_bucket_layout():
    policy = role_policy(load_config({**ENV, "ART_BOT_STORE": "s3://my-soviet-art"}), ACCOUNT)
    b = "arn:aws:s3:::my-soviet-art"
    assert allows(policy, "s3:PutObject", f"{b}/state/ledger.json", {})
    assert not allows(policy, "s3:PutObject", f"{b}/catalog.json", {})
    assert allows(policy, "s3:ListBucket", b, {})


# --------------------------------------------------------------------------
# One resolver, one error style


@pytest.mark.parametrize(
    "change",
    [
        {"ART_BOT_STORE": "s3://Bad_Bucket/c"},
        {"ART_BOT_STORE": "ftp://host/c"},
        {"ART_BOT_PLATFORMS": "x,myspace"},
        {"ART_BOT_SSM_PATH": "soviet-art-bot"},
        {"ART_BOT_SSM_PATH": "/soviet art bot"},
        {"ART_BOT_NO_REPEAT_DAYS": "soon"},
        {"ART_BOT_POST_LINK": "perhaps"},
        {"X_API_BASE_URL": "ftp://api.x.com"},
        {"ART_BOT_PLATFORMS": "x,mastodon"},
        {"ART_BOT_PLATFORMS": "bluesky"},
    ],
)
def test_the_deploy_refuses_what_the_bot_refuses_in_the_bots_words(change):
    env = {**ENV, **change}
    with pytest.raises(ConfigError) as bot:
        Settings.resolve(env)
    with pytest.raises(ConfigError) as deploy:
        load_config(env)
    assert str(deploy.value) == str(bot.value)


@pytest.mark.parametrize("region", ["eu west", "EU-WEST-1", "moon"])
def test_the_deploy_reads_the_region_as_the_bot_does(region):
    env = {**ENV, "AWS_REGION": region}
    with pytest.raises(ConfigError) as bot:
        aws_region(env)
    with pytest.raises(ConfigError) as deploy:
        load_config(env)
    assert str(deploy.value) == str(bot.value)
    assert "is not a region name" in str(deploy.value)


def test_no_function_over_50_lines_and_no_class_over_200():
    too_long = []
    for path in sorted(DEPLOY_PACKAGE.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            limit = {ast.FunctionDef: 50, ast.ClassDef: 200}.get(type(node))
            if limit and node.end_lineno - node.lineno + 1 > limit:
                too_long.append(f"{path.name}:{node.name}")
    assert too_long == []
