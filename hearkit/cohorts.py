"""Compare scorecard metrics across groups of calls, with honest error bars.

A manager comparing reps on a handful of calls reads noise as signal. :func:`compare` gives, for
any scorecard metric (a numeric column of the calls frame) and any grouping (``rep``, ``team``,
``kind``, an outcome column of the metadata, or ``week`` / ``month`` derived from ``date``):

* per group: the mean over calls, a bootstrap confidence interval of that mean, and ``n_calls``,
  the number of calls in which the metric was measured (NaN, e.g. a role absent from the call,
  is "not measured" and is left out of both the mean and ``n_calls``);
* per pair of groups: the difference of the means (``a − b``), its bootstrap interval, and a
  plain-words reading: "Maya talks more than Sam: 95 % interval of the difference 4–11 pp, 38
  and 41 calls", "no clear difference …", or "not enough calls to say" (fewer than
  ``min_calls`` measured calls in a group).

:func:`trend` does the same per group and period (calls of a rep per week or month), and reads
the change from the first to the last period.

The bootstrap resamples calls with replacement within each group, independently between
groups (the groups are independent samples), ``n_resamples`` times, from a seeded numpy
generator: the same inputs and seed give the same intervals. The mean of a resample is the mean
over its measured calls. Intervals are percentile intervals of the resampled means (or of
their differences), widened by the small-sample factor of Hesterberg's *expanded percentile*
interval (the tail level α/2 is moved to Φ(√(n/(n−1)) · t_{α/2, n−1}), n the smaller group's
count), because the plain percentile interval is too narrow for small groups; under
:data:`MIN_INTERVAL_CALLS` calls no interval is given (NaN), since no resampling of so few calls
covers the mean as often as it says. Measured coverage on synthetic populations with a known
difference: ``benchmarks/bench_cohorts.py``.

Vectorized: each group's resamples are one matrix of resample counts (``n_resamples × n_calls``,
from one ``integers`` draw and one ``bincount``) multiplied by the calls × metrics value matrix,
so every metric shares the same resamples and nothing loops over calls or resamples.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any, Literal, TypeAlias

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from hearkit.frames import CALL_ID

__all__ = [
    "DERIVED_GROUPS",
    "Comparison",
    "Trend",
    "compare",
    "group_labels",
    "level_unit",
    "metric_label",
    "metric_unit",
    "numeric_metrics",
    "trend",
]

FloatArray: TypeAlias = npt.NDArray[np.float64]
Pairs: TypeAlias = Literal["all", "vs_rest"] | Sequence[tuple[str, str]]

DERIVED_GROUPS = ("week", "month")
"""Groupings derived from the calls' ``date`` column when no column of that name exists."""

_NOT_METRICS = frozenset({CALL_ID, "job_id", "audio_seconds", "duration_s", "flags", "top_keywords"})
_MAX_COUNT_CELLS = 4_000_000
"""Resample-count cells (resamples × calls) made at once for one group; bounds the memory."""

# How a difference in a metric reads in words: (a is higher, a is lower).
_PHRASES: dict[str, tuple[str, str]] = {
    "talk_ratio_rep": ("talks more", "talks less"),
    "talk_ratio_customer": ("lets the customer talk more", "lets the customer talk less"),
    "talk_s_rep": ("talks longer", "talks less"),
    "longest_monologue_s_rep": ("has longer monologues", "has shorter monologues"),
    "longest_monologue_s": ("has longer monologues", "has shorter monologues"),
    "longest_story_s_customer": ("draws longer customer stories", "draws shorter customer stories"),
    "questions_rep": ("asks more questions", "asks fewer questions"),
    "interruptions_rep": ("interrupts more", "interrupts less"),
    "patience_s": ("waits longer before answering", "answers sooner"),
    "wpm_rep": ("speaks faster", "speaks slower"),
    "filler_rate_rep": ("uses more fillers", "uses fewer fillers"),
    "interactivity_per_min": ("has more back-and-forth", "has less back-and-forth"),
    "silence_share": ("has more silence", "has less silence"),
    "overtalk_share": ("has more overtalk", "has less overtalk"),
}


def metric_unit(metric: str) -> tuple[str, float]:
    """(unit, scale) in which a metric's values and differences are written: shares as
    percentage points (``pp``, × 100), seconds as ``s``, speaking rates as ``wpm``, others as is."""
    if metric.startswith(("talk_ratio_", "share_of_call_")) or metric.endswith("_share"):
        return "pp", 100.0
    if metric.startswith("wpm_"):
        return "wpm", 1.0
    if metric.endswith("_per_min"):
        return "/min", 1.0
    if metric.startswith("filler_rate_"):
        return "per 100 words", 1.0
    if metric.endswith("_s") or "_s_" in metric:
        return "s", 1.0
    return "", 1.0


def level_unit(metric: str) -> tuple[str, float]:
    """(unit, scale) of a metric's *values* (a group's mean, a period's level): shares in ``%``; a
    difference of two shares is in percentage points (:func:`metric_unit`'s ``pp``). U9 finding 3: a
    rep's mean talk ratio of 62 % was labelled "62 pp"."""
    unit, scale = metric_unit(metric)
    return ("%", scale) if unit == "pp" else (unit, scale)


def metric_label(metric: str) -> str:
    """A metric column as words: ``talk_ratio_rep`` → ``talk ratio (rep)``, ``patience_s`` →
    ``patience`` (the unit goes with the numbers)."""
    role = next((r for r in ("rep", "customer", "other") if metric.endswith(f"_{r}")), None)
    stem = metric[: -len(role) - 1] if role else metric
    stem = stem.removesuffix("_s").replace("_", " ")
    return f"{stem} ({role})" if role else stem


def numeric_metrics(calls: pd.DataFrame) -> list[str]:
    """The calls frame's numeric metric columns (not ids, durations or flags)."""
    out = []
    for name in calls.columns:
        if name in _NOT_METRICS or not isinstance(name, str):
            continue
        dtype = calls[name].dtype
        if pd.api.types.is_bool_dtype(dtype) or not pd.api.types.is_numeric_dtype(dtype):
            continue
        out.append(name)
    return out


@dataclass(frozen=True)
class Comparison:
    """The result of :func:`compare`.

    ``groups``: one row per (metric, group): ``metric``, ``group``, ``n_calls`` (calls where the
    metric is measured), ``mean``, ``lo``, ``hi`` (the interval of the mean), ``unit``.
    ``differences``: one row per (metric, pair): ``metric``, ``a``, ``b``, ``n_a``, ``n_b``,
    ``mean_a``, ``mean_b``, ``difference`` (``mean_a − mean_b``), ``lo``, ``hi``, ``verdict``
    (``a_higher``, ``b_higher``, ``unclear`` when the interval holds 0, ``not_enough``) and
    ``reading`` (the plain-words sentence). Values are in the metric's own units (shares 0–1);
    readings use :func:`metric_unit`. ``n_calls``: the calls given; ``left_out``: the calls not
    compared at all, by reason (``{"no rep": 3}``: no value to group them by), and
    :attr:`left_out_note` says it in words (the first of :meth:`readings`).
    """

    by: str
    confidence: float
    n_resamples: int
    min_calls: int
    groups: pd.DataFrame
    differences: pd.DataFrame
    n_calls: int = 0
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def left_out_note(self) -> str:
        """``3 of 50 calls not compared: no rep (3)``, or ``""`` when every call was."""
        return _left_out_note(self.n_calls, self.left_out)

    def readings(self, metric: str | None = None) -> list[str]:
        """The plain-words readings, optionally of one metric; the :attr:`left_out_note` first
        when calls were left out."""
        compared = list(dict.fromkeys(self.groups["metric"])) if len(self.groups) else []
        if metric is not None and metric not in compared:
            raise KeyError(f"{metric!r} was not compared; metrics compared: {compared[:12]}")
        rows = self.differences if metric is None else self.differences[self.differences["metric"] == metric]
        note = self.left_out_note
        lone = self._lone_group_note() if rows.empty else ""
        return ([note] if note else []) + ([lone] if lone else []) + [str(r) for r in rows["reading"]]

    def _lone_group_note(self) -> str:
        """What a comparison of one group says: there is nothing to compare it with (readings were
        an empty list, which read as 'no difference found')."""
        sizes = self.groups.groupby("group", sort=True)["n_calls"].max() if len(self.groups) else None
        if sizes is None or len(sizes) != 1:
            return ""
        group, n = str(sizes.index[0]), int(sizes.iloc[0])
        return (
            f"only one {self.by} to compare ({group}, {n} call{'' if n == 1 else 's'}): nothing to "
            f"compare it with; group by another column, or add calls of other {self.by} values"
        )


@dataclass(frozen=True)
class Trend:
    """The result of :func:`trend`.

    ``points``: one row per (group, period): ``group``, ``period`` (a ``Timestamp``, the start
    of the period), ``n_calls``, ``mean``, ``lo``, ``hi``. ``changes``: one row per group: the
    difference last period − first period (``first``/``last``, ``n_first``/``n_last`` calls) with its
    interval, ``verdict`` and ``reading``; a group without two periods of ``min_calls`` calls is
    ``not_enough``, with its first and last periods that have calls, their counts and the plain
    difference of their means, and no interval (U9 finding 5: it read 0 calls and no periods).
    ``n_calls`` and ``left_out`` (by reason: no group value, no readable date): as in
    :class:`Comparison`.
    """

    metric: str
    by: str
    period: str
    confidence: float
    points: pd.DataFrame
    changes: pd.DataFrame
    n_calls: int = 0
    left_out: dict[str, int] = field(default_factory=dict)

    @property
    def left_out_note(self) -> str:
        """``3 of 50 calls not in the trend: no readable date (3)``, or ``""``."""
        return _left_out_note(self.n_calls, self.left_out, "not in the trend")


def compare(
    calls: Any,
    metrics: str | Sequence[str] | None = None,
    *,
    by: str = "rep",
    pairs: Pairs = "all",
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    min_calls: int = 10,
) -> Comparison:
    """Each group's mean of each metric with a bootstrap interval, and the differences of pairs.

    ``calls`` is a calls frame or anything with one (a :class:`~hearkit.record.CallSet`).
    ``metrics``: a column or columns of it (default: every numeric metric column). ``by``: the
    grouping column, or ``week`` / ``month`` from the ``date`` column. ``pairs``: ``"all"``
    (every pair of groups), ``"vs_rest"`` (each group against all other calls together), or a
    list of ``(a, b)`` group names. Calls without a group label are left out, and counted:
    ``Comparison.left_out`` and the first reading say how many and why.

    >>> compare(calls, "talk_ratio_rep", by="rep").readings()
    ['Maya Chen talks more than Sam Ortiz: 95 % interval of the difference 4–11 pp, 38 and 41 calls']
    """
    frame = _calls_frame(calls)
    names = _metric_list(frame, metrics)
    _check_options(confidence, n_resamples, min_calls)
    labels = _group_labels(frame, by)
    keep = labels.notna().to_numpy()
    derived = by in DERIVED_GROUPS and by not in frame.columns
    left_out = _left_out({"no readable date" if derived else f"no {by}": ~keep})
    _check_some_kept(keep, by)
    values = _values(frame, names)[keep]
    codes, uniques = pd.factorize(labels[keep], sort=True)
    group_names = [str(g) for g in uniques]
    rng = np.random.default_rng(seed)
    boot = _bootstrap_means(values, codes, len(group_names), n_resamples, rng)
    counts = _measured_counts(values, codes, len(group_names))
    means = _group_means(values, codes, len(group_names))
    flagged, why = _flagged(frame[keep], names, codes, len(group_names))
    alpha = 1.0 - confidence

    group_rows = []
    for g, group in enumerate(group_names):
        for m, metric in enumerate(names):
            lo, hi = _interval(boot[g, :, m], alpha, int(counts[g, m]))
            group_rows.append(
                {
                    "metric": metric,
                    "group": group,
                    "n_calls": int(counts[g, m]),
                    "mean": means[g, m],
                    "lo": lo,
                    "hi": hi,
                    "unit": level_unit(metric)[0],
                    "n_flagged": int(flagged[g, m]),
                }
            )
    pair_list = _pairs(pairs, group_names)
    diff_rows = []
    sizes = np.bincount(codes, minlength=len(group_names))  # calls per group, measured or not
    if pairs == "vs_rest":
        rest = _rest_bootstrap(values, codes, len(group_names), n_resamples, rng)
        for g, group in enumerate(group_names):
            for m, metric in enumerate(names):
                n_b = int(counts[:, m].sum() - counts[g, m])
                rest_mean = _nanmean(values[codes != g, m])
                diff_rows.append(
                    _difference_row(
                        metric, group, "the rest", int(counts[g, m]), n_b, means[g, m], rest_mean,
                        boot[g, :, m] - rest[g, :, m], alpha, min_calls, confidence,
                        sizes=(int(sizes[g]), int(sizes.sum() - sizes[g])),
                    )
                )  # fmt: skip
    else:
        index = {g: i for i, g in enumerate(group_names)}
        for a, b in pair_list:
            ia, ib = index[a], index[b]
            for m, metric in enumerate(names):
                diff_rows.append(
                    _difference_row(
                        metric, a, b, int(counts[ia, m]), int(counts[ib, m]), means[ia, m], means[ib, m],
                        boot[ia, :, m] - boot[ib, :, m], alpha, min_calls, confidence,
                        sizes=(int(sizes[ia]), int(sizes[ib])),
                    )
                )  # fmt: skip
    index_of = {g: i for i, g in enumerate(group_names)}
    for row in diff_rows:  # say how many compared values the quality block greys (U4 finding 13)
        m = names.index(row["metric"])
        ga = [index_of[row["a"]]] if row["a"] in index_of else []
        # "the rest": every other group; the flags named are those of the two sides' own calls (U5
        # finding 4: the codes of the whole set were named for every pair)
        gb = (
            [index_of[row["b"]]]
            if row["b"] in index_of
            else [g for g in range(len(group_names)) if g not in ga]
        )
        fa = int(sum(flagged[g, m] for g in ga))
        fb = int(sum(flagged[g, m] for g in gb))
        if fa or fb:
            codes_seen = list(dict.fromkeys(code for g in [*ga, *gb] for code in why.get((g, m), [])))
            row["reading"] = (
                f"{row['reading']} (greyed in their calls: {fa} of {row['a']}'s and {fb} of {row['b']}'s"
                f" values, {', '.join(codes_seen)})"
            )
    return Comparison(
        by=by,
        confidence=confidence,
        n_resamples=n_resamples,
        min_calls=min_calls,
        groups=_groups_frame(group_rows),
        differences=_differences_frame(diff_rows),
        n_calls=len(frame),
        left_out=left_out,
    )


def trend(
    calls: Any,
    metric: str,
    *,
    by: str = "rep",
    period: Literal["week", "month"] = "month",
    date: str = "date",
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
    min_calls: int = 10,
) -> Trend:
    """A metric per group and period (``week`` or ``month`` of the ``date`` column), each
    point with its bootstrap interval and ``n_calls``; and per group the change from its first
    to its last period with enough calls (``min_calls``), read in plain words."""
    frame = _calls_frame(calls)
    (name,) = _metric_list(frame, metric)
    _check_options(confidence, n_resamples, min_calls)
    if period not in DERIVED_GROUPS:
        raise ValueError(f"period must be 'week' or 'month', not {period!r}")
    labels = _group_labels(frame, by)
    starts = _period_starts(frame, period, date)
    keep = (labels.notna() & starts.notna()).to_numpy()
    no_label = labels.isna().to_numpy()
    left_out = _left_out({f"no {by}": no_label, f"no readable {date}": ~no_label & starts.isna().to_numpy()})
    _check_some_kept(keep, f"{by} and a readable {date}")
    values = _values(frame, [name])[keep]
    keys = pd.DataFrame({"group": labels[keep].astype(str).to_numpy(), "period": starts[keep].to_numpy()})
    codes, uniques = pd.factorize(pd.MultiIndex.from_frame(keys), sort=True)
    n_cells = len(uniques)
    rng = np.random.default_rng(seed)
    boot = _bootstrap_means(values, codes, n_cells, n_resamples, rng)
    counts = _measured_counts(values, codes, n_cells)
    means = _group_means(values, codes, n_cells)
    alpha = 1.0 - confidence
    rows = []
    for c, (group, start) in enumerate(uniques):
        lo, hi = _interval(boot[c, :, 0], alpha, int(counts[c, 0]))
        rows.append(
            {
                "group": str(group),
                "period": pd.Timestamp(start),
                "n_calls": int(counts[c, 0]),
                "mean": means[c, 0],
                "lo": lo,
                "hi": hi,
            }
        )
    points = pd.DataFrame(rows, columns=["group", "period", "n_calls", "mean", "lo", "hi"])
    change_rows = []
    for group in sorted({str(g) for g, _ in uniques}):
        cells = [
            c for c, (g, _) in enumerate(uniques) if str(g) == group and counts[c, 0] >= min_calls
        ]  # fmt: skip
        if len(cells) < 2:
            seen = [c for c, (g, _) in enumerate(uniques) if str(g) == group and counts[c, 0] > 0]
            ends = (seen[0], seen[-1]) if seen else None
            change_rows.append(
                {
                    "group": group,
                    "first": pd.Timestamp(uniques[ends[0]][1]) if ends else pd.NaT,
                    "last": pd.Timestamp(uniques[ends[1]][1]) if ends else pd.NaT,
                    "n_first": int(counts[ends[0], 0]) if ends else 0,
                    "n_last": int(counts[ends[1], 0]) if ends else 0,
                    "change": float(means[seen[-1], 0] - means[seen[0], 0]) if len(seen) > 1 else math.nan,
                    "lo": math.nan,
                    "hi": math.nan,
                    "verdict": "not_enough",
                    "reading": f"{group}: not enough calls to say how {metric_label(name)} changed "
                    f"(fewer than two {period}s with {min_calls} calls or more)",
                }
            )
            continue
        first, last = cells[0], cells[-1]
        row = _difference_row(
            name, group, group, int(counts[last, 0]), int(counts[first, 0]), means[last, 0],
            means[first, 0], boot[last, :, 0] - boot[first, :, 0], alpha, min_calls, confidence,
        )  # fmt: skip
        row["reading"] = _change_reading(
            row,
            group,
            _period_name(uniques[first][1], period),
            _period_name(uniques[last][1], period),
            confidence,
        )
        change_rows.append(
            {
                "group": group,
                "first": pd.Timestamp(uniques[first][1]),
                "last": pd.Timestamp(uniques[last][1]),
                "n_first": row["n_b"],
                "n_last": row["n_a"],
                "change": row["difference"],
                "lo": row["lo"],
                "hi": row["hi"],
                "verdict": row["verdict"],
                "reading": row["reading"],
            }
        )
    changes = pd.DataFrame(
        change_rows,
        columns=["group", "first", "last", "n_first", "n_last", "change", "lo", "hi", "verdict", "reading"],
    )
    return Trend(
        metric=name,
        by=by,
        period=period,
        confidence=confidence,
        points=points,
        changes=changes,
        n_calls=len(frame),
        left_out=left_out,
    )


def _left_out(reasons: dict[str, npt.NDArray[np.bool_]]) -> dict[str, int]:
    """Calls left out, by reason (reasons with none left out are not listed)."""
    return {reason: int(mask.sum()) for reason, mask in reasons.items() if mask.any()}


def _left_out_note(n_calls: int, left_out: dict[str, int], what: str = "not compared") -> str:
    total = sum(left_out.values())
    if not total:
        return ""
    reasons = ", ".join(f"{reason} ({count})" for reason, count in left_out.items())
    return f"{total} of {n_calls} calls {what}: {reasons}"


def _check_some_kept(keep: npt.NDArray[np.bool_], needed: str) -> None:
    if not keep.any():
        raise ValueError(
            f"no call has a {needed} to group it by ({len(keep)} calls): fill that column, e.g. with"
            " analyze_calls(..., metadata=...), or group by another column"
        )


# ---------------------------------------------------------------------------------------------
# Input checks


def _calls_frame(calls: Any) -> pd.DataFrame:
    frame = calls if isinstance(calls, pd.DataFrame) else getattr(calls, "calls", None)
    if not isinstance(frame, pd.DataFrame):
        raise TypeError(
            f"compare needs a calls DataFrame or a CallSet, not {type(calls).__name__}; "
            "e.g. CallSet.load(folder) or analyze_calls(results)"
        )
    if frame.empty:
        raise ValueError("there are no calls to compare (the calls frame is empty)")
    return frame


def _metric_list(frame: pd.DataFrame, metrics: str | Sequence[str] | None) -> list[str]:
    available = numeric_metrics(frame)
    if metrics is None:
        if not available:
            raise ValueError("the calls frame has no numeric metric columns; compute scorecards first")
        return available
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names:
        raise ValueError("metrics is empty: name at least one metric column")
    for name in names:
        if name not in frame.columns:
            raise KeyError(f"no metric column {name!r} in the calls frame; numeric columns: {available}")
        if name not in available:
            raise TypeError(f"column {name!r} is not a numeric metric (dtype {frame[name].dtype})")
    return names


def _check_options(confidence: float, n_resamples: int, min_calls: int) -> None:
    if not 0.5 <= confidence < 1.0:
        raise ValueError(f"confidence must be in [0.5, 1), e.g. 0.95, not {confidence!r}")
    if int(n_resamples) != n_resamples or n_resamples < 100:
        raise ValueError(f"n_resamples must be an integer ≥ 100 (1000 is usual), not {n_resamples!r}")
    if int(min_calls) != min_calls or min_calls < 2:
        raise ValueError(f"min_calls must be an integer ≥ 2, not {min_calls!r}")


def group_labels(frame: pd.DataFrame, by: str) -> pd.Series:  # type: ignore[type-arg]
    """Each call's group label as :func:`compare` groups it: text labels compared without case or
    extra spaces and shown in their most common spelling, blank → ``None``; ``week``/``month`` from
    the ``date`` column. The dashboard's rep and team filters list the same groups."""
    return _group_labels(frame, by)


def _group_labels(frame: pd.DataFrame, by: str) -> pd.Series:  # type: ignore[type-arg]
    if by in frame.columns:
        labels = frame[by]
        present = labels.notna() & (labels.astype(str).str.strip() != "")
        if not labels[present].map(lambda v: isinstance(v, str)).all():
            return labels.where(present, None).astype(object)
        # One person spelled "Ana Lopez", "Ana Lopez " and "ana lopez" (CSV and CRM exports) is one
        # group, shown in its most common spelling: they were three groups too small to read.
        text = labels.astype(object).where(present, "").astype(str).map(lambda v: " ".join(v.split()))
        key = text.str.casefold()
        spelled = text[present].groupby(key[present], sort=False).agg(lambda s: s.value_counts().index[0])
        return key.map(spelled).where(present, None).astype(object)
    if by in DERIVED_GROUPS:
        starts = _period_starts(frame, by, "date")  # type: ignore[arg-type]
        return starts.map(lambda t: None if pd.isna(t) else _period_name(t, by)).astype(object)
    raise KeyError(
        f"no column {by!r} to group calls by; columns: {[str(c) for c in frame.columns]} "
        "(or 'week'/'month' from a 'date' column). Add metadata with analyze_calls(..., metadata=...)"
    )


def _period_starts(frame: pd.DataFrame, period: str, date: str) -> pd.Series:  # type: ignore[type-arg]
    if date not in frame.columns:
        raise KeyError(
            f"grouping by {period} needs a {date!r} column of call dates; the calls frame has none"
        )
    when = call_dates(frame[date])
    if when.notna().sum() == 0:
        raise ValueError(f"column {date!r} holds no readable dates (expected e.g. 2026-03-14)")
    starts: pd.Series = when.dt.to_period("W-SUN" if period == "week" else "M").dt.start_time  # type: ignore[type-arg]
    return starts


def call_dates(values: pd.Series) -> pd.Series:  # type: ignore[type-arg]
    """Each call's calendar date (midnight), read value by value: an ISO 8601 date with or without
    a time and UTC offset (``2026-03-02``, ``2026-03-02 09:15:00``, ``2026-03-02T23:30:00-08:00``:
    the call's own local day, not the UTC one) or another unambiguous form (``2 March 2026``);
    NaT when unreadable. The whole column was parsed in the format of its first value, so the
    same date was readable in one set and not in another (U4 finding 22)."""
    if pd.api.types.is_datetime64_any_dtype(values):
        when = pd.to_datetime(values)
        if getattr(when.dt, "tz", None) is not None:
            when = when.dt.tz_localize(None)
        return when.dt.normalize()
    text = values.astype(object).where(values.notna(), "").astype(str).str.strip()
    iso = text.str.extract(r"^(\d{4}-\d{2}-\d{2})(?:[T ]\d{2}:\d{2}.*)?$", expand=False)
    out = pd.to_datetime(iso, format="%Y-%m-%d", errors="coerce")
    other = out.isna() & (text != "") & iso.isna()
    if other.any():
        with warnings.catch_warnings():  # each value on its own; ambiguous 03/02/2026 stays unread
            warnings.simplefilter("ignore", UserWarning)
            parsed = pd.Series(
                [_one_date(v) for v in text[other]], index=text[other].index, dtype="datetime64[ns]"
            )
        out = out.where(~other, parsed)
    return out


def _one_date(value: str) -> pd.Timestamp | Any:
    if re.fullmatch(r"\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}", value):  # 03/02/2026: March or February?
        return pd.NaT
    try:
        stamp = pd.Timestamp(value)
    except (ValueError, TypeError):
        return pd.NaT
    return stamp.tz_localize(None).normalize() if stamp.tzinfo is not None else stamp.normalize()


def _period_name(start: Any, period: str) -> str:
    stamp = pd.Timestamp(start)
    if period == "week":
        year, week, _ = stamp.isocalendar()
        return f"{year}-W{week:02d}"
    return stamp.strftime("%Y-%m")


def _values(frame: pd.DataFrame, names: Sequence[str]) -> FloatArray:
    out = np.empty((len(frame), len(names)), dtype=np.float64)
    for m, name in enumerate(names):
        out[:, m] = pd.to_numeric(frame[name], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)
    out[~np.isfinite(out)] = np.nan
    return out


def _pairs(pairs: Pairs, groups: list[str]) -> list[tuple[str, str]]:
    if isinstance(pairs, str):
        if pairs == "all":
            return list(combinations(groups, 2))
        if pairs == "vs_rest":
            return []
        raise ValueError(f"pairs must be 'all', 'vs_rest' or a list of (a, b) groups, not {pairs!r}")
    out = []
    for pair in pairs:
        a, b = (str(x) for x in pair)
        for g in (a, b):
            if g not in groups:
                raise KeyError(f"no group {g!r} to compare; groups: {groups}")
        out.append((a, b))
    return out


# ---------------------------------------------------------------------------------------------
# Bootstrap


def _bootstrap_means(
    values: FloatArray, codes: npt.NDArray[np.intp], n_groups: int, n_resamples: int, rng: np.random.Generator
) -> FloatArray:
    """(n_groups, n_resamples, n_metrics): each group's mean over measured calls, per resample."""
    n_metrics = values.shape[1]
    out = np.full((n_groups, n_resamples, n_metrics), np.nan)
    measured = np.isfinite(values)
    filled = np.where(measured, values, 0.0)
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(n_groups + 1))
    for g in range(n_groups):
        rows = order[bounds[g] : bounds[g + 1]]
        if len(rows) == 0:
            continue
        out[g] = _resampled_means(filled[rows], measured[rows], n_resamples, rng)
    return out


def _resampled_means(
    filled: FloatArray, measured: npt.NDArray[np.bool_], n_resamples: int, rng: np.random.Generator
) -> FloatArray:
    """Means of ``n_resamples`` resamples (with replacement) of the rows: resample counts × values."""
    n = len(filled)
    weights = measured.astype(np.float64)
    out = np.empty((n_resamples, filled.shape[1]))
    step = max(1, _MAX_COUNT_CELLS // n)
    for first in range(0, n_resamples, step):
        size = min(step, n_resamples - first)
        draws = rng.integers(0, n, size=(size, n))
        draws += (np.arange(size) * n)[:, None]
        counts = np.bincount(draws.ravel(), minlength=size * n).reshape(size, n).astype(np.float64)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[first : first + size] = (counts @ filled) / (counts @ weights)
    return out


def _rest_bootstrap(
    values: FloatArray, codes: npt.NDArray[np.intp], n_groups: int, n_resamples: int, rng: np.random.Generator
) -> FloatArray:
    """(n_groups, n_resamples, n_metrics): resampled means of every call outside each group."""
    measured = np.isfinite(values)
    filled = np.where(measured, values, 0.0)
    out = np.full((n_groups, n_resamples, values.shape[1]), np.nan)
    for g in range(n_groups):
        rest = codes != g
        if rest.any():
            out[g] = _resampled_means(filled[rest], measured[rest], n_resamples, rng)
    return out


def _measured_counts(values: FloatArray, codes: npt.NDArray[np.intp], n_groups: int) -> npt.NDArray[np.int64]:
    out = np.zeros((n_groups, values.shape[1]), dtype=np.int64)
    np.add.at(out, codes, np.isfinite(values).astype(np.int64))
    return out


def _group_means(values: FloatArray, codes: npt.NDArray[np.intp], n_groups: int) -> FloatArray:
    measured = np.isfinite(values)
    sums = np.zeros((n_groups, values.shape[1]))
    np.add.at(sums, codes, np.where(measured, values, 0.0))
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / _measured_counts(values, codes, n_groups)


def _nanmean(values: FloatArray) -> float:
    finite = values[np.isfinite(values)]
    return float(finite.mean()) if len(finite) else math.nan


MIN_INTERVAL_CALLS = 5
"""Fewest measured calls an interval is given for (NaN under it). A bootstrap of 2-4 calls cannot
reach beyond their smallest and largest value: a "95 %" interval of calls drawn from a known
normal population held its mean 53 %, 71 % and 86 % of the time for 2, 3 and 4 calls (a new-user
trial, 200 repetitions each), 93.5 % for 5."""


def _interval(samples: FloatArray, alpha: float, n: int) -> tuple[float, float]:
    """Expanded percentile interval (Hesterberg 2015) of bootstrap samples; NaN when n is under
    :data:`MIN_INTERVAL_CALLS`."""
    finite = samples[np.isfinite(samples)]
    if n < MIN_INTERVAL_CALLS or len(finite) < 2:
        return math.nan, math.nan
    tail = _expanded_tail(alpha, n)
    lo, hi = np.quantile(finite, [tail, 1.0 - tail])
    return float(lo), float(hi)


@functools.lru_cache(maxsize=4096)
def _expanded_tail(alpha: float, n: int) -> float:
    """The lower percentile level of the expanded percentile interval for n calls."""
    return float(stats.norm.cdf(math.sqrt(n / (n - 1)) * stats.t.ppf(alpha / 2, n - 1)))


# ---------------------------------------------------------------------------------------------
# Readings


def _difference_row(
    metric: str,
    a: str,
    b: str,
    n_a: int,
    n_b: int,
    mean_a: float,
    mean_b: float,
    samples: FloatArray,
    alpha: float,
    min_calls: int,
    confidence: float,
    sizes: tuple[int, int] | None = None,
) -> dict[str, Any]:
    """One difference and its reading. ``n_a``/``n_b`` count the calls with a measured value;
    ``sizes`` (calls in each group) lets the reading say how many were not measured ("12 and 0
    calls" read as if one group had no calls at all)."""
    difference = float(mean_a - mean_b)
    lo, hi = _interval(samples, alpha, min(n_a, n_b))
    unit, scale = metric_unit(metric)
    level = f"{100 * confidence:g} %"
    counts = f"{n_a} and {n_b} calls"
    if sizes is not None:
        unmeasured = [f"{g} {t - n} of {t}" for g, n, t in ((a, n_a, sizes[0]), (b, n_b, sizes[1])) if t > n]
        if unmeasured:
            counts += f" measured; not measured: {', '.join(unmeasured)}"
    label = metric_label(metric)
    if min(n_a, n_b) < min_calls or not math.isfinite(lo):
        verdict = "not_enough"
        reading = f"{a} vs {b}, {label}: not enough calls to say ({counts}; {min_calls} each needed)"
    elif lo > 0 or hi < 0:
        verdict = "a_higher" if lo > 0 else "b_higher"
        more, less = _PHRASES.get(metric, (f"has a higher {label}", f"has a lower {label}"))
        phrase = more if verdict == "a_higher" else less
        ends = sorted((abs(lo), abs(hi)))
        reading = (
            f"{a} {phrase} than {b}: {level} interval of the difference "
            f"{_num(ends[0] * scale)}–{_num(ends[1] * scale)}{_unit(unit)}, {counts}"
        )
    else:
        verdict = "unclear"
        reading = (
            f"no clear difference in {label} between {a} and {b}: {level} interval of the difference "
            f"{_num(lo * scale, signed=True)} to {_num(hi * scale, signed=True)}{_unit(unit)} "
            f"holds 0, {counts}"
        )
    return {
        "metric": metric,
        "a": a,
        "b": b,
        "n_a": n_a,
        "n_b": n_b,
        "mean_a": float(mean_a),
        "mean_b": float(mean_b),
        "difference": difference,
        "lo": lo,
        "hi": hi,
        "verdict": verdict,
        "reading": reading,
    }


def _change_reading(row: dict[str, Any], group: str, first: str, last: str, confidence: float) -> str:
    """A trend's change (last period − first) in words."""
    metric = str(row["metric"])
    unit, scale = metric_unit(metric)
    label = metric_label(metric)
    span = f"from {first} to {last}"
    counts = f"{row['n_b']} and {row['n_a']} calls"
    lo, hi = float(row["lo"]) * scale, float(row["hi"]) * scale
    level = f"{100 * confidence:g} %"
    if row["verdict"] in ("a_higher", "b_higher"):
        way = "rose" if row["verdict"] == "a_higher" else "fell"
        ends = sorted((abs(lo), abs(hi)))
        return (
            f"{group}'s {label} {way} {span}: {level} interval of the change "
            f"{_num(ends[0])}–{_num(ends[1])}{_unit(unit)}, {counts}"
        )
    return (
        f"no clear change in {group}'s {label} {span}: {level} interval of the change "
        f"{_num(lo, signed=True)} to {_num(hi, signed=True)}{_unit(unit)} holds 0, {counts}"
    )


def _num(value: float, *, signed: bool = False) -> str:
    digits = 0 if abs(value) >= 10 else 1 if abs(value) >= 1 else 2
    text = f"{value:+.{digits}f}" if signed else f"{value:.{digits}f}"
    return text.replace("-", "−")


def _unit(unit: str) -> str:
    return f" {unit}" if unit else ""


_GROUP_COLUMNS = ["metric", "group", "n_calls", "mean", "lo", "hi", "unit", "n_flagged"]
_DIFF_COLUMNS = [
    "metric",
    "a",
    "b",
    "n_a",
    "n_b",
    "mean_a",
    "mean_b",
    "difference",
    "lo",
    "hi",
    "verdict",
    "reading",
]


def _flagged(
    frame: pd.DataFrame, names: Sequence[str], codes: npt.NDArray[np.int64], n_groups: int
) -> tuple[npt.NDArray[np.int64], dict[tuple[int, int], list[str]]]:
    """Per group and metric, how many of the compared calls' quality blocks grey that metric (a
    warning or unreliable flag that affects it, as the report's and dashboard's tables show), and
    per (group, metric) the flag codes seen."""
    from hearkit.quality import quality_of, view_of

    counts = np.zeros((n_groups, len(names)), dtype=np.int64)
    why: dict[tuple[int, int], list[str]] = {}
    if "quality" not in frame.columns:
        return counts, why
    for row_number, (_, row) in enumerate(frame.iterrows()):
        quality = quality_of(row)
        if quality is None or not quality.flags:
            continue
        greyed = view_of(quality, list(names)).greyed
        for m, metric in enumerate(names):
            reason = greyed.get(metric)
            if reason is not None and pd.notna(row.get(metric)):
                counts[codes[row_number], m] += 1
                seen = why.setdefault((int(codes[row_number]), m), [])
                for code in reason.split(":")[0].split(", "):
                    if code not in seen:
                        seen.append(code)
    return counts, why


def _groups_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_GROUP_COLUMNS)


def _differences_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=_DIFF_COLUMNS)
