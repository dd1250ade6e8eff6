"""``soviet-art-bot``: the command line over the same library the Lambda uses.

The CLI only parses options and turns library errors into one
``Error: ...`` line (exit status 1); all behaviour lives in the library.
Options override the environment, which overrides the defaults.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import sys
from collections.abc import Sequence
from datetime import UTC, datetime

from . import __version__
from .config import ENV_PLATFORMS, ENV_STORE, Settings, check_store_url
from .errors import ArtBotError, ConfigError

DEFAULT_STYLE = "socialist-realism"
DEFAULT_WIKIART = "https://www.wikiart.org"


def _add_store(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--store", help=f"s3://BUCKET[/PREFIX] or a directory (env {ENV_STORE})")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="soviet-art-bot",
        description="Post one painting of socialist realism to X, Mastodon and Bluesky.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    post = sub.add_parser(
        "post",
        help="post one painting now, through the Lambda's code path",
        description="Post one painting now, through exactly the code path the Lambda uses. "
        "Prints the result as JSON.",
    )
    _add_store(post)
    post.add_argument(
        "--platforms", help=f"comma list of x, mastodon, bluesky, outbox (env {ENV_PLATFORMS})"
    )
    post.add_argument("--outbox-dir", help="where the outbox platform writes (default ./outbox)")
    post.add_argument(
        "--slot",
        help="the slot's time, ISO 8601 (default: now). Re-running a slot posts nothing twice.",
    )

    scrape = sub.add_parser(
        "scrape",
        help="fill a store from WikiArt's listing of a style",
        description="Download every painting of a WikiArt style into a store, within "
        "WikiArt's rate limits. Safe to re-run: only what is new or changed is fetched.",
    )
    _add_store(scrape)
    scrape.add_argument("--style", default=DEFAULT_STYLE, help="WikiArt style slug")
    scrape.add_argument(
        "--wikiart-url", default=DEFAULT_WIKIART, help="WikiArt origin (for mirrors and tests)"
    )
    scrape.add_argument(
        "--no-progress", action="store_true", help="plain log lines instead of a progress bar"
    )

    check = sub.add_parser(
        "check",
        help="validate a store's catalog.json",
        description="Validate catalog.json (for example one written by hand or uploaded) "
        "and index it, so that the next post reads one shard instead of the whole catalog.",
    )
    _add_store(check)

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

    sample = sub.add_parser(
        "sample",
        help="write a small sample collection (generated images) to a store",
        description="Write a sample collection: real paintings' metadata with generated "
        "images, for trying the bot without scraping.",
    )
    sample.add_argument("--store", required=True, help="a directory or s3://BUCKET[/PREFIX]")
    sample.add_argument("--count", type=_positive, default=None, help="how many paintings")
    return parser


def _positive(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        number = 0
    if number < 1:
        raise argparse.ArgumentTypeError(f"{value!r} is not a whole number of at least 1")
    return number


def _store_url(option: str | None) -> str:
    value = option if option is not None else os.environ.get(ENV_STORE)
    if not value:
        raise ConfigError(
            f"{ENV_STORE} is not set; set it (or --store) to s3://BUCKET[/PREFIX] or a directory"
        )
    return check_store_url(value, source="--store" if option is not None else ENV_STORE)


def _post(args: argparse.Namespace) -> int:
    from .handler import handle

    settings = Settings.resolve(
        store=args.store, platforms=args.platforms, outbox_dir=args.outbox_dir
    )
    slot = args.slot or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {"detail-type": "Scheduled Event", "source": "soviet-art-bot.cli", "time": slot}
    result = handle(event, settings=settings)
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


def _scrape(args: argparse.Namespace) -> int:
    from .ingest import scrape
    from .store import open_store

    store = open_store(_store_url(args.store))
    summary = scrape(
        store,
        style=args.style,
        origin=args.wikiart_url,
        progress=False if args.no_progress else None,
    )
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
    from .catalog import load_index
    from .store import open_store

    store = open_store(_store_url(args.store))
    index = load_index(store, validate=True)
    print(f"{store.describe('catalog.json')}: valid, {len(index)} paintings (indexed for posting)")
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


def _sample(args: argparse.Namespace) -> int:
    from .sample import write_sample
    from .store import open_store

    store = open_store(_store_url(args.store))
    paintings = write_sample(store, args.count)
    print(f"wrote {len(paintings)} paintings to {store.url}")
    return 0


COMMANDS = {"post": _post, "scrape": _scrape, "check": _check, "sample": _sample,
            "thumbs": _thumbs, "gallery": _gallery}  # fmt: skip


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
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
