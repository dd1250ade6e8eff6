"""The ingest end to end: fake WikiArt on 127.0.0.1 -> a directory or S3 (moto) store."""

from __future__ import annotations

import hashlib
import io
import json
import os
import re
import signal
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from fake_wikiart import (
    FakeImage,
    FakeWikiArt,
    make_picture,
    most_in_any_window,
    noise_image,
    png_bomb,
)
from PIL import Image

from soviet_art_bot.catalog import CATALOG_KEY, Painting, load_index, parse_catalog
from soviet_art_bot.cli import main as cli_main
from soviet_art_bot.errors import IngestError
from soviet_art_bot.images import MAX_BYTES
from soviet_art_bot.ingest import WORKERS, IngestSummary, scrape
from soviet_art_bot.log import Logger
from soviet_art_bot.store import DirStore, S3Store, Store
from soviet_art_bot.wikiart import RetryPolicy, WikiArtClient

REPO = Path(__file__).resolve().parent.parent
FAST = RetryPolicy(attempts=4, base=0.01, cap=0.05)


@pytest.fixture
def fake() -> Iterator[FakeWikiArt]:
    with FakeWikiArt(page_size=4) as server:
        yield server


def run(store: Store, fake: FakeWikiArt, *, fast: bool = True, **kwargs: object) -> IngestSummary:
    client = WikiArtClient(fake.origin, retry=FAST) if fast else None
    try:
        return scrape(
            store,
            origin=fake.origin,
            logger=Logger(io.StringIO()),
            progress=False,
            client=client,
            **kwargs,  # type: ignore[arg-type]
        )
    finally:
        if client is not None:
            client.close()


def populate(fake: FakeWikiArt, count: int = 8) -> list[str]:
    years = ["1916", "XX cent.", "1920-1930", "", "XIX-XX cent."]
    ids = []
    for i in range(count):
        pid = f"5772{i:020x}"
        fake.add_painting(
            pid,
            title=f"Worker&#39;s song {i}",
            artist="Andrzej Wr&#243;blewski" if i % 2 else "Aleksandr Deyneka",
            year=years[i % len(years)],
            width=60 + i,
            height=40 + i,
            fmt="PNG" if i == 3 else "JPEG",
        )
        ids.append(pid)
    return ids


def catalogued(store: Store) -> list[Painting]:
    return parse_catalog(store.read(CATALOG_KEY))


def image_keys(store: Store) -> set[str]:
    return {info.key for info in store.list("images/")}


def assert_store_matches_catalog(store: Store) -> list[Painting]:
    """Every catalog entry describes its stored image exactly; no stray image."""
    paintings = catalogued(store)
    for p in paintings:
        data = store.read(p.image)
        assert (len(data), hashlib.sha256(data).hexdigest()) == (p.bytes, p.sha256)
        with Image.open(io.BytesIO(data)) as img:
            assert img.size == (p.width, p.height)
            ext = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}[img.format or ""]
        assert p.image == f"images/{p.id}.{ext}"
    assert image_keys(store) == {p.image for p in paintings}
    return paintings


# -- a cold ingest -----------------------------------------------------------------


def test_a_cold_ingest_stores_and_catalogues_every_painting(
    any_store: Store, fake: FakeWikiArt
) -> None:
    ids = populate(fake, 8)
    big = fake.add_painting(
        "big0000000000000000000001", "Big", "Isaac Brodsky", width=1600, height=1100
    )
    fake.set_image(big["image"], FakeImage(body=noise_image(1600, 1100, seed=5)))
    summary = run(any_store, fake)

    assert summary.ok and summary.failed == []
    assert (summary.pages, summary.listed, summary.stored) == (3, 9, 9)
    assert (summary.downloaded, summary.reencoded, summary.unchanged) == (9, 1, 0)
    paintings = assert_store_matches_catalog(any_store)
    assert [p.id for p in paintings] == [*ids, big["id"]]  # stable: WikiArt's ids, listing order
    first, second = paintings[0], paintings[1]
    assert first.title == "Worker's song 0" and first.artist == "Aleksandr Deyneka"
    assert second.artist == "Andrzej Wróblewski"
    assert [p.year for p in paintings[:5]] == ["1916", "XX cent.", "1920-1930", "", "XIX-XX cent."]
    assert paintings[3].image.endswith(".png")
    assert paintings[-1].bytes <= MAX_BYTES and (paintings[-1].width, paintings[-1].height) == (
        1600,
        1100,
    )
    assert first.source_url == f"{fake.origin}/en/artist/{first.id}"
    assert json.loads(any_store.read(CATALOG_KEY))["source"] == "wikiart:socialist-realism"
    # The posting index is built with the catalog, so the first post reads little.
    assert load_index(any_store).by_id(ids[2]).title == "Worker's song 2"  # type: ignore[union-attr]
    assert sum(fake.violations.values()) == 0
    lines = "\n".join(summary.lines())
    for word in ("pages: 3", "paintings: 9", "downloaded: 9", "re-encoded: 1", "skipped: 0",
                 "failed: 0", "bytes:", "elapsed:"):  # fmt: skip
        assert word in lines


def test_limits_hold_over_a_run_of_many_pages_and_images(dir_store: DirStore) -> None:
    """WikiArt's exact windows, counted at arrival: not one request over, and downloads overlap."""
    with FakeWikiArt(page_size=4, latency=0.02) as fake:
        populate(fake, 46)
        summary = run(dir_store, fake)
        assert summary.ok and summary.stored == 46
        assert fake.requests == {"listing": 12, "image": 46}
        assert sum(fake.violations.values()) == 0 and summary.throttled == 0
        assert most_in_any_window(fake.arrivals["image"], 1.0) <= 20
        assert most_in_any_window(fake.arrivals["listing"], 2.5) <= 10
        # Downloads overlap (how fast a run is, is bench/bench_ingest.py's to measure).
        assert fake.peak_in_flight["image"] > 1


# -- re-runs ---------------------------------------------------------------------


def test_a_rerun_requests_no_image_it_already_has(any_store: Store, fake: FakeWikiArt) -> None:
    ids = populate(fake, 6)
    run(any_store, fake)
    etag = any_store.head(CATALOG_KEY).etag  # type: ignore[union-attr]
    images_before = fake.requests["image"]

    again = run(any_store, fake)
    assert fake.requests["image"] == images_before
    assert (again.unchanged, again.downloaded, again.ok) == (6, 0, True)
    assert not again.catalog_written
    assert any_store.head(CATALOG_KEY).etag == etag  # type: ignore[union-attr]

    # New metadata costs no image request; a new image URL costs exactly one.
    fake.paintings[0]["title"] = "Renamed"
    fake.paintings[1]["image"] = "/uploads2/images/artist/replaced.jpg"
    fake.set_image(
        "/uploads2/images/artist/replaced.jpg", FakeImage(body=make_picture(99, 77, seed="new"))
    )
    third = run(any_store, fake)
    assert fake.requests["image"] == images_before + 1
    assert (third.unchanged, third.downloaded) == (5, 1)
    paintings = assert_store_matches_catalog(any_store)
    assert paintings[0].title == "Renamed"
    assert (paintings[1].width, paintings[1].height) == (99, 77)
    assert [p.id for p in paintings] == ids


def test_an_image_on_another_wikiart_host_is_the_same_image(
    dir_store: DirStore, fake: FakeWikiArt
) -> None:
    """WikiArt spreads files over uploads0..8; only a new path means a new image."""
    populate(fake, 3)
    run(dir_store, fake)
    before = fake.requests["image"]
    with FakeWikiArt(page_size=4) as mirror:  # same listing, another origin
        mirror.paintings = fake.paintings
        mirror.images = fake.images
        summary = run(dir_store, mirror)
    assert mirror.requests["image"] == 0 and fake.requests["image"] == before
    assert summary.unchanged == 3


def test_a_lost_catalog_is_rebuilt_from_the_store_without_downloading(
    any_store: Store, fake: FakeWikiArt
) -> None:
    populate(fake, 5)
    run(any_store, fake)
    expected = [p.to_json() for p in catalogued(any_store)]
    any_store.delete(CATALOG_KEY)
    images_before = fake.requests["image"]
    summary = run(any_store, fake)
    assert fake.requests["image"] == images_before
    assert summary.recovered == 5 and summary.ok
    assert [p.to_json() for p in catalogued(any_store)] == expected


def test_an_upload_is_skipped_when_the_store_has_the_same_content(
    any_store: Store, fake: FakeWikiArt
) -> None:
    populate(fake, 3)
    run(any_store, fake)
    puts: list[str] = []
    if isinstance(any_store, S3Store):
        any_store.client.meta.events.register(
            "before-parameter-build.s3.PutObject", lambda params, **_: puts.append(params["Key"])
        )
        watched = lambda: None  # noqa: E731
    else:
        path = any_store.root / catalogued(any_store)[0].image
        mtime = path.stat().st_mtime_ns
        watched = lambda: path.stat().st_mtime_ns == mtime  # noqa: E731
    # Same bytes under a new URL: downloaded (the URL changed) but not uploaded again.
    old_path = fake.paintings[0]["image"]
    fake.paintings[0]["image"] = "/uploads5/images/artist/moved.jpg"
    fake.images["/uploads5/images/artist/moved.jpg"] = fake.images[old_path]
    summary = run(any_store, fake)
    assert (summary.downloaded, summary.uploads_skipped) == (1, 1)
    assert not any(key.startswith("collection/images/") for key in puts)
    assert watched() in (None, True)
    assert_store_matches_catalog(any_store)


# -- interrupted runs ------------------------------------------------------------------


def _store_arg(store: Store) -> str:
    return f"s3://{store.bucket}/{store.prefix}" if isinstance(store, S3Store) else str(store.root)


_SUMMARY_DOWNLOADED = re.compile(r"downloaded: (\d+) \((\d+) image requests, (\d+) retries")
_SUMMARY_RECOVERED = re.compile(r"unchanged: (\d+)(?: \(\+(\d+) recovered)?")


def test_a_run_killed_with_sigkill_is_finished_by_the_next(
    any_store: Store, fake: FakeWikiArt
) -> None:
    """What a kill at any moment guarantees, whatever the timing.

    The killed run can have requested and not yet stored at most one image per
    download worker (those in flight at the kill); every image it stored is
    recovered from the store by the next run, never requested again. The
    second half of the listing is held unanswered, so the killed run cannot
    finish before the kill lands.
    """
    ids = populate(fake, 40)
    path_of = {entry["id"]: entry["image"] for entry in fake.paintings}
    gate = threading.Event()
    for pid in ids[20:]:
        fake.images[path_of[pid]].gate = gate
    fake.page_size = 10  # so two runs' listings together stay within one window
    fake.latency = 0.05
    cmd = [sys.executable, str(REPO / "scripts" / "scrape_wikiart.py"), "--store",
           _store_arg(any_store), "--wikiart-url", fake.origin, "--no-progress"]  # fmt: skip
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        pause = threading.Event()
        while len(image_keys(any_store)) < 8:  # bounded by the gate: it cannot finish
            assert child.poll() is None, "the scrape ended before it could be killed"
            pause.wait(0.02)  # polling the store's state, not a sync by time
        child.send_signal(signal.SIGKILL)
    finally:
        child.wait(timeout=30)
        gate.set()
    assert child.returncode == -signal.SIGKILL

    # Every request the killed run had sent has reached WikiArt (and left its
    # window), as it would have before anyone re-ran the command.
    fake.drain()
    fake.wait_for_windows()
    assert not any_store.exists(CATALOG_KEY)  # written last: never half a collection
    stored = image_keys(any_store)
    assert 8 <= len(stored) <= 20
    for key in stored:  # every object at a real key is a whole image
        with Image.open(io.BytesIO(any_store.read(key))) as img:
            img.load()
    stored_ids = {key.removeprefix("images/").rsplit(".", 1)[0] for key in stored}
    assert stored_ids <= set(ids[:20])
    before = Counter(fake.paths)

    fake.latency = 0.0
    finish = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert finish.returncode == 0, finish.stderr
    assert "failed: 0" in finish.stdout
    # The re-run's own account: each missing image fetched once, each stored one
    # recovered. (An upload the killed run had sent may land after `stored` was
    # read: the re-run then recovers it too, so only "at least" is certain.)
    got = _SUMMARY_DOWNLOADED.search(finish.stdout)
    kept = _SUMMARY_RECOVERED.search(finish.stdout)
    assert got is not None and kept is not None, finish.stdout
    downloaded, image_requests, retries = map(int, got.groups())
    unchanged, recovered = int(kept.group(1)), int(kept.group(2) or 0)
    assert (image_requests, retries, unchanged) == (downloaded, 0, 0)
    assert downloaded + recovered == 40 and recovered >= len(stored)
    # WikiArt's account, per image: the re-run asked for no image the killed run had
    # stored; every image was asked for once, except those in flight at the kill.
    for pid in stored_ids:
        assert fake.paths[path_of[pid]] == before[path_of[pid]] == 1, pid
    counts = {pid: fake.paths[path_of[pid]] for pid in ids}
    assert set(counts.values()) <= {1, 2}, counts
    twice = {pid for pid, n in counts.items() if n == 2}
    assert not twice & stored_ids
    assert len(twice) <= WORKERS, twice
    requested = {path for path in fake.paths if not path.startswith("/en/")}
    assert requested == set(path_of.values())
    assert sum(fake.violations.values()) == 0

    paintings = assert_store_matches_catalog(any_store)
    assert [p.id for p in paintings] == ids
    if isinstance(any_store, DirStore):
        partial = any_store.root / ".partial"
        assert not partial.exists() or list(partial.iterdir()) == []


def test_a_listing_that_breaks_midway_leaves_the_catalog_alone(
    dir_store: DirStore, fake: FakeWikiArt
) -> None:
    populate(fake, 8)
    run(dir_store, fake)  # a first, complete catalog
    before = dir_store.read(CATALOG_KEY)
    fake.paintings[0]["title"] = "Changed"
    fake.retry_after = "3600"  # longer than a run waits: give up at once
    fake.page_status[2] = 503
    with pytest.raises(IngestError, match="gave up on .*page=2"):
        run(dir_store, fake)
    assert dir_store.read(CATALOG_KEY) == before


# -- hostile listings ------------------------------------------------------------------


def test_hostile_entries_are_refused_without_side_effects(
    any_store: Store, fake: FakeWikiArt, tmp_path: Path
) -> None:
    good = populate(fake, 3)
    hostile_paths = {
        "html": "/uploads1/images/x/html.jpg",
        "truncated": "/uploads1/images/x/truncated.jpg",
        "bomb": "/uploads1/images/x/bomb.png",
        "huge": "/uploads1/images/x/huge.jpg",
        "endless": "/uploads1/images/x/endless.jpg",
        "duplicate": "/uploads1/images/x/duplicate.jpg",
        "svg": "/uploads1/images/x/drawing.jpg",
    }
    fake.add_painting("foreign000000000000000001", image_url="https://evil.example/a.jpg")
    fake.add_painting("dotdot0000000000000000001", image_url="/uploads1/images/../../catalog.json")
    fake.add_painting("html00000000000000000001", image_url=hostile_paths["html"])
    fake.set_image(
        hostile_paths["html"], FakeImage(body=b"<!DOCTYPE html><html>Rate limited</html>")
    )
    fake.add_painting("svg00000000000000000001", image_url=hostile_paths["svg"])
    fake.set_image(hostile_paths["svg"], FakeImage(
        body=b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>'))  # fmt: skip
    fake.add_painting("trunc0000000000000000001", image_url=hostile_paths["truncated"])
    fake.set_image(hostile_paths["truncated"], FakeImage(body=make_picture(300, 200)[:900]))
    fake.add_painting("bomb00000000000000000001", image_url=hostile_paths["bomb"])
    fake.set_image(hostile_paths["bomb"], FakeImage(body=png_bomb(60000, 60000)))
    fake.add_painting("huge00000000000000000001", image_url=hostile_paths["huge"])
    fake.set_image(hostile_paths["huge"], FakeImage(behaviour="huge-length"))
    fake.add_painting("endless00000000000000001", image_url=hostile_paths["endless"])
    fake.set_image(
        hostile_paths["endless"], FakeImage(behaviour="chunked", chunked_size=41 * 2**20)
    )
    fake.add_raw({"id": "notitle00000000000000001", "artistName": "A", "image": "/uploads1/a.jpg"})
    fake.add_raw({"id": "noartist0000000000000001", "title": "T", "image": "/uploads1/b.jpg"})
    fake.add_raw({"id": "noimage00000000000000001", "title": "T", "artistName": "A"})
    fake.add_raw({"title": "No id", "artistName": "A", "image": "/uploads1/c.jpg"})
    fake.add_raw(
        {"id": "../../catalog", "title": "T", "artistName": "A", "image": "/uploads1/d.jpg"}
    )
    fake.add_raw("not an object")
    fake.add_painting(good[0], title="Impostor", image_url=hostile_paths["duplicate"])
    fake.set_image(hostile_paths["duplicate"], FakeImage(body=make_picture(10, 10)))
    double = fake.add_painting("double000000000000000001", title="Workers&amp;#39; Settlement")
    markup = fake.add_painting(
        "markup000000000000000001",
        title="<b>Bold</b><br>&lt;i&gt; stays",
        artist="<i>A.</i> Plastov",
    )

    summary = run(any_store, fake)

    assert summary.ok  # refusals are reasons, not failures
    reasons = dict(summary.skipped)
    assert "not *.wikiart.org" in reasons["'foreign000000000000000001'"]
    assert "'..'" in reasons["'dotdot0000000000000000001'"]
    assert "HTML" in reasons["'html00000000000000000001'"]
    assert reasons["'svg00000000000000000001'"] == "not a JPEG/PNG/GIF/WebP image (looks like SVG)"
    assert "truncated" in reasons["'trunc0000000000000000001'"]
    assert "decompression bomb" in reasons["'bomb00000000000000000001'"]
    assert "cap" in reasons["'huge00000000000000000001'"]
    assert "cap" in reasons["'endless00000000000000001'"]
    assert reasons["'notitle00000000000000001'"] == "no title"
    assert reasons["'noartist0000000000000001'"] == "no artist name"
    assert reasons["'noimage00000000000000001'"] == "no image URL"
    assert reasons["(no id)"] == "no id"
    assert "id has characters" in reasons["'../../catalog'"]
    assert "not a JSON object" in " ".join(reasons.values())
    assert "duplicate id" in reasons[repr(good[0])]
    assert len(summary.skipped) == 15

    paintings = assert_store_matches_catalog(any_store)
    assert [p.id for p in paintings] == [*good, double["id"], markup["id"]]
    assert paintings[0].title == "Worker's song 0"  # the impostor did not replace it
    assert paintings[-2].title == "Workers&#39; Settlement"  # decoded once, not twice
    # Markup is dropped; escaped markup is the author's text, decoded once and kept.
    assert (paintings[-1].title, paintings[-1].artist) == ("Bold <i> stays", "A. Plastov")
    assert fake.paths[hostile_paths["duplicate"]] == 0  # never even requested
    assert not any(".." in path for path in fake.paths)
    keys = {info.key for info in any_store.list("")}
    assert all(key.startswith(("images/", "state/")) or key == CATALOG_KEY for key in keys)
    if isinstance(any_store, DirStore):  # nothing beside the store
        assert sorted(p.name for p in tmp_path.iterdir()) == ["store"]
    assert sum(fake.violations.values()) == 0


# -- failures and throttling --------------------------------------------------------------


def test_throttling_and_server_errors_are_retried_until_everything_is_stored(
    dir_store: DirStore, fake: FakeWikiArt
) -> None:
    populate(fake, 6)
    fake.inject("listing", 503, 429)
    fake.inject("image", 429, 429, 503, "drop", 502)
    summary = run(dir_store, fake)
    assert summary.ok and summary.stored == 6
    assert summary.retries == 7 and summary.throttled == 3
    assert_store_matches_catalog(dir_store)


def test_paintings_that_cannot_be_fetched_are_named_and_the_rest_is_catalogued(
    any_store: Store, fake: FakeWikiArt
) -> None:
    ids = populate(fake, 5)
    broken = fake.paintings[2]["image"]
    healthy = fake.images[broken]
    fake.set_image(broken, FakeImage(behaviour="status", status=503))
    summary = run(any_store, fake)
    assert not summary.ok and summary.failed == [ids[2]]
    assert fake.paths[broken] == FAST.attempts  # bounded
    assert broken in summary.failures[ids[2]]
    lines = "\n".join(summary.lines())
    assert "failed: 1" in lines and ids[2] in lines and "re-run" in lines
    assert [p.id for p in assert_store_matches_catalog(any_store)] == [
        i for i in ids if i != ids[2]
    ]

    fake.images[broken] = healthy  # WikiArt recovers; the re-run fetches only what is missing
    before = fake.requests["image"]
    again = run(any_store, fake)
    assert again.ok and fake.requests["image"] == before + 1
    assert [p.id for p in assert_store_matches_catalog(any_store)] == ids


def test_an_unknown_style_is_one_clear_error_and_writes_nothing(
    dir_store: DirStore, fake: FakeWikiArt
) -> None:
    with pytest.raises(IngestError, match="no-such-style"):
        run(dir_store, fake, style="no-such-style")
    assert list(dir_store.list("")) == []


def test_an_empty_listing_is_one_clear_error(dir_store: DirStore, fake: FakeWikiArt) -> None:
    fake.add_raw({"id": "x", "title": ""})
    with pytest.raises(IngestError, match="no usable paintings"):
        run(dir_store, fake)
    assert not dir_store.exists(CATALOG_KEY)


def test_leftovers_of_a_killed_writer_are_removed(dir_store: DirStore, fake: FakeWikiArt) -> None:
    populate(fake, 2)
    partial = dir_store.root / ".partial"
    partial.mkdir(parents=True)
    (partial / "images_x.jpg.abc123").write_bytes(b"\xff\xd8half")
    assert run(dir_store, fake).ok
    assert list(partial.iterdir()) == []


# -- what the user sees --------------------------------------------------------------------


def test_plain_log_lines_when_not_on_a_terminal(dir_store: DirStore, fake: FakeWikiArt) -> None:
    populate(fake, 2)
    stream = io.StringIO()
    with WikiArtClient(fake.origin, retry=FAST) as client:
        scrape(dir_store, origin=fake.origin, logger=Logger(stream), progress=False, client=client)
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    steps = [r["step"] for r in records]
    assert steps[0] == "scrape.start" and steps[-1] == "scrape.done"
    assert records[-1]["downloaded"] == 2 and records[-1]["ok"] is True


def test_a_progress_bar_on_a_terminal(
    dir_store: DirStore, fake: FakeWikiArt, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(fake, 3)
    with WikiArtClient(fake.origin, retry=FAST) as client:
        scrape(
            dir_store,
            origin=fake.origin,
            logger=Logger(io.StringIO()),
            progress=True,
            client=client,
        )
    err = capsys.readouterr().err
    assert "3/3" in err and "painting" in err


def test_the_command_line_prints_the_summary_and_exits_0(
    dir_store: DirStore, fake: FakeWikiArt, capsys: pytest.CaptureFixture[str]
) -> None:
    populate(fake, 2)
    code = cli_main(["scrape", "--store", str(dir_store.root), "--wikiart-url", fake.origin,
                     "--no-progress"])  # fmt: skip
    out = capsys.readouterr().out
    assert code == 0
    assert "paintings: 2 listed, 2 in the catalog" in out and "failed: 0" in out


def test_the_command_line_exits_1_naming_what_could_not_be_fetched(
    dir_store: DirStore, fake: FakeWikiArt, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = populate(fake, 3)
    fake.retry_after = "3600"  # WikiArt asks for longer than a run waits: give up on it now
    fake.set_image(fake.paintings[1]["image"], FakeImage(behaviour="status", status=503))
    code = cli_main(["scrape", "--store", str(dir_store.root), "--wikiart-url", fake.origin,
                     "--no-progress"])  # fmt: skip
    captured = capsys.readouterr()
    assert code == 1
    assert ids[1] in captured.err and "re-run" in captured.err
    assert [p.id for p in catalogued(dir_store)] == [ids[0], ids[2]]


def test_the_script_takes_the_same_arguments(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "scrape_wikiart.py"), "--help"],
        capture_output=True, text=True, timeout=60, env={**os.environ},
    )  # fmt: skip
    assert result.returncode == 0
    for option in ("--store", "--style", "--wikiart-url"):
        assert option in result.stdout
