"""The Met Collection API as a source.

Selection: ``GET /public/collection/v1/search?hasImages=true&q=...`` (default
``socialist realism``) gives ``{"total", "objectIDs"}``; each id is then read
with ``GET /public/collection/v1/objects/{id}``. An object is kept only when
``isPublicDomain`` is ``true`` and ``primaryImage`` names a JPEG on
``https://images.metmuseum.org`` (or the ``--source-url`` origin). The Met's
data and public-domain images are CC0 ("Open Access"); it asks no caption.

Etiquette: the Met's documentation asks to keep to 80 requests a second; one
window holds every request (search, objects, images) to that. The objects
are read :data:`OBJECTS_PER_PAGE` at a time so the ingest downloads images
while the next objects are read.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from .. import safejson
from ..errors import ArtBotError
from ..wikiart import (
    MUSEUM_USER_AGENT,
    InvalidPainting,
    ListedPainting,
    ListingError,
    ListingPage,
    WikiArtClient,
    plain_text,
)

DEFAULT_ORIGIN = "https://collectionapi.metmuseum.org"
DEFAULT_QUERY = "socialist realism"
IMAGE_HOST = "images.metmuseum.org"
OBJECTS_PER_PAGE = 20
MAX_OBJECTS = 20_000  # a search answering more is not a style's worth
LICENSE = "CC0-1.0"


@dataclass(frozen=True)
class _Missing:
    """An object id the search named but ``/objects/{id}`` does not have."""

    object_id: int
    status: int


class MetClient(WikiArtClient):
    """The shared chokepoint with the Met's limit, User-Agent and image host."""

    LIMITS = {"listing": (80, 1.0), "image": (80, 1.0)}  # one shared window
    USER_AGENT = MUSEUM_USER_AGENT
    ORIGIN_OPTION = "--source-url"
    IMAGE_HOSTS = (IMAGE_HOST,)
    DEFAULT = DEFAULT_ORIGIN
    NAME = "The Met Collection API"


@dataclass
class MetSource:
    """Public-domain Met objects with images matching a search."""

    client: MetClient
    query: str = DEFAULT_QUERY
    key: str = "met"
    label: str = "met"
    license: str = LICENSE
    per_page: int = OBJECTS_PER_PAGE

    def search_url(self) -> str:
        params = urlencode({"hasImages": "true", "q": self.query})
        return f"{self.client.origin}/public/collection/v1/search?{params}"

    def first_page_url(self) -> str:
        return self.search_url()

    def hint(self) -> str:
        return "check --query (and --source-url)"

    def _json(self, url: str) -> tuple[int, Any]:
        got = self.client.fetch("listing", url, max_bytes=self.client.max_listing_bytes)
        if got.status == 404:
            return 404, None
        if got.status != 200:
            raise ListingError(url, f"HTTP {got.status}; expected 200", status=got.status)
        try:
            return 200, safejson.loads(got.body, name="the answer", fix="check --source-url")
        except ArtBotError as exc:
            raise ListingError(url, str(exc)) from None

    def object_ids(self) -> list[int]:
        url = self.search_url()
        _, doc = self._json(url)
        if not isinstance(doc, dict) or "objectIDs" not in doc:
            raise ListingError(url, "the answer has no 'objectIDs'; the Met's format changed?")
        ids = doc["objectIDs"] or []  # the Met answers null when nothing matches
        if not isinstance(ids, list):
            raise ListingError(url, "'objectIDs' is not a list")
        out = []
        for i in ids:
            if isinstance(i, int) and not isinstance(i, bool) and i > 0 and i not in out:
                out.append(i)
        if len(out) > MAX_OBJECTS:
            raise ListingError(url, f"the search matched {len(out)} objects; narrow --query")
        return out

    def pages(self) -> Iterator[ListingPage]:
        ids = self.object_ids()
        for start in range(0, len(ids), self.per_page):
            chunk = ids[start : start + self.per_page]
            objects: list[Any] = []
            for oid in chunk:
                status, doc = self._json(f"{self.client.origin}/public/collection/v1/objects/{oid}")
                objects.append(doc if status == 200 else _Missing(oid, status))
            number = start // self.per_page + 1
            yield ListingPage(number, self.search_url(), objects, len(ids), self.per_page)

    def parse(self, raw: Any) -> ListedPainting:
        if isinstance(raw, _Missing):
            raise InvalidPainting(f"HTTP {raw.status} for the object", f"met:{raw.object_id}")
        if not isinstance(raw, dict):
            raise InvalidPainting("not a JSON object")
        oid = raw.get("objectID")
        if isinstance(oid, bool) or not isinstance(oid, int) or oid <= 0:
            raise InvalidPainting("no numeric objectID")
        label = f"met:{oid}"
        if raw.get("isPublicDomain") is not True:
            raise InvalidPainting("not public domain", label)
        title = raw.get("title")
        if not isinstance(title, str) or not plain_text(title):
            raise InvalidPainting("no title", label)
        artist = raw.get("artistDisplayName")
        if not isinstance(artist, str) or not plain_text(artist):
            raise InvalidPainting("no artist", label)
        image = raw.get("primaryImage")
        if not isinstance(image, str) or not image.strip():
            raise InvalidPainting("no image", label)
        image = image.strip()
        problem = self.client.image_problem(image)
        if problem:
            raise InvalidPainting(problem, label)
        date = raw.get("objectDate")
        page = raw.get("objectURL")
        source_url = page if isinstance(page, str) and page.startswith("https://") else ""
        return ListedPainting(
            id=label,
            title=plain_text(title),
            artist=plain_text(artist),
            year=plain_text(date) if isinstance(date, str) else "",
            image_url=image,
            source_url=source_url,
            license=LICENSE,
        )
