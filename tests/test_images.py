"""What the ingest stores: exact bytes when they fit, a faithful re-encode when not."""

from __future__ import annotations

import io
import threading

import pytest
from fake_wikiart import make_picture, noise_image, png_bomb
from PIL import Image

from soviet_art_bot.images import (
    MAX_BYTES,
    MAX_PIXELS,
    MAX_SIDE,
    ImageRejected,
    PixelBudget,
    normalise,
    sniff,
)

MAX_PIXELS_FOR_TESTS = MAX_PIXELS  # a budget as large as the default one, but private


def _open(data: bytes) -> Image.Image:
    img = Image.open(io.BytesIO(data))
    img.load()
    return img


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_a_conforming_image_is_kept_byte_for_byte(fmt: str) -> None:
    data = make_picture(640, 480, seed="keep", fmt=fmt)
    result = normalise(data)
    assert result.data == data
    assert (result.format, result.width, result.height, result.reencoded) == (fmt, 640, 480, False)


def test_the_format_comes_from_the_bytes_not_from_a_name() -> None:
    png = make_picture(50, 40, fmt="PNG")
    assert sniff(png) == "PNG"
    assert normalise(png).extension == "png"
    assert sniff(b"<!doctype html><html></html>") is None


def test_an_image_over_the_byte_limit_is_re_encoded_at_the_best_quality_that_fits() -> None:
    data = noise_image(1600, 1100, seed=1)
    assert len(data) > MAX_BYTES
    result = normalise(data)
    assert result.reencoded and result.format == "JPEG"
    assert len(result.data) <= MAX_BYTES
    assert (result.width, result.height) == (1600, 1100)  # pixels were not the problem
    # "Best quality that fits": the highest JPEG quality whose encoding fits.
    original = _open(data)
    for quality in range(95, 0, -1):
        out = io.BytesIO()
        original.save(out, "JPEG", quality=quality, optimize=True)
        if len(out.getvalue()) <= MAX_BYTES:
            break
    assert result.data == out.getvalue()
    assert quality > 60


def test_an_image_over_the_side_limit_is_scaled_keeping_its_aspect_ratio() -> None:
    data = make_picture(5000, 2000, seed="wide")
    result = normalise(data)
    assert result.reencoded
    assert (result.width, result.height) == (MAX_SIDE, 1600)
    assert _open(result.data).size == (MAX_SIDE, 1600)
    assert len(result.data) <= MAX_BYTES


def test_a_tall_png_with_transparency_becomes_an_opaque_jpeg() -> None:
    img = Image.new("RGBA", (900, 4500), (200, 40, 40, 128))
    out = io.BytesIO()
    img.save(out, "PNG")
    result = normalise(out.getvalue())
    assert result.format == "JPEG" and (result.width, result.height) == (800, MAX_SIDE)
    assert _open(result.data).mode == "RGB"


def test_small_limits_are_met_by_shrinking_when_quality_alone_cannot() -> None:
    data = noise_image(600, 400, seed=2)
    result = normalise(data, max_bytes=60_000)
    assert len(result.data) <= 60_000
    assert result.width < 600
    assert abs(result.width / result.height - 1.5) < 0.02


SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect/></svg>'
NOT_AN_IMAGE = "not a JPEG/PNG/GIF/WebP image"


@pytest.mark.parametrize(
    ("body", "looks_like"),
    [
        (SVG, "SVG"),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n' + SVG, "SVG"),
        (
            b'\xef\xbb\xbf<?xml version="1.0"?>\n<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN">'
            + SVG,
            "SVG",
        ),  # fmt: skip
        (b"<!DOCTYPE html><html><body>Too many requests</body></html>", "HTML"),
        (b"<!doctype html><html><body>" + SVG + b"</body></html>", "HTML"),  # a page, with an icon
        (b"\n  <title>403 Forbidden</title>", "HTML"),
        (b'<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', "XML"),
        (b'{"error": "slow down"}', "JSON"),
        (b"Too Many Requests\n", "plain text"),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", "a PDF"),
        (b"BM\x36\x00\x0c\x00\x00\x00\x00\x00\x36\x00", "BMP"),
        (b"II*\x00\x08\x00\x00\x00", "TIFF"),
        (b"\x00\x00\x00\x1cftypavif\x00\x00\x00\x00", "AVIF"),
    ],
)
def test_content_that_is_not_an_image_is_refused_saying_what_it_looks_like(
    body: bytes, looks_like: str
) -> None:
    with pytest.raises(ImageRejected) as info:
        normalise(body)
    assert info.value.reason.startswith(f"{NOT_AN_IMAGE} (looks like {looks_like}")


def test_unrecognised_bytes_are_refused_naming_how_they_start() -> None:
    with pytest.raises(ImageRejected) as info:
        normalise(bytes(range(1, 40)))
    assert info.value.reason == f"{NOT_AN_IMAGE} (unknown content starting 0102030405060708)"


def test_a_gif_is_accepted_and_stored_as_a_jpeg() -> None:
    data = make_picture(64, 48, seed="gif", fmt="GIF")
    result = normalise(data)
    assert (result.format, result.width, result.height) == ("JPEG", 64, 48)


def test_a_truncated_jpeg_is_refused() -> None:
    data = make_picture(400, 300, seed="cut")
    with pytest.raises(ImageRejected, match="truncated"):
        normalise(data[: len(data) // 2])


def test_a_truncated_jpeg_that_needs_re_encoding_is_refused_too() -> None:
    """The re-encode path decodes too, so truncation is caught there as well."""
    data = noise_image(1600, 1100, seed=3)
    assert len(data) > MAX_BYTES
    with pytest.raises(ImageRejected, match="truncated"):
        normalise(data[: len(data) - 1000])


@pytest.mark.parametrize("size", [(9000, 9000), (40000, 40000)])
def test_decompression_bombs_are_refused_before_decoding(size: tuple[int, int]) -> None:
    with pytest.raises(ImageRejected, match="decompression bomb"):
        normalise(png_bomb(*size))


def test_garbage_behind_a_jpeg_signature_is_refused() -> None:
    with pytest.raises(ImageRejected, match="unreadable JPEG|truncated"):
        normalise(b"\xff\xd8\xff\xe0" + b"\0" * 2000)


def test_an_empty_body_is_refused() -> None:
    with pytest.raises(ImageRejected, match="empty body"):
        normalise(b"")


# -- the memory budget: large decodes are reduced and rationed --------------------


def test_a_pixel_budget_never_lends_more_than_it_has_and_serves_in_order() -> None:
    budget = PixelBudget(100)
    order: list[str] = []
    small_held = threading.Event()
    release_small = threading.Event()

    def hold(name: str, pixels: int, until: threading.Event | None = None) -> None:
        with budget.hold(pixels):
            order.append(name)
            if until is not None:
                small_held.set()
                until.wait(60)

    first = threading.Thread(target=hold, args=("small", 30, release_small))
    first.start()
    assert small_held.wait(60)
    big = threading.Thread(target=hold, args=("big", 1000))  # clamped to 100: runs alone
    big.start()
    while budget.waiting < 1:  # the big one queued (it cannot fit beside the small one)
        threading.Event().wait(0.001)
    late = threading.Thread(target=hold, args=("late", 10))  # fits, but queued behind big
    late.start()
    while budget.waiting < 2:
        threading.Event().wait(0.001)
    release_small.set()
    for thread in (first, big, late):
        thread.join(60)
    assert order == ["small", "big", "late"]
    assert budget.peak == 100 and budget.used == 0


# Scaled down (a 1000 px limit instead of 4000) so the tests stay quick; same paths.
SIDE = 1000


def test_a_large_jpeg_is_decoded_reduced() -> None:
    data = make_picture(4500, 1500, seed="wide-jpeg")
    budget = PixelBudget(MAX_PIXELS_FOR_TESTS)
    result = normalise(data, budget=budget, max_side=SIDE)
    assert (result.width, result.height) == (SIDE, 333)
    assert budget.peak <= 1125 * 375  # DCT-scaled by 4, never the full 6.75 Mpx


def test_a_large_png_is_flattened_and_shrunk_within_its_budgeted_pixels() -> None:
    img = Image.new("RGBA", (2500, 1250), (0, 0, 0, 0))  # transparent: must become white
    img.paste((200, 30, 30, 255), (0, 0, 1250, 1250))
    out = io.BytesIO()
    img.save(out, "PNG")
    budget = PixelBudget(MAX_PIXELS_FOR_TESTS)
    result = normalise(out.getvalue(), budget=budget, max_side=SIDE)
    assert (result.width, result.height) == (SIDE, 500)
    stored = _open(result.data)
    assert stored.getpixel((950, 250)) == pytest.approx((255, 255, 255), abs=3)
    assert stored.getpixel((50, 250)) == pytest.approx((200, 30, 30), abs=6)
    assert budget.peak == 2500 * 1250  # decoded whole (PNG cannot be drafted), then reduced


def test_concurrent_large_decodes_wait_for_each_other() -> None:
    img = Image.new("RGB", (1500, 1200), (10, 120, 200))
    out = io.BytesIO()
    img.save(out, "PNG")
    data = out.getvalue()
    budget = PixelBudget(int(1500 * 1200 * 1.5))  # room for one and a half
    results = []
    threads = [
        threading.Thread(
            target=lambda: results.append(normalise(data, budget=budget, max_side=SIDE))
        )
        for _ in range(4)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert len(results) == 4 and all(r.width == SIDE for r in results)
    assert budget.peak == 1500 * 1200  # never two of them decoded at once
