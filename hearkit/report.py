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
import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal, TypedDict, Unpack

import jinja2
import pandas as pd
import plotly.graph_objects as go
import plotly.offline

from hearkit import __version__, charts, cohort_charts, report_audio, views
from hearkit import frames as frames_
from hearkit.frames import CALL_ID, DURATION_S, END, ROLE, SPEAKER, START, TEXT, TURN, CallFrames
from hearkit.quality import NOT_MEASURED, QualityView
from hearkit.record import CallRecord, CallSet
from hearkit.summary import CallSummary

__all__ = [
    "CallFrames",
    "PlotlyJS",
    "RenderedReport",
    "ReportOptions",
    "WrittenReport",
    "figures",
    "render_html",
    "write_html",
    "write_report",
]

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


def render_html(calls: CallFrames | Any | Sequence[Any], **options: Unpack[ReportOptions]) -> str:
    """The report as one HTML string.

    ``calls`` is a :class:`hearkit.record.CallSet`, a :class:`hearkit.record.CallRecord`, or a list
    of them. ``plotlyjs``: ``"inline"`` embeds plotly.js once (works offline), ``"cdn"`` loads it
    from cdn.plot.ly. ``open_calls`` opens the per-call sections initially (default: only when the
    report has one call). ``audio``: ``"moments"`` embeds a short Opus clip of each tracker hit,
    monologue and interruption, ``"full"`` each whole recording, ``"none"`` nothing; ``None``
    means moments when the recordings are at hand (``audio_files`` {call_id: path}, an
    ``audio_path`` column, or the sample calls), see :mod:`hearkit.report_audio`.
    """
    return _render(calls, **options).html


@dataclass(frozen=True)
class RenderedReport:
    """A rendered report: its ``html`` and the ``audio`` it embeds (what, how many bytes, the notice)."""

    html: str
    audio: report_audio.ReportAudio


@dataclass(frozen=True)
class WrittenReport:
    """A report written to ``path``, with the ``audio`` it embeds."""

    path: Path
    audio: report_audio.ReportAudio


def _render(
    calls: CallFrames | Any | Sequence[Any],
    *,
    plotlyjs: PlotlyJS = "inline",
    title: str = "hearkit call report",
    open_calls: bool | None = None,
    audio: report_audio.AudioMode | None = "none",
    audio_files: Mapping[str, str | Path] | None = None,
) -> RenderedReport:
    """:func:`render_html` with the audio it embeds (the options and their defaults are here)."""
    if plotlyjs not in ("inline", "cdn"):
        raise ValueError(f"plotlyjs must be 'inline' or 'cdn', not {plotlyjs!r}")
    data = _collect(calls)
    overall, per_call = _plan(data)
    shares = charts.talk_shares(data.turns, data.calls)
    trackers = sorted({str(t) for t in data.hits["tracker"]}) if not data.hits.empty else []
    styles = charts.tracker_styles(trackers)
    tracker_index = {name: i for i, name in enumerate(trackers)}
    ids = [str(c) for c in data.calls[CALL_ID]]
    sound = report_audio.build(
        data.calls, data.turns, data.hits, mode=audio, audio_files=audio_files,
        keys={cid: f"c{i}" for i, cid in enumerate(ids)},
    )  # fmt: skip
    compare_figures, readings = cohort_charts.report_section(data.calls) if len(ids) > 1 else ([], [])
    compare_absent = cohort_charts.report_section_absent(data.calls) if len(ids) > 1 else ""
    compare_charts = [
        {"id": f"compare-{i}", "label": label, "figure": f"compare-{i}", "overlay": ""}
        for i, (label, _) in enumerate(compare_figures)
    ]
    packed = _pack(
        {
            **{c.id: c.figure for c in [*overall, *(c for group in per_call.values() for c in group)]},
            **{f"compare-{i}": fig for i, (_, fig) in enumerate(compare_figures)},
        }
    )

    call_views = []
    for index, call_id in enumerate(ids):
        row = data.calls.iloc[index]
        call_turns = data.turns[data.turns[CALL_ID].astype(str) == call_id]
        call_hits = data.hits[data.hits[CALL_ID].astype(str) == call_id] if not data.hits.empty else data.hits
        summary = data.summaries.get(call_id)
        view = views.call_view(
            call_id, row, call_turns, call_hits, summary, prefix=f"c{index}t", tracker_index=tracker_index
        )
        call_views.append(
            {
                "anchor": f"call-{index}",
                "heading": view.heading,
                "subheading": view.subheading,
                "overview": _overview_cells(row, call_id, shares, call_hits, summary, view.quality),
                "metrics": view.metrics,
                "quality": view.quality,
                "notes": view.notes,
                "summary": view.summary,
                "charts": [c.view() for c in per_call[call_id]],
                "turns": view.turns,
                "lines": report_audio.turn_attributes(
                    f"c{index}", [t.turn for t in view.turns], call_turns, call_hits
                )
                if sound.clips
                else [],
            }
        )

    total = sum(views.duration_of(data.calls.iloc[i]) or 0.0 for i in range(len(ids)))
    page = _template().render(
        title=title,
        version=__version__,
        csp=_csp(audio=bool(sound.clips)),
        audio=sound,
        audio_script=report_audio.PLAYER_JS,
        compare_charts=compare_charts,
        compare_readings=readings,
        compare_absent=compare_absent,
        plotly=_plotly_source(plotlyjs),
        loader=_LOADER,
        calls=call_views,
        open_calls=len(ids) == 1 if open_calls is None else open_calls,
        overview_columns=[c for c in _OVERVIEW_COLUMNS if c.key != "summary" or data.summaries],
        overall_charts=[c.view() for c in overall],
        figures=packed,
        trackers=[{"name": name, "index": tracker_index[name]} for name in trackers],
        hit_colors=[(_tint(styles[name][0]), styles[name][0]) for name in trackers],
        total_duration=views.clock(total) if total else "",
        golden=f"{charts.GOLDEN_TALK_RATIO:.0%}",
        warning=f"{charts.TALK_RATIO_WARNING:.0%}",
    )
    return RenderedReport(page, sound)


def figures(calls: CallFrames | Any | Sequence[Any]) -> dict[str, go.Figure]:
    """The figures :func:`render_html` draws for ``calls``, by chart id (``chart-0``, …): the
    charts across calls first, then each call's timeline and its metrics among all calls."""
    overall, per_call = _plan(_collect(calls))
    return {c.id: c.full_figure() for c in [*overall, *(c for group in per_call.values() for c in group)]}


class ReportOptions(TypedDict, total=False):
    """Keyword options of :func:`render_html` and :func:`write_html` (see :func:`render_html`)."""

    plotlyjs: PlotlyJS
    title: str
    open_calls: bool | None
    audio: report_audio.AudioMode | None
    audio_files: Mapping[str, str | Path] | None


def write_html(
    calls: CallFrames | Any | Sequence[Any], path: str | Path, **options: Unpack[ReportOptions]
) -> Path:
    """Write :func:`render_html` to ``path`` (UTF-8) and return the path; options as :func:`render_html`."""
    return write_report(calls, path, **options).path


def write_report(
    calls: CallFrames | Any | Sequence[Any], path: str | Path, **options: Unpack[ReportOptions]
) -> WrittenReport:
    """:func:`write_html`, also returning the audio the file embeds (what the CLI tells its user)."""
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(f"{target} is a directory: give a file name such as {target / 'report.html'}")
    rendered = _render(calls, **options)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(rendered.html, encoding="utf-8")
    return WrittenReport(target, rendered.audio)


def _plan(data: _Data) -> tuple[list[_Chart], dict[str, list[_Chart]]]:
    """The report's charts: across calls, and per call (timeline; metrics among all calls)."""
    made: list[_Chart] = []

    def add(fig: go.Figure, label: str) -> _Chart:
        made.append(_Chart(id=f"chart-{len(made)}", label=label, figure=fig))
        return made[-1]

    hits = data.hits if not data.hits.empty else None
    ids = [str(c) for c in data.calls[CALL_ID]]
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
    with_turns = set(data.turns[CALL_ID].astype(str))
    per_call: dict[str, list[_Chart]] = {}
    for index, call_id in enumerate(ids):
        group = []
        if call_id in with_turns:
            timeline = charts.call_timeline(
                data.turns, call_id, hits=hits, duration_s=views.duration_of(data.calls.iloc[index])
            )
            group.append(add(timeline, f"Timeline of {call_id}"))
        if distributions is not None:
            # the page draws the across-calls figure again with this call's markers on top
            markers = go.Figure(
                data=charts.selected_call_markers(data.calls, metrics, call_id),
                layout={"title": {"text": f"Metrics across calls (◆ {charts.escape_label(call_id)})"}},
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
    duplicated = calls[CALL_ID].astype(str).duplicated()
    if duplicated.any():
        raise ValueError(f"call_id(s) appear twice: {sorted(set(calls[CALL_ID][duplicated].astype(str)))}")
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
    frames = CallSet.from_records([source]) if isinstance(source, CallRecord) else source
    turns = getattr(frames, "turns", None)
    calls = getattr(frames, "calls", None)
    hits = getattr(frames, "hits", None)
    if not isinstance(turns, pd.DataFrame):
        raise TypeError(
            f"cannot report on a {type(source).__name__}: pass a hearkit.record.CallSet, a CallRecord, "
            "or a list of them"
        )
    frames_.check(turns, "turns", [CALL_ID, TURN, SPEAKER, ROLE, START, END, DURATION_S, TEXT])
    if not isinstance(calls, pd.DataFrame) or calls.empty:
        calls = pd.DataFrame({CALL_ID: pd.unique(turns[CALL_ID].astype(str))})
    frames_.check(calls, "calls")
    if not isinstance(hits, pd.DataFrame):
        hits = pd.DataFrame()
    summaries = frames_.summaries_of(frames) | frames_.summaries_of(source)
    return _Data(calls=calls.reset_index(drop=True), turns=turns, hits=hits, summaries=summaries)


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
    _Column("trust", "trust"),
    _Column("hits", "tracker hits", "num"),
    _Column("pricing", "pricing", "num"),
    _Column("summary", "summary"),
)


def _overview_cells(
    row: pd.Series,
    call_id: str,
    shares: pd.DataFrame,
    hits: pd.DataFrame,
    summary: CallSummary | None,
    quality: QualityView | None,
) -> dict[str, dict[str, Any]]:
    """One overview row. The rep talk cell is greyed with the reason, not flagged above the
    coaching line, when the call's quality block says its talk ratio is unreliable."""
    rep = shares[(shares[CALL_ID] == call_id) & (shares["role"] == "rep")]["share"]
    rep_share = float(rep.iloc[0]) if len(rep) else None
    unreliable = quality.greyed.get("talk_ratio_rep") if quality is not None else None
    duration = views.duration_of(row)
    n_pricing = int((hits["tracker"].astype(str) == "pricing").sum()) if not hits.empty else 0
    return {
        "call_id": {"text": call_id},
        "title": {"text": views.text_of(row.get("title"))},
        "rep": {"text": views.text_of(row.get("rep"))},
        "customer": {"text": views.text_of(row.get("customer"))},
        "date": {"text": views.date_text(row.get("date"))},
        "duration": {"text": views.clock(duration) if duration else ""},
        "rep_share": {
            "text": f"{rep_share:.1%}" if rep_share is not None and math.isfinite(rep_share) else "n/a",
            "warn": not unreliable and rep_share is not None and rep_share > charts.TALK_RATIO_WARNING,
            "unreliable": unreliable,
        },
        "trust": {"text": quality.trust if quality is not None else NOT_MEASURED},
        "hits": {"text": str(len(hits))},
        "pricing": {"text": str(n_pricing)},
        "summary": {"text": summary.method if summary is not None else ""},
    }


def _metric_columns(calls: pd.DataFrame) -> list[str]:
    """Numeric metric columns of ``calls`` that vary across calls (at most six, scorecard order)."""
    numeric = [
        str(c)
        for c in calls.select_dtypes("number").columns
        if str(c) not in views.DESCRIPTIVE_COLUMNS and calls[c].notna().any()
    ]
    preferred = [m for m in charts.DEFAULT_METRICS if m in numeric]
    rest = [m for m in numeric if m not in preferred]
    return (preferred + rest)[:6]


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


def _csp(*, audio: bool = False) -> str:
    """Only the loader runs (by hash); 'strict-dynamic' lets it, and nothing else, add plotly.js.
    With audio, the player script (by hash) too, and media from the page's own data: URLs."""
    player = f" 'sha256-{_digest('sha256', report_audio.PLAYER_JS)}'" if audio else ""
    media = " media-src data:;" if audio else ""
    return (
        f"default-src 'none'; script-src 'sha256-{_digest('sha256', _LOADER)}'{player} 'strict-dynamic'; "
        f"style-src 'unsafe-inline'; img-src data:; font-src data:;{media} "
        "base-uri 'none'; form-action 'none'"
    )


def _gzip_base64(text: str) -> str:
    return base64.b64encode(gzip.compress(text.encode("utf-8"), mtime=0)).decode("ascii")
