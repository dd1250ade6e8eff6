"""The WikiArt client: limits that hold, retries that end, listings read safely."""

from __future__ import annotations

import json
import random
import threading
from collections.abc import Iterator

import pytest
from fake_wikiart import FakeImage, FakeWikiArt, make_picture, most_in_any_window

from soviet_art_bot.errors import IngestError
from soviet_art_bot.wikiart import (
    MAX_PAGES,
    ArrivalWindow,
    ImageRefused,
    InvalidPainting,
    ListingError,
    RetriesExhausted,
    RetryPolicy,
    WikiArtClient,
    check_style,
    image_url_problem,
    normalise_origin,
    parse_painting,
)

FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@pytest.fixture
def fake() -> Iterator[FakeWikiArt]:
    with FakeWikiArt(page_size=3) as server:
        yield server


@pytest.fixture
def client(fake: FakeWikiArt) -> Iterator[WikiArtClient]:
    with WikiArtClient(fake.origin, retry=FAST) as wikiart:
        yield wikiart


# -- pacing -------------------------------------------------------------------


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_a_place_is_held_from_sending_until_a_period_after_the_answer() -> None:
    clock = FakeClock()
    window = ArrivalWindow(2, 1.0, clock=clock, sleep=clock.sleep)
    first = window.acquire()
    second = window.acquire()
    clock.now += 0.3  # both answered 0.3 s after sending: they may have arrived that late
    window.release(first)
    window.release(second)
    window.release(first)  # a second release changes nothing
    third = window.acquire()
    # Not 1 s after sending (send-time counting) but 1 s after the answer.
    assert third.taken == pytest.approx(101.3)


def test_a_window_never_lets_limit_plus_one_requests_arrive_within_a_period() -> None:
    """Whatever the skew between sending and arrival, within the send..answer bounds."""
    rng = random.Random(5)
    clock = FakeClock()
    window = ArrivalWindow(10, 2.5, clock=clock, sleep=clock.sleep)
    arrivals = []
    for _ in range(60):
        place = window.acquire()
        latency = rng.uniform(0, 0.5)
        arrivals.append(place.taken + rng.uniform(0, latency))  # anywhere up to the answer
        clock.now += latency
        window.release(place)
    assert most_in_any_window(arrivals, 2.5) <= 10


def test_an_arrival_window_holds_across_threads() -> None:
    window = ArrivalWindow(5, 0.1)
    times: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(6):
            place = window.acquire()
            with lock:
                times.append(place.taken)
            window.release(place)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(times) == 48
    assert most_in_any_window(times, 0.1) == 5


def test_requests_from_many_threads_arrive_within_the_limit_despite_jitter() -> None:
    """Answers that overtake each other (random latency) must not bunch arrivals."""
    with FakeWikiArt(jitter=0.05) as fake:
        for i in range(30):
            fake.set_image(f"/img/{i}.jpg", FakeImage(body=b"\xff\xd8\xff" + bytes(i)))
        with WikiArtClient(fake.origin, retry=FAST) as client:
            threads = [
                threading.Thread(target=client.image, args=(f"{fake.origin}/img/{i}.jpg",))
                for i in range(30)
            ]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert fake.requests["image"] == 30
        assert fake.violations["image"] == 0
        assert most_in_any_window(fake.arrivals["image"], 1.0) <= 20


def test_listing_requests_stay_within_ten_per_two_and_a_half_seconds(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    """Thirteen pages against a fake enforcing WikiArt's exact window: no 429."""
    fake.page_size = 1
    for i in range(12):
        fake.add_painting(f"p{i}")
    fake.report_total = False  # so the client reads on to an empty 13th page
    pages = list(client.pages("socialist-realism"))
    assert len(pages) == 12
    assert fake.requests["listing"] == 13
    assert fake.violations["listing"] == 0
    arrivals = fake.arrivals["listing"]
    assert arrivals[10] - arrivals[0] >= 2.5
    assert most_in_any_window(arrivals, 2.5) <= 10


# -- the listing ----------------------------------------------------------------


def test_pages_stop_at_all_paintings_count_without_asking_for_more(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    for i in range(7):
        fake.add_painting(f"p{i}")
    pages = list(client.pages("socialist-realism"))
    assert [len(p.paintings) for p in pages] == [3, 3, 1]
    assert fake.requests["listing"] == 3


def test_pages_stop_at_the_first_empty_page_when_no_count_is_given(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    fake.report_total = False
    for i in range(6):
        fake.add_painting(f"p{i}")
    pages = list(client.pages("socialist-realism"))
    assert [p.number for p in pages] == [1, 2]
    assert fake.requests["listing"] == 3


def test_a_server_that_repeats_its_last_page_does_not_loop_forever(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    fake.report_total = False
    for i in range(3):
        fake.add_painting(f"p{i}")
    same = fake.listing("socialist-realism", 1)
    for number in range(2, 6):
        fake.raw_pages[number] = json.dumps(same).encode()
    assert [p.number for p in client.pages("socialist-realism")] == [1]
    assert fake.requests["listing"] == 2


def test_a_listing_that_never_ends_stops_at_the_page_cap(fake: FakeWikiArt) -> None:
    """Distinct paintings on every page and no count: stop, naming the URL and the fix."""
    fake.report_total = False
    for number in range(1, 6):  # more distinct, non-empty pages than the cap
        page = {"Paintings": [{"id": f"p{number}", "title": "T"}], "AllPaintingsCount": None}
        fake.raw_pages[number] = json.dumps(page).encode()
    with WikiArtClient(fake.origin, retry=FAST, max_pages=3) as client:
        pages = client.pages("socialist-realism")
        assert [next(pages).number for _ in range(3)] == [1, 2, 3]
        with pytest.raises(ListingError) as info:
            next(pages)
    message = str(info.value)
    assert f"{fake.origin}/en/paintings-by-style/socialist-realism?json=2&page=3" in message
    assert "not ended after 3 pages" in message and "--wikiart-url" in message
    assert "MAX_PAGES" in message
    assert fake.requests["listing"] == 3  # nothing read past the cap
    assert isinstance(info.value, IngestError)


def test_the_page_cap_is_far_above_any_real_style() -> None:
    with WikiArtClient() as client:  # no request: the session is built lazily
        assert client.max_pages == MAX_PAGES >= 1000


def test_any_style_slug_is_read(client: WikiArtClient, fake: FakeWikiArt) -> None:
    fake.style = "cubism"
    fake.add_painting("p1")
    assert [p.number for p in client.pages("cubism")] == [1]


def test_an_unknown_style_is_one_clear_error(client: WikiArtClient) -> None:
    with pytest.raises(ListingError) as info:
        list(client.pages("no-such-style"))
    message = str(info.value)
    assert "no-such-style" in message and "HTTP 404" in message and "--style" in message
    assert info.value.url.endswith("/en/paintings-by-style/no-such-style?json=2&page=1")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"<html>maintenance</html>", "not valid JSON"),
        (b'{"Paintings": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "nests arrays"),
        (b'{"Paintings": [], "AllPaintingsCount": ' + b"9" * 5000 + b"}", "5000 digits"),
        (b'{"Paintings": [{"title": "\\ud800"}]}', "lone UTF-16 surrogate"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"AllPaintingsCount": 3}', "no 'Paintings'"),
        (b'{"Paintings": {"id": 1}}', "'Paintings' is not a list"),
        (b'{"Paintings": [], "AllPaintingsCount": "many"}', "'AllPaintingsCount'"),
    ],
)
def test_a_malformed_envelope_is_refused_naming_the_url(
    fake: FakeWikiArt, client: WikiArtClient, body: bytes, problem: str
) -> None:
    fake.raw_pages[1] = body
    with pytest.raises(ListingError, match=problem) as info:
        client.page("socialist-realism", 1)
    assert "listing http://127.0.0.1:" in str(info.value)


# -- retries --------------------------------------------------------------------


def test_429_503_and_a_dropped_connection_are_retried(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    fake.add_painting("p1")
    fake.inject("listing", 429, 503, "drop")
    page = client.page("socialist-realism", 1)
    assert [p["id"] for p in page.paintings] == ["p1"]
    assert fake.requests["listing"] == 4
    assert (client.stats.retries, client.stats.throttled) == (3, 1)


def test_retry_after_is_honoured(fake: FakeWikiArt) -> None:
    fake.retry_after = "7"
    fake.add_painting("p1")
    fake.inject("listing", 429)
    sleeps: list[float] = []
    with WikiArtClient(fake.origin, retry=FAST, sleep=sleeps.append) as client:
        client.page("socialist-realism", 1)
    assert sleeps == [7.0]


def test_retries_are_bounded_and_the_error_names_url_and_status(fake: FakeWikiArt) -> None:
    path = "/uploads1/images/artist/down.jpg"
    fake.set_image(path, FakeImage(behaviour="status", status=503))
    with WikiArtClient(fake.origin, retry=FAST) as client:
        with pytest.raises(RetriesExhausted) as info:
            client.image(fake.origin + path)
    assert fake.paths[path] == FAST.attempts
    message = str(info.value)
    assert path in message and "HTTP 503" in message and "re-run" in message
    assert isinstance(info.value, IngestError)


def test_a_retry_after_longer_than_the_policy_allows_gives_up_at_once(fake: FakeWikiArt) -> None:
    fake.retry_after = "3600"
    fake.inject("listing", 429)
    with WikiArtClient(fake.origin, retry=FAST) as client:
        with pytest.raises(RetriesExhausted, match="Retry-After 3600") as info:
            client.page("socialist-realism", 1)
    assert fake.requests["listing"] == 1
    assert "gave up on listing http://" in str(info.value)


def test_backoff_grows_exponentially_with_jitter_and_is_capped() -> None:
    import random

    policy = RetryPolicy(base=1.0, cap=10.0)
    rng = random.Random(7)
    waits = [[policy.backoff(n, rng) for n in range(6)] for _ in range(50)]
    for run in waits:
        for n, wait in enumerate(run):
            ceiling = min(10.0, 2**n)
            assert ceiling / 2 <= wait <= ceiling
    assert len({round(run[2], 6) for run in waits}) > 10  # jittered, not identical


# -- images -------------------------------------------------------------------


def test_an_image_is_fetched_from_the_configured_origin(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    data = make_picture(30, 20)
    fake.set_image("/img/a.jpg", FakeImage(body=data))
    assert client.image(fake.origin + "/img/a.jpg").body == data


def test_a_redirect_off_the_allow_list_is_refused(fake: FakeWikiArt, client: WikiArtClient) -> None:
    fake.set_image(
        "/img/r.jpg", FakeImage(behaviour="redirect", location="https://evil.example/x.jpg")
    )
    with pytest.raises(ImageRefused, match="evil.example"):
        client.image(fake.origin + "/img/r.jpg")
    assert client.stats.image == 1  # never followed


def test_a_redirect_within_the_origin_is_followed_and_paced(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    data = make_picture(30, 20)
    fake.set_image("/img/b.jpg", FakeImage(body=data))
    fake.set_image("/img/r.jpg", FakeImage(behaviour="redirect", location="/img/b.jpg"))
    assert client.image(fake.origin + "/img/r.jpg").body == data
    assert client.stats.image == 2


def test_a_declared_oversized_body_is_refused_unread(
    fake: FakeWikiArt, client: WikiArtClient
) -> None:
    fake.set_image("/img/big.jpg", FakeImage(behaviour="huge-length"))
    with pytest.raises(ImageRefused, match="over the .*-byte cap"):
        client.image(fake.origin + "/img/big.jpg")


def test_a_streamed_body_is_cut_off_at_the_cap(fake: FakeWikiArt) -> None:
    fake.set_image("/img/stream.jpg", FakeImage(behaviour="chunked", chunked_size=3_000_000))
    with WikiArtClient(fake.origin, retry=FAST, max_image_bytes=1_000_000) as client:
        with pytest.raises(ImageRefused, match="over the 1000000-byte cap"):
            client.image(fake.origin + "/img/stream.jpg")


@pytest.mark.parametrize(
    ("url", "allowed"),
    [
        ("https://uploads8.wikiart.org/images/a/b.jpg", True),
        ("https://uploads0.wikiart.org/00158/images/a/b.JPG", True),
        ("http://127.0.0.1:9/images/a.jpg", True),  # the configured origin
        ("http://uploads8.wikiart.org/images/a/b.jpg", False),  # not https
        ("https://uploads8.wikiart.org:8443/images/a/b.jpg", False),
        ("https://wikiart.org.evil.example/a.jpg", False),
        ("https://evilwikiart.org/a.jpg", False),
        ("https://uploads8.wikiart.org@evil.example/a.jpg", False),
        ("https://uploads8.wikiart.org/images/../../etc/passwd", False),
        ("https://uploads8.wikiart.org/images/%2e%2e/secret.jpg", False),
        ("http://127.0.0.1:10/images/a.jpg", False),  # another port is another origin
        ("file:///etc/passwd", False),
        ("javascript:alert(1)", False),
    ],
)
def test_images_come_only_from_wikiart_or_the_given_origin(url: str, allowed: bool) -> None:
    assert (image_url_problem(url, "http://127.0.0.1:9") is None) is allowed


def test_a_refused_url_is_never_requested(fake: FakeWikiArt, client: WikiArtClient) -> None:
    with pytest.raises(ImageRefused, match="not \\*.wikiart.org"):
        client.image("https://evil.example/a.jpg")
    assert client.stats.image == 0


# -- painting objects ------------------------------------------------------------

ORIGIN = "https://www.wikiart.org"


def _raw(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "id": "577271cfedc2cb3880c2de61",
        "title": "Winter in Kursk",
        "artistName": "Aleksandr Deyneka",
        "year": "1916",
        "image": "https://uploads8.wikiart.org/images/aleksandr-deyneka/winter-in-kursk-1916.jpg",
        "paintingUrl": "/en/aleksandr-deyneka/winter-in-kursk-1916",
        "width": 634,
        "height": 750,
    }
    base.update(fields)
    return base


def test_a_real_listing_object_becomes_plain_catalog_fields() -> None:
    painting = parse_painting(_raw(), ORIGIN)
    assert painting.title == "Winter in Kursk" and painting.artist == "Aleksandr Deyneka"
    assert painting.source_url == ORIGIN + "/en/aleksandr-deyneka/winter-in-kursk-1916"
    assert (painting.width, painting.height, painting.year) == (634, 750, "1916")


def test_html_entities_are_decoded_exactly_once() -> None:
    painting = parse_painting(
        _raw(title="Lenin&#39;s funeral &amp;amp; after", artistName="Andrzej Wr&#243;blewski"),
        ORIGIN,
    )
    assert painting.title == "Lenin's funeral &amp; after"
    assert painting.artist == "Andrzej Wróblewski"
    double = parse_painting(_raw(title="Workers&amp;#39; Settlement"), ORIGIN)
    assert double.title == "Workers&#39; Settlement"


@pytest.mark.parametrize(
    ("raw", "plain"),
    [
        ("<b>Bold</b> worker", "Bold worker"),
        ("<i>Pravda</i> reader", "Pravda reader"),
        ("Line one<br>Line two", "Line one Line two"),
        ("Line one<BR />Line two", "Line one Line two"),
        ("<p>Study</p><p>for &#39;Bread&#39;</p>", "Study for 'Bread'"),
        ('<a href="/en/x" class="t">Worker</a>&#39;s song', "Worker's song"),
        ("W<i>or</i>ker<!-- note -->", "Worker"),
        # Escaped markup is text its author typed: decoded once, and kept.
        ("&lt;b&gt;Not markup&lt;/b&gt;", "<b>Not markup</b>"),
        ("&amp;lt;b&amp;gt;", "&lt;b&gt;"),
        # A '<' that starts no HTML tag is text too.
        ("1 < 2 and 3 > 2", "1 < 2 and 3 > 2"),
        ("Portrait of <Unknown>", "Portrait of <Unknown>"),
    ],
)
def test_markup_tags_are_stripped_before_entities_are_decoded(raw: str, plain: str) -> None:
    painting = parse_painting(_raw(title=raw, artistName=f"<b>{raw}</b>"), ORIGIN)
    assert painting.title == plain
    assert painting.artist == plain


def test_a_title_that_is_only_markup_is_no_title() -> None:
    with pytest.raises(InvalidPainting, match="no title"):
        parse_painting(_raw(title="<b></b><br>"), ORIGIN)


def test_titles_stay_plain_text_on_one_line() -> None:
    painting = parse_painting(_raw(title="  A\n\tlong\x00 title \u202e"), ORIGIN)
    assert painting.title == "A long title"


@pytest.mark.parametrize("year", ["XX cent.", "1920-1930", "XIX-XX cent.", ""])
def test_year_is_kept_as_free_text(year: str) -> None:
    assert parse_painting(_raw(year=year), ORIGIN).year == year


def test_a_numeric_or_missing_year_becomes_text() -> None:
    assert parse_painting(_raw(year=1937), ORIGIN).year == "1937"
    assert parse_painting(_raw(year=None), ORIGIN).year == ""


@pytest.mark.parametrize(
    ("fields", "reason"),
    [
        ({"id": None}, "no id"),
        ({"id": "../../catalog"}, "id has characters"),
        ({"id": "a/b"}, "id has characters"),
        ({"title": None}, "no title"),
        ({"title": "   "}, "no title"),
        ({"title": "&#32;"}, "no title"),
        ({"artistName": ""}, "no artist"),
        ({"image": None}, "no image URL"),
        ({"image": "https://evil.example/a.jpg"}, "not \\*.wikiart.org"),
        ({"image": "https://uploads1.wikiart.org/images/../../x.jpg"}, "'..'"),
    ],
)
def test_unusable_objects_are_refused_with_a_reason(fields: dict[str, object], reason: str) -> None:
    with pytest.raises(InvalidPainting, match=reason):
        parse_painting(_raw(**fields), ORIGIN)


def test_a_non_object_is_refused() -> None:
    with pytest.raises(InvalidPainting, match="not a JSON object"):
        parse_painting(["id"], ORIGIN)


def test_a_painting_url_that_leaves_the_origin_is_dropped() -> None:
    assert parse_painting(_raw(paintingUrl="//evil.example/x"), ORIGIN).source_url == ""


@pytest.mark.parametrize(
    "origin",
    ["ftp://www.wikiart.org", "https://www.wikiart.org/en", "wikiart.org", "https://u:p@x.org"],
)
def test_a_bad_wikiart_url_is_one_clear_error(origin: str) -> None:
    with pytest.raises(IngestError, match="--wikiart-url"):
        normalise_origin(origin)


def test_a_bad_style_is_one_clear_error() -> None:
    with pytest.raises(IngestError, match="--style"):
        check_style("../../admin")


# -- deadlines: a server that trickles cannot hold the ingest --------------------


def test_a_trickled_image_ends_at_its_deadline_and_is_retried_a_bounded_number_of_times(
    fake: FakeWikiArt,
) -> None:
    path = "/img/slow.jpg"
    fake.set_image(path, FakeImage(behaviour="trickle", content_type="image/jpeg"))
    policy = RetryPolicy(attempts=2, base=0.01, cap=0.05)
    with WikiArtClient(fake.origin, retry=policy, deadline=0.3, timeout=(10, 30)) as client:
        with pytest.raises(RetriesExhausted) as info:
            client.image(fake.origin + path)
    assert fake.paths[path] == 2
    message = str(info.value)
    assert message.startswith(f"gave up on image {fake.origin}{path} after 2 attempt(s)")
    assert "(last: no complete answer within 0.3 s)" in message


def test_a_trickled_listing_page_is_a_listing_failure(fake: FakeWikiArt) -> None:
    fake.trickle_pages.add(1)
    policy = RetryPolicy(attempts=2, base=0.01, cap=0.05)
    with WikiArtClient(fake.origin, retry=policy, deadline=0.3) as client:
        with pytest.raises(RetriesExhausted) as info:
            client.page("socialist-realism", 1)
    assert str(info.value).startswith("gave up on listing ")
    assert info.value.kind == "listing"


def test_every_request_has_a_stated_time_bound() -> None:
    with WikiArtClient() as client:  # defaults: no request is made
        assert client.request_bound == 4 * 120 + 3 * 120
        assert client.request_bound == client.retry.bound(client.deadline)
    fast = WikiArtClient(
        retry=RetryPolicy(attempts=2, base=1, cap=1, max_retry_after=5), deadline=3
    )
    assert fast.request_bound == 2 * 3 + 5


def test_an_oversized_listing_page_is_called_a_listing(fake: FakeWikiArt) -> None:
    """Not 'image ...': the operator must know it was the listing that failed."""
    fake.raw_pages[1] = json.dumps({"Paintings": [{"id": "x" * 100}] * 200}).encode()
    with WikiArtClient(fake.origin, retry=FAST, max_listing_bytes=10_000) as client:
        with pytest.raises(ListingError) as info:
            client.page("socialist-realism", 1)
    message = str(info.value)
    assert message.startswith(f"listing {fake.origin}/en/paintings-by-style/")
    assert "over the 10000-byte cap" in message and "image" not in message


def test_a_listing_redirected_off_the_origin_is_a_listing_failure(fake: FakeWikiArt) -> None:
    fake.page_redirects[1] = "https://evil.example/en/paintings-by-style/x?json=2&page=1"
    with WikiArtClient(fake.origin, retry=FAST) as client:
        with pytest.raises(ListingError) as info:
            client.page("socialist-realism", 1)
    message = str(info.value)
    assert message.startswith("listing ") and "redirected to https://evil.example" in message
    assert fake.requests["listing"] == 1  # never followed


def test_the_client_mounts_the_deadline_watchdog_on_a_given_session(fake: FakeWikiArt) -> None:
    import requests

    session = requests.Session()
    fake.add_painting("p1")
    with WikiArtClient(fake.origin, session=session, retry=FAST) as client:
        assert client.page("socialist-realism", 1).paintings
    adapter = session.get_adapter(fake.origin)
    assert type(adapter).__name__ == "WatchedAdapter"
