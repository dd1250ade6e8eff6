"""``lambda_deploy.sh``: parse options, run one of deploy, plan, destroy or
build, and turn any refusal into one ``Error: ...`` line (exit status 1), as
the bot's own command line does."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import IO

from ..errors import ArtBotError, ConfigError
from . import reconcile
from .aws import DEPLOY_SERVICES, Account, Clients, DeployError
from .build import Build, build_zip, check_zip, requirement_files
from .deployment import check_bucket, check_secrets, resources
from .reconcile import Context, Report
from .settings import (
    DeployConfig,
    gallery_setting,
    load_config,
    platforms_setting,
    runtime_setting,
)

PROG = "lambda_deploy.sh"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Build the Lambda zip and create or update the function, its role, "
        "schedule and alarms; or show what that would change (--plan), or remove it all "
        "(--destroy). Settings come from the environment (docs/operations.md).",
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument(
        "--plan", action="store_true", help="say what a deploy would change; change nothing"
    )
    mode.add_argument(
        "--destroy",
        action="store_true",
        help="remove what the deploy made (never the bucket or the SSM parameters)",
    )
    mode.add_argument(
        "--build-only", action="store_true", help="build the zip, report its size, change nothing"
    )
    parser.add_argument("--yes", action="store_true", help="--destroy without asking")
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
    return parser


def _build(
    args: argparse.Namespace, platforms: Sequence[str], runtime: str, gallery: bool
) -> Build:
    if args.zip is not None:
        return check_zip(args.zip)
    build = build_zip(
        platforms,
        runtime=runtime,
        build_dir=args.build_dir,
        requirements=args.requirements,
        wheelhouse=args.wheelhouse,
        rebuild=args.rebuild,
        gallery=gallery,
    )
    return check_zip(build.path)


def _checked_context(args: argparse.Namespace, config: DeployConfig, clients: Clients) -> Context:
    """Everything a deploy or a plan needs, checked before either looks at a resource."""
    if args.zip is None and args.requirements is None:
        # absent files stop us before AWS is touched
        requirement_files(config.platforms, gallery=config.gallery)
    ctx = Context(config, Account.of(clients, config.region), clients)
    check_bucket(ctx)
    check_secrets(ctx)
    ctx.build = _build(args, config.platforms, config.runtime, config.gallery)
    return ctx


def build_only(args: argparse.Namespace, env: Mapping[str, str], out: IO[str]) -> None:
    platforms, runtime = platforms_setting(env), runtime_setting(env)
    build = _build(args, platforms, runtime, gallery_setting(env))
    out.write(f"zip: {build.describe()} for {runtime}, platforms {','.join(platforms)}\n")


def deploy(args: argparse.Namespace, env: Mapping[str, str], out: IO[str]) -> None:
    config = load_config(env)
    ctx = _checked_context(args, config, Clients())
    out.write(
        f"deploying {config.function_name} to {config.region} (account {ctx.account.id}), "
        f"platforms {','.join(config.platforms)}\n"
    )
    out.write(f"  zip       {ctx.build.describe() if ctx.build else ''}\n")
    report = Report(out)
    reconcile.apply(resources(ctx), report)
    out.write(f"done: {config.function_name} on {config.schedule}; {report.counts(done=True)}\n")


def plan(args: argparse.Namespace, env: Mapping[str, str], out: IO[str]) -> None:
    config = load_config(env)
    clients = Clients(read_only=True)
    ctx = _checked_context(args, config, clients)
    out.write(
        f"plan for {config.function_name} in {config.region} (account {ctx.account.id}), "
        f"platforms {','.join(config.platforms)}\n"
    )
    out.write(f"  zip       {ctx.build.describe() if ctx.build else ''}\n")
    report = Report(out)
    reconcile.plan(resources(ctx), report)
    if clients.writes:  # cannot happen: the clients refuse writes; say so if it ever does
        raise DeployError(f"the plan sent {', '.join(clients.writes)}; report this bug")
    out.write(
        f"plan: {report.counts(done=False)}; {len(clients.calls)} AWS calls, all reads; "
        "nothing was changed\n"
    )


def _confirm(ctx: Context, found: list[str], ask: Callable[[str], str]) -> None:
    out = "\n".join(f"  {label}" for label in found)
    answer = ask(
        f"This removes from account {ctx.account.id} ({ctx.config.region}):\n{out}\n"
        "The bucket, its objects and the SSM parameters stay. Type 'yes' to go on: "
    )
    if answer.strip().lower() != "yes":
        raise ConfigError("--destroy was not confirmed; nothing was removed")


def destroy(
    args: argparse.Namespace, env: Mapping[str, str], out: IO[str], ask: Callable[[str], str]
) -> None:
    config = load_config(env)
    if not args.yes and not sys.stdin.isatty():
        raise ConfigError(
            "--destroy asks for confirmation on a terminal; run it on one, or add --yes"
        )
    # S3 and SSM are not among these services: the collection and secrets are untouchable.
    clients = Clients(services=DEPLOY_SERVICES)
    ctx = Context(config, Account.of(clients, config.region), clients)
    teardown = resources(ctx, teardown=True)
    found = reconcile.existing(teardown)
    if found and not args.yes:
        _confirm(ctx, found, ask)
    out.write(f"destroying {config.function_name} in {config.region} (account {ctx.account.id})\n")
    report = Report(out)
    reconcile.destroy(teardown, report)
    summary = report.counts(done=True) if found else "nothing to remove, all absent"
    out.write(f"done: {summary}; the bucket {config.bucket} and {config.ssm_path}/* stay\n")


def main(
    argv: Sequence[str] | None = None,
    env: Mapping[str, str] | None = None,
    ask: Callable[[str], str] = input,
) -> int:
    args = _parser().parse_args(argv)
    env = os.environ if env is None else env
    out = sys.stdout
    try:
        if args.build_only:
            build_only(args, env, out)
        elif args.plan:
            plan(args, env, out)
        elif args.destroy:
            destroy(args, env, out, ask)
        else:
            deploy(args, env, out)
    except ArtBotError as exc:
        out.flush()
        sys.stderr.write(f"Error: {exc}\n")
        return 1
    return 0
