"""AWS clients for the deploy, and the one place that says what a read is.

A plan must change nothing. That is enforced twice, not promised: the plan's
clients are :class:`ReadOnlyClient` wrappers that refuse, before any request,
every method that is not a read (``get_``, ``describe_``, ``list_``, ``head_``)
and every paginator over one; and every request any deploy client sends is
seen by a botocore ``before-call`` hook that records its operation and, in
read-only mode, refuses one whose name is not a read (``Get``, ``Describe``,
``List``, ``Head``). The recorded operations are what ``--plan`` counts.

``--destroy`` gets clients for the services that hold the bot's resources
only; S3 and SSM (the collection and the secrets) are not among them, so a
teardown cannot touch them whatever its code says.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .. import config as cfg
from ..errors import ArtBotError

READ_METHOD_PREFIXES = ("get_", "describe_", "list_", "head_")
READ_OPERATION_PREFIXES = ("Get", "Describe", "List", "Head")
# Services that hold what the deploy creates; a teardown may use only these.
DEPLOY_SERVICES = ("sts", "iam", "logs", "lambda", "events", "sns", "cloudwatch")


class DeployError(ArtBotError):
    """AWS refused a deploy step, or the build failed; the message says which."""


class ReadOnlyViolation(DeployError):
    """A plan (or another read-only run) tried to change something."""


def error_code(exc: BaseException) -> str:
    """The AWS error code of a botocore ClientError, '' for anything else."""
    return str(getattr(exc, "response", {}).get("Error", {}).get("Code", ""))


def aws_error(step: str, exc: Exception) -> DeployError:
    """One line for a failed AWS step, naming the step and AWS's own words."""
    response = getattr(exc, "response", None)
    if isinstance(response, dict):
        err = response.get("Error", {})
        code = err.get("Code", "Error")
        said = cfg.AWS_SETUP_ERRORS.get(code) or f"{code}: {err.get('Message', '')}".strip()
        return DeployError(f"{step}: {said}")
    name = type(exc).__name__
    if name in cfg.AWS_SETUP_ERRORS:
        return DeployError(f"{step}: {cfg.AWS_SETUP_ERRORS[name]}")
    return DeployError(f"{step}: {exc}")


def is_read_method(name: str) -> bool:
    return name.startswith(READ_METHOD_PREFIXES) and name not in ("get_waiter",)


class ReadOnlyClient:
    """A boto3 client that can only read: anything else raises before a request."""

    def __init__(self, client: Any) -> None:
        self._client = client

    def __getattr__(self, name: str) -> Any:
        if name == "get_paginator":
            return self._paginator
        if name == "meta":
            return self._client.meta
        if not is_read_method(name):
            service = self._client.meta.service_model.service_name
            raise ReadOnlyViolation(f"a read-only run may not call {service}.{name}")
        return getattr(self._client, name)

    def _paginator(self, operation: str) -> Any:
        if not is_read_method(operation):
            raise ReadOnlyViolation(f"a read-only run may not page through {operation}")
        return self._client.get_paginator(operation)


@dataclass
class Clients:
    """The deploy's boto3 clients, built once each through ``config.aws_client``.

    ``read_only`` wraps each in :class:`ReadOnlyClient` and arms the
    request-level check; ``services`` limits which services may be used at all.
    ``calls`` lists every operation sent, in order.
    """

    read_only: bool = False
    services: Iterable[str] | None = None
    injected: dict[str, Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    _built: dict[str, Any] = field(default_factory=dict)

    def __call__(self, service: str) -> Any:
        if service not in self._built:
            if self.services is not None and service not in self.services:
                raise ReadOnlyViolation(f"this run may not use AWS {service}")
            client = self.injected.get(service) or cfg.aws_client(service)
            client.meta.events.register("before-call", self._before_call)
            self._built[service] = ReadOnlyClient(client) if self.read_only else client
        return self._built[service]

    def _before_call(self, model: Any, **_: Any) -> None:
        self.calls.append(model.name)
        if self.read_only and not model.name.startswith(READ_OPERATION_PREFIXES):
            raise ReadOnlyViolation(f"a read-only run may not send {model.name}")

    @property
    def writes(self) -> list[str]:
        return [c for c in self.calls if not c.startswith(READ_OPERATION_PREFIXES)]


@dataclass(frozen=True)
class Account:
    """Who the deploy runs as: the account id and partition every ARN needs."""

    id: str
    partition: str
    region: str

    @classmethod
    def of(cls, clients: Clients, region: str) -> Account:
        try:
            ident = clients("sts").get_caller_identity()
        except ArtBotError:
            raise
        except Exception as exc:
            raise aws_error("checking AWS credentials", exc) from None
        return cls(ident["Account"], ident["Arn"].split(":")[1], region)

    def arn(self, service: str, resource: str, *, regional: bool = True) -> str:
        region = self.region if regional else ""
        return f"arn:{self.partition}:{service}:{region}:{self.id}:{resource}"
