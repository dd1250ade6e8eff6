"""`make bench`: every benchmark in turn, each printing its own figures.

Not part of the test run: figures are ratios and counts measured within one
run, reported in docs/benchmarks.md.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
BENCHES = [
    "bench_ingest.py",
    "bench_memory.py",
    "bench_post.py",
    "bench_cold_start.py",
    "bench_zip.py",
    "bench_gallery.py",
    "bench_captions.py",
    "bench_history.py",
    "bench_sources.py",
]


def main() -> int:
    status = 0
    for name in BENCHES:
        print(f"\n=== {name}", flush=True)
        status |= subprocess.run([sys.executable, str(HERE / name)]).returncode
    return status


if __name__ == "__main__":
    sys.exit(main())
