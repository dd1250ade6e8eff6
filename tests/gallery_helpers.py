"""Shared setup of the gallery tests: a store with posts made by the real bot."""

from __future__ import annotations

import dataclasses
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

from soviet_art_bot.bot import Bot
from soviet_art_bot.catalog import Painting, write_catalog
from soviet_art_bot.config import Settings
from soviet_art_bot.log import Logger
from soviet_art_bot.sample import iter_sample
from soviet_art_bot.store import Store

HOSTILE_TITLE = '<script>document.title="pwned"</script><img src=x onerror=alert(1)> & "Co"'
START = datetime(2026, 10, 29, 0, 0, tzinfo=UTC)


def fill(store: Store, count: int = 12, *, hostile: bool = True) -> list[Painting]:
    """A sample collection; the first painting's title is an attack when ``hostile``."""
    paintings = []
    for i, (painting, data) in enumerate(iter_sample(count, scale=0.25)):
        if hostile and i == 0:
            painting = dataclasses.replace(painting, title=HOSTILE_TITLE)
        store.write(painting.image, data, content_type="image/jpeg")
        paintings.append(painting)
    write_catalog(store, paintings, source="sample:socialist-realism")
    return paintings


def bot_for(store: Store, outbox: Path, *, gallery: bool = False) -> Bot:
    settings = Settings(
        store=store.url, platforms=("outbox",), outbox_dir=str(outbox), gallery=gallery
    )
    return Bot.build(settings, store=store, logger=Logger(io.StringIO()))


def slots(count: int, start: datetime = START) -> list[datetime]:
    """Every 6 hours from ``start``: with the default, they span October and November."""
    return [start + timedelta(hours=6 * i) for i in range(count)]
