"""Reading X's v2 answers: problem bodies, the errors they mean, rate limits, post texts.

Pure functions of an answer (and the time), so :mod:`.x` keeps only the
conversation with X. twython reads v1.1 error fields; these read v2's
(``title``, ``detail``, ``type``, ``errors[].message``/``parameters``).
"""

from __future__ import annotations

import html
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .. import net, times
from ..errors import AuthError, EventError, PlatformError

NAME = "x"
CREDENTIALS_TEXT = "X_API_KEY, X_API_SECRET, X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET"
_DUPLICATE = re.compile(r"duplicate", re.IGNORECASE)
_MEDIA_ID = re.compile(r"media[ _]?ids?\b|media\.media_ids", re.IGNORECASE)
_URL = re.compile(r"https?://\S+", re.IGNORECASE)


def problem(response: Any) -> dict[str, Any]:
    """The v2 problem fields of an error answer (empty when the body is not JSON)."""
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def describe(response: Any, problem: dict[str, Any]) -> str:
    """``403 Forbidden: You are not allowed ...`` from X's own words, kept short."""
    parts = [str(problem.get("title") or getattr(response, "reason", "") or "").strip()]
    detail = str(problem.get("detail") or "").strip()
    if detail and detail not in parts:
        parts.append(detail)
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            message = str(error.get("message") or error.get("detail") or "").strip()
            if message and message not in parts:
                parts.append(message)
    text = ": ".join(p for p in parts if p) or "no details"
    return f"{response.status_code} {text}"[:400]


def is_duplicate(status: int, problem: dict[str, Any]) -> bool:
    words = f"{problem.get('detail', '')} {problem.get('title', '')}"
    for error in problem.get("errors") or []:
        if isinstance(error, dict):
            words += f" {error.get('message', '')}"
    return status == 403 and bool(_DUPLICATE.search(words))


def is_unknown_media(status: int, problem: dict[str, Any], text: str) -> bool:
    """X no longer knows our media id (expired, or lost on its side): upload again."""
    if status not in (400, 404):
        return False
    for error in problem.get("errors") or []:
        if isinstance(error, dict) and any(
            _MEDIA_ID.search(k) for k in error.get("parameters") or {}
        ):
            return True
    return bool(_MEDIA_ID.search(text))


def same_text(theirs: str, ours: str) -> bool:
    """X answers with HTML entities and t.co links (for the image, and any link)."""

    def norm(text: str) -> str:
        text = unicodedata.normalize("NFC", html.unescape(text))
        return " ".join(_URL.sub(" ", text).split())

    return norm(theirs) == norm(ours)


def parse_time(value: Any) -> datetime | None:
    """A stored time (the pending attempt's start), or None when it is not one."""
    try:
        return times.parse_time(value, what="a stored time", bounded=False)
    except EventError:
        return None


def iso(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def error_for(response: Any, step: str) -> PlatformError:
    """The error an operator can act on, from X's status and v2 problem body."""
    status = response.status_code
    found = problem(response)
    said = describe(response, found)
    if status == 401:
        return AuthError(
            NAME,
            f"{step}: X rejected the credentials ({said}); check {CREDENTIALS_TEXT} "
            "(all four come from the same app in the X Developer Console)",
            status=status,
        )
    if status == 403 and "oauth1-permissions" in str(found.get("type", "")):
        return AuthError(
            NAME,
            f"{step}: X says the app may not post ({said}); give the app Read and Write "
            "permission, then regenerate X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET",
            status=status,
        )
    if status == 402:
        return PlatformError(
            NAME,
            f"{step}: X refused for payment ({said}); buy API credits in the X Developer Console",
            status=status,
        )
    if status >= 500:
        return PlatformError(
            NAME,
            f"{step}: X failed ({said}); a later delivery retries",
            status=status,
            retryable=True,
        )
    return PlatformError(NAME, f"{step}: X refused the request ({said})", status=status)


@dataclass(frozen=True)
class RateLimit:
    """What a 429 says: when the limit resets (epoch seconds), and whether it is the usage cap."""

    reset_at: float | None
    capped: bool
    said: str

    @property
    def when(self) -> str | None:
        if self.reset_at is None:
            return None
        return datetime.fromtimestamp(self.reset_at, UTC).strftime("%Y-%m-%d %H:%M:%SZ")

    def message(self, step: str) -> str:
        return (
            f"{step}: X rate limit ({self.said})"
            + (f"; it resets at {self.when}" if self.when else "")
            + (
                "; the app's usage cap is reached: raise it in the X Developer Console"
                if self.capped
                else "; a later delivery of the slot posts it"
            )
        )


def rate_limit(response: Any, now: float) -> RateLimit:
    """The reset of the limit that bit: a 24-hour one's own when it is spent, else the window's."""
    found = problem(response)
    headers = response.headers
    resets = []
    for prefix in ("x-user-limit-24hour", "x-app-limit-24hour"):
        if headers.get(f"{prefix}-remaining") == "0" and headers.get(f"{prefix}-reset"):
            resets.append(headers[f"{prefix}-reset"])
    if not resets and headers.get("x-rate-limit-reset"):
        resets.append(headers["x-rate-limit-reset"])
    reset_at: float | None = None
    for value in resets:
        try:
            reset_at = max(reset_at or 0.0, float(value))
        except ValueError:
            continue
    after = net.retry_after(headers.get("retry-after"))
    if reset_at is None and after is not None:
        reset_at = now + after
    capped = "usage-capped" in str(found.get("type", "")) or "UsageCap" in str(
        found.get("title", "")
    )
    return RateLimit(reset_at, capped, describe(response, found))
