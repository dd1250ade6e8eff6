"""Shared fixtures: a real local S3 (moto's server on 127.0.0.1) and sample stores.

Nothing here reaches the internet: every endpoint is on the loopback address.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from fake_s3 import AtomicMotoServer

from soviet_art_bot.sample import write_sample
from soviet_art_bot.store import DirStore, S3Store

REPO = Path(__file__).resolve().parent.parent
FAKE_AWS = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1",
}


@pytest.fixture(autouse=True)
def _no_real_aws(monkeypatch: pytest.MonkeyPatch) -> None:
    """Fake credentials everywhere, so no test could ever talk to real AWS."""
    for name, value in FAKE_AWS.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name in list(os.environ):
        if name.startswith(("ART_BOT_", "X_", "MASTODON_", "BLUESKY_")):
            monkeypatch.delenv(name, raising=False)


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """URL of moto's S3/SSM/IAM/... server (atomic conditional writes), once per session."""
    server = AtomicMotoServer().start()
    yield server.endpoint
    server.stop()


@pytest.fixture
def aws_env(moto_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Environment pointing boto3 at the local moto server (also for subprocesses)."""
    env = {**FAKE_AWS, "AWS_ENDPOINT_URL": moto_endpoint}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return env


@pytest.fixture
def bucket(aws_env: dict[str, str]) -> str:
    """A fresh, empty bucket on the local S3."""
    name = f"art-{uuid.uuid4().hex[:12]}"
    boto3.client("s3").create_bucket(Bucket=name)
    return name


@pytest.fixture
def s3_store(bucket: str) -> S3Store:
    return S3Store(bucket, "collection")


@pytest.fixture
def dir_store(tmp_path: Path) -> DirStore:
    return DirStore(tmp_path / "store")


@pytest.fixture(params=["dir", "s3"])
def any_store(request: pytest.FixtureRequest) -> DirStore | S3Store:
    """Each test using this runs once per kind of store."""
    return request.getfixturevalue("dir_store" if request.param == "dir" else "s3_store")


@pytest.fixture
def sample_dir(dir_store: DirStore) -> DirStore:
    write_sample(dir_store, scale=0.2)
    return dir_store


@pytest.fixture
def sample_s3(s3_store: S3Store) -> S3Store:
    write_sample(s3_store, scale=0.2)
    return s3_store
