"""What a labelled painting becomes on each platform, under ``ART_BOT_SENSITIVE``.

The policy is decided here, once, for the post and its rehearsal
(``preview``) alike; the platforms only carry out the marking they are
handed (:attr:`~soviet_art_bot.platforms.base.PostRequest.labels`).
Light on purpose: the Lambda imports it on every post.
"""

from __future__ import annotations

from collections.abc import Iterable

from .catalog import Painting
from .config import Sensitive

# Platforms whose API offers no documented way to mark a post as sensitive
# (X: see docs/x.md, "Marking a post as sensitive"). Under ``warn`` they get
# another painting instead of a labelled one.
UNMARKABLE = frozenset({"x"})

__all__ = ["UNMARKABLE", "Sensitive", "barred", "can_mark", "labels_for", "refusal"]


def can_mark(platform: str) -> bool:
    return platform not in UNMARKABLE


def barred(policy: Sensitive, platforms: Iterable[str]) -> bool:
    """Whether a labelled painting may not be chosen for posting to all of ``platforms``.

    For the slot's painting ``platforms`` are all the enabled ones: under
    ``warn`` a labelled painting is fine as long as one of them can mark it
    (the others then get another painting).
    """
    if policy is Sensitive.SKIP:
        return True
    if policy is Sensitive.IGNORE:
        return False
    return not any(can_mark(name) for name in platforms)


def labels_for(policy: Sensitive, platform: str, painting: Painting) -> tuple[str, ...]:
    """The content labels ``platform`` receives with ``painting`` (none: unmarked)."""
    if policy is Sensitive.IGNORE or not can_mark(platform):
        return ()
    return painting.labels


def refusal(platform: str, painting: Painting) -> str:
    """Why ``painting`` is not posted on ``platform`` (for the slot record)."""
    return (
        f"labelled {', '.join(painting.labels)} ({painting.labels_by}); {platform} offers no way "
        "to mark a post as sensitive (ART_BOT_SENSITIVE=warn), so it gets another painting"
    )
