"""Post text and alt text, fitted to each platform's own way of counting.

The text is ``"Title"`` on one line and ``Artist, Year`` on the next (no comma
when the year is empty). When it does not fit, the title is shortened with an
ellipsis, never the artist: the credit is the point of the bot.

Each platform's count is the platform's own reference, ported rather than
approximated, because an approximation that counts low gets a post refused:

- X (:func:`x_length`): twitter-text v3's ``parseTweet`` (config ``v3.json``):
  NFC, then every link its extractor finds weighs 23, every emoji its emoji
  parser finds weighs 2, a UTF-16 code unit in the light ranges weighs 1 and
  anything else 2. The regular expressions are the JavaScript reference's own
  (``_twitter_text_data``, generated from the npm packages) applied, as there,
  to UTF-16 code units. ``twitter-text-parser`` (PyPI) agrees with the
  conformance data but imports ``pkg_resources`` at start, which the Lambda's
  Python 3.13 runtime does not ship, and its emoji list is newer than the
  reference's, so it counts some sequences lower than X's published counter.
- Mastodon (:func:`mastodon_length`): ``StatusLengthValidator``: the spoiler
  text plus the status, in grapheme clusters, after Mastodon's extractor has
  replaced every link (with a scheme) by 23 characters and every mention by
  ``@username``.
- Bluesky (:func:`bluesky_fits`): the post record's ``text`` allows at most 300
  graphemes and 3,000 UTF-8 bytes.
"""

from __future__ import annotations

import re
import sys
import unicodedata
from array import array
from collections.abc import Callable
from functools import cache

from .catalog import Painting
from .errors import ArtBotError

ELLIPSIS = "\u2026"
ALT_TEXT_LIMIT = 1000  # X's limit, the strictest of the three platforms

X_TEXT_LIMIT = 280
BLUESKY_MAX_GRAPHEMES = 300
BLUESKY_MAX_BYTES = 3000
URL_LENGTH = 23  # X and Mastodon count every link as 23 characters

Length = Callable[[str], int]

# -- X: twitter-text v3 ---------------------------------------------------------

# config/v3.json: weights are in hundredths; these ranges weigh 100, the rest 200.
_X_RANGES = ((0, 4351), (8192, 8205), (8208, 8223), (8242, 8247))
_X_MAX_URL_LENGTH = 4096
_X_MAX_TCO_SLUG_LENGTH = 40
_X_DEFAULT_PROTOCOL = "https://"
_PUNYCODE_SEPARATORS = re.compile("[\u3002\uff0e\uff61]")


@cache
def _x_regex(name: str) -> re.Pattern[str]:
    """One of the reference's patterns, compiled on first use.

    Each is compiled only when needed (the link patterns, the big ones, only
    for a text with a full stop), so a cold start pays for what it counts.
    """
    from . import _twitter_text_data as data

    source = getattr(data, name)
    flags = getattr(data, f"{name}_FLAGS")
    # JavaScript's ``$`` (no m flag) is the end of input; Python's also
    # matches before a final newline.
    source = source.replace("|$)", "|\\Z)")
    return re.compile(source, re.IGNORECASE if "i" in flags else 0)


def _utf16_units(text: str) -> str:
    """``text`` as one character per UTF-16 code unit, the way JavaScript sees it."""
    units = array("H")
    units.frombytes(text.encode("utf-16-le", "surrogatepass"))
    if sys.byteorder == "big":  # pragma: no cover - the Lambda is little-endian
        units.byteswap()
    return "".join(map(chr, units))


def _from_utf16_units(units: str) -> str:
    return units.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "surrogatepass")


def _punycode_label_ok(label: str) -> bool:
    """punycode.js ``toASCII`` of one label is 1 to 63 characters (lib/idna.js)."""
    parts = _PUNYCODE_SEPARATORS.sub(".", _from_utf16_units(label)).split(".")
    try:
        encoded = ".".join(
            p if p.isascii() else "xn--" + p.encode("punycode").decode("ascii") for p in parts
        )
    except UnicodeError:
        return False
    return 1 <= len(encoded) <= 63


def _x_valid_url(url: str, protocol: str, domain: str) -> bool:
    """extractUrlsWithIndices.js ``isValidUrl``: every label encodable, at most 4096 long."""
    if domain[:4] == "xn--" and not _x_regex("VALID_ASCII_DOMAIN").search(domain):
        return False
    if not all(_punycode_label_ok(label) for label in domain.split(".")):
        return False
    return len(protocol) + len(url) <= _X_MAX_URL_LENGTH


def _x_url_entities(units: str) -> dict[int, int]:
    """``{start: length}`` of every link twitter-text extracts, in UTF-16 units."""
    if "." not in units:
        return {}
    found: dict[int, int] = {}
    for match in _x_regex("EXTRACT_URL").finditer(units):
        before, url, protocol, domain, path = match.group(2, 3, 4, 5, 7)
        start, end = match.start(3), match.end(3)
        if not _x_valid_url(url, protocol or _X_DEFAULT_PROTOCOL, domain):
            continue
        if not protocol:
            if _x_regex("INVALID_URL_WITHOUT_PROTOCOL_PRECEDING_CHARS").search(before or ""):
                continue
            last: tuple[int, int] | None = None
            ascii_end = 0
            for ascii_match in _x_regex("VALID_ASCII_DOMAIN").finditer(domain):
                ascii_domain = ascii_match.group(0)
                ascii_start = domain.index(ascii_domain, ascii_end)
                ascii_end = ascii_start + len(ascii_domain)
                last = (start + ascii_start, len(ascii_domain))
                found[last[0]] = last[1]
            if last is None:
                continue
            if path:  # the domain's link takes the path and query along
                found[last[0]] = len(url.replace(domain, units[last[0] : last[0] + last[1]], 1))
        else:
            tco = _x_regex("VALID_TCO_URL").match(url)
            if tco:  # a t.co link ends with its slug and query
                if tco.group(1) and len(tco.group(1)) > _X_MAX_TCO_SLUG_LENGTH:
                    continue
                end = start + len(tco.group(0))
            found[start] = end - start
    return found


def _x_unit_weight(unit: str) -> int:
    code = ord(unit)
    return 1 if any(lo <= code <= hi for lo, hi in _X_RANGES) else 2


def x_length(text: str) -> int:
    """Weighted length of ``text`` as X counts it against its 280 limit (parseTweet)."""
    units = _utf16_units(unicodedata.normalize("NFC", text))
    urls = _x_url_entities(units)
    emoji = {m.start(): m.end() - m.start() for m in _x_regex("EMOJI").finditer(units)}
    total = 0
    i = 0
    while i < len(units):
        if i in urls:
            total += URL_LENGTH
            i += urls[i]
        elif i in emoji:
            total += 2
            i += emoji[i]
        else:
            if "\ud800" <= units[i] <= "\udbff" and "\udc00" <= units[i + 1 : i + 2] <= "\udfff":
                i += 1  # a surrogate pair weighs as its low half: 2
            total += _x_unit_weight(units[i])
            i += 1
    return total


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
    """Length in graphemes, as Bluesky and Mastodon count."""
    return len(graphemes(text))


# -- Bluesky: the post record's text -------------------------------------------


def bluesky_fits(text: str) -> bool:
    """Whether ``text`` is a valid ``app.bsky.feed.post`` text: 300 graphemes, 3,000 bytes."""
    return (
        len(text.encode("utf-8", "surrogatepass")) <= BLUESKY_MAX_BYTES
        and grapheme_length(text) <= BLUESKY_MAX_GRAPHEMES
    )


# -- Mastodon: StatusLengthValidator -------------------------------------------

_MASTODON_TCO_SLUG_LIMIT = 40


@cache
def _mastodon_regexes() -> tuple[object, object, object, object]:
    """Mastodon's link and mention patterns (twitter-text's Ruby gem as Mastodon configures it).

    From app/models/account.rb (``MENTION_RE``), app/lib/extractor.rb and
    config/initializers/twitter_regex.rb (the link pattern: any of Mastodon's
    schemes, a path of anything but white space that does not end in
    punctuation), over twitter-text's Ruby domain and top-level-domain rules.
    """
    import regex

    from . import _twitter_text_data as data

    directional = "\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
    invalid = "\ufffe\ufeff\uffff"
    punctuation = regex.escape("!\"#$%&'()*+,-./:;<=>?@[]^_`{|}~", special_only=False)
    spaces = (  # ASCII spaces and controls, then twitter-text's Unicode spaces
        "\\x00-\\x20\\x7f\\x85\\xa0\\u1680\\u180e\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000"
    )
    dc = f"[^{directional}{punctuation}{spaces}{invalid}]"
    subdomain = f"(?:(?:{dc}(?:[_-]|{dc})*)?{dc}\\.)"
    domain_name = f"(?:(?:{dc}(?:-|{dc})*)?{dc}\\.)"
    domain = (
        f"(?:{subdomain}*{domain_name}(?:{data.VALID_GTLD}|{data.VALID_CCTLD}|(?:xn--[0-9a-z]+)))"
    )
    preceding = f"(?:[^a-z0-9@\uff20$#\uff03{invalid}]|[{directional}]|^)"
    latin = data.LATIN_ACCENT_CHARS
    gem_path_char = f"[a-z\\p{{Cyrillic}}0-9!*';:=+,.$/%#\\[\\]\\-\\u2013_~&|@{latin}]"
    gem_parens = (
        f"\\((?:{gem_path_char}+|(?:{gem_path_char}*\\({gem_path_char}+\\){gem_path_char}*))\\)"
    )
    path_char = "[^\\p{White_Space}<>()?]"
    parens = f"\\((?:{path_char}+|(?:{path_char}*\\({path_char}+\\){path_char}*))\\)"
    path_end = f"(?:[^\\p{{White_Space}}()?!*\"'\u300c\u300d<>;:=,.$%\\[\\]~&|@]|(?:{gem_parens}))"
    path = f"(?:(?:{path_char}*(?:{parens}{path_char}*)*{path_end})|(?:{path_char}+/))"
    # Mastodon's UCHARS: what RFC 3987 allows in a query, planes 1 to 16 included
    uchars = "\\xa0-\\ud7ff\\uf900-\\ufdcf\\ufdf0-\\uffef\\ue000-\\uf8ff" + "".join(
        f"\\U{plane:04x}{'1000' if plane == 14 else '0000'}-\\U{plane:04x}fffd"
        for plane in range(1, 17)
    )
    query = f"(?:\\?[a-z0-9!?*'();:&=+$/%#\\[\\]\\-_.,~|@^{uchars}]*[a-z0-9_&=#/\\-{uchars}])"
    scheme = "(?:https?|dat|dweb|ipfs|ipns|ssb|gopher|gemini)://"
    flags = regex.IGNORECASE | regex.MULTILINE | regex.VERSION0
    url = regex.compile(
        f"({preceding})(({scheme})?({domain})(?::[0-9]+)?(/{path}*)?{query}?)", flags
    )
    tco = regex.compile(r"^https?://t\.co/([a-z0-9]+)", regex.IGNORECASE)
    username = "[a-z0-9_]+(?:[a-z0-9_.-]+[a-z0-9_]+)?"
    mention = regex.compile(
        f"(?<![=/[:word:]])@(({username})(?:@[[:word:].-]+[[:word:]]+)?)", regex.IGNORECASE
    )
    end_mention = regex.compile(f"(?:[@\uff20]|[{latin}]+|://)", regex.IGNORECASE)
    return url, tco, mention, end_mention


def _mastodon_domain_ok(url: str, domain: str) -> bool:
    """The gem's ``is_valid_domain``: IDNA-encodable, the link at most 4096 long."""
    try:
        encoded = domain.encode("idna")
    except UnicodeError:
        return False
    return len(url) + max(len(encoded) - len(domain), 0) <= _X_MAX_URL_LENGTH


def _mastodon_countable(text: str, url_length: int) -> str:
    """The status as the validator counts it: links as 23 x's, mentions as ``@username``."""
    if not text.strip():
        return ""
    url_re, tco_re, mention_re, end_mention_re = _mastodon_regexes()
    entities: list[tuple[int, int, str]] = []
    if ":" in text:
        for match in url_re.finditer(text):  # type: ignore[attr-defined]
            url, scheme, domain = match.group(2, 3, 4)
            if not scheme:
                continue  # Mastodon extracts links with a scheme only
            start, end = match.span(2)
            tco = tco_re.match(url)  # type: ignore[attr-defined]
            if tco:
                if len(tco.group(1)) > _MASTODON_TCO_SLUG_LIMIT:
                    continue
                url = tco.group(0)
                end = start + len(url)
            if _mastodon_domain_ok(url, domain):
                entities.append((start, end, "x" * url_length))
    if "@" in text or "\uff20" in text:
        for match in mention_re.finditer(text):  # type: ignore[attr-defined]
            if end_mention_re.match(text, match.end()):  # type: ignore[attr-defined]
                continue
            start, end = match.span(1)
            entities.append((start - 1, end, "@" + match.group(1).split("@")[0]))
    pieces: list[str] = []
    last = 0
    for start, end, replacement in sorted(entities, key=lambda e: e[0]):
        if start < last:
            continue  # overlaps the entity before it: the first one wins
        pieces += [text[last:start], replacement]
        last = end
    return "".join(pieces) + text[last:]


def mastodon_length(text: str, spoiler_text: str = "", *, url_length: int = URL_LENGTH) -> int:
    """Length as Mastodon's StatusLengthValidator counts it against ``max_characters``.

    The spoiler text (content warning) shares the budget with the status, so
    a caller that adds one must pass it here. ``url_length`` is the
    instance's ``characters_reserved_per_url`` (23 in Mastodon's code).
    """
    return grapheme_length(spoiler_text + _mastodon_countable(text, url_length))


def credit(painting: Painting) -> str:
    """``Artist, Year``, or just ``Artist`` when the year is unknown."""
    return f"{painting.artist}, {painting.year}" if painting.year else painting.artist


def source_credit(painting: Painting) -> str:
    """What the post must add to credit the painting's source, or "" when it asks nothing.

    An entry's ``credit`` is the caption its source asks for (AIC: "Artist.
    Title, Date. The Art Institute of Chicago."). The post already names the
    title, artist and year, so when the caption starts with exactly those only
    the rest ("The Art Institute of Chicago.") is added; any other credit (one
    written by hand) is added whole.
    """
    given = painting.extra.get("credit")
    if not isinstance(given, str) or not given.strip():
        return ""
    given = " ".join(given.split())
    for head in (
        f"{painting.artist}. {painting.title}, {painting.year}.",
        f"{painting.artist}. {painting.title}.",
    ):
        if given.startswith(head) and given[len(head) :].strip():
            return given[len(head) :].strip()
    return given


def post_text(
    painting: Painting,
    *,
    limit: int,
    length: Length = len,
    link: str | None = None,
    max_bytes: int | None = None,
) -> str:
    """The post's text, shortened (title first, then the link) to fit the platform.

    It fits when ``length(text) <= limit`` and, with ``max_bytes``, its UTF-8
    encoding is at most that long. The title loses whole graphemes from its end
    and gains an ellipsis, down to the ellipsis alone; the link goes before the
    last of the title does; the artist and the source's credit never go.
    """

    def fits(text: str) -> bool:
        if max_bytes is not None and len(text.encode("utf-8", "surrogatepass")) > max_bytes:
            return False
        return length(text) <= limit

    who = credit(painting)
    owed = source_credit(painting)
    if owed:
        who = f"{who}\n{owed}"
    if link:
        text = _fit_title(painting.title, f"\n{who}\n{link}", fits, keep_some=True)
        if text is not None:
            return text
    text = _fit_title(painting.title, f"\n{who}", fits, keep_some=False)
    if text is not None:
        return text
    size = f"{limit}-character" + (f" and {max_bytes}-byte" if max_bytes is not None else "")
    raise ArtBotError(
        f"painting {painting.id}: the artist's name alone is longer than the {size} "
        "limit; shorten it in catalog.json"
    )


def _fit_title(
    title: str, tail: str, fits: Callable[[str], bool], *, keep_some: bool
) -> str | None:
    """``"title"`` plus ``tail``, the title cut to its longest fitting prefix of graphemes.

    Counts are not monotonic in the prefix (a prefix can end in a word that
    becomes a 23-character link), so every candidate is checked, and the
    search may settle for a slightly shorter title than the longest possible.
    """
    text = f'"{title}"{tail}'
    if fits(text):
        return text
    parts = graphemes(title)
    lowest = 1 if keep_some and parts else 0
    lo, hi, best = lowest, len(parts) - 1, None
    while lo <= hi:  # longest prefix that fits, never splitting a grapheme
        mid = (lo + hi) // 2
        candidate = f'"{"".join(parts[:mid]).rstrip()}{ELLIPSIS}"{tail}'
        if fits(candidate):
            best, lo = candidate, mid + 1
        else:
            hi = mid - 1
    return best


def alt_text(painting: Painting, *, limit: int = ALT_TEXT_LIMIT) -> str:
    """Plain-text description naming title, artist and year, within ``limit``."""
    year = f", {painting.year}" if painting.year else ""
    owed = source_credit(painting)
    tail = f'" by {painting.artist}{year}.' + (f" {owed}" if owed else "")
    title = painting.title
    text = f'Painting "{title}{tail}'
    if len(text) > limit:
        room = max(limit - len(tail) - len('Painting "') - 1, 1)
        kept, used = [], 0
        for part in graphemes(title):  # whole graphemes only
            if used + len(part) > room:
                break
            kept.append(part)
            used += len(part)
        text = f'Painting "{"".join(kept).rstrip()}{ELLIPSIS}{tail}'
    return text
