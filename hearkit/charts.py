"""Plotly figures of calls: talk ratio, call timeline, keyword timeline, pricing mentions and
metric distributions.

Every function takes the DataFrames of :mod:`hearkit.record` (``calls``, ``turns``, ``hits``;
column layout of :mod:`hearkit.frames`) and returns a :class:`plotly.graph_objects.Figure` in one
theme (:data:`THEME`) with a colour-blind-safe palette (Okabe–Ito, :data:`OKABE_ITO`). Marker
symbols repeat the colour coding so nothing depends on colour alone.

Text that comes from a transcript (snippets, call titles, speaker labels) is HTML-escaped before
it reaches a figure: plotly renders a subset of HTML tags in hover labels and tick labels, so an
unescaped ``<b>`` or ``<a href>`` in a transcript would otherwise become markup.

Example::

    from hearkit import charts
    from hearkit.record import CallSet

    cs = CallSet.load_sample()
    charts.talk_ratio(cs.turns).show()
    charts.call_timeline(cs.turns, cs.turns.call_id.iloc[0], hits=cs.hits).show()
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

import numpy as np
import numpy.typing as npt
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from hearkit import metrics
from hearkit.frames import (
    CALL_ID,
    END,
    PHRASE,
    POSITION,
    ROLE,
    SNIPPET,
    SPEAKER,
    START,
    TEXT,
    TRACKER,
    TURN,
    check,
)
from hearkit.timecode import clock

__all__ = [
    "DEFAULT_METRICS",
    "GOLDEN_TALK_RATIO",
    "METRIC_LABELS",
    "OKABE_ITO",
    "ROLE_COLORS",
    "TALK_RATIO_WARNING",
    "THEME",
    "call_timeline",
    "escape_label",
    "keyword_timeline",
    "metric_distributions",
    "metric_label",
    "pricing_mentions",
    "selected_call_markers",
    "talk_ratio",
    "talk_shares",
    "tracker_styles",
]

#: Okabe & Ito (2008) palette, distinguishable with the common forms of colour blindness.
OKABE_ITO: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#D55E00",  # vermillion
    "#F0E442",  # yellow
    "#000000",  # black
)
ROLE_COLORS: dict[str, str] = {
    "rep": "#0072B2",
    "customer": "#E69F00",
    "other": "#999999",
    "unknown": "#999999",
}
_ROLE_SYMBOLS: dict[str, str] = {"rep": "circle", "customer": "diamond", "unknown": "square"}
_TRACKER_SYMBOLS = ("star", "triangle-up", "x", "diamond", "square", "cross", "hexagon", "triangle-down")
_OVERTALK_COLOR = "#D55E00"
_SILENCE_COLOR = "#BBBBBB"
_HIGHLIGHT_COLOR = "#D55E00"

#: Gong's "golden ratio": top performers talk 43% of the time and listen 57%.
GOLDEN_TALK_RATIO = 0.43
#: Reps talking more than 65% of the time go with lower win rates (Gong Labs).
TALK_RATIO_WARNING = 0.65

THEME = go.layout.Template(
    layout={
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 13},
        "colorway": list(OKABE_ITO),
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "xaxis": {
            "gridcolor": "#E5E5E5",
            "zerolinecolor": "#BDBDBD",
            "linecolor": "#BDBDBD",
            "automargin": True,
        },
        "yaxis": {
            "gridcolor": "#E5E5E5",
            "zerolinecolor": "#BDBDBD",
            "linecolor": "#BDBDBD",
            "automargin": True,
        },
        "hoverlabel": {"align": "left", "bgcolor": "white", "font": {"size": 12}},
        "legend": {"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 1, "xanchor": "right"},
        "margin": {"l": 10, "r": 10, "t": 60, "b": 40},
        "title": {"x": 0, "xanchor": "left", "font": {"size": 16}},
    }
)


def tracker_styles(names: Iterable[object]) -> dict[str, tuple[str, str]]:
    """(colour, marker symbol) per tracker name: by position in the sorted names, so that every
    chart and the report's transcript highlights give one tracker the same look. Role colours
    (blue, orange) are skipped."""
    ordered = sorted({str(n) for n in names})
    colours = OKABE_ITO[2:]
    return {
        name: (colours[i % len(colours)], _TRACKER_SYMBOLS[i % len(_TRACKER_SYMBOLS)])
        for i, name in enumerate(ordered)
    }


#: Readable names of :mod:`hearkit.metrics` scorecard columns, for axes and tables.
METRIC_LABELS: dict[str, str] = {
    "duration_s": "call duration (s)",
    "talk_ratio_rep": "rep talk ratio",
    "talk_ratio_customer": "customer talk ratio",
    "share_of_call_rep": "rep share of call",
    "silence_share": "silence share",
    "overtalk_share": "overtalk share",
    "interruptions_rep": "rep interruptions",
    "interruptions_customer": "customer interruptions",
    "interruptions_total": "interruptions",
    "longest_monologue_s": "longest monologue (s)",
    "longest_monologue_s_rep": "longest rep monologue (s)",
    "longest_story_s_customer": "longest customer story (s)",
    "switches": "speaker switches",
    "interactivity_per_min": "switches per minute",
    "patience_s": "patience: pause before the rep answers (s)",
    "questions_rep": "rep questions",
    "questions_customer": "customer questions",
    "wpm_rep": "rep words per minute",
    "wpm_customer": "customer words per minute",
    "filler_rate_rep": "rep fillers per 100 words",
    "audio_seconds": "audio length (s)",
    "n_speakers": "speakers found",
    "n_turns": "turns",
}


def metric_label(column: str) -> str:
    """A calls-frame column in words for a chart: :data:`METRIC_LABELS`, else the name's words
    (``talk_s_other`` → ``talk (s, other)``), never the raw column name with its underscores."""
    if column in METRIC_LABELS:
        return METRIC_LABELS[column]
    words = column.split("_")
    notes = [w for w in words if w == "s"]
    if len(words) > 1 and words[-1] in (*metrics.ROLE_GROUPS, "total"):
        notes.append(words[-1])
        words = words[:-1]
    stem = " ".join(w for w in words if w != "s")
    return f"{stem} ({', '.join(notes)})" if notes else stem


def escape_label(value: object) -> str:
    """``value`` as text escaped for plotly's HTML-like rendering (hover labels, ticks, legends,
    titles): ``<b>`` in a transcript or call title shows as text, never as markup."""
    return html.escape(str(value), quote=False)


def _cells(rows: list[list[str]]) -> npt.NDArray[np.object_]:
    """Hover cells as a 2-D object array: plotly validates nested lists element by element,
    about 100x slower than an array (seconds for a long call)."""
    cells = np.empty((len(rows), len(rows[0]) if rows else 0), dtype=object)
    for index, row in enumerate(rows):
        cells[index, :] = row
    return cells


def _snippet(text: object, width: int = 60, limit: int = 180) -> str:
    """Escaped, shortened transcript text wrapped onto hover-label lines with ``<br>``."""
    words = str(text).split()
    lines: list[str] = []
    line = ""
    used = 0
    for word in words:
        if used + len(word) > limit:
            line += " …"
            break
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
        used += len(word) + 1
    lines.append(line)
    return "<br>".join(escape_label(part) for part in lines)


def _role_color(role: str) -> str:
    return ROLE_COLORS.get(role, OKABE_ITO[(sum(map(ord, role)) % 3) + 2])


def _call_order(frame: pd.DataFrame, calls: pd.DataFrame | None) -> list[str]:
    """Call ids in the order of the ``calls`` frame when given, else in first-seen order."""
    if calls is not None and CALL_ID in calls.columns:
        return [str(c) for c in calls[CALL_ID]]
    return [str(c) for c in pd.unique(frame[CALL_ID])]


def talk_shares(turns: pd.DataFrame, calls: pd.DataFrame | None = None) -> pd.DataFrame:
    """Talk share per call and role, long format: ``call_id``, ``role``, ``talk_s``, ``share``.

    ``share`` is :mod:`hearkit.metrics`' ``talk_ratio_<role>``: the role's talk time (union of each
    of its speakers' turns) / total talk time of the call (summed over speakers, so overlap counts
    for each speaker and the shares of a call add up to 1). Read from ``calls`` when it has the
    scorecard columns, else computed from ``turns`` with :func:`hearkit.metrics.scorecards`.
    Roles: ``rep``, ``customer``, ``other`` (every other role); a role nobody has in any call is left out.
    """
    ratios = [f"talk_ratio_{r}" for r in metrics.ROLE_GROUPS]
    if calls is not None and all(c in calls.columns for c in [CALL_ID, *ratios]):
        cards = calls
    else:
        check(turns, "turns", [CALL_ID, SPEAKER, START, END])
        cards = metrics.scorecards(turns)
    rows = []
    for role in metrics.ROLE_GROUPS:
        talk = (
            cards[f"talk_s_{role}"]
            if f"talk_s_{role}" in cards.columns
            else pd.Series(float("nan"), cards.index)
        )
        rows.append(
            pd.DataFrame(
                {
                    CALL_ID: cards[CALL_ID].astype(str).to_numpy(),
                    "role": role,
                    "talk_s": pd.to_numeric(talk, errors="coerce").astype(float).to_numpy(),
                    "share": pd.to_numeric(cards[f"talk_ratio_{role}"], errors="coerce")
                    .astype(float)
                    .to_numpy(),
                }
            )
        )
    shares = pd.concat(rows, ignore_index=True)
    present = shares.groupby("role", sort=False)["share"].transform(lambda v: bool((v.fillna(0) > 0).any()))
    return shares[present.astype(bool)].reset_index(drop=True)


def talk_ratio(
    turns: pd.DataFrame,
    calls: pd.DataFrame | None = None,
    *,
    golden: float = GOLDEN_TALK_RATIO,
    warning: float = TALK_RATIO_WARNING,
) -> go.Figure:
    """Talk share per call by role (stacked horizontal bars, rep first), with the reference band.

    Shares come from :func:`talk_shares` (``talk_ratio_<role>`` of :mod:`hearkit.metrics`: role talk
    time / total talk time of the call). A dashed
    line marks the golden ratio (``golden``, 43% talk) and a shaded band the region past
    ``warning`` (65%) where a rep's talking goes with lower win rates. ``calls`` (optional) gives the
    order of the bars and the titles shown on hover.
    """
    shares = talk_shares(turns, calls)
    order = _call_order(turns, calls)
    titles = _titles(calls)
    unmeasured, doubted = _talk_ratio_notes(calls)
    roles = list(pd.unique(shares["role"]))
    fig = go.Figure()
    for role in roles:
        rows = shares[shares["role"] == role].set_index(CALL_ID).reindex(order)
        said = []
        for c, share, t in zip(order, rows["share"], rows["talk_s"], strict=True):
            if pd.isna(share):  # not "0.0% of talk (0:00)": the overview table says n/a
                said.append(f"not measured ({unmeasured[c]})" if unmeasured.get(c) else "not measured")
            else:
                text = f"{share * 100:.1f}% of talk ({clock(t) if pd.notna(t) else '0:00'})"
                said.append(text + (f"; unreliable: {doubted[c]}" if c in doubted else ""))
        fig.add_trace(
            go.Bar(
                name=escape_label(role),
                orientation="h",
                y=[escape_label(c) for c in order],
                x=(rows["share"].fillna(0.0) * 100).round(2).tolist(),
                # a doubted call's bar is faint, as its cell in the overview table is
                marker={
                    "color": _role_color(role),
                    "line": {"width": 0},
                    "opacity": [0.45 if c in doubted else 1.0 for c in order],
                },
                customdata=_cells(
                    [
                        [escape_label(titles.get(c, c)), escape_label(t)]
                        for c, t in zip(order, said, strict=True)
                    ]
                ),
                hovertemplate="%{customdata[0]}<br>"
                + escape_label(role)
                + ": %{customdata[1]}<extra></extra>",
            )
        )
    # drawn over the bars (translucent) so the band shows where a bar's rep share runs past it
    fig.add_vrect(
        x0=warning * 100, x1=100, fillcolor=_OVERTALK_COLOR, opacity=0.15, line_width=0, layer="above"
    )
    fig.add_vline(x=golden * 100, line={"dash": "dash", "color": "#000000", "width": 1.5}, layer="above")
    for x, text, anchor in (
        (golden * 100, f"golden ratio: rep talks {golden:.0%}", "center"),
        ((warning * 100 + 100) / 2, f"rep > {warning:.0%}: lower win rates", "center"),
    ):
        fig.add_annotation(
            x=x, y=1, xref="x", yref="paper", yanchor="bottom", xanchor=anchor, text=text, showarrow=False
        )
    fig.update_layout(
        template=THEME,
        title="Talk ratio per call",
        barmode="stack",
        height=max(260, 120 + 28 * len(order)),
        margin={"t": 90},
        legend={"traceorder": "normal", "y": 1.15},
        xaxis={"title": "share of talk time (%)", "range": [0, 100], "ticksuffix": "%"},
        yaxis={"autorange": "reversed", "type": "category"},
    )
    return fig


def _greyed_by_call(calls: pd.DataFrame, metrics: Sequence[str]) -> dict[str, dict[str, str]]:
    """Per call, the metrics its quality block greys and why (:func:`hearkit.quality.view_of`)."""
    from hearkit.quality import quality_of, view_of

    if "quality" not in calls.columns:
        return {}
    out = {}
    for _, row in calls.iterrows():
        quality = quality_of(row)
        if quality is not None and quality.flags:
            out[str(row[CALL_ID])] = view_of(quality, list(metrics)).greyed
    return out


def _talk_ratio_notes(calls: pd.DataFrame | None) -> tuple[dict[str, str], dict[str, str]]:
    """Per call: why its talk ratio is not measured (data flags such as ``no_role``, or the quality
    block's), and which flags make a measured one unreliable (the codes the tables grey it for)."""
    from hearkit.quality import quality_of, view_of

    unmeasured: dict[str, str] = {}
    doubted: dict[str, str] = {}
    if calls is None or CALL_ID not in calls.columns:
        return unmeasured, doubted
    for _, row in calls.iterrows():
        call = str(row[CALL_ID])
        flags = [
            f
            for f in str(row.get("flags") or "").split(",")
            if f in (*metrics.ROLE_FLAGS, "no_talk", "no_result")
        ]
        greyed = view_of(quality_of(row), ["talk_ratio_rep"]).greyed.get("talk_ratio_rep")
        codes = greyed.split(":")[0] if greyed else ""
        ratio = row.get("talk_ratio_rep")
        if ratio is None or pd.isna(ratio):
            unmeasured[call] = ", ".join([*flags, *([codes] if codes else [])])
        elif codes:
            doubted[call] = codes
    return unmeasured, doubted


def _titles(calls: pd.DataFrame | None) -> dict[str, str]:
    if calls is None or "title" not in calls.columns or CALL_ID not in calls.columns:
        return {}
    return {str(c): str(t) for c, t in zip(calls[CALL_ID], calls["title"], strict=True) if pd.notna(t)}


def _speech_intervals(turns: pd.DataFrame) -> tuple[list[tuple[float, float]], list[tuple[float, float]]]:
    """(overtalk, speech) intervals of one call: overtalk = two or more speakers at once."""
    events: list[tuple[float, int, str]] = []
    for speaker, start, end in zip(turns["speaker"], turns["start"], turns["end"], strict=True):
        if end > start:
            events.append((float(start), 1, str(speaker)))
            events.append((float(end), -1, str(speaker)))
    # Ends sort before starts at the same instant: touching turns are not overtalk.
    events.sort(key=lambda e: (e[0], e[1]))
    active: dict[str, int] = {}
    overtalk: list[tuple[float, float]] = []
    speech: list[tuple[float, float]] = []
    last = 0.0
    for time, step, speaker in events:
        speakers = sum(1 for n in active.values() if n > 0)
        if time > last:
            if speakers >= 2:
                _add_span(overtalk, last, time)
            if speakers >= 1:
                _add_span(speech, last, time)
        active[speaker] = active.get(speaker, 0) + step
        last = time
    return overtalk, speech


def _add_span(spans: list[tuple[float, float]], start: float, end: float) -> None:
    """Append ``(start, end)`` to time-ordered ``spans``, joined to the last span when they touch
    (the sweep cuts speech at every turn boundary; the timeline draws one bar per stretch)."""
    if spans and spans[-1][1] >= start:
        spans[-1] = (spans[-1][0], end)
    else:
        spans.append((start, end))


def _gaps(speech: list[tuple[float, float]], duration: float, minimum: float) -> list[tuple[float, float]]:
    """Stretches of ``[0, duration]`` not covered by ``speech`` lasting at least ``minimum`` s."""
    gaps: list[tuple[float, float]] = []
    cursor = 0.0
    for start, end in [*speech, (duration, duration)]:
        if start - cursor >= minimum:
            gaps.append((cursor, start))
        cursor = max(cursor, end)
    return gaps


def _lane_bar(name: str, lane: str, spans: list[tuple[float, float]], color: str, hover: list[str]) -> go.Bar:
    return go.Bar(
        name=name,
        orientation="h",
        y=[lane] * len(spans),
        base=[round(s, 3) for s, _ in spans],
        x=[round(e - s, 3) for s, e in spans],
        width=0.6,
        marker={"color": color, "line": {"width": 0}},
        customdata=_cells([[h] for h in hover]),
        hovertemplate="%{customdata[0]}<extra></extra>",
    )


def call_timeline(
    turns: pd.DataFrame,
    call_id: str,
    *,
    hits: pd.DataFrame | None = None,
    duration_s: float | None = None,
    min_silence_s: float = 2.0,
) -> go.Figure:
    """Timeline of one call: a lane per speaker with its turns, plus overtalk and silence lanes.

    - turns: bars from ``start`` to ``end`` in the speaker's lane, coloured by role; hover shows
      the turn number, times and the (escaped) text.
    - overtalk: stretches where two or more speakers' turns overlap.
    - silence: stretches of at least ``min_silence_s`` seconds inside ``[0, duration_s]`` (default:
      the end of the last turn) where nobody has a turn.
    - tracker hits (``hits`` of :func:`hearkit.trackers.find_hits`): markers at ``start`` on the
      lane of the speaker who said them, one colour and symbol per tracker
      (:func:`tracker_styles` of every tracker in ``hits``, so all calls' timelines agree).
    """
    check(turns, "turns", [CALL_ID, TURN, SPEAKER, ROLE, START, END, TEXT])
    call = turns[turns[CALL_ID].astype(str) == str(call_id)].sort_values("start", kind="stable")
    if call.empty:
        raise ValueError(
            f"no turns for call_id {call_id!r}; known calls: {list(pd.unique(turns['call_id']))}"
        )
    duration = float(duration_s) if duration_s is not None else float(call["end"].max())
    speakers = list(dict.fromkeys(str(s) for s in call["speaker"]))
    roles = {str(s): str(r) for s, r in zip(call["speaker"], call["role"], strict=True)}
    lanes = {s: escape_label(f"{s} ({roles[s]})") if roles[s] != s else escape_label(s) for s in speakers}

    fig = go.Figure()
    for speaker in speakers:
        own = call[call["speaker"].astype(str) == speaker]
        spans = list(zip(own["start"].astype(float), own["end"].astype(float), strict=True))
        hover = [
            f"<b>{lanes[speaker]}</b> · turn {int(t)} · {clock(s)}–{clock(e)}<br>{_snippet(text)}"
            for t, (s, e), text in zip(own["turn"], spans, own["text"], strict=True)
        ]
        fig.add_trace(_lane_bar(lanes[speaker], lanes[speaker], spans, _role_color(roles[speaker]), hover))

    overtalk, speech = _speech_intervals(call)
    if overtalk:
        hover = [f"overtalk {clock(s)}–{clock(e)} ({e - s:.1f} s)" for s, e in overtalk]
        fig.add_trace(_lane_bar("overtalk", "overtalk", overtalk, _OVERTALK_COLOR, hover))
    silences = _gaps(speech, duration, min_silence_s)
    if silences:
        hover = [f"silence {clock(s)}–{clock(e)} ({e - s:.1f} s)" for s, e in silences]
        fig.add_trace(_lane_bar("silence", "silence", silences, _SILENCE_COLOR, hover))

    if hits is not None and not hits.empty:
        check(hits, "hits", [CALL_ID, TRACKER, PHRASE, SPEAKER, START, SNIPPET])
        own_hits = hits[hits[CALL_ID].astype(str) == str(call_id)]
        styles = tracker_styles(pd.unique(hits["tracker"].astype(str)))
        for tracker, group in own_hits.groupby("tracker", sort=True):
            colour, symbol = styles[str(tracker)]
            fig.add_trace(
                go.Scatter(
                    name=escape_label(tracker),
                    mode="markers",
                    x=group["start"].astype(float).round(3).tolist(),
                    y=[lanes.get(str(s), escape_label(s)) for s in group["speaker"]],
                    marker={
                        "symbol": symbol,
                        "size": 13,
                        "color": colour,
                        "line": {"width": 1, "color": "#000000"},
                    },
                    customdata=_cells(
                        [
                            [escape_label(p), clock(s), _snippet(sn)]
                            for p, s, sn in zip(
                                group["phrase"], group["start"], group["snippet"], strict=True
                            )
                        ]
                    ),
                    hovertemplate=(
                        "<b>" + escape_label(tracker) + "</b>: %{customdata[0]} at %{customdata[1]}"
                        "<br>%{customdata[2]}<extra></extra>"
                    ),
                )
            )
    lane_order = [lanes[s] for s in speakers] + [n for n in ("overtalk", "silence") if n in _names(fig)]
    fig.update_layout(
        template=THEME,
        title="Call timeline",
        barmode="overlay",
        height=140 + 45 * len(lane_order),
        xaxis={"title": "time (s)", "range": [0, max(duration, 1.0)]},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": lane_order[::-1]},
    )
    return fig


def _names(fig: go.Figure) -> set[str]:
    return {str(trace.name) for trace in fig.data}


def _role_hits(
    role: object,
    group: pd.DataFrame,
    y: list[str],
    cells: list[list[str]],
    hover: str,
    *,
    opacity: float | None = None,
) -> go.Scatter:
    """One role's tracker hits as markers at their ``position`` in the call (% of its duration),
    in the role's colour and symbol."""
    marker: dict[str, object] = {
        "color": _role_color(str(role)),
        "symbol": _ROLE_SYMBOLS.get(str(role), "square"),
        "size": 11,
    }
    if opacity is not None:
        marker["opacity"] = opacity
    marker["line"] = {"width": 1, "color": "white"}
    return go.Scatter(
        name=escape_label(role),
        mode="markers",
        x=(group["position"].astype(float) * 100).round(2).tolist(),
        y=y,
        marker=marker,
        customdata=_cells(cells),
        hovertemplate=hover,
    )


def keyword_timeline(
    hits: pd.DataFrame,
    *,
    call_id: str | None = None,
    trackers: Sequence[str] | None = None,
) -> go.Figure:
    """Where in the call each tracker fires: x = ``position`` (hit start / call duration, in % of
    the call), one row per tracker, one marker per hit, coloured and shaped by who said it.

    ``call_id`` restricts to one call (default: every call in ``hits``); ``trackers`` picks and
    orders the rows (default: every tracker in ``hits``, sorted).
    """
    check(hits, "hits", [CALL_ID, TRACKER, PHRASE, ROLE, START, POSITION, SNIPPET])
    shown = hits if call_id is None else hits[hits[CALL_ID].astype(str) == str(call_id)]
    rows = sorted(pd.unique(shown["tracker"].astype(str))) if trackers is None else list(trackers)
    shown = shown[shown["tracker"].astype(str).isin(rows)]
    fig = go.Figure()
    for role, group in shown.groupby("role", sort=True):
        cells = [
            [escape_label(c), escape_label(p), clock(s), _snippet(sn)]
            for c, p, s, sn in zip(
                group[CALL_ID], group["phrase"], group["start"], group["snippet"], strict=True
            )
        ]
        hover = (
            "%{customdata[0]} at %{customdata[2]} (%{x:.0f}% of the call)"
            "<br><b>%{customdata[1]}</b><br>%{customdata[3]}<extra></extra>"
        )
        y = [escape_label(t) for t in group["tracker"]]
        fig.add_trace(_role_hits(role, group, y, cells, hover, opacity=0.8))
    fig.update_layout(
        template=THEME,
        title="Keyword timeline" + ("" if call_id is None else f": {escape_label(call_id)}"),
        height=max(240, 120 + 40 * len(rows)),
        xaxis={"title": "position in the call (% of its duration)", "range": [-2, 102], "ticksuffix": "%"},
        yaxis={
            "type": "category",
            "categoryorder": "array",
            "categoryarray": [escape_label(r) for r in rows][::-1],
        },
    )
    return fig


def pricing_mentions(
    hits: pd.DataFrame,
    calls: pd.DataFrame | None = None,
    *,
    tracker: str = "pricing",
) -> go.Figure:
    """Pricing mentions per call: how many (left, bars) and where in the call (right, markers at
    ``position`` = hit start / call duration, in %), coloured by who said them.

    Counts are hits of ``tracker`` per call; calls of ``calls`` without a mention show 0.
    """
    check(hits, "hits", [CALL_ID, TRACKER, PHRASE, ROLE, START, POSITION, SNIPPET])
    pricing = hits[hits["tracker"].astype(str) == tracker]
    order = (
        _call_order(pricing, calls) if calls is not None else [str(c) for c in pd.unique(pricing[CALL_ID])]
    )
    labels = [escape_label(c) for c in order]
    fig = make_subplots(
        rows=1,
        cols=2,
        shared_yaxes=True,
        column_widths=[0.3, 0.7],
        horizontal_spacing=0.03,
        subplot_titles=("mentions per call", "where in the call"),
    )
    counts = pricing[CALL_ID].astype(str).value_counts().reindex(order, fill_value=0)
    fig.add_trace(
        go.Bar(
            name="mentions",
            orientation="h",
            y=labels,
            x=counts.astype(int).tolist(),
            marker={"color": "#999999"},
            showlegend=False,
            hovertemplate="%{y}: %{x} mention(s)<extra></extra>",
        ),
        row=1,
        col=1,
    )
    for role, group in pricing.groupby("role", sort=True):
        cells = [
            [escape_label(p), clock(s), _snippet(sn)]
            for p, s, sn in zip(group["phrase"], group["start"], group["snippet"], strict=True)
        ]
        hover = (
            "%{y} at %{customdata[1]} (%{x:.0f}%)<br><b>%{customdata[0]}</b>"
            "<br>%{customdata[2]}<extra></extra>"
        )
        y = [escape_label(c) for c in group[CALL_ID]]
        fig.add_trace(_role_hits(role, group, y, cells, hover), row=1, col=2)
    fig.update_layout(
        template=THEME,
        title=f"Pricing mentions ({escape_label(tracker)} tracker)",
        height=max(280, 140 + 28 * len(order)),
        margin={"t": 100},
        legend={"y": 1.16},
        yaxis={"type": "category", "categoryorder": "array", "categoryarray": labels[::-1]},
    )
    fig.update_xaxes(title_text="mentions", rangemode="tozero", row=1, col=1)
    fig.update_xaxes(title_text="% of the call", range=[-2, 102], ticksuffix="%", row=1, col=2)
    return fig


#: Scorecard columns shown by :func:`metric_distributions` by default (the first six present).
DEFAULT_METRICS = (
    "talk_ratio_rep",
    "longest_monologue_s_rep",
    "longest_story_s_customer",
    "questions_rep",
    "interactivity_per_min",
    "patience_s",
    "silence_share",
    "interruptions_total",
    "wpm_rep",
    "duration_s",
)


def _distribution_metrics(calls: pd.DataFrame, metrics: Sequence[str] | None) -> list[str]:
    check(calls, "calls")
    if metrics is None:
        metrics = [m for m in DEFAULT_METRICS if m in calls.columns][:6]
        if not metrics:
            metrics = [
                str(c) for c in calls.select_dtypes("number").columns if c not in ("turns", "n_turns")
            ][:6]
    unknown = [m for m in metrics if m not in calls.columns]
    if unknown or not metrics:
        raise ValueError(f"metric column(s) {unknown or '(none)'} not in calls; it has {list(calls.columns)}")
    return list(metrics)


def metric_distributions(
    calls: pd.DataFrame,
    metrics: Sequence[str] | None = None,
    *,
    selected: str | None = None,
) -> go.Figure:
    """Distribution of each metric across calls (one row per metric: box plus every call as a
    point), with the ``selected`` call drawn as a large vermillion diamond
    (:func:`selected_call_markers`).

    ``metrics`` are columns of ``calls`` (default: the usual scorecard metrics present in it).
    """
    metrics = _distribution_metrics(calls, metrics)
    highlight = selected_call_markers(calls, metrics, selected) if selected is not None else []
    titles = _titles(calls)
    ids = [str(c) for c in calls[CALL_ID]]
    greyed = _greyed_by_call(calls, metrics)
    doubted = {m: np.array([m in greyed.get(c, {}) for c in ids], dtype=bool) for m in metrics}
    values_of = {m: pd.to_numeric(calls[m], errors="coerce").astype(float) for m in metrics}
    titles_of = []
    for metric in metrics:
        n_greyed = int((doubted[metric] & values_of[metric].notna().to_numpy()).sum())
        n_values = int(values_of[metric].notna().sum())
        # The box is of the values the tables show plainly; greyed ones are grey points beside it
        # (U5 finding 14: six greyed rep talk ratios of eight made the box and its whiskers).
        note = f" ({n_greyed} of {n_values} greyed, grey points: not in the box)" if n_greyed else ""
        titles_of.append(escape_label(metric_label(metric)) + note)
    fig = make_subplots(rows=len(metrics), cols=1, subplot_titles=titles_of)
    for row, metric in enumerate(metrics, start=1):
        values = values_of[metric]
        # a value the call's quality block greys says so on hover, as the tables grey it
        notes = [
            f" (unreliable: {greyed[c][metric].split(':')[0]})" if metric in greyed.get(c, {}) else ""
            for c in ids
        ]
        cells = [[escape_label(titles.get(c, c)), escape_label(n)] for c, n in zip(ids, notes, strict=True)]
        plain = ~doubted[metric]
        fig.add_trace(
            go.Box(
                name=escape_label(metric),
                x=values[plain].round(4).tolist(),
                orientation="h",
                boxpoints="all",
                jitter=0.4,
                pointpos=0,
                fillcolor="rgba(0,114,178,0.10)",
                line={"color": "#0072B2"},
                marker={"color": "#0072B2", "size": 6, "opacity": 0.6},
                customdata=_cells([cell for cell, keep in zip(cells, plain, strict=True) if keep]),
                hovertemplate="%{customdata[0]}: %{x}%{customdata[1]}<extra></extra>",
                showlegend=False,
            ),
            row=row,
            col=1,
        )
        if doubted[metric].any():
            fig.add_trace(
                go.Box(  # points only: no box, no whiskers, no statistics of these values
                    name=escape_label(metric),
                    x=values[doubted[metric]].round(4).tolist(),
                    orientation="h",
                    boxpoints="all",
                    jitter=0.4,
                    pointpos=0,
                    fillcolor="rgba(0,0,0,0)",
                    line={"color": "rgba(0,0,0,0)", "width": 0},
                    marker={"color": "#999999", "size": 6, "opacity": 0.8, "symbol": "circle-open"},
                    hoveron="points",
                    customdata=_cells(
                        [cell for cell, grey in zip(cells, doubted[metric], strict=True) if grey]
                    ),
                    hovertemplate="%{customdata[0]}: %{x}%{customdata[1]}<extra></extra>",
                    showlegend=False,
                ),
                row=row,
                col=1,
            )
        fig.update_yaxes(showticklabels=False, row=row, col=1)
        if "ratio" in metric or "share" in metric:
            fig.update_xaxes(tickformat=".0%", row=row, col=1)
    fig.add_traces(highlight)
    fig.update_layout(
        template=THEME,
        title="Metrics across calls" + ("" if selected is None else f" (◆ {escape_label(selected)})"),
        height=100 + 110 * len(metrics),
    )
    return fig


def selected_call_markers(
    calls: pd.DataFrame, metrics: Sequence[str] | None, selected: str
) -> list[go.Scatter]:
    """The ``selected`` call's markers of :func:`metric_distributions` (one per metric, on that
    metric's subplot axes ``x``, ``x2``, …), to lay over the figure drawn without a selection."""
    metrics = _distribution_metrics(calls, metrics)
    rows = calls[calls[CALL_ID].astype(str) == str(selected)]
    if rows.empty:
        raise ValueError(f"selected call {selected!r} is not in calls")
    label = escape_label(_titles(calls).get(str(selected), str(selected)))
    traces = []
    for row, metric in enumerate(metrics, start=1):
        value = pd.to_numeric(rows[metric], errors="coerce").astype(float).iloc[0]
        suffix = "" if row == 1 else str(row)
        traces.append(
            go.Scatter(
                name=escape_label(selected),
                mode="markers",
                x=[round(float(value), 4)],
                y=[escape_label(metric)],
                xaxis=f"x{suffix}",
                yaxis=f"y{suffix}",
                marker={
                    "symbol": "diamond",
                    "size": 16,
                    "color": _HIGHLIGHT_COLOR,
                    "line": {"width": 1.5, "color": "#000000"},
                },
                hovertemplate=label + ": %{x}<extra></extra>",
                showlegend=False,
            )
        )
    return traces
