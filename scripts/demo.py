"""`make demo`: the real Lambda handler, end to end, with no AWS account.

Builds a sample collection in ./demo/collection (real paintings' metadata,
images generated here), writes a scheduled event for *now*, runs the handler
through python-lambda-local with the outbox platform, and prints the post.
Each run is a new slot, so each run posts a new painting.
"""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEMO = ROOT / "demo"


def main() -> int:
    sys.path.insert(0, str(ROOT))
    from soviet_art_bot.sample import write_sample
    from soviet_art_bot.store import DirStore

    collection = DEMO / "collection"
    outbox = DEMO / "outbox"
    if not (collection / "catalog.json").exists():
        paintings = write_sample(DirStore(collection))
        print(f"Built a sample collection of {len(paintings)} paintings in {collection}")
    if not (collection / "thumbs").is_dir():  # the gallery's thumbnails and palettes
        from soviet_art_bot.gallery.thumbs import make_thumbs
        from soviet_art_bot.log import Logger

        make_thumbs(DirStore(collection), logger=Logger(io.StringIO()))

    event = json.loads((ROOT / "event.json").read_text())
    event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    while list(outbox.glob(f"{event['time'].replace(':', '-')}--*.json")):
        time.sleep(0.2)  # a slot is one second wide: each demo run gets its own
        event["time"] = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    DEMO.mkdir(exist_ok=True)
    event_path = DEMO / "event.json"
    event_path.write_text(json.dumps(event, indent=2))

    env = {
        **os.environ,
        "ART_BOT_STORE": str(collection),
        "ART_BOT_PLATFORMS": "outbox",
        "ART_BOT_OUTBOX_DIR": str(outbox),
        "ART_BOT_GALLERY": "true",  # each post refreshes demo/collection/gallery/
    }
    lambda_local = Path(sys.executable).with_name("python-lambda-local")
    cmd = [str(lambda_local), "-f", "lambda_handler", "-t", "60",
           str(ROOT / "soviet_art_bot" / "handler.py"), str(event_path)]  # fmt: skip
    print("$ ART_BOT_STORE=demo/collection ART_BOT_PLATFORMS=outbox "
          "ART_BOT_OUTBOX_DIR=demo/outbox ART_BOT_GALLERY=true \\\n    python-lambda-local -f lambda_handler -t 60 "
          "soviet_art_bot/handler.py demo/event.json")  # fmt: skip
    proc = subprocess.run(cmd, env=env, cwd=ROOT, capture_output=True, text=True)
    sys.stderr.write(proc.stderr)
    sys.stdout.write(proc.stdout)
    posts = sorted(outbox.glob(f"{event['time'].replace(':', '-')}--*.json"))
    if proc.returncode != 0 or not posts:
        print("Error: the handler did not post; see its output above", file=sys.stderr)
        return 1
    post = json.loads(posts[-1].read_text())
    print("\n=== Posted to the outbox ===")
    print(post["text"])
    print(f"\nAlt text: {post['alt_text']}")
    print(f"Image:    {post['image']}")
    print(f"Record:   {posts[-1]}")
    gallery = collection / "gallery" / "index.html"
    if gallery.is_file():
        print(f"Gallery:  {gallery} (every demo post so far)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
