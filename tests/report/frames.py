"""Small call frames in the team-contract column layout, built by hand for the report tests."""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from hearkit.summary import CallSummary

TURN_COLUMNS = [
    "call_id",
    "turn",
    "speaker",
    "channel",
    "role",
    "role_source",
    "start",
    "end",
    "duration_s",
    "text",
    "n_words",
]
HIT_COLUMNS = ["call_id", "tracker", "phrase", "speaker", "role", "start", "end", "position", "snippet"]


@dataclass
class Frames:
    """What a CallSet holds, without depending on hearkit.record."""

    calls: pd.DataFrame
    turns: pd.DataFrame
    words: pd.DataFrame
    hits: pd.DataFrame
    summaries: dict[str, CallSummary] = field(default_factory=dict)


def turns_frame(rows: list[tuple[str, int, str, str, float, float, str]]) -> pd.DataFrame:
    """rows: (call_id, turn, speaker, role, start, end, text)."""
    records = [
        {
            "call_id": c,
            "turn": t,
            "speaker": s,
            "channel": 0 if r == "rep" else 1,
            "role": r,
            "role_source": "explicit",
            "start": a,
            "end": b,
            "duration_s": b - a,
            "text": x,
            "n_words": len(x.split()),
        }
        for c, t, s, r, a, b, x in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=TURN_COLUMNS)
    return frame.astype(
        {
            "call_id": "string",
            "turn": "int64",
            "speaker": "string",
            "channel": "Int64",
            "role": "string",
            "role_source": "string",
            "text": "string",
            "n_words": "int64",
        }
    )


def hits_frame(rows: list[tuple[str, str, str, str, str, float, float, float, str]]) -> pd.DataFrame:
    """rows: (call_id, tracker, phrase, speaker, role, start, end, position, snippet)."""
    return pd.DataFrame.from_records(rows, columns=HIT_COLUMNS)
