"""Alarms (with ART_BOT_ALARM_EMAIL): an SNS topic, the operator's email
subscription, an alarm on failed invocations and a heartbeat that fires when
the schedule stopped invoking the function."""

from __future__ import annotations

import json
from typing import Any

from .reconcile import Change, Resource, absent_on
from .settings import DeployConfig


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


def _same(a: Any, b: Any) -> bool:
    return json.dumps(a, sort_keys=True, default=str) == json.dumps(b, sort_keys=True)


class Topic(Resource):
    kind = "topic"

    @property
    def label(self) -> str:
        return f"topic {self.config.topic_name}"

    def arn(self) -> str:
        return self.ctx.account.arn("sns", self.config.topic_name)

    def read(self) -> dict[str, Any] | None:
        try:
            return self.client("sns").get_topic_attributes(TopicArn=self.arn())["Attributes"]
        except Exception as exc:
            absent_on(exc, "NotFound", "NotFoundException")
            return None

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        return ()

    def apply(self, change: Change) -> None:
        self.client("sns").create_topic(Name=self.config.topic_name)

    def delete(self, current: dict[str, Any]) -> None:
        # Deleting a topic deletes its subscriptions with it.
        self.client("sns").delete_topic(TopicArn=self.arn())


class Subscription(Resource):
    kind = "email subscription"
    part_of = "topic"

    @property
    def label(self) -> str:
        return f"email subscription {self.config.alarm_email}"

    def read(self) -> dict[str, Any] | None:
        topic = self.ctx.account.arn("sns", self.config.topic_name)
        try:
            pages = self.client("sns").get_paginator("list_subscriptions_by_topic")
            subs = [s for p in pages.paginate(TopicArn=topic) for s in p["Subscriptions"]]
        except Exception as exc:
            absent_on(exc, "NotFound", "NotFoundException")
            return None
        email = self.config.alarm_email
        return next((s for s in subs if (s["Protocol"], s["Endpoint"]) == ("email", email)), None)

    def detail(self) -> str:
        return "confirm the email AWS sends"

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        return ()

    def apply(self, change: Change) -> None:
        topic = self.ctx.account.arn("sns", self.config.topic_name)
        self.client("sns").subscribe(
            TopicArn=topic, Protocol="email", Endpoint=self.config.alarm_email
        )


def alarm_specs(config: DeployConfig, topic_arn: str) -> list[dict[str, Any]]:
    """The two alarms, exactly as put_metric_alarm takes them."""
    period, periods = heartbeat_window(config.schedule_seconds)
    name = config.function_name
    common = {
        "Namespace": "AWS/Lambda",
        "Dimensions": [{"Name": "FunctionName", "Value": name}],
        "Statistic": "Sum",
        "Threshold": 1.0,
        "ActionsEnabled": True,
        "AlarmActions": [topic_arn],
        "OKActions": [topic_arn],
    }
    errors = {
        "AlarmName": config.errors_alarm,
        "AlarmDescription": f"{name} failed (a slot may be missing a post)",
        "MetricName": "Errors",
        "Period": 300,
        "EvaluationPeriods": 1,
        "DatapointsToAlarm": 1,
        "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        "TreatMissingData": "notBreaching",
    }
    heartbeat = {
        "AlarmName": config.heartbeat_alarm,
        "AlarmDescription": (
            f"{name} was not invoked for {period * periods // 60} minutes; "
            f"its schedule is {config.schedule}"
        ),
        "MetricName": "Invocations",
        "Period": period,
        "EvaluationPeriods": periods,
        "DatapointsToAlarm": periods,
        "ComparisonOperator": "LessThanThreshold",
        "TreatMissingData": "breaching",
    }
    return [{**common, **errors}, {**common, **heartbeat}]


class Alarm(Resource):
    kind = "alarm"

    def __init__(self, ctx: Any, name: str) -> None:
        super().__init__(ctx)
        self.name = name

    @property
    def label(self) -> str:
        return f"alarm {self.name}"

    def wanted(self) -> dict[str, Any]:
        topic = self.ctx.account.arn("sns", self.config.topic_name)
        return next(a for a in alarm_specs(self.config, topic) if a["AlarmName"] == self.name)

    def read(self) -> dict[str, Any] | None:
        found = self.client("cloudwatch").describe_alarms(
            AlarmNames=[self.name], AlarmTypes=["MetricAlarm"]
        )["MetricAlarms"]
        return found[0] if found else None

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        return tuple(k for k, v in self.wanted().items() if not _same(current.get(k), v))

    def apply(self, change: Change) -> None:
        self.client("cloudwatch").put_metric_alarm(**self.wanted())

    def delete(self, current: dict[str, Any]) -> None:
        self.client("cloudwatch").delete_alarms(AlarmNames=[self.name])
