"""The deploy's settings: the bot's own, resolved by :mod:`soviet_art_bot.config`,
plus the few that only a deploy has (function name, schedule, alarms, size).

The function will run ``Settings.resolve`` on the environment the deploy
gives it, so the deploy runs the very same resolver first: a setting the bot
would refuse stops the deploy, with the bot's own words, before anything is
built or changed. Every refusal is a :class:`ConfigError`, printed by the
command line as one ``Error: ...`` line.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from .. import config as cfg
from ..errors import ConfigError

DEFAULT_FUNCTION_NAME = "soviet-art-bot"
DEFAULT_SCHEDULE = "rate(6 hours)"
DEFAULT_RUNTIME = "python3.13"
DEFAULT_MEMORY_MB = 256
DEFAULT_TIMEOUT_SECONDS = 120

# Lambda's Python runtimes and the wheels their Amazon Linux can load.
# python3.12+ run on Amazon Linux 2023 (glibc 2.34), python3.11 on AL2 (2.26).
RUNTIMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "python3.11": ("3.11", ("manylinux2014_x86_64",)),
    "python3.12": ("3.12", ("manylinux2014_x86_64", "manylinux_2_28_x86_64")),
    "python3.13": ("3.13", ("manylinux2014_x86_64", "manylinux_2_28_x86_64")),
}

PLATFORM_SECRETS: dict[str, tuple[str, ...]] = {
    "x": (cfg.X_API_KEY, cfg.X_API_SECRET, cfg.X_ACCESS_TOKEN, cfg.X_ACCESS_TOKEN_SECRET),
    "mastodon": (cfg.MASTODON_ACCESS_TOKEN,),
    "bluesky": (cfg.BLUESKY_APP_PASSWORD,),
    "outbox": (),
}
# Non-secret settings copied into the function's environment when set.
PASSTHROUGH = (
    cfg.ENV_NO_REPEAT_DAYS,
    cfg.ENV_POST_LINK,
    cfg.ENV_OUTBOX_DIR,
    cfg.ENV_X_API_BASE_URL,
    cfg.ENV_MASTODON_API_BASE_URL,
    cfg.ENV_BLUESKY_HANDLE,
    cfg.ENV_BLUESKY_PDS_URL,
    cfg.ENV_GALLERY,
    cfg.ENV_SENSITIVE,
)
LAMBDA_OUTBOX_DIR = "/tmp/outbox"  # noqa: S108 - the only writable path on Lambda

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((\S+( \S+){5})\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,50}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


def parse_schedule(value: str, *, source: str = cfg.ENV_SCHEDULE) -> tuple[str, int | None]:
    """Check an EventBridge schedule; return it with its interval in seconds.

    The interval sizes the heartbeat alarm. A ``cron(...)`` expression has no
    single interval, so it is None and the heartbeat assumes at least daily.
    """
    value = value.strip()
    if m := _RATE.fullmatch(value):
        amount, unit = int(m.group(1)), m.group(2)
        if amount < 1 or (amount == 1) != (not unit.endswith("s")):
            raise ConfigError(
                f"{source}={value!r} is not a valid rate: use e.g. 'rate(1 hour)' or "
                "'rate(6 hours)' (singular unit for 1, plural otherwise)"
            )
        return value, amount * _UNIT_SECONDS[unit.rstrip("s")]
    if _CRON.fullmatch(value):
        return value, None
    raise ConfigError(
        f"{source}={value!r} is not a schedule expression; use e.g. 'rate(6 hours)' or "
        "'cron(0 */6 * * ? *)'"
    )


def _int_setting(env: Mapping[str, str], name: str, default: int, lo: int, hi: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ConfigError(f"{name}={raw!r} is not a whole number") from None
    if not lo <= value <= hi:
        raise ConfigError(f"{name}={raw!r} must be between {lo} and {hi}")
    return value


def runtime_setting(env: Mapping[str, str]) -> str:
    """The Lambda runtime to build for and run on."""
    runtime = env.get(cfg.ENV_RUNTIME, "").strip() or DEFAULT_RUNTIME
    if runtime not in RUNTIMES:
        raise ConfigError(
            f"{cfg.ENV_RUNTIME}={runtime!r} is not supported; use one of {', '.join(RUNTIMES)}"
        )
    return runtime


def platforms_setting(env: Mapping[str, str]) -> tuple[str, ...]:
    """The enabled platforms, for a build that needs nothing else."""
    value = env.get(cfg.ENV_PLATFORMS, "").strip()
    if not value:
        raise ConfigError(
            f"{cfg.ENV_PLATFORMS} is not set; the zip holds what those platforms need"
        )
    return cfg.parse_platforms(value)


@dataclass(frozen=True)
class DeployConfig:
    """Everything the deploy needs, checked; contains no secret."""

    function_name: str
    store: str
    bucket: str
    prefix: str
    platforms: tuple[str, ...]
    ssm_path: str
    schedule: str
    schedule_seconds: int | None
    region: str
    alarm_email: str | None
    memory_mb: int
    timeout_seconds: int
    runtime: str
    function_env: dict[str, str] = field(default_factory=dict)

    @property
    def gallery(self) -> bool:
        """ART_BOT_GALLERY: Jinja2 goes into the zip and the role may write gallery/."""
        return gallery_setting(self.function_env)

    @property
    def role_name(self) -> str:
        return f"{self.function_name}-role"

    @property
    def policy_name(self) -> str:
        return f"{self.function_name}-policy"

    @property
    def rule_name(self) -> str:
        return f"{self.function_name}-schedule"

    @property
    def log_group(self) -> str:
        return f"/aws/lambda/{self.function_name}"

    @property
    def topic_name(self) -> str:
        return f"{self.function_name}-alarms"

    @property
    def errors_alarm(self) -> str:
        return f"{self.function_name}-errors"

    @property
    def heartbeat_alarm(self) -> str:
        return f"{self.function_name}-heartbeat"

    @property
    def secret_names(self) -> tuple[str, ...]:
        return tuple(n for p in self.platforms for n in PLATFORM_SECRETS.get(p, ()))


def _function_name(env: Mapping[str, str]) -> str:
    name = env.get(cfg.ENV_FUNCTION_NAME, "").strip() or DEFAULT_FUNCTION_NAME
    if not _FUNCTION_NAME.fullmatch(name):
        raise ConfigError(
            f"{cfg.ENV_FUNCTION_NAME}={name!r} is not a function name: use 1-50 "
            "letters, digits, '-' or '_'"
        )
    return name


def _bot_settings(env: Mapping[str, str]) -> cfg.Settings:
    """The bot's settings through the bot's resolver, plus what a Lambda needs of them."""
    settings = cfg.Settings.resolve(env)
    if not settings.store.startswith("s3://"):
        raise ConfigError(
            f"{cfg.ENV_STORE}={settings.store!r} is not an S3 store; the Lambda posts from "
            "s3://BUCKET[/PREFIX]"
        )
    if not settings.ssm_path:  # the function reads its secrets from SSM only
        raise ConfigError(
            f"{cfg.ENV_SSM_PATH} is not set; set it to the SSM path holding the secrets, "
            "e.g. /soviet-art-bot (see docs/operations.md)"
        )
    return settings


def _region(env: Mapping[str, str]) -> str:
    region = cfg.aws_region(env)
    if region is None:
        raise ConfigError(
            "AWS_REGION is not set; set it to the region to deploy to, e.g. eu-west-1"
        )
    return region


def _alarm_email(env: Mapping[str, str]) -> str | None:
    email = env.get(cfg.ENV_ALARM_EMAIL, "").strip() or None
    if email is not None and not _EMAIL.fullmatch(email):
        raise ConfigError(f"{cfg.ENV_ALARM_EMAIL}={email!r} is not an email address")
    return email


def gallery_setting(env: Mapping[str, str]) -> bool:
    """Whether the function refreshes the gallery after each post."""
    return cfg.parse_bool(env.get(cfg.ENV_GALLERY, ""), cfg.ENV_GALLERY)


def function_environment(env: Mapping[str, str], settings: cfg.Settings) -> dict[str, str]:
    """The function's environment: an allow-list of non-secret settings, so an
    ``X_API_KEY`` exported in the deploying shell never reaches the function."""
    out = {
        cfg.ENV_STORE: settings.store,
        cfg.ENV_PLATFORMS: ",".join(settings.platforms),
        cfg.ENV_SSM_PATH: settings.ssm_path or "",
    }
    for name in PASSTHROUGH:
        if value := env.get(name, "").strip():
            out[name] = value
    if "outbox" in settings.platforms and cfg.ENV_OUTBOX_DIR not in out:
        out[cfg.ENV_OUTBOX_DIR] = LAMBDA_OUTBOX_DIR
    return out


def load_config(env: Mapping[str, str] | None = None) -> DeployConfig:
    """Read and check every deploy setting, before anything is built or changed.

    Raises :class:`ConfigError` naming the first missing or malformed one.
    """
    env = os.environ if env is None else env
    function_name = _function_name(env)
    settings = _bot_settings(env)
    region = _region(env)
    schedule, seconds = parse_schedule(env.get(cfg.ENV_SCHEDULE, "").strip() or DEFAULT_SCHEDULE)
    bucket, _, prefix = settings.store[len("s3://") :].partition("/")
    return DeployConfig(
        function_name=function_name,
        store=settings.store,
        bucket=bucket,
        prefix=prefix.strip("/"),
        platforms=settings.platforms,
        ssm_path=settings.ssm_path or "",
        schedule=schedule,
        schedule_seconds=seconds,
        region=region,
        alarm_email=_alarm_email(env),
        memory_mb=_int_setting(env, cfg.ENV_MEMORY_MB, DEFAULT_MEMORY_MB, 128, 10240),
        timeout_seconds=_int_setting(
            env, cfg.ENV_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS, 10, 900
        ),
        runtime=runtime_setting(env),
        function_env=function_environment(env, settings),
    )
