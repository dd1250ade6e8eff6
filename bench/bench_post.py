"""The Lambda's cost against collection size: one post, cold and warm.

For catalogs of 500, 10,000 and 100,000 paintings in a local S3 (moto's
server) posting to the local fake X (HTTPS, every signature checked), a fresh
process imports the handler and posts one slot (cold), then posts a second
slot (warm). Reported per size: cold and warm wall time, and the process's
peak resident memory. Targets: with 100,000 paintings, peak <= 128 MB (the
smallest Lambda) and time <= 2x the time with 500.

    python bench/bench_post.py [--sizes 500,10000,100000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO), str(REPO / "tests")]

CHILD = r"""
import json, sys, time
t0 = time.perf_counter()
from soviet_art_bot.handler import lambda_handler
class Ctx:
    def get_remaining_time_in_millis(self): return 60000
def post(slot):
    return lambda_handler({"detail-type": "Scheduled Event", "source": "aws.events", "time": slot}, Ctx())
first = post(sys.argv[1]); t1 = time.perf_counter()
second = post(sys.argv[2]); t2 = time.perf_counter()
assert first["status"] == second["status"] == "posted", (first, second)
# VmHWM is this process's own peak; ru_maxrss would include the forking parent's.
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"cold": t1 - t0, "warm": t2 - t1, "peak_mb": int(hwm.split()[1]) / 1024}))
"""


def fill(store, size: int) -> float:
    """A catalog of ``size`` paintings sharing 50 generated images; returns seconds."""
    from soviet_art_bot.catalog import Painting, write_catalog
    from soviet_art_bot.sample import make_image

    start = time.perf_counter()
    images = []
    for i in range(50):
        data = make_image(400 + i, 300 + i, seed=str(i))
        key = f"images/shared-{i:02d}.jpg"
        store.write(key, data, content_type="image/jpeg")
        images.append((key, len(data), hashlib.sha256(data).hexdigest(), 400 + i, 300 + i))
    paintings = []
    for n in range(size):
        key, nbytes, sha, w, h = images[n % 50]
        pid = f"{n:024x}"
        paintings.append(Painting(
            id=pid, image=key, title=f"Building of the Dnieper Hydroelectric Station, study {n}",
            artist="Konstantin Yuon", year=str(1920 + n % 40),
            source_url=f"https://www.wikiart.org/en/konstantin-yuon/study-{n}",
            width=w, height=h, bytes=nbytes, sha256=sha,
        ))  # fmt: skip
    write_catalog(store, paintings, source="bench")
    return time.perf_counter() - start


def main() -> int:
    import boto3
    from fake_x import FakeX
    from moto.server import ThreadedMotoServer

    from soviet_art_bot.store import S3Store

    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,10000,100000")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per size")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    aws = {"AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench",
           "AWS_DEFAULT_REGION": "us-east-1"}  # fmt: skip
    os.environ.update(aws)
    moto = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    moto.start()
    host, port = moto.get_host_and_port()
    endpoint = f"http://{host}:{port}"
    os.environ["AWS_ENDPOINT_URL"] = endpoint
    s3 = boto3.client("s3")
    results = {}
    with tempfile.TemporaryDirectory() as tmp, FakeX(Path(tmp) / "x") as fake_x:
        for size in sizes:
            bucket = f"bench-{uuid.uuid4().hex[:10]}"
            s3.create_bucket(Bucket=bucket)
            seconds = fill(S3Store(bucket, "collection", client=s3), size)
            env = {**os.environ, **aws, **fake_x.env, "AWS_ENDPOINT_URL": endpoint,
                   "ART_BOT_STORE": f"s3://{bucket}/collection", "ART_BOT_PLATFORMS": "x"}  # fmt: skip
            runs = []
            for r in range(args.repeat):
                slots = [f"2026-0{1 + r}-01T00:00:00Z", f"2026-0{1 + r}-01T06:00:00Z"]
                out = subprocess.run([sys.executable, "-c", CHILD, *slots], env=env, cwd=REPO,
                                     capture_output=True, text=True)  # fmt: skip
                if out.returncode != 0:
                    print(out.stderr[-3000:], file=sys.stderr)
                    return 1
                runs.append(json.loads(out.stdout.strip().splitlines()[-1]))
            results[size] = {
                "cold": statistics.median(r["cold"] for r in runs),
                "warm": statistics.median(r["warm"] for r in runs),
                "peak_mb": max(r["peak_mb"] for r in runs),
            }
            print(f"{size:>7} paintings (filled in {seconds:.1f} s): cold {results[size]['cold'] * 1000:7.1f} ms, "
                  f"warm {results[size]['warm'] * 1000:6.1f} ms, peak {results[size]['peak_mb']:.1f} MB",
                  flush=True)  # fmt: skip
        # The same largest catalog as if uploaded by hand: no posting index yet,
        # so this one post validates and indexes the whole catalog itself.
        store = S3Store(bucket, "collection", client=s3)
        for info in list(store.list("state/catalog/")):
            store.delete(info.key)
        out = subprocess.run([sys.executable, "-c", CHILD, "2026-07-01T00:00:00Z",
                              "2026-07-01T06:00:00Z"], env=env, cwd=REPO,
                             capture_output=True, text=True)  # fmt: skip
        if out.returncode != 0:
            print(out.stderr[-3000:], file=sys.stderr)
            return 1
        first = json.loads(out.stdout.strip().splitlines()[-1])
        print(f"{sizes[-1]:>7} paintings, first post after a hand upload (no index yet): "
              f"cold {first['cold'] * 1000:7.1f} ms, peak {first['peak_mb']:.1f} MB "
              "(run 'soviet-art-bot check' after an upload to index it beforehand)")  # fmt: skip
        print(f"X posts made: {len(fake_x.posts)} (2 per process)")
    moto.stop()
    if len(sizes) > 1:
        small, large = results[sizes[0]], results[sizes[-1]]
        print(f"ratio {sizes[-1]}/{sizes[0]}: cold {large['cold'] / small['cold']:.2f}, "
              f"warm {large['warm'] / small['warm']:.2f} (target <= 2.0); "
              f"peak at {sizes[-1]}: {large['peak_mb']:.1f} MB (target <= 128)")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
