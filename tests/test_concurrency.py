"""Compare-and-swap under concurrent writers: no update is ever lost.

Each writer adds its own entries to the ledger through ``update_ledger``
(read, change, conditional write, retry on conflict). Whatever the
interleaving, every entry of every writer must be there at the end.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from soviet_art_bot.ledger import read_ledger, update_ledger
from soviet_art_bot.store import open_store

WRITERS = 6
EACH = 12
START = datetime(2026, 1, 1, tzinfo=UTC)


def _writer(store_url: str, name: str, env: dict[str, str] | None = None) -> None:
    if env:
        os.environ.update(env)
    store = open_store(store_url)
    for i in range(EACH):
        at = START + timedelta(minutes=i)
        update_ledger(store, lambda ledger, i=i, at=at: ledger.record_post(f"{name}-{i}", at))


def _all_entries(store_url: str) -> set[str]:
    ledger, _ = read_ledger(open_store(store_url))
    return set(ledger.recent)


def _expected() -> set[str]:
    return {f"w{w}-{i}" for w in range(WRITERS) for i in range(EACH)}


def _url(store) -> str:
    return store.url if store.url.startswith("s3://") else str(store.root)


def test_threads_lose_no_update(any_store):
    url = _url(any_store)
    with ThreadPoolExecutor(WRITERS) as pool:
        for future in [pool.submit(_writer, url, f"w{w}") for w in range(WRITERS)]:
            future.result()
    assert _all_entries(url) == _expected()


def test_processes_lose_no_update(any_store, moto_endpoint):
    url = _url(any_store)
    env = {
        "AWS_ENDPOINT_URL": moto_endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_writer, args=(url, f"w{w}", env)) for w in range(WRITERS)]
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join(120)
        assert proc.exitcode == 0
    assert _all_entries(url) == _expected()


def test_the_fake_s3_applies_conditional_writes_atomically(bucket: str) -> None:
    """As S3 does: of many PUTs conditional on one ETag, exactly one wins."""
    import threading

    import boto3
    from botocore.config import Config
    from botocore.exceptions import ClientError

    s3 = boto3.client("s3", config=Config(max_pool_connections=16, retries={"max_attempts": 0}))
    for trial in range(5):  # moto's own server let two win in about one trial in seven
        etag = s3.put_object(Bucket=bucket, Key="k", Body=b"v0")["ETag"]
        start = threading.Barrier(12)
        outcomes: list[str] = []

        def writer(
            n: int, etag: str = etag, start: threading.Barrier = start, outcomes: list = outcomes
        ) -> None:
            start.wait()
            try:
                s3.put_object(Bucket=bucket, Key="k", Body=f"v{n}".encode(), IfMatch=etag)
                outcomes.append("won")
            except ClientError as exc:
                outcomes.append(exc.response["Error"]["Code"])

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(1, 13)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert sorted(outcomes) == ["PreconditionFailed"] * 11 + ["won"], trial
