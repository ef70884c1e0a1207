"""A call's quality block on the analysis side: calls-frame columns, the record field, the view.

The transcriber puts a :class:`hearkit.schema.Quality` on each local result (definitions of its
measures and flags: :mod:`hearkit.engine.pipeline.quality`). Here it travels with the analysis:

* :func:`quality_columns`: three columns of the calls frame, so the block survives
  ``CallSet.save``/``load`` like any metric: ``trust`` (``high``/``medium``/``low``, or
  ``not measured`` for a result without a block, e.g. from the hosted API), ``quality_flags``
  (comma-separated flag codes) and ``quality`` (the block as JSON, ``""`` when absent).
* :func:`quality_of`: the block back from a calls row (``None`` = not measured).
* Role checks made here, where the roles are decided (:mod:`hearkit.transcript`):
  ``roles_guessed`` (warning, affects roles) when rep and customer of a call with two or more
  speakers rest only on who spoke first (``role_source`` ``inferred_first_speaker``: no greeting,
  caller cue or question pattern told them apart; on an outbound call the customer answers
  first) or on who asked more questions (``inferred_questions``: on a support call the customer
  is the one asking); and :func:`roles_set_by_user`, which drops the role doubts once a user sets
  the roles. A result without a block (the hosted API's) whose roles are such a guess gets a block
  of hearkit's own (``method`` ``none``): the ``roles_guessed`` warning and the ``info`` flag
  ``transcript_not_checked`` (the transcriber checked nothing), so its rep talk is greyed as a local
  result's is (it read plain, trust "not measured", in the report and the dashboard alike); once a
  user sets the roles it is "not measured" again (:func:`measured`).
* :func:`quality_view`: what the report, the dashboard and the CLI show: the trust level, one
  line per flag, and for each scorecard metric a flag makes unreliable the reason it is greyed.
"""

from __future__ import annotations

import html
import json
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from hearkit.schema import Quality, QualityFlag, Result, trust_of

__all__ = [
    "FLAG_WORDS",
    "NOT_MEASURED",
    "QUALITY_COLUMNS",
    "ROLE_FLAGS",
    "TALK_RATIO_FLAGS",
    "QualityLine",
    "QualityView",
    "blank_unmeasured",
    "grey_metrics",
    "measured",
    "quality_cells",
    "quality_columns",
    "quality_html",
    "quality_of",
    "quality_view",
    "roles_set_by_user",
    "talk_ratio_doubt",
    "trust_words",
    "unmeasured_columns",
    "view_of",
]

NOT_MEASURED = "not measured"
QUALITY_COLUMNS = ("trust", "quality_flags", "quality")

# Which scorecard columns each ``affects`` value of a flag concerns (prefix match on the column).
_AFFECTED_METRICS: dict[str, tuple[str, ...]] = {
    "talk_ratio": (
        "talk_ratio",
        "share_of_call",
        "overtalk",
        "interruptions",
        "longest_monologue",
        "longest_story",
        "switches",
        "interactivity",
        "patience",
    ),
    "speaker_count": ("talk_ratio", "share_of_call", "switches", "interactivity", "interruptions"),
    "roles": (
        "talk_ratio",
        "share_of_call",
        "interruptions",
        "longest_monologue",
        "longest_story",
        "questions",
        "wpm",
        "patience",
    ),
    "transcript": ("questions", "wpm"),
}
_LABELS_OF: dict[str, str] = {
    "rep talk ratio": "talk_ratio_rep",
    "customer talk ratio": "talk_ratio_customer",
}


ROLE_FLAGS = frozenset({"roles_maybe_swapped", "roles_guessed"})
"""Flags that doubt which speaker is the rep; a user's own roles settle them."""

_FIX_ROLES = "check them and set them with hearkit remap --rep SPEAKER if they are swapped"
_ROLES_GUESSED = {
    "inferred_first_speaker": QualityFlag(
        code="roles_guessed",
        meaning="rep and customer were guessed from who spoke first (no greeting, caller cue or question"
        f" pattern told them apart; on an outbound call the customer answers first): {_FIX_ROLES}",
        affects=["roles"],
    ),
    "inferred_offers": QualityFlag(
        code="roles_guessed",
        meaning="rep and customer were guessed from who made the offer (quoted prices, promised the"
        f" follow-up; no greeting or caller cue told them apart): {_FIX_ROLES}",
        affects=["roles"],
    ),
    "inferred_questions": QualityFlag(
        code="roles_guessed",
        meaning="rep and customer were guessed from who asked more questions (no greeting or caller cue"
        f" told them apart; on a support call the customer is the one asking): {_FIX_ROLES}",
        affects=["roles"],
    ),
}
NOT_CHECKED = QualityFlag(
    code="transcript_not_checked",
    meaning="the transcriber reported no quality checks (the hosted API has none): voices, coverage"
    " and bleed were not checked; the other flags are hearkit's own",
    severity="info",
    affects=[],
)
"""The flag of a block hearkit made for a result that came without one (:func:`quality_columns`)."""
GUESSED_ROLE_SOURCES = frozenset(_ROLES_GUESSED)
"""``role_source`` values that are a guess (a ``roles_guessed`` flag on the call)."""


def quality_columns(
    results: Sequence[Result | None], guessed_roles: Sequence[str | bool | None] = ()
) -> dict[str, list[str]]:
    """The three calls-frame columns (see the module text) for ``results`` in call order;
    ``guessed_roles[i]``: the role source when call ``i``'s roles are a guess (one of
    :data:`GUESSED_ROLE_SOURCES`; ``True`` means who spoke first), which adds ``roles_guessed``."""
    columns: dict[str, list[str]] = {name: [] for name in QUALITY_COLUMNS}
    for index, result in enumerate(results):
        quality = result.quality if result is not None else None
        guess = guessed_roles[index] if index < len(guessed_roles) else None
        if guess is True:
            guess = "inferred_first_speaker"
        if isinstance(guess, str) and guess in _ROLES_GUESSED:
            # a result without a block (hosted) gets one of hearkit's own: the guess greys rep talk there too
            quality = quality.model_copy(deep=True) if quality is not None else Quality(flags=[NOT_CHECKED])
            quality.flags.append(_ROLES_GUESSED[guess].model_copy())
            quality.trust = trust_of(quality.flags)
        for name, value in quality_cells(quality).items():
            columns[name].append(value)
    return columns


def measured(quality: Quality | None) -> Quality | None:
    """``quality``, or ``None`` (not measured) when it is a block hearkit made for a result without
    one (:data:`NOT_CHECKED`) and holds nothing else that doubts a number (after a user set the roles)."""
    if quality is None or NOT_CHECKED.code not in {f.code for f in quality.flags}:
        return quality
    doubts = [f for f in quality.flags if f.severity != "info"]
    return quality if doubts else None


def quality_cells(quality: Quality | None) -> dict[str, str]:
    """One call's cells of the three quality columns (``None``: not measured)."""
    if quality is None:
        return {"trust": NOT_MEASURED, "quality_flags": "", "quality": ""}
    return {
        "trust": quality.trust,
        "quality_flags": ",".join(f.code for f in quality.flags),
        "quality": json.dumps(quality.to_api(), sort_keys=True),
    }


def unmeasured_columns(quality: Quality | None, columns: Sequence[str]) -> list[str]:
    """The metric ``columns`` an ``unreliable`` flag of ``quality`` says were not measured (e.g.
    ``one_voice``: a two-party call where one voice was found has no rep or customer talk ratio);
    the analysis stores NaN (counts: NA) there, not the 0 or 1 the arithmetic would give."""
    if quality is None:
        return []
    prefixes = tuple(
        p
        for f in quality.flags
        if f.severity == "unreliable"
        for a in f.affects
        for p in _AFFECTED_METRICS.get(a, ())
    )
    return [c for c in columns if prefixes and c.startswith(prefixes)]


def blank_unmeasured(calls: pd.DataFrame, qualities: Mapping[Hashable, Quality | None]) -> None:
    """Set "not measured", in place, in the numeric columns of the ``calls`` rows (index label →
    the row's quality block) that :func:`unmeasured_columns` says were not measured: NaN in float
    columns, NA in count columns (an ``int64`` one becomes the nullable ``Int64`` first; a one-voice
    call's "0 interruptions" or "4 switches" entered means and cohort intervals as measurements)."""
    numeric = [
        c
        for c in calls.columns
        if pd.api.types.is_numeric_dtype(calls[c]) and not pd.api.types.is_bool_dtype(calls[c])
    ]
    for label, quality in qualities.items():
        blank = unmeasured_columns(quality, numeric)
        for column in blank:
            if not pd.api.types.is_float_dtype(calls[column]):
                if not isinstance(calls[column].dtype, pd.Int64Dtype):
                    calls[column] = calls[column].astype("Int64")
                calls.loc[label, column] = pd.NA
            else:
                calls.loc[label, column] = np.nan


def roles_set_by_user(quality: Quality) -> Quality:
    """A copy of a call's block once a user has set its roles: the role doubts (:data:`ROLE_FLAGS`)
    dropped, an ``info`` flag saying the roles are the user's, the trust level following."""
    settled = quality.model_copy(deep=True)
    settled.flags = [f for f in settled.flags if f.code not in ROLE_FLAGS and f.code != "roles_set_by_user"]
    settled.flags.append(
        QualityFlag(
            code="roles_set_by_user",
            meaning="rep and customer were set by a user (hearkit remap / CallSet.with_roles)",
            severity="info",
            affects=["roles"],
        )
    )
    settled.trust = trust_of(settled.flags)
    return settled


def quality_of(row: pd.Series | None) -> Quality | None:
    """The quality block stored in a calls row; ``None`` when the call has none (not measured)."""
    if row is None:
        return None
    raw = row.get("quality")
    if not isinstance(raw, str) or not raw.strip():
        return None
    return Quality.model_validate(json.loads(raw))


@dataclass(frozen=True)
class QualityLine:
    """One flag for reading: its code, severity and one-line meaning."""

    code: str
    severity: str
    meaning: str


@dataclass(frozen=True)
class QualityView:
    """A call's trust level, its flags, and the reason each affected metric column is greyed."""

    trust: str
    lines: list[QualityLine] = field(default_factory=list)
    greyed: dict[str, str] = field(default_factory=dict)

    @property
    def summary(self) -> str:
        """``trust: medium (2 flags)`` — one line."""
        if self.trust == NOT_MEASURED:
            return "trust: not measured (the result carries no quality block)"
        count = len(self.lines)
        return f"trust: {self.trust}" + (f" ({count} flag{'s' if count != 1 else ''})" if count else "")


def quality_view(row: pd.Series | None, columns: Sequence[str] = ()) -> QualityView:
    """The view of a calls row's quality; ``columns`` are the metric columns to check for greying.

    A metric is greyed when a ``warning`` or ``unreliable`` flag affects it (``info`` flags are
    listed but grey nothing); the reason is the flag's meaning.
    """
    return view_of(quality_of(row), columns)


def view_of(quality: Quality | None, columns: Sequence[str] = ()) -> QualityView:
    """:func:`quality_view` of a block itself (``None``: not measured)."""
    if quality is None:
        return QualityView(trust=NOT_MEASURED)
    lines = [QualityLine(f.code, f.severity, f.meaning) for f in quality.flags]
    # Every flag that affects a column, the gravest first and a roles doubt before a coverage doubt
    # (a swapped rep and customer changes whose number it is): "roles_maybe_swapped,
    # unattributed_speech: roles_maybe_swapped — …; unattributed_speech — …". Only the first had
    # been named, so "rep talk ratio 63.7% (unattributed_speech)" hid that 63.7 % was the customer's.
    ranked = sorted(
        (f for f in quality.flags if f.severity != "info"),
        key=lambda f: (f.severity != "unreliable", "roles" not in f.affects),
    )
    reasons: dict[str, list[QualityFlag]] = {}
    for flag in ranked:
        prefixes = tuple(p for a in flag.affects for p in _AFFECTED_METRICS.get(a, ()))
        for column in columns:
            if prefixes and column.startswith(prefixes):
                reasons.setdefault(column, []).append(flag)
    greyed = {column: _reason(flags) for column, flags in reasons.items()}
    return QualityView(trust=quality.trust, lines=lines, greyed=greyed)


def _reason(flags: Sequence[QualityFlag]) -> str:
    """``code: meaning`` for one flag; ``code1, code2: code1 — meaning1; code2 — meaning2`` for more
    (the text before the first colon names them all, as the report card's parenthesis shows it)."""
    if len(flags) == 1:
        return f"{flags[0].code}: {flags[0].meaning}"
    return ", ".join(f.code for f in flags) + ": " + "; ".join(f"{f.code} — {f.meaning}" for f in flags)


def grey_metrics(
    items: list[dict[str, str]], view: QualityView, columns: dict[str, str]
) -> list[dict[str, str]]:
    """Scorecard ``{"label", "value"}`` items with ``unreliable`` (the reason) on the greyed ones.

    ``columns`` maps an item's label to its metric column.
    """
    out = []
    for item in items:
        column = columns.get(item["label"], _LABELS_OF.get(item["label"], ""))
        reason = view.greyed.get(column)
        out.append({**item, "unreliable": reason} if reason else item)
    return out


TALK_RATIO_FLAGS = frozenset(
    {
        "phantom_speaker",
        "speaker_count_uncertain",
        "weak_separation",
        "one_voice",
        "little_speech",
        "unattributed_speech",
        "strong_bleed",
        "stereo_really_mono",
        "roles_maybe_swapped",
        "voices_alike",
        "mixed_voices",
        "much_overlap",
    }
)
"""Flag codes that (at warning or worse) make a call's rep talk ratio unreliable."""


FLAG_WORDS: dict[str, str] = {
    "speaker_count_uncertain": "speaker count uncertain",
    "speaker_count_held": "speaker count set by the call type",
    "speakers_set_by_user": "speaker count set by the user (remap)",
    "weak_separation": "voices hard to tell apart",
    "phantom_speaker": "a speaker with under 5% of the talk",
    "one_voice": "only one voice found",
    "little_speech": "too little speech to count voices",
    "no_voice_split": "voices could not be compared",
    "unattributed_speech": "speech given to no one",
    "stereo_really_mono": "stereo file holds one signal",
    "voices_not_separated": "voices not separated (no diarization)",
    "one_party_silent": "one party never spoke on its channel",
    "strong_bleed": "the parties leak into each other's channel",
    "roles_maybe_swapped": "rep and customer may be swapped",
    "low_asr_confidence": "transcript uncertain",
    "speech_not_recognised": "speech not understood (another language?)",
    "voices_alike": "one voice may be counted twice",
    "mixed_voices": "two voices may be counted as one",
    "much_overlap": "much talking over each other",
    "cut_short": "the file looks cut off",
    "quiet_recording": "very quiet recording: quiet words may be missed",
    "quiet_leg": "one party's channel very quiet: quiet words may be missed",
    "coarse_rediarization": "speakers re-found from stored voice prints only",
    "fewer_voices_than_asked": "fewer voices than the count asked for",
    "more_voices_than_asked": "more voices than the count asked for",
    "roles_guessed": "rep and customer guessed (who spoke first or asked more)",
    "roles_set_by_user": "roles set by the user",
    "transcript_not_checked": "transcriber checked nothing (hosted)",
}
"""A few plain words for each flag code, for narrow places (the CLI calls table); the flag's own
``meaning`` is the full sentence."""


def trust_words(trust: object, codes: object) -> str:
    """``medium: speaker count uncertain; much talking over each other`` (the trust level and its
    flags in plain words; an unknown code is shown as it is); ``not measured`` without a block."""
    level = trust if isinstance(trust, str) and trust else NOT_MEASURED
    named = [FLAG_WORDS.get(c, c) for c in codes.split(",") if c] if isinstance(codes, str) else []
    return f"{level}: {'; '.join(named)}" if named else level


def talk_ratio_doubt(codes: object) -> str:
    """The flags (comma-separated, from ``quality_flags``) that make the talk ratio unreliable, or ``""``."""
    if not isinstance(codes, str):
        return ""
    return ", ".join(c for c in codes.split(",") if c in TALK_RATIO_FLAGS)


def quality_html(view: QualityView) -> str:
    """The quality block as escaped HTML (the dashboard's renderer; the report uses its template)."""
    colour = {"high": "#2e7d32", "medium": "#b26a00", "low": "#c62828"}.get(view.trust, "#666")
    items = "".join(
        f"<li><b>{html.escape(line.code)}</b> ({html.escape(line.severity)}):"
        f" {html.escape(line.meaning)}</li>"
        for line in view.lines
    )
    return (
        f'<div class="hearkit-quality"><span style="color:{colour};font-weight:600">'
        f"{html.escape(view.summary)}</span>{f'<ul>{items}</ul>' if items else ''}</div>"
    )
