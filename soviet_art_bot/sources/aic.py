"""The Art Institute of Chicago's public API as a source.

Selection: a full-text search (``q``, default ``socialist realism``) on
``/api/v1/artworks/search``, filtered server-side with the documented
``query[term][is_public_domain]=true`` and checked again here: an entry is
kept only when ``is_public_domain`` is ``true`` and it has an ``image_id``.
Images are the IIIF URLs AIC documents,
``{config.iiif_url}/{image_id}/full/843,/0/default.jpg``, fetched only from
``https://www.artic.edu`` (where AIC serves IIIF) or the ``--source-url``
origin.

Etiquette, as AIC's API documentation asks: anonymous use is throttled to 60
requests a minute (one window here for listing *and* images, so the total
never exceeds it), a ``User-Agent`` naming the project and a contact, and
the caption "Artist. Title, Date. The Art Institute of Chicago." carried as
each entry's ``credit``. A search can reach at most 10,000 records
(``limit`` x ``page``), so the listing stops there.
"""

from __future__ import annotations

import re
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

DEFAULT_ORIGIN = "https://api.artic.edu"
DEFAULT_QUERY = "socialist realism"
IIIF_HOST = "www.artic.edu"
PAGE_LIMIT = 100  # AIC's largest page
MAX_RECORDS = 10_000  # AIC's search cannot page past this
FIELDS = "id,title,artist_title,date_display,image_id,is_public_domain"
LICENSE = "CC0-1.0"
CREDIT_TAIL = "The Art Institute of Chicago."
_IMAGE_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z-]{0,99}")


class AicClient(WikiArtClient):
    """The shared chokepoint with AIC's limit, User-Agent and image hosts."""

    LIMITS = {"listing": (60, 60.0), "image": (60, 60.0)}  # one shared window
    USER_AGENT = MUSEUM_USER_AGENT
    ORIGIN_OPTION = "--source-url"
    IMAGE_HOSTS = (IIIF_HOST,)
    DEFAULT = DEFAULT_ORIGIN
    NAME = "the Art Institute of Chicago's API"


def credit(artist: str, title: str, date: str) -> str:
    """AIC's requested caption: "Artist. Title, Date. The Art Institute of Chicago." """
    head = f"{artist}. {title}, {date}." if date else f"{artist}. {title}."
    return f"{head} {CREDIT_TAIL}"


@dataclass
class AicSource:
    """Public-domain AIC artworks matching a search."""

    client: AicClient
    query: str = DEFAULT_QUERY
    key: str = "aic"
    label: str = "aic"
    license: str = LICENSE
    iiif_url: str = ""
    page_limit: int = PAGE_LIMIT  # tests page through small listings

    def page_url(self, number: int) -> str:
        params = {
            "q": self.query,
            "query[term][is_public_domain]": "true",
            "fields": FIELDS,
            "limit": self.page_limit,
            "page": number,
        }
        return f"{self.client.origin}/api/v1/artworks/search?{urlencode(params)}"

    def first_page_url(self) -> str:
        return self.page_url(1)

    def hint(self) -> str:
        return "check --query (and --source-url)"

    def page(self, number: int) -> tuple[ListingPage, int | None]:
        url = self.page_url(number)
        got = self.client.fetch("listing", url, max_bytes=self.client.max_listing_bytes)
        if got.status != 200:
            raise ListingError(url, f"HTTP {got.status}; expected 200", status=got.status)
        try:
            doc = safejson.loads(got.body, name="the answer", fix="check --source-url")
        except ArtBotError as exc:
            raise ListingError(url, str(exc)) from None
        if not isinstance(doc, dict) or not isinstance(doc.get("data"), list):
            raise ListingError(url, "the answer has no 'data' list; AIC's format changed?")
        pagination = doc.get("pagination")
        pages = pagination.get("total_pages") if isinstance(pagination, dict) else None
        total = pagination.get("total") if isinstance(pagination, dict) else None
        config = doc.get("config")
        iiif = config.get("iiif_url") if isinstance(config, dict) else None
        self.iiif_url = iiif.rstrip("/") if isinstance(iiif, str) else ""
        count = total if isinstance(total, int) and not isinstance(total, bool) else None
        listing = ListingPage(number, url, doc["data"], count, self.page_limit)
        return listing, pages if isinstance(pages, int) and not isinstance(pages, bool) else None

    def pages(self) -> Iterator[ListingPage]:
        """Pages 1, 2, ... until one is empty, ``total_pages`` or AIC's 10,000-record cap."""
        number = 1
        while True:
            page, total_pages = self.page(number)
            if not page.paintings:
                return
            yield page
            if total_pages is not None and number >= total_pages:
                return
            if number * self.page_limit >= MAX_RECORDS:
                return
            number += 1

    def parse(self, raw: Any) -> ListedPainting:
        if not isinstance(raw, dict):
            raise InvalidPainting("not a JSON object")
        aid = raw.get("id")
        if isinstance(aid, bool) or not isinstance(aid, int) or aid < 0:
            raise InvalidPainting("no numeric id")
        label = f"aic:{aid}"
        if raw.get("is_public_domain") is not True:
            raise InvalidPainting("not public domain", label)
        title = raw.get("title")
        if not isinstance(title, str) or not plain_text(title):
            raise InvalidPainting("no title", label)
        artist = raw.get("artist_title")
        if not isinstance(artist, str) or not plain_text(artist):
            raise InvalidPainting("no artist", label)
        image_id = raw.get("image_id")
        if not isinstance(image_id, str) or not image_id:
            raise InvalidPainting("no image", label)
        if not _IMAGE_ID.fullmatch(image_id):
            raise InvalidPainting("image_id has unexpected characters", label)
        if not self.iiif_url:
            raise InvalidPainting("the page's config has no iiif_url", label)
        image_url = f"{self.iiif_url}/{image_id}/full/843,/0/default.jpg"
        problem = self.client.image_problem(image_url)
        if problem:
            raise InvalidPainting(problem, label)
        date = raw.get("date_display")
        year = plain_text(date) if isinstance(date, str) else ""
        title, artist = plain_text(title), plain_text(artist)
        return ListedPainting(
            id=label,
            title=title,
            artist=artist,
            year=year,
            image_url=image_url,
            source_url=f"https://www.artic.edu/artworks/{aid}",
            license=LICENSE,
            credit=credit(artist, title, year),
        )
