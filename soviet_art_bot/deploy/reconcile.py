"""Reconcilers: one small class per kind of AWS resource the deploy owns.

Each one can ``read`` what exists (None when absent), ``diff`` it against
what the settings want (the names of what differs, empty when it matches),
``apply`` a planned change, and ``destroy`` what exists. A deploy is its
plan carried out, in dependency order; ``--plan`` is the same plan printed
with read-only clients; ``--destroy`` walks the list backwards.
"""

from __future__ import annotations

import enum
import json
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO, Any

from ..errors import ArtBotError
from .aws import Account, Clients, aws_error, error_code
from .build import Build
from .settings import DeployConfig


class Action(enum.Enum):
    CREATE = "create"
    UPDATE = "update"
    UNCHANGED = "unchanged"
    SKIP = "skip"
    DELETE = "delete"
    ABSENT = "absent"

    @property
    def done(self) -> str:
        """The past tense printed once the action has been carried out."""
        return {
            "create": "created",
            "update": "updated",
            "skip": "skipped",
            "delete": "deleted",
        }.get(self.value, self.value)

    @property
    def changes(self) -> bool:
        return self in (Action.CREATE, Action.UPDATE, Action.DELETE)


@dataclass(frozen=True)
class Change:
    """What a deploy would do (or did) to one resource, and what differs."""

    resource: str
    action: Action
    what: tuple[str, ...] = ()
    detail: str = ""

    def line(self, *, done: bool) -> str:
        word = self.action.done if done else self.action.value
        notes = "; ".join([*self.what, *([self.detail] if self.detail else [])])
        return f"  {word:<9} {self.resource}" + (f"  ({notes})" if notes else "")


@dataclass
class Context:
    """What every reconciler shares: settings, account, clients, the zip."""

    config: DeployConfig
    account: Account
    clients: Clients
    build: Build | None = None
    sleep: Callable[[float], None] = time.sleep
    waiter_delay: int = 2

    def wait(self, waiter: str) -> None:
        """Wait for the function to settle: Lambda refuses an update while one runs."""
        self.clients("lambda").get_waiter(waiter).wait(
            FunctionName=self.config.function_name,
            WaiterConfig={"Delay": self.waiter_delay, "MaxAttempts": 150},
        )


def absent_on(exc: BaseException, *codes: str) -> None:
    """Re-raise ``exc`` unless its AWS error code says the resource is absent."""
    if error_code(exc) not in codes:
        raise exc


def comparable(doc: Any) -> Any:
    """A policy document in comparable form (IAM may return it URL-encoded)."""
    if isinstance(doc, str):
        from urllib.parse import unquote

        doc = json.loads(unquote(doc))
    return json.loads(json.dumps(doc, sort_keys=True, default=str))


class Resource:
    """Base of every reconciler. ``part_of`` names a resource this one is
    created and deleted with (it has no create or delete call of its own)."""

    kind = ""
    part_of: str | None = None

    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.config = ctx.config

    @property
    def label(self) -> str:
        return self.kind

    @property
    def removal_label(self) -> str:
        """How a teardown names it (the label, unless the kind reads oddly there)."""
        return self.label

    def detail(self) -> str:
        return ""

    def client(self, service: str) -> Any:
        return self.ctx.clients(service)

    def read(self) -> Any | None:
        raise NotImplementedError

    def diff(self, current: Any) -> tuple[str, ...]:
        raise NotImplementedError

    def apply(self, change: Change) -> None:
        raise NotImplementedError

    def delete(self, current: Any) -> None:
        raise NotImplementedError

    def plan(self) -> Change:
        current = self.read()
        if current is None:
            return Change(self.label, Action.CREATE, detail=self.detail())
        what = self.diff(current)
        action = Action.UPDATE if what else Action.UNCHANGED
        return Change(self.label, action, what, self.detail())

    def destroy(self) -> Change | None:
        """Delete it if it exists; None for a part deleted with its whole."""
        if self.part_of is not None:
            return None
        current = self.read()
        if current is None:
            return Change(self.removal_label, Action.ABSENT)
        self.delete(current)
        return Change(self.removal_label, Action.DELETE)


class Skipped(Resource):
    """A resource the settings turn off, shown so the operator sees why."""

    def __init__(self, ctx: Context, kind: str, why: str) -> None:
        super().__init__(ctx)
        self.kind, self.why = kind, why

    def plan(self) -> Change:
        return Change(self.label, Action.SKIP, detail=self.why)

    def destroy(self) -> Change | None:
        return None


@dataclass
class Report:
    """Prints each change as it is planned or made, and counts them."""

    out: IO[str] = field(default_factory=lambda: sys.stdout)
    changes: list[Change] = field(default_factory=list)

    def note(self, change: Change, *, done: bool) -> None:
        self.changes.append(change)
        self.out.write(change.line(done=done) + "\n")
        self.out.flush()

    def counts(self, *, done: bool) -> str:
        tally: dict[str, int] = {}
        for change in self.changes:
            word = change.action.done if done else change.action.value
            tally[word] = tally.get(word, 0) + 1
        return ", ".join(f"{n} {word}" for word, n in sorted(tally.items())) or "nothing"


def step(verb: str, resource: Resource, fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except ArtBotError:
        raise
    except Exception as exc:
        raise aws_error(f"{verb} {resource.label}", exc) from None


def plan(resources: list[Resource], report: Report, *, done: bool = False) -> list[Change]:
    """Read every resource and say what a deploy would do; changes nothing."""
    changes = []
    for resource in resources:
        change = step("reading", resource, resource.plan)
        changes.append(change)
        if not done:
            report.note(change, done=False)
    return changes


def apply(resources: list[Resource], report: Report) -> None:
    """Plan, then carry the plan out in order, printing each outcome."""
    changes = plan(resources, report, done=True)
    for resource, change in zip(resources, changes, strict=True):
        if change.action in (Action.CREATE, Action.UPDATE):
            verb = "creating" if change.action is Action.CREATE else "updating"
            step(verb, resource, lambda r=resource, c=change: r.apply(c))
        report.note(change, done=True)


def existing(resources: list[Resource]) -> list[str]:
    """How a teardown names each resource that exists now (parts not listed)."""
    return [
        r.removal_label
        for r in resources
        if r.part_of is None and step("reading", r, r.read) is not None
    ]


def destroy(resources: list[Resource], report: Report) -> None:
    """Delete, last made first, whatever exists; absent ones are a no-op."""
    for resource in reversed(resources):
        change = step("deleting", resource, resource.destroy)
        if change is not None:
            report.note(change, done=True)
