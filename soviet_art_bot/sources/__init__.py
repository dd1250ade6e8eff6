"""Where paintings come from: the interface the ingest drives, and the registry.

A source is a small class over the one request chokepoint
(:class:`soviet_art_bot.wikiart.WikiArtClient` or a subclass that states its
own limits, User-Agent and image hosts). It knows how to read its listing
page by page, how to turn one raw listing object into a
:class:`~soviet_art_bot.wikiart.ListedPainting` (title, artist, year, image
URL, licence, credit) or refuse it with a reason, and which catalog entries
are its own (``label``), so a scrape replaces only those and keeps every
other source's and style's entries.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol

import requests

from ..errors import IngestError
from ..wikiart import (
    DEFAULT_STYLE,
    ListedPainting,
    ListingPage,
    WikiArtClient,
    check_style,
    parse_painting,
)

NAMES = ("wikiart", "aic", "met")


class Source(Protocol):
    """What the ingest needs from a source."""

    key: str  # the --source name: "wikiart", "aic"
    label: str  # the entries' "source" field: "wikiart:socialist-realism", "aic"
    license: str  # what the source states for its images; "" when it states none
    client: WikiArtClient  # the chokepoint: pacing, retries, caps, hosts, redirects

    def pages(self) -> Iterator[ListingPage]:
        """The listing, page by page, ending where the source says it ends."""
        ...

    def parse(self, raw: Any) -> ListedPainting:
        """One listing object, or :class:`~soviet_art_bot.wikiart.InvalidPainting`."""
        ...

    def first_page_url(self) -> str:
        """Named in the error when the listing has nothing usable."""
        ...

    def hint(self) -> str:
        """Which options to check when the listing has nothing usable."""
        ...


@dataclass
class WikiArtSource:
    """One WikiArt style (unchanged behaviour: ids as WikiArt gives them)."""

    client: WikiArtClient
    style: str = DEFAULT_STYLE
    key: str = "wikiart"
    license: str = ""  # WikiArt states no licence for its images

    def __post_init__(self) -> None:
        self.style = check_style(self.style)

    @property
    def label(self) -> str:
        return f"wikiart:{self.style}"

    def pages(self) -> Iterator[ListingPage]:
        return self.client.pages(self.style)

    def parse(self, raw: Any) -> ListedPainting:
        return parse_painting(raw, self.client.origin)

    def first_page_url(self) -> str:
        return self.client.page_url(self.style, 1)

    def hint(self) -> str:
        return "check --style (and --wikiart-url)"


def build_source(
    name: str,
    *,
    origin: str | None = None,
    style: str | None = None,
    query: str | None = None,
    session: requests.Session | None = None,
) -> Source:
    """The source ``name`` with its options; one clear error for a bad name or option."""
    if name == "wikiart":
        if query:
            raise IngestError("--query is for --source aic or met; WikiArt takes --style")
        return WikiArtSource(WikiArtClient(origin, session=session), style or DEFAULT_STYLE)
    if name == "aic":
        from .aic import DEFAULT_QUERY, AicClient, AicSource

        if style:
            raise IngestError("--style is for --source wikiart; AIC takes --query")
        return AicSource(AicClient(origin, session=session), query or DEFAULT_QUERY)
    if name == "met":
        from .met import DEFAULT_QUERY as MET_QUERY
        from .met import MetClient, MetSource

        if style:
            raise IngestError("--style is for --source wikiart; the Met takes --query")
        return MetSource(MetClient(origin, session=session), query or MET_QUERY)
    raise IngestError(f"--source {name!r} is not a source; use one of: {', '.join(NAMES)}")
