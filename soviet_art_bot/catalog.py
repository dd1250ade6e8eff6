"""The collection: ``catalog.json`` version 1, and a sharded index for posting.

``catalog.json`` is the contract (DESIGN.md): anyone may write one by hand.
It is validated in full before anything is posted, and an invalid one is
refused with a message naming the entry and the field.

Reading all of a 100,000-painting catalog on every post would cost more
memory than the smallest Lambda has, so the bot keeps a derived *index*
under ``state/catalog/<fingerprint>/``: the ordered list of ids plus shards of
:data:`SHARD_SIZE` paintings. A post reads the id list and one shard. The
fingerprint is the catalog's etag, so editing ``catalog.json`` (by hand or by
a re-ingest) makes the next post validate it and build a fresh index; the
index is never a second source of truth.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from .errors import CatalogError, Conflict, NotFound
from .store import Store, check_key

CATALOG_KEY = "catalog.json"
INDEX_PREFIX = "state/catalog"
SHARD_SIZE = 1000
VERSION = 1

_SHA256 = re.compile(r"[0-9a-f]{64}")
_REQUIRED_TEXT = ("id", "image", "title", "artist")
_OPTIONAL_INT = ("width", "height", "bytes")


@dataclass(frozen=True)
class Painting:
    """One painting of the collection, as catalog.json describes it."""

    id: str
    image: str
    title: str
    artist: str
    year: str = ""
    source_url: str = ""
    width: int | None = None
    height: int | None = None
    bytes: int | None = None
    sha256: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict, compare=False)

    def to_json(self) -> dict[str, Any]:
        data = {k: v for k, v in asdict(self).items() if k != "extra" and v is not None}
        return {**self.extra, **data}

    def summary(self) -> dict[str, str]:
        """The part of a painting the Lambda returns."""
        return {"id": self.id, "title": self.title, "artist": self.artist, "year": self.year}


_FIELDS = {f for f in Painting.__dataclass_fields__ if f != "extra"}


def painting_from_json(entry: Any, where: str) -> Painting:
    """Validate one catalog entry; ``where`` names it in errors."""
    if not isinstance(entry, dict):
        raise CatalogError(f"{where} is not an object")
    for name in _REQUIRED_TEXT:
        value = entry.get(name)
        if value is None:
            raise CatalogError(f"{where}: field {name!r} is missing")
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: field {name!r} must be a non-empty string")
    try:
        check_key(entry["image"])
    except Exception:
        raise CatalogError(
            f"{where}: field 'image' ({entry['image']!r}) must be a key relative to the store "
            "root, like images/<id>.jpg"
        ) from None
    for name in ("year", "source_url"):
        value = entry.get(name, "")
        if value is None:
            value = ""
        if not isinstance(value, str):
            raise CatalogError(f"{where}: field {name!r} must be a string")
    for name in _OPTIONAL_INT:
        value = entry.get(name)
        if value is not None and (
            not isinstance(value, int) or isinstance(value, bool) or value <= 0
        ):
            raise CatalogError(f"{where}: field {name!r} must be a positive whole number")
    sha = entry.get("sha256")
    if sha is not None and (not isinstance(sha, str) or not _SHA256.fullmatch(sha)):
        raise CatalogError(f"{where}: field 'sha256' must be 64 lowercase hex digits")
    return Painting(
        id=entry["id"],
        image=entry["image"],
        title=entry["title"].strip(),
        artist=entry["artist"].strip(),
        year=(entry.get("year") or "").strip(),
        source_url=entry.get("source_url") or "",
        width=entry.get("width"),
        height=entry.get("height"),
        bytes=entry.get("bytes"),
        sha256=sha,
        extra={k: v for k, v in entry.items() if k not in _FIELDS},
    )


def parse_catalog(data: bytes, *, name: str = CATALOG_KEY) -> list[Painting]:
    """Validate a whole catalog; raise :class:`CatalogError` at the first bad entry."""
    try:
        doc = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise CatalogError(f"{name} is not UTF-8 text; re-save it as UTF-8 JSON") from None
    except json.JSONDecodeError as exc:
        raise CatalogError(
            f"{name} is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated: re-run the scrape or fix the file"
        ) from None
    if not isinstance(doc, dict):
        raise CatalogError(f"{name} must be a JSON object with 'version' and 'paintings'")
    if doc.get("version") != VERSION:
        raise CatalogError(
            f"{name}: 'version' is {doc.get('version')!r}; this bot reads version {VERSION}"
        )
    entries = doc.get("paintings")
    if not isinstance(entries, list):
        raise CatalogError(f"{name}: 'paintings' must be a list")
    paintings: list[Painting] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        label = f"{name}: paintings[{i}]"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label += f" (id {entry['id']!r})"
        painting = painting_from_json(entry, label)
        if painting.id in seen:
            raise CatalogError(f"{label}: id repeats paintings[{seen[painting.id]}]")
        seen[painting.id] = i
        paintings.append(painting)
    if not paintings:
        raise CatalogError(f"{name} lists no paintings; run the scrape first")
    return paintings


def dump_catalog(
    paintings: Iterable[Painting], *, source: str, generated_at: datetime | None = None
) -> bytes:
    """Serialise a v1 catalog (UTF-8, one painting a line for readable diffs)."""
    when = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    head = json.dumps({"version": VERSION, "source": source, "generated_at": when})[:-1]
    lines = [json.dumps(p.to_json(), ensure_ascii=False) for p in paintings]
    body = ",\n    ".join(lines)
    return f'{head}, "paintings": [\n    {body}\n]}}\n'.encode()


def _fingerprint(etag: str) -> str:
    return re.sub(r"[^0-9A-Za-z]", "", etag)[:64] or "none"


@dataclass
class CatalogIndex:
    """A catalog as the bot reads it when posting: ids up front, entries by shard."""

    store: Store
    prefix: str
    ids: list[str]
    shard_size: int = SHARD_SIZE
    _shards: dict[int, list[dict[str, Any]]] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return len(self.ids)

    @property
    def fingerprint(self) -> str:
        """Changes whenever catalog.json does."""
        return self.prefix.rsplit("/", 1)[-1]

    def get(self, position: int) -> Painting:
        """The painting at ``position`` in the catalog's order."""
        shard_no = position // self.shard_size
        shard = self._shards.get(shard_no)
        if shard is None:
            key = f"{self.prefix}/shard-{shard_no:05d}.json"
            shard = self._shards[shard_no] = json.loads(self.store.read(key))
        entry = shard[position % self.shard_size]
        return painting_from_json(entry, f"{CATALOG_KEY} entry {self.ids[position]!r}")

    def position(self, painting_id: str) -> int | None:
        try:
            return self.ids.index(painting_id)
        except ValueError:
            return None

    def by_id(self, painting_id: str) -> Painting | None:
        pos = self.position(painting_id)
        return None if pos is None else self.get(pos)

    def __iter__(self) -> Iterator[Painting]:
        for pos in range(len(self.ids)):
            yield self.get(pos)


def build_index(store: Store, paintings: list[Painting], etag: str) -> CatalogIndex:
    """Write the index for a validated catalog whose etag is ``etag``."""
    prefix = f"{INDEX_PREFIX}/{_fingerprint(etag)}"
    for start in range(0, len(paintings), SHARD_SIZE):
        shard = [p.to_json() for p in paintings[start : start + SHARD_SIZE]]
        key = f"{prefix}/shard-{start // SHARD_SIZE:05d}.json"
        store.write(key, json.dumps(shard, ensure_ascii=False).encode())
    ids = [p.id for p in paintings]
    manifest = {"version": 1, "catalog_etag": etag, "shard_size": SHARD_SIZE, "ids": ids}
    try:  # written last: its presence means every shard is there
        store.write_if(f"{prefix}/manifest.json", json.dumps(manifest).encode(), etag=None)
    except Conflict:
        pass  # a concurrent post built the same index
    return CatalogIndex(store, prefix, ids)


def load_index(store: Store, *, validate: bool = False) -> CatalogIndex:
    """The index of the store's current catalog, validating and indexing it if new.

    ``validate`` re-reads and checks the whole catalog even when an index of
    it exists (``soviet-art-bot check``); a post trusts the index.
    """
    info = store.head(CATALOG_KEY)
    if info is None:
        raise CatalogError(
            f"{store.describe(CATALOG_KEY)} does not exist; run 'soviet-art-bot scrape' "
            "or write a catalog by hand"
        )
    prefix = f"{INDEX_PREFIX}/{_fingerprint(info.etag)}"
    if not validate:
        try:
            manifest = json.loads(store.read(f"{prefix}/manifest.json"))
            return CatalogIndex(store, prefix, manifest["ids"], manifest["shard_size"])
        except NotFound:
            pass
    current = store.read_versioned(CATALOG_KEY)
    if current is None:
        raise CatalogError(f"{store.describe(CATALOG_KEY)} vanished while being read; retry")
    data, etag = current
    paintings = parse_catalog(data, name=store.describe(CATALOG_KEY))
    del data
    return build_index(store, paintings, etag)


def write_catalog(store: Store, paintings: list[Painting], *, source: str) -> str:
    """Write ``catalog.json`` atomically and index it, so the next post reads little."""
    data = dump_catalog(paintings, source=source)
    etag = store.write(CATALOG_KEY, data, content_type="application/json")
    build_index(store, paintings, etag)
    return etag
