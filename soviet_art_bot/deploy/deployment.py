"""One deployment: the checks before it, and its resources in dependency order."""

from __future__ import annotations

from .. import config as cfg
from ..errors import ArtBotError
from .alarms import Alarm, Subscription, Topic
from .aws import DeployError, aws_error, error_code
from .function import AsyncConfig, FunctionCode, FunctionConfiguration, LogGroup
from .iam import Role, RolePolicy
from .reconcile import Context, Resource, Skipped
from .schedule import Permission, Rule, Target


def resources(ctx: Context, *, teardown: bool = False) -> list[Resource]:
    """Every resource of the deployment, each after what it needs.

    A teardown lists the alarm resources whatever ART_BOT_ALARM_EMAIL says
    now, so alarms made by an earlier deploy with an email are removed too.
    """
    out: list[Resource] = [
        Role(ctx),
        RolePolicy(ctx),
        LogGroup(ctx),
        FunctionCode(ctx),
        FunctionConfiguration(ctx),
        AsyncConfig(ctx),
        Rule(ctx),
        Target(ctx),
        Permission(ctx),
    ]
    c = ctx.config
    if c.alarm_email is None and not teardown:
        return [*out, Skipped(ctx, "alarms", f"{cfg.ENV_ALARM_EMAIL} is not set")]
    out.append(Topic(ctx))
    if c.alarm_email is not None:
        out.append(Subscription(ctx))
    return [*out, Alarm(ctx, c.errors_alarm), Alarm(ctx, c.heartbeat_alarm)]


def check_bucket(ctx: Context) -> None:
    """The bucket the ingest filled must exist (the deploy never creates it)."""
    bucket = ctx.config.bucket
    try:
        ctx.clients("s3").head_bucket(Bucket=bucket)
    except ArtBotError:
        raise
    except Exception as exc:
        if error_code(exc) in ("404", "NoSuchBucket", "NotFound"):
            raise DeployError(
                f"bucket {bucket} does not exist; create it and run the ingest first "
                "(docs/operations.md)"
            ) from None
        raise aws_error(f"checking bucket {bucket}", exc) from None


def _secret_types(ctx: Context) -> dict[str, str]:
    path = ctx.config.ssm_path
    found: dict[str, str] = {}
    try:
        pages = (
            ctx.clients("ssm")
            .get_paginator("describe_parameters")
            .paginate(ParameterFilters=[{"Key": "Path", "Option": "OneLevel", "Values": [path]}])
        )
        for page in pages:
            for param in page.get("Parameters", []):
                found[param["Name"].rsplit("/", 1)[-1]] = param.get("Type", "")
    except ArtBotError:
        raise
    except Exception as exc:
        raise aws_error(f"listing SSM parameters under {path}", exc) from None
    return found


def check_secrets(ctx: Context) -> None:
    """Every secret the platforms need is a SecureString under the path: by
    name and type only, the deploy never decrypts or reads a value."""
    c = ctx.config
    found = _secret_types(ctx)
    missing = [n for n in c.secret_names if n not in found]
    if missing:
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise DeployError(
            f"SSM parameter {c.ssm_path}/{missing[0]} is missing{more}; put it with "
            "'aws ssm put-parameter --type SecureString' (docs/operations.md)"
        )
    plain = [n for n in c.secret_names if found[n] != "SecureString"]
    if plain:
        raise DeployError(
            f"SSM parameter {c.ssm_path}/{plain[0]} is a {found[plain[0]]}, not a "
            "SecureString; delete it and put it again with --type SecureString"
        )
