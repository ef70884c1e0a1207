"""Plotly figures of :mod:`hearkit.cohorts` results, with the intervals drawn.

* :func:`group_intervals`: each group's mean of a metric as a point with its confidence
  interval as a bar, the number of calls beside it (groups with too few calls drawn hollow).
* :func:`differences`: each pair's difference with its interval and a line at 0; an interval
  that crosses 0 is "no clear difference", drawn grey.
* :func:`trend`: one line per group over periods, the interval as error bars.

Shares are drawn in percentage points, like the readings. Labels are HTML-escaped.
"""

from __future__ import annotations

import html
from typing import Any

import pandas as pd
import plotly.graph_objects as go

from hearkit.charts import OKABE_ITO, THEME
from hearkit.cohorts import Comparison, Trend, level_unit, metric_label, metric_unit

__all__ = ["differences", "group_intervals", "trend"]

_CLEAR = "#0072B2"
escape_label = html.escape
_UNCLEAR = "#999999"


def group_intervals(comparison: Comparison, metric: str) -> go.Figure:
    """Each group's mean of ``metric`` with its interval (horizontal bars), ``n`` calls beside."""
    rows = _rows(comparison.groups, metric)
    unit, scale = level_unit(metric)
    enough = rows["n_calls"] >= comparison.min_calls
    labels = [f"{escape_label(str(g))} (n={n})" for g, n in zip(rows["group"], rows["n_calls"], strict=True)]
    fig = go.Figure(
        go.Scatter(
            x=(rows["mean"] * scale).round(4),
            y=labels,
            mode="markers",
            marker={
                "color": _CLEAR,
                "size": 10,
                "symbol": ["circle" if e else "circle-open" for e in enough.tolist()],
            },
            error_x={
                "type": "data",
                "symmetric": False,
                "array": ((rows["hi"] - rows["mean"]) * scale).round(4),
                "arrayminus": ((rows["mean"] - rows["lo"]) * scale).round(4),
                "color": _CLEAR,
                "thickness": 2,
            },
            hovertemplate="%{y}: %{x}<extra></extra>",
            showlegend=False,
        )
    )
    level = f"{100 * comparison.confidence:g} %"
    fig.update_layout(
        template=THEME,
        title=f"{escape_label(metric_label(metric))} by {escape_label(comparison.by)}: "
        f"mean and {level} interval",
        xaxis_title=_axis(metric, unit),
        height=160 + 34 * len(rows),
        margin={"l": 180},
    )
    return fig


def differences(comparison: Comparison, metric: str) -> go.Figure:
    """Each compared pair's difference ``a − b`` of ``metric`` with its interval and a line at 0."""
    rows = comparison.differences[comparison.differences["metric"] == metric]
    if rows.empty:
        raise KeyError(f"no differences of {metric!r} in this comparison; metrics: {_metrics(comparison)}")
    rows = rows.iloc[::-1]
    unit, scale = metric_unit(metric)
    clear = rows["verdict"].isin(["a_higher", "b_higher"]).tolist()
    labels = [f"{escape_label(a)} − {escape_label(b)}" for a, b in zip(rows["a"], rows["b"], strict=True)]
    fig = go.Figure()
    for is_clear, name in ((True, "clear difference"), (False, "interval holds 0 / too few calls")):
        pick = [c == is_clear for c in clear]
        part = rows[pick]
        colour = _CLEAR if is_clear else _UNCLEAR
        fig.add_trace(
            go.Scatter(
                x=(part["difference"] * scale).round(4),
                y=[label for label, p in zip(labels, pick, strict=True) if p],
                mode="markers",
                name=name,
                marker={"color": colour, "size": 9, "symbol": "diamond" if is_clear else "circle-open"},
                error_x=_error_bars(part["difference"], part["lo"], part["hi"], scale, colour)
                | {"thickness": 2},
                text=[escape_label(r) for r in part["reading"]],
                hovertemplate="%{text}<extra></extra>",
            )
        )
    fig.add_vline(x=0, line={"color": "#555555", "dash": "dot"})
    level = f"{100 * comparison.confidence:g} %"
    fig.update_layout(
        template=THEME,
        title=f"{escape_label(metric_label(metric))}: differences with {level} intervals",
        xaxis_title="difference, " + _axis(metric, unit),
        height=180 + 30 * len(rows),
        margin={"l": 220},
        legend={"orientation": "h", "y": -0.2},
    )
    return fig


def trend(result: Trend) -> go.Figure:
    """``result.metric`` per period for each group, the intervals as error bars."""
    unit, scale = level_unit(result.metric)
    fig = go.Figure()
    for i, (group, rows) in enumerate(result.points.groupby("group", sort=True)):
        colour = OKABE_ITO[i % len(OKABE_ITO)]
        fig.add_trace(
            go.Scatter(
                x=rows["period"],
                y=(rows["mean"] * scale).round(4),
                mode="lines+markers",
                name=escape_label(str(group)),
                line={"color": colour},
                error_y=_error_bars(rows["mean"], rows["lo"], rows["hi"], scale, colour),
                customdata=rows["n_calls"],
                hovertemplate="%{x|%Y-%m-%d}: %{y} (%{customdata} calls)<extra>"
                + escape_label(str(group))
                + "</extra>",
            )
        )
    level = f"{100 * result.confidence:g} %"
    fig.update_layout(
        template=THEME,
        title=f"{escape_label(metric_label(result.metric))} per {result.period} "
        f"by {escape_label(result.by)} ({level} intervals)",
        yaxis_title=_axis(result.metric, unit),
        height=420,
    )
    return fig


def _rows(groups: pd.DataFrame, metric: str) -> pd.DataFrame:
    rows = groups[groups["metric"] == metric]
    if rows.empty:
        raise KeyError(f"no metric {metric!r} in this comparison; metrics: {sorted(set(groups['metric']))}")
    return rows.iloc[::-1]


def _metrics(comparison: Comparison) -> list[str]:
    return sorted(set(comparison.groups["metric"]))


def _error_bars(centre: pd.Series, lo: pd.Series, hi: pd.Series, scale: float, colour: str) -> dict[str, Any]:
    """Plotly error bars from ``lo`` to ``hi`` around ``centre`` (times ``scale``); none where missing."""
    return {
        "type": "data",
        "symmetric": False,
        "array": ((hi - centre) * scale).round(4).fillna(0),
        "arrayminus": ((centre - lo) * scale).round(4).fillna(0),
        "color": colour,
    }


def _axis(metric: str, unit: str) -> str:
    return f"{metric_label(metric)}" + (f" ({unit})" if unit else "")


REPORT_METRICS = ("talk_ratio_rep", "longest_monologue_s_rep", "questions_rep", "patience_s")
"""The metrics the report compares across reps (those present in the calls frame)."""


def _group_sizes(calls: pd.DataFrame, by: str) -> pd.Series:  # type: ignore[type-arg]
    """Calls per ``by`` group (the report's compare section needs enough in two of them)."""
    return calls[by].dropna().astype(str).value_counts()


def report_section_absent(
    calls: pd.DataFrame, *, by: str = "rep", min_groups: int = 2, min_calls: int = 10
) -> str:
    """Why the report has no "compare" section although the calls have ``by`` groups (a small team's
    report had no roll-up by rep and said nothing, U9 finding 4), or ``""``."""
    if by not in calls.columns or not any(m in calls.columns for m in REPORT_METRICS):
        return ""
    sizes = _group_sizes(calls, by)
    if sizes.empty or int((sizes >= min_calls).sum()) >= min_groups:
        return ""
    shown = ", ".join(f"{group} {n}" for group, n in sizes.head(8).items()) + (" …" if len(sizes) > 8 else "")
    return (
        f"No comparison by {by}: it needs at least {min_groups} {by}s with {min_calls} calls each, to say a"
        f" difference with a 95 % interval (calls per {by} here: {shown}). Each call's own figures are below."
    )


def report_section(
    calls: pd.DataFrame, *, by: str = "rep", min_groups: int = 2, min_calls: int = 10
) -> tuple[list[tuple[str, go.Figure]], list[str]]:
    """The report's "compare" section: ``(charts, readings)`` comparing :data:`REPORT_METRICS`
    across ``by`` groups (each group's interval, then each pair's difference), or nothing when
    the calls have no such column or fewer than ``min_groups`` groups of ``min_calls`` calls."""
    from hearkit.cohorts import compare

    metrics = [m for m in REPORT_METRICS if m in calls.columns]
    if by not in calls.columns or not metrics:
        return [], []
    sizes = _group_sizes(calls, by)
    if int((sizes >= min_calls).sum()) < min_groups:  # nothing could be said: no section
        return [], []
    result = compare(calls, metrics, by=by, min_calls=min_calls)
    figures = [(f"{metric_label(m)} by {by}", group_intervals(result, m)) for m in metrics]
    figures.append((f"{metric_label(metrics[0])}: differences", differences(result, metrics[0])))
    return figures, result.readings()
