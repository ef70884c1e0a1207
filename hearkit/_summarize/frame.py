"""The turns of one call, checked and reduced to what summaries need; citations built from them."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from typing import Any, NamedTuple

import pandas as pd

from hearkit.summary import Citation

__all__ = ["REQUIRED_COLUMNS", "CallTurns", "TurnRow", "call_turns"]

REQUIRED_COLUMNS = ("turn", "speaker", "role", "start", "end", "text")
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
    """One call's turns, in time order: ``frame`` has ``turn, speaker, role, start, end, text``."""

    call_id: str
    frame: pd.DataFrame

    def rows(self) -> list[TurnRow]:
        """The turns in time order, as plain values; turns without text are left out."""
        return [
            TurnRow(int(t), str(sp), str(r), float(st), float(e), str(x))
            for t, sp, r, st, e, x in zip(
                self.frame["turn"],
                self.frame["speaker"],
                self.frame["role"],
                self.frame["start"],
                self.frame["end"],
                self.frame["text"],
                strict=True,
            )
            if str(x)
        ]

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
        return {
            int(t): (float(s), float(e))
            for t, s, e in zip(self.frame["turn"], self.frame["start"], self.frame["end"], strict=True)
        }

    @property
    def roles(self) -> list[str]:
        """Distinct roles in order of first appearance."""
        return list(dict.fromkeys(str(r) for r in self.frame["role"]))


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
    """The turns of a ``CallRecord``-like object: a ``turns`` DataFrame, or a list of turn dicts/models."""
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
    missing = [c for c in REQUIRED_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the turns frame lacks column(s) {missing}; build it with hearkit.transcript.turns(result) "
            f"(needs {list(REQUIRED_COLUMNS)})"
        )
    if "call_id" in frame.columns and frame["call_id"].nunique(dropna=True) > 1:
        ids = sorted(str(c) for c in frame["call_id"].dropna().unique())
        raise ValueError(
            f"the turns frame holds {len(ids)} calls ({ids[:3]}…); summarize() takes one call: pass "
            f"turns[turns.call_id == {ids[0]!r}], or use summarize_calls(turns)"
        )
    if call_id is None:
        present = frame["call_id"].dropna() if "call_id" in frame.columns else pd.Series([], dtype=object)
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
    out = pd.DataFrame(
        {
            "turn": frame["turn"].astype("int64").to_numpy(),
            "speaker": frame["speaker"].astype("string").fillna("unknown").to_numpy(),
            "role": frame["role"].astype("string").fillna("unknown").to_numpy(),
            "start": times["start"].fillna(0.0).to_numpy(),
            "end": times["end"].fillna(0.0).to_numpy(),
            "text": frame["text"].astype("string").fillna("").str.strip().to_numpy(),
        }
    )
    out = out.sort_values(["start", "turn"], kind="stable").reset_index(drop=True)
    return CallTurns(call_id=str(call_id), frame=out)
