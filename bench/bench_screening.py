"""Benchmark: screening the 512-painting collection with the bundled open_nsfw model.

The store is built as the ingest would leave it: every entry of the real
listing (``../shared/fixtures/wikiart/socialist-realism`` beside the
repository, or ``--fixtures``) gets the fake WikiArt's generated picture of
its stated size (tests/fake_wikiart.py), normalised by the ingest's own
``images.normalise``. Then ``soviet-art-bot screen`` runs in a child process
(one model instance, one image at a time) and the figures are:

* images per second (screened / screening time; the model's load apart),
* the child's peak resident memory (``ru_maxrss``), which includes Python,
  onnxruntime and the model.

Needs the ``screening`` extra (``make test-screening`` builds .venv-screening):

    .venv-screening/bin/python bench/bench_screening.py [--fixtures DIR] [--threads 1]
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

DEFAULT_FIXTURES = REPO.parent / "shared" / "fixtures" / "wikiart" / "socialist-realism"

CHILD = """
import json, sys, time
from soviet_art_bot.screening import OpenNsfw, screen_store
from soviet_art_bot.store import DirStore
t0 = time.perf_counter()
clf = OpenNsfw(threads=int(sys.argv[2]))
t1 = time.perf_counter()
summary = screen_store(DirStore(sys.argv[1]), clf, clock=time.perf_counter)
print(json.dumps({"load_s": t1 - t0, "screened": summary.screened,
                  "labelled": summary.labelled, "screen_s": summary.elapsed,
                  "failed": len(summary.failed)}))
"""


def build_store(fixtures: Path, root: Path) -> int:
    from fake_wikiart import make_picture

    from soviet_art_bot.catalog import Painting, write_catalog
    from soviet_art_bot.images import normalise
    from soviet_art_bot.store import DirStore

    store = DirStore(str(root))
    paintings = []
    for page in sorted(fixtures.glob("page-*.json"), key=lambda p: int(p.stem.split("-")[1])):
        for raw in json.loads(page.read_text())["Paintings"]:
            fmt = "PNG" if raw["image"].lower().endswith(".png") else "JPEG"
            image = normalise(make_picture(raw["width"], raw["height"], seed=raw["id"], fmt=fmt))
            key = f"images/{raw['id']}.{image.extension}"
            store.write(key, image.data)
            paintings.append(Painting(id=raw["id"], image=key, title=raw["title"] or "?",
                                      artist=raw.get("artistName") or "?", width=image.width,
                                      height=image.height, bytes=len(image.data),
                                      sha256=image.sha256))  # fmt: skip
    write_catalog(store, paintings, source="bench:socialist-realism")
    return len(paintings)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--fixtures", type=Path, default=DEFAULT_FIXTURES)
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime intra-op threads")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-screening-") as tmp:
        count = build_store(args.fixtures, Path(tmp))
        if not count:
            sys.exit(f"no listing pages in {args.fixtures}; pass --fixtures DIR")
        before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        started = time.perf_counter()
        out = subprocess.run([sys.executable, "-c", CHILD, tmp, str(args.threads)],
                             capture_output=True, text=True, cwd=REPO)  # fmt: skip
        if out.returncode:
            sys.exit(f"screening failed:\n{out.stderr[-2000:]}")
        wall = time.perf_counter() - started
        peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        figures = json.loads(out.stdout.strip().splitlines()[-1])
    assert peak_kb >= before
    rate = figures["screened"] / figures["screen_s"]
    print(f"paintings {count}, screened {figures['screened']}, labelled {figures['labelled']}, "
          f"failed {figures['failed']}")  # fmt: skip
    print(f"model load {figures['load_s']:.2f} s; screening {figures['screen_s']:.1f} s = "
          f"{rate:.1f} images/s ({args.threads} onnxruntime thread(s)); wall {wall:.1f} s")  # fmt: skip
    print(f"peak RSS of the screening process: {peak_kb / 1024:.0f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
