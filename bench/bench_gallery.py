"""The gallery at 10,000 posts: full build, rebuild, and the refresh after a post.

A directory store gets 10,000 slot records (one post every 6 hours, about
seven years: 84 months) in the bot's own format, made through
``soviet_art_bot.slots.SlotRecord``, over a collection of 500 paintings with
thumbnails and palettes. Measured, each in this process:

* the first full build (every record read, every page rendered),
* a second full build with nothing changed (records reused by etag),
* the refresh the Lambda runs after one more post (its month, the index and
  the palette page),

plus the pages' sizes. The refresh's cost is compared with the full build's
(a ratio), so the figure carries across machines.

    python bench/bench_gallery.py [--posts 10000] [--paintings 500]
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(REPO)]

from soviet_art_bot.catalog import Painting  # noqa: E402
from soviet_art_bot.gallery.palettes import (  # noqa: E402
    THUMBS_PREFIX,
    PaletteEntry,
    thumb_name,
    write_palettes,
)
from soviet_art_bot.gallery.site import build, refresh  # noqa: E402
from soviet_art_bot.ledger import slot_key  # noqa: E402
from soviet_art_bot.log import Logger  # noqa: E402
from soviet_art_bot.slots import PlatformPost, SlotRecord  # noqa: E402
from soviet_art_bot.store import DirStore  # noqa: E402

START = datetime(2020, 1, 1, tzinfo=UTC)
THUMB = (  # a tiny valid JPEG is enough: the gallery copies, never decodes
    b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
)


def fill(store: DirStore, posts: int, paintings: int) -> datetime:
    entries = {}
    works = []
    for i in range(paintings):
        pid = f"p{i:05d}"
        works.append(
            Painting(
                id=pid,
                image=f"images/{pid}.jpg",
                title=f"Painting {i}",
                artist=f"Artist {i % 37}",
                year=str(1917 + i % 60),
            )
        )
        key = THUMBS_PREFIX + thumb_name(pid)
        store.write(key, THUMB)
        colours = tuple(
            f"#{(i * 37 + k * 71) % 256:02x}{(i * 11 + k * 29) % 256:02x}"
            f"{(i * 5 + k * 131) % 256:02x}"
            for k in range(5)
        )
        entries[pid] = PaletteEntry(f"src{i}", key, 480, 360, colours, (0.4, 0.3, 0.15, 0.1, 0.05))
    write_palettes(store, entries)
    slot = START
    for n in range(posts):
        slot = START + timedelta(hours=6 * n)
        record = SlotRecord.new(slot, works[n % paintings])
        for name in ("x", "mastodon", "bluesky"):
            record.platforms[name] = PlatformPost.posted(
                works[n % paintings].id, f"{n}{name}", f"https://{name}.example/{n}", attempt=1
            )
        store.write(slot_key(slot), record.dumps())
    return slot + timedelta(hours=6)


def timed(fn):
    start = time.perf_counter()
    result = fn()
    return time.perf_counter() - start, result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--posts", type=int, default=10_000)
    parser.add_argument("--paintings", type=int, default=500)
    args = parser.parse_args()
    quiet = Logger(io.StringIO())
    with tempfile.TemporaryDirectory(prefix="bench-gallery-") as tmp:
        store = DirStore(Path(tmp) / "store")
        next_slot = fill(store, args.posts, args.paintings)
        first, summary = timed(lambda: build(store, logger=quiet))
        second, again = timed(lambda: build(store, logger=quiet))
        record = SlotRecord.new(
            next_slot,
            Painting(id="p00000", image="images/p00000.jpg", title="Painting 0", artist="Artist 0"),
        )
        record.platforms["x"] = PlatformPost.posted(
            "p00000", "new", "https://x.example/new", attempt=1
        )
        store.write(slot_key(next_slot), record.dumps())
        one, after = timed(lambda: refresh(store, next_slot, logger=quiet))
        site = store.root / "gallery"
        sizes = {p.name: p.stat().st_size for p in site.glob("*.html")}
        months = [s for n, s in sizes.items() if n[0].isdigit()]
    print(f"posts: {summary.posts} in {summary.months} month pages, {args.paintings} paintings")
    print(
        f"full build:         {first:6.2f} s  ({summary.records_read} records read, "
        f"{len(summary.pages)} pages)"
    )
    print(f"rebuild, unchanged: {second:6.2f} s  ({again.records_read} records read)")
    print(
        f"refresh after post: {one:6.2f} s  ({after.records_read} record read, "
        f"pages {', '.join(after.pages)})"
    )
    print(f"refresh / full build: {one / first:.3f}")
    print(
        f"index.html {sizes['index.html'] / 1000:.0f} kB, palettes.html "
        f"{sizes['palettes.html'] / 1000:.0f} kB, month pages {min(months) / 1000:.0f}-"
        f"{max(months) / 1000:.0f} kB"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
