"""Platforms the bot posts to. Each lives in its own module, imported only
when enabled, so a Lambda posting only to X never imports Mastodon.py or
atproto (cold start pays for what is used).
"""

from __future__ import annotations

import importlib

from ..config import Secrets, Settings
from ..log import Logger
from .base import Platform, PostRequest, PostResult

MODULES = {
    "x": "soviet_art_bot.platforms.x",
    "mastodon": "soviet_art_bot.platforms.mastodon",
    "bluesky": "soviet_art_bot.platforms.bluesky",
    "outbox": "soviet_art_bot.platforms.outbox",
}


def create(name: str, settings: Settings, secrets: Secrets, *, logger: Logger) -> Platform:
    """Build the real platform ``name``; each module exposes ``create(settings, secrets, ...)``.

    Credentials are checked here, before any request: a missing one raises a
    :class:`~soviet_art_bot.errors.ConfigError` naming it. A test does not come
    through here with fakes: it builds the platform class with its session or
    client (as an httpx test passes a transport) and hands it to
    :meth:`soviet_art_bot.bot.Bot.build` as ``platforms``.
    """
    module = importlib.import_module(MODULES[name])
    return module.create(settings, secrets, logger=logger)


__all__ = ["MODULES", "Platform", "PostRequest", "PostResult", "create"]
