"""Deployment zip size, for `x` only and for every platform.

Builds each zip exactly as ``lambda_deploy.sh`` does (``--build-only``:
Linux wheels for python3.13 from the pinned requirement files, plus the
package code; nothing in AWS is touched) and prints its size, zipped and
unzipped. Needs the package registry for the first build; later builds
reuse build/.

    python bench/bench_zip.py
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def build(platforms: str) -> Path:
    build_dir = REPO / "build" / f"bench-{platforms.replace(',', '-')}"
    env = {
        **os.environ,
        "PYTHON": sys.executable,
        "ART_BOT_PLATFORMS": platforms,
        "ART_BOT_STORE": "s3://bench-bucket/collection",
        "ART_BOT_SSM_PATH": "/soviet-art-bot",
        "AWS_REGION": os.environ.get("AWS_REGION", "us-east-1"),
        "MASTODON_API_BASE_URL": "https://mastodon.example",
        "BLUESKY_HANDLE": "bench.bsky.social",
    }
    subprocess.run([str(REPO / "lambda_deploy.sh"), "--build-only", "--build-dir", str(build_dir)],
                   env=env, cwd=REPO, check=True, stdout=subprocess.DEVNULL)  # fmt: skip
    return build_dir / "lambda.zip"


def main() -> int:
    for platforms in ("x", "x,mastodon,bluesky"):
        path = build(platforms)
        with zipfile.ZipFile(path) as zf:
            unzipped = sum(info.file_size for info in zf.infolist())
            ours = sum(
                i.compress_size for i in zf.infolist() if i.filename.startswith("soviet_art_bot/")
            )
            files = len(zf.infolist())
        size = path.stat().st_size
        print(f"{platforms:<20} zip {size / 1e6:5.1f} MB ({size} bytes), unzipped "
              f"{unzipped / 1e6:5.1f} MB, {files} files, of which soviet_art_bot {ours / 1e3:.0f} KB")  # fmt: skip
    print("Lambda limits: 50 MB zipped (direct upload), 250 MB unzipped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
