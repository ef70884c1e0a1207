"""The call view: how one call is shown, written once for the HTML report and the dashboard.

Both :mod:`hearkit.report` (a Jinja2 page) and :mod:`hearkit.dashboard` (ipywidgets HTML) render a
call from the values built here, so they format numbers, clocks and dates alike, mark the same
tracker words and list the same summary items:

- :func:`clock` (from :mod:`hearkit.timecode`): ``m:ss`` below an hour, ``h:mm:ss`` from an hour on
  (a one-hour call is ``1:00:00``, never ``60:00``);
- :func:`hits_by_turn` + :func:`highlight`: the one matching rule for tracker highlights. A hit
  belongs to its ``turn`` (as :func:`hearkit.trackers.find_hits` gives it); a hit without one
  belongs to the turn of the same speaker around its start (±0.25 s), else to any turn there. Its
  phrase is then marked in that turn's text only: case-insensitive, whole words, any whitespace
  between words, the sentence punctuation it was spoken with ignored, longer phrases first and
  never overlapping;
- :func:`summary_view`: a :class:`~hearkit.summary.CallSummary` as labelled blocks whose items cite
  turns (a citation links to the turn's anchor when the turn is on the page);
- :func:`call_view`: all of it for one call.

Everything here returns plain text; the renderers escape it (Jinja2 autoescape in the report,
:func:`html.escape` in :func:`transcript_html` and :func:`summary_html` for the dashboard).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import pandas as pd

from hearkit.frames import CALL_ID
from hearkit.metrics import data_flag_words
from hearkit.prompting import vocabulary_note
from hearkit.quality import QualityView, grey_metrics, quality_view
from hearkit.summary import CallSummary, SummaryItem
from hearkit.timecode import clock

__all__ = [
    "CALL_METRICS",
    "CallView",
    "Citation",
    "Piece",
    "SummaryBlock",
    "SummaryEntry",
    "SummaryView",
    "TurnView",
    "call_view",
    "clock",
    "date_text",
    "duration_of",
    "format_metric",
    "highlight",
    "hits_by_turn",
    "metric_items",
    "summary_html",
    "summary_notes",
    "summary_view",
    "text_of",
    "transcript_html",
    "turn_views",
]

#: Seconds a hit without a ``turn`` may lie outside a turn's span and still belong to it.
HIT_SLACK_S = 0.25

# Scorecard columns of hearkit.metrics listed in a call's view, with their labels; a share says its
# denominator (U9 finding 2: "rep talk ratio 69.3 %" beside "rep share of call 60.0 %", neither defined).
CALL_METRICS: tuple[tuple[str, str], ...] = (
    ("talk_ratio_rep", "rep talk ratio (of all talk)"),
    ("talk_ratio_customer", "customer talk ratio (of all talk)"),
    ("share_of_call_rep", "rep talk (of the call's length)"),
    ("silence_share", "silence (of the call's length)"),
    ("overtalk_share", "overtalk (of the call's length)"),
    ("interruptions_rep", "rep interruptions"),
    ("interruptions_customer", "customer interruptions"),
    ("longest_monologue_s_rep", "longest rep monologue"),
    ("longest_story_s_customer", "longest customer story"),
    ("switches", "speaker switches"),
    ("interactivity_per_min", "switches per minute"),
    ("patience_s", "patience (pause before rep answers)"),
    ("questions_rep", "rep questions"),
    ("questions_customer", "customer questions"),
    ("wpm_rep", "rep words per minute"),
    ("wpm_customer", "customer words per minute"),
    ("filler_rate_rep", "rep fillers per 100 words"),
)
# Columns of the calls frame that describe a call rather than measure it.
DESCRIPTIVE_COLUMNS = frozenset({CALL_ID, "title", "rep", "customer", "date", "kind", "duration_s"})
_SUMMARY_SECTIONS = (
    ("Summary", "summary"),
    ("Action items", "action_items"),
    ("Next steps", "next_steps"),
    ("Objections", "objections"),
)
_EDGE_PUNCTUATION = re.compile(r"^[\"'(\[]+|[.,;:!?\"')\]]+$")


# ---------------------------------------------------------------------------------------------
# Values


def text_of(value: object) -> str:
    """``value`` as display text; missing values (``None``, NaN, ``pd.NA``) are empty."""
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return ""
    return str(value)


def date_text(value: object) -> str:
    """A call date: ``YYYY-MM-DD``, with ``HH:MM`` when the timestamp has a time of day."""
    if isinstance(value, pd.Timestamp) and not pd.isna(value):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    return text_of(value)


def duration_of(row: pd.Series) -> float | None:
    """The call's ``duration_s`` when it is a positive finite number, else ``None``."""
    value: Any = row.get("duration_s")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def format_metric(name: str, raw: object) -> str:
    """A scorecard value for reading: ratios and shares in %, ``*_s`` in seconds, words per minute
    whole, other rates per minute to one decimal, counts whole; missing or non-numeric values are
    ``not measured``. No more digits than the measurement carries (a speaking rate from word
    timestamps is not known to a hundredth of a word)."""
    if raw is None or raw is pd.NA or not pd.api.types.is_number(raw):
        return "not measured"
    value = float(raw)  # type: ignore[arg-type]
    if math.isnan(value):
        return "not measured"
    if ("ratio" in name or "share" in name) and 0.0 <= value <= 1.0:
        return f"{value:.1%}"
    if name.endswith("_s") or "_s_" in name:
        return f"{value:,.1f} s"
    if name.startswith("wpm"):
        return f"{value:,.0f}"
    if "per_min" in name:
        return f"{value:,.1f}"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def metric_items(row: pd.Series) -> list[dict[str, str]]:
    """The call's scorecard as ``{"label", "value"}`` items: the metrics of :data:`CALL_METRICS`
    present in ``row``, else every numeric column; then the data flags, when any."""
    known = [(c, label) for c, label in CALL_METRICS if c in row.index]
    if not known:
        known = [
            (str(c), str(c).replace("_", " "))
            for c, v in row.items()
            if str(c) not in DESCRIPTIVE_COLUMNS and pd.api.types.is_number(v) and not isinstance(v, bool)
        ]
    items = [{"label": label, "value": format_metric(column, row[column])} for column, label in known]
    flags = data_flag_words(text_of(row.get("flags")))
    if flags:
        items.append({"label": "data flags", "value": flags})
    error = text_of(row.get("job_error"))
    if error:  # a job without a result: why (analyze_calls' no_result)
        items.append({"label": "transcription", "value": error})
    return items


# ---------------------------------------------------------------------------------------------
# Tracker highlights: the one matching rule


@dataclass(frozen=True)
class Piece:
    """A run of a turn's text: plain (``tracker`` is ``None``) or a tracker phrase.

    ``hit`` is the tracker's position in the page's tracker list (its highlight colour)."""

    text: str
    tracker: str | None = None
    hit: int | None = None


def hits_by_turn(turns: pd.DataFrame, hits: pd.DataFrame) -> dict[int, list[tuple[str, str]]]:
    """(tracker, phrase) of the hits of each turn of one call.

    A hit belongs to its ``turn`` when it has one that is in ``turns`` (as
    :func:`hearkit.trackers.find_hits` gives), else to the first turn of the same speaker whose
    span holds its start (±:data:`HIT_SLACK_S`), else to the first turn of anyone there; a hit with
    no such turn is not shown.
    """
    found: dict[int, list[tuple[str, str]]] = {}
    if hits.empty or turns.empty:
        return found
    spans = list(
        zip(
            turns["turn"].astype(int),
            turns["speaker"].astype(str),
            turns["start"].astype(float),
            turns["end"].astype(float),
            strict=True,
        )
    )
    known = {t for t, _, _, _ in spans}
    given = (
        pd.to_numeric(hits["turn"], errors="coerce")
        if "turn" in hits.columns
        else pd.Series(pd.NA, hits.index)
    )
    columns = (
        given,
        hits["start"].astype(float),
        hits["speaker"].astype(str),
        hits["tracker"],
        hits["phrase"],
    )
    for turn, start, speaker, tracker, phrase in zip(*columns, strict=True):
        if pd.notna(turn) and int(turn) in known:
            target: int | None = int(turn)
        else:
            inside = [(t, s) for t, s, a, b in spans if a - HIT_SLACK_S <= start <= b + HIT_SLACK_S]
            candidates = [t for t, s in inside if s == speaker] or [t for t, _ in inside]
            target = candidates[0] if candidates else None
        if target is not None:
            found.setdefault(target, []).append((str(tracker), str(phrase)))
    return found


def highlight(
    text: str, phrases: Sequence[tuple[str, str]], tracker_index: Mapping[str, int] | None = None
) -> list[Piece]:
    """``text`` cut into plain pieces and the pieces where a (tracker, phrase) of ``phrases`` occurs:
    case-insensitive whole words, any whitespace between the words, the phrase's edge punctuation
    ignored (a hit's phrase is its words as spoken); longer phrases win, marks never overlap."""
    index = tracker_index or {}
    spans: list[tuple[int, int, str]] = []
    for tracker, phrase in sorted(set(phrases), key=lambda p: -len(p[1])):
        words = _EDGE_PUNCTUATION.sub("", phrase).split()
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            if all(match.end() <= a or match.start() >= b for a, b, _ in spans):
                spans.append((match.start(), match.end(), tracker))
    pieces: list[Piece] = []
    cursor = 0
    for start, end, tracker in sorted(spans):
        if start > cursor:
            pieces.append(Piece(text[cursor:start]))
        pieces.append(Piece(text[start:end], tracker=tracker, hit=index.get(tracker, 0)))
        cursor = end
    if cursor < len(text):
        pieces.append(Piece(text[cursor:]))
    return pieces


# ---------------------------------------------------------------------------------------------
# Turns, summary, call


@dataclass(frozen=True)
class TurnView:
    """One transcript line: anchor id, role (CSS-safe), clock of its start, who spoke, its pieces."""

    anchor: str
    turn: int
    role_css: str
    clock: str
    who: str
    pieces: list[Piece]


def turn_views(
    turns: pd.DataFrame,
    hits: pd.DataFrame,
    *,
    prefix: str = "t",
    names: Mapping[str, str] | None = None,
    tracker_index: Mapping[str, int] | None = None,
) -> list[TurnView]:
    """The transcript lines of one call's ``turns`` (in the given order) with its ``hits`` marked.

    ``names`` maps a role to a person's name (``{"rep": "Ana"}``): the line reads ``Ana (rep)``;
    without one, the speaker label (``speaker_0 (customer)``). Anchors are ``<prefix><turn>``.
    """
    names = names or {}
    phrases = hits_by_turn(turns, hits)
    views = []
    columns = (
        turns["turn"].astype(int),
        turns["role"],
        turns["speaker"],
        turns["start"].astype(float),
        turns["text"],
    )
    for number, role_value, speaker_value, start, text in zip(*columns, strict=True):
        role = text_of(role_value) or "unknown"
        who = names.get(role) or text_of(speaker_value)
        views.append(
            TurnView(
                anchor=f"{prefix}{number}",
                turn=int(number),
                role_css=re.sub(r"[^a-z0-9_-]", "", role.lower()) or "unknown",
                clock=clock(start),
                who=f"{who} ({role})" if who != role else who,
                pieces=highlight(text_of(text), phrases.get(int(number), []), tracker_index),
            )
        )
    return views


class Citation(NamedTuple):
    """A cited turn: the anchor it links to (empty when the turn is not shown), its number, clock."""

    href: str
    turn: int
    label: str


@dataclass(frozen=True)
class SummaryEntry:
    """A summary item: its text, owner and due date when given (``extra``), its citations."""

    text: str
    extra: str
    citations: list[Citation]


@dataclass(frozen=True)
class SummaryBlock:
    label: str
    items: list[SummaryEntry]


@dataclass(frozen=True)
class SummaryView:
    """How the summary was made (``extractive``, ``llm, <model>``), its non-empty blocks, and
    ``notes``: what of the model's answer was left out or changed (items citing no turn of the
    call, owners that are no role of the call), the sign of an unreliable model or endpoint."""

    method: str
    blocks: list[SummaryBlock]
    notes: list[str] = field(default_factory=list)


def summary_view(
    summary: CallSummary | None, prefix: str = "t", turn_ids: set[int] | None = None
) -> SummaryView | None:
    """The blocks of ``summary`` (Summary, Action items, Next steps, Objections; empty ones left
    out). A citation links to ``<prefix><turn>`` when the turn is in ``turn_ids`` (every turn when
    ``turn_ids`` is ``None``)."""
    if summary is None:
        return None

    def entries(items: Sequence[SummaryItem]) -> list[SummaryEntry]:
        out = []
        for item in items:
            extra = " · ".join(
                v for v in (getattr(item, "owner_role", None), getattr(item, "due", None)) if v
            )
            citations = [
                Citation(
                    href=f"{prefix}{c.turn}" if turn_ids is None or c.turn in turn_ids else "",
                    turn=c.turn,
                    label=clock(c.start),
                )
                for c in item.citations
            ]
            out.append(SummaryEntry(text=item.text, extra=extra, citations=citations))
        return out

    blocks = [
        SummaryBlock(label, entries(getattr(summary, attribute)))
        for label, attribute in _SUMMARY_SECTIONS
        if getattr(summary, attribute)
    ]
    method = summary.method + (f", {summary.model}" if summary.model else "")
    return SummaryView(method=method, blocks=blocks, notes=summary_notes(summary))


def summary_notes(summary: CallSummary) -> list[str]:
    """One line per thing the model answered that the summary does not show as answered."""
    notes = []
    if summary.dropped_items:
        n = summary.dropped_items
        notes.append(
            f"{n} item{'s' if n != 1 else ''} from the model cited no turn of this call and "
            f"{'were' if n != 1 else 'was'} left out"
        )
    if summary.unknown_owners:
        n = summary.unknown_owners
        notes.append(
            f"{n} action item{'s' if n != 1 else ''} named an owner that is no role of this call: "
            "shown without an owner"
        )
    return notes


@dataclass(frozen=True)
class CallView:
    """Everything shown of one call: heading, subheading (id · rep · customer · team · date), scorecard
    items, summary, transcript lines; ``notes``: lines about how the transcript was made (a vocabulary
    prompt, :func:`hearkit.prompting.vocabulary_note`)."""

    call_id: str
    heading: str
    subheading: str
    metrics: list[dict[str, str]]
    summary: SummaryView | None
    turns: list[TurnView]
    extra: dict[str, Any] = field(default_factory=dict)
    quality: QualityView | None = None
    notes: list[str] = field(default_factory=list)


def call_view(
    call_id: str,
    row: pd.Series | None,
    turns: pd.DataFrame,
    hits: pd.DataFrame,
    summary: CallSummary | None = None,
    *,
    prefix: str = "t",
    tracker_index: Mapping[str, int] | None = None,
) -> CallView:
    """The view of one call from its row of the calls frame (``None`` when there is none), its
    turns (sorted by start here) and hits, and its summary."""
    row = row if row is not None else pd.Series({CALL_ID: call_id})
    ordered = turns.sort_values("start", kind="stable") if not turns.empty else turns
    names = {"rep": text_of(row.get("rep")), "customer": text_of(row.get("customer"))}
    subheading = " · ".join(
        v
        for v in (
            call_id,
            text_of(row.get("rep")),
            text_of(row.get("customer")),
            text_of(row.get("team")),
            date_text(row.get("date")),
        )
        if v
    )
    quality = quality_view(row, [c for c, _ in CALL_METRICS])  # issue 20: trust, flags, greyed metrics
    return CallView(
        call_id=call_id,
        heading=text_of(row.get("title")) or call_id,
        subheading=subheading,
        quality=quality,
        notes=[note for note in (vocabulary_note(row),) if note],
        metrics=grey_metrics(metric_items(row), quality, {label: c for c, label in CALL_METRICS}),
        summary=summary_view(
            summary, prefix, set(ordered["turn"].astype(int).tolist()) if not ordered.empty else set()
        ),
        turns=turn_views(ordered, hits, prefix=prefix, names=names, tracker_index=tracker_index)
        if not ordered.empty
        else [],
    )


# ---------------------------------------------------------------------------------------------
# HTML for widgets (the report renders the same views through its Jinja2 template)


def transcript_html(lines: Sequence[TurnView]) -> str:
    """Transcript lines as escaped HTML: ``<mark title="tracker">`` around tracker phrases."""
    out = []
    for line in lines:
        body = "".join(
            html.escape(p.text)
            if p.tracker is None
            else f'<mark title="{html.escape(p.tracker)}">{html.escape(p.text)}</mark>'
            for p in line.pieces
        )
        out.append(
            f'<p class="hearkit-turn"><span class="hearkit-time">{line.clock}</span> '
            f"<b>{html.escape(line.who)}</b>: {body}</p>"
        )
    return '<div class="hearkit-transcript">' + "".join(out) + "</div>"


def summary_html(view: SummaryView | None) -> str:
    """A summary view as escaped HTML: a heading per block, its items with owner/due and the clock
    of each cited turn."""
    if view is None:
        return ""
    parts = []
    for block in view.blocks:
        items = []
        for entry in block.items:
            extra = f' <span class="hearkit-muted">({html.escape(entry.extra)})</span>' if entry.extra else ""
            cites = "".join(
                f' <span class="hearkit-cite" title="turn {c.turn}">{html.escape(c.label)}</span>'
                for c in entry.citations
            )
            items.append(f"<li>{html.escape(entry.text)}{extra}{cites}</li>")
        parts.append(f"<h4>{html.escape(block.label)}</h4><ul>{''.join(items)}</ul>")
    parts.extend(f'<p class="hearkit-muted">{html.escape(note)}.</p>' for note in view.notes)
    return '<div class="hearkit-summary">' + "".join(parts) + "</div>"
