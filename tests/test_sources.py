"""Sources beside WikiArt (AIC) and one store holding many: fakes on 127.0.0.1 -> dir or S3."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator

import pytest
from fake_aic import FakeAic
from fake_met import FakeMet
from fake_wikiart import FakeWikiArt
from hypothesis import given, settings
from hypothesis import strategies as st
from test_ingest import FAST, assert_store_matches_catalog, catalogued, populate

from soviet_art_bot.cli import main as cli_main
from soviet_art_bot.errors import IngestError
from soviet_art_bot.ingest import IngestSummary, scrape
from soviet_art_bot.log import Logger
from soviet_art_bot.sources import WikiArtSource, build_source
from soviet_art_bot.sources.aic import AicClient, AicSource
from soviet_art_bot.sources.met import MetClient, MetSource
from soviet_art_bot.sources.report import sources_report
from soviet_art_bot.store import Store
from soviet_art_bot.wikiart import WikiArtClient


@pytest.fixture
def aic() -> Iterator[FakeAic]:
    with FakeAic() as server:
        yield server


@pytest.fixture
def wikiart() -> Iterator[FakeWikiArt]:
    with FakeWikiArt(page_size=4) as server:
        yield server


def run_aic(store: Store, fake: FakeAic, *, page_limit: int = 2) -> IngestSummary:
    with AicClient(fake.origin, retry=FAST) as client:
        source = AicSource(client, page_limit=page_limit)
        return scrape(store, source=source, logger=Logger(io.StringIO()), progress=False)


def run_wikiart(store: Store, fake: FakeWikiArt, style: str = "socialist-realism") -> IngestSummary:
    with WikiArtClient(fake.origin, retry=FAST) as client:
        source = WikiArtSource(client, style)
        return scrape(store, source=source, logger=Logger(io.StringIO()), progress=False)


def by_source(store: Store) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for p in catalogued(store):
        out.setdefault(p.extra["source"], set()).add(p.id)
    return out


# -- AIC as a source ----------------------------------------------------------------


def test_aic_lists_every_page_and_keeps_only_public_domain_works_with_images(
    any_store: Store, aic: FakeAic
) -> None:
    aic.add(1001, "Worker and Collective Farm Woman", "Vera Mukhina", date="1937")
    aic.add(1002, "Tractor Drivers' Supper", "Arkady Plastov", date=None)
    aic.add(1003, "In Copyright", "Someone Living", public=False)
    aic.add(1004, "No Picture", "Aleksandr Deyneka", image_id=None)
    aic.add(1005, "Anonymous Banner", None)
    summary = run_aic(any_store, aic)

    assert summary.ok and summary.catalog_written
    # Four public-domain works over pages of 2: pages 1 and 2, then total_pages ends it.
    assert summary.pages == 2 and aic.requests["search"] == 2
    got = {p.id: p for p in assert_store_matches_catalog_aic(any_store)}
    assert set(got) == {"aic:1001", "aic:1002"}
    first = got["aic:1001"]
    assert first.image == "images/aic-1001.jpg"
    assert first.extra["source"] == "aic" and first.extra["license"] == "CC0-1.0"
    assert first.extra["credit"] == (
        "Vera Mukhina. Worker and Collective Farm Woman, 1937. The Art Institute of Chicago."
    )
    assert got["aic:1002"].extra["credit"] == (
        "Arkady Plastov. Tractor Drivers' Supper. The Art Institute of Chicago."
    )
    assert first.source_url == "https://www.artic.edu/artworks/1001"
    assert dict(summary.skipped) == {"aic:1004": "no image", "aic:1005": "no artist"}
    assert aic.violations == 0
    assert all("soviet-art-bot" in ua and "contact" in ua for ua in aic.user_agents)


def assert_store_matches_catalog_aic(store: Store) -> list:
    paintings = catalogued(store)
    for p in paintings:
        assert len(store.read(p.image)) == p.bytes
    return paintings


def test_aic_skips_a_work_a_mirror_lists_without_the_public_domain_filter(
    dir_store: Store, aic: FakeAic
) -> None:
    aic.honour_filter = False
    aic.add(1, "Public", "A Painter")
    aic.add(2, "Private", "B Painter", public=False)
    summary = run_aic(dir_store, aic)
    assert {p.id for p in catalogued(dir_store)} == {"aic:1"}
    assert ("aic:2", "not public domain") in summary.skipped


def test_aic_missing_image_is_skipped_with_its_reason(dir_store: Store, aic: FakeAic) -> None:
    aic.add(1, "Here", "A Painter")
    gone = aic.add(2, "Gone", "B Painter")
    aic.missing_images.add(gone["image_id"])
    summary = run_aic(dir_store, aic)
    assert {p.id for p in catalogued(dir_store)} == {"aic:1"}
    assert [label for label, _ in summary.skipped] == ["'aic:2'"]
    assert "HTTP 404" in summary.skipped[0][1]


def test_aic_rate_limit_answers_are_retried_and_never_provoked(
    dir_store: Store, aic: FakeAic
) -> None:
    aic.add(1, "One", "A Painter")
    aic.injected.extend([429, 503])
    summary = run_aic(dir_store, aic)
    assert summary.ok and summary.retries == 2 and summary.throttled == 1
    assert aic.violations == 0
    assert {p.id for p in catalogued(dir_store)} == {"aic:1"}


def test_aic_image_hosts_are_www_artic_edu_or_the_given_origin(aic: FakeAic) -> None:
    client = AicClient(aic.origin)
    assert client.image_problem("https://www.artic.edu/iiif/2/x/full/843,/0/default.jpg") is None
    assert client.image_problem(f"{aic.origin}/iiif/2/x/full/843,/0/default.jpg") is None
    assert "not www.artic.edu" in (client.image_problem("https://evil.example/x.jpg") or "")
    assert client.image_problem("https://www.artic.edu/iiif/2/../../x.jpg")


def test_aic_config_pointing_images_elsewhere_is_refused(dir_store: Store, aic: FakeAic) -> None:
    aic.iiif_url = "https://evil.example/iiif/2"
    aic.add(1, "One", "A Painter")
    with pytest.raises(IngestError, match="no usable paintings"):
        run_aic(dir_store, aic)
    assert aic.requests["image"] == 0


def test_aic_limit_is_one_window_of_60_a_minute_for_listing_and_images() -> None:
    client = AicClient()
    assert client._windows["listing"] is client._windows["image"]
    assert (client._windows["image"].limit, client._windows["image"].period) == (60, 60.0)


# -- one store, many sources ------------------------------------------------------------


def test_sources_merge_into_one_store_and_a_rescrape_keeps_the_others(
    any_store: Store, aic: FakeAic, wikiart: FakeWikiArt
) -> None:
    wiki_ids = set(populate(wikiart, 5))
    aic.add(7, "Steelworkers", "A Painter")
    run_wikiart(any_store, wikiart)
    run_aic(any_store, aic)
    assert by_source(any_store) == {"wikiart:socialist-realism": wiki_ids, "aic": {"aic:7"}}

    # A second WikiArt style joins, the first stays.
    wikiart.style = "soviet-poster"
    wikiart.paintings = wikiart.paintings[:2]
    run_wikiart(any_store, wikiart, "soviet-poster")
    held = by_source(any_store)
    poster = {p["id"] for p in wikiart.paintings}
    # A painting listed in both styles belongs to the latest scrape; none is lost.
    assert held == {
        "wikiart:socialist-realism": wiki_ids - poster,
        "wikiart:soviet-poster": poster,
        "aic": {"aic:7"},
    }

    # Re-scraping AIC with one more work adds it, keeps every WikiArt entry.
    aic.add(8, "Harvest", "B Painter")
    run_aic(any_store, aic)
    held = by_source(any_store)
    assert held["aic"] == {"aic:7", "aic:8"}
    assert set().union(*held.values()) == wiki_ids | {"aic:7", "aic:8"}
    for p in catalogued(any_store):
        assert len(any_store.read(p.image)) == p.bytes


def test_an_interrupted_scrape_of_one_source_leaves_the_others_intact(
    any_store: Store, aic: FakeAic, wikiart: FakeWikiArt
) -> None:
    populate(wikiart, 4)
    run_wikiart(any_store, wikiart)
    before = any_store.read("catalog.json")
    aic.add(1, "One", "A Painter")
    aic.down()  # AIC unreachable for the whole run
    with pytest.raises(IngestError, match="gave up"):
        run_aic(any_store, aic)
    assert any_store.read("catalog.json") == before
    assert_store_matches_catalog(any_store)


def test_an_old_single_source_catalog_keeps_its_entries_under_its_top_level_source(
    dir_store: Store, aic: FakeAic, wikiart: FakeWikiArt
) -> None:
    ids = set(populate(wikiart, 3))
    run_wikiart(dir_store, wikiart)
    doc = json.loads(dir_store.read("catalog.json"))
    for entry in doc["paintings"]:  # as a catalog written before sources existed
        del entry["source"]
    dir_store.write("catalog.json", json.dumps(doc).encode())
    aic.add(1, "One", "A Painter")
    run_aic(dir_store, aic)
    assert by_source(dir_store) == {"wikiart:socialist-realism": ids, "aic": {"aic:1"}}


def test_the_sources_command_lists_count_last_scrape_and_licence(
    dir_store: Store, aic: FakeAic, wikiart: FakeWikiArt, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(wikiart, 3)
    aic.add(1, "One", "A Painter")
    run_wikiart(dir_store, wikiart)
    run_aic(dir_store, aic)
    assert cli_main(["sources", "--store", str(dir_store.root), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    rows = {row["source"]: row for row in doc["sources"]}
    assert rows["aic"]["count"] == 1 and rows["aic"]["license"] == "CC0-1.0"
    assert rows["wikiart:socialist-realism"]["count"] == 3
    assert all(row["last_scrape"].endswith("Z") and row["complete"] for row in rows.values())
    assert cli_main(["sources", "--store", str(dir_store.root)]) == 0
    text = capsys.readouterr().out
    assert "aic: 1 paintings" in text and "licence CC0-1.0" in text
    assert sources_report(dir_store).sources[0].source == "aic"


def test_scrape_cli_takes_source_and_source_url(
    dir_store: Store, aic: FakeAic, capsys: pytest.CaptureFixture[str]
) -> None:
    for i in range(3):
        aic.add(i + 1, f"Work {i}", "A Painter")
    code = cli_main(
        ["scrape", "--store", str(dir_store.root), "--source", "aic", "--source-url", aic.origin,
         "--no-progress"]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0, out
    assert "scrape of aic into" in out
    assert {p.id for p in catalogued(dir_store)} == {"aic:1", "aic:2", "aic:3"}


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--source", "aic", "--style", "x"], "--style is for --source wikiart"),
        (["--source", "aic", "--wikiart-url", "http://127.0.0.1:9"], "--wikiart-url is for"),
        (["--query", "x"], "--query is for --source aic or met"),
        (["--source", "aic", "--source-url", "ftp://x"], "--source-url 'ftp://x' is not"),
        (["--source", "nope"], "invalid choice"),
    ],
)
def test_scrape_cli_refuses_a_mismatched_option_in_one_line(
    dir_store: Store, argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli_main(["scrape", "--store", str(dir_store.root), *argv]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: ") and message in err[0]


def test_build_source_names_the_known_sources() -> None:
    with pytest.raises(IngestError, match="use one of: wikiart, aic, met"):
        build_source("rijks")


# -- the Met as a source --------------------------------------------------------------


@pytest.fixture
def met() -> Iterator[FakeMet]:
    with FakeMet() as server:
        yield server


def run_met(store: Store, fake: FakeMet, *, per_page: int = 2) -> IngestSummary:
    with MetClient(fake.origin, retry=FAST) as client:
        source = MetSource(client, per_page=per_page)
        return scrape(store, source=source, logger=Logger(io.StringIO()), progress=False)


def test_met_reads_every_object_and_keeps_only_public_domain_images(
    any_store: Store, met: FakeMet
) -> None:
    met.add(1, "Collective Farm Festival", "Sergei Gerasimov")
    met.add(2, "Steel", "Aleksandr Deyneka", date="ca. 1930")
    met.add(3, "Not Ours To Show", "Someone", public=False)
    met.objects[3]["primaryImage"] = f"{met.origin}/CRDImages/ep/original/DT3.jpg"  # listed anyway
    met.add(4, "A Study", "Anonymous")
    met.objects[4]["artistDisplayName"] = ""
    met.listed_only.append(5)  # the search names it, /objects/5 is a 404
    summary = run_met(any_store, met)
    got = {p.id: p for p in catalogued(any_store)}
    assert set(got) == {"met:1", "met:2"}
    assert got["met:2"].year == "ca. 1930" and got["met:2"].extra["license"] == "CC0-1.0"
    assert got["met:1"].source_url == "https://www.metmuseum.org/art/collection/search/1"
    assert dict(summary.skipped) == {
        "met:3": "not public domain",
        "met:4": "no artist",
        "met:5": "HTTP 404 for the object",
    }
    # One search, one request per object, pages of two objects: 3 pages.
    assert met.requests["search"] == 1 and met.requests["object"] == 5
    assert summary.pages == 3 and met.violations == 0
    for p in got.values():
        assert len(any_store.read(p.image)) == p.bytes


def test_met_search_with_no_match_is_one_clear_error(dir_store: Store, met: FakeMet) -> None:
    with pytest.raises(IngestError, match="no usable paintings; check --query"):
        run_met(dir_store, met)


def test_met_rate_limit_answers_are_retried(dir_store: Store, met: FakeMet) -> None:
    met.add(1, "One", "A Painter")
    met.injected.extend([429, 502])
    summary = run_met(dir_store, met)
    assert summary.ok and summary.retries == 2 and summary.throttled == 1
    assert {p.id for p in catalogued(dir_store)} == {"met:1"}


def test_met_images_only_from_images_metmuseum_org_or_the_origin(met: FakeMet) -> None:
    client = MetClient(met.origin)
    assert client.image_problem("https://images.metmuseum.org/CRDImages/ep/original/a.jpg") is None
    assert "not images.metmuseum.org" in (client.image_problem("https://x.example/a.jpg") or "")
    assert (client._windows["listing"].limit, client._windows["listing"].period) == (80, 1.0)
    assert client._windows["listing"] is client._windows["image"]


def test_three_sources_merge_into_one_store(
    any_store: Store, aic: FakeAic, met: FakeMet, wikiart: FakeWikiArt
) -> None:
    wiki_ids = set(populate(wikiart, 3))
    aic.add(7, "Steelworkers", "A Painter")
    met.add(9, "Harvest", "B Painter")
    run_wikiart(any_store, wikiart)
    run_aic(any_store, aic)
    run_met(any_store, met)
    assert by_source(any_store) == {
        "wikiart:socialist-realism": wiki_ids,
        "aic": {"aic:7"},
        "met": {"met:9"},
    }
    # A failed Met re-scrape (the API down) leaves all three as they were.
    before = any_store.read("catalog.json")
    met.down()
    with pytest.raises(IngestError, match="gave up"):
        run_met(any_store, met)
    assert any_store.read("catalog.json") == before


# -- the same work once --------------------------------------------------------------


def _resized_jpeg(data: bytes, width: int) -> bytes:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        small = img.resize((width, round(img.height * width / img.width)))
        out = io.BytesIO()
        small.save(out, "JPEG", quality=70)
        return out.getvalue()


def test_a_work_in_wikiart_and_aic_is_kept_once_with_the_museums_metadata(
    any_store: Store, aic: FakeAic, wikiart: FakeWikiArt
) -> None:
    from fake_wikiart import FakeImage, make_picture

    picture = make_picture(843, 1000, seed="the same canvas")
    wikiart.add_painting(
        "57726d7fedc2cb3880b48a73",
        title="Collective Farm Festival",
        artist="Sergey Gerasimov",
        width=400,
        height=474,
        image=FakeImage(make=lambda: _resized_jpeg(picture, 400), content_type="image/jpeg"),
    )
    wikiart.add_painting("57726d7fedc2cb3880b48a74", title="Other", artist="Sergey Gerasimov")
    art = aic.add(42, "Collective farm festival.", "Gerasimov, Sergey", date="1937")
    aic.pictures[art["image_id"]] = picture
    aic.add(43, "Collective Farm Festival", "Sergey Gerasimov")  # a second version: kept
    aic.add(44, "Other", "Sergey Gerasimov")  # same names as WikiArt's, another image: kept
    run_wikiart(any_store, wikiart)
    summary = run_aic(any_store, aic)

    ids = {p.id: p for p in catalogued(any_store)}
    assert "57726d7fedc2cb3880b48a73" not in ids
    assert {"aic:42", "aic:43", "aic:44", "57726d7fedc2cb3880b48a74"} <= set(ids)
    assert ids["aic:42"].extra["same_as"] == ["57726d7fedc2cb3880b48a73"]
    assert [(d.kept, d.dropped) for d in summary.duplicates] == [
        ("aic:42", "57726d7fedc2cb3880b48a73")
    ]
    assert any("same work in two sources, kept once: 1" in line for line in summary.lines())

    # Re-scraping WikiArt does not bring the duplicate back, and nothing flips.
    again = run_wikiart(any_store, wikiart)
    assert [(d.kept, d.dropped) for d in again.duplicates] == [
        ("aic:42", "57726d7fedc2cb3880b48a73")
    ]
    assert {p.id for p in catalogued(any_store)} == set(ids)


def test_name_keys_ignore_case_accents_punctuation_and_name_order() -> None:
    from soviet_art_bot.sources.dedupe import name_key, title_key

    assert name_key("Deyneka, Aleksandr") == name_key("Aleksandr  DEYNEKA")
    assert name_key("Andrzej Wróblewski") == name_key("Andrzej Wroblewski")
    assert title_key("Collective farm festival.") == title_key("Collective Farm Festival")
    assert title_key("Farm Collective Festival") != title_key("Collective Farm Festival")


def test_the_perceptual_hash_survives_resizing_and_tells_pictures_apart() -> None:
    from fake_wikiart import make_picture

    from soviet_art_bot.sources.dedupe import MAX_DISTANCE, dhash

    one = make_picture(843, 1000, seed="one")
    other = make_picture(843, 1000, seed="other")
    assert (dhash(one) ^ dhash(_resized_jpeg(one, 300))).bit_count() <= MAX_DISTANCE
    assert (dhash(one) ^ dhash(other)).bit_count() > MAX_DISTANCE


# -- credit where the source asks for it ---------------------------------------------


def _aic_painting(title: str = "Worker and Collective Farm Woman", year: str = "1937"):
    from soviet_art_bot.catalog import Painting
    from soviet_art_bot.sources.aic import credit

    return Painting(
        id="aic:1", image="images/aic-1.jpg", title=title, artist="Vera Mukhina", year=year,
        extra={"source": "aic", "credit": credit("Vera Mukhina", title, year)},
    )  # fmt: skip


def test_post_and_alt_text_carry_aics_credit() -> None:
    from soviet_art_bot.caption import alt_text, post_text

    p = _aic_painting()
    assert post_text(p, limit=280) == (
        '"Worker and Collective Farm Woman"\nVera Mukhina, 1937\nThe Art Institute of Chicago.'
    )
    assert alt_text(p) == (
        'Painting "Worker and Collective Farm Woman" by Vera Mukhina, 1937. '
        "The Art Institute of Chicago."
    )
    assert post_text(_aic_painting(year=""), limit=280).endswith(
        "Vera Mukhina\nThe Art Institute of Chicago."
    )


@pytest.mark.parametrize("limit", [60, 80, 120])
def test_a_long_title_is_cut_before_the_credit_on_every_platform(limit: int) -> None:
    from soviet_art_bot.caption import alt_text, grapheme_length, post_text, x_length

    p = _aic_painting(title="Collective farmers greeting the harvest in the sun " * 8)
    for length in (len, x_length, grapheme_length):
        text = post_text(p, limit=limit, length=length, link="https://www.artic.edu/artworks/1")
        assert length(text) <= limit
        assert '\u2026"\nVera Mukhina, 1937\nThe Art Institute of Chicago.' in text
    alt = alt_text(p, limit=limit + 40)
    assert len(alt) <= limit + 40 and alt.endswith("1937. The Art Institute of Chicago.")


def test_a_hand_written_credit_is_added_whole_and_none_adds_nothing() -> None:
    from soviet_art_bot.caption import post_text
    from soviet_art_bot.catalog import Painting

    p = Painting(id="x", image="images/x.jpg", title="T", artist="A", year="1930",
                 extra={"credit": "Photo: State Museum"})  # fmt: skip
    assert post_text(p, limit=280) == '"T"\nA, 1930\nPhoto: State Museum'
    bare = Painting(id="y", image="images/y.jpg", title="T", artist="A", year="1930")
    assert post_text(bare, limit=280) == '"T"\nA, 1930'


def test_a_scrape_cut_off_mid_listing_leaves_the_store_as_it_was(
    dir_store: Store, aic: FakeAic, wikiart: FakeWikiArt
) -> None:
    populate(wikiart, 3)
    run_wikiart(dir_store, wikiart)
    aic.add(1, "One", "A Painter")
    aic.add(2, "Two", "B Painter")
    aic.add(3, "Three", "C Painter")
    run_aic(dir_store, aic)  # pages of 2: aic:1, aic:2 | aic:3
    before = dir_store.read("catalog.json")
    aic.add(4, "Four", "D Painter")
    # Page 1 answers; page 2 fails every attempt: the listing is cut off.
    original = aic.search

    def failing_after_first(query: dict[str, list[str]]) -> tuple[int, dict]:
        if query.get("page") == ["2"]:
            return 503, {}
        return original(query)

    aic.search = failing_after_first  # type: ignore[method-assign]
    with pytest.raises(IngestError, match="gave up on listing"):
        run_aic(dir_store, aic)
    assert dir_store.read("catalog.json") == before  # aic:3 not dropped, wikiart intact
    assert {p.id for p in catalogued(dir_store)} >= {"aic:1", "aic:2", "aic:3"}


# -- hostile listing objects -----------------------------------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner),
    max_leaves=12,
)
_aic_like = st.fixed_dictionaries(
    {},
    optional={
        "id": st.integers() | st.text(max_size=5) | st.none(),
        "title": st.text(max_size=30) | st.none(),
        "artist_title": st.text(max_size=30) | st.none(),
        "date_display": st.text(max_size=10) | st.none() | st.integers(),
        "image_id": st.text(max_size=40) | st.none(),
        "is_public_domain": st.booleans() | st.none() | st.text(max_size=4),
    },
)
_met_like = st.fixed_dictionaries(
    {},
    optional={
        "objectID": st.integers() | st.text(max_size=5) | st.none(),
        "title": st.text(max_size=30) | st.none(),
        "artistDisplayName": st.text(max_size=30) | st.none(),
        "objectDate": st.text(max_size=10) | st.none(),
        "primaryImage": st.text(max_size=60) | st.sampled_from(
            ["https://images.metmuseum.org/CRDImages/a.jpg", "https://evil.example/a.jpg",
             "https://images.metmuseum.org/../x.jpg", ""]
        ),
        "isPublicDomain": st.booleans() | st.none(),
        "objectURL": st.text(max_size=30),
    },
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(raw=_json | _aic_like)
def test_aic_parse_accepts_or_names_the_problem(raw: object) -> None:
    from soviet_art_bot.wikiart import InvalidPainting

    source = AicSource(AicClient(), iiif_url="https://www.artic.edu/iiif/2")
    try:
        listed = source.parse(raw)
    except InvalidPainting as exc:
        assert exc.reason
        return
    assert isinstance(raw, dict) and raw.get("is_public_domain") is True
    assert listed.id.startswith("aic:") and listed.title and listed.artist
    assert listed.image_url.startswith("https://www.artic.edu/iiif/2/")
    assert source.client.image_problem(listed.image_url) is None


@settings(max_examples=300, deadline=None)
@given(raw=_json | _met_like)
def test_met_parse_accepts_or_names_the_problem(raw: object) -> None:
    from soviet_art_bot.wikiart import InvalidPainting

    source = MetSource(MetClient())
    try:
        listed = source.parse(raw)
    except InvalidPainting as exc:
        assert exc.reason
        return
    assert isinstance(raw, dict) and raw.get("isPublicDomain") is True
    assert listed.id.startswith("met:") and listed.title and listed.artist
    assert source.client.image_problem(listed.image_url) is None
