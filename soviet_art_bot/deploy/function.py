"""The function itself (its code and its configuration), its log group and
its asynchronous invoke configuration."""

from __future__ import annotations

from typing import Any

from ..errors import ConfigError
from .aws import DeployError, error_code
from .build import HANDLER
from .reconcile import Action, Change, Resource, absent_on

ARCHITECTURE = "x86_64"
LOG_RETENTION_DAYS = 30
# A failed slot is retried twice by Lambda (the slot lease makes that safe);
# after an hour a retry would land too close to the next slot to be useful.
MAX_RETRY_ATTEMPTS = 2
MAX_EVENT_AGE_SECONDS = 3600
DESCRIPTION = "Posts one painting of socialist realism per slot (lambda_deploy.sh)"
# A new role takes a few seconds before Lambda may assume it.
ROLE_PROPAGATION_ATTEMPTS = 12
ROLE_PROPAGATION_DELAY = 5


class LogGroup(Resource):
    kind = "log group"

    @property
    def label(self) -> str:
        return f"log group {self.config.log_group}"

    def detail(self) -> str:
        return f"kept {LOG_RETENTION_DAYS} days"

    def read(self) -> dict[str, Any] | None:
        name = self.config.log_group
        groups = self.client("logs").describe_log_groups(logGroupNamePrefix=name)["logGroups"]
        return next((g for g in groups if g["logGroupName"] == name), None)

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        have = current.get("retentionInDays")
        return () if have == LOG_RETENTION_DAYS else (f"retention {have} -> {LOG_RETENTION_DAYS}",)

    def apply(self, change: Change) -> None:
        logs, name = self.client("logs"), self.config.log_group
        if change.action is Action.CREATE:
            logs.create_log_group(logGroupName=name)
        logs.put_retention_policy(logGroupName=name, retentionInDays=LOG_RETENTION_DAYS)

    def delete(self, current: dict[str, Any]) -> None:
        self.client("logs").delete_log_group(logGroupName=self.config.log_group)


class _FunctionPart(Resource):
    """Reads the function's configuration, as both of its parts compare with it."""

    def read(self) -> dict[str, Any] | None:
        try:
            current = self.client("lambda").get_function_configuration(
                FunctionName=self.config.function_name
            )
        except Exception as exc:
            absent_on(exc, "ResourceNotFoundException")
            return None
        if current.get("PackageType", "Zip") != "Zip":
            raise DeployError(
                f"function {self.config.function_name} exists as a container image; pick "
                "another ART_BOT_FUNCTION_NAME or delete it"
            )
        return current

    def wanted(self) -> dict[str, Any]:
        c = self.config
        return {
            "Role": self.ctx.account.arn("iam", f"role/{c.role_name}", regional=False),
            "Handler": HANDLER,
            "Runtime": c.runtime,
            "MemorySize": c.memory_mb,
            "Timeout": c.timeout_seconds,
            "Description": DESCRIPTION,
            "Environment": {"Variables": dict(c.function_env)},
        }


class FunctionCode(_FunctionPart):
    kind = "function code"

    @property
    def label(self) -> str:
        return f"function code {self.config.function_name}"

    @property
    def removal_label(self) -> str:
        return f"function {self.config.function_name}"  # code, configuration and all

    def detail(self) -> str:
        build = self._build()
        return f"{build.size} bytes"

    def _build(self) -> Any:
        if self.ctx.build is None:
            raise ConfigError("no zip to compare the function's code with; build one first")
        return self.ctx.build

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        what = []
        if current.get("CodeSha256") != self._build().sha256:
            what.append("zip changed")
        if current.get("Architectures", [ARCHITECTURE]) != [ARCHITECTURE]:
            what.append(f"architecture -> {ARCHITECTURE}")
        return tuple(what)

    def apply(self, change: Change) -> None:
        if change.action is Action.CREATE:
            self._create()
            self.ctx.wait("function_active_v2")
            return
        if (self.read() or {}).get("LastUpdateStatus") == "InProgress":
            self.ctx.wait("function_updated_v2")
        self.client("lambda").update_function_code(
            FunctionName=self.config.function_name,
            ZipFile=self._build().path.read_bytes(),
            Architectures=[ARCHITECTURE],
        )
        self.ctx.wait("function_updated_v2")

    def _create(self) -> None:
        zip_bytes = self._build().path.read_bytes()
        for attempt in range(ROLE_PROPAGATION_ATTEMPTS):
            try:
                self.client("lambda").create_function(
                    FunctionName=self.config.function_name,
                    PackageType="Zip",
                    Code={"ZipFile": zip_bytes},
                    Architectures=[ARCHITECTURE],
                    **self.wanted(),
                )
                return
            except Exception as exc:
                last = attempt == ROLE_PROPAGATION_ATTEMPTS - 1
                if error_code(exc) != "InvalidParameterValueException" or "assume" not in str(exc):
                    raise
                if last:
                    raise
                self.ctx.sleep(ROLE_PROPAGATION_DELAY)

    def delete(self, current: dict[str, Any]) -> None:
        self.client("lambda").delete_function(FunctionName=self.config.function_name)


class FunctionConfiguration(_FunctionPart):
    """Runtime, size, role and environment: created with the code, updated alone."""

    kind = "function configuration"
    part_of = "function code"

    @property
    def label(self) -> str:
        return f"function configuration {self.config.function_name}"

    def detail(self) -> str:
        c = self.config
        return f"{c.runtime}, {c.memory_mb} MB, {c.timeout_seconds} s"

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        what = []
        for key, want in self.wanted().items():
            have = current.get(key)
            if key == "Environment":
                _env_diff(what, (have or {}).get("Variables", {}), want["Variables"])
            elif key == "Description":
                if (have or "") != want:
                    what.append("Description")
            elif have != want:
                what.append(f"{key} {have} -> {want}")
        return tuple(what)

    def apply(self, change: Change) -> None:
        if change.action is Action.CREATE:
            return  # create_function set it, with the code
        if (self.read() or {}).get("LastUpdateStatus") == "InProgress":
            self.ctx.wait("function_updated_v2")
        self.client("lambda").update_function_configuration(
            FunctionName=self.config.function_name, **self.wanted()
        )
        self.ctx.wait("function_updated_v2")


def _env_diff(out: list[str], have: dict[str, str], want: dict[str, str]) -> None:
    """Names only: the values are not secret, but names are what an operator scans for."""
    for name in sorted(set(have) | set(want)):
        if name not in have:
            out.append(f"environment +{name}")
        elif name not in want:
            out.append(f"environment -{name}")
        elif have[name] != want[name]:
            out.append(f"environment {name} changed")


class AsyncConfig(Resource):
    kind = "async invoke config"

    @property
    def label(self) -> str:
        return f"async invoke config {self.config.function_name}"

    def detail(self) -> str:
        return f"{MAX_RETRY_ATTEMPTS} retries, events expire after {MAX_EVENT_AGE_SECONDS} s"

    def read(self) -> dict[str, Any] | None:
        try:
            return self.client("lambda").get_function_event_invoke_config(
                FunctionName=self.config.function_name
            )
        except Exception as exc:
            absent_on(exc, "ResourceNotFoundException")
            return None

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        what = []
        if current.get("MaximumRetryAttempts") != MAX_RETRY_ATTEMPTS:
            what.append(f"retries {current.get('MaximumRetryAttempts')} -> {MAX_RETRY_ATTEMPTS}")
        if current.get("MaximumEventAgeInSeconds") != MAX_EVENT_AGE_SECONDS:
            what.append(
                f"event age {current.get('MaximumEventAgeInSeconds')} -> {MAX_EVENT_AGE_SECONDS}"
            )
        return tuple(what)

    def apply(self, change: Change) -> None:
        self.client("lambda").put_function_event_invoke_config(
            FunctionName=self.config.function_name,
            MaximumRetryAttempts=MAX_RETRY_ATTEMPTS,
            MaximumEventAgeInSeconds=MAX_EVENT_AGE_SECONDS,
        )

    def delete(self, current: dict[str, Any]) -> None:
        self.client("lambda").delete_function_event_invoke_config(
            FunctionName=self.config.function_name
        )
