"""The turns of one call, checked and reduced to what summaries need; citations built from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import pandas as pd

from hearkit.frames import CALL_ID, END, ROLE, SPEAKER, START, TEXT, TURN, check
from hearkit.summary import Citation

__all__ = ["REQUIRED_COLUMNS", "CallTurns", "TurnRow", "call_turns"]

REQUIRED_COLUMNS = (TURN, SPEAKER, ROLE, START, END, TEXT)
"""Columns of the turns frame (``hearkit.transcript.turns``) that summaries read."""


class TurnRow(NamedTuple):
    """One turn as plain Python values."""

    turn: int
    speaker: str
    role: str
    start: float
    end: float
    text: str


@dataclass(frozen=True)
class CallTurns:
    """One call's turns in time order (``turns``, text stripped, missing roles ``unknown``)."""

    call_id: str
    turns: tuple[TurnRow, ...]

    def rows(self) -> list[TurnRow]:
        """The turns that have text, in time order."""
        return [row for row in self.turns if row.text]

    def citations(self, turn_ids: Iterable[int]) -> list[Citation]:
        """Citations for the turn ids that exist in this call, sorted, without duplicates."""
        spans = self.spans
        return [
            Citation(turn=turn_id, start=spans[turn_id][0], end=spans[turn_id][1])
            for turn_id in sorted({int(t) for t in turn_ids})
            if turn_id in spans
        ]

    @cached_property
    def spans(self) -> dict[int, tuple[float, float]]:
        """Turn id → (start, end) seconds."""
        return {row.turn: (row.start, row.end) for row in self.turns}

    @cached_property
    def roles(self) -> list[str]:
        """Distinct roles in order of first appearance."""
        return list(dict.fromkeys(row.role for row in self.turns))


def call_turns(call: Any, *, call_id: str | None = None) -> CallTurns:
    """Read ``call`` (a turns DataFrame of one call, or a ``CallRecord``) into :class:`CallTurns`.

    Raises ``ValueError`` saying what to fix when columns are missing, when the frame holds
    several calls, when turn ids repeat or when times are not numbers.
    """
    if isinstance(call, pd.DataFrame):
        return _from_frame(call, call_id=call_id)
    frame = _frame_of_record(call)
    record_id = getattr(call, "call_id", None)
    return _from_frame(frame, call_id=call_id or (str(record_id) if record_id else None))


def _frame_of_record(record: Any) -> pd.DataFrame:
    """The turns of a ``CallRecord``-like object: ``turns_frame()``, a ``turns`` DataFrame, or a list
    of turn dicts/models."""
    turns_frame = getattr(record, "turns_frame", None)
    if callable(turns_frame):
        frame = turns_frame()
        if isinstance(frame, pd.DataFrame):
            return frame
    for name in ("turns", "transcript"):
        value = getattr(record, name, None)
        if isinstance(value, pd.DataFrame):
            return value
        if isinstance(value, list):
            rows = [_model_dump(item) for item in value]
            if all(isinstance(row, dict) and "text" in row for row in rows):
                return pd.DataFrame(rows) if rows else pd.DataFrame(columns=list(REQUIRED_COLUMNS))
    raise TypeError(
        f"summarize() takes a turns DataFrame of one call (hearkit.transcript.turns) or a CallRecord; "
        f"got {type(record).__name__}, which has no turns"
    )


def _model_dump(item: Any) -> Any:
    dump = getattr(item, "model_dump", None)
    return dump() if callable(dump) else item


def _from_frame(frame: pd.DataFrame, *, call_id: str | None) -> CallTurns:
    check(frame, "turns", REQUIRED_COLUMNS)
    if CALL_ID in frame.columns and frame[CALL_ID].nunique(dropna=True) > 1:
        ids = sorted(str(c) for c in frame[CALL_ID].dropna().unique())
        raise ValueError(
            f"the turns frame holds {len(ids)} calls ({ids[:3]}…); summarize() takes one call: pass "
            f"turns[turns.call_id == {ids[0]!r}], or use summarize_calls(turns)"
        )
    if call_id is None:
        present = frame[CALL_ID].dropna() if CALL_ID in frame.columns else pd.Series([], dtype=object)
        call_id = str(present.iloc[0]) if len(present) else "call"
    if frame["turn"].isna().any():
        raise ValueError("the turns frame has rows without a turn id; every turn needs an integer 'turn'")
    if frame["turn"].duplicated().any():
        dupes = sorted({int(t) for t in frame.loc[frame["turn"].duplicated(), "turn"]})[:5]
        raise ValueError(f"turn ids repeat ({dupes}); a turns frame has one row per turn id")
    try:
        times = frame[["start", "end"]].astype("float64")
    except (TypeError, ValueError) as exc:
        raise ValueError(f"'start'/'end' must be seconds as numbers: {exc}") from None
    rows = [
        TurnRow(int(turn), _label(speaker), _label(role), _seconds(start), _seconds(end), _text(text))
        for turn, speaker, role, start, end, text in zip(
            frame["turn"].tolist(),
            frame["speaker"].tolist(),
            frame["role"].tolist(),
            times["start"].tolist(),
            times["end"].tolist(),
            frame["text"].tolist(),
            strict=True,
        )
    ]
    rows.sort(key=lambda row: (row.start, row.turn))
    return CallTurns(call_id=str(call_id), turns=tuple(rows))


def _label(value: Any) -> str:
    return "unknown" if value is None or value is pd.NA or value != value else str(value)


def _seconds(value: float) -> float:
    return 0.0 if value != value else float(value)  # NaN → 0


def _text(value: Any) -> str:
    return "" if value is None or value is pd.NA or value != value else str(value).strip()
