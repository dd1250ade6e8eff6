"""The one interface every platform implements.

The bot hands a platform a :class:`PostRequest` (painting, image file on
disk, alt text, slot) and gets back a :class:`PostResult`. Before calling
:meth:`Platform.publish` it records the attempt as *pending* in the slot's
state; if a previous attempt of the same slot is still pending (its answer
was lost), that record is passed as ``pending`` so the platform can find the
post it may already have made instead of making a second one.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from ..catalog import Painting
from ..errors import PlatformError, RefusedPainting
from ..log import Logger


@dataclass(frozen=True)
class PostRequest:
    """Everything a platform needs to post one painting for one slot."""

    slot: str
    painting: Painting
    text: str
    alt_text: str
    image_path: Path
    mime_type: str
    deadline: float = field(default_factory=lambda: time.monotonic() + 600)
    """``time.monotonic()`` value by which the invocation must have returned."""
    labels: tuple[str, ...] = ()
    """Content labels the post must carry (Bluesky's self-label values, e.g.
    ``nudity``); none by default, so a platform sends no marking of its own."""

    def remaining(self) -> float:
        return self.deadline - time.monotonic()


@dataclass(frozen=True)
class PostResult:
    """A post that exists on the platform."""

    id: str
    url: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "url": self.url}


class Platform(ABC):
    """A place the bot posts to."""

    name: ClassVar[str]

    def __init__(self, *, logger: Logger | None = None) -> None:
        self.logger = (logger or Logger()).bind(platform=self.name)

    @abstractmethod
    def text_for(self, painting: Painting, *, link: str | None = None) -> str:
        """The post text, fitted to this platform's limit and way of counting."""

    @abstractmethod
    def publish(self, request: PostRequest, *, pending: dict[str, Any] | None) -> PostResult:
        """Post ``request``, or find the post a lost earlier attempt made.

        ``pending`` is the state this slot recorded before an earlier attempt
        whose outcome is unknown (it holds at least ``text`` and
        ``painting_id``), or None for a first attempt. Raise a
        :class:`~soviet_art_bot.errors.PlatformError` on failure, with
        ``outcome_unknown=True`` when the post may exist nonetheless.
        """


@contextmanager
def pending_stays_unknown(pending: dict[str, Any] | None) -> Iterator[None]:
    """While resolving an earlier attempt, any failure leaves its outcome unknown.

    The earlier attempt's post may exist until an answer proves otherwise. A
    refusal of the painting itself is the exception: the earlier attempt had
    the same text and image, so it was refused as well.
    """
    try:
        yield
    except PlatformError as exc:
        if pending and not exc.outcome_unknown and not isinstance(exc, RefusedPainting):
            raise still_unknown(exc) from exc
        raise


def still_unknown(exc: PlatformError) -> PlatformError:
    """The same failure as ``exc``, as a new error whose post may exist (never a mutation).

    Built with its final meaning, so no one holding ``exc`` sees it change.
    """
    return type(exc)(
        exc.platform,
        exc.args[0],
        status=exc.status,
        retryable=exc.retryable,
        outcome_unknown=True,
    )
