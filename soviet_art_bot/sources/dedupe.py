"""The same work reached through two sources is kept once.

Two entries are the same work when (1) their normalised artist and title are
equal and (2) their images' perceptual hashes are within
:data:`MAX_DISTANCE` bits. Both are needed: a name match alone joins a
painting with its study or a replica of another size and colour, an image
match alone joins two different views of one series.

**The hash** is a 64-bit difference hash (dHash: the image in grey, shrunk to
9 x 8, one bit per pair of neighbours), computed with Pillow, which the
ingest already needs. ``imagehash`` computes the same with numpy, scipy and
PyWavelets behind it, three heavy packages for one 10-line function; the
dHash survives re-encoding, resizing and the small crops two sources' scans
differ by, which is what matters here. Only entries whose names already
match are hashed, read back from the store, so a scrape without candidate
duplicates hashes nothing.

**Which metadata wins**: a museum's own record (``aic``, ``met``) over
WikiArt's. The museum holds the painting and states its licence and the
credit it asks for; WikiArt is an aggregator whose entries state neither. On
a tie, the entry already in the catalog stays (a re-scrape does not make a
painting flip sources). The winner notes the ids it stands for in
``same_as``.
"""

from __future__ import annotations

import io
import re
import unicodedata
from dataclasses import dataclass, replace

from ..catalog import Painting
from ..errors import ArtBotError
from ..store import Store

MAX_DISTANCE = 10  # of 64 bits: re-encodes and rescans differ by a few bits
_WORD = re.compile(r"[^\W_]+")
_MUSEUMS = ("aic", "met")


def name_key(text: str) -> str:
    """Case, accents, punctuation and word order removed: "Deyneka, Aleksandr" =
    "Aleksandr Deyneka"."""
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return " ".join(sorted(_WORD.findall(folded)))


def title_key(text: str) -> str:
    folded = unicodedata.normalize("NFKD", text)
    folded = "".join(c for c in folded if not unicodedata.combining(c)).casefold()
    return " ".join(_WORD.findall(folded))


def dhash(data: bytes) -> int:
    """The 64-bit difference hash of an image."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        img.draft("L", (64, 64))  # JPEG: decode at a fraction of the size
        small = img.convert("L").resize((9, 8), Image.Resampling.LANCZOS)
        px = small.tobytes()  # mode L: one byte a pixel, row by row
    bits = 0
    for row in range(8):
        for col in range(8):
            bits = (bits << 1) | int(px[row * 9 + col] > px[row * 9 + col + 1])
    return bits


def rank(painting: Painting) -> int:
    source = str(painting.extra.get("source") or "")
    return 0 if source in _MUSEUMS else 1


@dataclass(frozen=True)
class Duplicate:
    kept: str
    dropped: str
    distance: int

    def line(self) -> str:
        return f"{self.dropped} is {self.kept} (names match, images {self.distance} bits apart)"


def merge_same_works(
    store: Store, new: list[Painting], others: list[Painting]
) -> tuple[list[Painting], list[Duplicate]]:
    """``new + others`` with each work reached through two sources kept once."""
    by_name: dict[tuple[str, str], list[Painting]] = {}
    for p in others:
        by_name.setdefault((name_key(p.artist), title_key(p.title)), []).append(p)
    hashes: dict[str, int | None] = {}

    def hash_of(p: Painting) -> int | None:
        if p.id not in hashes:
            try:
                hashes[p.id] = dhash(store.read(p.image))
            except (ArtBotError, OSError, ValueError):
                hashes[p.id] = None  # unreadable: never called a duplicate
        return hashes[p.id]

    dropped: set[str] = set()
    same_as: dict[str, list[str]] = {}
    found: list[Duplicate] = []
    for p in new:
        for c in by_name.get((name_key(p.artist), title_key(p.title)), []):
            if c.id in dropped or c.extra.get("source") == p.extra.get("source"):
                continue
            a, b = hash_of(p), hash_of(c)
            if a is None or b is None:
                continue
            distance = (a ^ b).bit_count()
            if distance > MAX_DISTANCE:
                continue
            kept, lost = (p, c) if rank(p) < rank(c) else (c, p)
            dropped.add(lost.id)
            same_as.setdefault(kept.id, []).append(lost.id)
            found.append(Duplicate(kept.id, lost.id, distance))
            if lost is p:
                break
    merged = []
    for p in new + others:
        if p.id in dropped:
            continue
        if p.id in same_as:
            p = replace(p, extra={**p.extra, "same_as": sorted(same_as[p.id])})
        merged.append(p)
    return merged, found
