"""Which vocabulary prompt a call was transcribed with, kept with the call (U5 finding 16).

A job's ``vocabulary`` option prompts the recogniser with names it would otherwise mishear, and the
prompt moves more than those names: on an ordinary call (AWS call 40) it dropped 29 of 698 words, a
whole rep sentence with its action item and all four customer fillers. A job does not carry its own
options back, so whoever sends the job says what was sent: ``hearkit batch`` (each recording's stored
request), ``hearkit analyze --vocabulary`` and :func:`hearkit.record.analyze_calls`'s ``vocabulary=``.

The calls frame's ``vocabulary`` column holds the terms comma-separated, ``""`` when none was sent
(a set saved before the column existed has no column: not known); :attr:`CallRecord.vocabulary
<hearkit.record.CallRecord.vocabulary>` is the list. :func:`vocabulary_note` is the line the report's
call card and the dashboard show for a prompted call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd

__all__ = [
    "VOCABULARY_COLUMN",
    "VocabularyGiven",
    "terms_of",
    "terms_of_field",
    "vocabulary_cells",
    "vocabulary_note",
]

VOCABULARY_COLUMN = "vocabulary"
_SEPARATOR = ", "
_SHOWN_TERMS = 5

VocabularyGiven = Sequence[str] | Mapping[str, Sequence[str] | None] | None
"""``analyze_calls(vocabulary=...)``: one list of terms for every call, or ``{call_id: terms}``."""


def vocabulary_cells(vocabulary: VocabularyGiven, call_ids: Sequence[str]) -> list[str]:
    """The ``vocabulary`` column for ``call_ids``: each call's terms joined by ``", "`` (blank terms
    dropped, each once), ``""`` for a call sent without one. A bare string is refused: it would read
    as one term per letter."""
    if vocabulary is None:
        return ["" for _ in call_ids]
    if isinstance(vocabulary, str):
        raise ValueError(
            f"vocabulary must be a list of terms (or {{call_id: terms}}), not the string {vocabulary!r}:"
            f" vocabulary=[{vocabulary!r}]"
        )
    if isinstance(vocabulary, Mapping):
        unknown = sorted(set(map(str, vocabulary)) - set(call_ids))
        if unknown and len(unknown) == len(vocabulary):
            raise ValueError(
                f"vocabulary names none of these calls (its keys: {unknown[:3]}; the call ids:"
                f" {list(call_ids)[:3]}): key it by call_id, or pass one list for every call"
            )
        return [_joined(vocabulary.get(c)) for c in call_ids]
    same = _joined(vocabulary)
    return [same for _ in call_ids]


def _joined(terms: Sequence[str] | None) -> str:
    if terms is None:
        return ""
    if isinstance(terms, str):
        raise ValueError(f"a call's vocabulary must be a list of terms, not the string {terms!r}")
    cleaned = dict.fromkeys(" ".join(str(t).split()) for t in terms)
    return _SEPARATOR.join(t for t in cleaned if t)


def terms_of(cell: Any) -> list[str]:
    """A ``vocabulary`` cell as its list of terms (``[]``: none sent, or not known)."""
    if cell is None or not isinstance(cell, str):
        return []
    return [t for t in (part.strip() for part in cell.split(_SEPARATOR.strip())) if t]


def terms_of_field(value: Any) -> list[str]:
    """A ``vocabulary`` given as a metadata field (a sidecar's or a CSV's): ``"Gong, Clari"`` or a list."""
    if isinstance(value, str):
        return terms_of(value)
    if isinstance(value, Sequence):
        return [str(t) for t in value]
    return []


def vocabulary_note(row: pd.Series | Mapping[str, Any] | None) -> str | None:
    """The one-line note of a call transcribed with a vocabulary prompt, or ``None`` (none sent, or a
    set that does not say)."""
    if row is None:
        return None
    terms = terms_of(row.get(VOCABULARY_COLUMN))
    if not terms:
        return None
    shown = _SEPARATOR.join(terms[:_SHOWN_TERMS])
    if len(terms) > _SHOWN_TERMS:
        shown += f", … ({len(terms)} terms)"
    return (
        f"prompted with vocabulary {shown}: words, fillers, questions and action items may differ"
        " from an unprompted transcript"
    )
