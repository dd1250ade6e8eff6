"""The outbox: posts written as files, for trying the bot with no accounts.

One ``<slot>--<painting id>.json`` per post, with a copy of the image beside
it. Writing is idempotent for a slot: a retry finds the file and reports the
same post instead of writing a second one.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from pathlib import Path
from typing import Any

from ..caption import post_text
from ..catalog import Painting
from ..config import Secrets, Settings
from ..errors import PlatformError
from ..log import Logger
from ..media import EXTENSIONS
from .base import Platform, PostRequest, PostResult

TEXT_LIMIT = 500


def _safe(part: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "-", part).strip("-") or "post"


class Outbox(Platform):
    name = "outbox"

    def __init__(self, directory: str | os.PathLike[str], *, logger: Logger | None = None) -> None:
        super().__init__(logger=logger)
        self.directory = Path(directory)

    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        return post_text(painting, limit=TEXT_LIMIT, link=link)

    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        stem = f"{_safe(request.slot)}--{_safe(request.painting.id)}"
        post_path = self.directory / f"{stem}.json"
        if post_path.exists():  # an earlier attempt of this slot got this far
            return PostResult(id=stem, url=post_path.resolve().as_uri())
        image_path = self.directory / f"{stem}{EXTENSIONS.get(request.mime_type, '.img')}"
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(request.image_path, image_path)
            record = {
                "slot": request.slot,
                "painting_id": request.painting.id,
                "title": request.painting.title,
                "artist": request.painting.artist,
                "year": request.painting.year,
                "text": request.text,
                "alt_text": request.alt_text,
                "image": str(image_path.resolve()),
                "mime_type": request.mime_type,
                "labels": list(request.labels),  # the content labels it would carry
            }
            fd, tmp = tempfile.mkstemp(dir=self.directory, prefix=f".{stem}.", suffix=".tmp")
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(record, fh, ensure_ascii=False, indent=2)
                fh.write("\n")
            os.replace(tmp, post_path)
        except OSError as exc:
            raise PlatformError(
                self.name,
                f"cannot write to {self.directory} ({exc.strerror}); check ART_BOT_OUTBOX_DIR",
                retryable=True,
            ) from None
        return PostResult(id=stem, url=post_path.resolve().as_uri())


def create(settings: Settings, secrets: Secrets, *, logger: Logger, **_: Any) -> Outbox:
    return Outbox(settings.outbox_dir, logger=logger)
