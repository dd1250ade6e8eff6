"""Post text and alt text, and the ways platforms count characters."""

from __future__ import annotations

import pytest

from soviet_art_bot.caption import alt_text, grapheme_length, post_text, x_length
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
