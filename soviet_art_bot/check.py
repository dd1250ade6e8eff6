"""``check``: is every catalog entry, and every image it names, what it says?

A hand-written or uploaded catalog is only as good as its images: a missing
image costs a slot, and a wrong ``width``/``height`` goes to Bluesky as the
aspect ratio. So ``check`` validates each entry, then (unless ``quick``)
opens each image and compares it with its entry: present, a regular file
inside the store, a type the platforms take, and the stated ``width``,
``height``, ``bytes`` and ``sha256``. Every problem is reported, not only the
first, each with the entry's id, the field, what was expected and what was
found.
"""

from __future__ import annotations

import hashlib
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from . import safejson
from .catalog import CATALOG_KEY, MAX_CATALOG_BYTES, Painting, load_index, painting_from_json
from .errors import ArtBotError, CatalogError, NotRegularFile, StoreError
from .media import image_size, sniff_mime
from .store import Store

MAX_IMAGE_BYTES = 5_000_000  # the most any platform takes (X); see bot.MAX_IMAGE_BYTES
TYPES = "a JPEG, PNG, GIF or WebP image"
WORKERS = 8  # image reads in flight: network-bound on S3


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one catalog entry."""

    entry: str
    field: str
    expected: str
    found: str

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.entry,
            "field": self.field,
            "expected": self.expected,
            "found": self.found,
        }

    def line(self) -> str:
        return f"{self.entry}: {self.field}: expected {self.expected}, found {self.found}"


@dataclass
class CheckReport:
    catalog: str
    paintings: int = 0
    images_checked: int = 0
    problems: list[Problem] = field(default_factory=list)
    catalog_error: str | None = None
    """The catalog's own refusal (what a post would say), when an entry is invalid."""

    @property
    def ok(self) -> bool:
        return not self.problems

    def to_json(self) -> dict[str, Any]:
        return {
            "catalog": self.catalog,
            "ok": self.ok,
            "paintings": self.paintings,
            "images_checked": self.images_checked,
            "problems": [p.to_json() for p in self.problems],
        }

    def error(self) -> str:
        """The one ``Error:`` line: the catalog's own refusal first, as a post says it."""
        count = len(self.problems)
        if self.catalog_error:
            more = count - 1
            return self.catalog_error + (f"; {more} more problem(s) listed above" if more else "")
        return (
            f"{count} problem(s) in {self.catalog}; fix the images or their entries, then run "
            "'soviet-art-bot check' again"
        )

    def lines(self) -> list[str]:
        images = f", {self.images_checked} images checked" if self.images_checked else ""
        if self.ok:
            indexed = " (indexed for posting)"
            return [f"{self.catalog}: valid, {self.paintings} paintings{images}{indexed}"]
        count = len(self.problems)
        out = [f"{self.catalog}: {count} problem(s) in {self.paintings} paintings{images}:"]
        out.extend(f"  {p.line()}" for p in self.problems)
        return out


def _entry_problems(store: Store, error: CatalogError) -> tuple[list[Painting], list[Problem]]:
    """Every invalid entry of a catalog the index refused, or ``error`` if the whole is bad."""
    try:
        data = store.read(CATALOG_KEY, max_bytes=MAX_CATALOG_BYTES)
        doc = safejson.loads(data, name=CATALOG_KEY, fix="fix it", error=CatalogError)
    except ArtBotError:
        raise error from None
    if not isinstance(doc, dict) or doc.get("version") != 1:
        raise error
    entries = doc.get("paintings")
    if not isinstance(entries, list) or not entries:
        raise error
    problems: list[Problem] = []
    valid: list[Painting] = []
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        ident = entry.get("id") if isinstance(entry, dict) else None
        name = ident if isinstance(ident, str) and ident else f"paintings[{i}]"
        try:
            painting = painting_from_json(entry, f"paintings[{i}]")
        except CatalogError as exc:
            problems.append(Problem(name, _field_of(str(exc)), "a valid entry", str(exc)))
            continue
        if painting.id in seen:
            problems.append(Problem(name, "id", "unique", f"repeated at paintings[{i}]"))
            continue
        seen.add(painting.id)
        valid.append(painting)
    return valid, problems or [Problem("catalog", "paintings", "a valid catalog", str(error))]


def _field_of(message: str) -> str:
    start = message.find("field '")
    if start < 0:
        return "entry"
    return message[start + 7 :].split("'", 1)[0]


def _what_is_there(exc: NotRegularFile) -> str:
    """ "a symbolic link" from the store's "refusing ...: it is a symbolic link, not ..."."""
    match = re.search(r"it is (an? [^,(]+?)(?: \(|, not)", str(exc))
    return match.group(1) if match else str(exc)


def check_image(store: Store, painting: Painting) -> list[Problem]:
    """Every way the image of ``painting`` differs from its catalog entry."""
    pid, key = painting.id, painting.image
    try:
        info = store.head(key)
    except NotRegularFile as exc:  # the store never reads links, folders or devices
        return [
            Problem(pid, "image", f"a regular file at {key} inside the store", _what_is_there(exc))
        ]
    if info is None:
        return [Problem(pid, "image", f"an image at {store.describe(key)}", "nothing there")]
    if info.size > MAX_IMAGE_BYTES:
        return [Problem(pid, "image", f"at most {MAX_IMAGE_BYTES:,} bytes", f"{info.size:,}")]
    try:
        data = store.read(key)
    except StoreError as exc:
        return [Problem(pid, "image", f"a readable image at {key}", str(exc))]
    problems: list[Problem] = []
    if sniff_mime(data[:16]) is None:
        from .images import _what_is_it

        problems.append(Problem(pid, "image", TYPES, _what_is_it(data)))
        return problems
    size = image_size(data[: 1 << 18]) or image_size(data)
    for name, stated, actual in (
        ("width", painting.width, size[0] if size else None),
        ("height", painting.height, size[1] if size else None),
    ):
        if stated is not None and stated != actual:
            found = str(actual) if actual is not None else "no readable size in the image header"
            problems.append(Problem(pid, name, str(stated), found))
    if painting.bytes is not None and painting.bytes != len(data):
        problems.append(Problem(pid, "bytes", str(painting.bytes), str(len(data))))
    if painting.sha256 is not None:
        digest = hashlib.sha256(data).hexdigest()
        if digest != painting.sha256:
            problems.append(Problem(pid, "sha256", painting.sha256, digest))
    return problems


def check_store(store: Store, *, quick: bool = False) -> CheckReport:
    """Validate the catalog (and, unless ``quick``, its images), indexing a valid one.

    The catalog's own errors (not JSON, wrong version) are raised as one
    :class:`CatalogError`; problems of entries and images are collected.
    """
    report = CheckReport(catalog=store.describe(CATALOG_KEY))
    try:
        paintings = list(load_index(store, validate=True))  # also indexes it for the next post
        report.paintings = len(paintings)
    except CatalogError as exc:
        paintings, report.problems = _entry_problems(store, exc)
        report.catalog_error = str(exc)
        report.paintings = len(paintings) + len(report.problems)
    if not quick and paintings:
        with ThreadPoolExecutor(max(1, min(WORKERS, len(paintings)))) as pool:
            for found in pool.map(lambda p: check_image(store, p), paintings):
                report.problems.extend(found)
        report.images_checked = len(paintings)
    return report
