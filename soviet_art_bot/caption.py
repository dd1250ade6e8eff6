"""Post text and alt text, fitted to each platform's own way of counting.

The text is ``"Title"`` on one line and ``Artist, Year`` on the next (no comma
when the year is empty). When it does not fit, the title is shortened with an
ellipsis, never the artist: the credit is the point of the bot.

X counts *weighted* characters (twitter-text v3): after NFC normalisation,
code points in a few Latin/punctuation ranges weigh 1, everything else (CJK,
Cyrillic is in range 0-4351 so it weighs 1) weighs 2, an emoji sequence weighs
2 however many code points it has, and any URL weighs 23. Bluesky counts
graphemes. Mastodon counts graphemes too, after counting every URL as 23 and
every ``@user@domain`` as ``@user`` (``platforms.mastodon.mastodon_length``,
built on :func:`grapheme_length`).
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
# What twitter-text takes for a link, with or without ``http(s)://``: a host of
# valid labels (at most 63 characters each, punycoded) ending in a known
# top-level domain, then an optional port and path; trailing punctuation is not
# part of it. Country codes are X's full list; generic domains are the common
# ones. A dotted word ending in some other word may or may not be a link for X
# (its list is long and changes), so it counts as the larger of its own weight
# and 23: the text may come out a little shorter than needed, never too long.
_X_CC_TLDS = frozenset(
    "ac ad ae af ag ai al am an ao aq ar as at au aw ax az ba bb bd be bf bg bh bi bj bl bm "
    "bn bo bq br bs bt bv bw by bz ca cc cd cf cg ch ci ck cl cm cn co cr cu cv cw cx cy cz "
    "de dj dk dm do dz ec ee eg eh er es et eu fi fj fk fm fo fr ga gb gd ge gf gg gh gi gl "
    "gm gn gp gq gr gs gt gu gw gy hk hm hn hr ht hu id ie il im in io iq ir is it je jm jo "
    "jp ke kg kh ki km kn kp kr kw ky kz la lb lc li lk lr ls lt lu lv ly ma mc md me mf mg "
    "mh mk ml mm mn mo mp mq mr ms mt mu mv mw mx my mz na nc ne nf ng ni nl no np nr nu nz "
    "om pa pe pf pg ph pk pl pm pn pr ps pt pw py qa re ro rs ru rw sa sb sc sd se sg sh si "
    "sj sk sl sm sn so sr ss st su sv sx sy sz tc td tf tg th tj tk tl tm tn to tp tr tt tv "
    "tw tz ua ug uk um us uy uz va vc ve vg vi vn vu wf ws ye yt za zm zw "
    "рф укр бел бг срб мкд қаз мон ею հայ გე".split()
)
_X_GENERIC_TLDS = frozenset(
    "aero app art arte asia biz blog book cat club com coop design dev edu email gallery gov "
    "info int jobs live mil mobi moscow museum name net news one online org page photo "
    "photography pics pictures post pro shop site social space store tech tel today top "
    "travel tv wiki world xxx xyz рус москва орг ком онлайн сайт дети".split()
)
_X_SHORT_CC_OK = frozenset({"co", "tv"})  # "t.co" counts as a link; "foo.ru" alone does not
_X_URL_CANDIDATE = re.compile(
    r"(?<![A-Za-z0-9@\uff20$#\uff03])"
    r"(?:(?P<scheme>https?://)[^\s/?#:\"<>]+|(?<![.\-_/])(?:[A-Za-z0-9_-]+\.)+[A-Za-z]{2,})"
    r"(?P<port>:[0-9]{1,5})?(?P<path>[/?#][^\s\"<>]*)?",
    re.IGNORECASE,
)
_X_URL_TRAILING = ".,;:!?'\""

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
            i + 1 < len(cps)
            and cps[i + 1] in (0xFE0F, 0x20E3)  # keycaps, text-style emoji
            and (cp >= 0x2000 or chr(cp) in "0123456789#*")  # "A\ufe0f" is no emoji: 1 + 2
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


def _x_label_ok(label: str) -> bool:
    if not label or label.startswith("-") or label.endswith("-"):
        return False
    if not label.isascii():
        try:
            label = "xn--" + label.encode("punycode").decode("ascii")
        except UnicodeError:
            return False
    return len(label) <= 63


def _x_url_weight(candidate: str, *, scheme: bool, path: bool) -> int | None:
    """23 for a link, more for a word X may take for one, None for plain text."""
    host = re.split(r"[/?#:]", candidate.split("://", 1)[-1], maxsplit=1)[0].rstrip(".")
    labels = host.split(".")
    if scheme and len(labels) == 4 and all(x.isdigit() and int(x) < 256 for x in labels):
        return _X_URL_LENGTH  # http://192.168.0.1/
    if len(labels) < 2 or not all(_x_label_ok(x) for x in labels):
        return None
    if any("_" in x for x in labels[-2:]):
        return None  # an underscore is allowed in subdomains only
    tld = labels[-1].lower()
    if tld in _X_CC_TLDS or tld in _X_GENERIC_TLDS:
        if not scheme and not path and len(labels) == 2 and tld in _X_CC_TLDS:
            return _X_URL_LENGTH if tld in _X_SHORT_CC_OK else None
        return _X_URL_LENGTH
    if tld.isalpha():
        return max(_X_URL_LENGTH, _x_segment_length(candidate))
    return None


def _x_url_spans(text: str) -> list[tuple[int, int, int]]:
    """``(start, end, weight)`` of every link in ``text`` (already NFC)."""
    spans = []
    for match in _X_URL_CANDIDATE.finditer(text):
        start, end = match.span()
        while end > start:  # "see https://x.com/a." ends before the full stop
            last = text[end - 1]
            if last in _X_URL_TRAILING or (
                last in ")]"
                and text.count("([)]"[")]".index(last)], start, end) < text.count(last, start, end)
            ):
                end -= 1
            else:
                break
        candidate = text[start:end]
        has_path = match.group("path") is not None and match.start("path") < end
        weight = _x_url_weight(candidate, scheme=bool(match.group("scheme")), path=has_path)
        if weight is not None:
            spans.append((start, end, weight))
    return spans


def x_length(text: str) -> int:
    """Weighted length of ``text`` as X counts it against its 280 limit."""
    text = unicodedata.normalize("NFC", text)
    total = 0
    last = 0
    for start, end, weight in _x_url_spans(text):
        total += _x_segment_length(text[last:start]) + weight
        last = end
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
