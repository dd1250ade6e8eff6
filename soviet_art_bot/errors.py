"""Every error the bot raises on purpose, in one tree.

Each one carries a message written for the operator: what is wrong, where
(the URL, key, entry or setting), and what to do about it. The CLI prints
``Error: <message>`` and the Lambda lets the exception propagate so that its
alarms see it.

::

    ArtBotError
     +-- ConfigError            a setting is missing or malformed
     +-- StoreError             the store could not be read or written
     |    +-- NotFound          an object the bot needs is not there
     |    +-- ObjectTooLarge    an object is over the size the reader accepts
     |    +-- NotRegularFile    a directory store's key is a link, FIFO, device, ...
     |    +-- Conflict          a compare-and-swap lost a race (retry it)
     +-- CatalogError           catalog.json is not a valid v1 catalog
     +-- StateError             a state file (ledger, slot record) is damaged
     +-- EventError             the Lambda's event (or a --slot) is not a slot time
     +-- ImageError             a painting's image is missing or unreadable
     +-- NothingToPost          no painting in the collection can be posted
     +-- SlotBusy               another invocation holds this slot's lease
     +-- PostIncomplete         a slot ended with a platform still missing
     +-- PlatformError          a platform refused or failed a request
     |    +-- AuthError         credentials were rejected (401)
     |    +-- RefusedPainting   this platform will never take this painting
     |    |    +-- DuplicateContent  it already has this exact text
     |    |    +-- MediaTooLarge     the image is over its limit
     |    +-- RateLimited       the platform asked us to wait (429)
     +-- IngestError            the scraper could not finish (see wikiart.py)
"""

from __future__ import annotations

from typing import Any

MAX_QUOTED = 60
"""Longest value an error message quotes: a hostile 1 MB value is never echoed whole."""


def brief(value: object, limit: int = MAX_QUOTED) -> str:
    """``repr(value)``, cut to ``limit`` characters, for quoting input in messages."""
    text = repr(value)
    if len(text) <= limit:
        return text
    return f"{text[: limit - 3]}... ({len(text):,} characters)"


class ArtBotError(Exception):
    """Base of every error the bot raises deliberately.

    Its text is redacted: a message built from a library's exception could
    quote a request, and Lambda reports ``str(exc)`` as the error message.
    """

    def __str__(self) -> str:
        from .log import redact

        return redact(super().__str__())


class ConfigError(ArtBotError):
    """A setting is missing or malformed; the message names the setting."""


class StoreError(ArtBotError):
    """The store could not be read or written."""


class NotFound(StoreError):
    """An object is not in the store."""

    def __init__(self, key: str, where: str = "") -> None:
        self.key = key
        super().__init__(f"{where or key} does not exist in the store")


class ObjectTooLarge(StoreError):
    """An object is larger than the caller is willing to read."""


class NotRegularFile(StoreError):
    """A directory store's key names a link, FIFO, device or directory: never read."""


class Conflict(StoreError):
    """A compare-and-swap write lost against a concurrent writer."""

    def __init__(self, key: str) -> None:
        self.key = key
        super().__init__(f"{key} was changed by another writer; read it again and retry")


class CatalogError(ArtBotError):
    """catalog.json is not a valid version 1 catalog."""


class StateError(ArtBotError):
    """A state file the bot keeps in the store (ledger, slot record) is damaged."""


class EventError(ArtBotError):
    """The event does not name a slot the bot may post (see :mod:`soviet_art_bot.times`)."""


class ImageError(ArtBotError):
    """A painting's image object is missing or does not match the catalog."""


class NothingToPost(ArtBotError):
    """No painting in the collection can be posted."""


class SlotBusy(ArtBotError):
    """Another invocation is posting this slot right now."""


class PostIncomplete(ArtBotError):
    """A slot ended with at least one platform without its post.

    Raised so that Lambda counts the invocation as failed and retries it; the
    retry completes only the platforms that are missing.
    """

    def __init__(
        self, slot: str, failures: dict[str, str], result: dict[str, Any] | None = None
    ) -> None:
        self.slot = slot
        self.failures = dict(failures)
        self.result = result
        """What the slot did post (the Lambda's return value, status "incomplete")."""
        detail = "; ".join(
            why if why.startswith(f"{name}: ") else f"{name}: {why}"
            for name, why in sorted(failures.items())
        )
        super().__init__(
            f"slot {slot} is missing its post on {', '.join(sorted(failures))} ({detail}); "
            "a retry of the same slot posts only what is missing"
        )


class PlatformError(ArtBotError):
    """A platform refused or failed a request.

    ``retryable`` says whether trying again later can help; ``outcome_unknown``
    says the platform may have created the post even though we got no answer
    (a lost response), so a retry must resolve it instead of posting blindly.
    """

    def __init__(
        self,
        platform: str,
        message: str,
        *,
        status: int | None = None,
        retryable: bool = False,
        outcome_unknown: bool = False,
    ) -> None:
        self.platform = platform
        self.status = status
        self.retryable = retryable
        self.outcome_unknown = outcome_unknown
        prefix = f"{platform}: "
        super().__init__(message if message.startswith(prefix) else prefix + message)


class AuthError(PlatformError):
    """The platform rejected our credentials."""


class RefusedPainting(PlatformError):
    """This platform will not take this painting, whatever the retry.

    Its text repeats an old post, or its image is over the platform's own
    limit. The bot sets the painting aside for that platform and posts
    another one there, so the slot is not left empty.
    """


class DuplicateContent(RefusedPainting):
    """The platform refuses this text because it already has it."""


class MediaTooLarge(RefusedPainting):
    """The image is over this platform's size or pixel limit."""


class RateLimited(PlatformError):
    """The platform asked us to wait longer than this invocation can."""


class IngestError(ArtBotError):
    """The scraper could not finish; see :mod:`soviet_art_bot.wikiart`."""
