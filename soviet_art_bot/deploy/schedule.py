"""The EventBridge rule that fires each slot, its target, and the function's
permission for that rule (and only that rule) to invoke it."""

from __future__ import annotations

import json
from typing import Any

from .reconcile import Action, Change, Resource, absent_on

TARGET_ID = "soviet-art-bot"
EVENTS_PRINCIPAL = "events.amazonaws.com"


class Rule(Resource):
    kind = "rule"

    @property
    def label(self) -> str:
        return f"rule {self.config.rule_name}"

    def detail(self) -> str:
        return self.config.schedule

    def read(self) -> dict[str, Any] | None:
        try:
            return self.client("events").describe_rule(Name=self.config.rule_name)
        except Exception as exc:
            absent_on(exc, "ResourceNotFoundException")
            return None

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        what = []
        if current.get("ScheduleExpression") != self.config.schedule:
            what.append(f"schedule {current.get('ScheduleExpression')} -> {self.config.schedule}")
        if current.get("State") != "ENABLED":
            what.append(f"state {current.get('State')} -> ENABLED")
        return tuple(what)

    def apply(self, change: Change) -> None:
        self.client("events").put_rule(
            Name=self.config.rule_name,
            ScheduleExpression=self.config.schedule,
            State="ENABLED",
            Description=(
                f"Invokes {self.config.function_name} on its posting schedule (lambda_deploy.sh)"
            ),
        )

    def delete(self, current: dict[str, Any]) -> None:
        self.client("events").delete_rule(Name=self.config.rule_name)


class Target(Resource):
    kind = "rule target"

    @property
    def label(self) -> str:
        return f"rule target {TARGET_ID}"

    def detail(self) -> str:
        return self.config.function_name

    def function_arn(self) -> str:
        return self.ctx.account.arn("lambda", f"function:{self.config.function_name}")

    def read(self) -> dict[str, Any] | None:
        try:
            targets = self.client("events").list_targets_by_rule(Rule=self.config.rule_name)
        except Exception as exc:
            absent_on(exc, "ResourceNotFoundException")  # no rule, so no target
            return None
        return next((t for t in targets.get("Targets", []) if t["Id"] == TARGET_ID), None)

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        what = []
        if current.get("Arn") != self.function_arn():
            what.append(f"target {current.get('Arn')} -> {self.function_arn()}")
        if current.get("Input"):
            what.append("fixed input removed")
        return tuple(what)

    def apply(self, change: Change) -> None:
        self.client("events").put_targets(
            Rule=self.config.rule_name, Targets=[{"Id": TARGET_ID, "Arn": self.function_arn()}]
        )

    def delete(self, current: dict[str, Any]) -> None:
        self.client("events").remove_targets(Rule=self.config.rule_name, Ids=[TARGET_ID])


class Permission(Resource):
    """The function's resource policy statement letting the rule invoke it."""

    kind = "invoke permission"

    @property
    def label(self) -> str:
        return f"invoke permission {self.config.rule_name}"

    def rule_arn(self) -> str:
        return self.ctx.account.arn("events", f"rule/{self.config.rule_name}")

    def read(self) -> dict[str, Any] | None:
        try:
            got = self.client("lambda").get_policy(FunctionName=self.config.function_name)
        except Exception as exc:
            absent_on(exc, "ResourceNotFoundException")  # no function or no policy yet
            return None
        statements = json.loads(got["Policy"]).get("Statement", [])
        return next((s for s in statements if s.get("Sid") == self.config.rule_name), None)

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        what = []
        source = current.get("Condition", {}).get("ArnLike", {}).get("AWS:SourceArn")
        if source != self.rule_arn():
            what.append(f"source {source} -> {self.rule_arn()}")
        if current.get("Principal", {}).get("Service") != EVENTS_PRINCIPAL:
            what.append(f"principal -> {EVENTS_PRINCIPAL}")
        return tuple(what)

    def apply(self, change: Change) -> None:
        lam = self.client("lambda")
        if change.action is Action.UPDATE:
            self.delete(None)
        lam.add_permission(
            FunctionName=self.config.function_name,
            StatementId=self.config.rule_name,
            Action="lambda:InvokeFunction",
            Principal=EVENTS_PRINCIPAL,
            SourceArn=self.rule_arn(),
        )

    def delete(self, current: Any) -> None:
        self.client("lambda").remove_permission(
            FunctionName=self.config.function_name, StatementId=self.config.rule_name
        )
