"""Benchmark: peak resident memory of a scrape, whatever the images.

Two scrapes, each in a fresh process whose own high-water mark (``VmHWM``)
is the figure, against the fake WikiArt (``tests/fake_wikiart.py``, run in
this process so its memory is not counted):

* the 512 real listing entries (``../shared/fixtures/wikiart/socialist-realism``
  beside the repository, or ``--fixtures``), images of each entry's stated
  size;
* eight 7000 x 7000 PNGs (a few hundred KB each on the wire, 49 million
  pixels each once decoded), downloaded by the scrape's eight workers at once.

Target: each peak <= 1024 MB (issue: at most 1 GB). The figure is absolute,
but it does not depend on the machine's speed.

Usage: ``.venv/bin/python bench/bench_memory.py [--fixtures DIR] [--big 8] [--side 7000]``
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures" / "wikiart" / "socialist-realism"
TARGET_MB = 1024

CHILD = r"""
import io, json, sys
from soviet_art_bot.ingest import scrape
from soviet_art_bot.log import Logger
from soviet_art_bot.store import DirStore
summary = scrape(DirStore(sys.argv[2]), origin=sys.argv[1], logger=Logger(io.StringIO()),
                 progress=False)
hwm = next(l for l in open("/proc/self/status") if l.startswith("VmHWM:"))
print(json.dumps({"stored": summary.stored, "listed": summary.listed,
                  "failed": len(summary.failed), "skipped": len(summary.skipped),
                  "reencoded": summary.reencoded, "peak_mb": int(hwm.split()[1]) / 1024}))
"""


def big_png(side: int, seed: int) -> bytes:
    """A 7000 x 7000-style painting: broad flat areas, so small on the wire."""
    import io

    from PIL import Image, ImageDraw

    img = Image.new("RGBA", (side, side), (200, 40 + seed * 10, 40, 255))
    draw = ImageDraw.Draw(img)
    for i in range(8):
        box = (i * side // 20, i * side // 24, side - i * side // 18, side - i * side // 22)
        draw.rectangle(box, fill=(30 * i % 255, 200, 20 * seed % 255, 128 + 10 * i))
    out = io.BytesIO()
    img.save(out, "PNG", compress_level=6)
    return out.getvalue()


def run_scrape(origin: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="bench-memory-") as tmp:
        done = subprocess.run(
            [sys.executable, "-c", CHILD, origin, str(Path(tmp) / "store")],
            capture_output=True, text=True, cwd=REPO, check=False,
        )  # fmt: skip
    if done.returncode != 0:
        raise SystemExit(f"the scrape failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    from fake_wikiart import FakeImage, FakeWikiArt

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--big", type=int, default=8, help="how many huge PNGs")
    parser.add_argument("--side", type=int, default=7000)
    args = parser.parse_args(argv)
    results = []

    if (args.fixtures / "page-1.json").is_file():
        with FakeWikiArt.from_fixtures(args.fixtures, latency=0.05) as fake:
            fake.warm()
            got = run_scrape(fake.origin)
        results.append((f"{got['listed']} real listing entries", got))
    else:
        print(f"(no fixtures in {args.fixtures}: real-entries case skipped; pass --fixtures)")

    t = time.perf_counter()
    with FakeWikiArt(latency=0.05) as fake:
        for i in range(args.big):
            fake.add_painting(
                f"big{i}", f"Huge {i}", width=args.side, height=args.side, fmt="PNG",
                image=FakeImage(body=big_png(args.side, i), content_type="image/png"),
            )  # fmt: skip
        sizes = sorted(len(img.data()) for img in fake.images.values())
        made = time.perf_counter() - t
        got = run_scrape(fake.origin)
    label = f"{args.big} PNGs of {args.side} x {args.side}"
    results.append((label, got))
    print(f"huge PNGs: {sizes[0] // 1000}-{sizes[-1] // 1000} KB each (made in {made:.1f} s)")

    print()
    ok = True
    for label, got in results:
        met = got["peak_mb"] <= TARGET_MB and got["failed"] == 0 and got["stored"] == got["listed"]
        ok &= met
        print(
            f"{label:32s} peak RSS {got['peak_mb']:7.1f} MB  (target <= {TARGET_MB})  "
            f"stored {got['stored']}/{got['listed']}, re-encoded {got['reencoded']}"
            f"{'' if met else '  MISSED'}"
        )
    print(f"\ntarget {'met' if ok else 'MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
