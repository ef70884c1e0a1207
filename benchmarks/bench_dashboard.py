"""Time per filter change of the dashboard's filter path on 10,000 synthetic calls.

    uv run python benchmarks/bench_dashboard.py [--calls 10000]

Measures, for a scripted session of filter changes (rep, dates, trackers, talk ratio, duration,
free-text search), the time of ``apply_filters`` over the prebuilt ``CallIndex`` and of
``apply_filters`` + the calls table HTML, against the baseline of answering the same states with plain
pandas on the CallSet frames (boolean masks on ``calls``, ``isin`` on ``hits``, ``str.contains`` on the
lowercased ``turns`` text). Target: under 100 ms per filter change. Charts are drawn after the filter
path and are timed separately (``draw charts``) for a dashboard built on the same calls.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from hearkit.dashboard import (
    CallIndex,
    FilterState,
    apply_filters,
    build_index,
    calls_table_html,
    parse_search,
)
from hearkit.metrics import scorecards
from hearkit.synth import synthetic_calls


def session(index: CallIndex) -> list[FilterState]:
    """The filter states a user walks through, one change at a time."""
    reps = index.reps[:2]
    dates = index.dates[~np.isnat(index.dates)]
    middle = dates.min() + (dates.max() - dates.min()) // 2
    trackers = index.trackers[:2]
    steps = [
        FilterState(),
        FilterState(reps=reps[:1]),
        FilterState(reps=reps),
        FilterState(reps=reps, date_from=middle.astype(dt.date)),
        FilterState(reps=reps, date_from=middle.astype(dt.date), trackers=trackers[:1]),
        FilterState(reps=reps, date_from=middle.astype(dt.date), trackers=trackers, tracker_mode="all"),
        FilterState(reps=reps, trackers=trackers, talk_ratio=(0.3, 0.6)),
        FilterState(reps=reps, trackers=trackers, talk_ratio=(0.3, 0.6), duration_s=(120.0, 1800.0)),
        FilterState(talk_ratio=(0.3, 0.6), search="pricing"),
        FilterState(talk_ratio=(0.3, 0.6), search='"next week"'),
        FilterState(talk_ratio=(0.4, 0.6), search='"next week"'),
        FilterState(search="discount competitor"),
        FilterState(),
    ]
    return steps


def pandas_baseline(calls: object) -> Callable[[FilterState], list[str]]:
    """Answer a state from the CallSet frames directly, the way a notebook would without an index."""
    frame: pd.DataFrame = calls.calls  # type: ignore[attr-defined]
    turns: pd.DataFrame = calls.turns  # type: ignore[attr-defined]
    hits: pd.DataFrame = calls.hits  # type: ignore[attr-defined]
    talk = "talk_ratio_rep"
    dates = pd.to_datetime(frame["date"], errors="coerce").dt.normalize()

    def answer(state: FilterState) -> list[str]:
        mask = pd.Series(True, index=frame.index)
        if state.reps:
            mask &= frame["rep"].isin(state.reps)
        if state.date_from is not None:
            mask &= dates >= pd.Timestamp(state.date_from)
        if state.date_to is not None:
            mask &= dates <= pd.Timestamp(state.date_to)
        if state.trackers:
            per_call = hits[hits["tracker"].isin(state.trackers)].groupby("call_id")["tracker"].nunique()
            need = len(state.trackers) if state.tracker_mode == "all" else 1
            mask &= frame["call_id"].isin(per_call[per_call >= need].index)
        if state.talk_ratio is not None:
            mask &= frame[talk].between(*state.talk_ratio)
        if state.duration_s is not None:
            mask &= frame["duration_s"].between(*state.duration_s)
        terms = parse_search(state.search)
        if terms:
            # Search turn by turn (a phrase inside one turn), then keep calls that have every term.
            text = turns["text"].str.lower().str.replace(r"\s+", " ", regex=True)
            for term in terms:
                found = turns.loc[text.str.contains(term, regex=False), "call_id"].unique()
                mask &= frame["call_id"].isin(found)
        return frame.loc[mask, "call_id"].astype(str).tolist()

    return answer


# Tracker phrases of hearkit.synth's sentence bank. The hits frame is built here with one vectorized
# `str.contains` per phrase (one hit per matching turn): `synthetic_calls(hits=True)` runs the full
# tracker matcher over two million turns, which takes minutes and gigabytes and is not what is timed.
TRACKER_PHRASES = {
    "pricing": ("price", "discount", "budget"),
    "competitors": ("gong", "chorus"),
    "next_steps": ("next week", "proposal", "follow up", "next steps"),
    "objections": ("too expensive", "not sure"),
}


def tracker_hits(turns: pd.DataFrame) -> pd.DataFrame:
    text = turns["text"].str.lower()
    parts = []
    for tracker, phrases in TRACKER_PHRASES.items():
        for phrase in phrases:
            rows = turns.loc[
                text.str.contains(phrase, regex=False), ["call_id", "speaker", "role", "start", "end"]
            ]
            parts.append(rows.assign(tracker=tracker, phrase=phrase))
    return pd.concat(parts, ignore_index=True)


def timed(fn: Callable[[], object], repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t0)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mean-turns", type=float, default=100.0, help="turns per call (Poisson mean)")
    args = parser.parse_args()

    t0 = time.perf_counter()
    calls = synthetic_calls(args.calls, seed=0, mean_turns=args.mean_turns)
    calls.hits = tracker_hits(calls.turns)
    durations = calls.calls.set_index("call_id")["duration_s"]
    cards = scorecards(calls.turns, durations=durations).drop(columns="duration_s")
    calls.calls = calls.calls.merge(cards, on="call_id", how="left")
    t_synth = time.perf_counter() - t0
    t0 = time.perf_counter()
    index = build_index(calls)
    t_index = time.perf_counter() - t0
    print(f"{len(index):,} calls, {len(calls.turns):,} turns, {len(calls.hits):,} hits")
    print(f"synthesize + scorecards: {t_synth:.2f} s   build_index (once): {t_index * 1000:.0f} ms")

    baseline = pandas_baseline(calls)
    steps = session(index)
    per_filter, per_update, per_baseline = [], [], []
    for state in steps:
        selection = apply_filters(index, state)
        assert list(selection.call_ids) == baseline(state), f"index and baseline disagree on {state}"
        # First call of a new search term scans the transcripts; later ones hit the cache.
        per_filter.append(min(timed(lambda s=state: apply_filters(index, s), 1)))
        per_update.append(
            min(timed(lambda s=state: calls_table_html(index, apply_filters(index, s)), args.repeat))
        )
        per_baseline.append(min(timed(lambda s=state: baseline(s), 1)))

    index._search_cache.clear()
    cold = [
        min(timed(lambda s=state: (index._search_cache.clear(), apply_filters(index, s)), args.repeat))
        for state in steps
    ]

    def row(name: str, values: list[float]) -> str:
        ms = [v * 1000 for v in values]
        return (
            f"{name:<34} median {statistics.median(ms):8.2f} ms   max {max(ms):8.2f} ms"
            f"   mean {statistics.fmean(ms):8.2f} ms"
        )

    print(f"per filter change over a {len(steps)}-step session:")
    print(row("apply_filters (search cached)", per_filter))
    print(row("apply_filters (search cold)", cold))
    print(row("apply_filters + calls table", per_update))
    print(row("baseline: pandas on the frames", per_baseline))
    ratio = statistics.fmean(per_baseline) / statistics.fmean(cold)
    print(f"speed-up vs baseline (mean, cold search): {ratio:.1f}x")
    worst = max(max(cold), max(per_update)) * 1000
    print(f"target < 100 ms per filter change: {'met' if worst < 100 else 'NOT met'} (worst {worst:.1f} ms)")


if __name__ == "__main__":
    main()
