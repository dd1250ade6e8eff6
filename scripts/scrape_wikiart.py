#!/usr/bin/env python3
"""The one-off local scraper: ``soviet-art-bot scrape`` as a plain script.

Same arguments, same behaviour, same exit status::

    python scripts/scrape_wikiart.py --store ./collection [--style socialist-realism] \
        [--wikiart-url https://www.wikiart.org] [--no-progress]
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run from a clone, uninstalled

from soviet_art_bot.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(["scrape", *sys.argv[1:]]))
