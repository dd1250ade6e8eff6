"""HTML of the gallery's pages, from Jinja2 templates with autoescape on.

Jinja2 rather than string formatting: autoescape makes escaping the default
(a WikiArt title can hold ``<script>``), so forgetting it is not possible in
a template, and it is one small pure-Python package (with MarkupSafe). It is
imported only when a page is rendered.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from .posts import GalleryPost

TEMPLATES = Path(__file__).resolve().parent / "templates"
SITE_TITLE = "Soviet Art Bot: everything posted"
PLATFORM_LABELS = {"x": "X", "mastodon": "Mastodon", "bluesky": "Bluesky", "outbox": "Outbox"}
MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()


@lru_cache(maxsize=1)
def environment() -> Any:
    """The Jinja2 environment (built once per process)."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    return Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=True,  # every template, whatever its name
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )


def month_label(month: str) -> str:
    return f"{MONTH_NAMES[int(month[5:7]) - 1]} {month[:4]}"


def month_page(month: str) -> str:
    return f"{month}.html"


def post_view(post: GalleryPost, painting: Any) -> dict[str, Any]:
    """What a post's card shows; ``painting`` is the site's record of it (or None)."""
    thumb = getattr(painting, "thumb", None)
    return {
        "slot": post.slot,
        "date": post.date,
        "painting_id": post.painting_id,
        "title": post.title,
        "artist": post.artist,
        "year": post.year,
        "alt_text": post.alt_text,
        "thumb": quote(thumb) if thumb else None,
        "thumb_width": getattr(painting, "thumb_width", 0),
        "thumb_height": getattr(painting, "thumb_height", 0),
        "palette": list(getattr(painting, "palette", ()) or ()),
        "links": [
            {
                "platform": link.platform,
                "label": PLATFORM_LABELS.get(link.platform, link.platform),
                "url": link.url,
                "post_id": link.post_id,
                "other_title": link.other_title,
            }
            for link in post.links
        ],
    }


def _common(total_posts: int | None, built_at: str) -> dict[str, Any]:
    return {"site_title": SITE_TITLE, "total_posts": total_posts, "built_at": built_at}


def render_posts(
    *,
    heading: str,
    lede: str,
    posts: Sequence[dict[str, Any]],
    newer: dict[str, str] | None,
    older: dict[str, str] | None,
    archive: Sequence[dict[str, Any]],
    total_posts: int | None,
    built_at: str,
) -> bytes:
    """``index.html`` or a month's page."""
    template = environment().get_template("posts.html")
    html = template.render(
        heading=heading,
        lede=lede,
        posts=posts,
        newer=newer,
        older=older,
        archive=archive,
        **_common(total_posts, built_at),
    )
    return html.encode()


def render_palettes(decades: Iterable[dict[str, Any]], *, total_posts: int, built_at: str) -> bytes:
    template = environment().get_template("palettes.html")
    return template.render(decades=list(decades), **_common(total_posts, built_at)).encode()
