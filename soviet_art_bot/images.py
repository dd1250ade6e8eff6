"""Check a downloaded image and fit it to every platform's limits.

The store holds the exact bytes that get posted, so this is the one place an
image is judged. Content is identified by its magic bytes (never by the URL's
extension or the server's Content-Type), opened with Pillow restricted to that
format, refused above a pixel cap before anything is decoded (decompression
bombs), and decoded in full so a truncated file never reaches the store.

An image within the strictest platform's limits (Bluesky today: 2,000,000
bytes and 4000 px on the longest side) is kept byte for byte. Any other is
re-encoded as a JPEG: scaled (aspect ratio kept) only if a side is too long,
at the highest quality that fits the byte limit, and scaled further only if
even a modest quality would not fit.

**Memory budget.** Decoding is what costs memory (a 7000 x 7000 PNG is a
153 KB download and a 196 MB RGBA bitmap), so decoded pixels are rationed:

* JPEGs are decoded reduced (``Image.draft``: DCT scaling to the smallest
  size that is still at least the target), so a check or a shrink never
  builds the full bitmap.
* Other formats cannot be decoded reduced; once decoded, they are
  ``reduce``-d by an integer factor toward the target before the final
  resize, and alpha is flattened without extra channel copies.
* Every decode holds its pixel count in one process-wide
  :class:`PixelBudget` (:data:`DECODE_PIXELS`, the pixel cap itself) for as
  long as its bitmaps live, so many workers never decode large images at
  once: a small image waits only behind large ones, and the largest allowed
  image decodes alone. At about 7 bytes per pixel at the worst moment
  (RGBA plus its flattened RGB copy) that bounds decode memory by ~350 MB
  whatever the images; ``bench/bench_memory.py`` measures a scrape's peak.
* Pillow keeps freed image blocks for reuse by any thread
  (:func:`_configure_pillow`). Without that, each of the ingest's worker
  threads gets its own C allocator arena, each arena keeps the memory of the
  largest image its thread ever decoded, and eight workers decoding one
  large image each, one after another, still reach eight times the memory.

Pillow is imported lazily: the Lambda never loads this module.
"""

from __future__ import annotations

import codecs
import hashlib
import io
import threading
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from .errors import IngestError

MAX_BYTES = 2_000_000
MAX_SIDE = 4000
MAX_PIXELS = 50_000_000  # ~5.6x the largest real painting of the listing
BEST_QUALITY, LOWEST_QUALITY = 95, 60
# Pixels decoded at once, across every thread: the largest image allowed decodes alone.
DECODE_PIXELS = MAX_PIXELS

_KEEP = {"JPEG", "PNG", "WEBP"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}

_open_lock = threading.Lock()
_configured = False


class PixelBudget:
    """A semaphore weighted by pixels: decodes wait until their pixels fit the total.

    A request larger than the total is clamped to it (it then runs alone),
    so nothing waits forever. Waiters are served in arrival order, so a
    stream of small decodes cannot starve a large one.
    """

    def __init__(self, total: int) -> None:
        if total < 1:
            raise ValueError("a pixel budget needs total >= 1")
        self.total = total
        self.used = 0
        self.peak = 0  # the most pixels held at once (for tests and the benchmark)
        self._cond = threading.Condition()
        self._queue: list[object] = []

    @property
    def waiting(self) -> int:
        """How many decodes are queued for pixels."""
        with self._cond:
            return len(self._queue)

    @contextmanager
    def hold(self, pixels: int) -> Iterator[None]:
        need = max(1, min(int(pixels), self.total))
        ticket = object()
        with self._cond:
            self._queue.append(ticket)
            while self._queue[0] is not ticket or self.used + need > self.total:
                self._cond.wait()
            self._queue.pop(0)
            self.used += need
            self.peak = max(self.peak, self.used)
            self._cond.notify_all()
        try:
            yield
        finally:
            with self._cond:
                self.used -= need
                self._cond.notify_all()


DECODE_BUDGET = PixelBudget(DECODE_PIXELS)


class ImageRejected(IngestError):
    """Content that must not be stored; ``reason`` says why, for the summary."""

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(reason)


@dataclass(frozen=True)
class Normalised:
    """An image ready to store: the bytes and what the catalog says about them."""

    data: bytes
    format: str  # "JPEG", "PNG" or "WEBP"
    width: int
    height: int
    reencoded: bool
    original_bytes: int
    sha256: str = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "sha256", hashlib.sha256(self.data).hexdigest())

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def content_type(self) -> str:
        return CONTENT_TYPES[self.format]


def sniff(data: bytes) -> str | None:
    """The image format the magic bytes announce, or None."""
    if data.startswith(b"\xff\xd8\xff"):
        return "JPEG"
    if data.startswith(b"\x89PNG\r\n\x1a\n"):
        return "PNG"
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "WEBP"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "GIF"
    return None


# What a body that is not an image usually turns out to be, by its first bytes.
_OTHER_MAGIC = (
    (b"%PDF-", "a PDF"),
    (b"II*\x00", "TIFF"),
    (b"MM\x00*", "TIFF"),
    (b"\x00\x00\x01\x00", "an icon (ICO)"),
    (b"PK\x03\x04", "a ZIP archive"),
    (b"\x1f\x8b\x08", "gzip-compressed data"),
)
_FTYP = {b"avif": "AVIF", b"avis": "AVIF", b"heic": "HEIC", b"heix": "HEIC", b"mif1": "HEIF"}
_ACCEPTED = "a JPEG/PNG/GIF/WebP image"


def _what_is_it(data: bytes) -> str:
    """Why ``data`` (no known image signature) is refused: what it looks like instead.

    A server that answers an image URL with something else is usually serving
    an error page, a vector drawing or another format; saying which lets the
    operator tell a throttled or broken mirror from a painting in an unusual
    format.
    """
    if not data:
        return "empty body: no image was served"
    for magic, name in _OTHER_MAGIC:
        if data.startswith(magic):
            return f"not {_ACCEPTED} (looks like {name})"
    if data.startswith(b"BM") and data[6:10] == b"\0\0\0\0":  # reserved: zero
        return f"not {_ACCEPTED} (looks like BMP)"
    if data[4:8] == b"ftyp":
        name = _FTYP.get(data[8:12], f"an ISO media file ({data[8:12].decode('latin-1')!r})")
        return f"not {_ACCEPTED} (looks like {name})"
    head = data[:1024].removeprefix(b"\xef\xbb\xbf").lstrip().lower()
    if head.startswith((b"<!doctype html", b"<html")):
        return f"not {_ACCEPTED} (looks like HTML: an error or other web page was served)"
    if b"<svg" in head and b"<html" not in head:
        return f"not {_ACCEPTED} (looks like SVG)"
    if head.startswith(b"<?xml"):
        return f"not {_ACCEPTED} (looks like XML)"
    if any(tag in head for tag in (b"<html", b"<head", b"<body", b"<title")):
        return f"not {_ACCEPTED} (looks like HTML: an error or other web page was served)"
    if head.startswith((b"{", b"[")):
        return f"not {_ACCEPTED} (looks like JSON)"
    try:  # incremental, so a character cut at byte 256 is not an error
        text = codecs.getincrementaldecoder("utf-8")().decode(data[:256])
    except UnicodeDecodeError:
        text = ""
    if text.strip() and all(c.isprintable() or c in "\t\r\n" for c in text):
        return f"not {_ACCEPTED} (looks like plain text)"
    return f"not {_ACCEPTED} (unknown content starting {data[:8].hex()})"


def _configure_pillow() -> None:
    """Let Pillow reuse freed image blocks across threads, up to the decode budget's size.

    Pillow's block cache (documented as ``PILLOW_BLOCKS_MAX``) is shared by
    every thread, so memory a decode freed in one worker serves the next
    decode in another instead of staying in the first worker's allocator
    arena. A larger setting made by the user is kept.
    """
    global _configured
    if _configured:
        return
    from PIL import Image

    block = Image.core.get_block_size()
    wanted = -(-DECODE_PIXELS * 8 // block)  # ~8 bytes per budgeted pixel, in blocks
    if Image.core.get_blocks_max() < wanted:
        Image.core.set_blocks_max(wanted)
    _configured = True


def _open(data: bytes, fmt: str, max_pixels: int) -> Any:
    """Open the header only, refusing bombs before any pixel is decoded."""
    from PIL import Image

    _configure_pillow()

    # Pillow warns (or raises) on huge images while opening; make both a refusal.
    # The filter is process-wide, hence the lock.
    with _open_lock, warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        try:
            img = Image.open(io.BytesIO(data), formats=[fmt])
        except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
            raise ImageRejected(f"decompression bomb refused ({exc})") from None
        except Exception as exc:
            raise ImageRejected(f"unreadable {fmt} ({exc})") from None
    width, height = img.size
    if width < 1 or height < 1:
        raise ImageRejected(f"unreadable {fmt} (size {width}x{height})")
    if width * height > max_pixels:
        raise ImageRejected(
            f"decompression bomb refused: {width}x{height} pixels is over the "
            f"{max_pixels}-pixel cap"
        )
    return img


def _draft(img: Any, fmt: str, draft_to: tuple[int, int]) -> int:
    """Arrange a reduced decode where the format allows it; the pixels it will make."""
    if fmt == "JPEG":
        try:
            img.draft("RGB", draft_to)  # DCT scaling: every byte read, fewer pixels made
        except Exception as exc:
            raise ImageRejected(f"corrupt or truncated {fmt} ({exc})") from None
    width, height = img.size  # after draft: the reduced size
    return width * height


def _decode(img: Any, fmt: str) -> Any:
    try:
        img.load()
    except Exception as exc:
        raise ImageRejected(f"corrupt or truncated {fmt} ({exc})") from None
    return img


def _reduce(img: Any, target: tuple[int, int]) -> Any:
    """Shrink by the largest integer factor that stays at or above ``target``."""
    factor = min(img.width // target[0], img.height // target[1])
    if factor < 2:
        return img
    smaller = img.reduce(factor)
    img.close()
    return smaller


def normalise(
    data: bytes,
    *,
    max_bytes: int = MAX_BYTES,
    max_side: int = MAX_SIDE,
    max_pixels: int = MAX_PIXELS,
    budget: PixelBudget | None = None,
) -> Normalised:
    """Check ``data`` and return what to store; :class:`ImageRejected` if it must not be.

    Decodes hold their pixels in ``budget`` (default: the process-wide
    :data:`DECODE_BUDGET`) while their bitmaps live.
    """
    fmt = sniff(data)
    if fmt is None:
        raise ImageRejected(_what_is_it(data))
    img = _open(data, fmt, max_pixels)
    width, height = img.size
    budget = budget or DECODE_BUDGET
    if fmt in _KEEP and len(data) <= max_bytes and max(width, height) <= max_side:
        # Decode everything (at 1/8 scale for JPEG) to prove the file is whole.
        pixels = _draft(img, fmt, (max(1, width // 8), max(1, height // 8)))
        with budget.hold(pixels):
            _decode(img, fmt)
            img.close()
        return Normalised(data, fmt, width, height, reencoded=False, original_bytes=len(data))
    pixels = _draft(img, fmt, _target_size(width, height, max_side))
    with budget.hold(pixels):
        return _reencode(img, fmt, data, max_bytes=max_bytes, max_side=max_side)


def _target_size(width: int, height: int, max_side: int) -> tuple[int, int]:
    longest = max(width, height)
    if longest <= max_side:
        return width, height
    scale = max_side / longest
    return max(1, round(width * scale)), max(1, round(height * scale))


def _encode(img: Any, quality: int, icc: bytes | None) -> bytes:
    out = io.BytesIO()
    extra = {"icc_profile": icc} if icc else {}
    img.save(out, "JPEG", quality=quality, optimize=True, **extra)
    return out.getvalue()


def _best_fit(img: Any, max_bytes: int, icc: bytes | None) -> bytes | None:
    """The highest-quality JPEG of ``img`` within ``max_bytes``, or None."""
    best = _encode(img, BEST_QUALITY, icc)
    if len(best) <= max_bytes:
        return best
    low, high, found = LOWEST_QUALITY, BEST_QUALITY - 1, None
    while low <= high:  # binary search: size grows with quality
        mid = (low + high) // 2
        candidate = _encode(img, mid, icc)
        if len(candidate) <= max_bytes:
            found, low = candidate, mid + 1
        else:
            high = mid - 1
    return found


def _reencode(img: Any, fmt: str, data: bytes, *, max_bytes: int, max_side: int) -> Normalised:
    from PIL import Image, ImageOps

    icc = img.info.get("icc_profile")
    img = _decode(img, fmt)  # a JPEG decodes straight to >= target size (drafted)
    try:  # the EXIF tag is not kept, so apply it (in place: no copy when upright)
        ImageOps.exif_transpose(img, in_place=True)
    except Exception:
        pass
    if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
        # Flatten onto white at full size (exact colours at transparent edges), pasting
        # through the image's own alpha: no separate alpha channel copy.
        rgba = img if img.mode == "RGBA" else img.convert("RGBA")
        if rgba is not img:
            img.close()
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba)
        rgba.close()
        img = canvas
    elif img.mode not in ("RGB", "L"):
        converted = img.convert("RGB")
        img.close()
        img = converted
        icc = None  # a CMYK or palette profile does not describe the RGB pixels
    target = _target_size(img.width, img.height, max_side)
    img = _reduce(img, target)
    if img.size != target:
        resized = img.resize(target, Image.Resampling.LANCZOS)
        img.close()
        img = resized
    for _ in range(8):
        encoded = _best_fit(img, max_bytes, icc)
        if encoded is not None:
            return Normalised(
                encoded, "JPEG", img.width, img.height, reencoded=True, original_bytes=len(data)
            )
        # Even a modest quality is too big: shrink the picture, not the quality.
        smaller = _encode(img, LOWEST_QUALITY, icc)
        scale = min(0.9, (max_bytes / len(smaller)) ** 0.5 * 0.95)
        target = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        img = img.resize(target, Image.Resampling.LANCZOS)
    raise ImageRejected(f"could not fit the image within {max_bytes} bytes")
