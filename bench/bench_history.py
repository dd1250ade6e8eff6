"""`soviet-art-bot history` on years of slots: what it reads, and how long it takes.

10,000 slot records (four a day: about 6.8 years) are written to a directory
store and to moto's S3 server, then ``history`` (its library call, in this
process) lists the newest 20, and the newest 20 since a time a month back.
Reported per store: records read (target: only the ones shown), wall time,
and, for comparison, the time to read every record. Targets: 20 records read
of 10,000, and the listing at least 10x faster than reading every record.

    python bench/bench_history.py [--slots 10000] [--limit 20] [--stores dir,s3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from soviet_art_bot.history import read_history  # noqa: E402
from soviet_art_bot.ledger import slot_key  # noqa: E402
from soviet_art_bot.slots import SlotRecord, slot_keys  # noqa: E402
from soviet_art_bot.store import DirStore, S3Store, Store  # noqa: E402

RECORD = REPO / "tests" / "fixtures" / "slots" / "posted.json"
START = datetime(2020, 1, 1, tzinfo=UTC)


class Counting:
    """Counts the record reads a store serves (wraps the real store's methods)."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.reads = 0
        inner = store.read_versioned

        def read_versioned(key: str, **kwargs):  # type: ignore[no-untyped-def]
            self.reads += 1
            return inner(key, **kwargs)

        store.read_versioned = read_versioned  # type: ignore[method-assign]


def fill(store: Store, count: int) -> datetime:
    doc = json.loads(RECORD.read_bytes())

    def put(i: int) -> None:
        slot = START + timedelta(hours=6 * i)
        store.write(
            slot_key(slot), json.dumps({**doc, "slot": f"{slot:%Y-%m-%dT%H:%M:%SZ}"}).encode()
        )

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(put, range(count)))
    return START + timedelta(hours=6 * (count - 1))


def timed(fn, repeat: int = 3) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(name: str, store: Store, count: int, limit: int) -> None:
    t0 = time.perf_counter()
    newest = fill(store, count)
    print(f"{name}: wrote {count} slot records in {time.perf_counter() - t0:.1f} s", flush=True)
    counter = Counting(store)
    found = read_history(store, limit=limit)
    assert len(found.slots) == limit and found.more
    assert found.slots[0].slot == f"{newest:%Y-%m-%dT%H:%M:%SZ}"
    reads = counter.reads
    newest_t = timed(lambda: read_history(store, limit=limit))
    since = newest - timedelta(days=30)
    since_t = timed(lambda: read_history(store, since=since, limit=limit))
    list_t = timed(lambda: slot_keys(store))

    def read_all() -> None:
        for key in slot_keys(store):
            data = store.read_versioned(key)
            assert data is not None
            SlotRecord.from_json(data[0], key)

    all_t = timed(read_all, repeat=1)
    print(f"  records read for --limit {limit}   {reads} of {count}  (target {limit})")
    print(f"  history --limit {limit}            {newest_t * 1000:.0f} ms (median of 3)")
    print(f"  history --since -30d --limit {limit} {since_t * 1000:.0f} ms")
    print(f"  listing every key instead       {list_t * 1000:.0f} ms")
    print(f"  reading every record instead    {all_t * 1000:.0f} ms")
    print(f"  ratio every record / history    {all_t / newest_t:.1f}x  (target >= 10x)")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--slots", type=int, default=10_000)
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--stores", default="dir,s3")
    args = parser.parse_args()
    stores = args.stores.split(",")
    if "dir" in stores:
        with tempfile.TemporaryDirectory() as tmp:
            measure("directory store", DirStore(Path(tmp) / "store"), args.slots, args.limit)
    if "s3" in stores:
        import logging
        import os

        import boto3
        from moto.server import ThreadedMotoServer

        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request

        server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
        server.start()
        host, port = server.get_host_and_port()
        os.environ.update(
            AWS_ENDPOINT_URL=f"http://{host}:{port}",
            AWS_ACCESS_KEY_ID="bench",
            AWS_SECRET_ACCESS_KEY="bench",
            AWS_REGION="us-east-1",
            AWS_DEFAULT_REGION="us-east-1",
        )
        try:
            boto3.client("s3").create_bucket(Bucket="bench-history")
            measure("S3 (moto server)", S3Store("bench-history", "store"), args.slots, args.limit)
        finally:
            server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
