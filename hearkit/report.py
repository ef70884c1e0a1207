"""Standalone HTML report of one call or many: overview table, charts, and a collapsible section
per call with its metrics, summary (citations link to the cited turns) and transcript (speaker
and role labelled, timestamps, tracker phrases highlighted).

The file works offline: plotly.js is embedded once (``plotlyjs="inline"``, about 4.8 MB) or loaded
from the plotly CDN (``plotlyjs="cdn"``, pinned version with a subresource-integrity hash). Each
figure is stored once as JSON in a ``<script type="application/json">`` block and drawn by one
small loader when its section is open, so a 50-call report opens fast.

Safety: the page is rendered by Jinja2 with autoescape, so every value from a transcript or
metadata is escaped; figure JSON comes from plotly's encoder, which writes ``<``, ``>`` and ``/``
as ``\\u003c``-style escapes (checked here before embedding). A Content-Security-Policy allows
only the report's own scripts (by hash) and, with ``plotlyjs="cdn"``, the pinned CDN file, so
even markup that slipped through could not run script.

Example::

    from hearkit import report
    from hearkit.record import CallSet

    report.write_html(CallSet.load_sample(), "calls.html")
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import importlib
import json
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Protocol

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from hearkit import __version__, charts
from hearkit.summary import CallSummary, SummaryItem

__all__ = ["CallFrames", "PlotlyJS", "figures", "render_html", "write_html"]

PlotlyJS = Literal["inline", "cdn"]

_LOADER = """
(function () {
  "use strict";
  var figures = null;
  var failure = null;
  function unpack(id) {
    if (!("DecompressionStream" in window)) {
      return Promise.reject(new Error("this browser cannot unpack them " +
        "(it needs DecompressionStream: Chrome 80+, Firefox 113+, Safari 16.4+)"));
    }
    var text = atob(document.getElementById(id).textContent.trim());
    var bytes = new Uint8Array(text.length);
    for (var i = 0; i < text.length; i++) bytes[i] = text.charCodeAt(i);
    var stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream("gzip"));
    return new Response(stream).text();
  }
  function loadPlotly() {
    var body = document.body;
    var src = body.getAttribute("data-plotly-src");
    var code = src ? Promise.resolve(null) : unpack("hk-plotly");
    return code.then(function (text) {
      return new Promise(function (resolve, reject) {
        var script = document.createElement("script");
        if (text === null) {
          script.src = src;
          script.integrity = body.getAttribute("data-plotly-integrity");
          script.crossOrigin = "anonymous";
        } else {
          script.src = URL.createObjectURL(new Blob([text], {type: "text/javascript"}));
        }
        script.onload = function () { resolve(); };
        script.onerror = function () {
          reject(new Error("plotly.js did not load" + (src ? " from " + src + " (are you offline?)" : "")));
        };
        document.head.appendChild(script);
      });
    });
  }
  function render(el) {
    if (el.getAttribute("data-rendered") || (figures === null && failure === null)) return;
    el.setAttribute("data-rendered", "1");
    if (failure !== null) { el.textContent = failure; return; }
    var spec = JSON.parse(JSON.stringify(figures[el.getAttribute("data-figure")]));
    var overlay = el.getAttribute("data-overlay");
    if (overlay) {
      spec.data = spec.data.concat(figures[overlay].data);
      spec.layout.title = figures[overlay].layout.title;
    }
    window.Plotly.newPlot(el, spec.data, spec.layout, {responsive: true, displaylogo: false});
  }
  function renderIn(root) {
    root.querySelectorAll(".chart").forEach(function (el) {
      if (!el.closest("details:not([open])")) render(el);
    });
  }
  function showTarget() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id ? document.getElementById(id) : null;
    if (!target) return;
    var box = target.closest("details");
    if (box && !box.open) box.open = true;
    target.scrollIntoView({block: "center"});
  }
  function setAll(open) {
    document.querySelectorAll("details.call").forEach(function (box) { box.open = open; });
  }
  document.querySelectorAll("details").forEach(function (box) {
    box.addEventListener("toggle", function () { if (box.open) renderIn(box); });
  });
  document.getElementById("open-all").addEventListener("click", function () { setAll(true); });
  document.getElementById("close-all").addEventListener("click", function () { setAll(false); });
  window.addEventListener("hashchange", showTarget);
  showTarget();
  window.PlotlyConfig = {MathJaxConfig: "local"};
  Promise.all([loadPlotly(), unpack("hk-figures").then(JSON.parse)]).then(
    function (loaded) { figures = loaded[1]; },
    function (error) { failure = "Charts unavailable: " + error.message; }
  ).then(function () { renderIn(document); });
})();
"""


class CallFrames(Protocol):
    """What the report reads: a :class:`hearkit.record.CallSet` or anything with its frames."""

    @property
    def calls(self) -> pd.DataFrame: ...

    @property
    def turns(self) -> pd.DataFrame: ...

    @property
    def hits(self) -> pd.DataFrame: ...


@dataclass
class _Data:
    calls: pd.DataFrame
    turns: pd.DataFrame
    hits: pd.DataFrame
    summaries: dict[str, CallSummary] = field(default_factory=dict)


@dataclass
class _Chart:
    """A chart of the page. With ``base``, ``figure`` holds only traces drawn over that chart's."""

    id: str
    label: str
    figure: go.Figure
    base: _Chart | None = None

    def view(self) -> dict[str, str]:
        if self.base is None:
            return {"id": self.id, "label": self.label, "figure": self.id, "overlay": ""}
        return {"id": self.id, "label": self.label, "figure": self.base.id, "overlay": self.id}

    def full_figure(self) -> go.Figure:
        if self.base is None:
            return self.figure
        fig = go.Figure(self.base.figure)
        fig.add_traces(list(self.figure.data))
        fig.update_layout(title=self.figure.layout.title)
        return fig


def render_html(
    calls: CallFrames | Any | Sequence[Any],
    *,
    plotlyjs: PlotlyJS = "inline",
    title: str = "hearkit call report",
    open_calls: bool | None = None,
) -> str:
    """The report as one HTML string.

    ``calls`` is a :class:`hearkit.record.CallSet`, a :class:`hearkit.record.CallRecord`, or a list
    of them. ``plotlyjs``: ``"inline"`` embeds plotly.js once (works offline), ``"cdn"`` loads it
    from cdn.plot.ly. ``open_calls`` opens the per-call sections initially (default: only when the
    report has one call).
    """
    if plotlyjs not in ("inline", "cdn"):
        raise ValueError(f"plotlyjs must be 'inline' or 'cdn', not {plotlyjs!r}")
    data = _collect(calls)
    overall, per_call = _plan(data)
    packed = _pack({c.id: c.figure for c in [*overall, *(c for group in per_call.values() for c in group)]})
    shares = charts.talk_shares(data.turns, data.calls)
    trackers = sorted({str(t) for t in data.hits["tracker"]}) if not data.hits.empty else []
    styles = charts.tracker_styles(trackers)
    tracker_index = {name: i for i, name in enumerate(trackers)}
    ids = [str(c) for c in data.calls["call_id"]]

    call_views = []
    for index, call_id in enumerate(ids):
        row = data.calls.iloc[index]
        anchor = f"call-{index}"
        call_turns = data.turns[data.turns["call_id"].astype(str) == call_id].sort_values(
            "start", kind="stable"
        )
        call_hits = (
            data.hits[data.hits["call_id"].astype(str) == call_id] if not data.hits.empty else data.hits
        )
        call_views.append(
            {
                "anchor": anchor,
                "heading": _text(row.get("title")) or call_id,
                "subheading": " · ".join(
                    v
                    for v in (
                        call_id,
                        _text(row.get("rep")),
                        _text(row.get("customer")),
                        _date(row.get("date")),
                    )
                    if v
                ),
                "overview": _overview_cells(row, call_id, shares, call_hits, data.summaries.get(call_id)),
                "metrics": _metric_items(row),
                "summary": _summary_view(
                    data.summaries.get(call_id), f"c{index}t", set(call_turns["turn"].tolist())
                ),
                "charts": [c.view() for c in per_call[call_id]],
                "turns": _turn_views(call_turns, call_hits, f"c{index}t", row, tracker_index),
            }
        )

    total = sum(_duration(data.calls.iloc[i]) or 0.0 for i in range(len(ids)))
    return _template().render(
        title=title,
        version=__version__,
        csp=_csp(),
        plotly=_plotly_source(plotlyjs),
        loader=_LOADER,
        calls=call_views,
        open_calls=len(ids) == 1 if open_calls is None else open_calls,
        overview_columns=[c for c in _OVERVIEW_COLUMNS if c.key != "summary" or data.summaries],
        overall_charts=[c.view() for c in overall],
        figures=packed,
        trackers=[{"name": name, "index": tracker_index[name]} for name in trackers],
        hit_colors=[(_tint(styles[name][0]), styles[name][0]) for name in trackers],
        total_duration=charts._clock(total) if total else "",
        golden=f"{charts.GOLDEN_TALK_RATIO:.0%}",
        warning=f"{charts.TALK_RATIO_WARNING:.0%}",
    )


def figures(calls: CallFrames | Any | Sequence[Any]) -> dict[str, go.Figure]:
    """The figures :func:`render_html` draws for ``calls``, by chart id (``chart-0``, …): the
    charts across calls first, then each call's timeline and its metrics among all calls."""
    overall, per_call = _plan(_collect(calls))
    return {c.id: c.full_figure() for c in [*overall, *(c for group in per_call.values() for c in group)]}


def write_html(
    calls: CallFrames | Any | Sequence[Any],
    path: str | Path,
    *,
    plotlyjs: PlotlyJS = "inline",
    title: str = "hearkit call report",
    open_calls: bool | None = None,
) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return the path."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory: give a file name such as {target / 'report.html'}")
    html = render_html(calls, plotlyjs=plotlyjs, title=title, open_calls=open_calls)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(html, encoding="utf-8")
    return target


def _plan(data: _Data) -> tuple[list[_Chart], dict[str, list[_Chart]]]:
    """The report's charts: across calls, and per call (timeline; metrics among all calls)."""
    made: list[_Chart] = []

    def add(fig: go.Figure, label: str) -> _Chart:
        made.append(_Chart(id=f"chart-{len(made)}", label=label, figure=fig))
        return made[-1]

    hits = data.hits if not data.hits.empty else None
    ids = [str(c) for c in data.calls["call_id"]]
    metrics = _metric_columns(data.calls)
    overall = [add(charts.talk_ratio(data.turns, data.calls), "Talk ratio per call")]
    if hits is not None:
        overall.append(add(charts.keyword_timeline(hits), "Keyword timeline across calls"))
        if (hits["tracker"].astype(str) == "pricing").any():
            overall.append(add(charts.pricing_mentions(hits, data.calls), "Pricing mentions per call"))
    distributions = None
    if len(ids) > 1 and metrics:
        distributions = add(charts.metric_distributions(data.calls, metrics), "Metric distributions")
        overall.append(distributions)
    with_turns = set(data.turns["call_id"].astype(str))
    per_call: dict[str, list[_Chart]] = {}
    for index, call_id in enumerate(ids):
        group = []
        if call_id in with_turns:
            timeline = charts.call_timeline(
                data.turns, call_id, hits=hits, duration_s=_duration(data.calls.iloc[index])
            )
            group.append(add(timeline, f"Timeline of {call_id}"))
        if distributions is not None:
            # the page draws the across-calls figure again with this call's markers on top
            markers = go.Figure(
                data=charts.selected_call_markers(data.calls, metrics, call_id),
                layout={"title": {"text": f"Metrics across calls (◆ {charts._plain(call_id)})"}},
            )
            group.append(add(markers, f"{call_id} among all calls"))
            group[-1].base = distributions
        per_call[call_id] = group
    return overall, per_call


# ---------------------------------------------------------------------------------------------
# Input


def _collect(source: object) -> _Data:
    """Frames of a CallSet-like object, a CallRecord, or a list of them, concatenated."""
    if isinstance(source, (str, bytes, Path)):
        raise TypeError(
            f"render_html takes a CallSet or CallRecord, not {type(source).__name__}; "
            "load a saved set with hearkit.record.CallSet.load(path)"
        )
    parts = list(source) if isinstance(source, Sequence) else [source]
    if not parts:
        raise ValueError("no calls to report: pass a CallSet, a CallRecord or a non-empty list of them")
    datas = [_one(part) for part in parts]
    calls = pd.concat([d.calls for d in datas], ignore_index=True)
    duplicated = calls["call_id"].astype(str).duplicated()
    if duplicated.any():
        raise ValueError(f"call_id(s) appear twice: {sorted(set(calls['call_id'][duplicated].astype(str)))}")
    hits = [d.hits for d in datas if not d.hits.empty]
    summaries: dict[str, CallSummary] = {}
    for d in datas:
        summaries.update(d.summaries)
    return _Data(
        calls=calls,
        turns=pd.concat([d.turns for d in datas], ignore_index=True),
        hits=pd.concat(hits, ignore_index=True) if hits else pd.DataFrame(),
        summaries=summaries,
    )


def _one(source: object) -> _Data:
    frames = source
    if not isinstance(getattr(source, "turns", None), pd.DataFrame):
        frames = _record_frames(source)
    turns = getattr(frames, "turns", None)
    calls = getattr(frames, "calls", None)
    hits = getattr(frames, "hits", None)
    if not isinstance(turns, pd.DataFrame):
        raise TypeError(
            f"cannot report on a {type(source).__name__}: pass a hearkit.record.CallSet, a CallRecord, "
            "or a list of them"
        )
    charts._require(
        turns, ["call_id", "turn", "speaker", "role", "start", "end", "duration_s", "text"], "turns"
    )
    if not isinstance(calls, pd.DataFrame) or calls.empty:
        calls = pd.DataFrame({"call_id": pd.unique(turns["call_id"].astype(str))})
    charts._require(calls, ["call_id"], "calls")
    if not isinstance(hits, pd.DataFrame):
        hits = pd.DataFrame()
    summaries: dict[str, CallSummary] = {}
    raw = getattr(frames, "summaries", None) or {}
    if isinstance(raw, Mapping):
        summaries.update({str(k): v for k, v in raw.items() if isinstance(v, CallSummary)})
    single = getattr(source, "summary", None)
    if isinstance(single, CallSummary):
        summaries[single.call_id] = single
    return _Data(calls=calls.reset_index(drop=True), turns=turns, hits=hits, summaries=summaries)


def _record_frames(record: object) -> object:
    """A CallRecord as CallSet frames, through hearkit.record (imported only when needed)."""
    try:
        record_module = importlib.import_module("hearkit.record")
    except ImportError:  # pragma: no cover - hearkit.record ships with hearkit
        record_module = None

    callset = getattr(record_module, "CallSet", None)
    build = getattr(callset, "from_records", None)
    if build is None or not isinstance(record, getattr(record_module, "CallRecord", ())):
        raise TypeError(
            f"cannot report on a {type(record).__name__}: pass a hearkit.record.CallSet, a CallRecord, "
            "or a list of them"
        )
    return build([record])


# ---------------------------------------------------------------------------------------------
# Views (plain dicts and strings; the template escapes them)


@dataclass(frozen=True)
class _Column:
    key: str
    label: str
    css: str = ""


_OVERVIEW_COLUMNS = (
    _Column("call_id", "call"),
    _Column("title", "title"),
    _Column("rep", "rep"),
    _Column("customer", "customer"),
    _Column("date", "date", "nowrap"),
    _Column("duration", "duration", "num"),
    _Column("rep_share", "rep talk", "num"),
    _Column("hits", "tracker hits", "num"),
    _Column("pricing", "pricing", "num"),
    _Column("summary", "summary"),
)
_OVERVIEW_KEYS = {"call_id", "title", "rep", "customer", "date", "kind", "duration_s"}


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return ""
    return str(value)


def _date(value: object) -> str:
    text = _text(value)
    if isinstance(value, pd.Timestamp) and not pd.isna(value):
        return value.strftime("%Y-%m-%d") if value == value.normalize() else value.strftime("%Y-%m-%d %H:%M")
    return text


def _duration(row: pd.Series) -> float | None:
    value: Any = row.get("duration_s")
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) and number > 0 else None


def _overview_cells(
    row: pd.Series, call_id: str, shares: pd.DataFrame, hits: pd.DataFrame, summary: CallSummary | None
) -> dict[str, dict[str, Any]]:
    rep = shares[(shares["call_id"] == call_id) & (shares["role"] == "rep")]["share"]
    rep_share = float(rep.iloc[0]) if len(rep) else None
    duration = _duration(row)
    n_pricing = int((hits["tracker"].astype(str) == "pricing").sum()) if not hits.empty else 0
    return {
        "call_id": {"text": call_id},
        "title": {"text": _text(row.get("title"))},
        "rep": {"text": _text(row.get("rep"))},
        "customer": {"text": _text(row.get("customer"))},
        "date": {"text": _date(row.get("date"))},
        "duration": {"text": charts._clock(duration) if duration else ""},
        "rep_share": {
            "text": f"{rep_share:.1%}" if rep_share is not None and math.isfinite(rep_share) else "n/a",
            "warn": rep_share is not None and rep_share > charts.TALK_RATIO_WARNING,
        },
        "hits": {"text": str(len(hits))},
        "pricing": {"text": str(n_pricing)},
        "summary": {"text": summary.method if summary is not None else ""},
    }


def _metric_columns(calls: pd.DataFrame) -> list[str]:
    """Numeric metric columns of ``calls`` that vary across calls (at most six, scorecard order)."""
    numeric = [
        str(c)
        for c in calls.select_dtypes("number").columns
        if str(c) not in _OVERVIEW_KEYS and calls[c].notna().any()
    ]
    preferred = [m for m in charts._DEFAULT_METRICS if m in numeric]
    rest = [m for m in numeric if m not in preferred]
    return (preferred + rest)[:6]


# Scorecard columns of hearkit.metrics listed in each call's section, with their labels.
_CALL_METRICS = (
    ("talk_ratio_rep", "rep talk ratio"),
    ("talk_ratio_customer", "customer talk ratio"),
    ("share_of_call_rep", "rep share of call"),
    ("silence_share", "silence share"),
    ("overtalk_share", "overtalk share"),
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


def _metric_items(row: pd.Series) -> list[dict[str, str]]:
    """The call's scorecard values (the known metrics when present, else every numeric column)."""
    known = [(c, label) for c, label in _CALL_METRICS if c in row.index]
    if not known:
        known = [
            (str(c), str(c).replace("_", " "))
            for c, v in row.items()
            if str(c) not in _OVERVIEW_KEYS and pd.api.types.is_number(v) and not isinstance(v, bool)
        ]
    items = [{"label": label, "value": _format_metric(column, row[column])} for column, label in known]
    flags = _text(row.get("flags"))
    if flags:
        items.append({"label": "data flags", "value": flags.replace(",", ", ")})
    return items


def _format_metric(name: str, raw: object) -> str:
    if raw is None or raw is pd.NA or not pd.api.types.is_number(raw):
        return "not measured"
    value = float(raw)  # type: ignore[arg-type]
    if math.isnan(value):
        return "not measured"
    if ("ratio" in name or "share" in name) and 0.0 <= value <= 1.0:
        return f"{value:.1%}"
    if name.endswith("_s") or "_s_" in name:
        return f"{value:,.1f} s"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.2f}"


def _summary_view(summary: CallSummary | None, prefix: str, turn_ids: set[int]) -> dict[str, Any] | None:
    """Summary blocks; citations link to ``#<prefix><turn>`` (the turn's id in the transcript)."""
    if summary is None:
        return None

    def items(entries: Sequence[SummaryItem]) -> list[dict[str, Any]]:
        out = []
        for entry in entries:
            extra = " · ".join(
                v for v in (getattr(entry, "owner_role", None), getattr(entry, "due", None)) if v
            )
            out.append(
                {
                    "text": entry.text,
                    "extra": extra,
                    "citations": [
                        {
                            "href": f"{prefix}{c.turn}" if c.turn in turn_ids else "",
                            "turn": c.turn,
                            "label": charts._clock(c.start),
                        }
                        for c in entry.citations
                    ],
                }
            )
        return out

    blocks = [
        {"label": label, "items": items(entries)}
        for label, entries in (
            ("Summary", summary.summary),
            ("Action items", summary.action_items),
            ("Next steps", summary.next_steps),
            ("Objections", summary.objections),
        )
        if entries
    ]
    method = summary.method + (f", {summary.model}" if summary.model else "")
    return {"method": method, "blocks": blocks}


def _turn_views(
    turns: pd.DataFrame,
    hits: pd.DataFrame,
    prefix: str,
    row: pd.Series,
    tracker_index: Mapping[str, int],
) -> list[dict[str, Any]]:
    names = {"rep": _text(row.get("rep")), "customer": _text(row.get("customer"))}
    phrases = _phrases_by_turn(turns, hits)
    views = []
    columns = (
        turns["turn"].astype(int),
        turns["role"],
        turns["speaker"],
        turns["start"].astype(float),
        turns["text"],
    )
    for number, role_value, speaker_value, start, text in zip(*columns, strict=True):
        role = _text(role_value) or "unknown"
        speaker = _text(speaker_value)
        who = names.get(role) or speaker
        views.append(
            {
                "anchor": f"{prefix}{number}",
                "role_css": re.sub(r"[^a-z0-9_-]", "", role.lower()) or "unknown",
                "clock": charts._clock(start),
                "who": f"{who} ({role})" if who != role else who,
                "pieces": _highlight(_text(text), phrases.get(number, []), tracker_index),
            }
        )
    return views


def _phrases_by_turn(turns: pd.DataFrame, hits: pd.DataFrame) -> dict[int, list[tuple[str, str]]]:
    """(tracker, phrase) of the hits in each turn: the hit's ``turn`` when it has one (as
    :func:`hearkit.trackers.find_hits` gives), else the turn of the same speaker around its start."""
    found: dict[int, list[tuple[str, str]]] = {}
    if hits.empty:
        return found
    spans = list(
        zip(
            turns["turn"].astype(int), turns["speaker"].astype(str), turns["start"], turns["end"], strict=True
        )
    )
    known = set(turns["turn"].astype(int))
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
            inside = [(t, s) for t, s, a, b in spans if a - 0.25 <= start <= b + 0.25]
            candidates = [t for t, s in inside if s == speaker] or [t for t, _ in inside]
            target = candidates[0] if candidates else None
        if target is not None:
            found.setdefault(target, []).append((str(tracker), str(phrase)))
    return found


_EDGE_PUNCTUATION = re.compile(r"^[\"'(\[]+|[.,;:!?\"')\]]+$")


def _highlight(
    text: str, phrases: Sequence[tuple[str, str]], tracker_index: Mapping[str, int]
) -> list[dict[str, Any]]:
    """``text`` split into plain pieces and tracker-phrase pieces (case-insensitive, whole words)."""
    spans: list[tuple[int, int, str]] = []
    for tracker, phrase in sorted(set(phrases), key=lambda p: -len(p[1])):
        # a hit's phrase is its words as spoken, which may carry the sentence's punctuation
        words = _EDGE_PUNCTUATION.sub("", phrase).split()
        if not words:
            continue
        pattern = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in words) + r"(?!\w)"
        for match in re.finditer(pattern, text, flags=re.IGNORECASE):
            if all(match.end() <= a or match.start() >= b for a, b, _ in spans):
                spans.append((match.start(), match.end(), tracker))
    pieces: list[dict[str, Any]] = []
    cursor = 0
    for start, end, tracker in sorted(spans):
        if start > cursor:
            pieces.append({"text": text[cursor:start], "hit": None})
        pieces.append({"text": text[start:end], "hit": tracker_index.get(tracker, 0), "tracker": tracker})
        cursor = end
    if cursor < len(text):
        pieces.append({"text": text[cursor:], "hit": None})
    return pieces


# ---------------------------------------------------------------------------------------------
# Page assembly


def _pack(figures: Mapping[str, go.Figure]) -> str:
    """Every figure's JSON in one object ``{chart id: figure}``, gzipped and base64-encoded.

    Plotly's JSON of a call's timeline repeats the same keys and snippets for every turn; gzip
    shrinks it about tenfold, which is what keeps a 50-call report small. Base64 has no ``<``,
    so the block cannot end its ``<script>`` early whatever the transcripts contain.
    """
    body = ",".join(f"{json.dumps(key)}:{_figure_json(fig)}" for key, fig in figures.items())
    return _gzip_base64("{" + body + "}")


def _figure_json(fig: go.Figure) -> str:
    payload = str(fig.to_json(validate=False))
    # plotly's encoder writes "<" as \u003c; refuse anything that could close the <script> block.
    if "<" in payload:
        raise RuntimeError("plotly JSON contains '<': refusing to embed it in a <script> block")
    return payload


@cache
def _template() -> jinja2.Template:
    source = resources.files("hearkit").joinpath("templates/report.html.j2").read_text(encoding="utf-8")
    env = jinja2.Environment(autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=False)
    return env.from_string(source)


def _tint(colour: str, alpha: float = 0.3) -> str:
    """``#RRGGBB`` as a translucent ``rgba()`` for highlight backgrounds."""
    red, green, blue = (int(colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({red}, {green}, {blue}, {alpha})"


def _digest(algorithm: str, text: str) -> str:
    return base64.b64encode(hashlib.new(algorithm, text.encode("utf-8")).digest()).decode("ascii")


@cache
@dataclass(frozen=True)
class _PlotlySource:
    """How the page gets plotly.js: a packed copy (``packed``) or the CDN (``url`` + ``integrity``)."""

    packed: str = ""
    url: str = ""
    integrity: str = ""


@cache
def _plotly_source(mode: PlotlyJS) -> _PlotlySource:
    bundle = plotly.offline.get_plotlyjs()
    if mode == "inline":
        return _PlotlySource(packed=_gzip_base64(bundle))
    return _PlotlySource(
        url=f"https://cdn.plot.ly/plotly-{plotly.offline.get_plotlyjs_version()}.min.js",
        integrity=f"sha384-{_digest('sha384', bundle)}",
    )


def _csp() -> str:
    """Only the loader runs (by hash); 'strict-dynamic' lets it, and nothing else, add plotly.js."""
    return (
        f"default-src 'none'; script-src 'sha256-{_digest('sha256', _LOADER)}' 'strict-dynamic'; "
        "style-src 'unsafe-inline'; img-src data:; font-src data:; base-uri 'none'; form-action 'none'"
    )


def _gzip_base64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")
