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
    ``channel_convention``     stereo (channels 0 and 1, or only one of them talking): channel 0 is
                               the rep, 1 the customer
    ``inferred_greeting``      exactly one speaker opens like a rep in their first 3 turns ("thanks
                               for calling/joining", "this is Jordan from Acme", "I am on the support
                               team", "how can I help"): that speaker is the rep, the others customers
    ``inferred_caller_cue``    else, on a two-speaker call, exactly one speaker talks like a caller
                               in their first 3 turns ("is this customer service?", "I'm calling
                               about", "I'd like to book"): the other one is the rep
    ``inferred_offers``        else, on a two-speaker call, the speaker who clearly makes the offer
                               (quotes prices, promises the follow-up: ≥ 3 such cues and more than
                               twice the other's, :func:`hearkit.role_cues.offers_decide`) is the rep
    ``inferred_questions``     else the speaker who asks clearly more questions (≥ 2 and ≥ 1.5× the
                               next speaker's question turns) is the rep; the others are customers
    ``inferred_first_speaker`` otherwise the first speaker is the rep; the others are customers
    ``unknown``                one speaker only, or a speaker ``roles=`` does not map
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias, TypedDict, Unpack

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
from pydantic import ValidationError

from hearkit import frames
from hearkit.errors import ResultUnavailableError
from hearkit.frames import CALL_ID, TURN_COLUMNS, WORD_COLUMNS
from hearkit.metrics import ROLE_GROUPS
from hearkit.role_cues import CALLER_CUE, offers, offers_decide
from hearkit.schema import Job, Result

__all__ = [
    "ROLE_SOURCES",
    "TURN_COLUMNS",
    "WORD_COLUMNS",
    "NormalizeOptions",
    "Resolved",
    "RoleMap",
    "Source",
    "SpeakerKey",
    "canonical_role",
    "empty_turns",
    "empty_words",
    "normalize_many",
    "resolve",
    "turns",
    "turns_and_words",
    "words",
]

Source: TypeAlias = Job | Result | Mapping[str, Any]
SpeakerKey = Literal["auto", "channel", "speaker"]
RoleMap: TypeAlias = Mapping[str | int, str]

ROLE_SOURCES = (
    "explicit",
    "channel_convention",
    "inferred_greeting",
    "inferred_caller_cue",
    "inferred_offers",
    "inferred_questions",
    "inferred_first_speaker",
    "unknown",
)

_STR = "str"
_DTYPES: dict[str, str] = {**frames.TURNS.dtypes, **frames.WORDS.dtypes}
_DEFAULT_CALL_ID = "call"
_QUESTION_OPENERS = frozenset(
    {
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
    }
)

# Openers of reps and agents: "thanks for calling/joining/taking the call", "this is Jordan from
# Acme", "I am on the support team", "how can I help". Customers rarely say these.
_GREETING = re.compile(
    r"\bthank(?:s| you)\b[^.?!]{0,24}?\bfor (?:calling|joining|taking|making|your time|contacting|"
    r"reaching out|holding)"
    r"|\bthis is \w+(?: \w+)? (?:from|with|at) \w"
    r"|\b(?:i am|i'm) (?:on|with|from) (?:the|our) [\w ]{1,20}team\b"
    r"|\bcalling (?:you )?from \w"
    r"|\bhow (?:can|may) i help",
    re.IGNORECASE,
)
_GREETING_TURNS = 3
"""How many first turns of each speaker are searched for an opener."""

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
_Rows: TypeAlias = tuple[FloatArray, FloatArray, list[str], list[str | None], list[int | None], IntArray]
"""start, end, text, speaker label, channel, and the channels as codes (``_NO_CHANNEL`` for None)."""


class NormalizeOptions(TypedDict, total=False):
    """Keyword options of :func:`turns`, :func:`words` and :func:`turns_and_words`."""

    call_id: str | None
    speaker_key: SpeakerKey
    roles: RoleMap | None
    merge_gap: float | None


def turns(source: Source, **options: Unpack[NormalizeOptions]) -> pd.DataFrame:
    """The turns frame of one call (see the module docstring for its columns).

    ``source`` is a completed :class:`~hearkit.schema.Job` with an inline result, a
    :class:`~hearkit.schema.Result`, or the JSON dict of either. Options as :func:`turns_and_words`:
    ``call_id`` defaults to the job id (``"call"`` for a bare result); ``merge_gap=None`` keeps
    every segment its own turn.

    >>> turns(job, roles={0: "rep", 1: "customer"})[["speaker", "role", "start", "text"]]
    """
    return turns_and_words(source, **options)[0]


def words(source: Source, **options: Unpack[NormalizeOptions]) -> pd.DataFrame:
    """The words frame of one call; ``turn`` refers to :func:`turns` called with the same options.

    A result without word timings gives an empty frame (with the right columns and dtypes).
    """
    return turns_and_words(source, **options)[1]


def turns_and_words(
    source: Source,
    *,
    call_id: str | None = None,
    speaker_key: SpeakerKey = "auto",
    roles: RoleMap | None = None,
    merge_gap: float | None = 0.5,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both frames of one call in a single pass: ``(turns, words)``.

    ``speaker_key``: ``"channel"`` (stereo: a speaker per channel), ``"speaker"`` (the diarizer's
    labels) or ``"auto"`` (channels when the result has them); ``roles`` maps channels or labels to
    roles (``{0: "rep", 1: "customer"}``); ``merge_gap``: consecutive segments of one speaker closer
    than this many seconds are one turn.
    """
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
        resolved = resolve(source)
        result = resolved.require_result()
        default_id = resolved.job_id or _DEFAULT_CALL_ID
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
    """Columns of many calls, gathered per call and turned into one DataFrame at the end.

    Repetitive string columns (call id, speaker, role) are kept as integer codes into a shared
    list of values and decoded once by Arrow; free text goes to Arrow in one call per column.
    """

    arrays: dict[str, list[npt.NDArray[Any]]] = field(default_factory=dict)
    texts: dict[str, list[str]] = field(default_factory=dict)
    values: dict[str, dict[str, int]] = field(default_factory=dict)

    def add_array(self, name: str, array: npt.NDArray[Any]) -> None:
        self.arrays.setdefault(name, []).append(array)

    def add_texts(self, name: str, texts: Sequence[str]) -> None:
        self.texts.setdefault(name, []).extend(texts)

    def add_coded(self, name: str, codes: IntArray, uniques: Sequence[str]) -> None:
        """Add a string column given as ``codes`` into this call's ``uniques``."""
        known = self.values.setdefault(name, {})
        remap = np.array([known.setdefault(u, len(known)) for u in uniques], dtype=np.int64)
        self.add_array(name, remap[codes] if len(remap) else codes)

    def frame(self, columns: Sequence[str]) -> pd.DataFrame:
        data: dict[str, Any] = {}
        for name in columns:
            dtype = _DTYPES[name]
            if dtype == _STR:
                data[name] = self._strings(name)
            elif dtype == "Int64":
                values = self._concat(name, np.int64)
                data[name] = pd.arrays.IntegerArray(np.where(values < 0, 0, values), values < 0)
            else:
                data[name] = self._concat(name, np.dtype(dtype).type)
        return pd.DataFrame(data, columns=list(columns))

    def _concat(self, name: str, dtype: type[np.generic]) -> npt.NDArray[Any]:
        parts = self.arrays.get(name)
        return np.concatenate(parts).astype(dtype, copy=False) if parts else np.empty(0, dtype)

    def _strings(self, name: str) -> Any:
        if name in self.values:
            uniques = pa.array(list(self.values[name]), type=pa.large_string())
            codes = pa.array(self._concat(name, np.int64))
            decoded = pa.DictionaryArray.from_arrays(codes, uniques).cast(pa.large_string())
        else:
            decoded = pa.array(self.texts.get(name, []), type=pa.large_string())
        return pd.array(decoded, dtype=_STR)


def _check_options(speaker_key: str, merge_gap: float | None) -> None:
    if speaker_key not in ("auto", "channel", "speaker"):
        raise ValueError(f"speaker_key must be 'auto', 'channel' or 'speaker', not {speaker_key!r}")
    if merge_gap is not None and not merge_gap >= 0:
        raise ValueError(f"merge_gap must be a number of seconds >= 0 (or None), not {merge_gap!r}")


@dataclass(frozen=True)
class Resolved:
    """What a job, a result or their JSON dict holds: its result (``None`` when a job carries no
    inline result) and the job it came from (``None`` for a bare result)."""

    result: Result | None
    job: Job | None = None

    @property
    def job_id(self) -> str | None:
        return self.job.job_id if self.job is not None else None

    @property
    def formats(self) -> dict[str, str] | None:
        return self.result.formats if self.result is not None else None

    def require_result(self) -> Result:
        """The result, or :class:`~hearkit.errors.ResultUnavailableError` saying what to do."""
        if self.result is not None:
            return self.result
        job = self.job
        assert job is not None  # a Resolved without a result always has its job
        if job.status in ("failed", "cancelled"):
            why = f" ({job.error})" if job.error else ""
            raise ResultUnavailableError(
                f"job {job.job_id} {job.status}{why}: it has no transcript; send the recording again"
                " (a new job) once the cause is fixed"
            )
        if job.status != "completed":
            raise ResultUnavailableError(
                f"job {job.job_id} is {job.status}, it has no transcript yet: "
                "wait for it with client.jobs.wait(job_id) first"
            )
        raise ResultUnavailableError(
            f"job {job.job_id} has no inline result (it is offloaded to result_url): "
            "pass client.jobs.result(job) instead of the job"
        )


_SOURCE_FIELDS = frozenset({*Job.model_fields, *Result.model_fields})
"""The keys of which a dict source needs at least one to be read as a job or a result."""


def resolve(source: Source) -> Resolved:
    """Tell a job from a result: a :class:`Job` (or a dict with ``job_id`` or ``status``) gives its
    inline result and itself; a :class:`Result` (or its dict) gives itself.

    Raises ``ValueError`` when a dict is neither (an empty dict, or one with none of a job's or a
    result's fields, read as an empty result before), ``TypeError`` for anything else.
    """
    if isinstance(source, Mapping):
        if not any(key in _SOURCE_FIELDS for key in source):
            keys = ", ".join(repr(str(k)) for k in list(source)[:8]) or "no keys"
            raise ValueError(
                f"source is not a PyAI job or result: the dict has {keys}, none of a job's fields"
                " (job_id, status) or a result's (text, segments, words, audio_seconds). Pass the job"
                " from client.jobs.wait(job_id) or its client.jobs.result(job), or a result JSON read"
                " with json.load"
            )
        try:
            if "job_id" in source or "status" in source:
                source = Job.model_validate(dict(source))
            else:
                source = Result.model_validate(dict(source))
        except ValidationError as exc:
            raise ValueError(
                f"source is not a PyAI job or result: {exc.error_count()} problem(s), first: "
                f"{exc.errors()[0]['loc']} {exc.errors()[0]['msg']}"
            ) from exc
    if isinstance(source, Result):
        return Resolved(source)
    if isinstance(source, Job):
        return Resolved(source.result, source)
    raise TypeError(f"source must be a Job, a Result or their dict, not {type(source).__name__}")


_NO_CHANNEL = -1  # channel code of "absent"; real channels are >= 0


def _normalize_one(
    result: Result,
    call_id: str,
    speaker_key: SpeakerKey,
    roles: RoleMap | None,
    merge_gap: float | None,
    turn_cols: _Columns,
    word_cols: _Columns,
) -> None:
    # a channel-split result (quality method "channels") keeps its channels as parties even when one
    # party never spoke; a stereo file transcribed as one voice (method "none") does not
    split = result.quality is not None and result.quality.method == "channels"
    if result.segments:
        seg_rows = _rows(result.segments, "text")
        key = _pick_key(speaker_key, seg_rows[4], seg_rows[3], channel_split=split)
        word_rows = _rows(result.words, "word", labels=key != "channel") if result.words else None
    elif result.words:
        # Words alone still make turns: each word then acts as a segment.
        seg_rows = word_rows = _rows(result.words, "word")
        key = _pick_key(speaker_key, seg_rows[4], seg_rows[3])
    else:
        return
    seg_start, seg_end, seg_text, seg_label, seg_channel, seg_channel_codes = seg_rows
    ident = _identities(key, seg_label, seg_channel)
    names = _speaker_names(key, seg_label, seg_channel, ident)

    # Turn boundaries: a change of identity, or a gap longer than merge_gap. Codes follow the
    # order in which identities first appear.
    index: dict[Any, int] = {value: code for code, value in enumerate(dict.fromkeys(ident))}
    codes = np.fromiter(map(index.__getitem__, ident), np.int64, len(ident))
    new_turn = np.ones(len(codes), dtype=bool)
    if merge_gap is not None:
        new_turn[1:] = (codes[1:] != codes[:-1]) | ((seg_start[1:] - seg_end[:-1]) > merge_gap)
    first = np.flatnonzero(new_turn)
    bounds = [*first.tolist(), len(codes)]
    t_start = seg_start[first]
    t_end = np.maximum.reduceat(seg_end, first)
    t_code = codes[first]
    t_channel = seg_channel_codes[first]
    # Most turns are one segment: only merged ones need a join (of their non-empty parts).
    stripped = list(map(str.strip, seg_text))
    t_text = [stripped[i] for i in bounds[:-1]]
    for turn in np.flatnonzero(np.diff(bounds) > 1).tolist():
        t_text[turn] = " ".join(filter(None, stripped[bounds[turn] : bounds[turn + 1]]))
    n_turns = len(first)

    # Per speaker identity (code): its name and its (role, role_source).
    idents = list(index)
    speaker_names = [names[i] for i in idents]
    speaker_channels = [seg_channel[ident.index(i)] for i in idents]
    decided = _roles(roles, idents, speaker_names, speaker_channels, t_code, t_text, key)
    role_names = [role for role, _ in decided]
    role_sources = [source for _, source in decided]
    role_codes = np.arange(len(idents), dtype=np.int64)

    if word_rows is not None:
        w_start, w_end, w_text, w_label, w_channel, own_channel = word_rows
        w_source = w_channel if key == "channel" else w_label
        w_code = None
        if key == "channel" and len(own_channel) and own_channel.min() >= 0:
            # Channel numbers index a lookup table of speaker codes: no per-word dict lookups.
            lookup = np.full(int(own_channel.max()) + 1, -1, dtype=np.int64)
            for ident, code in index.items():
                if isinstance(ident, int) and 0 <= ident < len(lookup):
                    lookup[ident] = code
            w_code = lookup[own_channel]
        elif None not in w_source:
            w_code = np.fromiter(map(index.get, w_source, itertools.repeat(-1)), np.int64, len(w_source))
        elif any(value is not None for value in w_source):
            w_ident = _identities(key, w_label, w_channel)
            w_code = np.fromiter(map(index.get, w_ident, itertools.repeat(-1)), np.int64, len(w_ident))
        w_turn = _assign_words((w_start + w_end) / 2, w_code, t_start, t_end, t_code)
        n_words_per_turn = np.bincount(w_turn, minlength=n_turns).astype(np.int64)
        w_speaker = t_code[w_turn]
        n = len(w_text)
        word_cols.add_coded(CALL_ID, np.zeros(n, dtype=np.int64), [call_id])
        word_cols.add_array("word_index", np.arange(n, dtype=np.int64))
        word_cols.add_array("turn", w_turn)
        word_cols.add_coded("speaker", w_speaker, speaker_names)
        word_cols.add_array("channel", np.where(own_channel == _NO_CHANNEL, t_channel[w_turn], own_channel))
        word_cols.add_coded("role", role_codes[w_speaker], role_names)
        word_cols.add_array("start", w_start)
        word_cols.add_array("end", w_end)
        word_cols.add_array("duration_s", np.maximum(w_end - w_start, 0.0))
        word_cols.add_texts("word", w_text)
    else:
        n_words_per_turn = np.array([len(text.split()) for text in t_text], dtype=np.int64)

    turn_cols.add_coded(CALL_ID, np.zeros(n_turns, dtype=np.int64), [call_id])
    turn_cols.add_array("turn", np.arange(n_turns, dtype=np.int64))
    turn_cols.add_coded("speaker", t_code, speaker_names)
    turn_cols.add_array("channel", t_channel)
    turn_cols.add_coded("role", t_code, role_names)
    turn_cols.add_coded("role_source", t_code, role_sources)
    turn_cols.add_array("start", t_start)
    turn_cols.add_array("end", t_end)
    turn_cols.add_array("duration_s", np.maximum(t_end - t_start, 0.0))
    turn_cols.add_texts("text", t_text)
    turn_cols.add_array("n_words", n_words_per_turn)


def _rows(items: Sequence[Any], text_name: str, *, labels: bool = True) -> _Rows:
    """(start, end, text, speaker, channel) columns of segments or words, sorted by start.

    ``labels=False`` skips reading speaker labels when every item has a channel (grouping by
    channel does not need them).
    """
    # One pass that reads each model's validated field values from its ``__dict__``: touching
    # every object once beats one C-level ``map(attrgetter)`` pass per field at scale (1.8 M
    # objects spread over memory), and dict lookups skip attribute resolution on the class.
    starts: list[float] = []
    ends: list[float] = []
    text: list[str] = []
    channel: list[int | None] = []
    label: list[str | None] = []
    add_start, add_end, add_text, add_channel = starts.append, ends.append, text.append, channel.append
    if labels:
        add_label = label.append
        for values in map(vars, items):
            add_start(values["start"])
            add_end(values["end"])
            add_text(values[text_name])
            add_label(values["speaker"])
            add_channel(values["channel"])
    else:
        for values in map(vars, items):
            add_start(values["start"])
            add_end(values["end"])
            add_text(values[text_name])
            add_channel(values["channel"])
    channel_codes, any_missing = _channels(channel)
    if not labels:
        label = [vars(item)["speaker"] for item in items] if any_missing else [None] * len(items)
    start_array = np.fromiter(starts, np.float64, len(starts))
    end_array = np.fromiter(ends, np.float64, len(ends))
    order = np.argsort(start_array, kind="stable")
    if (order[1:] > order[:-1]).all():
        return start_array, end_array, text, label, channel, channel_codes
    take = order.tolist()
    return (
        start_array[order],
        end_array[order],
        [text[i] for i in take],
        [label[i] for i in take],
        [channel[i] for i in take],
        channel_codes[order],
    )


def _channels(values: list[int | None]) -> tuple[IntArray, bool]:
    """The channels as int64 codes (``_NO_CHANNEL`` for None), and whether any was None."""
    try:
        return np.array(values, dtype=np.int64), False  # raises TypeError at the first None
    except TypeError:
        return np.array([_NO_CHANNEL if v is None else v for v in values], dtype=np.int64), True


def _pick_key(
    speaker_key: SpeakerKey,
    channels: list[int | None],
    labels: list[str | None],
    *,
    channel_split: bool = False,
) -> str:
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
    if channel_split and distinct_channels and None not in channels:
        return "channel"
    return "channel" if len(distinct_channels) >= 2 else "speaker"


def _identities(key: str, labels: list[str | None], channels: list[int | None]) -> list[Any]:
    """The grouping identity of each segment: its channel (key "channel") or its speaker name."""
    if key == "channel":
        if None not in channels:
            return list(channels)
        return [c if c is not None else (lab or "speaker_0") for c, lab in zip(channels, labels, strict=True)]
    if None not in labels:
        return list(labels)
    return [
        lab if lab is not None else (f"channel_{c}" if c is not None else "speaker_0")
        for lab, c in zip(labels, channels, strict=True)
    ]


def _speaker_names(
    key: str, labels: list[str | None], channels: list[int | None], idents: list[Any]
) -> dict[Any, str]:
    """The ``speaker`` column value of each identity (``idents``: each segment's identity)."""
    if key != "channel":
        return {ident: str(ident) for ident in dict.fromkeys(idents)}
    names: dict[Any, str] = {}
    pairs = dict.fromkeys(zip(channels, labels, strict=True))  # distinct, in order of appearance
    labelled = [(number, name) for number, name in pairs if number is not None and name is not None]
    if len(labelled) == len(pairs) and not any(name.startswith("channel_") for _, name in labelled):
        # Every segment has a channel and a label: each channel is named by its first label.
        for number, name in labelled:
            names.setdefault(number, name)
        return names
    for lab, c in zip(labels, channels, strict=True):
        ident = c if c is not None else (lab or "speaker_0")
        if ident not in names or (names[ident].startswith("channel_") and lab is not None):
            names[ident] = lab if lab is not None else (f"channel_{c}" if c is not None else "speaker_0")
    return names


def _assign_words(
    mid: FloatArray,
    w_code: IntArray | None,
    t_start: FloatArray,
    t_end: FloatArray,
    t_code: IntArray,
) -> IntArray:
    """Index of the turn each word falls in: nearest turn of the word's own speaker, else nearest."""
    out = _nearest(mid, t_start, t_end, np.arange(len(t_start), dtype=np.int64))
    if w_code is None:
        return out
    # Only words whose nearest turn belongs to someone else (overlaps, crosstalk) need a
    # second look among their own speaker's turns.
    wrong = (w_code >= 0) & (t_code[out] != w_code)
    if not wrong.any():
        return out
    for code in np.unique(w_code[wrong]).tolist():
        mask = wrong & (w_code == code)
        candidates = np.flatnonzero(t_code == code).astype(np.int64)
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
    idents: list[Any],
    names: list[str],
    channels: list[int | None],
    t_code: IntArray,
    t_text: list[str],
    key: str,
) -> list[tuple[str, str]]:
    """(role, role_source) of each speaker identity, in the order of ``idents``."""
    if roles is not None:
        _check_roles(roles)
        decided: list[tuple[str, str]] = []
        for name, channel in zip(names, channels, strict=True):
            role = roles.get(name)
            if role is None and channel is not None:
                role = roles.get(channel)
            decided.append((canonical_role(role), "explicit") if role is not None else ("unknown", "unknown"))
        if names and all(source == "unknown" for _, source in decided):
            keyed = (
                "; channel numbers apply only to calls split by channel"
                if any(isinstance(k, int) for k in roles)
                else ""
            )
            speakers = ", ".join(map(str, names))
            raise ValueError(
                f"roles {dict(roles)!r} name no speaker of this call (its speakers: {speakers}{keyed}):"
                f" key them by speaker label, e.g. {{{str(names[0])!r}: 'rep'}}"
            )
        return decided
    if key == "channel" and idents and set(idents) <= {0, 1}:
        # one party per channel: a party whose channel is silent does not change who the other one is
        return [("rep" if i == 0 else "customer", "channel_convention") for i in idents]
    if len(idents) < 2:
        return [("unknown", "unknown")] * len(idents)
    greeted = _greeting_speakers(t_code, t_text)
    if len(greeted) == 1:
        (rep,) = greeted
        return [("rep" if code == rep else "customer", "inferred_greeting") for code in range(len(idents))]
    callers = _opening_speakers(t_code, t_text, CALLER_CUE)
    if len(idents) == 2 and len(callers) == 1:
        (caller,) = callers
        return [("customer" if code == caller else "rep", "inferred_caller_cue") for code in range(2)]
    if len(idents) == 2:
        offered = [offers([text for c, text in zip(t_code, t_text, strict=True) if c == k]) for k in (0, 1)]
        for rep in (0, 1):
            if offers_decide(offered[rep], offered[1 - rep]):
                return [("rep" if code == rep else "customer", "inferred_offers") for code in range(2)]
    questions = np.bincount(t_code[[_is_question(text) for text in t_text]], minlength=len(idents)).tolist()
    ranked = sorted(range(len(idents)), key=lambda s: -questions[s])
    top, second = questions[ranked[0]], questions[ranked[1]]
    if top >= 2 and top >= 1.5 * second:
        rep, source = ranked[0], "inferred_questions"
    else:
        rep, source = 0, "inferred_first_speaker"  # codes follow first appearance
    return [("rep" if code == rep else "customer", source) for code in range(len(idents))]


def canonical_role(role: str) -> str:
    """``role`` stripped, with the metric roles (``rep``, ``customer``, ``other``) in lower case
    whatever case they were typed in ("Rep" counted as another role, so its talk went to ``other``)."""
    stripped = role.strip()
    return stripped.lower() if stripped.lower() in ROLE_GROUPS else stripped


def _check_roles(roles: RoleMap) -> None:
    if not isinstance(roles, Mapping):
        raise TypeError(
            f"roles maps speaker labels or channel numbers to roles, not {type(roles).__name__} {roles!r}; "
            "e.g. {0: 'rep', 1: 'customer'} or {'speaker_1': 'rep'}"
        )
    for name, role in roles.items():
        if isinstance(name, bool) or not isinstance(name, str | int):
            raise ValueError(
                f"roles keys are speaker labels (str) or channel numbers (int), not {name!r}; "
                "e.g. {0: 'rep', 1: 'customer'} or {'speaker_1': 'rep'}"
            )
        if isinstance(role, Mapping):  # {call_id: {speaker: role}}, the shape with_roles takes
            raise ValueError(
                f"roles[{name!r}] is a map, but roles= is one map applied to every call"
                " ({speaker or channel: role}, e.g. {0: 'rep', 1: 'customer'}); for roles per call use"
                " analyze_calls(...).with_roles({call_id: {speaker: role}})"
            )
        if not isinstance(role, str) or not role:
            raise ValueError(f"roles[{name!r}] must be a non-empty role name such as 'rep', not {role!r}")


def _greeting_speakers(t_code: IntArray, t_text: list[str]) -> set[int]:
    """Speakers whose first turns open the call the way a rep or agent does."""
    return _opening_speakers(t_code, t_text, _GREETING)


def _opening_speakers(t_code: IntArray, t_text: list[str], cue: re.Pattern[str]) -> set[int]:
    """Speakers with ``cue`` in one of their first :data:`_GREETING_TURNS` turns."""
    found: set[int] = set()
    seen: dict[int, int] = {}
    for code, text in zip(t_code.tolist(), t_text, strict=True):
        seen[code] = seen.get(code, 0) + 1
        if seen[code] <= _GREETING_TURNS and cue.search(text):
            found.add(code)
    return found


def _is_question(text: str) -> bool:
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return True
    first = stripped.split(maxsplit=1)
    return bool(first) and first[0].lower().strip(",.!") in _QUESTION_OPENERS
