"""What kind of image a file is, from its first bytes (no Pillow needed).

The Lambda must not import Pillow, yet it has to know what it is about to
post: platforms want the MIME type, and a store object that is not an image
at all (an HTML error page saved by mistake) must never be posted.
"""

from __future__ import annotations

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "image/gif": ".gif", "image/webp": ".webp"}

_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)


def sniff_mime(head: bytes) -> str | None:
    """The image type from its first 12+ bytes, or None if it is not one we post."""
    for magic, mime in _MAGIC:
        if head.startswith(magic):
            return mime
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    return None
