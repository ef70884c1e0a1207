"""JSON parsing of untrusted bodies: a clear ``ValueError`` for whatever the parser or later code cannot take.

``json.loads`` alone lets three things through that fail later, far from the edge: documents
nested deeper than Python's recursion limit (``RecursionError``), documents nested a little less
deep (pydantic refuses to serialize them: "Maximum serialization depth exceeded"), and integers
longer than ``sys.get_int_max_str_digits()`` (a ``ValueError`` that is not a ``JSONDecodeError``).
:func:`loads` turns all of them, and every decoding error, into :class:`JSONBoundsError`.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["MAX_DEPTH", "JSONBoundsError", "loads", "nesting_depth"]

MAX_DEPTH = 32
"""Deepest nesting accepted: no document of the PyAI API is deeper than 6."""


class JSONBoundsError(ValueError):
    """The text is not JSON, or it is JSON outside the bounds above (the message says which)."""


def nesting_depth(value: Any, limit: int) -> int:
    """How deeply ``value`` nests (a scalar is 0, ``[]`` is 1), counted up to ``limit + 1``."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            children: Any = item.values()
        elif isinstance(item, list):
            children = item
        else:
            continue
        depth += 1
        deepest = max(deepest, depth)
        if deepest > limit:
            return deepest
        stack.extend((child, depth) for child in children)
    return deepest


def loads(raw: bytes | str, *, max_depth: int = MAX_DEPTH) -> Any:
    """``json.loads(raw)``, or :class:`JSONBoundsError` saying why the text is refused."""
    try:
        value = json.loads(raw)
    except RecursionError:
        raise JSONBoundsError(f"JSON nested too deeply (more than {max_depth} levels)") from None
    except UnicodeDecodeError:
        raise JSONBoundsError("not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise JSONBoundsError(f"not valid JSON ({exc.msg} at position {exc.pos})") from None
    except ValueError as exc:  # e.g. an integer of more than 4300 digits
        raise JSONBoundsError(f"not acceptable JSON ({str(exc)[:120]})") from None
    if nesting_depth(value, max_depth) > max_depth:
        raise JSONBoundsError(f"JSON nested too deeply (more than {max_depth} levels)")
    return value
