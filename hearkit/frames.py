"""The data contract between stages: the columns and dtypes of the turns, words, hits and calls
frames, one :func:`check` every consumer calls, and the one :class:`CallFrames` protocol.

Producers build these frames from the specs here (:mod:`hearkit.transcript` the turns and words,
:mod:`hearkit.trackers` the hits, :mod:`hearkit.metrics` and :mod:`hearkit.record` the calls);
consumers (:mod:`hearkit.metrics`, :mod:`hearkit.charts`, :mod:`hearkit.report`,
:mod:`hearkit.dashboard`, :mod:`hearkit.summarize`) check the columns they read with
:func:`check`, whose error names the missing columns, the columns the frame has and what makes a
frame of that kind. Tests import the specs rather than retyping them.

=========  ==============================================================  ============================
kind       one row per                                                     made by
=========  ==============================================================  ============================
``turns``  speaker turn (consecutive segments of one speaker merged)       ``hearkit.transcript.turns``
``words``  word, with the turn it falls in                                 ``hearkit.transcript.words``
``hits``   tracker match, with the turn and words it was found in          ``hearkit.trackers.find_hits``
``calls``  call: ``call_id``, metadata (title, rep, …) and its scorecard   ``hearkit.metrics.scorecards``
=========  ==============================================================  ============================

Times are seconds from the start of the recording; ``call_id`` ties the frames together.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal, Protocol, runtime_checkable

import pandas as pd

from hearkit.summary import CallSummary

__all__ = [
    "CALLS",
    "CALL_ID",
    "HITS",
    "HIT_COLUMNS",
    "SPECS",
    "TURNS",
    "TURN_COLUMNS",
    "WORDS",
    "WORD_COLUMNS",
    "CallFrames",
    "FrameKind",
    "FrameSpec",
    "check",
    "empty",
    "summaries_of",
]

# Column names (the same name means the same thing in every frame).
CALL_ID = "call_id"
TURN = "turn"
SPEAKER = "speaker"
CHANNEL = "channel"
ROLE = "role"
ROLE_SOURCE = "role_source"
START = "start"
END = "end"
DURATION_S = "duration_s"
TEXT = "text"
N_WORDS = "n_words"
WORD_INDEX = "word_index"
WORD = "word"
TRACKER = "tracker"
PHRASE = "phrase"
POSITION = "position"
SNIPPET = "snippet"
TIME_SOURCE = "time_source"
TITLE = "title"
REP = "rep"
CUSTOMER = "customer"
DATE = "date"
KIND = "kind"
FLAGS = "flags"

FrameKind = Literal["turns", "words", "hits", "calls"]

_STR = "str"


@dataclass(frozen=True)
class FrameSpec:
    """A frame kind: its columns in order with their pandas dtypes, and what produces it."""

    kind: FrameKind
    dtypes: Mapping[str, str]
    producer: str

    @property
    def columns(self) -> tuple[str, ...]:
        return tuple(self.dtypes)


TURNS = FrameSpec(
    "turns",
    {
        CALL_ID: _STR,
        TURN: "int64",
        SPEAKER: _STR,
        CHANNEL: "Int64",
        ROLE: _STR,
        ROLE_SOURCE: _STR,
        START: "float64",
        END: "float64",
        DURATION_S: "float64",
        TEXT: _STR,
        N_WORDS: "int64",
    },
    "hearkit.transcript.turns()",
)
WORDS = FrameSpec(
    "words",
    {
        CALL_ID: _STR,
        WORD_INDEX: "int64",
        TURN: "int64",
        SPEAKER: _STR,
        CHANNEL: "Int64",
        ROLE: _STR,
        START: "float64",
        END: "float64",
        DURATION_S: "float64",
        WORD: _STR,
    },
    "hearkit.transcript.words()",
)
HITS = FrameSpec(
    "hits",
    {
        CALL_ID: _STR,
        TRACKER: _STR,
        PHRASE: _STR,
        SPEAKER: _STR,
        ROLE: _STR,
        START: "float64",
        END: "float64",
        POSITION: "float64",
        SNIPPET: _STR,
        TURN: "int64",
        TIME_SOURCE: _STR,
    },
    "hearkit.trackers.find_hits()",
)
# The calls frame is open: call_id, then metadata columns and scorecard columns
# (hearkit.metrics.SCORECARD_COLUMNS); only call_id is part of every calls frame.
CALLS = FrameSpec("calls", {CALL_ID: _STR}, "hearkit.metrics.scorecards() or hearkit.record.CallSet")

SPECS: dict[str, FrameSpec] = {spec.kind: spec for spec in (TURNS, WORDS, HITS, CALLS)}
TURN_COLUMNS = TURNS.columns
WORD_COLUMNS = WORDS.columns
HIT_COLUMNS = HITS.columns


def check(frame: object, kind: FrameKind, columns: Iterable[str] | None = None) -> pd.DataFrame:
    """``frame`` when it is a DataFrame with ``columns`` (default: every column of ``kind``'s spec).

    Raises ``TypeError`` when ``frame`` is not a DataFrame and ``ValueError`` naming the missing
    columns, the ones the frame has and what produces a ``kind`` frame.
    """
    spec = SPECS[kind]
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"the {kind} frame must be a pandas DataFrame, not {type(frame).__name__}; "
            f"build it with {spec.producer} or take the `{kind}` frame of a hearkit.record.CallSet"
        )
    needed = spec.columns if columns is None else tuple(columns)
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValueError(
            f"the {kind} frame lacks column(s) {missing}; it has {list(frame.columns)}. "
            f"Pass the `{kind}` frame of a hearkit.record.CallSet, or build one with {spec.producer}"
        )
    return frame


def empty(kind: FrameKind) -> pd.DataFrame:
    """A frame of ``kind`` with no rows: every column of its spec, with its dtype."""
    spec = SPECS[kind]
    return pd.DataFrame(
        {c: pd.Series([], dtype=d) for c, d in spec.dtypes.items()}, columns=list(spec.columns)
    )


@runtime_checkable
class CallFrames(Protocol):
    """A set of calls as frames: what the report, the dashboard and the charts read.

    :class:`hearkit.record.CallSet` is one; so is any object with these three frames. A
    ``summaries`` mapping (call id → :class:`hearkit.summary.CallSummary`) is read when present.
    """

    @property
    def calls(self) -> pd.DataFrame: ...

    @property
    def turns(self) -> pd.DataFrame: ...

    @property
    def hits(self) -> pd.DataFrame: ...


def summaries_of(source: object) -> dict[str, CallSummary]:
    """The summaries of a call set by call id: its ``summaries`` mapping, or a record's ``summary``."""
    raw = getattr(source, "summaries", None)
    found = (
        {str(k): v for k, v in raw.items() if isinstance(v, CallSummary)} if isinstance(raw, Mapping) else {}
    )
    single = getattr(source, "summary", None)
    if isinstance(single, CallSummary):
        found[single.call_id] = single
    return found
