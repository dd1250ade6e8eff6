"""Image dimensions from the header alone (the Lambda has no Pillow)."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from soviet_art_bot.media import image_size


@pytest.mark.parametrize(("mode", "fmt", "kwargs"), [
    ("RGB", "JPEG", {}),
    ("RGB", "JPEG", {"progressive": True}),
    ("RGB", "JPEG", {"exif": b"Exif\0\0" + b"\0" * 64}),
    ("RGBA", "PNG", {}),
    ("RGBA", "WEBP", {"lossless": True}),  # VP8L
    ("RGB", "WEBP", {"quality": 50}),  # VP8
    ("RGBA", "WEBP", {"quality": 50}),  # VP8X (alpha)
    ("P", "GIF", {}),
])  # fmt: skip
def test_image_size_reads_every_format_the_bot_posts(mode: str, fmt: str, kwargs: dict) -> None:
    out = io.BytesIO()
    Image.new(mode, (1234, 567)).save(out, fmt, **kwargs)
    assert image_size(out.getvalue()) == (1234, 567)


def test_image_size_never_guesses() -> None:
    assert image_size(b"not an image at all") is None
    assert image_size(b"<!doctype html><html></html>") is None
    assert image_size(b"\xff\xd8\xff\xe0\x00\x10JFIF") is None  # truncated before the frame header
    assert image_size(b"\x89PNG\r\n\x1a\n") is None
