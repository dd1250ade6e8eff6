"""Fitted captions against each platform's reference count, on generated long titles.

For every platform, N (default 1,200) long titles mixing scripts (Latin,
Cyrillic, CJK, Arabic, Hebrew with points, Devanagari, Hangul jamo), emoji
(flags, regional-indicator pairs that are no flag, ZWJ sequences, skin tones,
text-style presentation), dotted words ("example.ru", "St.Petersburg"),
links, mentions, combining marks and titles that begin with an ellipsis are
fitted as the platform modules fit them, and the result is counted again by
the reference. Reported per platform: titles, overflows (must be 0), refusals
(must be 0: only an artist too long for the limit may be refused), and the
mean fitted length.

References: X: our port (checked against twitter-text's conformance data),
twitter-text-parser (PyPI, an independent port) and, with --node-modules DIR
holding an npm install of twitter-text@3.1.0, the official JavaScript
parseTweet itself. Mastodon: StatusLengthValidator as ported in caption.py,
with and without a spoiler text. Bluesky: graphemes and UTF-8 bytes.

    python bench/bench_captions.py [--count 1200] [--seed 1] [--node-modules DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import time
from functools import partial
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from soviet_art_bot.caption import (  # noqa: E402
    BLUESKY_MAX_BYTES,
    BLUESKY_MAX_GRAPHEMES,
    X_TEXT_LIMIT,
    bluesky_fits,
    grapheme_length,
    mastodon_length,
    post_text,
    x_length,
)
from soviet_art_bot.catalog import Painting  # noqa: E402
from soviet_art_bot.errors import ArtBotError  # noqa: E402

WORDS = [
    "Lenin", "in", "Smolny", "Collective", "farm", "harvest", "Первомайская", "демонстрация",
    "на", "Красной", "площади", "冬天的库尔斯克", "故人西辞黄鹤楼", "العمل", "שּׁלום", "भारत",
    "가", "e\u0301tude", "Zo\u0308e", "example.ru", "St.Petersburg", "Magnitogorsk.su",
    "x.com", "wikiart.org", "t.co/abc\u00bb", "https://www.wikiart.org/en/aleksandr-deyneka",
    "http://example.com/a_(b).", "@user@example.org", "@someone", "#tag", "\u2026", "\u00ab",
    "\u00bb", "\u201cquoted\u201d", "\U0001f1fa\U0001f1e6", "\U0001f1e6\U0001f1e7",
    "\U0001f1e6", "\u263a\ufe0e", "\u263a\ufe0f", "\U0001f637", "\U0001f64b\U0001f3fd",
    "\U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466", "\U0001f426\u200d\U0001f525",
    "\U0001f9d1\u200d\U0001f91d\u200d\U0001f9d1", "1\ufe0f\u20e3", "\u0301\u0301\u0301",
    "a" + "\u0301" * 40, "\u200d", "\ufe0f", "\u2066\u202a", "\u3000", "\r\n", "1920-1930",
]  # fmt: skip
ARTISTS = ["Aleksandr Deyneka", "Исаак Бродский", "Yuri Pimenov (example.ru)", "齐白石"]
YEARS = ["", "1932", "XX cent.", "1920-1930"]
LINK = "https://www.wikiart.org/en/aleksandr-deyneka/winter-in-kursk-1916"


def titles(count: int, seed: int) -> list[str]:
    rnd = random.Random(seed)
    out = []
    for i in range(count):
        words = [rnd.choice(WORDS) for _ in range(rnd.randint(40, 260))]
        title = " ".join(words) if rnd.random() < 0.7 else "".join(words)
        out.append("\u2026" + title if i % 10 == 0 else title)
    return out


def fit_all(name: str, fit, titles_: list[str], seed: int) -> tuple[list[str], int, float]:
    rnd = random.Random(seed)
    texts, refused = [], 0
    started = time.perf_counter()
    for i, title in enumerate(titles_):
        p = Painting(
            id=f"p{i}", image="images/p.jpg", title=title,
            artist=rnd.choice(ARTISTS), year=rnd.choice(YEARS),
        )  # fmt: skip
        try:
            texts.append(fit(p, link=LINK if i % 2 else None))
        except ArtBotError:
            refused += 1
    return texts, refused, (time.perf_counter() - started) / max(len(titles_), 1)


def npm_lengths(texts: list[str], node_modules: Path) -> list[int]:
    script = (
        "const tt=require('twitter-text');let s='';process.stdin.on('data',d=>s+=d);"
        "process.stdin.on('end',()=>process.stdout.write(JSON.stringify("
        "JSON.parse(s).map(t=>tt.parseTweet(t).weightedLength))));"
    )
    done = subprocess.run(
        ["node", "-e", script], input=json.dumps(texts), capture_output=True, text=True,
        check=True, env={"NODE_PATH": str(node_modules), "PATH": "/usr/bin:/bin"},
    )  # fmt: skip
    return json.loads(done.stdout)


def report(platform: str, counter: str, values: list[int], limit: int, refused: int) -> None:
    over = sum(v > limit for v in values)
    mean = sum(values) / max(len(values), 1)
    print(
        f"{platform:9} {counter:28} titles={len(values) + refused:5} overflow={over} "
        f"refused={refused} mean={mean:.1f}/{limit}"
    )


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=1200)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--node-modules", type=Path)
    args = parser.parse_args()
    generated = titles(args.count, args.seed)
    failures = 0

    x_texts, refused, per = fit_all(
        "x", partial(post_text, limit=X_TEXT_LIMIT, length=x_length), generated, args.seed
    )
    print(f"x: {per * 1000:.1f} ms per fitted caption")
    counts = {"caption.x_length": [x_length(t) for t in x_texts]}
    try:
        from twitter_text import parse_tweet

        counts["twitter-text-parser 3.0.0"] = [parse_tweet(t).weightedLength for t in x_texts]
    except ImportError:
        print("x: twitter-text-parser not installed, skipped")
    if args.node_modules and shutil.which("node"):
        counts["twitter-text 3.1.0 (npm)"] = npm_lengths(x_texts, args.node_modules)
    ours = counts["caption.x_length"]
    for counter, values in counts.items():
        report("x", counter, values, X_TEXT_LIMIT, refused)
        differ = sum(a != b for a, b in zip(values, ours, strict=True))
        print(f"{'':9} {counter:28} differs from caption.x_length on {differ} texts")
        if counter != "twitter-text-parser 3.0.0":  # a second opinion, not the reference
            failures += sum(v > X_TEXT_LIMIT for v in values)
    failures += refused

    for spoiler in ("", "nudity"):
        length = partial(mastodon_length, spoiler_text=spoiler)
        texts, refused, per = fit_all(
            "mastodon", partial(post_text, limit=500, length=length), generated, args.seed
        )
        print(f"mastodon: {per * 1000:.1f} ms per fitted caption")
        report(
            "mastodon", f"validator, spoiler={spoiler!r}", [length(t) for t in texts], 500, refused
        )
        failures += sum(length(t) > 500 for t in texts) + refused

    texts, refused, per = fit_all(
        "bluesky",
        partial(
            post_text, limit=BLUESKY_MAX_GRAPHEMES, length=grapheme_length,
            max_bytes=BLUESKY_MAX_BYTES,
        ),
        generated,
        args.seed,
    )  # fmt: skip
    print(f"bluesky: {per * 1000:.1f} ms per fitted caption")
    report("bluesky", "graphemes", [grapheme_length(t) for t in texts], 300, refused)
    report("bluesky", "UTF-8 bytes", [len(t.encode()) for t in texts], 3000, refused)
    failures += sum(not bluesky_fits(t) for t in texts) + refused
    print("overflows and refusals in total:", failures)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
