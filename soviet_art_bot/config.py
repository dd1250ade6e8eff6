"""Settings and secrets, resolved in one place: option > environment > default.

Every environment variable the bot reads is named by a constant here, so the
README, the deploy script and the tests can refer to one spelling. Secrets
are kept apart from settings: a :class:`Settings` can be logged, returned and
put in a Lambda's environment; a :class:`Secrets` never is.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from .errors import ConfigError, brief

ENV_STORE = "ART_BOT_STORE"
ENV_PLATFORMS = "ART_BOT_PLATFORMS"
ENV_OUTBOX_DIR = "ART_BOT_OUTBOX_DIR"
ENV_NO_REPEAT_DAYS = "ART_BOT_NO_REPEAT_DAYS"
ENV_SSM_PATH = "ART_BOT_SSM_PATH"
ENV_POST_LINK = "ART_BOT_POST_LINK"
ENV_GALLERY = "ART_BOT_GALLERY"
ENV_SENSITIVE = "ART_BOT_SENSITIVE"
ENV_X_API_BASE_URL = "X_API_BASE_URL"
ENV_MASTODON_API_BASE_URL = "MASTODON_API_BASE_URL"
ENV_BLUESKY_PDS_URL = "BLUESKY_PDS_URL"
ENV_BLUESKY_HANDLE = "BLUESKY_HANDLE"

# Deploy settings (lambda_deploy.sh / soviet_art_bot.deploy); never secrets.
ENV_FUNCTION_NAME = "ART_BOT_FUNCTION_NAME"
ENV_SCHEDULE = "ART_BOT_SCHEDULE"
ENV_ALARM_EMAIL = "ART_BOT_ALARM_EMAIL"
ENV_MEMORY_MB = "ART_BOT_MEMORY_MB"
ENV_TIMEOUT_SECONDS = "ART_BOT_TIMEOUT_SECONDS"
ENV_RUNTIME = "ART_BOT_RUNTIME"

# Secret names: read from the environment, or from SSM under ART_BOT_SSM_PATH.
X_API_KEY = "X_API_KEY"
X_API_SECRET = "X_API_SECRET"
X_ACCESS_TOKEN = "X_ACCESS_TOKEN"
X_ACCESS_TOKEN_SECRET = "X_ACCESS_TOKEN_SECRET"
MASTODON_ACCESS_TOKEN = "MASTODON_ACCESS_TOKEN"
BLUESKY_APP_PASSWORD = "BLUESKY_APP_PASSWORD"
SECRET_NAMES = (
    X_API_KEY,
    X_API_SECRET,
    X_ACCESS_TOKEN,
    X_ACCESS_TOKEN_SECRET,
    MASTODON_ACCESS_TOKEN,
    BLUESKY_APP_PASSWORD,
)

PLATFORMS = ("x", "mastodon", "bluesky", "outbox")

DEFAULT_OUTBOX_DIR = "./outbox"
DEFAULT_NO_REPEAT_DAYS = 7.0
DEFAULT_X_API_BASE_URL = "https://api.x.com"
DEFAULT_BLUESKY_PDS_URL = "https://bsky.social"

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def parse_platforms(value: str, *, source: str = ENV_PLATFORMS) -> tuple[str, ...]:
    """Turn ``"x, outbox"`` into ``("x", "outbox")``, refusing unknown names."""
    names: list[str] = []
    for raw in value.split(","):
        name = raw.strip().lower()
        if not name:
            continue
        if name not in PLATFORMS:
            raise ConfigError(
                f"{source}: unknown platform {raw.strip()!r}; use a comma list of "
                f"{', '.join(PLATFORMS)}"
            )
        if name not in names:
            names.append(name)
    if not names:
        raise ConfigError(f"{source} is empty; set it to a comma list of {', '.join(PLATFORMS)}")
    return tuple(names)


def check_store_url(value: str, *, source: str = ENV_STORE) -> str:
    """Accept ``s3://bucket[/prefix]`` or a local directory path."""
    value = value.strip()
    if not value:
        raise ConfigError(f"{source} is empty; set it to s3://BUCKET[/PREFIX] or a directory")
    if "://" in value:
        scheme, _, rest = value.partition("://")
        if scheme != "s3":
            raise ConfigError(
                f"{source}={brief(value)} is not a store: use s3://BUCKET[/PREFIX] or a directory path"
            )
        bucket, _, prefix = rest.partition("/")
        if not re.fullmatch(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]", bucket):
            raise ConfigError(
                f"{source}={brief(value)} does not name a valid S3 bucket; use s3://BUCKET[/PREFIX]"
            )
        check_store_prefix(prefix.strip("/"), source=source)
    return value


_PREFIX_SEGMENT = re.compile(r"[A-Za-z0-9!_.'()=+@,-]+")


def check_store_prefix(prefix: str, *, source: str = ENV_STORE) -> str:
    """An S3 prefix the deploy can put into an IAM policy as it is.

    The prefix becomes part of the policy's resource ARN
    (``arn:aws:s3:::BUCKET/PREFIX/*``), where ``*`` and ``?`` are wildcards and
    ``${...}`` a policy variable: any of them would widen what the function may
    touch. So a prefix is letters, digits and ``! _ . ' ( ) = + @ , -`` between
    single slashes, without ``.`` or ``..`` segments.
    """
    if not prefix:
        return prefix
    for segment in prefix.split("/"):
        if segment in ("", ".", "..") or not _PREFIX_SEGMENT.fullmatch(segment):
            raise ConfigError(
                f"{source}: the S3 prefix {brief(prefix)} may hold only letters, digits and "
                "! _ . ' ( ) = + @ , - between single slashes, with no '.' or '..' part "
                "(no '*', '?', '$', '{' or '}', which an IAM policy would read as wildcards "
                "or variables)"
            )
    return prefix


def _parse_url(value: str, name: str) -> str:
    """A platform's origin (plus an optional path), refusing anything that would carry
    a secret into the function's environment or the logs: user info, a query or a
    fragment. The value is never echoed, since it may hold a password."""
    value = value.strip().rstrip("/")
    usage = "give only scheme://host[:port][/path]; tokens and passwords belong in SSM"
    if not re.fullmatch(r"https?://[^\s/]+(/[^\s]*)?", value):
        raise ConfigError(f"{name} is not an http(s) URL; {usage}")
    parts = urlsplit(value)
    if "@" in parts.netloc:
        raise ConfigError(f"{name} holds a user name or password (user:password@); {usage}")
    if "?" in value or "#" in value:
        raise ConfigError(f"{name} has a query ('?...') or fragment ('#...'); {usage}")
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number in range
    except ValueError:
        raise ConfigError(f"{name} has an invalid port; {usage}") from None
    if not parts.hostname:
        raise ConfigError(f"{name} names no host; {usage}")
    return value


def _parse_days(value: str, name: str) -> float:
    try:
        days = float(value)
    except ValueError:
        raise ConfigError(f"{name}={brief(value)} is not a number of days") from None
    if not 0 <= days <= 3650:
        raise ConfigError(f"{name}={brief(value)} must be between 0 and 3650 days")
    return days


def parse_bool(value: str, name: str) -> bool:
    low = value.strip().lower()
    if low in _TRUE:
        return True
    if low in _FALSE:
        return False
    raise ConfigError(f"{name}={brief(value)} is not a yes/no value; use true or false")


class Sensitive(StrEnum):
    """``ART_BOT_SENSITIVE``: what to do with a labelled painting (:mod:`.sensitive`)."""

    WARN = "warn"  # each platform's own marking; a platform without one gets another painting
    SKIP = "skip"  # never post it
    IGNORE = "ignore"  # post it unmarked


def parse_sensitive(value: str, name: str) -> Sensitive:
    """``warn``, ``skip`` or ``ignore``; anything else is one clear error."""
    low = value.strip().lower()
    if low not in {p.value for p in Sensitive}:
        raise ConfigError(
            f"{name}={brief(value)} is not a policy; use warn (mark labelled paintings), "
            "skip (never post them) or ignore (post them unmarked)"
        )
    return Sensitive(low)


AWS_SETUP_ERRORS = {
    "NoCredentialsError": "no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (on Lambda the function's role provides them)",
    "PartialCredentialsError": "the AWS credentials are incomplete; set both AWS_ACCESS_KEY_ID "
    "and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE",
    "NoRegionError": "no AWS region is set; set AWS_REGION (e.g. eu-west-1)",
    "EndpointConnectionError": "cannot reach the AWS endpoint; check the network, AWS_REGION "
    "and AWS_ENDPOINT_URL",
    "ExpiredToken": "the AWS session token has expired; refresh your credentials",
    "ExpiredTokenException": "the AWS session token has expired; refresh your credentials",
    "InvalidClientTokenId": "the AWS access key is not valid; check AWS_ACCESS_KEY_ID",
}


def aws_region(env: Mapping[str, str] | None = None) -> str | None:
    """The region from AWS_REGION, else AWS_DEFAULT_REGION; None when neither is set.

    One reading for the bot and the deploy alike: a variable set but blank, or
    a value that is not a region name, is a :class:`ConfigError` naming it.
    """
    env = os.environ if env is None else env
    names = ("AWS_REGION", "AWS_DEFAULT_REGION")
    found = next(((n, env[n].strip()) for n in names if env.get(n, "").strip()), None)
    if found is None:
        blank = [n for n in names if n in env]
        if blank:
            raise ConfigError(
                f"{' and '.join(blank)} set but empty; {AWS_SETUP_ERRORS['NoRegionError']}"
            )
        return None
    name, region = found
    if not _REGION.fullmatch(region):
        raise ConfigError(f"{name}={region!r} is not a region name like eu-west-1")
    return region


def aws_client(service: str) -> Any:
    """A boto3 client built the same way everywhere: the region from AWS_REGION
    (boto3 itself only reads AWS_DEFAULT_REGION), the endpoint from
    AWS_ENDPOINT_URL (read by boto3), so a local S3 can stand in for AWS."""
    import boto3
    from botocore.exceptions import InvalidRegionError, NoRegionError, ProfileNotFound

    try:
        region = aws_region()
    except ConfigError as exc:
        raise ConfigError(f"cannot use AWS {service}: {exc}") from None
    try:
        return boto3.client(service, region_name=region)
    except NoRegionError:
        raise ConfigError(
            f"cannot use AWS {service}: {AWS_SETUP_ERRORS['NoRegionError']}"
        ) from None
    except (InvalidRegionError, ValueError) as exc:  # e.g. a malformed AWS_ENDPOINT_URL
        raise ConfigError(
            f"cannot use AWS {service}: {exc}; check AWS_REGION and AWS_ENDPOINT_URL"
        ) from None
    except ProfileNotFound:
        raise ConfigError(
            f"cannot use AWS {service}: the profile AWS_PROFILE={os.environ.get('AWS_PROFILE')!r} "
            "is not in your AWS config; fix or unset AWS_PROFILE"
        ) from None


_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-\d{1,2}")
# SSM parameter path segments (the characters SSM allows in a name).
# SSM's own characters between single slashes; '.' and '..' parts are refused below
_SSM_PATH = re.compile(r"(/[A-Za-z0-9_.-]+)+/?")


@dataclass(frozen=True)
class Settings:
    """The bot's non-secret settings. Safe to log and to show."""

    store: str
    platforms: tuple[str, ...]
    outbox_dir: str = DEFAULT_OUTBOX_DIR
    no_repeat_days: float = DEFAULT_NO_REPEAT_DAYS
    ssm_path: str | None = None
    post_link: bool = False
    gallery: bool = False  # refresh the gallery (gallery/ in the store) after each post
    sensitive: Sensitive = Sensitive.WARN  # ART_BOT_SENSITIVE
    x_api_base_url: str = DEFAULT_X_API_BASE_URL
    mastodon_api_base_url: str | None = None
    bluesky_pds_url: str = DEFAULT_BLUESKY_PDS_URL
    bluesky_handle: str | None = None

    @classmethod
    def resolve(
        cls,
        env: Mapping[str, str] | None = None,
        *,
        store: str | None = None,
        platforms: str | None = None,
        outbox_dir: str | None = None,
    ) -> Settings:
        """Build settings from options, then the environment, then defaults.

        Raises :class:`ConfigError` naming the first missing or malformed one.
        """
        env = os.environ if env is None else env

        def pick(option: str | None, name: str) -> str | None:
            if option is not None:
                return option
            value = env.get(name)
            return value if value not in (None, "") else None

        store_value = pick(store, ENV_STORE)
        if store_value is None:
            raise ConfigError(
                f"{ENV_STORE} is not set; set it (or --store) to s3://BUCKET[/PREFIX] "
                "or a directory holding catalog.json"
            )
        store_value = check_store_url(
            store_value, source="--store" if store is not None else ENV_STORE
        )
        platforms_value = pick(platforms, ENV_PLATFORMS)
        if platforms_value is None:
            raise ConfigError(
                f"{ENV_PLATFORMS} is not set; set it (or --platforms) to a comma list of "
                f"{', '.join(PLATFORMS)}"
            )
        kwargs: dict[str, Any] = {
            "store": store_value,
            "platforms": parse_platforms(
                platforms_value, source="--platforms" if platforms is not None else ENV_PLATFORMS
            ),
        }
        if (value := pick(outbox_dir, ENV_OUTBOX_DIR)) is not None:
            kwargs["outbox_dir"] = value
        if (value := pick(None, ENV_NO_REPEAT_DAYS)) is not None:
            kwargs["no_repeat_days"] = _parse_days(value, ENV_NO_REPEAT_DAYS)
        if (value := pick(None, ENV_SSM_PATH)) is not None:
            if not value.startswith("/"):
                raise ConfigError(f"{ENV_SSM_PATH}={brief(value)} must start with '/'")
            if not _SSM_PATH.fullmatch(value) or any(
                part in (".", "..") for part in value.rstrip("/").split("/")[1:]
            ):
                raise ConfigError(
                    f"{ENV_SSM_PATH}={brief(value)} must be a path below the root, e.g. "
                    "/soviet-art-bot (letters, digits, '_', '.', '-' between slashes)"
                )
            kwargs["ssm_path"] = value.rstrip("/")
        if (value := pick(None, ENV_POST_LINK)) is not None:
            kwargs["post_link"] = parse_bool(value, ENV_POST_LINK)
        if (value := pick(None, ENV_GALLERY)) is not None:
            kwargs["gallery"] = parse_bool(value, ENV_GALLERY)
        if (value := pick(None, ENV_SENSITIVE)) is not None:
            kwargs["sensitive"] = parse_sensitive(value, ENV_SENSITIVE)
        if (value := pick(None, ENV_X_API_BASE_URL)) is not None:
            kwargs["x_api_base_url"] = _parse_url(value, ENV_X_API_BASE_URL)
        if (value := pick(None, ENV_MASTODON_API_BASE_URL)) is not None:
            kwargs["mastodon_api_base_url"] = _parse_url(value, ENV_MASTODON_API_BASE_URL)
        if (value := pick(None, ENV_BLUESKY_PDS_URL)) is not None:
            kwargs["bluesky_pds_url"] = _parse_url(value, ENV_BLUESKY_PDS_URL)
        if (value := pick(None, ENV_BLUESKY_HANDLE)) is not None:
            kwargs["bluesky_handle"] = value.strip()
        if "mastodon" in kwargs["platforms"] and "mastodon_api_base_url" not in kwargs:
            raise ConfigError(
                f"{ENV_MASTODON_API_BASE_URL} is not set; the mastodon platform needs the "
                "instance's URL, e.g. https://mastodon.social"
            )
        if "bluesky" in kwargs["platforms"] and "bluesky_handle" not in kwargs:
            raise ConfigError(
                f"{ENV_BLUESKY_HANDLE} is not set; the bluesky platform needs the account's "
                "handle, e.g. sovietart.bsky.social"
            )
        return cls(**kwargs)


@dataclass
class Secrets:
    """Secret values, from SSM Parameter Store when a path is set, else the environment.

    Values are fetched on first use and kept for the life of the object (one
    warm Lambda container). Every value fetched is handed to ``on_secret`` so
    the logger can redact it wherever it might appear.
    """

    ssm_path: str | None = None
    env: Mapping[str, str] = field(default_factory=lambda: os.environ)
    ssm_client: Any = None
    on_secret: Callable[[str], None] | None = None
    _values: dict[str, str] | None = field(default=None, repr=False)

    def __repr__(self) -> str:  # never show values
        source = f"ssm:{self.ssm_path}" if self.ssm_path else "environment"
        return f"Secrets(source={source!r})"

    def load(self) -> None:
        """Fetch the secrets now, so an SSM problem is reported as itself
        (region, credentials, permissions) rather than as missing secrets."""
        self._load()

    def _load(self) -> dict[str, str]:
        if self._values is not None:
            return self._values
        values: dict[str, str] = {}
        if self.ssm_path:
            values = self._load_ssm()
        else:
            for name in SECRET_NAMES:
                if self.env.get(name):
                    values[name] = self.env[name]
        if self.on_secret:
            for value in values.values():
                self.on_secret(value)
        self._values = values
        return values

    def _load_ssm(self) -> dict[str, str]:
        prefix = f"{self.ssm_path}/"
        values: dict[str, str] = {}
        if self.ssm_client is None:
            self.ssm_client = aws_client("ssm")
        client = self.ssm_client
        try:
            paginator = client.get_paginator("get_parameters_by_path")
            for page in paginator.paginate(Path=self.ssm_path, WithDecryption=True):
                for param in page.get("Parameters", []):
                    name = param["Name"]
                    if name.startswith(prefix):
                        values[name[len(prefix) :]] = param["Value"]
        except Exception as exc:  # botocore errors carry no secret values
            code = getattr(exc, "response", {}).get("Error", {}).get("Code", type(exc).__name__)
            if code in AWS_SETUP_ERRORS:
                raise ConfigError(
                    f"could not read secrets from SSM under {self.ssm_path}: {AWS_SETUP_ERRORS[code]}"
                ) from None
            raise ConfigError(
                f"could not read secrets from SSM under {self.ssm_path} ({code}); check "
                f"{ENV_SSM_PATH} and that the role may call ssm:GetParametersByPath there"
            ) from None
        return values

    def get(self, name: str) -> str:
        """The secret called ``name``; a :class:`ConfigError` naming it if absent."""
        value = self._load().get(name)
        if not value:
            where = (
                f"SSM parameter {self.ssm_path}/{name}" if self.ssm_path else f"environment {name}"
            )
            raise ConfigError(
                f"{name} is not set ({where} is missing); see the README for how to set it"
            )
        return value
