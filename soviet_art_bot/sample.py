"""A small sample collection for the demo and the tests.

The metadata is of real paintings (from WikiArt's socialist-realism listing);
the images are generated here with Pillow, so no copyrighted image is ever
committed or downloaded. Pillow comes with the ``ingest`` and ``dev`` extras;
the Lambda never imports this module.
"""

from __future__ import annotations

import hashlib
import io
import random
from collections.abc import Iterator

from .catalog import Painting, write_catalog
from .store import Store

REAL_PAINTINGS = [
    ("577271cfedc2cb3880c2de61", "Winter in Kursk", "Aleksandr Deyneka", "1916", "aleksandr-deyneka/winter-in-kursk-1916", 634, 750),
    ("57727792edc2cb3880d4f131", "The Symphony of Action", "Konstantin Yuon", "1922", "konstantin-yuon/the-symphony-of-action-1922", 776, 650),
    ("57727791edc2cb3880d4f071", "The Red Army parade", "Konstantin Yuon", "1923", "konstantin-yuon/the-red-army-parade-1923", 900, 746),
    ("577271cfedc2cb3880c2dead", "Donbass", "Aleksandr Deyneka", "1924", "aleksandr-deyneka/donbass-1924", 950, 717),
    ("58dd3ed0edc2c996c0987914", "Over the Big Road", "Karpo Trokhymenko", "1925", "karpo-trokhymenko/over-the-big-road-1925", 2439, 2194),
    ("57727784edc2cb3880d4e4c9", "In those days. At the House of Unions in the days of Lenin's funeral", "Konstantin Yuon", "1926", "konstantin-yuon/in-those-days-at-the-house-of-unions-in-the-days-of-lenin-s-funeral-1926", 1090, 704),
    ("58d0de41edc2c94f904bac11", "For the Power of the Soviets!", "Victor Palmov", "1927", "victor-palmov/for-the-power-of-the-soviets-1927", 968, 1200),
    ("57727a66edc2cb3880de6c11", "Workers", "Martiros Sarian", "1927", "martiros-sarian/workers-1927", 700, 881),
    ("577280c2edc2cb3880f26205", "In the Mine", "Janos Mattis-Teutsch", "1928", "janos-mattis-teutsch/in-the-mine-1928", 644, 850),
    ("577271cfedc2cb3880c2de9d", "Yard. Board", "Aleksandr Deyneka", "1920-1930", "aleksandr-deyneka/yard-board", 1000, 1500),
    ("5772818fedc2cb3880f4ec95", "Farmer with pumpkins", "Ilya Mashkov", "1930", "ilya-mashkov/farmer-with-pumpkins-1930", 635, 764),
    ("57727787edc2cb3880d4e941", "Returning from the Work", "Konstantin Yuon", "1930", "konstantin-yuon/returning-from-the-work-1930", 2986, 2182),
]  # fmt: skip


def make_image(width: int, height: int, *, seed: str = "", fmt: str = "JPEG") -> bytes:
    """A small abstract picture (stripes and blocks) of the given size."""
    from PIL import Image, ImageDraw

    rng = random.Random(seed)
    img = Image.new("RGB", (width, height), tuple(rng.randrange(120, 230) for _ in range(3)))
    draw = ImageDraw.Draw(img)
    for _ in range(8):
        x0, y0 = rng.randrange(width), rng.randrange(height)
        x1, y1 = (
            min(width, x0 + rng.randrange(width // 3 + 1)),
            min(height, y0 + rng.randrange(height // 3 + 1)),
        )
        draw.rectangle(
            (x0, y0, x1, y1),
            fill=(rng.randrange(150, 220), rng.randrange(10, 60), rng.randrange(10, 50)),
        )
    out = io.BytesIO()
    img.save(out, fmt, quality=85)
    return out.getvalue()


def sample_paintings(
    count: int | None = None, *, scale: float = 0.5
) -> list[tuple[Painting, bytes]]:
    """``count`` paintings (default: the real ones) with generated images."""
    return list(iter_sample(count, scale=scale))


def iter_sample(
    count: int | None = None, *, scale: float = 0.5
) -> Iterator[tuple[Painting, bytes]]:
    """One painting at a time, so a large sample never sits in memory.

    Past the real list, entries repeat its metadata with a numbered title and
    a derived id, which is what the larger test collections need.
    """
    count = len(REAL_PAINTINGS) if count is None else count
    for i in range(count):
        pid, title, artist, year, slug, width, height = REAL_PAINTINGS[i % len(REAL_PAINTINGS)]
        if i >= len(REAL_PAINTINGS):
            pid = hashlib.sha256(f"{pid}-{i}".encode()).hexdigest()[:24]
            title = f"{title} ({i // len(REAL_PAINTINGS) + 1})"
        w, h = max(1, int(width * scale)), max(1, int(height * scale))
        data = make_image(w, h, seed=pid)
        painting = Painting(
            id=pid,
            image=f"images/{pid}.jpg",
            title=title,
            artist=artist,
            year=year,
            source_url=f"https://www.wikiart.org/en/{slug}",
            width=w,
            height=h,
            bytes=len(data),
            sha256=hashlib.sha256(data).hexdigest(),
        )
        yield painting, data


def write_sample(store: Store, count: int | None = None, *, scale: float = 0.5) -> list[Painting]:
    """Fill ``store`` with a sample collection; images first, catalog last."""
    paintings = []
    for painting, data in iter_sample(count, scale=scale):
        store.write(painting.image, data, content_type="image/jpeg")
        paintings.append(painting)
    write_catalog(store, paintings, source="sample:socialist-realism")
    return paintings
