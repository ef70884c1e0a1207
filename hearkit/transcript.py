"""Normalization: a job's result into typed turns and words DataFrames.

Every analysis stage reads these two frames, wherever the result came from (hosted API, local
engine, a saved JSON). Times are seconds (float64); string columns use pandas' ``str`` dtype.

turns (one row per turn; a turn is a run of consecutive segments of one speaker whose gaps are
at most ``merge_gap`` seconds), in this column order:
    ``call_id``, ``turn`` (0-based within the call, in time order), ``speaker``, ``channel``
    (Int64, nullable), ``role``, ``role_source``, ``start``, ``end``, ``duration_s``
    (``end - start``, never negative), ``text``, ``n_words`` (words of the turn: the result's
    word objects when it has them, else the whitespace tokens of ``text``).

words (one row per recognised word, in time order):
    ``call_id``, ``word_index`` (0-based), ``turn`` (the turn it falls in), ``speaker``,
    ``channel``, ``role``, ``start``, ``end``, ``duration_s``, ``word``.

Speaker key: the identity that "same speaker" means. ``"channel"`` for stereo results (two or
more channels: labels are exact there), ``"speaker"`` (the API's opaque label) otherwise;
``"auto"`` picks between them. The ``speaker`` column holds the API label when present, else
``channel_<n>``, else ``speaker_0`` (a result without diarization is one speaker).

Roles (``rep``/``customer``/…) and how each was decided (``role_source``):
    ``explicit``               from ``roles=``, keyed by speaker label or channel number
    ``channel_convention``     stereo with channels 0 and 1: channel 0 is the rep, 1 the customer
    ``inferred_questions``     the speaker who asks clearly more questions (≥ 2 and ≥ 1.5× the
                               next speaker's question turns) is the rep; the others are customers
    ``inferred_first_speaker`` otherwise the first speaker is the rep; the others are customers
    ``unknown``                one speaker only, or a speaker ``roles=`` does not map
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, cast

import numpy as np
import numpy.typing as npt
import pandas as pd
from pydantic import ValidationError

from hearkit.errors import ResultUnavailableError
from hearkit.schema import Job, Result

__all__ = [
    "ROLE_SOURCES",
    "TURN_COLUMNS",
    "WORD_COLUMNS",
    "RoleMap",
    "Source",
    "SpeakerKey",
    "empty_turns",
    "empty_words",
    "normalize_many",
    "turns",
    "turns_and_words",
    "words",
]

Source: TypeAlias = Job | Result | Mapping[str, Any]
SpeakerKey = Literal["auto", "channel", "speaker"]
RoleMap: TypeAlias = Mapping[str | int, str]

TURN_COLUMNS = (
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
)
WORD_COLUMNS = (
    "call_id",
    "word_index",
    "turn",
    "speaker",
    "channel",
    "role",
    "start",
    "end",
    "duration_s",
    "word",
)
ROLE_SOURCES = ("explicit", "channel_convention", "inferred_first_speaker", "inferred_questions", "unknown")

_STR = "str"
_DTYPES: dict[str, str] = {
    "call_id": _STR,
    "turn": "int64",
    "word_index": "int64",
    "speaker": _STR,
    "channel": "Int64",
    "role": _STR,
    "role_source": _STR,
    "start": "float64",
    "end": "float64",
    "duration_s": "float64",
    "text": _STR,
    "word": _STR,
    "n_words": "int64",
}
_DEFAULT_CALL_ID = "call"
_QUESTION_OPENERS = frozenset(
    (
        "what",
        "how",
        "why",
        "when",
        "where",
        "who",
        "which",
        "whom",
        "whose",
        "do",
        "does",
        "did",
        "are",
        "is",
        "was",
        "were",
        "can",
        "could",
        "would",
        "will",
        "should",
        "shall",
        "have",
        "has",
        "may",
        "might",
    )
)

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]


def turns(
    source: Source,
    *,
    call_id: str | None = None,
    speaker_key: SpeakerKey = "auto",
    roles: RoleMap | None = None,
    merge_gap: float | None = 0.5,
) -> pd.DataFrame:
    """The turns frame of one call (see the module docstring for its columns).

    ``source`` is a completed :class:`~hearkit.schema.Job` with an inline result, a
    :class:`~hearkit.schema.Result`, or the JSON dict of either. ``call_id`` defaults to the
    job id (``"call"`` for a bare result). ``merge_gap=None`` keeps every segment its own turn.

    >>> turns(job, roles={0: "rep", 1: "customer"})[["speaker", "role", "start", "text"]]
    """
    return turns_and_words(
        source, call_id=call_id, speaker_key=speaker_key, roles=roles, merge_gap=merge_gap
    )[0]


def words(
    source: Source,
    *,
    call_id: str | None = None,
    speaker_key: SpeakerKey = "auto",
    roles: RoleMap | None = None,
    merge_gap: float | None = 0.5,
) -> pd.DataFrame:
    """The words frame of one call; ``turn`` refers to :func:`turns` called with the same options.

    A result without word timings gives an empty frame (with the right columns and dtypes).
    """
    return turns_and_words(
        source, call_id=call_id, speaker_key=speaker_key, roles=roles, merge_gap=merge_gap
    )[1]


def turns_and_words(
    source: Source,
    *,
    call_id: str | None = None,
    speaker_key: SpeakerKey = "auto",
    roles: RoleMap | None = None,
    merge_gap: float | None = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both frames of one call in a single pass: ``(turns, words)``."""
    return normalize_many(
        [source],
        call_ids=None if call_id is None else [call_id],
        speaker_key=speaker_key,
        roles=roles,
        merge_gap=merge_gap,
    )


def normalize_many(
    sources: Iterable[Source] | Mapping[str, Source],
    *,
    call_ids: Sequence[str] | None = None,
    speaker_key: SpeakerKey = "auto",
    roles: RoleMap | None = None,
    merge_gap: float | None = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """``(turns, words)`` of many calls, concatenated: one frame each, built once.

    ``sources`` is an iterable of jobs/results, or a mapping ``call_id -> source``. This is the
    fast path for archives: columns are gathered as lists for every call and each frame is
    built a single time.
    """
    _check_options(speaker_key, merge_gap)
    if isinstance(sources, Mapping):
        pairs = list(sources.items())
        items: list[Source] = [source for _, source in pairs]
        names: list[str | None] = [name for name, _ in pairs]
    else:
        items = list(sources)
        names = [None] * len(items)
    if call_ids is not None:
        if len(call_ids) != len(items):
            raise ValueError(f"call_ids has {len(call_ids)} entries for {len(items)} sources")
        names = list(call_ids)
    turn_cols = _Columns()
    word_cols = _Columns()
    for source, name in zip(items, names, strict=True):
        result, default_id = _resolve(source)
        _normalize_one(result, name or default_id, speaker_key, roles, merge_gap, turn_cols, word_cols)
    return turn_cols.frame(TURN_COLUMNS), word_cols.frame(WORD_COLUMNS)


def empty_turns() -> pd.DataFrame:
    """A turns frame with no rows, with the right columns and dtypes."""
    return _Columns().frame(TURN_COLUMNS)


def empty_words() -> pd.DataFrame:
    """A words frame with no rows, with the right columns and dtypes."""
    return _Columns().frame(WORD_COLUMNS)


@dataclass
class _Columns:
    """Column lists of many calls, turned into one DataFrame at the end."""

    lists: dict[str, list[Any]] = field(default_factory=dict)
    arrays: dict[str, list[npt.NDArray[Any]]] = field(default_factory=dict)

    def extend(self, name: str, values: list[Any]) -> None:
        self.lists.setdefault(name, []).extend(values)

    def append_array(self, name: str, values: npt.NDArray[Any]) -> None:
        self.arrays.setdefault(name, []).append(values)

    def frame(self, columns: Sequence[str]) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name in columns:
            dtype = _DTYPES[name]
            values: Any = (
                np.concatenate(self.arrays[name]) if name in self.arrays else self.lists.get(name, [])
            )
            data[name] = pd.array(values, dtype=cast(Any, dtype))
        return pd.DataFrame(data, columns=list(columns))


def _check_options(speaker_key: str, merge_gap: float | None) -> None:
    if speaker_key not in ("auto", "channel", "speaker"):
        raise ValueError(f"speaker_key must be 'auto', 'channel' or 'speaker', not {speaker_key!r}")
    if merge_gap is not None and not merge_gap >= 0:
        raise ValueError(f"merge_gap must be a number of seconds >= 0 (or None), not {merge_gap!r}")


def _resolve(source: Source) -> tuple[Result, str]:
    """The result inside ``source`` and the call id to use by default."""
    if isinstance(source, Mapping):
        try:
            source = Job.model_validate(source) if "job_id" in source else Result.model_validate(source)
        except ValidationError as exc:
            raise ValueError(
                f"source is not a PyAI job or result: {exc.error_count()} problem(s), first: "
                f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            ) from exc
    if isinstance(source, Result):
        return source, _DEFAULT_CALL_ID
    if isinstance(source, Job):
        if source.result is not None:
            return source.result, source.job_id
        if source.status != "completed":
            raise ResultUnavailableError(
                f"job {source.job_id} is {source.status}, it has no transcript yet: "
                "wait for it with client.jobs.wait(job_id) first"
            )
        raise ResultUnavailableError(
            f"job {source.job_id} has no inline result (it is offloaded to result_url): "
            "pass client.jobs.result(job) instead of the job"
        )
    raise TypeError(f"source must be a Job, a Result or their dict, not {type(source).__name__}")


def _normalize_one(
    result: Result,
    call_id: str,
    speaker_key: SpeakerKey,
    roles: RoleMap | None,
    merge_gap: float | None,
    turn_cols: _Columns,
    word_cols: _Columns,
) -> None:
    segments: Sequence[Any] = result.segments
    word_items: Sequence[Any] = result.words
    if not segments:
        # Words alone still make turns: each word acts as a segment.
        segments = word_items
        seg_text = [w.word for w in word_items]
    else:
        seg_text = [s.text for s in segments]
    if not segments:
        return
    seg_start = np.fromiter((s.start for s in segments), np.float64, len(segments))
    seg_end = np.fromiter((s.end for s in segments), np.float64, len(segments))
    seg_label: list[str | None] = [s.speaker for s in segments]
    seg_channel: list[int | None] = [s.channel for s in segments]

    key = _pick_key(speaker_key, seg_channel, seg_label)
    order = np.argsort(seg_start, kind="stable")
    if not _is_identity(order):
        seg_start, seg_end = seg_start[order], seg_end[order]
        seg_text = [seg_text[i] for i in order]
        seg_label = [seg_label[i] for i in order]
        seg_channel = [seg_channel[i] for i in order]
    ident = _identities(key, seg_label, seg_channel)
    names = _speaker_names(key, seg_label, seg_channel)

    # Turn boundaries: a change of identity, or a gap longer than merge_gap.
    codes = _codes(ident)
    new_turn = np.ones(len(codes), dtype=bool)
    new_turn[1:] = codes[1:] != codes[:-1]
    if merge_gap is None:
        new_turn[:] = True
    else:
        new_turn[1:] |= (seg_start[1:] - seg_end[:-1]) > merge_gap
    first = np.flatnonzero(new_turn)
    bounds = [*first.tolist(), len(codes)]
    t_start = seg_start[first]
    t_end = np.maximum.reduceat(seg_end, first)
    t_ident = [ident[i] for i in first]
    t_channel = [seg_channel[i] for i in first]
    t_speaker = [names[ident[i]] for i in first]
    t_text = [
        " ".join(text.strip() for text in seg_text[a:b] if text and text.strip())
        for a, b in itertools.pairwise(bounds)
    ]
    n_turns = len(first)

    role_of = _roles(roles, t_ident, t_speaker, t_channel, t_text, key)
    t_role = [role_of[i][0] for i in t_ident]
    t_role_source = [role_of[i][1] for i in t_ident]

    # Words: each falls in the nearest turn of its own speaker (else the nearest turn at all).
    n_words_per_turn: IntArray
    if word_items:
        w_start = np.fromiter((w.start for w in word_items), np.float64, len(word_items))
        w_end = np.fromiter((w.end for w in word_items), np.float64, len(word_items))
        w_text = [w.word for w in word_items]
        w_label: list[str | None] = [w.speaker for w in word_items]
        w_channel: list[int | None] = [w.channel for w in word_items]
        w_order = np.argsort(w_start, kind="stable")
        if not _is_identity(w_order):
            w_start, w_end = w_start[w_order], w_end[w_order]
            w_text = [w_text[i] for i in w_order]
            w_label = [w_label[i] for i in w_order]
            w_channel = [w_channel[i] for i in w_order]
        w_turn = _assign_words(
            (w_start + w_end) / 2,
            _word_identities(key, w_label, w_channel),
            t_start,
            t_end,
            t_ident,
        )
        n_words_per_turn = np.bincount(w_turn, minlength=n_turns).astype(np.int64)
        n = len(w_text)
        word_cols.extend("call_id", [call_id] * n)
        word_cols.append_array("word_index", np.arange(n, dtype=np.int64))
        word_cols.append_array("turn", w_turn)
        word_cols.extend("speaker", [t_speaker[t] for t in w_turn.tolist()])
        word_cols.extend(
            "channel",
            [c if c is not None else t_channel[t] for c, t in zip(w_channel, w_turn.tolist(), strict=True)],
        )
        word_cols.extend("role", [t_role[t] for t in w_turn.tolist()])
        word_cols.append_array("start", w_start)
        word_cols.append_array("end", w_end)
        word_cols.append_array("duration_s", np.maximum(w_end - w_start, 0.0))
        word_cols.extend("word", w_text)
    else:
        n_words_per_turn = np.array([len(text.split()) for text in t_text], dtype=np.int64)

    turn_cols.extend("call_id", [call_id] * n_turns)
    turn_cols.append_array("turn", np.arange(n_turns, dtype=np.int64))
    turn_cols.extend("speaker", t_speaker)
    turn_cols.extend("channel", t_channel)
    turn_cols.extend("role", t_role)
    turn_cols.extend("role_source", t_role_source)
    turn_cols.append_array("start", t_start)
    turn_cols.append_array("end", t_end)
    turn_cols.append_array("duration_s", np.maximum(t_end - t_start, 0.0))
    turn_cols.extend("text", t_text)
    turn_cols.append_array("n_words", n_words_per_turn)


def _is_identity(order: npt.NDArray[np.intp]) -> bool:
    return bool((order == np.arange(len(order))).all())


def _pick_key(speaker_key: SpeakerKey, channels: list[int | None], labels: list[str | None]) -> str:
    distinct_channels = {c for c in channels if c is not None}
    if speaker_key == "channel":
        if not distinct_channels:
            raise ValueError(
                "speaker_key='channel' but no segment carries a channel: this result is not from "
                "a channel:true (stereo) job; use speaker_key='speaker' or 'auto'"
            )
        return "channel"
    if speaker_key == "speaker":
        return "speaker"
    return "channel" if len(distinct_channels) >= 2 else "speaker"


def _identities(key: str, labels: list[str | None], channels: list[int | None]) -> list[Any]:
    """The grouping identity of each segment: its channel (key "channel") or its speaker name."""
    if key == "channel":
        return [c if c is not None else (lab or "speaker_0") for c, lab in zip(channels, labels, strict=True)]
    return [
        lab if lab is not None else (f"channel_{c}" if c is not None else "speaker_0")
        for lab, c in zip(labels, channels, strict=True)
    ]


def _word_identities(key: str, labels: list[str | None], channels: list[int | None]) -> list[Any] | None:
    """Word identities comparable with the turns', or None when words carry no speaker info."""
    source = channels if key == "channel" else labels
    if all(value is None for value in source):
        return None
    return _identities(key, labels, channels)


def _speaker_names(key: str, labels: list[str | None], channels: list[int | None]) -> dict[Any, str]:
    """The ``speaker`` column value of each identity."""
    names: dict[Any, str] = {}
    if key == "channel":
        for lab, c in zip(labels, channels, strict=True):
            ident = c if c is not None else (lab or "speaker_0")
            if ident not in names or (names[ident].startswith("channel_") and lab is not None):
                names[ident] = lab if lab is not None else (f"channel_{c}" if c is not None else "speaker_0")
        return names
    for ident in _identities(key, labels, channels):
        names.setdefault(ident, str(ident))
    return names


def _codes(values: list[Any]) -> IntArray:
    index: dict[Any, int] = {}
    return np.fromiter((index.setdefault(v, len(index)) for v in values), np.int64, len(values))


def _assign_words(
    mid: FloatArray,
    w_ident: list[Any] | None,
    t_start: FloatArray,
    t_end: FloatArray,
    t_ident: list[Any],
) -> IntArray:
    """Index of the turn each word falls in: same identity first, nearest in time."""
    out = _nearest(mid, t_start, t_end, np.arange(len(t_start), dtype=np.int64))
    if w_ident is None:
        return out
    index: dict[Any, int] = {}
    t_codes = np.array([index.setdefault(i, len(index)) for i in t_ident], dtype=np.int64)
    w_codes = np.array([index.get(i, -1) for i in w_ident], dtype=np.int64)
    for code in range(len(index)):
        mask = w_codes == code
        if mask.any():
            candidates = np.flatnonzero(t_codes == code).astype(np.int64)
            out[mask] = _nearest(mid[mask], t_start[candidates], t_end[candidates], candidates)
    return out


def _nearest(mid: FloatArray, starts: FloatArray, ends: FloatArray, ids: IntArray) -> IntArray:
    """For each time in ``mid``, the id of the interval (sorted by start) closest to it."""
    right = np.searchsorted(starts, mid, side="right")
    before = np.clip(right - 1, 0, len(starts) - 1)
    after = np.clip(right, 0, len(starts) - 1)
    dist_before = np.maximum(mid - ends[before], 0.0)
    dist_after = np.maximum(starts[after] - mid, 0.0)
    pick = np.where(dist_after < dist_before, after, before)
    return ids[pick]


def _roles(
    roles: RoleMap | None,
    t_ident: list[Any],
    t_speaker: list[str],
    t_channel: list[int | None],
    t_text: list[str],
    key: str,
) -> dict[Any, tuple[str, str]]:
    """(role, role_source) of each speaker identity."""
    speakers = list(dict.fromkeys(t_ident))  # in order of first turn
    speaker_name = dict(zip(t_ident, t_speaker, strict=True))
    speaker_channel = dict(zip(t_ident, t_channel, strict=True))
    if roles is not None:
        _check_roles(roles)
        decided: dict[Any, tuple[str, str]] = {}
        for ident in speakers:
            role = roles.get(speaker_name[ident])
            channel = speaker_channel[ident]
            if role is None and channel is not None:
                role = roles.get(channel)
            decided[ident] = (role, "explicit") if role is not None else ("unknown", "unknown")
        return decided
    if len(speakers) < 2:
        return {ident: ("unknown", "unknown") for ident in speakers}
    if key == "channel" and set(speakers) == {0, 1}:
        return {0: ("rep", "channel_convention"), 1: ("customer", "channel_convention")}
    questions = dict.fromkeys(speakers, 0)
    for ident, text in zip(t_ident, t_text, strict=True):
        if _is_question(text):
            questions[ident] += 1
    ranked = sorted(speakers, key=lambda s: -questions[s])
    top, second = questions[ranked[0]], questions[ranked[1]]
    if top >= 2 and top >= 1.5 * second:
        rep, source = ranked[0], "inferred_questions"
    else:
        rep, source = speakers[0], "inferred_first_speaker"
    return {ident: ("rep" if ident == rep else "customer", source) for ident in speakers}


def _check_roles(roles: RoleMap) -> None:
    for name, role in roles.items():
        if isinstance(name, bool) or not isinstance(name, str | int):
            raise ValueError(
                f"roles keys are speaker labels (str) or channel numbers (int), not {name!r}; "
                "e.g. {0: 'rep', 1: 'customer'} or {'speaker_1': 'rep'}"
            )
        if not isinstance(role, str) or not role:
            raise ValueError(f"roles[{name!r}] must be a non-empty role name such as 'rep', not {role!r}")


def _is_question(text: str) -> bool:
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return True
    first = stripped.split(maxsplit=1)
    return bool(first) and first[0].lower().strip(",.!") in _QUESTION_OPENERS
