"""``thumbs/palettes/*.json``: each painting's thumbnail and colour palette.

Written by the ``thumbs`` step (which needs Pillow), read by the site
renderer (which must not). It lives beside the thumbnails rather than in
``catalog.json``: the catalog belongs to the scrape or to the person who
wrote it by hand, and rewriting it would change its etag (so every post
would re-index it) and race the scrape; here one prefix, ``thumbs/``, holds
everything the step derives, and deleting it recomputes everything.

The entries are spread over 256 files by a hash of the painting's id, so
the Lambda's refresh reads the one holding the painting it posted, never a
file the size of the collection (100,000 paintings would be about 20 MB).

The files are inputs like any other: every entry is validated on reading and
a bad one is dropped with a warning, never rendered. Colours must be exactly
``#rrggbb`` because they end up inside a ``style`` attribute.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .. import safejson
from ..errors import ArtBotError, NotFound
from ..log import Logger
from ..store import Store

THUMBS_PREFIX = "thumbs/"
PALETTES_PREFIX = "thumbs/palettes/"  # 256 files: thumbs/palettes/<2 hex digits>.json
VERSION = 1
COLOURS = 5
_HEX = re.compile(r"#[0-9a-f]{6}")
_NAME = re.compile(r"[A-Za-z0-9_-]{1,100}")


def thumb_name(painting_id: str) -> str:
    """A file name for the painting's thumbnail that is safe in a URL and a key.

    Ids of newer sources hold ``:`` (``aic:12345``); those are spelled with
    ``_`` plus a short hash of the id, so two ids never share a name.
    """
    if _NAME.fullmatch(painting_id):
        return f"{painting_id}.jpg"
    safe = re.sub(r"[^A-Za-z0-9_-]", "_", painting_id)[:80]
    return f"{safe}-{hashlib.sha256(painting_id.encode()).hexdigest()[:10]}.jpg"


@dataclass(frozen=True)
class PaletteEntry:
    """What the thumbs step knows about one painting's image."""

    source: str  # the image's sha256 (or store etag): recomputed when it changes
    thumb: str  # store key of the thumbnail
    width: int
    height: int
    palette: tuple[str, ...]  # up to 5 "#rrggbb", most common first
    weights: tuple[float, ...]  # share of pixels, same order

    def to_json(self) -> dict[str, Any]:
        return {
            "source": self.source,
            "thumb": self.thumb,
            "width": self.width,
            "height": self.height,
            "palette": list(self.palette),
            "weights": list(self.weights),
        }


def entry_from_json(doc: Any) -> PaletteEntry:
    """Validate one entry; ValueError says what is wrong."""
    if not isinstance(doc, dict):
        raise ValueError("not an object")
    source, thumb = doc.get("source"), doc.get("thumb")
    if not isinstance(source, str) or not source or len(source) > 200:
        raise ValueError("'source' must be a short string")
    check_thumb(thumb)
    width, height = doc.get("width"), doc.get("height")
    for value in (width, height):
        if not isinstance(value, int) or isinstance(value, bool) or not 0 < value <= 10_000:
            raise ValueError("'width' and 'height' must be whole numbers of pixels")
    palette, weights = check_palette(doc.get("palette"), doc.get("weights"))
    return PaletteEntry(source, thumb, width, height, palette, weights)


def check_thumb(thumb: Any) -> str:
    """A thumbnail key as the thumbs step writes it: ``thumbs/<safe name>.jpg``."""
    if not isinstance(thumb, str) or not thumb.startswith(THUMBS_PREFIX):
        raise ValueError("'thumb' must be a key under thumbs/")
    if not _NAME.fullmatch(thumb[len(THUMBS_PREFIX) :].removesuffix(".jpg")) or not thumb.endswith(
        ".jpg"
    ):
        raise ValueError("'thumb' must be thumbs/<name>.jpg")
    return thumb


def check_palette(palette: Any, weights: Any) -> tuple[tuple[str, ...], tuple[float, ...]]:
    """1 to 5 ``#rrggbb`` colours with a share each; ValueError otherwise.

    The colours go into ``style`` attributes, so nothing but exact hex passes.
    """
    if not isinstance(palette, list) or not 0 < len(palette) <= COLOURS:
        raise ValueError(f"'palette' must list 1 to {COLOURS} colours")
    if not all(isinstance(c, str) and _HEX.fullmatch(c) for c in palette):
        raise ValueError("'palette' colours must be #rrggbb (lowercase hex)")
    if not isinstance(weights, list) or len(weights) != len(palette):
        raise ValueError("'weights' must give one share per colour")
    if not all(
        isinstance(w, int | float) and not isinstance(w, bool) and 0 <= w <= 1 for w in weights
    ):
        raise ValueError("'weights' must be shares between 0 and 1")
    return tuple(palette), tuple(float(w) for w in weights)


def shard_of(painting_id: str) -> str:
    """The key of the palettes file holding ``painting_id``."""
    digest = hashlib.sha256(painting_id.encode()).hexdigest()[:2]
    return f"{PALETTES_PREFIX}{digest}.json"


def read_palettes(
    store: Store, log: Logger | None = None, *, ids: Iterable[str] | None = None
) -> dict[str, PaletteEntry]:
    """Valid entries of the palettes files: all of them, or those of ``ids`` only.

    The Lambda passes ``ids`` (the paintings it just posted), so it reads a
    file of a few hundred entries whatever the collection's size.
    """
    log = log or Logger()
    if ids is None:
        keys = sorted(i.key for i in store.list(PALETTES_PREFIX) if i.key.endswith(".json"))
    else:
        keys = sorted({shard_of(pid) for pid in ids})
    out: dict[str, PaletteEntry] = {}
    for key in keys:
        out.update(_read_shard(store, key, log))
    return out if ids is None else {pid: out[pid] for pid in ids if pid in out}


def _read_shard(store: Store, key: str, log: Logger) -> dict[str, PaletteEntry]:
    try:
        data = store.read(key)
    except NotFound:
        return {}
    try:
        doc = safejson.loads(data, name=key, fix="it is rebuilt")
    except ArtBotError:
        log.warning(
            "gallery.palettes_unreadable",
            key=key,
            error="not valid JSON; run 'soviet-art-bot thumbs --force'",
        )
        return {}
    entries = doc.get("paintings") if isinstance(doc, dict) else None
    if not isinstance(doc, dict) or doc.get("version") != VERSION or not isinstance(entries, dict):
        log.warning(
            "gallery.palettes_unreadable",
            key=key,
            error=f"not a version {VERSION} palettes file; run 'soviet-art-bot thumbs'",
        )
        return {}
    out: dict[str, PaletteEntry] = {}
    for pid, doc_entry in entries.items():
        try:
            if shard_of(pid) != key:
                raise ValueError(f"belongs in {shard_of(pid)}")
            out[pid] = entry_from_json(doc_entry)
        except Exception as exc:
            log.warning("gallery.palette_ignored", painting_id=str(pid)[:200], error=str(exc))
    return out


def write_palettes(
    store: Store, entries: dict[str, PaletteEntry], *, only: Iterable[str] | None = None
) -> None:
    """Rewrite the palettes files holding ``entries`` (or only the shard keys in
    ``only``), each atomically, sorted for readable diffs."""
    shards: dict[str, dict[str, PaletteEntry]] = {}
    for pid, entry in entries.items():
        shards.setdefault(shard_of(pid), {})[pid] = entry
    for key in sorted(shards if only is None else set(only)):
        items = shards.get(key, {})
        doc = {"version": VERSION, "paintings": {k: items[k].to_json() for k in sorted(items)}}
        data = json.dumps(doc, ensure_ascii=False, separators=(",", ":")).encode()
        store.write(key, data, content_type="application/json")
