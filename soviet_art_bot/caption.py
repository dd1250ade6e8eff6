"""Post text and alt text, fitted to each platform's own way of counting.

The text is ``"Title"`` on one line and ``Artist, Year`` on the next (no comma
when the year is empty). When it does not fit, the title is shortened with an
ellipsis, never the artist: the credit is the point of the bot.

X counts *weighted* characters (twitter-text v3): after NFC normalisation,
code points in a few Latin/punctuation ranges weigh 1, everything else (CJK,
Cyrillic is in range 0-4351 so it weighs 1) weighs 2, an emoji sequence weighs
2 however many code points it has, and any URL weighs 23. Bluesky counts
graphemes; Mastodon counts code points.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable

from .catalog import Painting
from .errors import ArtBotError

ELLIPSIS = "\u2026"
ALT_TEXT_LIMIT = 1000  # X's limit, the strictest of the three platforms

# twitter-text v3 configuration
_X_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_URL_LENGTH = 23
_URL = re.compile(r"https?://[^\s]+", re.IGNORECASE)

Length = Callable[[str], int]


def _is_emoji_start(cp: int) -> bool:
    return (
        0x1F000 <= cp <= 0x1FAFF
        or 0x2600 <= cp <= 0x27BF
        or 0x2B00 <= cp <= 0x2BFF
        or 0x2300 <= cp <= 0x23FF
        or cp in (0x00A9, 0x00AE, 0x203C, 0x2049, 0x2122, 0x2139, 0x3030, 0x303D)
    )


def _is_emoji_continuation(cp: int) -> bool:
    return (
        cp in (0x200D, 0xFE0F, 0xFE0E, 0x20E3)
        or 0x1F3FB <= cp <= 0x1F3FF  # skin tones
        or 0xE0020 <= cp <= 0xE007F  # tag sequences (subdivision flags)
    )


def _x_weight(cp: int) -> int:
    for start, end in _X_RANGES:
        if start <= cp <= end:
            return 1
    return 2


def _x_segment_length(text: str) -> int:
    total = 0
    i = 0
    cps = [ord(c) for c in text]
    while i < len(cps):
        cp = cps[i]
        if 0x1F1E6 <= cp <= 0x1F1FF:  # regional indicators pair into one flag
            total += 2
            i += 2 if i + 1 < len(cps) and 0x1F1E6 <= cps[i + 1] <= 0x1F1FF else 1
            continue
        if _is_emoji_start(cp) or (
            i + 1 < len(cps) and cps[i + 1] in (0xFE0F, 0x20E3)  # keycaps, text-style emoji
        ):
            total += 2
            i += 1
            while i < len(cps) and _is_emoji_continuation(cps[i]):
                if cps[i] == 0x200D and i + 1 < len(cps):
                    i += 2  # ZWJ joins the next emoji into the same sequence
                else:
                    i += 1
            continue
        total += _x_weight(cp)
        i += 1
    return total


def x_length(text: str) -> int:
    """Weighted length of ``text`` as X counts it against its 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    last = 0
    for match in _URL.finditer(text):
        total += _x_segment_length(text[last : match.start()]) + _X_URL_LENGTH
        last = match.end()
    return total + _x_segment_length(text[last:])


def graphemes(text: str) -> list[str]:
    """Split ``text`` into user-perceived characters (extended grapheme clusters)."""
    try:
        import regex
    except ImportError:  # pragma: no cover - regex ships with the dev and bluesky extras
        clusters: list[str] = []
        for ch in text:
            if clusters and (unicodedata.combining(ch) or ord(ch) in (0x200D, 0xFE0F)):
                clusters[-1] += ch
            else:
                clusters.append(ch)
        return clusters
    return regex.findall(r"\X", text)


def grapheme_length(text: str) -> int:
    """Length in graphemes, as Bluesky counts its 300 limit."""
    return len(graphemes(text))


def credit(painting: Painting) -> str:
    """``Artist, Year``, or just ``Artist`` when the year is unknown."""
    return f"{painting.artist}, {painting.year}" if painting.year else painting.artist


def post_text(
    painting: Painting, *, limit: int, length: Length = len, link: str | None = None
) -> str:
    """The post's text, shortened (title first, then the link) to fit ``limit``."""
    for tail in ([f"\n{credit(painting)}\n{link}"] if link else []) + [f"\n{credit(painting)}"]:
        text = _fit_title(painting.title, tail, limit, length)
        if text is not None:
            return text
    raise ArtBotError(
        f"painting {painting.id}: the artist's name alone is longer than the {limit}-character "
        "limit; shorten it in catalog.json"
    )


def _fit_title(title: str, tail: str, limit: int, length: Length) -> str | None:
    text = f'"{title}"{tail}'
    if length(text) <= limit:
        return text
    parts = graphemes(title)
    lo, hi, best = 0, len(parts) - 1, None
    while lo <= hi:  # longest prefix that fits, never splitting a grapheme
        mid = (lo + hi) // 2
        candidate = f'"{"".join(parts[:mid]).rstrip()}{ELLIPSIS}"{tail}'
        if length(candidate) <= limit:
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    if best is None or best.startswith(f'"{ELLIPSIS}'):
        return None
    return best


def alt_text(painting: Painting, *, limit: int = ALT_TEXT_LIMIT) -> str:
    """Plain-text description naming title, artist and year, within ``limit``."""
    year = f", {painting.year}" if painting.year else ""
    tail = f'" by {painting.artist}{year}.'
    title = painting.title
    text = f'Painting "{title}{tail}'
    if len(text) > limit:
        room = max(limit - len(tail) - len('Painting "') - 1, 1)
        text = f'Painting "{title[:room].rstrip()}{ELLIPSIS}{tail}'
    return text
