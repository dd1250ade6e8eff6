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

from . import safejson
from .errors import ArtBotError, CatalogError, Conflict, brief
from .store import Store, check_key

CATALOG_KEY = "catalog.json"
INDEX_PREFIX = "state/catalog"
MANIFEST_VERSION = 2  # 2: with "labelled"
SHARD_SIZE = 1000
VERSION = 1
MAX_CATALOG_BYTES = 256 * 1024 * 1024  # about 500,000 paintings
MAX_INDEX_BYTES = 64 * 1024 * 1024  # a manifest of 500,000 ids, or one shard
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

_SHA256 = re.compile(r"[0-9a-f]{64}")
# Screening (DESIGN.md): Bluesky's self-label values this bot sets, and who set them.
LABELS = ("nudity", "sexual", "graphic-media")
OPERATOR = "operator"
_CLASSIFIER_BY = re.compile(r"classifier:[A-Za-z0-9._-]{1,64}/[A-Za-z0-9._+-]{1,64}")
MAX_LABEL_SCORES = 16
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

    @property
    def labels(self) -> tuple[str, ...]:
        """The content labels of the entry (validated by :func:`painting_from_json`)."""
        value = self.extra.get("labels")
        return tuple(dict.fromkeys(value)) if isinstance(value, list) else ()

    @property
    def labels_by(self) -> str | None:
        """Who set the labels: ``"operator"`` or ``"classifier:<name>/<version>"``.

        Labels written by hand without ``labels_by`` are the operator's: a
        person wrote them, and no screening may undo that.
        """
        value = self.extra.get("labels_by")
        if isinstance(value, str):
            return value
        return OPERATOR if "labels" in self.extra else None

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
    if _CONTROL.search(entry["id"]):
        raise CatalogError(
            f"{where}: field 'id' ({brief(entry['id'])}) contains a control character; "
            "ids are plain text"
        )
    try:
        check_key(entry["image"])
    except ArtBotError:
        raise CatalogError(
            f"{where}: field 'image' ({brief(entry['image'])}) must be a key relative to the "
            "store root, without '..' or control characters, like images/<id>.jpg"
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
    _check_labels(entry, where)
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


def _check_labels(entry: dict[str, Any], where: str) -> None:
    """``labels``, ``labels_by`` and ``label_scores``, as the screening writes them."""
    labels = entry.get("labels")
    if labels is not None:
        if not isinstance(labels, list):
            raise CatalogError(
                f"{where}: field 'labels' must be a list drawn from {', '.join(LABELS)}"
            )
        for value in labels:
            if value not in LABELS:
                raise CatalogError(
                    f"{where}: field 'labels' has unknown label {brief(value)}; "
                    f"use {', '.join(LABELS)}"
                )
    by = entry.get("labels_by")
    if by is not None and (
        not isinstance(by, str) or (by != OPERATOR and not _CLASSIFIER_BY.fullmatch(by))
    ):
        raise CatalogError(
            f"{where}: field 'labels_by' ({brief(by)}) must be \"operator\" or "
            '"classifier:<name>/<version>"'
        )
    scores = entry.get("label_scores")
    if scores is not None and (
        not isinstance(scores, dict)
        or len(scores) > MAX_LABEL_SCORES
        or not all(
            isinstance(k, str)
            and len(k) <= 64
            and isinstance(v, int | float)
            and not isinstance(v, bool)
            and 0 <= v <= 1
            for k, v in scores.items()
        )
    ):
        raise CatalogError(
            f"{where}: field 'label_scores' must map at most {MAX_LABEL_SCORES} names to "
            "scores between 0 and 1"
        )


def parse_catalog(data: bytes, *, name: str = CATALOG_KEY) -> list[Painting]:
    """Validate a whole catalog; raise :class:`CatalogError` at the first bad entry."""
    doc = safejson.loads(
        data,
        name=name,
        fix="fix the file, or re-run the scrape",
        error=CatalogError,
        max_bytes=MAX_CATALOG_BYTES,
    )
    if not isinstance(doc, dict):
        raise CatalogError(f"{name} must be a JSON object with 'version' and 'paintings'")
    if doc.get("version") != VERSION:
        raise CatalogError(
            f"{name}: 'version' is {brief(doc.get('version'))}; this bot reads version {VERSION}"
        )
    entries = doc.get("paintings")
    if not isinstance(entries, list):
        raise CatalogError(f"{name}: 'paintings' must be a list")
    paintings: list[Painting] = []
    seen: dict[str, int] = {}
    for i, entry in enumerate(entries):
        label = f"{name}: paintings[{i}]"
        if isinstance(entry, dict) and isinstance(entry.get("id"), str):
            label += f" (id {brief(entry['id'])})"
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
    labelled: dict[str, tuple[str, ...]] = field(default_factory=dict)
    """The labels of every labelled painting, so a choice can avoid them unread."""
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
        key = f"{self.prefix}/shard-{shard_no:05d}.json"
        shard = self._shards.get(shard_no)
        if shard is None:
            shard = safejson.loads(
                self.store.read(key, max_bytes=MAX_INDEX_BYTES),
                name=self.store.describe(key),
                fix=_INDEX_FIX,
                error=CatalogError,
                max_bytes=MAX_INDEX_BYTES,
            )
            if not isinstance(shard, list):
                raise CatalogError(f"{self.store.describe(key)} is not a list; {_INDEX_FIX}")
            self._shards[shard_no] = shard
        offset = position % self.shard_size
        if offset >= len(shard):
            raise CatalogError(
                f"{self.store.describe(key)} has {len(shard)} entries, too few for "
                f"{brief(self.ids[position])}; {_INDEX_FIX}"
            )
        return painting_from_json(shard[offset], f"{CATALOG_KEY} entry {brief(self.ids[position])}")

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


_INDEX_FIX = (
    f"it is derived from {CATALOG_KEY}: delete {INDEX_PREFIX}/ and run 'soviet-art-bot check' "
    "to rebuild it"
)


def _manifest(data: bytes, name: str) -> tuple[list[str], int, dict[str, tuple[str, ...]]] | None:
    """The ids, shard size and labelled ids of a stored manifest, or None if it is
    damaged or older than the labels (version 1): either way it is rebuilt."""
    try:
        doc = safejson.loads(data, name=name, fix=_INDEX_FIX, max_bytes=MAX_INDEX_BYTES)
    except ArtBotError:
        return None
    if not isinstance(doc, dict):
        return None
    ids, size = doc.get("ids"), doc.get("shard_size")
    if not isinstance(ids, list) or not all(isinstance(i, str) for i in ids):
        return None
    if not isinstance(size, int) or isinstance(size, bool) or not 0 < size <= 1_000_000:
        return None
    labelled = doc.get("labelled")
    if doc.get("version") != MANIFEST_VERSION or not isinstance(labelled, dict):
        return None
    if not all(
        isinstance(v, list) and all(label in LABELS for label in v) for v in labelled.values()
    ):
        return None
    return ids, size, {k: tuple(v) for k, v in labelled.items()}


def build_index(
    store: Store, paintings: list[Painting], etag: str, *, replace: str | None = None
) -> CatalogIndex:
    """Write the index for a validated catalog whose etag is ``etag``.

    ``replace`` is the etag of a damaged manifest to overwrite.
    """
    prefix = f"{INDEX_PREFIX}/{_fingerprint(etag)}"
    for start in range(0, len(paintings), SHARD_SIZE):
        shard = [p.to_json() for p in paintings[start : start + SHARD_SIZE]]
        key = f"{prefix}/shard-{start // SHARD_SIZE:05d}.json"
        store.write(key, json.dumps(shard, ensure_ascii=False).encode())
    ids = [p.id for p in paintings]
    labelled = {p.id: list(p.labels) for p in paintings if p.labels}
    manifest = {
        "version": MANIFEST_VERSION,
        "catalog_etag": etag,
        "shard_size": SHARD_SIZE,
        "ids": ids,
        "labelled": labelled,
    }
    try:  # written last: its presence means every shard is there
        store.write_if(f"{prefix}/manifest.json", json.dumps(manifest).encode(), etag=replace)
    except Conflict:
        pass  # a concurrent post built the same index
    return CatalogIndex(store, prefix, ids, labelled={k: tuple(v) for k, v in labelled.items()})


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
    manifest_key = f"{prefix}/manifest.json"
    damaged = None
    stored = store.read_versioned(manifest_key, max_bytes=MAX_INDEX_BYTES)
    if stored is not None:
        manifest = _manifest(stored[0], store.describe(manifest_key))
        if manifest is None:  # derived data: rebuild it from the catalog
            damaged = stored[1]
        elif not validate:
            return CatalogIndex(store, prefix, *manifest)
    current = store.read_versioned(CATALOG_KEY, max_bytes=MAX_CATALOG_BYTES)
    if current is None:
        raise CatalogError(f"{store.describe(CATALOG_KEY)} vanished while being read; retry")
    data, etag = current
    paintings = parse_catalog(data, name=store.describe(CATALOG_KEY))
    del data
    return build_index(store, paintings, etag, replace=damaged)


def write_catalog(store: Store, paintings: list[Painting], *, source: str) -> str:
    """Write ``catalog.json`` atomically and index it, so the next post reads little."""
    data = dump_catalog(paintings, source=source)
    etag = store.write(CATALOG_KEY, data, content_type="application/json")
    build_index(store, paintings, etag)
    return etag
