"""Conversation metrics for many calls at once: talk time, ratios, silence, overtalk, interruptions,
monologues, interactivity, patience, questions, speaking rate and fillers.

Input is the long turns frame of :mod:`hearkit.transcript` (one row per turn, any number of calls;
columns ``call_id``, ``speaker``, ``role``, ``start``, ``end``, ``text``, ``n_words``; only
``call_id``, ``speaker``, ``start`` and ``end`` are required). Everything is computed with numpy
interval arithmetic over all calls together (sorts, cumulative sums, ``searchsorted``,
``bincount``); there is no Python loop over calls or turns.

Definitions (``call duration`` is the ``durations`` value given for the call, else the last turn
end; ``talk time`` of a speaker is the length of the *union* of that speaker's turns, so a
speaker's overlapping or duplicated segments never count twice):

=============================  ===================================================================
``talk_s_<role>``              talk time of the role's speakers (sum over speakers), seconds
``talk_ratio_<role>``          role talk time / total talk time of the call, where total talk time
                               is the sum over speakers (overlap counted for each speaker). The
                               three columns ``rep``, ``customer``, ``other`` always sum to 1 here;
                               the calls frame of :func:`hearkit.record.analyze_calls` holds NaN
                               where the call's quality block says they were not measured
                               (:func:`hearkit.quality.unmeasured_columns`, e.g. ``one_voice``).
``share_of_call_<role>``       role talk time / call duration (can sum above 1 with overtalk)
``speech_s``                   length of the union of everybody's speech
``silence_s``/``silence_share`` call duration − speech_s, and that / call duration (reads
                               high on stereo and low on mono calls: the README's table)
``overtalk_s``/``overtalk_count`` time when two or more speakers talk at once; number of
                               maximal stretches of such time
``overtalk_share``             overtalk_s / call duration
``interruptions_<role>``       turns of the role that start while another speaker is talking
                               (strictly inside the other's speech), overlap it for at least
                               ``min_overlap_s``, and are not backchannels. A *backchannel* is a
                               turn that starts and ends inside another speaker's speech and lasts
                               at most ``backchannel_max_s`` ("mm hmm", "right": Revenue.io's rule).
``longest_monologue_s``        longest stretch of continuous speech by one speaker, seconds (from
                               the stretch's first start to its last end, so the short pauses
                               inside it count). A stretch is a run of that speaker's turns (start
                               order, the speaker's own short turns included) that ends at a turn
                               of another speaker lasting at least ``interjection_max_s`` (shorter
                               ones, "mm hmm", do not break it) or at a pause of the speaker's own
                               of at least ``monologue_gap_s`` (3 s: a hold, typing, reading; the
                               silence is never counted as monologue); at least the speaker's
                               longest single turn.
``longest_monologue_s_rep``    the same, rep speakers only
``longest_story_s_customer``   the same, customer speakers only ("longest customer story")
``switches``                   times the floor passes to another speaker: consecutive non-
                               backchannel turns (start order) by different speakers
``interactivity_per_min``      switches / call duration in minutes
``patience_s``                 mean pause before the rep answers: over rep turns that follow a
                               turn of another speaker (the speaker who ended last before it,
                               backchannels ignored), ``max(0, rep start − that end)``; NaN when
                               the rep never answers anybody
``questions_<role>``           question count, read from the text sentence by sentence (a
                               sentence ends at ``.?!``): one per sentence ending in ``?``; one
                               per sentence ending in ``.``/``!`` that opens as a question (an
                               inverted verb with its subject: "is there", "do you", "could
                               you"; a wh-word with a verb: "what would", "how many", "who
                               else is"; "anything else"; the ASR often writes ``.`` there);
                               in text without an end mark (the hosted API's, or a local turn's
                               unpunctuated tail), one per such opening at its start and per
                               wh-word + verb + subject, "how many", "who else", "is there",
                               "do you", "are you" inside it ("makes sense who else is
                               involved"). Not questions: "what we need is", "can do", "which
                               is why", "did it yesterday", "have a nice day"; the dots of
                               "a.m.", "p.m.", "e.g.", "U.S.", "Dr." end no sentence. Errs
                               low: a question asked by intonation alone and written with
                               ``.`` ("Forty two.") is missed (on the sample calls' stored
                               local results 31 of the
                               scripts' 37 questions, stereo; 28 mono; 26 with the ``?``-only
                               rule this replaced); errs high on a request written as a
                               question ("Could you send it over." counts 1).
``words_<role>``/``wpm_<role>`` words spoken, and words / role talk time in minutes
``fillers_<role>``             filler words: um, uh, uhm, erm, er, ah (not "uh-huh", a
                               backchannel; not the capitals "ER"), and "you know", "i mean"
                               when set off by an end mark or comma after them ("you know, it's
                               fine"; not "do you know the price", "I mean it"; so unpunctuated
                               text counts them only at a turn's end). A lower bound: only
                               the fillers the transcript writes (Whisper often drops them)
``filler_rate_<role>``         fillers per 100 words of the role
=============================  ===================================================================

``<role>`` is ``rep``, ``customer`` or ``other`` (every other role, e.g. ``unknown``). Per-role
columns that cannot be measured because the call has no speaker of that role are NaN (not 0); a
talk ratio is 0 there, so that the ratios still sum to 1, when every speaker of the call has a
role and one of them is the rep or the customer (else ``no_rep_or_customer``, below). When a
speaker who talks has none (``unknown``: no ``role`` column, a one-voice call, a roles map that
leaves a speaker out), the three talk ratios are NaN and the call is flagged ``no_role``: that
talk may be the rep's or the customer's.

Bad input, and what happens (each counted in ``flags``, a comma-separated column):

* ``nan_times``: a turn with a NaN or infinite ``start`` or ``end`` (or one that is no number)
  is dropped. Timedelta columns are read as their total seconds; clock text ("00:05") is a
  ``ValueError`` saying how to convert it (every turn was dropped as no number). In a call of no
  given duration, a turn ending past :data:`MAX_CALL_SECONDS` (24 h) is a ``ValueError``: those
  are milliseconds or clock times, and every metric would be off by that factor (with a
  duration, such turns are clipped to it: ``clipped``).
* ``end_before_start``: ``end < start`` → ``end`` is clipped to ``start`` (zero length).
* ``clipped``: a negative start is clipped to 0; times beyond the given call duration are
  clipped to it.
* ``zero_length``: zero-length turns give no talk time and are ignored by the time-based turn
  metrics (switches, monologues, patience, interruptions); their text still counts.
* ``self_overlap``: overlapping turns of one speaker are merged (union) for talk time.
* ``missing_speaker``: an empty speaker becomes ``channel_<n>`` (when the channel is known) or
  ``speaker_0``. A turn without a role takes its speaker's (the first role the speaker's turns
  give); a speaker whose turns give none is ``unknown`` (see ``no_role``).
* ``single_speaker``: only one speaker talks; interruptions and overtalk are 0.
* ``no_role``: speakers who talk without a role (``unknown``): the talk ratios are NaN (count:
  such speakers).
* ``no_rep_or_customer``: every speaker who talks has a role, but none is ``rep`` or
  ``customer`` (``agent``/``caller``, ``Sales``…): the talk ratios are NaN, since 0 % rep and
  0 % customer would read as fact. Role names are matched ignoring case and surrounding spaces
  (``Rep`` is ``rep``; ``Unknown`` is no role).
* ``no_talk``: no speech at all (an empty result, or only zero-length turns): every ratio is
  NaN and the row is still there (a call without turns: when it is listed in ``calls``).
* A ``durations`` key that is no call of the turns (nor of ``calls``) is a ``ValueError`` naming
  it and the calls there are (a typo'd key made a phantom ``no_talk`` call).
* ``duration_from_turns``: no duration given; the last turn end is used.
* ``no_result`` (set by :func:`hearkit.record.analyze_calls`): a job without a result (failed,
  not finished, offloaded); the row's numbers are not measured and ``job_error`` says why.
* ``no_end_marks``: a call of 20 words or more without a single ``.?!`` (the hosted API's text):
  the question and filler counts rest on the word rules for unpunctuated text (``questions``
  may be low: a question that opens mid-turn without one of its forms is missed).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hearkit.frames import CALL_ID, END, START, check

__all__ = [
    "DATA_FLAG_WORDS",
    "FILLER_PATTERN",
    "MAX_CALL_SECONDS",
    "QUESTION_WORDS",
    "ROLE_FLAGS",
    "ROLE_GROUPS",
    "SCORECARD_COLUMNS",
    "MetricOptions",
    "clean_turns",
    "data_flag_words",
    "is_unroled",
    "replace_flags",
    "role_flags",
    "role_group",
    "scorecards",
    "speaker_stats",
    "talk_time",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
IntArray: TypeAlias = npt.NDArray[np.int64]
BoolArray: TypeAlias = npt.NDArray[np.bool_]

ROLE_GROUPS = ("rep", "customer", "other")
QUESTION_WORDS = (
    "what", "how", "why", "when", "where", "who", "which", "whose", "do", "does", "did", "are", "is",
    "was", "were", "can", "could", "would", "will", "should", "shall", "have", "has", "may", "might",
)  # fmt: skip
FILLER_PATTERN = (
    r"(?i:\b(?:u+m+|u+h+|uhm|erm|ah)\b)|\b(?:er|Er)\b"  # "er" and "Er", not "ER" (the ER team)
    r"|(?i:(?:^|[^\w'])(?:you know|i mean)\s*(?:[,.!?;]|$))"  # set off: "you know, it's fine"
)
"""Filler words, less :data:`_NOT_FILLER_PATTERN`'s matches (RE2 syntax: counted on Arrow's engine)."""
_NOT_FILLER_PATTERN = (
    r"(?i:\bu+h+[-\s]+huh\b)"  # "uh-huh": a backchannel
    r"|(?i:\b(?:do|did|if)\s+(?:you know|i mean)\s*(?:[,.!?;]|$))"  # "do you know?"
)
_LEAD = r"(?:(?:and|so|but|okay|ok|well|then|also|now)\W+)?"
_SUBJECT = (
    r"(?:you|we|they|i|he|she|there|the|a|an|your|our|my|his|her|their|anyone|anybody|someone|somebody"
    r"|everyone|it|that|this)"
)
_DO_SUBJECT = (
    r"(?:you|we|they|i|he|she|the|your|our|my|his|her|their|anyone|anybody|someone|somebody|everyone)"
)
_HAVE_SUBJECT = (
    r"(?:you|we|they|i|he|she|there|the|your|our|my|his|her|their|anyone|anybody|someone|somebody"
    r"|everyone|it|that|this)"
)
"""After "have"/"has" opening a sentence: not "a"/"an" ("Have a nice day." closes a call, not a question)."""
_START_FORMS = (
    rf"(?:(?:is|are|was|were|can|could|would|will|should|shall|may|might)\s+{_SUBJECT}"
    rf"|(?:have|has)\s+{_HAVE_SUBJECT}"
    rf"|(?:do|does|did)\s+{_DO_SUBJECT}|does\s+(?:it|that|this)"  # not "did it": "Did it yesterday." answers
    r"|(?:what|how|who|when|where|why)'s"
    r"|(?:what|how|why|when|where)\s+(?:else\s+)?(?:is|are|was|were|do|does|did|can|could|would|will"
    r"|should|has|have|many|much|long|about|if|kind|sort|time|happens|happened)"
    r"|which\s+(?:one|of|do|does|did|can|could|would|will|should)"  # not "which is why"
    r"|(?:who|whose)\s+(?:else\s+)?(?:is|are|was|were|do|does|did|can|could|would|will|should|has|have"
    r"|needs|wants)"
    r"|anything\s+else)\b"
)
"""How a question opens (at the start of a sentence): an inverted verb with its subject, a wh-word
with a verb, "how many", "anything else". Not "what we need is", "can do", "which is why"."""
_MID_FORMS = (
    rf"(?:(?:what|how|why|when|where|which|who)\s+(?:else\s+)?(?:do|does|did|can|could|would|will|should)"
    rf"\s+{_SUBJECT}"
    r"|how\s+(?:many|much|long)|who\s+else|(?:is|are)\s+there|(?:do|can|could|would|will|should)\s+(?:you|we|they)"
    r"|(?:are|were)\s+you|(?:have|has)\s+(?:you|we|they)|anything\s+else"
    r"|(?:what|how|who|when|where|why)(?:'s|\s+is|\s+are)\s+(?:the|your|our|a|an|it|that|this|going|up|wrong"
    r"|happening|best|easiest|next))\b"
)
"""Question forms that start a question inside unpunctuated text ("makes sense who else is involved")."""
_QUESTION_START_PATTERN = rf"(?i)^\W*{_LEAD}{_START_FORMS}"
"""A sentence that opens as a question (for sentences the ASR closed with ``.`` or ``!``)."""
_ONSET_FOLLOW = r"(?:\W+\w+){0,2}"  # an onset takes up to 2 more words: "how do you" is one
_ONSETS = rf"{_LEAD}{_START_FORMS}|\b{_MID_FORMS}){_ONSET_FOLLOW}"
_QUESTION_ONSET_PATTERN = rf"(?i)(?:^\W*{_ONSETS}"
"""Question onsets in text without end marks (unpunctuated ASR text)."""
_ARROW_ONSET_PATTERN = rf"(?i)(?:\x01\W*{_ONSETS}"
"""The same for Arrow's count, where ``^`` matches again after each match: \x01 marks the start."""
_ABBREVIATIONS = (
    (r"(?i)\b([ap])\.\s?m\.", r"\1m"),  # 8 a.m. / 3 p.m. (faster-whisper writes times so)
    (r"(?i)\b(e)\.g\.|\b(i)\.e\.", r"\1\2"),
    (r"\bU\.S\.", "US"),
    (r"\b(Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs)\.", r"\1"),
)
"""Dots that end no sentence, taken out before sentences are read for questions (RE2 syntax): "Would
you prefer 8 a.m. or 3 p.m.?" was a question closed at "a." plus the one ending in "?" (2)."""
_ABBREVIATION_HINT = r"\b(?:[A-Za-z]|Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|vs)\."
"""The turns that may hold one of :data:`_ABBREVIATIONS` (a one-letter word or a title before a dot)."""
_ASKED_PATTERN = r"[.!]*\?[.?!]*"
"""The end marks of a sentence ending in ``?`` (one per run: ``?!`` is one question)."""
_MAYBE_CLOSED_QUESTION = (
    rf"(?i)(?:^|[.?!])\W*{_LEAD}(?:what|how|why|when|where|who|whose|which|is|are|was|were|do|does|did|can"
    r"|could|would|will|should|shall|may|might|have|has|anything)\W[^.?!]*[.!]"
)
"""A quick superset of the next pattern (no word boundaries: a fast automaton) to pick its turns."""
_CLOSED_QUESTION_PATTERN = rf"(?i)(?:^|(?<=[.?!])){_QUESTION_START_PATTERN.removeprefix('(?i)^')}[^.?!]*[.!]"
"""A sentence closed with ``.``/``!`` that opens as a question."""


@dataclass(frozen=True)
class MetricOptions:
    """Thresholds of the metric definitions (seconds); see the module docstring."""

    min_overlap_s: float = 0.3
    backchannel_max_s: float = 1.5
    interjection_max_s: float = 1.0
    monologue_gap_s: float = 3.0

    def __post_init__(self) -> None:
        for name in ("min_overlap_s", "backchannel_max_s", "interjection_max_s", "monologue_gap_s"):
            value = getattr(self, name)
            if not np.isfinite(value) or value < 0:
                raise ValueError(f"MetricOptions.{name} must be a finite number ≥ 0, not {value!r}")


DATA_FLAG_WORDS: dict[str, str] = {
    "nan_times": "turns without times (missing or infinite), dropped",
    "end_before_start": "turns ending before they start, clipped",
    "clipped": "times outside the call, clipped",
    "zero_length": "turns of no length: no talk time, left out of the timing metrics",
    "self_overlap": "a speaker's overlapping turns, counted once",
    "missing_speaker": "turns without a speaker",
    "single_speaker": "one speaker only: no interruptions or overtalk",
    "no_talk": "no speech: every ratio is not measured",
    "no_role": "speakers without a role: talk ratios not measured; set the roles"
    " (analyze_calls(roles=...), or hearkit remap OUT --call ID --rep SPEAKER)",
    "no_rep_or_customer": "no speaker is the rep or the customer: talk ratios not measured; name them"
    " rep and customer (analyze_calls(roles=...), or hearkit remap OUT --call ID --rep SPEAKER)",
    "duration_from_turns": "call length taken from the last turn",
    "no_result": "no transcript: the job failed, is not finished, or its result is not inline (job_error"
    " says which); nothing measured",
    "no_end_marks": "a transcript without punctuation: questions counted from question words (may be low),"
    " 'you know'/'i mean' fillers only at turn ends",
}
"""Plain words for each data flag of the ``flags`` column (see the module text), for readers."""
_FLAG_NAMES = tuple(DATA_FLAG_WORDS)
_NO_END_MARKS_MIN_WORDS = 20
"""A call of at least this many words with no ``.?!`` anywhere is flagged ``no_end_marks``."""
_NO_ROLE = frozenset({"unknown", "", "nan", "none", "<na>"})
"""Role values (stripped, lower case) that say a speaker has no role (a missing one becomes ``unknown``)."""
MAX_CALL_SECONDS = 24 * 3600.0
"""Turn times past this (24 h) are refused: they are milliseconds (of any call over 86 s) or clock
times, not seconds into a call."""
ROLE_FLAGS = ("no_role", "no_rep_or_customer")
"""The data flags that depend on the speakers' roles (what a re-label recomputes)."""


def role_group(role: str) -> int:
    """The index in :data:`ROLE_GROUPS` of a role: ``rep`` 0, ``customer`` 1, any other 2 (case and
    surrounding spaces ignored)."""
    name = role.strip().lower()
    return ROLE_GROUPS.index(name) if name in ("rep", "customer") else 2


def is_unroled(role: str) -> bool:
    """Whether a role value says the speaker has none (``unknown``, blank, NaN; case ignored)."""
    return role.strip().lower() in _NO_ROLE


def role_flags(
    spk_call: IntArray, spk_role: Sequence[str], talk: FloatArray, n_calls: int
) -> dict[str, IntArray]:
    """The role flags of each call, from its speakers (``spk_call`` their call codes, ``spk_role``
    their roles, ``talk`` their talk seconds): ``no_role`` counts the speakers who talk without a
    role; ``no_rep_or_customer`` is 1 for a call with talk where every talking speaker has a role
    and none is the rep or the customer. Either makes the call's talk ratios NaN."""
    talking = np.asarray(talk, dtype=np.float64) > 0
    unroled = np.array([is_unroled(r) for r in spk_role], dtype=bool)
    ours = np.array([role_group(r) < 2 for r in spk_role], dtype=bool)
    no_role = np.bincount(spk_call[unroled & talking], minlength=n_calls).astype(np.int64)
    has_talk = np.bincount(spk_call[talking], minlength=n_calls) > 0
    has_ours = np.bincount(spk_call[ours & talking], minlength=n_calls) > 0
    none_ours = (has_talk & ~has_ours & (no_role == 0)).astype(np.int64)
    return {"no_role": no_role, "no_rep_or_customer": none_ours}


def replace_flags(flags: object, counts: Mapping[str, int]) -> str:
    """A ``flags`` cell with the flags named in ``counts`` set (count > 0) or removed (0), in the
    column's order; other flags are kept as they were."""
    codes = [c.strip() for c in flags.split(",") if c.strip()] if isinstance(flags, str) else []
    kept = {c for c in codes if c not in counts} | {name for name, n in counts.items() if n > 0}
    known = [name for name in _FLAG_NAMES if name in kept]
    return ",".join(known + [c for c in codes if c in kept and c not in _FLAG_NAMES])


def data_flag_words(flags: object) -> str:
    """``zero_length (turns of no length: …); single_speaker (…)`` for a ``flags`` cell; ``""`` for none."""
    if not isinstance(flags, str) or not flags.strip():
        return ""
    codes = [code.strip() for code in flags.split(",") if code.strip()]
    return "; ".join(
        f"{code} ({DATA_FLAG_WORDS[code]})" if code in DATA_FLAG_WORDS else code for code in codes
    )


SCORECARD_COLUMNS = (
    CALL_ID,
    "duration_s",
    "n_speakers",
    "n_turns",
    "speech_s",
    "talk_s_total",
    *(f"talk_s_{r}" for r in ROLE_GROUPS),
    *(f"talk_ratio_{r}" for r in ROLE_GROUPS),
    *(f"share_of_call_{r}" for r in ROLE_GROUPS),
    "silence_s",
    "silence_share",
    "overtalk_s",
    "overtalk_count",
    "overtalk_share",
    *(f"interruptions_{r}" for r in ROLE_GROUPS),
    "interruptions_total",
    "longest_monologue_s",
    "longest_monologue_s_rep",
    "longest_story_s_customer",
    "switches",
    "interactivity_per_min",
    "patience_s",
    *(f"questions_{r}" for r in ROLE_GROUPS),
    *(f"words_{r}" for r in ROLE_GROUPS),
    *(f"wpm_{r}" for r in ROLE_GROUPS),
    *(f"fillers_{r}" for r in ROLE_GROUPS),
    *(f"filler_rate_{r}" for r in ROLE_GROUPS),
    "flags",
)


@dataclass
class _Prepared:
    """Turns as numpy arrays with integer codes, plus per-call bookkeeping."""

    call_ids: list[str]
    duration: FloatArray  # per call
    flag_counts: dict[str, IntArray]  # per call
    call: IntArray  # per turn
    spk: IntArray  # per turn, global speaker code (contiguous within a call)
    start: FloatArray
    end: FloatArray
    text: pd.Series  # type: ignore[type-arg]
    n_words: FloatArray
    spk_call: IntArray  # per speaker
    spk_name: list[str]
    spk_role: list[str]
    spk_group: IntArray  # 0 rep, 1 customer, 2 other


def clean_turns(
    turns: pd.DataFrame,
    durations: Mapping[str, float] | pd.Series | None = None,
    *,
    calls: Iterable[str] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cleaned turns (times clipped, bad rows dropped) and a per-call frame of flag counts.

    The returned turns have columns ``call_id, speaker, role, start, end, text, n_words``; the
    flags frame has one row per call and one integer column per flag (see the module docstring).
    ``durations`` and ``calls``: as in :func:`scorecards`.
    """
    prep = _prepare(turns, durations, calls)
    frame = pd.DataFrame(
        {
            CALL_ID: pd.array([prep.call_ids[c] for c in prep.call], dtype="str"),
            "speaker": pd.array([prep.spk_name[s] for s in prep.spk], dtype="str"),
            "role": pd.array([prep.spk_role[s] for s in prep.spk], dtype="str"),
            "start": prep.start,
            "end": prep.end,
            "text": prep.text.to_numpy(),
            "n_words": prep.n_words,
        }
    )
    flags = pd.DataFrame({CALL_ID: prep.call_ids, **prep.flag_counts})
    return frame, flags


def speaker_stats(
    turns: pd.DataFrame,
    words: pd.DataFrame | None = None,
    *,
    durations: Mapping[str, float] | pd.Series | None = None,
    calls: Iterable[str] | None = None,
    options: MetricOptions | None = None,
) -> pd.DataFrame:
    """One row per (call, speaker): the per-speaker values behind :func:`scorecards`.

    Columns: ``call_id, speaker, role, n_turns, talk_s, talk_ratio`` (talk_s / summed talk time of
    the call), ``share_of_call`` (talk_s / call duration), ``words, wpm`` (words / talk_s in
    minutes), ``questions, fillers, filler_rate`` (per 100 words), ``interruptions, backchannels,
    longest_monologue_s, n_responses, response_pause_s`` (mean pause before this speaker answers
    another). ``words`` (the words frame), when given, supplies the word counts. ``durations``
    and ``calls``: as in :func:`scorecards`.
    """
    prep = _prepare(turns, durations, calls)
    per_spk, _ = _compute(prep, words, options or MetricOptions())
    return per_spk


def talk_time(
    turns: pd.DataFrame,
    *,
    durations: Mapping[str, float] | pd.Series | None = None,
    calls: Iterable[str] | None = None,
) -> pd.DataFrame:
    """Talk time alone, one row per (call, speaker): ``call_id, speaker, role, talk_s`` (union of
    the speaker's turns, seconds) and ``talk_ratio`` (talk_s / summed talk time of the call; NaN
    when the call has no talk). The cheap part of :func:`speaker_stats`."""
    prep = _prepare(turns, durations, calls)
    n_calls, n_spk = len(prep.call_ids), len(prep.spk_name)
    offset = float(np.max(prep.end, initial=0.0)) + 1.0
    ivs = _merge_per_speaker(prep.spk, prep.start, prep.end, offset)
    talk = _sum_by(ivs.spk, ivs.end - ivs.start, minlength=n_spk)
    total = _sum_by(prep.spk_call, talk, minlength=n_calls)[prep.spk_call]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(total > 0, talk / total, np.nan)
    return pd.DataFrame(
        {
            CALL_ID: pd.array([prep.call_ids[c] for c in prep.spk_call], dtype="str"),
            "speaker": pd.array(prep.spk_name, dtype="str"),
            "role": pd.array(prep.spk_role, dtype="str"),
            "talk_s": talk,
            "talk_ratio": ratio,
        }
    )


def scorecards(
    turns: pd.DataFrame,
    words: pd.DataFrame | None = None,
    *,
    durations: Mapping[str, float] | pd.Series | None = None,
    calls: Iterable[str] | None = None,
    options: MetricOptions | None = None,
    min_overlap_s: float | None = None,
    backchannel_max_s: float | None = None,
    interjection_max_s: float | None = None,
    monologue_gap_s: float | None = None,
) -> pd.DataFrame:
    """One scorecard row per call (columns :data:`SCORECARD_COLUMNS`, defined in the module docstring).

    ``durations`` maps ``call_id`` to the call duration in seconds (e.g. the result's
    ``audio_seconds``); each key must be a call of ``turns`` or of ``calls``, else ``ValueError``
    names it and the known calls (a typo'd key made a phantom silent call). ``calls``: calls to
    score besides those of ``turns``; one without turns (an empty result) gets a row flagged
    ``no_talk``.
    ``words`` (the words frame), when given, supplies word counts instead of ``turns.n_words``.
    The threshold keywords override ``options``.
    """
    opts = options or MetricOptions()
    overrides = {
        k: v
        for k, v in {
            "min_overlap_s": min_overlap_s,
            "backchannel_max_s": backchannel_max_s,
            "interjection_max_s": interjection_max_s,
            "monologue_gap_s": monologue_gap_s,
        }.items()
        if v is not None
    }
    if overrides:
        opts = MetricOptions(**{**opts.__dict__, **overrides})
    prep = _prepare(turns, durations, calls)
    _, per_call = _compute(prep, words, opts)
    return per_call


# ---------------------------------------------------------------------------------------------
# Preparation


def _prepare(
    turns: pd.DataFrame,
    durations: Mapping[str, float] | pd.Series | None,
    calls: Iterable[str] | None = None,
) -> _Prepared:
    check(turns, "turns", [CALL_ID, START, END])
    n = len(turns)
    if turns[CALL_ID].isna().any():
        raise ValueError("turns has rows without call_id; fill call_id before computing metrics")
    call_id = turns[CALL_ID].astype("str")
    start = _seconds(turns["start"], "start")
    end = _seconds(turns["end"], "end")
    speaker = _speaker_column(turns)
    missing_speaker = speaker.isna().to_numpy()
    if missing_speaker.any():
        speaker = speaker.fillna(_fallback_speakers(turns))
    role = (
        turns["role"].astype("str").fillna("unknown")
        if "role" in turns.columns
        else pd.Series(["unknown"] * n, index=turns.index, dtype="str")
    )
    text = (
        turns["text"].astype("str").fillna("")
        if "text" in turns.columns
        else pd.Series([""] * n, index=turns.index, dtype="str")
    )

    given = _durations_series(durations)
    codes, uniques = pd.factorize(call_id)
    seen = set(uniques)
    listed = [] if calls is None else list(dict.fromkeys(_call_names(calls)))
    _check_duration_keys(given, seen, listed)
    extra = [c for c in listed if c not in seen]
    names = np.array([*map(str, uniques), *extra], dtype=object)
    rank = np.argsort(names, kind="stable")  # call codes in call_id order
    position = np.empty(len(names), dtype=np.int64)
    position[rank] = np.arange(len(names))
    all_ids = pd.Index(names[rank], dtype="str")
    call = position[codes].astype(np.int64)
    n_calls = len(all_ids)

    flag = {name: np.zeros(n_calls, dtype=np.int64) for name in _FLAG_NAMES}

    def count(name: str, mask: BoolArray) -> None:
        flag[name] += np.bincount(call[mask], minlength=n_calls)

    count("missing_speaker", missing_speaker)
    bad = ~(np.isfinite(start) & np.isfinite(end))  # NaN, infinite, or no number at all
    count("nan_times", bad)
    keep = ~bad
    call, start, end = call[keep], start[keep], end[keep]
    speaker, role, text = speaker[keep], role[keep], text[keep]
    n_words = _word_counts(turns, text, keep)

    count("clipped", start < 0)
    start = np.maximum(start, 0.0)
    reversed_ = end < start
    count("end_before_start", reversed_)
    end = np.where(reversed_, start, end)

    last_end = np.full(n_calls, np.nan)
    if len(end):
        last_end = np.fmax(last_end, _group_max(call, end, n_calls))
    duration = given.reindex(all_ids).to_numpy(dtype=np.float64, na_value=np.nan)
    from_turns = np.isnan(duration)
    _check_plausible_times(np.where(from_turns, last_end, np.nan), all_ids)
    flag["duration_from_turns"] = from_turns.astype(np.int64)
    duration = np.where(from_turns, np.fmax(last_end, 0.0), duration)
    duration = np.where(np.isnan(duration), 0.0, duration)
    beyond = end > duration[call]
    count("clipped", beyond)
    end = np.minimum(end, duration[call])
    start = np.minimum(start, end)
    count("zero_length", end <= start)

    spk_call, spk_code, spk_name = _speaker_codes(call, speaker)
    # A speaker's role is the first role its turns give: a turn without one takes its speaker's.
    has_role = ~role.str.strip().str.lower().isin(_NO_ROLE).to_numpy(dtype=bool, na_value=False)
    spk_role = [_canonical(r) for r in _first_per_group(spk_code[has_role], role[has_role], len(spk_name))]
    group = np.array([role_group(r) for r in spk_role], dtype=np.int64)
    return _Prepared(
        call_ids=[str(c) for c in all_ids],
        duration=duration,
        flag_counts=flag,
        call=call,
        spk=spk_code,
        start=start,
        end=end,
        text=text.reset_index(drop=True),
        n_words=n_words,
        spk_call=spk_call,
        spk_name=spk_name,
        spk_role=spk_role,
        spk_group=group,
    )


_CLOCK_TEXT = r"^\s*\d{1,3}:\d{2}(?::\d{2})?(?:\.\d+)?\s*$"


def _seconds(column: pd.Series, name: str) -> FloatArray:  # type: ignore[type-arg]
    """A time column as float seconds: numbers (or numeric text) as they are, Timedeltas by their
    total seconds; clock text ("00:05", "1:02:03") is refused with the conversion to make (it was
    dropped as no number: an empty ``no_talk`` call)."""
    if pd.api.types.is_timedelta64_dtype(column):
        return np.asarray(column.dt.total_seconds(), dtype=np.float64)
    if not pd.api.types.is_numeric_dtype(column):
        text = column[column.notna()].astype("str")
        clock = text[text.str.match(_CLOCK_TEXT)]
        if len(clock):
            raise ValueError(
                f"turns '{name}' holds clock text such as {clock.iloc[0]!r}, not seconds: convert it first,"
                f" e.g. turns['{name}'] = pd.to_timedelta(turns['{name}'].where("
                f"turns['{name}'].str.count(':') == 2, '00:' + turns['{name}'])).dt.total_seconds()"
            )
    return pd.to_numeric(column, errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def _speaker_column(turns: pd.DataFrame) -> pd.Series:  # type: ignore[type-arg]
    if "speaker" not in turns.columns:
        return pd.Series([None] * len(turns), index=turns.index, dtype="str")
    speaker = turns["speaker"].astype("str")
    return speaker.mask(speaker == "")


def _fallback_speakers(turns: pd.DataFrame) -> pd.Series:  # type: ignore[type-arg]
    if "channel" in turns.columns:
        channel = pd.to_numeric(turns["channel"], errors="coerce")
        named = "channel_" + channel.astype("Int64").astype("str")
        return named.where(channel.notna(), "speaker_0").astype("str")
    return pd.Series(["speaker_0"] * len(turns), index=turns.index, dtype="str")


def _durations_series(durations: Mapping[str, float] | pd.Series | None) -> pd.Series:  # type: ignore[type-arg]
    if durations is None:
        return pd.Series([], dtype=np.float64, index=pd.Index([], dtype="str"))
    given = durations if isinstance(durations, pd.Series) else pd.Series(dict(durations), dtype=object)
    series = pd.to_numeric(given, errors="coerce").astype(np.float64)
    series.index = series.index.astype("str")
    wrong = {
        "no number": series.isna().to_numpy() & given.notna().to_numpy(),  # NaN/None: not known, from turns
        "infinite": np.isinf(series.to_numpy()),
        "negative": series.to_numpy() < 0,
    }
    for what, mask in wrong.items():
        if mask.any():
            shown = ", ".join(
                f"{k!r}: {v!r}" for k, v in list(zip(series.index[mask], given[mask], strict=True))[:3]
            )
            raise ValueError(
                f"durations must be call lengths in seconds (≥ 0, finite; NaN or None for not known); "
                f"{what}: {shown}"
            )
    return series


def _check_plausible_times(last_end: FloatArray, call_ids: pd.Index) -> None:  # type: ignore[type-arg]
    """Turn times are seconds from the start of the call: in a call whose length comes from its
    turns, a turn ending after :data:`MAX_CALL_SECONDS` is milliseconds, or clock times (epoch
    seconds), and every metric would be off by that factor without a sign (a call of 40 days, 0.1
    words a minute). A call of known length clips such turns to it instead (flag ``clipped``)."""
    too_late = np.flatnonzero(last_end > MAX_CALL_SECONDS)
    if len(too_late):
        first = int(too_late[0])
        raise ValueError(
            f"turn times run to {last_end[first]:.6g} s ({last_end[first] / 86400:.1f} days) in call "
            f"{call_ids[first]!r} ({len(too_late)} call(s) past {MAX_CALL_SECONDS / 3600:.0f} h): start and "
            "end are seconds from the start of the call; milliseconds divide by 1000, clock times subtract "
            "the call's start"
        )


def _call_names(calls: Iterable[str]) -> list[str]:
    if isinstance(calls, str):
        raise TypeError(f"calls is a list of call ids, not one string ({calls!r}): pass [{calls!r}]")
    return [str(c) for c in calls]


def _check_duration_keys(given: pd.Series, seen: set[str], listed: list[str]) -> None:  # type: ignore[type-arg]
    """A ``durations`` key that names no call (of the turns or of ``calls``) is an error: it
    would have made a row of a call that does not exist, flagged ``no_talk``."""
    known = seen.union(listed)
    unknown = [str(c) for c in given.index if c not in known]
    if not unknown:
        return
    shown = sorted(known)
    valid = ", ".join(repr(c) for c in shown[:10]) + (f" … ({len(shown)} in all)" if len(shown) > 10 else "")
    raise ValueError(
        f"durations names {len(unknown)} call(s) that turns does not have: "
        f"{', '.join(repr(c) for c in unknown[:10])}{' …' if len(unknown) > 10 else ''}. "
        f"The calls are: {valid or 'none (turns is empty)'}. Fix the call id, or pass "
        "calls=[...] to score a call that has no turns (an empty result) as a no_talk row"
    )


def _word_counts(turns: pd.DataFrame, text: pd.Series, keep: BoolArray) -> FloatArray:  # type: ignore[type-arg]
    if "n_words" in turns.columns:
        counts = pd.to_numeric(turns["n_words"], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
        counts = counts[keep]
        if not np.isnan(counts).any():
            return counts
    counted: FloatArray = np.asarray(text.str.count(r"\S+").fillna(0), dtype=np.float64)
    return counted


def _speaker_codes(call: IntArray, speaker: pd.Series) -> tuple[IntArray, IntArray, list[str]]:  # type: ignore[type-arg]
    """Global speaker codes, sorted by (call, name), so one call's speakers are contiguous."""
    raw_code, raw_names = pd.factorize(speaker)
    order = np.argsort(np.asarray(raw_names, dtype=str), kind="stable")
    names = np.asarray(raw_names, dtype=str)[order]
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    name_code = rank[raw_code] if len(raw_code) else np.zeros(0, dtype=np.int64)
    pair = call * max(len(names), 1) + name_code
    uniq, code = np.unique(pair, return_inverse=True)
    spk_call = (uniq // max(len(names), 1)).astype(np.int64)
    spk_name = [str(names[i]) for i in uniq % max(len(names), 1)]
    return spk_call, code.astype(np.int64), spk_name


def _canonical(role: str) -> str:
    """``role`` stripped, the metric roles in lower case ("Rep" is ``rep``; as
    :func:`hearkit.transcript.canonical_role`, which the roles maps go through)."""
    stripped = role.strip()
    return stripped.lower() if stripped.lower() in ROLE_GROUPS else stripped


def _first_per_group(code: IntArray, values: pd.Series, n_groups: int) -> list[str]:  # type: ignore[type-arg]
    """The value at each group's first row (a speaker's role), via integer codes; ``unknown`` for
    a group without rows."""
    if n_groups == 0:
        return []
    value_code, uniques = pd.factorize(values)
    first_row = np.full(n_groups, len(code), dtype=np.int64)
    np.minimum.at(first_row, code, np.arange(len(code), dtype=np.int64))
    names = [str(u) for u in uniques]
    return [names[value_code[r]] if r < len(code) and value_code[r] >= 0 else "unknown" for r in first_row]


def _sum_by(group: IntArray, weights: npt.NDArray[Any], minlength: int) -> FloatArray:
    """Sum of ``weights`` per integer ``group`` (0..minlength-1), as float64."""
    return np.bincount(group, weights=weights, minlength=minlength).astype(np.float64)


def _group_max(group: IntArray, values: FloatArray, n_groups: int) -> FloatArray:
    out = np.full(n_groups, -np.inf)
    np.maximum.at(out, group, values)
    return np.where(np.isinf(out), np.nan, out)


# ---------------------------------------------------------------------------------------------
# Interval arithmetic


@dataclass
class _Intervals:
    """Per-speaker union of turns: non-overlapping intervals sorted by (speaker, start)."""

    start: FloatArray
    end: FloatArray
    spk: IntArray


def _merge_per_speaker(spk: IntArray, start: FloatArray, end: FloatArray, offset: float) -> _Intervals:
    order = np.argsort(spk * offset + start, kind="stable")
    s, e, k = start[order], end[order], spk[order]
    if len(s) == 0:
        return _Intervals(s, e, k)
    # Running max of end within each speaker: an offset per speaker keeps groups apart.
    running = np.maximum.accumulate(e + k * offset) - k * offset
    new = np.ones(len(s), dtype=bool)
    new[1:] = (k[1:] != k[:-1]) | (s[1:] > running[:-1])
    first = np.flatnonzero(new)
    return _Intervals(s[first], np.maximum.reduceat(e, first), k[first])


def _sweep(
    ivs: _Intervals, ivs_call: IntArray, n_calls: int, offset: float
) -> tuple[FloatArray, FloatArray, IntArray]:
    """Union length, time with ≥ 2 speakers, and the number of such stretches, per call."""
    times = np.concatenate([ivs.end, ivs.start])
    delta = np.concatenate([-np.ones(len(ivs.end), np.int64), np.ones(len(ivs.start), np.int64)])
    calls = np.concatenate([ivs_call, ivs_call])
    # One sort key; the stable sort keeps ends (listed first) before starts at equal times.
    order = np.argsort(calls * offset + times, kind="stable")
    t, c, k = times[order], np.cumsum(delta[order]), calls[order]
    d = np.zeros(len(t))
    if len(t) > 1:
        d[:-1] = np.where(k[1:] == k[:-1], t[1:] - t[:-1], 0.0)
    union = _sum_by(k, d * (c >= 1), minlength=n_calls)
    overlap = _sum_by(k, d * (c >= 2), minlength=n_calls)
    pos = d > 0
    multi, kk = (c >= 2)[pos], k[pos]
    begins = multi.copy()
    begins[1:] &= ~(multi[:-1] & (kk[1:] == kk[:-1]))
    episodes = np.bincount(kk[begins], minlength=n_calls).astype(np.int64)
    return union, overlap, episodes


def _other_speech_end(
    prep: _Prepared, idx: IntArray, ivs: _Intervals, spk_first: IntArray, spk_count: IntArray, offset: float
) -> FloatArray:
    """For turns ``idx``: the latest end of another speaker's speech that strictly contains the
    turn's start (−inf when nobody else is talking at that moment)."""
    call, spk, start = prep.call[idx], prep.spk[idx], prep.start[idx]
    reps = spk_count[call]
    row = np.repeat(np.arange(len(idx)), reps)
    within = np.arange(len(row)) - np.repeat(np.cumsum(reps) - reps, reps)
    other = spk_first[call[row]] + within
    mine = other != spk[row]
    row, other = row[mine], other[mine]
    interval_key = ivs.spk * offset + ivs.start
    query_key = other * offset + start[row]
    pos = np.searchsorted(interval_key, query_key, side="left") - 1  # interval start < turn start
    ok = pos >= 0
    pos_ok = np.where(ok, pos, 0)
    ok &= (ivs.spk[pos_ok] == other) & (ivs.end[pos_ok] > start[row])
    out = np.full(len(idx), -np.inf)
    np.maximum.at(out, row[ok], ivs.end[pos_ok[ok]])
    return out


# ---------------------------------------------------------------------------------------------
# The metrics


def _compute(
    prep: _Prepared, words: pd.DataFrame | None, opts: MetricOptions
) -> tuple[pd.DataFrame, pd.DataFrame]:
    n_calls, n_spk = len(prep.call_ids), len(prep.spk_name)
    offset = float(np.max(prep.end, initial=0.0)) + 1.0
    spk_call, group = prep.spk_call, prep.spk_group
    spk_first = np.searchsorted(spk_call, np.arange(n_calls)).astype(np.int64)
    spk_count = np.bincount(spk_call, minlength=n_calls).astype(np.int64)

    # Talk time: union of each speaker's turns.
    ivs = _merge_per_speaker(prep.spk, prep.start, prep.end, offset)
    talk = _sum_by(ivs.spk, ivs.end - ivs.start, minlength=n_spk)
    raw_talk = _sum_by(prep.spk, prep.end - prep.start, minlength=n_spk)
    self_overlap = _sum_by(spk_call, raw_talk - talk, minlength=n_calls)
    union, overtalk, episodes = _sweep(ivs, spk_call[ivs.spk], n_calls, offset)
    total_talk = _sum_by(spk_call, talk, minlength=n_calls)

    # Turn-level time metrics on timed turns (positive length), in (call, start) order.
    timed = np.flatnonzero(prep.end > prep.start)
    # Ties on start go by end, then speaker: the result never depends on the input row order.
    timed = timed[
        np.lexsort((prep.spk[timed], prep.end[timed], prep.call[timed] * offset + prep.start[timed]))
    ]
    t_call, t_spk = prep.call[timed], prep.spk[timed]
    t_start, t_end = prep.start[timed], prep.end[timed]
    t_dur = t_end - t_start
    other_end = _other_speech_end(prep, timed, ivs, spk_first, spk_count, offset)
    covered = other_end > t_start
    backchannel = covered & (t_end <= other_end) & (t_dur <= opts.backchannel_max_s)
    interrupt = covered & ~backchannel & ((np.minimum(other_end, t_end) - t_start) >= opts.min_overlap_s)

    floor = ~backchannel
    f_call, f_spk, f_start, f_end = t_call[floor], t_spk[floor], t_start[floor], t_end[floor]
    same_call = np.zeros(len(f_call), dtype=bool)
    same_call[1:] = f_call[1:] == f_call[:-1]
    switch = np.zeros(len(f_call), dtype=bool)
    switch[1:] = same_call[1:] & (f_spk[1:] != f_spk[:-1])
    switches = np.bincount(f_call[switch], minlength=n_calls).astype(np.int64)

    # Patience: who ended last before each floor turn, and when.
    if len(f_call):
        keyed_end = f_end + f_call * offset
        running = np.maximum.accumulate(keyed_end)
        sets_max = np.ones(len(f_call), dtype=bool)
        sets_max[1:] = keyed_end[1:] >= running[:-1]
        owner = np.maximum.accumulate(np.where(sets_max, np.arange(len(f_call)), 0))
        prev_owner = np.concatenate([[0], owner[:-1]])
        floor_end = np.concatenate([[0.0], running[:-1]]) - f_call * offset
        owner_spk = f_spk[prev_owner]
        response = same_call & (owner_spk != f_spk)
        pause = np.maximum(f_start - floor_end, 0.0)
    else:
        response, pause, owner_spk = np.zeros(0, dtype=bool), np.zeros(0), np.zeros(0, dtype=np.int64)
    n_resp = np.bincount(f_spk[response], minlength=n_spk).astype(np.float64)
    pause_sum = _sum_by(f_spk[response], pause[response], minlength=n_spk)

    monologue = _longest_monologue(t_spk, t_start, t_end, n_spk, opts, offset)

    # Text metrics.
    text = prep.text
    questions_turn = _question_counts(text)
    marked = text.str.contains(r"[.?!]", regex=True).to_numpy(dtype=bool, na_value=False)
    call_words = _sum_by(prep.call, prep.n_words, minlength=n_calls)
    unmarked = (_sum_by(prep.call, marked.astype(np.float64), minlength=n_calls) == 0) & (
        call_words >= _NO_END_MARKS_MIN_WORDS
    )
    fillers_turn = _filler_counts(text)
    questions = _sum_by(prep.spk, questions_turn, minlength=n_spk)
    fillers = _sum_by(prep.spk, fillers_turn, minlength=n_spk)
    n_words = _speaker_words(prep, words, n_spk)

    n_turns = np.bincount(prep.spk, minlength=n_spk).astype(np.int64)
    interruptions = np.bincount(t_spk[interrupt], minlength=n_spk).astype(np.int64)
    backchannels = np.bincount(t_spk[backchannel], minlength=n_spk).astype(np.int64)

    with np.errstate(divide="ignore", invalid="ignore"):
        talk_ratio = np.where(total_talk[spk_call] > 0, talk / total_talk[spk_call], np.nan)
        dur_spk = prep.duration[spk_call]
        share = np.where(dur_spk > 0, talk / dur_spk, np.nan)
        wpm = np.where(talk > 0, n_words / (talk / 60.0), np.nan)
        filler_rate = np.where(n_words > 0, 100.0 * fillers / n_words, np.nan)
        response_pause = np.where(n_resp > 0, pause_sum / n_resp, np.nan)

    per_spk = pd.DataFrame(
        {
            CALL_ID: pd.array([prep.call_ids[c] for c in spk_call], dtype="str"),
            "speaker": pd.array(prep.spk_name, dtype="str"),
            "role": pd.array(prep.spk_role, dtype="str"),
            "n_turns": n_turns,
            "talk_s": talk,
            "talk_ratio": talk_ratio,
            "share_of_call": share,
            "words": n_words,
            "wpm": wpm,
            "questions": questions,
            "fillers": fillers,
            "filler_rate": filler_rate,
            "interruptions": interruptions,
            "backchannels": backchannels,
            "longest_monologue_s": monologue,
            "n_responses": n_resp.astype(np.int64),
            "response_pause_s": response_pause,
        }
    )

    # Per call and role group.
    cg = spk_call * 3 + group
    present = np.bincount(cg, minlength=n_calls * 3).reshape(n_calls, 3) > 0

    def by_group(values: FloatArray) -> FloatArray:
        return _sum_by(cg, values, minlength=n_calls * 3).reshape(n_calls, 3)

    def max_by_group(values: FloatArray) -> FloatArray:
        out = np.full(n_calls * 3, np.nan)
        if len(values):
            out = np.fmax(out, _group_max(cg, values, n_calls * 3))
        return out.reshape(n_calls, 3)

    no_talk = total_talk <= 0
    # Talk of speakers without a role may be the rep's or the customer's, and a call where no one
    # is either has no rep or customer share: no role's share of the talk is known (0 % for the
    # rep read as a fact before).
    roles = role_flags(spk_call, prep.spk_role, talk, n_calls)
    unmeasured = (roles["no_role"] > 0) | (roles["no_rep_or_customer"] > 0)
    talk_g = by_group(talk)
    words_g = by_group(n_words)
    fillers_g = by_group(fillers)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio_g = np.where((no_talk | unmeasured)[:, None], np.nan, talk_g / total_talk[:, None])
        dur = prep.duration
        share_g = np.where(dur[:, None] > 0, talk_g / dur[:, None], np.nan)
        share_g = np.where(present, share_g, np.nan)
        wpm_g = np.where(present & (talk_g > 0), words_g / (talk_g / 60.0), np.nan)
        rate_g = np.where(present & (words_g > 0), 100.0 * fillers_g / words_g, np.nan)
        silence = np.where(dur > 0, np.maximum(dur - union, 0.0), np.nan)
        rep_resp = by_group(n_resp)[:, 0]
        patience = np.where(rep_resp > 0, by_group(pause_sum)[:, 0] / rep_resp, np.nan)
        interactivity = np.where(dur > 0, switches / (dur / 60.0), np.nan)
    mono_g = max_by_group(monologue)
    interrupts_g = by_group(interruptions.astype(np.float64))
    questions_g = by_group(questions)

    flags = dict(prep.flag_counts)
    flags["self_overlap"] = (self_overlap > 1e-9).astype(np.int64)
    flags["single_speaker"] = ((spk_count == 1) & ~no_talk).astype(np.int64)
    flags["no_talk"] = no_talk.astype(np.int64)
    flags["no_end_marks"] = unmarked.astype(np.int64)
    flags.update(roles)

    out: dict[str, Any] = {
        CALL_ID: pd.array(prep.call_ids, dtype="str"),
        "duration_s": prep.duration,
        "n_speakers": spk_count,
        "n_turns": np.bincount(prep.call, minlength=n_calls).astype(np.int64),
        "speech_s": union,
        "talk_s_total": total_talk,
    }
    for j, r in enumerate(ROLE_GROUPS):
        out[f"talk_s_{r}"] = np.where(present[:, j], talk_g[:, j], np.nan)
    for j, r in enumerate(ROLE_GROUPS):
        out[f"talk_ratio_{r}"] = ratio_g[:, j]
    for j, r in enumerate(ROLE_GROUPS):
        out[f"share_of_call_{r}"] = share_g[:, j]
    out["silence_s"] = silence
    out["silence_share"] = np.where(dur > 0, silence / np.where(dur > 0, dur, 1.0), np.nan)
    out["overtalk_s"] = overtalk
    out["overtalk_count"] = episodes
    out["overtalk_share"] = np.where(dur > 0, overtalk / np.where(dur > 0, dur, 1.0), np.nan)
    for j, r in enumerate(ROLE_GROUPS):
        out[f"interruptions_{r}"] = _counts(interrupts_g[:, j], present[:, j])
    out["interruptions_total"] = interrupts_g.sum(axis=1).astype(np.int64)
    out["longest_monologue_s"] = np.where(no_talk, np.nan, np.fmax.reduce(mono_g, axis=1))
    out["longest_monologue_s_rep"] = mono_g[:, 0]
    out["longest_story_s_customer"] = mono_g[:, 1]
    out["switches"] = switches
    out["interactivity_per_min"] = interactivity
    out["patience_s"] = patience
    for j, r in enumerate(ROLE_GROUPS):
        out[f"questions_{r}"] = _counts(questions_g[:, j], present[:, j])
    for j, r in enumerate(ROLE_GROUPS):
        out[f"words_{r}"] = _counts(words_g[:, j], present[:, j])
    for j, r in enumerate(ROLE_GROUPS):
        out[f"wpm_{r}"] = wpm_g[:, j]
    for j, r in enumerate(ROLE_GROUPS):
        out[f"fillers_{r}"] = _counts(fillers_g[:, j], present[:, j])
    for j, r in enumerate(ROLE_GROUPS):
        out[f"filler_rate_{r}"] = rate_g[:, j]
    out["flags"] = _flag_strings(flags, n_calls)
    per_call = pd.DataFrame(out, columns=list(SCORECARD_COLUMNS))
    return per_spk, per_call


def _question_counts(text: pd.Series) -> FloatArray:  # type: ignore[type-arg]
    """Questions per turn (module docstring). The patterns with word boundaries run only on the
    turns a quick pattern picks out (a sentence closed with ``.``/``!`` that may open as a
    question), or on Arrow's RE2 engine (the text after the last end mark). Abbreviations' dots
    (:data:`_ABBREVIATIONS`) are taken out first."""
    arrow = pa.array(text, type=pa.string())
    dotted = np.asarray(
        pc.match_substring_regex(arrow, _ABBREVIATION_HINT).to_numpy(zero_copy_only=False), dtype=bool
    )  # a few turns: the replacements run on those only
    if dotted.any():
        some = arrow.filter(pa.array(dotted))
        for pattern, replacement in _ABBREVIATIONS:
            some = pc.replace_substring_regex(some, pattern, replacement)
        text = text.copy()
        text[dotted] = some.to_pylist()
    total: FloatArray = np.array(text.str.count(_ASKED_PATTERN).fillna(0), dtype=np.float64)
    maybe_closed = text.str.contains(_MAYBE_CLOSED_QUESTION, regex=True).to_numpy(dtype=bool, na_value=False)
    if maybe_closed.any():
        some = text[maybe_closed]
        total[maybe_closed] += some.str.count(_CLOSED_QUESTION_PATTERN).to_numpy(
            dtype=np.float64, na_value=0.0
        )
    open_tail = ~text.str.contains(r"[.?!]\W*$", regex=True).to_numpy(dtype=bool, na_value=True)
    if open_tail.any():
        # On Arrow's RE2 engine (pandas ran this pattern on Python's, 30× slower), whose count
        # lets ``^`` match again after each match: the start is marked with a \x01 instead.
        tail = "\x01" + text[open_tail].str.replace(r"(?s)^.*[.?!]", "", regex=True)
        onsets = pc.count_substring_regex(pa.array(tail, type=pa.string()), _ARROW_ONSET_PATTERN)
        total[open_tail] += np.asarray(onsets.to_numpy(zero_copy_only=False), dtype=np.float64)
    return total


def _filler_counts(text: pd.Series) -> FloatArray:  # type: ignore[type-arg]
    """Fillers per turn (module docstring): :data:`FILLER_PATTERN` matches less
    :data:`_NOT_FILLER_PATTERN`'s, both counted by Arrow's RE2 engine (lookarounds made pandas use
    Python's, 25× slower)."""
    arrow = pa.array(text, type=pa.string())
    found = pc.count_substring_regex(arrow, FILLER_PATTERN).to_numpy(zero_copy_only=False)
    not_fillers = pc.count_substring_regex(arrow, _NOT_FILLER_PATTERN).to_numpy(zero_copy_only=False)
    return np.maximum(np.asarray(found, dtype=np.float64) - np.asarray(not_fillers, dtype=np.float64), 0.0)


def _longest_monologue(
    spk: IntArray, start: FloatArray, end: FloatArray, n_spk: int, opts: MetricOptions, offset: float
) -> FloatArray:
    """Longest stretch of continuous speech per speaker (module docstring), over timed turns in
    (call, start) order. Between a speaker's consecutive turns ``j`` and ``i`` the stretch breaks
    when a turn of another speaker of at least ``interjection_max_s`` lies between them in that
    order, or when ``i`` starts ``monologue_gap_s`` or more after the speaker's speech so far ended."""
    n = len(spk)
    if n == 0:
        return np.zeros(n_spk)
    breaker = (end - start) >= opts.interjection_max_s
    before = np.concatenate([[0], np.cumsum(breaker)])  # breakers at positions < k
    # The speaker's turns in order (speaker codes are unique across calls).
    order = np.argsort(spk, kind="stable")
    s_spk, s_pos = spk[order], order
    s_start, s_end = start[order], end[order]
    first_of_spk = np.ones(n, dtype=bool)
    first_of_spk[1:] = s_spk[1:] != s_spk[:-1]
    # The speaker's own speech so far: running max of end within the speaker.
    own_end = np.maximum.accumulate(s_end + s_spk * offset) - s_spk * offset
    prev_pos = np.concatenate([[0], s_pos[:-1]])
    prev_end = np.concatenate([[0.0], own_end[:-1]])
    # Breakers strictly between the previous own turn and this one are all other speakers'.
    others_between = before[s_pos] - before[np.minimum(prev_pos + 1, n)]
    new_run = first_of_spk | (others_between > 0) | ((s_start - prev_end) >= opts.monologue_gap_s)
    first = np.flatnonzero(new_run)
    extent = np.maximum.reduceat(s_end, first) - s_start[first]
    monologue = np.zeros(n_spk)
    np.maximum.at(monologue, s_spk[first], extent)
    longest_turn = np.zeros(n_spk)
    np.maximum.at(longest_turn, spk, end - start)
    return np.maximum(monologue, longest_turn)


def _counts(values: FloatArray, present: BoolArray) -> pd.arrays.IntegerArray:
    """Integer counts, NA where the role is absent from the call ("not measured" is not 0)."""
    return pd.arrays.IntegerArray(np.round(values).astype(np.int64), ~present)


def _speaker_words(prep: _Prepared, words: pd.DataFrame | None, n_spk: int) -> FloatArray:
    if words is None or len(words) == 0:
        return _sum_by(prep.spk, prep.n_words, minlength=n_spk)
    names = pd.MultiIndex.from_arrays(
        [[prep.call_ids[c] for c in prep.spk_call], prep.spk_name], names=[CALL_ID, "speaker"]
    )
    counted = words.groupby([words[CALL_ID].astype("str"), words["speaker"].astype("str")]).size()
    counted.index.names = [CALL_ID, "speaker"]
    out: FloatArray = np.asarray(counted.reindex(names).fillna(0), dtype=np.float64)
    return out


def _flag_strings(flags: dict[str, IntArray], n_calls: int) -> Any:
    parts = np.full(n_calls, "", dtype=object)
    for name in _FLAG_NAMES:
        hit = flags[name] > 0
        parts[hit] = np.where(parts[hit] == "", name, parts[hit] + "," + name)
    return pd.array(parts.astype(str), dtype="str")
