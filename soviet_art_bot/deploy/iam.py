"""The function's execution role and its one inline policy."""

from __future__ import annotations

import json
from typing import Any

from .policy import role_policy, trust_policy
from .reconcile import Action, Change, Resource, absent_on, comparable


class Role(Resource):
    kind = "role"

    @property
    def label(self) -> str:
        return f"role {self.config.role_name}"

    def read(self) -> dict[str, Any] | None:
        try:
            return self.client("iam").get_role(RoleName=self.config.role_name)["Role"]
        except Exception as exc:
            absent_on(exc, "NoSuchEntity")
            return None

    def diff(self, current: dict[str, Any]) -> tuple[str, ...]:
        same = comparable(current["AssumeRolePolicyDocument"]) == comparable(trust_policy())
        return () if same else ("trust policy",)

    def apply(self, change: Change) -> None:
        iam, trust = self.client("iam"), json.dumps(trust_policy())
        if change.action is Action.CREATE:
            iam.create_role(
                RoleName=self.config.role_name,
                AssumeRolePolicyDocument=trust,
                Description=(
                    f"Execution role of the {self.config.function_name} Lambda (lambda_deploy.sh)"
                ),
            )
        else:
            iam.update_assume_role_policy(RoleName=self.config.role_name, PolicyDocument=trust)

    def delete(self, current: dict[str, Any]) -> None:
        self.client("iam").delete_role(RoleName=self.config.role_name)


class RolePolicy(Resource):
    kind = "policy"

    @property
    def label(self) -> str:
        return f"policy {self.config.policy_name}"

    def wanted(self) -> dict[str, Any]:
        return role_policy(self.config, self.ctx.account)

    def read(self) -> Any | None:
        try:
            got = self.client("iam").get_role_policy(
                RoleName=self.config.role_name, PolicyName=self.config.policy_name
            )
        except Exception as exc:
            absent_on(exc, "NoSuchEntity")  # also when the role itself is absent
            return None
        return comparable(got["PolicyDocument"])

    def diff(self, current: Any) -> tuple[str, ...]:
        """The statements (by Sid) that were added, removed or changed."""
        have = {s.get("Sid", ""): s for s in current.get("Statement", [])}
        want = {s["Sid"]: s for s in comparable(self.wanted())["Statement"]}
        changed = [
            f"statement {sid}"
            for sid in sorted(set(have) | set(want))
            if have.get(sid) != want.get(sid)
        ]
        if not changed and comparable(current) != comparable(self.wanted()):
            changed = ["document"]
        return tuple(changed)

    def apply(self, change: Change) -> None:
        self.client("iam").put_role_policy(
            RoleName=self.config.role_name,
            PolicyName=self.config.policy_name,
            PolicyDocument=json.dumps(self.wanted()),
        )

    def delete(self, current: Any) -> None:
        self.client("iam").delete_role_policy(
            RoleName=self.config.role_name, PolicyName=self.config.policy_name
        )
