"""``soviet-art-bot thumbs``: a thumbnail and a colour palette per painting.

The scrape runs this at its end; a hand-written catalog gets the same with
the command. For every catalogued painting whose image is new or changed it
writes ``thumbs/<name>.jpg`` (longest side at most 480 px) and records a
palette of 5 colours in ``thumbs/palettes/`` (see :mod:`.palettes`).
The Lambda never runs this: the gallery it renders only reads the results.

Palettes come from Pillow's own median-cut quantiser
(``Image.quantize(16, method=MEDIANCUT)``) on a 128 px copy, near-duplicates
merged down to 5: Pillow is already
the ingest's image library, median cut is deterministic (the same image
always gives the same palette, so re-runs and tests are stable), and it
needs no new package. Colours are ordered by the share of pixels they stand
for, and that share is kept too.

Images are decoded one at a time, JPEGs straight at reduced size (DCT
scaling), and the pixel cap of :mod:`soviet_art_bot.images` refuses bombs
before any pixel is decoded, so memory stays at one small image.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from ..catalog import Painting, load_index
from ..errors import ArtBotError, NotFound, ObjectTooLarge
from ..images import MAX_PIXELS, sniff
from ..log import Logger
from ..store import Store
from .palettes import (
    COLOURS,
    THUMBS_PREFIX,
    PaletteEntry,
    read_palettes,
    shard_of,
    thumb_name,
    write_palettes,
)

THUMB_SIDE = 480
PALETTE_SIDE = 128
THUMB_QUALITY = 82
MAX_IMAGE_BYTES = 20_000_000  # stored images are under 2 MB; a hand-written store may differ
CANDIDATES = 16  # colours of the first quantisation, before near-duplicates merge
DISTINCT = 40.0  # RGB distance under which two colours count as one
SAVE_EVERY = 50  # paintings: an interrupted run keeps most of its work


class ThumbError(ArtBotError):
    """An image the thumbs step cannot read; the painting is skipped, not fatal."""


@dataclass
class ThumbsSummary:
    paintings: int = 0
    made: int = 0
    unchanged: int = 0
    skipped: list[tuple[str, str]] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [
            f"thumbnails and palettes: {self.made} made, {self.unchanged} unchanged, "
            f"{len(self.skipped)} skipped (of {self.paintings} paintings)"
        ]
        out += [f"  - {pid}: {reason}" for pid, reason in self.skipped[:25]]
        if len(self.skipped) > 25:
            out.append(f"  ... and {len(self.skipped) - 25} more")
        return out


def make_thumbnail(data: bytes) -> tuple[bytes, int, int, list[str], list[float]]:
    """JPEG thumbnail bytes, its size, and the palette with each colour's share."""
    from PIL import Image, ImageOps

    fmt = sniff(data)
    if fmt is None:
        raise ThumbError("not a JPEG, PNG, GIF or WebP image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # our cap decides
            img = Image.open(io.BytesIO(data), formats=[fmt])
        if img.width * img.height > MAX_PIXELS:
            raise ThumbError(f"{img.width}x{img.height} pixels is over the {MAX_PIXELS} cap")
        if fmt == "JPEG":
            img.draft("RGB", (THUMB_SIDE, THUMB_SIDE))
        img.load()
        img = ImageOps.exif_transpose(img)
        if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
            rgba = img.convert("RGBA")
            img = Image.new("RGB", rgba.size, (255, 255, 255))
            img.paste(rgba, mask=rgba.getchannel("A"))
        elif img.mode != "RGB":
            img = img.convert("RGB")
        img.thumbnail((THUMB_SIDE, THUMB_SIDE), Image.Resampling.LANCZOS)
    except ThumbError:
        raise
    except Exception as exc:  # Pillow raises many kinds for broken files
        raise ThumbError(f"unreadable {fmt} ({type(exc).__name__}: {exc})") from None
    out = io.BytesIO()
    img.save(out, "JPEG", quality=THUMB_QUALITY, optimize=True)
    palette, weights = palette_of(img)
    return out.getvalue(), img.width, img.height, palette, weights


def palette_of(img: object) -> tuple[list[str], list[float]]:
    """Up to 5 distinct colours of an RGB image, most common first, with their shares.

    The image is quantised to 16 colours first, then the most common are kept
    unless they are within :data:`DISTINCT` of one already kept (JPEG noise on
    a flat background would otherwise fill the palette with one colour in five
    shades); a dropped colour's pixels count for the nearest kept one.
    """
    from PIL import Image

    assert isinstance(img, Image.Image)
    small = img.copy()
    small.thumbnail((PALETTE_SIDE, PALETTE_SIDE), Image.Resampling.NEAREST)  # no blends
    quantised = small.quantize(colors=CANDIDATES, method=Image.Quantize.MEDIANCUT)
    flat = quantised.getpalette() or []
    counts = sorted(quantised.getcolors(CANDIDATES) or [], key=lambda c: (-c[0], c[1]))
    total = sum(n for n, _ in counts) or 1
    candidates = [(n, tuple(flat[i * 3 : i * 3 + 3])) for n, i in counts]
    kept: list[tuple[int, int, int]] = []
    for _, rgb in candidates:
        if len(kept) < COLOURS and all(_distance(rgb, k) > DISTINCT for k in kept):
            kept.append(rgb)  # type: ignore[arg-type]
    shares = [0] * len(kept)
    for n, rgb in candidates:
        nearest = min(range(len(kept)), key=lambda i: _distance(rgb, kept[i]))
        shares[nearest] += n
    order = sorted(range(len(kept)), key=lambda i: -shares[i])
    colours = ["#{:02x}{:02x}{:02x}".format(*kept[i]) for i in order]
    return colours, [round(shares[i] / total, 4) for i in order]


def _distance(a: tuple[int, ...], b: tuple[int, ...]) -> float:
    return float(sum((x - y) ** 2 for x, y in zip(a, b, strict=True)) ** 0.5)


def _source(store: Store, painting: Painting) -> str | None:
    """What identifies the image's content: its sha256, else the store's etag."""
    if painting.sha256:
        return painting.sha256
    info = store.head(painting.image)
    return info.etag.strip('"') if info is not None else None


def make_thumbs(
    store: Store, *, force: bool = False, logger: Logger | None = None
) -> ThumbsSummary:
    """Bring ``thumbs/`` up to date with the store's catalog; see the module docstring.

    Paintings that left the catalog keep their entries: the gallery still
    shows what was posted.
    """
    log = (logger or Logger()).bind(job="thumbs")
    index = load_index(store)
    entries = read_palettes(store, log)
    existing = {info.key for info in store.list(THUMBS_PREFIX)}
    summary = ThumbsSummary(paintings=len(index))
    dirty: set[str] = set()  # palettes files to rewrite
    for painting in index:
        known = entries.get(painting.id)
        source = _source(store, painting)
        if source is None:
            summary.skipped.append((painting.id, f"image {painting.image} is missing"))
            continue
        if not force and known and known.source == source and known.thumb in existing:
            summary.unchanged += 1
            continue
        try:
            data = _read_image(store, painting)
            thumb, width, height, palette, weights = make_thumbnail(data)
        except ThumbError as exc:
            summary.skipped.append((painting.id, str(exc)))
            log.warning("thumbs.skipped", painting_id=painting.id, reason=str(exc))
            continue
        key = THUMBS_PREFIX + thumb_name(painting.id)
        store.write(key, thumb, content_type="image/jpeg")
        existing.add(key)
        entries[painting.id] = PaletteEntry(
            source, key, width, height, tuple(palette), tuple(weights)
        )
        summary.made += 1
        dirty.add(shard_of(painting.id))
        if summary.made % SAVE_EVERY == 0:
            write_palettes(store, entries, only=dirty)
            dirty = set()
    write_palettes(store, entries, only=dirty)
    log.info(
        "thumbs.done", made=summary.made, unchanged=summary.unchanged, skipped=len(summary.skipped)
    )
    return summary


def _read_image(store: Store, painting: Painting) -> bytes:
    """The image's bytes, through the store's size-capped download."""
    with tempfile.TemporaryDirectory(prefix="soviet-art-bot-thumbs-") as tmp:
        dest = Path(tmp) / "image"
        try:
            store.download(painting.image, dest, max_bytes=MAX_IMAGE_BYTES)
        except NotFound:
            raise ThumbError(f"image {painting.image} is missing") from None
        except ObjectTooLarge as exc:
            raise ThumbError(str(exc)) from None
        return dest.read_bytes()
