"""The gallery: thumbnails and palettes, the pages, and the refresh after a post."""

from __future__ import annotations

import io
import json
import re
from dataclasses import replace
from html.parser import HTMLParser
from pathlib import Path

import boto3
import pytest
from gallery_helpers import HOSTILE_TITLE, bot_for, fill, slots
from PIL import Image

from soviet_art_bot.catalog import write_catalog
from soviet_art_bot.cli import main
from soviet_art_bot.gallery.palettes import read_palettes, shard_of, thumb_name
from soviet_art_bot.gallery.posts import post_from_record
from soviet_art_bot.gallery.site import build, decade_of, refresh
from soviet_art_bot.gallery.thumbs import make_thumbnail, make_thumbs
from soviet_art_bot.log import Logger
from soviet_art_bot.store import DirStore

QUIET = Logger(io.StringIO())


class Page(HTMLParser):
    """What a browser would see of a page: posts, images, links, swatches, scripts."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.slots: list[str] = []
        self.imgs: list[dict[str, str | None]] = []
        self.links: list[str] = []
        self.swatches: list[str] = []
        self.tags: list[str] = []
        self.cards: dict[str, dict[str, list]] = {}  # slot -> what its card holds
        self._card: dict[str, list] = {"imgs": [], "links": [], "swatches": []}
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "li" and a.get("data-slot"):
            self.slots.append(a["data-slot"])
            self._card = self.cards[a["data-slot"]] = {"imgs": [], "links": [], "swatches": []}
        if tag == "img":
            self.imgs.append(a)
            self._card["imgs"].append(a)
        if tag == "a" and a.get("rel", "").startswith("noopener"):
            self.links.append(a["href"])
            self._card["links"].append(a["href"])
        if tag == "li" and a.get("data-colour"):
            self.swatches.append(a["data-colour"])
            self._card["swatches"].append(a["data-colour"])


def posted(store, outbox, count, **kw):
    bot = bot_for(store, outbox, **kw)
    return [bot.post(slot) for slot in slots(count)]


# -- thumbnails and palettes ---------------------------------------------------


def test_thumbs_are_small_and_palettes_are_five_hex_colours(dir_store):
    paintings = fill(dir_store)
    summary = make_thumbs(dir_store, logger=QUIET)
    assert (summary.made, summary.unchanged, summary.skipped) == (len(paintings), 0, [])
    entries = read_palettes(dir_store)
    for painting in paintings:
        entry = entries[painting.id]
        assert entry.source == painting.sha256
        with Image.open(io.BytesIO(dir_store.read(entry.thumb))) as img:
            assert img.format == "JPEG" and max(img.size) <= 480
            assert img.size == (entry.width, entry.height)
            ratio = painting.width / painting.height
            assert abs(img.width / img.height - ratio) < 0.02
        assert 1 <= len(entry.palette) <= 5
        assert all(re.fullmatch(r"#[0-9a-f]{6}", c) for c in entry.palette)
        assert abs(sum(entry.weights) - 1) < 0.01
        assert list(entry.weights) == sorted(entry.weights, reverse=True)
    again = make_thumbs(dir_store, logger=QUIET)
    assert (again.made, again.unchanged) == (0, len(paintings))


def test_palette_finds_the_main_colours_in_order():
    img = Image.new("RGB", (400, 300), (200, 20, 30))  # red: 60%
    img.paste((20, 40, 180), (0, 0, 160, 300))  # blue: 40% less the green
    img.paste((30, 160, 60), (0, 0, 40, 300))  # green: 10%
    out = io.BytesIO()
    img.save(out, "PNG")
    _, width, height, palette, weights = make_thumbnail(out.getvalue())
    assert (width, height) == (400, 300)
    assert palette == ["#c8141e", "#1428b4", "#1ea03c"]
    assert weights == pytest.approx([0.6, 0.3, 0.1], abs=0.01)
    assert make_thumbnail(out.getvalue())[3] == palette  # deterministic


def test_a_changed_image_gets_a_new_thumbnail_and_a_bad_one_is_skipped(dir_store):
    paintings = fill(dir_store, 3)
    make_thumbs(dir_store, logger=QUIET)
    first = read_palettes(dir_store)[paintings[1].id]
    Image.new("RGB", (900, 300), (10, 200, 10)).save(out := io.BytesIO(), "JPEG")
    dir_store.write(paintings[1].image, out.getvalue())
    dir_store.write(paintings[2].image, b"<html>Not an image</html>")
    unstated = [replace(p, sha256=None, bytes=None, width=None, height=None) for p in paintings]
    write_catalog(dir_store, [paintings[0], *unstated[1:]], source="test")
    summary = make_thumbs(dir_store, logger=QUIET)
    assert summary.made == 1 and summary.unchanged == 1
    assert [pid for pid, _ in summary.skipped] == [paintings[2].id]
    assert "not a JPEG, PNG, GIF or WebP" in summary.skipped[0][1]
    second = read_palettes(dir_store)[paintings[1].id]
    assert second.source != first.source and second.palette == ("#0ac90a",)  # JPEG's green
    assert (second.width, second.height) == (480, 160)


def test_thumb_names_are_safe_for_urls_and_keys():
    assert thumb_name("577271cfedc2cb3880c2de61") == "577271cfedc2cb3880c2de61.jpg"
    a, b = thumb_name("aic:12345"), thumb_name("aic_12345")
    assert a != b and re.fullmatch(r"[A-Za-z0-9_-]+\.jpg", a)
    assert re.fullmatch(r"[A-Za-z0-9_-]+\.jpg", thumb_name("../../etc/passwd<script>"))


def test_hostile_palettes_file_entries_are_dropped(dir_store, tmp_path):
    fill(dir_store, 3, hostile=False)
    make_thumbs(dir_store, logger=QUIET)
    ids = sorted(read_palettes(dir_store))
    for pid, change in (
        (ids[0], {"palette": ["red;background:url(http://evil.example/x)"]}),
        (ids[1], {"thumb": "../catalog.json"}),
    ):
        doc = json.loads(dir_store.read(shard_of(pid)))
        doc["paintings"][pid].update(change)
        dir_store.write(shard_of(pid), json.dumps(doc).encode())
    log = io.StringIO()
    entries = read_palettes(dir_store, Logger(log))
    assert sorted(entries) == ids[2:]
    assert log.getvalue().count("gallery.palette_ignored") == 2
    assert read_palettes(dir_store, QUIET, ids=[ids[2], "unknown"]) == {ids[2]: entries[ids[2]]}
    dir_store.write(shard_of(ids[2]), b"[" * 100_000)
    assert ids[2] not in read_palettes(dir_store, Logger(io.StringIO()))


# -- the pages -------------------------------------------------------------------


def test_full_build_shows_every_posted_slot_once(any_store, tmp_path):
    paintings = fill(any_store)
    make_thumbs(any_store, logger=QUIET)
    results = posted(any_store, tmp_path / "outbox", 14)  # Oct 29 .. Nov 1
    summary = build(any_store, logger=QUIET)
    assert (summary.posts, summary.months) == (14, 2)
    site = "gallery/"
    pages = {
        name: any_store.read(site + name).decode()
        for name in ("index.html", "2026-10.html", "2026-11.html", "palettes.html")
    }
    month_slots = Page(pages["2026-10.html"]).slots + Page(pages["2026-11.html"]).slots
    expected = [r["slot"] for r in results]
    assert sorted(month_slots) == sorted(expected) and len(set(month_slots)) == 14
    index = Page(pages["index.html"])
    assert index.slots == sorted(expected, reverse=True)  # newest first
    by_id = {p.id: p for p in paintings}
    palettes = read_palettes(any_store)
    for result in results:
        painting = by_id[result["painting"]["id"]]
        card = index.cards[result["slot"]]
        assert card["links"] == [result["posts"]["outbox"]["url"]]
        assert card["swatches"] == list(palettes[painting.id].palette)
        (img,) = card["imgs"]
        assert img["alt"] == f'Painting "{painting.title}" by {painting.artist}, {painting.year}.'
        assert any_store.exists(site + img["src"])  # the thumbnail is published beside
    for page in pages.values():
        tags = Page(page).tags
        assert "script" not in tags and "link" not in tags
        assert "http://" not in page and "https://" not in page.replace("https://www.", "")


def test_a_hostile_title_is_text(dir_store, tmp_path):
    paintings = fill(dir_store, 2)
    make_thumbs(dir_store, logger=QUIET)
    bot = bot_for(dir_store, tmp_path / "outbox")
    for slot in slots(6):
        bot.post(slot)
    build(dir_store, logger=QUIET)
    for name in ("index.html", "palettes.html", "2026-10.html"):
        html = dir_store.read(f"gallery/{name}").decode()
        assert "<script" not in html and "onerror=alert" not in html.replace(
            "onerror=alert(1)&gt;", ""
        )
        assert "&lt;script&gt;document.title=&#34;pwned&#34;&lt;/script&gt;" in html
    assert paintings[0].title == HOSTILE_TITLE


def test_on_s3_every_object_has_its_content_type(s3_store, bucket, tmp_path):
    fill(s3_store, 4)
    make_thumbs(s3_store, logger=QUIET)
    posted(s3_store, tmp_path / "outbox", 3)
    out = f"s3://{bucket}/site"
    build(s3_store, out, logger=QUIET)
    s3 = boto3.client("s3")
    keys = [o["Key"] for o in s3.list_objects_v2(Bucket=bucket, Prefix="site/")["Contents"]]
    types = {k: s3.head_object(Bucket=bucket, Key=k)["ContentType"] for k in keys}
    assert types["site/index.html"] == "text/html; charset=utf-8"
    assert types["site/palettes.html"] == "text/html; charset=utf-8"
    assert types["site/data/site.json"] == "application/json"
    thumbs = [k for k in keys if k.startswith("site/thumbs/")]
    assert thumbs and all(types[k] == "image/jpeg" for k in thumbs)
    assert all(t for t in types.values())


def test_records_are_read_defensively():
    good = {
        "version": 1,
        "slot": "2026-11-26T12:00:00Z",
        "painting": {"id": "p1", "image": "images/p1.jpg", "title": "T", "artist": "A"},
        "platforms": {
            "x": {"status": "posted", "id": "1", "url": "javascript:alert(1)"},
            "mastodon": {"status": "posted", "id": "2", "url": "https://m.example/@a/2"},
            "bluesky": {"status": "pending", "painting_id": "p1", "text": "T"},
        },
    }
    post = post_from_record(json.dumps(good).encode(), "k")
    assert [(x.platform, x.url) for x in post.links] == [
        ("mastodon", "https://m.example/@a/2"),
        ("x", None),
    ]
    assert post.alt_text == 'Painting "T" by A.'
    nothing = {**good, "platforms": {"x": {"status": "failed", "error": "e"}}}
    assert post_from_record(json.dumps(nothing).encode(), "k") is None
    for bad in (
        b"[" * 50_000,
        b"{}",
        b'{"slot": "yesterday"}',
        json.dumps({**good, "painting": 1}).encode(),
    ):
        with pytest.raises(Exception) as info:
            post_from_record(bad, "k")
        assert not isinstance(info.value, RecursionError)


def test_decades():
    assert [decade_of(y) for y in ("1916", "1920-1930", "c. 1935", "XX cent.", "", "12345")] == [
        1910,
        1920,
        1930,
        None,
        None,
        None,
    ]


# -- the refresh ---------------------------------------------------------------


def _pages(root: Path) -> dict[str, str]:
    strip = re.compile(r"built \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    return {p.name: strip.sub("", p.read_text()) for p in sorted(root.glob("*.html"))}


def test_refreshes_after_each_post_give_the_full_build(dir_store, tmp_path):
    fill(dir_store)
    make_thumbs(dir_store, logger=QUIET)
    bot = bot_for(dir_store, tmp_path / "outbox")
    written = []
    for slot in slots(14):
        bot.post(slot)
        written.append(refresh(dir_store, slot, logger=QUIET).pages)
    assert written[0] == ["2026-10.html", "index.html", "palettes.html"]
    assert written[12] == ["2026-10.html", "2026-11.html", "index.html", "palettes.html"]  # Nov 1
    assert written[-1] == ["2026-11.html", "index.html", "palettes.html"]  # only what changed
    full = tmp_path / "full"
    build(dir_store, str(full), logger=QUIET)
    assert _pages(dir_store.root / "gallery") == _pages(full)


class CountingStore(DirStore):
    """A directory store that remembers which keys were read."""

    def __init__(self, root):
        super().__init__(root)
        self.reads: list[str] = []

    def read(self, key, *args, **kwargs):
        self.reads.append(key)
        return super().read(key, *args, **kwargs)

    def read_versioned(self, key, *args, **kwargs):
        self.reads.append(key)
        return super().read_versioned(key, *args, **kwargs)


def test_a_refresh_reads_only_what_the_new_post_needs(tmp_path):
    store = CountingStore(tmp_path / "store")
    paintings = fill(store, 16)
    make_thumbs(store, logger=QUIET)
    bot = bot_for(store, tmp_path / "outbox")
    for slot in slots(13):  # October, and November's first
        bot.post(slot)
    build(store, logger=QUIET)
    october = (store.root / "gallery" / "2026-10.html").read_bytes()
    new = slots(14)[-1]
    bot.post(new)
    store.reads.clear()
    summary = refresh(store, new, logger=QUIET)
    assert summary.records_read == 1 and summary.posts == 14
    assert summary.pages == ["2026-11.html", "index.html", "palettes.html"]
    assert (store.root / "gallery" / "2026-10.html").read_bytes() == october
    slot_reads = [k for k in store.reads if k.startswith("state/slots/")]
    palette_reads = [k for k in store.reads if k.startswith("thumbs/palettes/")]
    assert len(slot_reads) == 1 and len(palette_reads) <= 1  # one shard, if the painting is new
    assert "catalog.json" not in store.reads and len(paintings) == 16
    index = Page((store.root / "gallery" / "index.html").read_text())
    assert index.slots[0] == new.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- the command line ----------------------------------------------------------


def test_cli_thumbs_and_gallery(dir_store, tmp_path, capsys):
    fill(dir_store, 3)
    assert main(["thumbs", "--store", str(dir_store.root)]) == 0
    assert "3 made" in capsys.readouterr().out
    posted(dir_store, tmp_path / "outbox", 2)
    out = tmp_path / "public"
    assert main(["gallery", "--store", str(dir_store.root), "--out", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["posts"] == 2 and (out / "index.html").is_file()
    assert main(["gallery", "--store", str(dir_store.root), "--out", str(dir_store.root)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("Error: --out") and "store itself" in err[0]
    assert main(["gallery", "--store", str(dir_store.root), "--out", "ftp://x/y"]) == 1
    assert capsys.readouterr().err.startswith("Error: --out=")


def test_gallery_says_when_thumbnails_are_missing(dir_store, tmp_path, capsys):
    fill(dir_store, 3)
    posted(dir_store, tmp_path / "outbox", 1)
    assert main(["gallery", "--store", str(dir_store.root)]) == 0
    assert "run 'soviet-art-bot thumbs'" in capsys.readouterr().out
    html = (dir_store.root / "gallery" / "index.html").read_text()
    assert "No thumbnail yet" in html and "<img" not in html


def test_the_scrape_makes_the_thumbnails_at_its_end(dir_store, capsys):
    from fake_wikiart import FakeWikiArt
    from test_ingest import populate

    with FakeWikiArt(page_size=4) as fake:
        ids = populate(fake, 5)
        code = main(
            [
                "scrape",
                "--store",
                str(dir_store.root),
                "--wikiart-url",
                fake.origin,
                "--no-progress",
            ]
        )
    assert code == 0
    assert "thumbnails and palettes: 5 made" in capsys.readouterr().out
    entries = read_palettes(dir_store)
    assert sorted(entries) == sorted(ids)
    assert all(dir_store.exists(entry.thumb) for entry in entries.values())
