"""Run the real Lambda handler in this process, as a subprocess of a test.

    python tests/lambda_driver.py EVENT.json [EVENT2.json ...]
    python tests/lambda_driver.py --times 2026-01-01T00:00:00Z 2026-01-01T06:00:00Z

Settings come from the environment, exactly as on Lambda. Each invocation
prints one JSON line: {"ok": true, "result": {...}} or {"ok": false,
"error": "...", "type": "..."}; the container stays warm between them, as
Lambda's would. Exit status is 1 if any invocation raised.
"""

from __future__ import annotations

import json
import sys
import time
import uuid


class Context:
    """The parts of Lambda's context object the handler uses."""

    def __init__(self, timeout: float = 120.0) -> None:
        self._end = time.monotonic() + timeout
        self.aws_request_id = str(uuid.uuid4())
        self.function_name = "soviet-art-bot"

    def get_remaining_time_in_millis(self) -> int:
        return int((self._end - time.monotonic()) * 1000)


def main(argv: list[str]) -> int:
    from soviet_art_bot.handler import lambda_handler

    if argv[:1] == ["--times"]:
        events = [
            {"detail-type": "Scheduled Event", "source": "aws.events", "time": t} for t in argv[1:]
        ]
    else:
        events = [json.load(open(path)) for path in argv]
    failed = False
    for event in events:
        try:
            result = lambda_handler(event, Context())
            line = {"ok": True, "result": result}
        except Exception as exc:  # report it as Lambda would, then go on
            failed = True
            line = {"ok": False, "error": str(exc), "type": type(exc).__name__}
        print(json.dumps(line), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
