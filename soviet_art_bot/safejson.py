"""One way to load stored JSON that anyone could have written by hand.

``catalog.json``, the posting index, ``state/ledger.json`` and the slot records
all live in a store an operator may edit. The standard library's decoder
trusts its input more than that allows: a deeply nested document raises
``RecursionError``, a 5,000-digit number ``ValueError`` (Python's limit on
integer digits), and ``"\\ud800"`` decodes to a lone surrogate that later
fails to encode as UTF-8, far from the file that held it. :func:`loads`
applies every limit up front and turns each violation into one error of our
tree that names the document, the place in it, and what to do.

The limits (module constants) are generous for any real document: a catalog
entry is three levels deep, and no field of ours needs more than 19 digits.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

from .errors import ArtBotError, brief

MAX_DEPTH = 64
"""Nesting of arrays and objects; deeper is refused."""
MAX_NUMBER_CHARS = 40
"""Longest number literal: an int64 has 19 digits, a float's repr at most 24 chars."""

_SURROGATE_ESCAPE = re.compile(rb"\\u[dD][89a-fA-F]")
_SURROGATES = re.compile("[\ud800-\udfff]")


class _Refused(Exception):
    """Raised from the decoder's hooks; turned into the caller's error."""


def _parse_int(text: str) -> int:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"has a number {len(text)} digits long (at most {MAX_NUMBER_CHARS})")
    return int(text)


def _parse_float(text: str) -> float:
    if len(text) > MAX_NUMBER_CHARS:
        raise _Refused(f"has a number {len(text)} characters long (at most {MAX_NUMBER_CHARS})")
    value = float(text)
    if not math.isfinite(value):
        raise _Refused(f"has a number out of range ({brief(text)})")
    return value


def _parse_constant(text: str) -> Any:
    raise _Refused(f"has {text}, which is not JSON")


def _too_deep(doc: Any) -> bool:
    """Whether arrays and objects nest deeper than :data:`MAX_DEPTH` in ``doc``.

    Checked on the decoded document (about half the decoder's own time): a
    scan of the text that skips strings costs more than the decoding itself.
    Deeper than the interpreter's recursion limit, the decoder stops first.
    """
    stack: list[tuple[Any, int]] = [(doc, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        values = node.values() if isinstance(node, dict) else node
        stack.extend((v, depth + 1) for v in values if isinstance(v, (dict, list)))
    return False


def _surrogate_path(doc: Any) -> str | None:
    """Where a lone surrogate sits in ``doc`` (e.g. ``paintings[3].title``), if anywhere."""
    stack: list[tuple[str, Any]] = [("", doc)]
    while stack:
        path, node = stack.pop()
        if isinstance(node, str):
            if _SURROGATES.search(node):
                return path or "the document"
        elif isinstance(node, dict):
            for key, value in node.items():
                if _SURROGATES.search(key):
                    return f"a key of {path or 'the document'}"
                stack.append((f"{path}.{key}" if path else key, value))
        elif isinstance(node, list):
            stack.extend((f"{path}[{i}]", value) for i, value in enumerate(node))
    return None


def loads(
    data: bytes,
    *,
    name: str,
    fix: str,
    error: type[ArtBotError] = ArtBotError,
    max_bytes: int | None = None,
) -> Any:
    """Decode ``data`` (UTF-8 JSON) within the limits above.

    ``name`` says which document it is (a store path), ``fix`` what the
    operator should do about a bad one; both go into the one error raised,
    of class ``error``.
    """

    def refuse(problem: str) -> ArtBotError:
        return error(f"{name} {problem}; {fix}")

    too_deep = f"nests arrays and objects more than {MAX_DEPTH} deep"

    if max_bytes is not None and len(data) > max_bytes:
        raise refuse(f"is {len(data):,} bytes, over the {max_bytes:,} this reader accepts")
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]  # a BOM from a Windows editor is harmless
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise refuse(f"is not UTF-8 text (byte {exc.start}); re-save it as UTF-8") from None
    try:
        doc = json.loads(
            text,
            parse_int=_parse_int,
            parse_float=_parse_float,
            parse_constant=_parse_constant,
        )
    except _Refused as exc:
        raise refuse(str(exc)) from None
    except json.JSONDecodeError as exc:
        raise refuse(
            f"is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
            "it may be truncated"
        ) from None
    except RecursionError:
        raise refuse(too_deep) from None
    if isinstance(doc, dict | list) and _too_deep(doc):
        raise refuse(too_deep)
    if _SURROGATE_ESCAPE.search(data):
        where = _surrogate_path(doc)
        if where is not None:
            raise refuse(f"has a lone UTF-16 surrogate (\\udXXX escape) in {brief(where)}")
    return doc
