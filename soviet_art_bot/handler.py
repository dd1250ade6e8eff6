"""AWS Lambda entry point: ``soviet_art_bot.handler.lambda_handler``.

A thin shell: read the settings, take the slot from the EventBridge event's
``time``, and hand both to :class:`~soviet_art_bot.bot.Bot`, which is built
once per warm container (store client, secrets from SSM, platform sessions)
and reused by later invocations. Absolute imports, so that
``python-lambda-local -f lambda_handler soviet_art_bot/handler.py event.json``
can load this file by its path.
"""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from soviet_art_bot.bot import Bot
from soviet_art_bot.config import Settings
from soviet_art_bot.errors import ArtBotError, EventError
from soviet_art_bot.log import Logger, log_level, was_logged
from soviet_art_bot.times import EXAMPLE, parse_time

SAFETY_SECONDS = 5.0  # finish (and record) this long before Lambda's own timeout
DEFAULT_SECONDS = 900.0

_bots: dict[Settings, Bot] = {}


def get_bot(settings: Settings, **kwargs: Any) -> Bot:
    """The warm container's bot for ``settings``, built on first use."""
    bot = _bots.get(settings)
    if bot is None:
        bot = _bots[settings] = Bot.build(settings, **kwargs)
    return bot


def handle(
    event: Any, *, settings: Settings, remaining_seconds: float | None = None, **kwargs: Any
) -> dict[str, Any]:
    """Post the slot named by ``event``; shared by the Lambda and the CLI."""
    if not isinstance(event, dict):
        raise ArtBotError("the event is not a JSON object; send an EventBridge scheduled event")
    if "time" not in event:
        raise EventError(
            f"event 'time' is missing; send an EventBridge scheduled event, whose 'time' "
            f"(like {EXAMPLE}) names the slot"
        )
    slot = parse_time(event["time"])
    seconds = DEFAULT_SECONDS if remaining_seconds is None else remaining_seconds
    deadline = time.monotonic() + max(seconds - SAFETY_SECONDS, 1.0)
    bot = get_bot(settings, **kwargs)
    result = bot.post(slot, deadline=deadline)
    if settings.gallery and result.get("status") == "posted":
        refresh_gallery(bot, slot)
    return result


def refresh_gallery(bot: Bot, slot: datetime) -> None:
    """Update the gallery for the slot just posted; never fails the post.

    The post is already out and recorded: a gallery problem is logged (step
    ``gallery_refresh``, outcome ``error``) and the next post's refresh, or
    ``soviet-art-bot gallery``, catches up.
    """
    started = time.perf_counter()
    try:
        from soviet_art_bot.gallery.site import refresh

        summary = refresh(bot.store, slot, logger=bot.logger)
    except Exception as exc:  # anything at all: the post must still be reported
        bot.logger.error(
            "gallery_refresh", outcome="error", error=str(exc), error_type=type(exc).__name__
        )
        return
    bot.logger.info(
        "gallery_refresh",
        outcome="ok",
        pages=len(summary.pages),
        records_read=summary.records_read,
        duration_ms=round((time.perf_counter() - started) * 1000, 1),
    )


def lambda_handler(event: Any, context: Any) -> dict[str, Any]:
    """Lambda's entry point; raises when a platform was left without its post."""
    remaining = None
    if context is not None and hasattr(context, "get_remaining_time_in_millis"):
        remaining = context.get_remaining_time_in_millis() / 1000.0
    try:
        log_level()  # ART_BOT_LOG_LEVEL, checked before anything happens
        settings = Settings.resolve()
        return handle(event, settings=settings, remaining_seconds=remaining)
    except ArtBotError as exc:
        message = None if was_logged(exc) else str(exc)
        Logger().error("invocation", outcome="error", error=message, error_type=type(exc).__name__)
        raise
