"""Post text and alt text, and the ways platforms count characters."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from soviet_art_bot.caption import (
    alt_text,
    bluesky_fits,
    grapheme_length,
    graphemes,
    mastodon_length,
    post_text,
    x_length,
)
from soviet_art_bot.catalog import Painting


def painting(title="Winter in Kursk", artist="Aleksandr Deyneka", year="1916"):
    return Painting(id="p", image="images/p.jpg", title=title, artist=artist, year=year)


def test_text_format():
    assert post_text(painting(), limit=280) == '"Winter in Kursk"\nAleksandr Deyneka, 1916'


def test_empty_year_drops_the_comma():
    assert post_text(painting(year=""), limit=280) == '"Winter in Kursk"\nAleksandr Deyneka'


def test_free_text_year_is_kept():
    assert post_text(painting(year="XX cent."), limit=280).endswith("Aleksandr Deyneka, XX cent.")


@pytest.mark.parametrize("length", [len, x_length, grapheme_length])
def test_long_title_is_shortened_never_the_artist(length):
    long = painting(title="The first collective farmers. In the rays of the sun " * 12)
    text = post_text(long, limit=100, length=length)
    assert length(text) <= 100
    assert text.endswith('\u2026"\nAleksandr Deyneka, 1916')
    assert text.startswith('"The first collective farmers.')


def test_cjk_title_weighs_double_on_x():
    title = "冬天的库尔斯克" * 30
    text = post_text(painting(title=title), limit=280, length=x_length)
    assert x_length(text) <= 280
    assert len(text) < 160  # CJK counted twice: about half as many characters fit


def test_link_is_added_and_counted_as_23():
    text = post_text(
        painting(), limit=280, length=x_length, link="https://www.wikiart.org/en/" + "x" * 200
    )
    assert text.endswith("\n" + "https://www.wikiart.org/en/" + "x" * 200)
    assert x_length(text) == x_length('"Winter in Kursk"\nAleksandr Deyneka, 1916\n') + 23


def test_link_is_dropped_before_the_artist_when_nothing_fits():
    p = painting(title="T", artist="A" * 270, year="")
    text = post_text(p, limit=280, length=x_length, link="https://example.org/x")
    assert text == '"T"\n' + "A" * 270


@pytest.mark.parametrize(
    ("text", "weight"),
    [
        ("abc", 3),
        ("Ленин", 5),  # Cyrillic is inside 0-4351: weight 1
        ("漢字", 4),
        ("\u2014", 1),  # em dash is in a weight-1 range
        ("\u2026", 2),  # the ellipsis is not: X counts it as 2
        ("\u3000", 2),
        ("👍", 2),
        ("👍🏽", 2),  # emoji + skin tone: one emoji
        ("👨\u200d👩\u200d👧", 2),  # ZWJ family: one emoji
        ("🇺🇦", 2),  # flag: two regional indicators
        ("e\u0301", 1),  # NFC composes to é
        ("see https://example.com/a/very/long/path?x=1 now", 4 + 23 + 4),
    ],
)
def test_x_weighted_length(text, weight):
    assert x_length(text) == weight


def test_graphemes():
    assert grapheme_length("👨\u200d👩\u200d👧abc") == 4
    assert grapheme_length("e\u0301") == 1


def test_alt_text_names_title_artist_and_year():
    assert alt_text(painting()) == 'Painting "Winter in Kursk" by Aleksandr Deyneka, 1916.'
    assert alt_text(painting(year="")) == 'Painting "Winter in Kursk" by Aleksandr Deyneka.'
    long = alt_text(painting(title="x" * 5000))
    assert len(long) <= 1000 and long.endswith("by Aleksandr Deyneka, 1916.")


# -- X: twitter-text's own conformance data ------------------------------------

CONFORMANCE = json.loads(
    (Path(__file__).parent / "data" / "twitter_text_conformance.json").read_text("utf-8")
)


@pytest.mark.parametrize(
    "case", CONFORMANCE["weighted_length"], ids=lambda c: c["description"][:60]
)
def test_x_length_matches_twitter_text_conformance(case):
    assert x_length(case["text"]) == case["weightedLength"]


def test_x_length_counts_every_top_level_domain_as_a_link():
    """tlds.yml: each text is one link twitter-text extracts whole, so it weighs 23."""
    wrong = [c["text"] for c in CONFORMANCE["tlds"] if x_length(c["text"]) != 23]
    assert len(CONFORMANCE["tlds"]) == 1574 and all(
        c["expected"] == [c["text"]] for c in CONFORMANCE["tlds"]
    )
    assert wrong == []


@pytest.mark.parametrize(
    ("text", "weight"),
    [  # what twitter-text 3.1.0's parseTweet answers (npm, the reference X publishes)
        ("\u263a\ufe0e", 4),  # text-style presentation: no emoji, two weight-2 characters
        ("\U0001f1e6\U0001f1e7", 4),  # two regional indicators that are no flag
        ("example.ru", 23),  # a ccTLD domain is a link
        ("Magnitogorsk.ru, 1931", 23 + 6),
        ("t.co/abc\u00bb", 24),  # the link ends before the guillemet
        ("https://t.co/abc\u00bb", 24),
        ("St.Petersburg", 13),  # not a top-level domain
        ("\U0001f426\u200d\U0001f525", 5),  # newer than the reference's emoji list: 2 + 1 + 2
        ("\U0001f3f4\u200d\u2620\ufe0f", 2),
        ("\ufe0f", 2),
        ("\u2066\u202ahttp://foobar.\u067e\u0627\u06a9\u0633\u062a\u0627\u0646/\u202c\u2069", 31),
        ("\u00abx.com\u00bb", 1 + 23 + 1),
    ],
)
def test_x_length_agrees_with_the_reference_counter(text, weight):
    assert x_length(text) == weight


def test_x_length_agrees_with_an_independent_implementation():
    """twitter-text-parser (PyPI) is another port; on captions both must agree."""
    from twitter_text import parse_tweet

    samples = [
        '"Первомайская демонстрация"\nАлександр Дейнека, 1932',
        '"Lenin in Smolny 🇺🇦 example.ru/x"\nIsaak Brodsky, 1930',
        "see https://www.wikiart.org/en/x. and (t.co/abc) 冬天的库尔斯克 e\u0301",
        "\U0001f637" * 20 + " \u2026",
    ]
    assert [x_length(s) for s in samples] == [parse_tweet(s).weightedLength for s in samples]


# -- Mastodon: StatusLengthValidator -------------------------------------------


@pytest.mark.parametrize(
    ("text", "length"),
    [
        ("https://example.com/" + "a" * 200, 23),
        ("see https://example.com/a.", 4 + 23 + 1),  # trailing punctuation is not the link's
        ("(https://example.com/a_(b))", 1 + 23 + 1),  # balanced parentheses are
        ("gemini://example.org/x y", 23 + 2),  # Mastodon's other schemes
        ("example.ru", 10),  # no scheme, no link
        ("https://t.co/abc?x=1", 23 + 4),  # a t.co link ends with its slug
        ("https://\u043f\u0440\u0438\u043c\u0435\u0440.\u0440\u0444/\u043f\u0443\u0442\u044c", 23),
        ("hi @someone@mastodon.social", len("hi @someone")),
        ("@someone@mastodon.social.", len("@someone.")),
        ("mail@example.com", 16),  # preceded by a word character: no mention
        ("=@user@example.com", 18),
        ("https://example.com/@user@example.org", 23),  # links are replaced before mentions
        ("e\u0301" * 10, 10),  # graphemes, not code points
        ("\U0001f468\u200d\U0001f469\u200d\U0001f467", 1),
    ],
)
def test_mastodon_length_counts_as_the_validator(text, length):
    assert mastodon_length(text) == length


def test_mastodon_spoiler_text_shares_the_budget():
    assert mastodon_length("abc", spoiler_text="nudity") == 9
    p = painting(title="T" * 600)
    text = post_text(p, limit=500, length=lambda t: mastodon_length(t, spoiler_text="x" * 100))
    assert mastodon_length(text) == 400 and text.endswith("\nAleksandr Deyneka, 1916")


# -- Bluesky: graphemes and bytes ----------------------------------------------


def test_bluesky_counts_graphemes_and_bytes():
    assert bluesky_fits("a" * 300) and not bluesky_fits("a" * 301)
    dense = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"  # 1 grapheme, 25 bytes
    assert bluesky_fits(dense * 120) and not bluesky_fits(dense * 121)


def test_bluesky_fitting_respects_the_byte_limit():
    dense = "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466"
    text = post_text(painting(title=dense * 200), limit=300, length=grapheme_length, max_bytes=3000)
    assert bluesky_fits(text) and grapheme_length(text) < 150
    assert text.endswith('\u2026"\nAleksandr Deyneka, 1916')


# -- Fitting -------------------------------------------------------------------


def test_title_beginning_with_an_ellipsis_is_shortened_not_refused():
    title = "\u2026and the fields of the collective farm " * 20
    for length, limit in ((x_length, 280), (grapheme_length, 300), (mastodon_length, 500)):
        text = post_text(painting(title=title), limit=limit, length=length)
        assert length(text) <= limit and text.startswith('"\u2026and the fields')


def test_title_of_one_huge_grapheme_becomes_an_ellipsis():
    title = "a" + "\u0301" * 5000  # one grapheme, far over every limit
    text = post_text(painting(title=title), limit=300, length=grapheme_length, max_bytes=3000)
    assert text == '"\u2026"\nAleksandr Deyneka, 1916'


def test_link_goes_before_the_whole_title_does():
    p = painting(title="Lenin " * 40, artist="A" * 255, year="")
    text = post_text(p, limit=280, length=x_length, link="https://www.wikiart.org/en/x")
    assert "wikiart" not in text and text.startswith('"Lenin') and x_length(text) <= 280


def test_alt_text_cuts_between_graphemes():
    flag = "\U0001f1fa\U0001f1e6"
    long = alt_text(painting(title=flag * 600))
    assert len(long) <= 1000
    title = long[len('Painting "') : long.index("\u2026")]
    assert title == flag * (len(title) // 2)


_PIECES = st.sampled_from(
    [
        "Lenin", "in", "Smolny", " ", "  ", ".", "example.ru", "St.Petersburg", "t.co/abc",
        "https://www.wikiart.org/en/x", "@user@example.org", "\u2026", "\u00ab", "\u00bb",
        "\u041b\u0435\u043d\u0438\u043d", "\u51ac\u5929", "\u0627\u0644\u0639\u0645\u0644",
        "\U0001f1fa\U0001f1e6", "\U0001f1e6\U0001f1e7", "\u263a\ufe0e", "\U0001f637",
        "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "e\u0301", "\u0301",
        "\U0001f3fd", "\u200d", "\ufe0f", "\r\n", "\n", "\u05e9\u05bc\u05c1", "\u1100\u1161",
    ]
)  # fmt: skip
_TITLES = st.one_of(
    st.lists(_PIECES, max_size=120).map("".join),
    st.text(max_size=400),
)
_PLATFORMS = {
    "x": {"limit": 280, "length": x_length},
    "bluesky": {"limit": 300, "length": grapheme_length, "max_bytes": 3000},
    "mastodon": {"limit": 500, "length": mastodon_length},
}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    title=_TITLES,
    artist=st.sampled_from(["Aleksandr Deyneka", "\u0410. \u0414\u0435\u0439\u043d\u0435\u043a\u0430", "Yuri Pimenov (example.ru)"]),
    year=st.sampled_from(["", "1932", "XX cent."]),
    platform=st.sampled_from(sorted(_PLATFORMS)),
    link=st.sampled_from([None, "https://www.wikiart.org/en/aleksandr-deyneka/x"]),
)  # fmt: skip
def test_fitted_text_always_fits_and_keeps_the_artist(title, artist, year, platform, link):
    rules = _PLATFORMS[platform]
    p = painting(title=title, artist=artist, year=year)
    text = post_text(p, link=link, **rules)
    assert rules["length"](text) <= rules["limit"]
    assert bluesky_fits(text) or platform != "bluesky"
    credit = f"\n{artist}, {year}" if year else f"\n{artist}"
    assert text.endswith(credit) or text.endswith(f"{credit}\n{link}")
    shown = text[1 : text.rindex('"' + credit)]
    if shown != title:  # shortened: whole graphemes of the title, then the ellipsis
        assert shown.endswith("\u2026")
        parts = graphemes(title)
        prefixes = {"".join(parts[:k]).rstrip() for k in range(len(parts) + 1)}
        assert shown[:-1] in prefixes


def test_the_lambda_packages_the_grapheme_segmenter_for_every_platform():
    """Without ``regex`` the fitter would fall back to an approximation that can split a flag."""
    requirements = (Path(__file__).parent.parent / "requirements.txt").read_text()
    assert any(line.startswith("regex==") for line in requirements.splitlines())
