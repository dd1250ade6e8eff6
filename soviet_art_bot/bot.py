"""Post one painting for one slot: choose, fetch, post everywhere, record.

This is the single code path behind both the Lambda handler and
``soviet-art-bot post``. Its promise is *at most one post per platform per
slot*, however often the slot is delivered and however many deliveries run
at once:

1. The slot's record is created with a conditional write (only one
   invocation can create it), holding the chosen painting.
2. An invocation works on a slot only while it holds the record's *lease*;
   another delivery waits for the lease to be released (then usually finds
   everything posted) or to expire (the holder died).
3. Before each platform request the record marks that platform *pending*.
   If the answer is lost, the next delivery sees the pending mark and asks
   the platform to find the post instead of making a second one.
4. A platform that fails is recorded and the invocation raises
   :class:`~soviet_art_bot.errors.PostIncomplete` after trying the others, so
   Lambda retries and the retry posts only what is missing.
"""

from __future__ import annotations

import hashlib
import random
import shutil
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from . import platforms as platform_registry
from . import sensitive
from .caption import alt_text
from .catalog import CatalogIndex, Painting, load_index
from .config import Secrets, Settings
from .errors import (
    ArtBotError,
    DuplicateContent,
    ImageError,
    NotFound,
    NotRegularFile,
    ObjectTooLarge,
    PlatformError,
    PostIncomplete,
    RefusedPainting,
    SlotBusy,
    StoreError,
)
from .ledger import Ledger, choose, format_time, read_ledger, update_ledger
from .log import Logger, register_secret
from .media import sniff_mime
from .platforms.base import Platform, PostRequest
from .slots import PlatformPost, PostStatus, SetAside, SlotLease, SlotRecord
from .store import Store, open_store

MAX_IMAGE_BYTES = 5_000_000  # X's limit; ingest keeps images under 2,000,000
MAX_SET_ASIDE = 5  # unreadable images (or refused paintings) tolerated per slot
DUPLICATE_CHECKS = 2  # deliveries that must see a duplicate before a pending text is "old"
IMAGE_SET_ASIDE = timedelta(days=7)
DUPLICATE_SET_ASIDE = timedelta(days=30)
# A catalog may be hand-written, so no advice to re-run a scrape it never had.
REPAIR = "'soviet-art-bot check' lists every image that differs from its catalog entry"


def slot_rng(slot: str, platform: str | None, exclude: set[str], fingerprint: str) -> random.Random:
    """The random source of one choice: uniform, and the same for the same inputs.

    Seeding with the slot, platform, excluded paintings and catalog makes the
    choice a function of the store's state, so ``preview`` shows the painting
    the post will choose as long as nothing is posted in between. Which
    painting comes next is no secret worth a system random source.
    """
    seed = f"{slot}|{platform or '*'}|{','.join(sorted(exclude))}|{fingerprint}"
    return random.Random(seed)


@dataclass
class Bot:
    """Everything built once per warm container: store, secrets, platforms."""

    settings: Settings
    store: Store
    platforms: dict[str, Platform]
    logger: Logger = field(default_factory=Logger)
    rng: random.Random | None = None
    """Only for tests; by default each choice is :func:`slot_rng`'s."""

    @classmethod
    def build(
        cls,
        settings: Settings,
        *,
        secrets: Secrets | None = None,
        store: Store | None = None,
        logger: Logger | None = None,
        rng: random.Random | None = None,
        platforms: Mapping[str, Platform] | None = None,
    ) -> Bot:
        """Build the bot, checking every enabled platform's credentials up front.

        ``platforms`` holds platforms already built (a test's, each made with
        its own session or client); the others are built from the settings.
        """
        logger = logger or Logger()
        secrets = secrets or Secrets(ssm_path=settings.ssm_path)
        if secrets.on_secret is None:
            secrets.on_secret = register_secret
        if set(settings.platforms) - {"outbox"} - set(platforms or {}):
            secrets.load()
        built = {
            name: (platforms or {}).get(name)
            or platform_registry.create(name, settings, secrets, logger=logger)
            for name in settings.platforms
        }
        return cls(
            settings=settings,
            store=store or open_store(settings.store),
            platforms=built,
            logger=logger,
            rng=rng,
        )

    def post(self, slot: datetime, *, deadline: float | None = None) -> dict[str, Any]:
        """Post ``slot`` on every enabled platform that does not have it yet."""
        deadline = deadline if deadline is not None else time.monotonic() + 900
        return _SlotRun(self, slot.astimezone(UTC).replace(microsecond=0), deadline).run()


class ImageFetcher:
    """Downloads and checks paintings' images, once each, into a private directory.

    Shared by a post and its rehearsal (``preview``): both must refuse the same
    images for the same reasons. :meth:`close` removes every file it made.
    """

    def __init__(self, store: Store, logger: Logger) -> None:
        self.store = store
        self.log = logger
        self._images: dict[str, tuple[Path, str]] = {}
        self._tmpdir: Path | None = None

    def fetch(self, painting: Painting) -> tuple[Path, str]:
        """The image's local path and type; :class:`ImageError` if it cannot be posted."""
        if painting.id in self._images:
            return self._images[painting.id]
        if self._tmpdir is None:  # private (0700), removed by close()
            self._tmpdir = Path(tempfile.mkdtemp(prefix="soviet-art-bot-"))
        dest = self._tmpdir / f"{len(self._images)}.img"
        where = self.store.describe(painting.image)
        with self.log.timed("fetch_image", painting_id=painting.id) as extra:
            try:
                size = self.store.download(painting.image, dest, max_bytes=MAX_IMAGE_BYTES)
            except NotFound:
                raise ImageError(f"image {where} of painting {painting.id} is missing") from None
            except (ObjectTooLarge, NotRegularFile) as exc:
                raise ImageError(f"image of painting {painting.id}: {exc}") from None
            # any other StoreError (throttling, access denied) is not the painting's fault:
            # it propagates, and Lambda's retry tries the same painting again
            extra["bytes"] = size
            with open(dest, "rb") as fh:
                head = fh.read(16)
            mime = sniff_mime(head)
            if mime is None:
                raise ImageError(
                    f"{where} (painting {painting.id}) is not a JPEG, PNG, GIF or WebP"
                )
            if painting.bytes is not None and size != painting.bytes:
                raise ImageError(
                    f"{where} is {size} bytes but catalog.json says {painting.bytes}; {REPAIR}"
                )
            if painting.sha256 is not None:
                digest = hashlib.sha256(dest.read_bytes()).hexdigest()
                if digest != painting.sha256:
                    raise ImageError(f"{where} does not match the sha256 in catalog.json; {REPAIR}")
        self._images[painting.id] = (dest, mime)
        return dest, mime

    def close(self) -> None:
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._images.clear()


class _SlotRun:
    """One invocation's work on one slot: choose, fetch and publish.

    The slot's record and its lease belong to :class:`~soviet_art_bot.slots.SlotLease`;
    images to :class:`ImageFetcher`.
    """

    def __init__(self, bot: Bot, slot: datetime, deadline: float) -> None:
        self.bot = bot
        self.store = bot.store
        self.slot = slot
        self.slot_s = format_time(slot)
        self.deadline = deadline
        self.window = timedelta(days=bot.settings.no_repeat_days)
        self.log = bot.logger.bind(slot=self.slot_s)
        self.lease = SlotLease(self.store, slot, deadline=deadline, logger=self.log)
        self.images = ImageFetcher(self.store, self.log)
        self._index: CatalogIndex | None = None

    @property
    def record(self) -> SlotRecord:
        return self.lease.record

    @property
    def index(self) -> CatalogIndex:
        if self._index is None:
            with self.log.timed("load_catalog") as extra:
                self._index = load_index(self.store)
                extra["paintings"] = len(self._index)
        return self._index

    def run(self) -> dict[str, Any]:
        with self.log.timed("post_slot") as summary:
            try:
                names = list(self.bot.platforms)
                new = lambda: SlotRecord.new(self.slot, self._choose())  # noqa: E731
                if not self.lease.acquire(new, lambda record: record.done(names)):
                    self._record_in_ledger()  # repairs a run cut short
                    summary["outcome"] = "already-posted"
                    return self._result("already-posted")
                try:
                    status = self._post_missing()
                finally:
                    self.lease.release()
                summary["outcome"] = status
                return self._result(status)
            finally:
                self.images.close()

    # -- choosing ----------------------------------------------------------------

    def _choose(self, *, platform: str | None = None, exclude: set[str] | None = None) -> Painting:
        ledger, _ = read_ledger(self.store)
        exclude = set(exclude or ())
        if self._barred(platform):  # ART_BOT_SENSITIVE: labelled paintings are not for it
            exclude |= set(self.index.labelled)
        rng = self.bot.rng or slot_rng(self.slot_s, platform, exclude, self.index.fingerprint)
        with self.log.timed("choose", platform=platform) as extra:
            painting = choose(
                self.index,
                ledger,
                now=self.slot,
                window=self.window,
                rng=rng,
                platform=platform,
                exclude=exclude,
            )
            extra["painting_id"] = painting.id
        return painting

    def _barred(self, platform: str | None) -> bool:
        """Whether labelled paintings may not be chosen (for ``platform``, or the slot)."""
        names = [platform] if platform else list(self.bot.platforms)
        return sensitive.barred(self.bot.settings.sensitive, names)

    def _painting(self, painting_id: str) -> Painting:
        return self.record.find_painting(painting_id, self.lease.key)

    def _set_aside(
        self,
        painting: Painting,
        reason: str,
        *,
        platform: str = "*",
        lapses_with_catalog: bool = True,
    ) -> None:
        until = self.slot + (DUPLICATE_SET_ASIDE if platform != "*" else IMAGE_SET_ASIDE)
        self.log.warning(
            "set_aside", painting_id=painting.id, platform=platform, reason=reason,
            until=format_time(until), outcome="set-aside",
        )  # fmt: skip

        # A painting refused for its text stays refused whatever the catalog says;
        # one refused for its image gets another chance once the catalog changes.
        catalog = self.index.fingerprint if lapses_with_catalog else None

        def change(ledger: Ledger) -> None:
            ledger.put_aside(painting.id, at=self.slot, until=until, reason=reason,
                             platform=platform, catalog=catalog)  # fmt: skip

        update_ledger(self.store, change)
        self.record.set_aside.append(SetAside(painting.id, platform, reason))

    def _slot_painting(self) -> tuple[Painting, Path, str]:
        """The slot's painting with its image, replacing it while images are bad."""
        painting = self._painting(self.record.painting_id)
        for _ in range(MAX_SET_ASIDE + 1):
            try:
                path, mime = self.images.fetch(painting)
                return painting, path, mime
            except ImageError as exc:
                if self.record.started():
                    raise  # already (maybe) posted elsewhere: cannot switch now
                self._set_aside(painting, str(exc))
                painting = self._choose(exclude=self.record.tried())
                self.record.painting = painting.to_json()
                self.lease.save()
        raise ArtBotError(
            f"slot {self.slot_s}: {MAX_SET_ASIDE} paintings in a row had missing or unreadable "
            f"images (state/ledger.json names them); {REPAIR}"
        )

    # -- publishing ----------------------------------------------------------------

    def _publish(self, name: str, painting: Painting, path: Path, mime: str) -> PlatformPost:
        """Post on one platform, switching painting if the platform refuses this one."""
        earlier = self.record.platforms.get(name)
        attempts = earlier.attempt if earlier else 0
        pending = earlier if earlier and earlier.status is PostStatus.PENDING else None
        for _ in range(MAX_SET_ASIDE + 1):
            if pending:  # resolve the earlier attempt: same painting, same text
                painting = self._painting(pending.painting_id or "")
                path, mime = self.images.fetch(painting)
                text = pending.text or ""
            elif painting.labels and self._barred(name):
                # A labelled painting this platform cannot mark: another one instead,
                # noted in the slot's record (not set aside: the policy, not a fault).
                self.record.set_aside.append(
                    SetAside(painting.id, name, sensitive.refusal(name, painting))
                )
                painting = self._choose(platform=name, exclude=self.record.tried())
                self.record.alternates.append(painting.to_json())
                path, mime = self.images.fetch(painting)
                self.lease.save()
                continue
            else:
                text = self._text(name, painting)
            attempts += 1
            state = PlatformPost.pending(painting.id, text, attempt=attempts, earlier=pending)
            self.record.platforms[name] = state
            self.lease.save()
            outcome = self._send(name, painting, path, mime, state, pending)
            if isinstance(outcome, PlatformPost):
                self.record.platforms[name] = outcome
                self.lease.save()
                return outcome
            refused = outcome
            if (
                pending
                and isinstance(refused, DuplicateContent)
                and state.duplicate_checks + 1 < DUPLICATE_CHECKS
            ):
                # A duplicate answer to our own pending text usually means our lost
                # post exists but is not visible yet: look again on the next delivery
                # rather than risk a second post. Only repeated answers prove the
                # text belongs to an older post.
                state.duplicate_checks += 1
                self.lease.save()
                raise PlatformError(
                    name,
                    f"{refused}; this slot's earlier post may exist but was not found yet, "
                    "so the next delivery looks again",
                    outcome_unknown=True,
                )
            # The platform will never take this painting: set it aside there, pick another.
            self._set_aside(painting, str(refused), platform=name,
                            lapses_with_catalog=not isinstance(refused, DuplicateContent))  # fmt: skip
            painting = self._choose(platform=name, exclude=self.record.tried() | {painting.id})
            self.record.alternates.append(painting.to_json())
            path, mime = self.images.fetch(painting)
            pending = None
        raise ArtBotError(f"{name}: refused {MAX_SET_ASIDE} paintings in a row")

    def _text(self, name: str, painting: Painting) -> str:
        link = (painting.source_url or None) if self.bot.settings.post_link else None
        return self.bot.platforms[name].text_for(painting, link=link)

    def _send(
        self,
        name: str,
        painting: Painting,
        path: Path,
        mime: str,
        state: PlatformPost,
        pending: PlatformPost | None,
    ) -> PlatformPost | RefusedPainting:
        """One request to the platform: the post made, or the platform's refusal."""
        request = PostRequest(
            slot=self.slot_s,
            painting=painting,
            text=state.text or "",
            alt_text=alt_text(painting),
            image_path=path,
            mime_type=mime,
            deadline=self.deadline,
            labels=sensitive.labels_for(self.bot.settings.sensitive, name, painting),
        )
        with self.log.timed("publish", platform=name, painting_id=painting.id,
                            attempt=state.attempt, resolving=bool(pending)) as extra:  # fmt: skip
            try:
                result = self.bot.platforms[name].publish(
                    request, pending=pending.to_json() if pending else None
                )
            except RefusedPainting as exc:
                extra["outcome"] = "refused"
                extra["reason"] = str(exc)
                return exc
            extra["post_id"] = result.id
        return PlatformPost.posted(painting.id, result.id, result.url, attempt=state.attempt)

    def _record_in_ledger(self) -> None:
        """Note the slot's posted paintings in the ledger, writing only if missing."""
        posts = self.record.platforms
        ids = {
            posts[n].painting_id or ""
            for n in self.bot.platforms
            if n in posts and posts[n].status is PostStatus.POSTED
        }
        stamp = format_time(self.slot)
        if not ids:
            return
        ledger, _ = read_ledger(self.store)
        if all(ledger.recent.get(pid, "") >= stamp for pid in ids):
            return

        def change(ledger: Ledger) -> None:
            for pid in ids:
                ledger.record_post(pid, self.slot)
            ledger.prune(self.slot, self.window)

        update_ledger(self.store, change)

    def _post_missing(self) -> str:
        posts = self.record.platforms
        missing = [n for n in self.bot.platforms if self.record.status(n) is not PostStatus.POSTED]
        painting, path, mime = self._slot_painting()
        failures: dict[str, str] = {}
        posted: list[str] = []
        for name in missing:
            # An attempt whose outcome is still unknown stays pending until a
            # platform answer settles it: never downgrade it to "failed".
            resolving = self.record.status(name) is PostStatus.PENDING
            try:
                self._publish(name, painting, path, mime)
                posted.append(name)
            except (PlatformError, ImageError) as exc:
                failures[name] = str(exc)
                unknown = isinstance(exc, PlatformError) and exc.outcome_unknown
                if not unknown and not resolving:
                    if name in posts:
                        posts[name].failed(str(exc))
                    else:
                        posts[name] = PlatformPost(PostStatus.FAILED, error=str(exc))
                    self.lease.save()
            except (SlotBusy, StoreError):
                raise
            except Exception as exc:  # a bug or an unexpected library error: keep it pending
                failures[name] = f"{type(exc).__name__}: {exc}"
                self.log.error("publish", platform=name, outcome="error",
                               error=f"{type(exc).__name__}: {exc}")  # fmt: skip
        # every posted platform, not only this run's: an earlier run may have
        # posted and died before its ledger write (this writes only what is missing)
        self._record_in_ledger()
        if failures:
            raise PostIncomplete(self.slot_s, failures, self._result("incomplete"))
        return "posted" if posted else "already-posted"

    def _result(self, status: str) -> dict[str, Any]:
        painting = self._painting(self.record.painting_id)
        posts: dict[str, Any] = {}
        for name in self.bot.platforms:
            post = self.record.platforms.get(name)
            if post is not None and post.status is PostStatus.POSTED:
                posts[name] = {"id": post.id, "url": post.url}
                if post.painting_id != painting.id:
                    posts[name]["painting_id"] = post.painting_id
        return {"status": status, "slot": self.slot_s, "painting": painting.summary(),
                "posts": posts}  # fmt: skip
