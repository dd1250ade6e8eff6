"""Deploy the bot to AWS Lambda in one command (``lambda_deploy.sh``).

Reading the environment, building the zip and talking to AWS are separate
steps so that a bad setting stops the run before anything in the account is
touched, and so that a second run can compare what exists with what is wanted
and change only the difference (idempotent: nothing is ever duplicated).

Secrets never pass through here: the function reads them from SSM Parameter
Store at run time, and the deploy only checks, by name and without
decryption, that they exist. Its environment is built from an allow-list of
non-secret settings, so an ``X_API_KEY`` exported in the deploying shell
cannot leak into the function.

Every AWS client is built lazily from one boto3 session (which honours
``AWS_ENDPOINT_URL``, the seam the tests use to deploy against moto's server)
and may be injected.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from . import config as cfg
from .errors import ArtBotError, ConfigError

PROG = "lambda_deploy.sh"
ROOT = Path(__file__).resolve().parent.parent
PACKAGE = "soviet_art_bot"

DEFAULT_FUNCTION_NAME = "soviet-art-bot"
DEFAULT_SCHEDULE = "rate(6 hours)"
DEFAULT_RUNTIME = "python3.13"
DEFAULT_MEMORY_MB = 256
DEFAULT_TIMEOUT_SECONDS = 120
HANDLER = "soviet_art_bot.handler.lambda_handler"
ARCHITECTURE = "x86_64"
# A failed slot is retried twice by Lambda (the slot lease makes that safe);
# after an hour a retry would land too close to the next slot to be useful.
MAX_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 3600
LOG_RETENTION_DAYS = 30
TARGET_ID = "soviet-art-bot"
# Lambda refuses a directly uploaded zip over 50 MB.
DIRECT_UPLOAD_LIMIT = 50 * 1024 * 1024

# Lambda's Python runtimes and the wheels their Amazon Linux can load.
# python3.12+ run on Amazon Linux 2023 (glibc 2.34), python3.11 on AL2 (2.26).
RUNTIMES: dict[str, tuple[str, tuple[str, ...]]] = {
    "python3.11": ("3.11", ("manylinux2014_x86_64",)),
    "python3.12": ("3.12", ("manylinux2014_x86_64", "manylinux_2_28_x86_64")),
    "python3.13": ("3.13", ("manylinux2014_x86_64", "manylinux_2_28_x86_64")),
}

BASE_REQUIREMENTS = "requirements.txt"
PLATFORM_REQUIREMENTS = {
    "mastodon": "requirements-mastodon.txt",
    "bluesky": "requirements-bluesky.txt",
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
)
LAMBDA_OUTBOX_DIR = "/tmp/outbox"  # noqa: S108 - the only writable path on Lambda

_RATE = re.compile(r"rate\((\d+) (minute|minutes|hour|hours|day|days)\)")
_CRON = re.compile(r"cron\((\S+( \S+){5})\)")
_UNIT_SECONDS = {"minute": 60, "hour": 3600, "day": 86400}
_FUNCTION_NAME = re.compile(r"[A-Za-z0-9_-]{1,50}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


class DeployError(ArtBotError):
    """AWS refused a deploy step, or the build failed; the message says which."""


# --------------------------------------------------------------------------
# Settings


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


def _runtime(env: Mapping[str, str]) -> str:
    runtime = env.get(cfg.ENV_RUNTIME, "").strip() or DEFAULT_RUNTIME
    if runtime not in RUNTIMES:
        raise ConfigError(
            f"{cfg.ENV_RUNTIME}={runtime!r} is not supported; use one of {', '.join(RUNTIMES)}"
        )
    return runtime


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


def load_config(env: Mapping[str, str] | None = None) -> DeployConfig:
    """Read and check every deploy setting, before anything is built or changed.

    Raises :class:`ConfigError` naming the first missing or malformed one.
    """
    env = os.environ if env is None else env

    def get(name: str) -> str:
        return env.get(name, "").strip()

    function_name = get(cfg.ENV_FUNCTION_NAME) or DEFAULT_FUNCTION_NAME
    if not _FUNCTION_NAME.fullmatch(function_name):
        raise ConfigError(
            f"{cfg.ENV_FUNCTION_NAME}={function_name!r} is not a function name: use 1-50 "
            "letters, digits, '-' or '_'"
        )
    store = get(cfg.ENV_STORE)
    if not store:
        raise ConfigError(
            f"{cfg.ENV_STORE} is not set; set it to the S3 store the ingest filled, "
            "e.g. s3://my-bucket/collection"
        )
    store = cfg.check_store_url(store)
    if not store.startswith("s3://"):
        raise ConfigError(
            f"{cfg.ENV_STORE}={store!r} is not an S3 store; the Lambda posts from "
            "s3://BUCKET[/PREFIX]"
        )
    if not get(cfg.ENV_PLATFORMS):
        raise ConfigError(
            f"{cfg.ENV_PLATFORMS} is not set; set it to a comma list of {', '.join(cfg.PLATFORMS)}"
        )
    platforms = cfg.parse_platforms(get(cfg.ENV_PLATFORMS))
    ssm_path = get(cfg.ENV_SSM_PATH)
    if not ssm_path:
        raise ConfigError(
            f"{cfg.ENV_SSM_PATH} is not set; set it to the SSM path holding the secrets, "
            "e.g. /soviet-art-bot (see docs/operations.md)"
        )
    if not re.fullmatch(r"(/[A-Za-z0-9_.-]+)+/?", ssm_path):
        raise ConfigError(
            f"{cfg.ENV_SSM_PATH}={ssm_path!r} must be a path below the root, e.g. /soviet-art-bot"
        )
    region = get("AWS_REGION") or get("AWS_DEFAULT_REGION")
    if not region:
        raise ConfigError(
            "AWS_REGION is not set; set it to the region to deploy to, e.g. eu-west-1"
        )
    if not re.fullmatch(r"[a-z]{2}(-[a-z]+)+-\d", region):
        raise ConfigError(f"AWS_REGION={region!r} is not an AWS region, e.g. eu-west-1")
    schedule, seconds = parse_schedule(get(cfg.ENV_SCHEDULE) or DEFAULT_SCHEDULE)
    alarm_email = get(cfg.ENV_ALARM_EMAIL) or None
    if alarm_email is not None and not _EMAIL.fullmatch(alarm_email):
        raise ConfigError(f"{cfg.ENV_ALARM_EMAIL}={alarm_email!r} is not an email address")
    memory_mb = _int_setting(env, cfg.ENV_MEMORY_MB, DEFAULT_MEMORY_MB, 128, 10240)
    timeout_seconds = _int_setting(env, cfg.ENV_TIMEOUT_SECONDS, DEFAULT_TIMEOUT_SECONDS, 10, 900)
    runtime = _runtime(env)

    # The bot's own checks (URLs, days, mastodon/bluesky companions), exactly
    # as the function will apply them at run time.
    settings = cfg.Settings.resolve(env)
    bucket, _, prefix = store[len("s3://") :].partition("/")
    function_env = {
        cfg.ENV_STORE: settings.store,
        cfg.ENV_PLATFORMS: ",".join(settings.platforms),
        cfg.ENV_SSM_PATH: settings.ssm_path or ssm_path,
    }
    for name in PASSTHROUGH:
        if get(name):
            function_env[name] = get(name)
    if "outbox" in platforms and cfg.ENV_OUTBOX_DIR not in function_env:
        function_env[cfg.ENV_OUTBOX_DIR] = LAMBDA_OUTBOX_DIR
    return DeployConfig(
        function_name=function_name,
        store=settings.store,
        bucket=bucket,
        prefix=prefix.strip("/"),
        platforms=settings.platforms,
        ssm_path=settings.ssm_path or ssm_path.rstrip("/"),
        schedule=schedule,
        schedule_seconds=seconds,
        region=region,
        alarm_email=alarm_email,
        memory_mb=memory_mb,
        timeout_seconds=timeout_seconds,
        runtime=runtime,
        function_env=function_env,
    )


# --------------------------------------------------------------------------
# Build


@dataclass(frozen=True)
class Build:
    """A deployment zip and what Lambda will report about it."""

    path: Path
    size: int
    sha256: str  # base64, as Lambda's CodeSha256
    reused_dependencies: bool = False

    @classmethod
    def of(cls, path: Path, *, reused: bool = False) -> Build:
        data = path.read_bytes()
        digest = base64.b64encode(hashlib.sha256(data).digest()).decode()
        return cls(path, len(data), digest, reused)

    def describe(self) -> str:
        return f"{self.path} ({self.size / 1e6:.1f} MB, {self.size} bytes)"


def requirement_files(platforms: Iterable[str], root: Path = ROOT) -> list[Path]:
    """requirements.txt plus each enabled platform's own file; all must exist."""
    files = [root / BASE_REQUIREMENTS]
    files += [root / PLATFORM_REQUIREMENTS[p] for p in platforms if p in PLATFORM_REQUIREMENTS]
    for path in files:
        if not path.is_file():
            which = next((p for p, f in PLATFORM_REQUIREMENTS.items() if f == path.name), None)
            why = f"the {which} platform needs it" if which else "it lists the Lambda's packages"
            raise ConfigError(f"{path} is missing ({why}); restore it from the repository")
    return files


def _skip(rel: Path) -> bool:
    parts = rel.parts
    return (
        "__pycache__" in parts
        or rel.suffix in (".pyc", ".pyo")
        or (len(parts) > 0 and parts[0] in ("bin", "__pycache__"))
        or (len(parts) > 2 and parts[1] == "tests")  # a dependency's own test suite
        or (len(parts) == 2 and parts[0].endswith(".dist-info") and parts[1] == "RECORD")
    )


def _package_files(root: Path) -> list[tuple[str, Path]]:
    pkg = root / PACKAGE
    out = []
    for path in sorted(pkg.rglob("*")):
        rel = path.relative_to(root)
        if path.is_file() and "__pycache__" not in rel.parts and rel.suffix not in (".pyc", ".pyo"):
            out.append((rel.as_posix(), path))
    return out


def _write_zip(dest: Path, entries: Iterable[tuple[str, Path]]) -> None:
    """A reproducible zip: same files, same bytes, same CodeSha256.

    Fixed timestamps and order let a redeploy of unchanged code be detected
    (and skipped) by comparing hashes with what Lambda reports.
    """
    tmp = dest.with_suffix(".zip.partial")
    with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            mode = 0o755 if os.access(path, os.X_OK) else 0o644
            info.external_attr = (0o100000 | mode) << 16
            zf.writestr(info, path.read_bytes(), compresslevel=9)
    tmp.replace(dest)


def build_zip(
    platforms: Sequence[str],
    *,
    runtime: str = DEFAULT_RUNTIME,
    root: Path = ROOT,
    build_dir: Path | None = None,
    requirements: Sequence[Path] | None = None,
    wheelhouse: Path | None = None,
    rebuild: bool = False,
    run: Callable[..., subprocess.CompletedProcess[str]] = subprocess.run,
) -> Build:
    """Build ``build/lambda.zip``: Linux wheels for ``runtime`` plus the package code.

    Dependencies are installed by pip into a directory named after a hash of
    the requirement files and pip's target, so an unchanged set is reused by
    the next run. ``wheelhouse`` makes pip install only from that directory
    (no index), for offline builds and the tests.
    """
    build_dir = (root / "build") if build_dir is None else build_dir
    reqs = list(requirements) if requirements is not None else requirement_files(platforms, root)
    for path in reqs:
        if not path.is_file():
            raise ConfigError(f"{path} is missing; it lists packages for the Lambda zip")
    py_version, wheel_platforms = RUNTIMES[runtime]
    pip_args = ["--implementation", "cp", "--python-version", py_version, "--only-binary=:all:"]
    for plat in wheel_platforms:
        pip_args += ["--platform", plat]
    if wheelhouse is not None:
        pip_args += ["--no-index", "--find-links", str(wheelhouse)]
    for path in reqs:
        pip_args += ["-r", str(path)]

    key = hashlib.sha256(json.dumps(pip_args).encode())
    for path in reqs:
        key.update(path.read_bytes())
    site = build_dir / f"site-{runtime}-{key.hexdigest()[:16]}"
    build_dir.mkdir(parents=True, exist_ok=True)
    reused = site.is_dir() and not rebuild
    if not reused:
        shutil.rmtree(site, ignore_errors=True)
        partial = site.with_name(site.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        cmd = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
            "--no-compile", "--target", str(partial), *pip_args,
        ]  # fmt: skip
        proc = run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            detail = (proc.stderr or proc.stdout).strip().splitlines()
            last = next((line for line in reversed(detail) if line.strip()), "no output")
            shutil.rmtree(partial, ignore_errors=True)
            raise DeployError(f"pip could not install the Lambda's packages: {last.strip()}")
        partial.rename(site)

    entries: dict[str, Path] = {}
    for path in sorted(site.rglob("*")):
        rel = path.relative_to(site)
        if path.is_file() and not _skip(rel) and rel.parts[0] != PACKAGE:
            entries[rel.as_posix()] = path
    for name, path in _package_files(root):
        entries[name] = path
    dest = build_dir / "lambda.zip"
    _write_zip(dest, entries.items())
    return Build.of(dest, reused=reused)


def check_zip(path: Path) -> Build:
    """Accept a prebuilt zip only if it holds the handler the function will call."""
    if not path.is_file() or not zipfile.is_zipfile(path):
        raise ConfigError(f"{path} is not a zip file; build one with --build-only")
    with zipfile.ZipFile(path) as zf:
        names = set(zf.namelist())
    handler_file = HANDLER.rsplit(".", 1)[0].replace(".", "/") + ".py"
    if handler_file not in names:
        raise ConfigError(f"{path} does not contain {handler_file}; rebuild it")
    return Build.of(path)


# --------------------------------------------------------------------------
# AWS


def _code(exc: Exception) -> str:
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def _aws_error(step: str, exc: Exception) -> DeployError:
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        return DeployError(f"{step}: {err.get('Code', 'Error')}: {err.get('Message', '')}".strip())
    name = type(exc).__name__
    if name in ("NoCredentialsError", "PartialCredentialsError"):
        return DeployError(
            f"{step}: no AWS credentials found; set AWS_PROFILE or AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY"
        )
    return DeployError(f"{step}: {exc}")


def _json(doc: Any) -> Any:
    """A policy document in comparable form (IAM may return it URL-encoded)."""
    if isinstance(doc, str):
        from urllib.parse import unquote

        doc = json.loads(unquote(doc))
    return json.loads(json.dumps(doc, sort_keys=True))


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True)


def trust_policy() -> dict[str, Any]:
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Effect": "Allow",
                "Principal": {"Service": "lambda.amazonaws.com"},
                "Action": "sts:AssumeRole",
            }
        ],
    }


def role_policy(config: DeployConfig, account: str, partition: str = "aws") -> dict[str, Any]:
    """The least the function needs, and nothing with a wildcard action.

    S3: read the catalog and images, read/write only ``state/``; listing only
    under those keys. s3:ListBucket also lets S3 answer 404 (not 403) for a
    missing state object, which the ledger relies on. SSM: the parameters
    under the path. KMS: decrypt only through SSM, only for those parameters.
    Logs: its own log group (created by the deploy).
    """
    p = f"{config.prefix}/" if config.prefix else ""
    bucket = f"arn:{partition}:s3:::{config.bucket}"
    region, path = config.region, config.ssm_path
    param = f"arn:{partition}:ssm:{region}:{account}:parameter{path}"
    return {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "ReadCollection",
                "Effect": "Allow",
                "Action": ["s3:GetObject"],
                "Resource": [f"{bucket}/{p}catalog.json", f"{bucket}/{p}images/*"],
            },
            {
                "Sid": "ReadWriteState",
                "Effect": "Allow",
                "Action": ["s3:GetObject", "s3:PutObject"],
                "Resource": [f"{bucket}/{p}state/*"],
            },
            {
                "Sid": "ListCollection",
                "Effect": "Allow",
                "Action": ["s3:ListBucket"],
                "Resource": [bucket],
                "Condition": {
                    "StringLike": {"s3:prefix": [f"{p}catalog.json", f"{p}images/*", f"{p}state/*"]}
                },
            },
            {
                "Sid": "ReadSecrets",
                "Effect": "Allow",
                "Action": ["ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter"],
                "Resource": [param, f"{param}/*"],
            },
            {
                "Sid": "DecryptSecretsViaSsm",
                "Effect": "Allow",
                "Action": ["kms:Decrypt"],
                "Resource": [f"arn:{partition}:kms:{region}:{account}:key/*"],
                "Condition": {
                    "StringEquals": {"kms:ViaService": f"ssm.{region}.amazonaws.com"},
                    "StringLike": {"kms:EncryptionContext:PARAMETER_ARN": f"{param}/*"},
                },
            },
            {
                "Sid": "WriteOwnLogs",
                "Effect": "Allow",
                "Action": ["logs:CreateLogStream", "logs:PutLogEvents"],
                "Resource": [
                    f"arn:{partition}:logs:{region}:{account}:log-group:{config.log_group}:*"
                ],
            },
        ],
    }


def heartbeat_window(schedule_seconds: int | None) -> tuple[int, int]:
    """(period, evaluation periods) spanning more than one schedule interval.

    With missing data treated as breaching, the alarm fires only when every
    period in a window longer than the interval saw no invocation. CloudWatch
    caps the window at 7 days (1 day for periods under an hour).
    """
    interval = schedule_seconds if schedule_seconds is not None else 86400
    if interval >= 3600:
        return 3600, min(-(-interval // 3600) + 1, 168)
    return 60, -(-interval // 60) + 1


@dataclass
class Deployer:
    """Creates or updates every AWS resource of one deployment, idempotently."""

    config: DeployConfig
    clients: dict[str, Any] = field(default_factory=dict)
    session: Any = None
    out: IO[str] | None = None
    sleep: Callable[[float], None] = time.sleep
    waiter_delay: int = 2
    account: str = ""
    partition: str = "aws"
    results: list[tuple[str, str, str]] = field(default_factory=list)

    def client(self, name: str) -> Any:
        if name not in self.clients:
            if self.session is None:
                import boto3

                self.session = boto3.session.Session(region_name=self.config.region)
            self.clients[name] = self.session.client(name)
        return self.clients[name]

    def _note(self, outcome: str, what: str, detail: str = "") -> None:
        self.results.append((outcome, what, detail))
        stream = self.out if self.out is not None else sys.stdout
        stream.write(f"  {outcome:<9} {what}{f'  ({detail})' if detail else ''}\n")
        stream.flush()

    def _wait(self, waiter: str, **kwargs: Any) -> None:
        self.client("lambda").get_waiter(waiter).wait(
            **kwargs, WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": 150}
        )

    # -- read-only checks -------------------------------------------------

    def preflight(self) -> None:
        """Check the account, bucket and secrets exist, changing nothing."""
        c = self.config
        try:
            ident = self.client("sts").get_caller_identity()
        except Exception as exc:
            raise _aws_error("checking AWS credentials", exc) from None
        self.account = ident["Account"]
        self.partition = ident["Arn"].split(":")[1]
        try:
            self.client("s3").head_bucket(Bucket=c.bucket)
        except Exception as exc:
            if _code(exc) in ("404", "NoSuchBucket", "NotFound"):
                raise DeployError(
                    f"bucket {c.bucket} does not exist; create it and run the ingest first "
                    "(docs/operations.md)"
                ) from None
            raise _aws_error(f"checking bucket {c.bucket}", exc) from None
        # Names and types only: the deploy never decrypts or reads a secret.
        found: dict[str, str] = {}
        try:
            pages = (
                self.client("ssm")
                .get_paginator("describe_parameters")
                .paginate(
                    ParameterFilters=[{"Key": "Path", "Option": "OneLevel", "Values": [c.ssm_path]}]
                )
            )
            for page in pages:
                for param in page.get("Parameters", []):
                    found[param["Name"].rsplit("/", 1)[-1]] = param.get("Type", "")
        except Exception as exc:
            raise _aws_error(f"listing SSM parameters under {c.ssm_path}", exc) from None
        missing = [n for n in c.secret_names if n not in found]
        if missing:
            raise DeployError(
                f"SSM parameter {c.ssm_path}/{missing[0]} is missing"
                f"{f' (and {len(missing) - 1} more)' if len(missing) > 1 else ''}; put it with "
                f"'aws ssm put-parameter --type SecureString' (docs/operations.md)"
            )
        plain = [n for n in c.secret_names if found[n] != "SecureString"]
        if plain:
            raise DeployError(
                f"SSM parameter {c.ssm_path}/{plain[0]} is a {found[plain[0]]}, not a "
                "SecureString; delete it and put it again with --type SecureString"
            )

    # -- changes --------------------------------------------------------

    def ensure_role(self) -> tuple[str, bool]:
        c, iam = self.config, self.client("iam")
        trust = trust_policy()
        created = False
        try:
            role = iam.get_role(RoleName=c.role_name)["Role"]
        except Exception as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            role = iam.create_role(
                RoleName=c.role_name,
                AssumeRolePolicyDocument=json.dumps(trust),
                Description=f"Execution role of the {c.function_name} Lambda (lambda_deploy.sh)",
            )["Role"]
            created = True
            self._note("created", f"role {c.role_name}")
        else:
            if _json(role["AssumeRolePolicyDocument"]) != _json(trust):
                iam.update_assume_role_policy(
                    RoleName=c.role_name, PolicyDocument=json.dumps(trust)
                )
                self._note("updated", f"role {c.role_name}", "trust policy")
            else:
                self._note("unchanged", f"role {c.role_name}")
        policy = role_policy(c, self.account, self.partition)
        try:
            current = iam.get_role_policy(RoleName=c.role_name, PolicyName=c.policy_name)
            current_doc = _json(current["PolicyDocument"])
        except Exception as exc:
            if _code(exc) != "NoSuchEntity":
                raise
            current_doc = None
        if current_doc != _json(policy):
            iam.put_role_policy(
                RoleName=c.role_name, PolicyName=c.policy_name, PolicyDocument=json.dumps(policy)
            )
            self._note("created" if current_doc is None else "updated", f"policy {c.policy_name}")
        else:
            self._note("unchanged", f"policy {c.policy_name}")
        return role["Arn"], created

    def ensure_log_group(self) -> None:
        c, logs = self.config, self.client("logs")
        groups = logs.describe_log_groups(logGroupNamePrefix=c.log_group).get("logGroups", [])
        group = next((g for g in groups if g["logGroupName"] == c.log_group), None)
        if group is None:
            logs.create_log_group(logGroupName=c.log_group)
        if group is None or group.get("retentionInDays") != LOG_RETENTION_DAYS:
            logs.put_retention_policy(logGroupName=c.log_group, retentionInDays=LOG_RETENTION_DAYS)
        outcome = (
            "created"
            if group is None
            else ("unchanged" if group.get("retentionInDays") == LOG_RETENTION_DAYS else "updated")
        )
        self._note(outcome, f"log group {c.log_group}", f"kept {LOG_RETENTION_DAYS} days")

    def _function_settings(self, role_arn: str) -> dict[str, Any]:
        c = self.config
        return {
            "Role": role_arn,
            "Handler": HANDLER,
            "Runtime": c.runtime,
            "MemorySize": c.memory_mb,
            "Timeout": c.timeout_seconds,
            "Description": "Posts one painting of socialist realism per slot (lambda_deploy.sh)",
            "Environment": {"Variables": dict(c.function_env)},
        }

    def ensure_function(self, role_arn: str, build: Build) -> str:
        c, lam = self.config, self.client("lambda")
        wanted = self._function_settings(role_arn)
        detail = f"{c.runtime}, {c.memory_mb} MB, {c.timeout_seconds} s"
        try:
            current = lam.get_function_configuration(FunctionName=c.function_name)
        except Exception as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            current = None
        if current is None:
            zip_bytes = build.path.read_bytes()
            for attempt in range(12):
                try:
                    fn = lam.create_function(
                        FunctionName=c.function_name,
                        PackageType="Zip",
                        Code={"ZipFile": zip_bytes},
                        Architectures=[ARCHITECTURE],
                        **wanted,
                    )
                    break
                except Exception as exc:
                    # A new role takes a few seconds to become assumable by Lambda.
                    if (
                        _code(exc) == "InvalidParameterValueException"
                        and "assume" in str(exc)
                        and attempt < 11
                    ):
                        self.sleep(5)
                        continue
                    raise
            self._wait("function_active_v2", FunctionName=c.function_name)
            self._note("created", f"function {c.function_name}", detail)
            return fn["FunctionArn"]

        if current.get("PackageType", "Zip") != "Zip":
            raise DeployError(
                f"function {c.function_name} exists as a container image; pick another "
                f"{cfg.ENV_FUNCTION_NAME} or delete it"
            )
        if current.get("LastUpdateStatus") == "InProgress":
            self._wait("function_updated_v2", FunctionName=c.function_name)
        changed = []
        if current.get("CodeSha256") != build.sha256 or current.get(
            "Architectures", [ARCHITECTURE]
        ) != [ARCHITECTURE]:
            lam.update_function_code(
                FunctionName=c.function_name,
                ZipFile=build.path.read_bytes(),
                Architectures=[ARCHITECTURE],
            )
            self._wait("function_updated_v2", FunctionName=c.function_name)
            changed.append("code")
        have = {
            "Role": current.get("Role"),
            "Handler": current.get("Handler"),
            "Runtime": current.get("Runtime"),
            "MemorySize": current.get("MemorySize"),
            "Timeout": current.get("Timeout"),
            "Description": current.get("Description", ""),
            "Environment": {"Variables": current.get("Environment", {}).get("Variables", {})},
        }
        if have != wanted:
            lam.update_function_configuration(FunctionName=c.function_name, **wanted)
            self._wait("function_updated_v2", FunctionName=c.function_name)
            changed.append("configuration")
        if changed:
            self._note(
                "updated", f"function {c.function_name}", f"{' and '.join(changed)}; {detail}"
            )
        else:
            self._note("unchanged", f"function {c.function_name}", detail)
        return current["FunctionArn"]

    def ensure_async_config(self) -> None:
        c, lam = self.config, self.client("lambda")
        try:
            current = lam.get_function_event_invoke_config(FunctionName=c.function_name)
        except Exception as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            current = None
        detail = f"{MAX_RETRY_ATTEMPTS} retries, events expire after {MAX_EVENT_AGE_SECONDS} s"
        if (
            current is not None
            and current.get("MaximumRetryAttempts") == MAX_RETRY_ATTEMPTS
            and current.get("MaximumEventAgeInSeconds") == MAX_EVENT_AGE_SECONDS
        ):
            self._note("unchanged", "async invoke config", detail)
            return
        lam.put_function_event_invoke_config(
            FunctionName=c.function_name,
            MaximumRetryAttempts=MAX_RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds=MAX_EVENT_AGE_SECONDS,
        )
        self._note("created" if current is None else "updated", "async invoke config", detail)

    def ensure_schedule(self, function_arn: str) -> str:
        c, events = self.config, self.client("events")
        try:
            rule = events.describe_rule(Name=c.rule_name)
        except Exception as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            rule = None
        description = f"Invokes {c.function_name} on its posting schedule (lambda_deploy.sh)"
        if (
            rule is None
            or rule.get("ScheduleExpression") != c.schedule
            or rule.get("State") != "ENABLED"
        ):
            rule_arn = events.put_rule(
                Name=c.rule_name,
                ScheduleExpression=c.schedule,
                State="ENABLED",
                Description=description,
            )["RuleArn"]
            self._note("created" if rule is None else "updated", f"rule {c.rule_name}", c.schedule)
        else:
            rule_arn = rule["Arn"]
            self._note("unchanged", f"rule {c.rule_name}", c.schedule)
        targets = events.list_targets_by_rule(Rule=c.rule_name).get("Targets", [])
        ours = next((t for t in targets if t["Id"] == TARGET_ID), None)
        if ours is None or ours.get("Arn") != function_arn or ours.get("Input"):
            events.put_targets(Rule=c.rule_name, Targets=[{"Id": TARGET_ID, "Arn": function_arn}])
            self._note("created" if ours is None else "updated", "rule target", c.function_name)
        else:
            self._note("unchanged", "rule target", c.function_name)
        return rule_arn

    def ensure_permission(self, rule_arn: str) -> None:
        c, lam = self.config, self.client("lambda")
        sid = c.rule_name
        try:
            policy = json.loads(lam.get_policy(FunctionName=c.function_name)["Policy"])
        except Exception as exc:
            if _code(exc) != "ResourceNotFoundException":
                raise
            policy = {"Statement": []}
        existing = next((s for s in policy.get("Statement", []) if s.get("Sid") == sid), None)
        if existing is not None:
            source = existing.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
            principal = existing.get("Principal", {})
            if source == rule_arn and principal.get("Service") == "events.amazonaws.com":
                self._note("unchanged", "invoke permission", f"for rule {c.rule_name}")
                return
            lam.remove_permission(FunctionName=c.function_name, StatementId=sid)
        lam.add_permission(
            FunctionName=c.function_name,
            StatementId=sid,
            Action="lambda:InvokeFunction",
            Principal="events.amazonaws.com",
            SourceArn=rule_arn,
        )
        self._note(
            "created" if existing is None else "updated",
            "invoke permission",
            f"for rule {c.rule_name}",
        )

    def ensure_alarms(self) -> None:
        c = self.config
        if c.alarm_email is None:
            self._note("skipped", "alarms", f"{cfg.ENV_ALARM_EMAIL} is not set")
            return
        sns, cw = self.client("sns"), self.client("cloudwatch")
        topic_arn = f"arn:{self.partition}:sns:{c.region}:{self.account}:{c.topic_name}"
        try:
            sns.get_topic_attributes(TopicArn=topic_arn)
            self._note("unchanged", f"topic {c.topic_name}")
        except Exception as exc:
            if _code(exc) not in ("NotFound", "NotFoundException"):
                raise
            topic_arn = sns.create_topic(Name=c.topic_name)["TopicArn"]
            self._note("created", f"topic {c.topic_name}")
        subs = [
            s
            for p in sns.get_paginator("list_subscriptions_by_topic").paginate(TopicArn=topic_arn)
            for s in p["Subscriptions"]
        ]
        if any(s["Protocol"] == "email" and s["Endpoint"] == c.alarm_email for s in subs):
            self._note("unchanged", "email subscription", c.alarm_email)
        else:
            sns.subscribe(TopicArn=topic_arn, Protocol="email", Endpoint=c.alarm_email)
            self._note("created", "email subscription", f"{c.alarm_email}; confirm the email")

        period, periods = heartbeat_window(c.schedule_seconds)
        common = {
            "Namespace": "AWS/Lambda",
            "Dimensions": [{"Name": "FunctionName", "Value": c.function_name}],
            "Statistic": "Sum",
            "Threshold": 1.0,
            "ActionsEnabled": True,
            "AlarmActions": [topic_arn],
            "OKActions": [topic_arn],
        }
        alarms = [
            {
                **common,
                "AlarmName": c.errors_alarm,
                "AlarmDescription": f"{c.function_name} failed (a slot may be missing a post)",
                "MetricName": "Errors",
                "Period": 300,
                "EvaluationPeriods": 1,
                "DatapointsToAlarm": 1,
                "ComparisonOperator": "GreaterThanOrEqualToThreshold",
                "TreatMissingData": "notBreaching",
            },
            {
                **common,
                "AlarmName": c.heartbeat_alarm,
                "AlarmDescription": (
                    f"{c.function_name} was not invoked for {period * periods // 60} minutes; "
                    f"its schedule is {c.schedule}"
                ),
                "MetricName": "Invocations",
                "Period": period,
                "EvaluationPeriods": periods,
                "DatapointsToAlarm": periods,
                "ComparisonOperator": "LessThanThreshold",
                "TreatMissingData": "breaching",
            },
        ]
        names = [a["AlarmName"] for a in alarms]
        found = {
            a["AlarmName"]: a
            for a in cw.describe_alarms(AlarmNames=names, AlarmTypes=["MetricAlarm"])[
                "MetricAlarms"
            ]
        }
        for alarm in alarms:
            have = found.get(alarm["AlarmName"])
            same = have is not None and all(_same(have.get(k), v) for k, v in alarm.items())
            if same:
                self._note("unchanged", f"alarm {alarm['AlarmName']}")
                continue
            cw.put_metric_alarm(**alarm)
            self._note("created" if have is None else "updated", f"alarm {alarm['AlarmName']}")

    def apply(self, build: Build) -> dict[str, int]:
        """Create or update everything, in dependency order; returns counts per outcome."""
        step = "IAM role"
        try:
            role_arn, _ = self.ensure_role()
            step = "log group"
            self.ensure_log_group()
            step = "Lambda function"
            function_arn = self.ensure_function(role_arn, build)
            step = "async invoke config"
            self.ensure_async_config()
            step = "schedule rule"
            rule_arn = self.ensure_schedule(function_arn)
            step = "invoke permission"
            self.ensure_permission(rule_arn)
            step = "alarms"
            self.ensure_alarms()
        except ArtBotError:
            raise
        except Exception as exc:
            raise _aws_error(f"deploying the {step}", exc) from None
        counts: dict[str, int] = {}
        for outcome, _, _ in self.results:
            counts[outcome] = counts.get(outcome, 0) + 1
        return counts


# --------------------------------------------------------------------------
# Command line


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description=(
            "Build the Lambda zip and create or update the function, its role, schedule and "
            "alarms. Settings come from the environment (docs/operations.md)."
        ),
    )
    parser.add_argument("--zip", type=Path, help="deploy this prebuilt zip instead of building")
    parser.add_argument(
        "--wheelhouse", type=Path, help="install packages only from this directory (offline build)"
    )
    parser.add_argument(
        "--requirements",
        type=Path,
        action="append",
        help="requirement file(s) to package instead of requirements*.txt (repeatable)",
    )
    parser.add_argument("--build-dir", type=Path, help="where to build (default: build/)")
    parser.add_argument(
        "--rebuild", action="store_true", help="reinstall packages, ignoring build/"
    )
    parser.add_argument(
        "--build-only", action="store_true", help="build the zip, report its size, change nothing"
    )
    return parser


def main(argv: Sequence[str] | None = None, env: Mapping[str, str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = os.environ if env is None else env
    out = sys.stdout
    try:
        if args.build_only:
            if not env.get(cfg.ENV_PLATFORMS, "").strip():
                raise ConfigError(
                    f"{cfg.ENV_PLATFORMS} is not set; the zip holds what those platforms need"
                )
            platforms = cfg.parse_platforms(env[cfg.ENV_PLATFORMS])
            runtime = _runtime(env)
            build = build_zip(
                platforms,
                runtime=runtime,
                build_dir=args.build_dir,
                requirements=args.requirements,
                wheelhouse=args.wheelhouse,
                rebuild=args.rebuild,
            )
            check_zip(build.path)
            out.write(f"zip: {build.describe()} for {runtime}, platforms {','.join(platforms)}\n")
            return 0

        config = load_config(env)
        if args.zip is None and args.requirements is None:
            requirement_files(config.platforms)  # absent files stop us before AWS is touched
        deployer = Deployer(config, out=out)
        deployer.preflight()
        if args.zip is not None:
            build = check_zip(args.zip)
        else:
            build = build_zip(
                config.platforms,
                runtime=config.runtime,
                build_dir=args.build_dir,
                requirements=args.requirements,
                wheelhouse=args.wheelhouse,
                rebuild=args.rebuild,
            )
        check_zip(build.path)
        if build.size > DIRECT_UPLOAD_LIMIT:
            raise DeployError(
                f"{build.path} is {build.size / 1e6:.1f} MB, over Lambda's 50 MB upload limit; "
                f"enable fewer platforms in {cfg.ENV_PLATFORMS}"
            )
        out.write(
            f"deploying {config.function_name} to {config.region} "
            f"(account {deployer.account}), platforms {','.join(config.platforms)}\n"
        )
        out.write(f"  zip       {build.describe()}\n")
        counts = deployer.apply(build)
        summary = ", ".join(f"{n} {k}" for k, n in sorted(counts.items()))
        out.write(f"done: {config.function_name} on {config.schedule}; {summary}\n")
        return 0
    except ArtBotError as exc:
        sys.stderr.write(f"{PROG}: error: {exc}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
