"""Structured logs: one JSON object per line, with secrets redacted.

CloudWatch Logs Insights can filter on the fields (``step``, ``slot``,
``painting_id``, ``platform``, ``outcome``, ``duration_ms``) without regexes.
The stream is injectable so tests read exactly what an operator would.
Every secret value the bot loads is registered with :func:`register_secret`;
any log line that would contain one gets ``***`` in its place.

``ART_BOT_LOG_LEVEL`` (``debug``, ``info``, ``warning``, ``error`` or ``off``;
default ``info``) sets which lines are written, for the Lambda and the CLI
alike; the CLI writes none unless asked (``--verbose`` or the setting).
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import IO, Any

_secrets: set[str] = set()
_lock = threading.Lock()

ENV_LOG_LEVEL = "ART_BOT_LOG_LEVEL"
LEVELS = {"debug": 10, "info": 20, "warning": 30, "error": 40, "off": 100}
DEFAULT_LEVEL = "info"


def log_level(value: str | None = None, *, source: str = ENV_LOG_LEVEL) -> str:
    """A checked log level: ``value``, else ``ART_BOT_LOG_LEVEL``, else ``info``."""
    from .errors import ConfigError

    if value is None:
        value = os.environ.get(ENV_LOG_LEVEL) or DEFAULT_LEVEL
    level = value.strip().lower()
    if level not in LEVELS:
        raise ConfigError(f"{source}={value!r} is not one of {', '.join(LEVELS)}")
    return level


def _level_or_default(value: str | None) -> str:
    try:
        return log_level(value)
    except Exception:  # a malformed setting is reported at start (handler, CLI), not here
        return DEFAULT_LEVEL


def register_secret(value: str) -> None:
    """Make sure ``value`` never appears in a log line."""
    if value and len(value) >= 4:
        with _lock:
            _secrets.add(value)


def redact(text: str) -> str:
    """Replace every registered secret in ``text`` with ``***``."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    return text


def _redact_values(value: Any) -> Any:
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, dict):
        return {k: _redact_values(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact_values(v) for v in value]
    return value


def was_logged(exc: BaseException) -> bool:
    """Whether a step already logged this exception's message."""
    return getattr(exc, "_art_bot_logged", False)


def mark_logged(exc: BaseException) -> None:
    """Note that ``exc``'s message is in the log, so no later line repeats it."""
    try:
        exc._art_bot_logged = True  # type: ignore[attr-defined]
    except AttributeError:  # some built-in exceptions take no attributes
        pass


class Logger:
    """Writes one JSON object a line to ``stream`` (stderr unless given).

    Lines below ``level`` (default: ``ART_BOT_LOG_LEVEL``, else ``info``) are dropped.
    """

    def __init__(
        self, stream: IO[str] | None = None, *, level: str | None = None, **context: Any
    ) -> None:
        self._stream = stream
        self.level = _level_or_default(level)
        self.context = context

    @property
    def stream(self) -> IO[str]:
        return self._stream if self._stream is not None else sys.stderr

    def bind(self, **context: Any) -> Logger:
        """A logger that adds ``context`` to every line, writing to the same stream."""
        return Logger(self._stream, level=self.level, **{**self.context, **context})

    def enabled(self, level: str) -> bool:
        return LEVELS.get(level, 0) >= LEVELS[self.level]

    def log(self, level: str, step: str, **fields: Any) -> None:
        if not self.enabled(level):
            return
        record = {
            "ts": datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": level,
            "step": step,
            **self.context,
            **{k: v for k, v in fields.items() if v is not None},
        }
        # Redact the values before encoding (JSON escaping could hide a secret
        # holding a quote or a backslash), and the encoded line once more.
        record = _redact_values(record)
        line = redact(json.dumps(record, ensure_ascii=False, default=str))
        with _lock:
            self.stream.write(line + "\n")
            self.stream.flush()

    def info(self, step: str, **fields: Any) -> None:
        self.log("info", step, **fields)

    def warning(self, step: str, **fields: Any) -> None:
        self.log("warning", step, **fields)

    def error(self, step: str, **fields: Any) -> None:
        self.log("error", step, **fields)

    @contextmanager
    def timed(self, step: str, **fields: Any) -> Iterator[dict[str, Any]]:
        """Log ``step`` once it ends, with its duration and ``outcome``.

        The caller may add fields to the yielded dict (``outcome`` included).
        An exception is logged with its message once, by the innermost step
        it passes through; enclosing steps (the summary line of an invocation
        included) log only ``outcome: "error"`` and its type, so
        an operator's log search finds each failure once.
        """
        extra: dict[str, Any] = {}
        start = time.perf_counter()
        try:
            yield extra
        except BaseException as exc:
            duration = round((time.perf_counter() - start) * 1000, 1)
            seen = was_logged(exc)
            self.error(
                step,
                **fields,
                **extra,
                outcome="error",
                error=None if seen else str(exc),
                error_type=type(exc).__name__,
                duration_ms=duration,
            )
            mark_logged(exc)
            raise
        duration = round((time.perf_counter() - start) * 1000, 1)
        extra.setdefault("outcome", "ok")
        self.info(step, **fields, **extra, duration_ms=duration)
