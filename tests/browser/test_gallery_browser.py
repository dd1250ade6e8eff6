"""The generated gallery in a real browser, served from 127.0.0.1.

The site is the one the Lambda handler itself maintains (``ART_BOT_GALLERY``
on, one refresh per post), for a collection whose first painting has a
hostile title. Every request the browser makes is recorded, from Chromium's
own network log and by the server.
"""

from __future__ import annotations

import base64
import io
import json
from functools import partial
from http.server import SimpleHTTPRequestHandler
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from gallery_helpers import HOSTILE_TITLE, fill, slots
from local_server import LocalServer

from soviet_art_bot import handler
from soviet_art_bot.caption import alt_text
from soviet_art_bot.catalog import painting_from_json
from soviet_art_bot.config import Settings
from soviet_art_bot.gallery.palettes import read_palettes
from soviet_art_bot.gallery.thumbs import make_thumbs
from soviet_art_bot.log import Logger
from soviet_art_bot.slots import PostStatus, SlotRecord, slot_keys
from soviet_art_bot.store import DirStore

PAGES = ("index.html", "2026-10.html", "2026-11.html", "palettes.html")
POSTS = 14  # October 29 to November 1, every 6 hours


class SiteServer(LocalServer):
    """Serves a directory on 127.0.0.1 and records every request path."""

    def __init__(self, root: Path) -> None:
        super().__init__()
        self.root = root
        self.requests: list[str] = []

    def handler_class(self):
        server = self

        class Handler(SimpleHTTPRequestHandler):
            def log_message(self, format, *args):  # noqa: A002 - the base class's name
                server.requests.append(self.path)

        return partial(Handler, directory=str(self.root))


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """A store posted to 14 times through the handler, each post refreshing the gallery."""
    root = tmp_path_factory.mktemp("gallery")
    store = DirStore(root / "collection")
    fill(store, 12)
    make_thumbs(store, logger=Logger(io.StringIO()))
    settings = Settings(
        store=str(store.root), platforms=("outbox",), outbox_dir=str(root / "outbox"), gallery=True
    )
    handler._bots.clear()
    log = io.StringIO()
    for slot in slots(POSTS):
        event = {"time": slot.strftime("%Y-%m-%dT%H:%M:%SZ")}
        assert handler.handle(event, settings=settings, logger=Logger(log))["status"] == "posted"
    handler._bots.clear()
    refreshes = [json.loads(x) for x in log.getvalue().splitlines() if "gallery_refresh" in x]
    assert [x["outcome"] for x in refreshes] == ["ok"] * POSTS
    expected = {}
    palettes = read_palettes(store)
    for key in slot_keys(store):
        record = SlotRecord.from_json(store.read(key), key)
        post = record.platforms["outbox"]
        assert post.status is PostStatus.POSTED
        painting = painting_from_json(record.painting, key)
        expected[record.slot] = {
            "url": post.url,
            "painting": painting,
            "palette": palettes[painting.id].palette,
        }
    with SiteServer(store.root / "gallery") as server:
        yield server, expected


@pytest.fixture(scope="module")
def visits(site, browser, artifacts):
    """Open every page, bring every image into view and wait for it, then screenshot."""
    from selenium.webdriver.support.ui import WebDriverWait

    server, _ = site
    browser.get_log("performance")  # start the record from here
    seen = {}
    for page in PAGES:
        browser.get(f"{server.url}/{page}")
        images = browser.find_elements("css selector", "img")
        for img in images:
            browser.execute_script("arguments[0].scrollIntoView({block: 'center'})", img)
            WebDriverWait(browser, 20).until(
                lambda d, img=img: d.execute_script("return arguments[0].complete", img)
            )
        browser.execute_script("window.scrollTo(0, 0)")
        _screenshot(browser, artifacts / page.replace(".html", ".png"))
        seen[page] = browser.execute_script(COLLECT)
    requests = _requests(browser.get_log("performance"))
    browser.get(f"{server.url}/index.html")
    browser.save_screenshot(str(artifacts / "readme.png"))  # the README's picture
    return seen, requests


COLLECT = """
return {
  title: document.title,
  scripts: document.querySelectorAll('script').length,
  posts: [...document.querySelectorAll('li.post')].map(li => ({
    slot: li.dataset.slot,
    title: li.querySelector('.title').textContent,
    imgs: [...li.querySelectorAll('img')].map(i => ({
      alt: i.getAttribute('alt'), complete: i.complete, width: i.naturalWidth, src: i.src})),
    links: [...li.querySelectorAll('.links a')].map(a => a.getAttribute('href')),
    swatches: [...li.querySelectorAll('.palette li')].map(s => getComputedStyle(s).backgroundColor),
  })),
  palettes: [...document.querySelectorAll('.palettes > li')].map(li => ({
    painting: li.dataset.painting,
    swatches: [...li.querySelectorAll('.palette li')].map(s => getComputedStyle(s).backgroundColor),
  })),
  bars: document.querySelectorAll('.barcode span').length,
};
"""


def _screenshot(browser, path: Path) -> None:
    """The whole page, not only the window (Chrome DevTools' own capture)."""
    size = browser.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {
        "x": 0,
        "y": 0,
        "width": size["width"],
        "height": min(size["height"], 12000),
        "scale": 1,
    }
    shot = browser.execute_cdp_cmd(
        "Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True, "clip": clip}
    )
    path.write_bytes(base64.b64decode(shot["data"]))


def _requests(entries) -> list[str]:
    urls = []
    for entry in entries:
        message = json.loads(entry["message"])["message"]
        if message["method"] == "Network.requestWillBeSent":
            urls.append(message["params"]["request"]["url"])
    return urls


def _rgb(colour: str) -> str:
    r, g, b = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def test_every_posted_slot_appears_once(site, visits):
    _, expected = site
    seen, _ = visits
    months = [p["slot"] for page in ("2026-10.html", "2026-11.html") for p in seen[page]["posts"]]
    assert sorted(months) == sorted(expected) and len(months) == len(set(months)) == POSTS
    index = [p["slot"] for p in seen["index.html"]["posts"]]
    assert index == sorted(expected, reverse=True)  # newest first


def test_every_image_has_its_alt_text_and_loads(site, visits):
    server, expected = site
    seen, _ = visits
    count = 0
    for page in PAGES[:3]:
        for post in seen[page]["posts"]:
            (img,) = post["imgs"]
            assert img["alt"].strip() and img["alt"] == alt_text(expected[post["slot"]]["painting"])
            assert img["complete"] and img["width"] > 0, img["src"]
            assert img["src"].startswith(server.url + "/thumbs/")
            count += 1
    assert count == 2 * POSTS


def test_links_point_to_each_post(site, visits):
    _, expected = site
    seen, _ = visits
    for page in PAGES[:3]:
        for post in seen[page]["posts"]:
            assert post["links"] == [expected[post["slot"]]["url"]]


def test_swatches_show_the_palette_colours(site, visits):
    _, expected = site
    seen, _ = visits
    for page in PAGES[:3]:
        for post in seen[page]["posts"]:
            want = [_rgb(c) for c in expected[post["slot"]]["palette"]]
            assert post["swatches"] == want and 1 <= len(want) <= 5
    palettes = {p["painting"]: p["swatches"] for p in seen["palettes.html"]["palettes"]}
    posted = {e["painting"].id: e["palette"] for e in expected.values()}
    assert palettes == {pid: [_rgb(c) for c in colours] for pid, colours in posted.items()}
    assert seen["palettes.html"]["bars"] > 0


def test_a_hostile_title_is_shown_as_text(site, visits):
    _, expected = site
    seen, _ = visits
    shown = [
        p
        for page in PAGES[:3]
        for p in seen[page]["posts"]
        if expected[p["slot"]]["painting"].title == HOSTILE_TITLE
    ]
    assert shown, "the hostile painting was never posted"
    assert all(p["title"] == HOSTILE_TITLE for p in shown)  # its text, characters and all
    for page in PAGES:
        assert seen[page]["scripts"] == 0  # nothing of it became an element
        assert "pwned" not in seen[page]["title"]


def test_no_request_leaves_127_0_0_1(site, visits):
    server, _ = site
    _, requests = visits
    assert requests, "the browser's network log recorded nothing"
    hosts = {urlsplit(u).hostname for u in requests}
    assert hosts == {"127.0.0.1"}, requests
    assert {f"/{p}" for p in PAGES} <= set(server.requests)
    assert any(r.startswith("/thumbs/") for r in server.requests)


def test_screenshots_are_kept(artifacts, visits):
    from PIL import Image

    for page in PAGES:
        with Image.open(artifacts / page.replace(".html", ".png")) as img:
            assert img.width >= 1000 and img.height >= 600
