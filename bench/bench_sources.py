"""Benchmark: a cold ingest from each museum source against its fake, vs its rate ceiling.

Each source's published limit is the floor of a cold ingest: AIC allows 60
requests a minute (listing and images together), the Met 80 a second
(search, objects and images together). The fakes (``tests/fake_aic.py``,
``tests/fake_met.py``, on 127.0.0.1, in this process) enforce those limits
at arrival and count any request over them.

Figures, per source (ratios within one run, so they compare across machines):

* requests made, and the floor: the least time those requests can take
  within the limit, ``(ceil(requests / limit) - 1) * period``;
* wall time / floor (the pacing's overhead; close to 1 is good, and never
  below 1 since the client does not break the limit);
* requests the fake answered 429 (must be 0).

Usage: ``.venv/bin/python bench/bench_sources.py [--aic N] [--met N]``
(defaults: 90 AIC works = 91 requests, over one minute's 60; 300 Met objects
= 601 requests).
"""

from __future__ import annotations

import argparse
import io
import math
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "tests"))

from fake_aic import FakeAic  # noqa: E402
from fake_met import FakeMet  # noqa: E402

from soviet_art_bot.ingest import scrape  # noqa: E402
from soviet_art_bot.log import Logger  # noqa: E402
from soviet_art_bot.sources.aic import AicClient, AicSource  # noqa: E402
from soviet_art_bot.sources.met import MetClient, MetSource  # noqa: E402
from soviet_art_bot.store import DirStore  # noqa: E402


def _report(name: str, requests: int, limit: int, period: float, wall: float, over: int) -> None:
    floor = (math.ceil(requests / limit) - 1) * period
    ratio = f"{wall / floor:.2f}" if floor else "n/a (within one window)"
    print(
        f"{name}: {requests} requests, limit {limit}/{period:g} s, floor {floor:.1f} s, "
        f"wall {wall:.1f} s, wall/floor {ratio}, 429s {over}"
    )


def bench_aic(count: int) -> None:
    with FakeAic() as fake, tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            fake.add(i + 1, f"Work {i}", f"Painter {i % 7}")
        started = time.monotonic()
        with AicClient(fake.origin) as client:
            summary = scrape(
                DirStore(tmp), source=AicSource(client), logger=Logger(io.StringIO()),
                progress=False,
            )  # fmt: skip
        wall = time.monotonic() - started
        assert summary.ok and summary.stored == count, summary.lines()
        total = fake.requests["search"] + fake.requests["image"]
        _report("aic", total, 60, 60.0, wall, fake.violations)


def bench_met(count: int) -> None:
    with FakeMet() as fake, tempfile.TemporaryDirectory() as tmp:
        for i in range(count):
            fake.add(i + 1, f"Work {i}", f"Painter {i % 7}")
        started = time.monotonic()
        with MetClient(fake.origin) as client:
            summary = scrape(
                DirStore(tmp), source=MetSource(client), logger=Logger(io.StringIO()),
                progress=False,
            )  # fmt: skip
        wall = time.monotonic() - started
        assert summary.ok and summary.stored == count, summary.lines()
        total = sum(fake.requests.values())
        _report("met", total, 80, 1.0, wall, fake.violations)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aic", type=int, default=90)
    parser.add_argument("--met", type=int, default=300)
    args = parser.parse_args(argv)
    if args.met:
        bench_met(args.met)
    if args.aic:
        bench_aic(args.aic)
    return 0


if __name__ == "__main__":
    sys.exit(main())
