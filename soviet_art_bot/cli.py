"""``soviet-art-bot``: the command line over the same library the Lambda uses.

The CLI only parses options and turns library errors into one
``Error: ...`` line; all behaviour lives in the library. Options override the
environment, which overrides the defaults.

Output is for a person by default (a short summary on stdout); ``--json``
prints one JSON document on stdout and nothing else there. Log lines go to
stderr only when asked for (``--verbose``, or ``ART_BOT_LOG_LEVEL``). Exit
status: 0 done, 1 a failure (``Error: ...``), 2 a usage error (``Error: ...``
naming the option).
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import re
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, NoReturn

from . import __version__
from .config import ENV_PLATFORMS, ENV_STORE, Settings, check_store_url
from .errors import ArtBotError, ConfigError, IngestError, PostIncomplete
from .log import ENV_LOG_LEVEL, Logger, log_level

DEFAULT_STYLE = "socialist-realism"
PROG = "soviet-art-bot"


class UsageError(Exception):
    """The command line itself is wrong (exit status 2)."""


class _Help(argparse.HelpFormatter):
    """Shows each option's default, unless it has none worth showing."""

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ""
        default = action.default
        if (
            "%(default)" not in text
            and "default" not in text
            and action.option_strings
            and default not in (None, False, argparse.SUPPRESS)
        ):
            text += " (default: %(default)s)"
        return text


class _Parser(argparse.ArgumentParser):
    """argparse, except that a usage error is one ``Error:`` line naming the option."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("formatter_class", _Help)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        if message.startswith("argument "):  # "argument --slot: ..." -> "--slot: ..."
            message = message[len("argument ") :]
        raise UsageError(f"{message}; see '{self.prog} --help'")


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--store", help=f"s3://BUCKET[/PREFIX] or a directory (default: ${ENV_STORE})"
    )


def _output_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="print one JSON document for a machine")
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help=f"write the log lines to stderr (default: only if ${ENV_LOG_LEVEL} is set)",
    )


def _slot_time(option: str, *, bounded: bool = True) -> Any:
    """An argparse type: a time, parsed (and bounded) as the Lambda parses a slot."""

    def parse(value: str) -> datetime:
        from .times import parse_time

        try:
            return parse_time(value, what=option, bounded=bounded)
        except ArtBotError as exc:  # argparse puts the option's name in front
            raise argparse.ArgumentTypeError(str(exc).removeprefix(f"{option} ")) from None

    return parse


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return number


def _parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Post one painting of socialist realism to X, Mastodon and Bluesky, "
        "and look after the bot: preview, history, check.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    post = sub.add_parser(
        "post",
        help="post one painting now, through the Lambda's code path",
        description="Post one painting now, through exactly the code path the Lambda uses. "
        "Re-running a slot posts nothing twice and completes what is missing.",
    )
    _add_store(post)
    _platforms_option(post)
    post.add_argument("--outbox-dir", help="where the outbox platform writes (default: ./outbox)")
    post.add_argument(
        "--slot",
        type=_slot_time("--slot"),
        help="the slot's time, ISO 8601 UTC (default: now)",
    )
    post.add_argument(
        "--dry-run",
        action="store_true",
        help="show what would be posted, like 'preview', and write nothing anywhere",
    )
    _output_options(post)

    preview = sub.add_parser(
        "preview",
        help="show what the bot would post for a slot, writing nothing",
        description="The painting the bot would post for a slot and, per platform, the exact "
        "text, alt text, image and content labels it would send. Writes nothing to the "
        "store, the outbox or any platform.",
    )
    _add_store(preview)
    _platforms_option(preview)
    preview.add_argument(
        "--slot",
        type=_slot_time("--slot"),
        help="the slot's time, ISO 8601 UTC (default: the next 6-hour boundary)",
    )
    _output_options(preview)

    history = sub.add_parser(
        "history",
        help="what was posted, newest slot first",
        description="What was posted, newest slot first: each platform's status, post id "
        "and URL. Reads only the slot records it shows.",
    )
    _add_store(history)
    history.add_argument(
        "--since",
        type=_slot_time("--since", bounded=False),
        help="only slots at or after this ISO 8601 time",
    )
    history.add_argument(
        "--limit",
        type=_positive,
        help="at most this many slots (default: 20, or all with --since)",
    )
    _output_options(history)

    scrape = sub.add_parser(
        "scrape",
        help="fill a store from a source (WikiArt's listing of a style, AIC's or the Met's API)",
        description="Download every painting a source selects into a store, within the "
        "source's rate limits, merged with what the store holds from other sources and "
        "styles. Safe to re-run: only what is new or changed is fetched.",
    )
    _add_store(scrape)
    scrape.add_argument(
        "--source",
        default="wikiart",
        choices=("wikiart", "aic", "met"),
        help="where to scrape from: wikiart, aic (the Art Institute of Chicago's API) or met "
        "(The Met Collection API)",
    )
    scrape.add_argument(
        "--style", default=None, help=f"WikiArt style slug (default: {DEFAULT_STYLE})"
    )
    scrape.add_argument(
        "--query",
        default=None,
        help="aic, met: the search that selects works (default: 'socialist realism')",
    )
    scrape.add_argument(
        "--source-url",
        default=None,
        help="the source's API origin, for mirrors and tests (default: https://www.wikiart.org "
        "for wikiart, https://api.artic.edu for aic, https://collectionapi.metmuseum.org for met)",
    )
    scrape.add_argument(
        "--wikiart-url",
        default=None,
        help="WikiArt origin, for mirrors and tests (default: https://www.wikiart.org)",
    )
    scrape.add_argument(
        "--no-progress", action="store_true", help="plain log lines instead of a progress bar"
    )

    sources = sub.add_parser(
        "sources",
        help="list what a store holds per source",
        description="Per source: how many paintings, when last scraped, on what licence.",
    )
    _add_store(sources)
    sources.add_argument("--json", action="store_true", help="print one JSON document")

    check = sub.add_parser(
        "check",
        help="validate a store's catalog.json and every image it names",
        description="Validate catalog.json (for example one written by hand or uploaded) and "
        "every image it names: present, a regular file inside the store, a supported type, "
        "and the width, height, bytes and sha256 the entry states. Prints every problem and "
        "exits 1 if there is any. A valid catalog is indexed, so that the next post reads "
        "one shard instead of the whole catalog.",
    )
    _add_store(check)
    check.add_argument("--quick", action="store_true", help="check the catalog only, not images")
    _output_options(check)

    sample = sub.add_parser(
        "sample",
        help="write a small sample collection (generated images) to a store",
        description="Write a sample collection: real paintings' metadata with generated "
        "images, for trying the bot without scraping.",
    )
    _add_store(sample)
    sample.add_argument(
        "--count",
        type=_positive,
        default=None,
        help="how many paintings (default: every painting of the sample, 12)",
    )
    _output_options(sample)

    thumbs = sub.add_parser(
        "thumbs",
        help="make the gallery's thumbnails and colour palettes",
        description="Make a thumbnail (480 px) and a 5-colour palette for every painting of "
        "the catalog whose image is new or changed, under thumbs/ in the store. The scrape "
        "runs this at its end; run it yourself after writing a catalog by hand.",
    )
    _add_store(thumbs)
    thumbs.add_argument("--force", action="store_true", help="recompute every one")
    thumbs.add_argument("--json", action="store_true", help="print the summary as JSON")

    gallery = sub.add_parser(
        "gallery",
        help="render the static gallery of everything posted",
        description="Render index.html, one page per month and palettes.html from the slot "
        "records, into gallery/ in the store or --out.",
    )
    _add_store(gallery)
    gallery.add_argument(
        "--out", help="a directory or s3://BUCKET/PREFIX (default: gallery/ in the store)"
    )
    gallery.add_argument(
        "--rebuild", action="store_true", help="read every slot record again, even unchanged ones"
    )
    gallery.add_argument("--json", action="store_true", help="print the summary as JSON")
    _add_screening(sub)
    return parser


def _platforms_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platforms",
        help=f"comma list of x, mastodon, bluesky, outbox (default: ${ENV_PLATFORMS})",
    )


def _add_screening(sub: Any) -> None:
    """``screen``, ``label`` and ``review`` (DESIGN.md, "Screening")."""
    from .catalog import LABELS

    screen = sub.add_parser(
        "screen",
        help="label sensitive paintings with the local classifier",
        description="Classify every painting whose image is new or changed since it was last "
        "screened and record labels (nudity, sexual, graphic-media) and scores in "
        "catalog.json. An operator's labels are never changed. Needs the 'screening' extra "
        "(pip install 'soviet-art-bot[screening]'), or AWS credentials for rekognition.",
    )
    _add_store(screen)
    screen.add_argument("--all", action="store_true", help="screen every painting again")
    screen.add_argument(
        "--classifier",
        choices=("opennsfw", "rekognition"),
        default="opennsfw",
        help="the bundled open_nsfw model (default) or AWS Rekognition",
    )
    _output_options(screen)

    label = sub.add_parser(
        "label",
        help="set or clear a painting's content labels (the operator's decision)",
        description="Record the operator's labels for one painting; no screening changes "
        "them afterwards. --clear records that the painting needs no label.",
    )
    _add_store(label)
    label.add_argument("id", help="the painting's id in catalog.json")
    group = label.add_mutually_exclusive_group(required=True)
    group.add_argument(
        "--set", action="append", choices=LABELS, dest="labels", help="a label (repeatable)"
    )
    group.add_argument("--clear", action="store_true", help="no label: safe to post unmarked")
    _output_options(label)

    review = sub.add_parser(
        "review",
        help="list labelled paintings with who labelled them and the scores",
        description="List every labelled painting: its labels, who set them (the operator "
        "or a classifier) and the classifier's scores.",
    )
    _add_store(review)
    _output_options(review)


def _platforms_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--platforms",
        help=f"comma list of x, mastodon, bluesky, outbox (default: ${ENV_PLATFORMS})",
    )


def _store_url(option: str | None) -> str:
    value = option if option is not None else os.environ.get(ENV_STORE)
    if not value:
        raise ConfigError(
            f"{ENV_STORE} is not set; set it (or --store) to s3://BUCKET[/PREFIX] or a directory"
        )
    return check_store_url(value, source="--store" if option is not None else ENV_STORE)


def _logger(args: argparse.Namespace) -> Logger:
    """Log lines only when asked: --verbose, or ART_BOT_LOG_LEVEL."""
    if getattr(args, "verbose", False):
        return Logger(level="info" if not os.environ.get(ENV_LOG_LEVEL) else log_level())
    if os.environ.get(ENV_LOG_LEVEL):
        return Logger(level=log_level())
    return Logger(level="off")


def _emit(args: argparse.Namespace, doc: Any, lines: Sequence[str]) -> None:
    if getattr(args, "json", False):
        print(json.dumps(doc, ensure_ascii=False, indent=2))
    else:
        for line in lines:
            print(line)


def _warn(message: str | None) -> None:
    if message:
        print(f"Warning: {message}", file=sys.stderr)


def _window_warning(store_url: str, settings: Settings, count: int | None = None) -> None:
    from .catalog import load_index
    from .ledger import window_shortfall
    from .store import open_store

    if count is None:
        try:
            count = len(load_index(open_store(store_url)))
        except ArtBotError:
            return
    _warn(window_shortfall(count, settings.no_repeat_days))


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.resolve(
        store=args.store, platforms=args.platforms, outbox_dir=getattr(args, "outbox_dir", None)
    )


def _post(args: argparse.Namespace) -> int:
    if args.dry_run:
        return _preview(args, default_slot=datetime.now(UTC))
    from .handler import handle

    settings = _settings(args)
    slot = args.slot or datetime.now(UTC)
    event = {
        "detail-type": "Scheduled Event",
        "source": "soviet-art-bot.cli",
        "time": slot.strftime("%Y-%m-%dT%H:%M:%SZ"),
    }
    try:
        result = handle(event, settings=settings, logger=_logger(args))
    except PostIncomplete as exc:
        doc = {**(exc.result or {}), "status": "incomplete", "failed": exc.failures}
        _emit(args, doc, _post_lines(exc.result) if exc.result else [])
        _window_warning(settings.store, settings)
        raise ArtBotError(
            f"slot {exc.slot} is missing its post on {', '.join(sorted(exc.failures))} "
            f"({_failures(exc.failures)}); run '{PROG} post --slot {exc.slot}' again to post "
            "only what is missing"
        ) from None
    _emit(args, result, _post_lines(result))
    _window_warning(settings.store, settings)
    return 0


# What a platform says about the Lambda's own retries; from the command line
# nothing retries, so the CLI's message says what to run instead.
_LAMBDA_RETRY = re.compile(
    r"(; a later delivery (retries|of the slot posts it)|, so the next delivery looks again)"
)


def _failures(failures: dict[str, str]) -> str:
    parts = []
    for name, why in sorted(failures.items()):
        why = _LAMBDA_RETRY.sub("", why)
        parts.append(why if why.startswith(f"{name}: ") else f"{name}: {why}")
    return "; ".join(parts)


def _post_lines(result: dict[str, Any]) -> list[str]:
    p = result["painting"]
    year = f", {p['year']}" if p.get("year") else ""
    verb = {"posted": "Posted", "already-posted": "Already posted"}.get(
        result.get("status", ""), "Posted only in part"
    )
    lines = [f'{verb} slot {result["slot"]}: "{p["title"]}" by {p["artist"]}{year} (id {p["id"]})']
    for name, post in result.get("posts", {}).items():
        other = f" (painting {post['painting_id']})" if post.get("painting_id") else ""
        lines.append(f"  {name}: {post.get('url') or post.get('id')}{other}")
    return lines


def _preview(args: argparse.Namespace, *, default_slot: datetime | None = None) -> int:
    from .preview import next_slot, preview

    settings = _settings(args)
    slot = args.slot or default_slot or next_slot()
    result = preview(settings, slot, logger=_logger(args))
    _emit(args, result.to_json(), result.lines())
    _window_warning(settings.store, settings, result.collection_size)
    return 0


def _history(args: argparse.Namespace) -> int:
    from .history import DEFAULT_LIMIT, read_history
    from .store import open_store

    store = open_store(_store_url(args.store))
    limit = args.limit or (None if args.since else DEFAULT_LIMIT)
    found = read_history(store, since=args.since, limit=limit)
    for problem in found.problems:
        _warn(problem)
    _emit(args, found.to_json(), found.lines())
    return 0


def _sources(args: argparse.Namespace) -> int:
    from .sources.report import sources_report
    from .store import open_store

    report = sources_report(open_store(_store_url(args.store)))
    for problem in report.problems:
        _warn(problem)
    _emit(args, report.to_json(), report.lines())
    return 0


def _scrape(args: argparse.Namespace) -> int:
    from .ingest import scrape
    from .sources import build_source
    from .store import open_store

    if args.wikiart_url and args.source != "wikiart":
        raise IngestError("--wikiart-url is for --source wikiart; use --source-url")
    if args.wikiart_url and args.source_url and args.wikiart_url != args.source_url:
        raise IngestError("give --wikiart-url or --source-url, not both")
    source = build_source(
        args.source,
        origin=args.source_url or args.wikiart_url,
        style=args.style,
        query=args.query,
    )
    store = open_store(_store_url(args.store))
    summary = scrape(store, source=source, progress=False if args.no_progress else None)
    for line in summary.lines():
        print(line)
    from .gallery.thumbs import make_thumbs

    for line in make_thumbs(store).lines():
        print(line)
    if not summary.ok:
        print(
            f"Error: {len(summary.failed)} painting(s) could not be fetched after retries: "
            f"{', '.join(summary.failed[:10])}{' ...' if len(summary.failed) > 10 else ''}; "
            "re-run the same command to fetch only those",
            file=sys.stderr,
        )
        return 1
    return 0


def _check(args: argparse.Namespace) -> int:
    from .check import check_store
    from .store import open_store

    store = open_store(_store_url(args.store))
    report = check_store(store, quick=args.quick)
    _emit(args, report.to_json(), report.lines())
    if not report.ok:
        print(f"Error: {report.error()}", file=sys.stderr)
        return 1
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .sample import write_sample
    from .store import open_store

    store = open_store(_store_url(args.store))
    paintings = write_sample(store, args.count)
    _emit(
        args,
        {"store": store.url, "paintings": len(paintings)},
        [f"wrote {len(paintings)} paintings to {store.url}"],
    )
    return 0


def _thumbs(args: argparse.Namespace) -> int:
    from .gallery.thumbs import make_thumbs
    from .store import open_store

    summary = make_thumbs(open_store(_store_url(args.store)), force=args.force)
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), ensure_ascii=False))
    else:
        print("\n".join(summary.lines()))
    return 0


def _gallery(args: argparse.Namespace) -> int:
    from .gallery.site import build
    from .store import open_store

    summary = build(open_store(_store_url(args.store)), args.out, rebuild=args.rebuild)
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), ensure_ascii=False))
    else:
        print("\n".join(summary.lines()))
    return 0


def _screen(args: argparse.Namespace) -> int:
    from .screening import build_classifier, screen_store
    from .store import open_store

    store = open_store(_store_url(args.store))
    classifier = build_classifier(args.classifier)
    summary = screen_store(store, classifier, everything=args.all, logger=_logger(args))
    if args.json:
        print(json.dumps(dataclasses.asdict(summary), ensure_ascii=False))
    else:
        print("\n".join(summary.lines()))
    return 1 if summary.failed else 0


def _label(args: argparse.Namespace) -> int:
    from .screening import set_labels
    from .store import open_store

    painting = set_labels(open_store(_store_url(args.store)), args.id, args.labels or [])
    if args.json:
        print(json.dumps(painting.to_json(), ensure_ascii=False))
    else:
        labels = ", ".join(painting.labels) or "no label"
        print(f"{painting.id} ({painting.title}): {labels}, by the operator")
    return 0


def _review(args: argparse.Namespace) -> int:
    from .screening import review, review_lines
    from .store import open_store

    rows = review(open_store(_store_url(args.store)))
    print(json.dumps(rows, ensure_ascii=False) if args.json else "\n".join(review_lines(rows)))
    return 0


def _sample(args: argparse.Namespace) -> int:
    from .sample import write_sample
    from .store import open_store

    store = open_store(_store_url(args.store))
    paintings = write_sample(store, args.count)
    print(f"wrote {len(paintings)} paintings to {store.url}")
    return 0


COMMANDS = {
    "post": _post,
    "preview": _preview,
    "history": _history,
    "scrape": _scrape,
    "sources": _sources,
    "check": _check,
    "sample": _sample,
    "thumbs": _thumbs,
    "gallery": _gallery,
    "screen": _screen,
    "label": _label,
    "review": _review,
}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
        if os.environ.get(ENV_LOG_LEVEL):
            log_level()  # a malformed setting is one line, before anything happens
    except UsageError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 2
    except ArtBotError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    try:
        return COMMANDS[args.command](args)
    except ArtBotError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("Error: interrupted; re-run the same command to continue", file=sys.stderr)
        return 130


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
