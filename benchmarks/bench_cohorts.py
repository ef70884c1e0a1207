"""hearkit.cohorts: coverage of the bootstrap intervals, and speed against scipy's bootstrap.

    uv run python benchmarks/bench_cohorts.py [--reps 400] [--n-a 40 --n-b 40] [--calls 10000]

1. Coverage. Two synthetic populations of calls (``hearkit.synth``, scorecards computed): in
   population A the rep's floor turns are 1.25× longer (``rep_turn_scale``), so A's rep talks
   more. The true difference of each metric is the difference of the population means. Each of
   ``--reps`` seeded repetitions draws ``--n-a`` and ``--n-b`` calls (with replacement, i.e. i.i.d.
   from the population) and asks :func:`hearkit.cohorts.compare` for the 95 % interval of the
   difference; the share of intervals holding the true difference is printed per metric, with
   the plain percentile interval's coverage on the same resamples for reference (target 93–97 %).
2. Speed. ``--calls`` calls over 20 reps, 10 metrics, 1,000 resamples: every rep's interval and
   every pair's (190 pairs) difference interval. Baseline, measured in the same run: what a
   skilled user would write, ``scipy.stats.bootstrap`` (vectorized, percentile method) once per
   rep and metric for the rep intervals alone (200 calls of it), without the pair differences.
"""

from __future__ import annotations

import argparse
import os
import time

import numpy as np
import pandas as pd
from scipy import stats

from hearkit import cohorts
from hearkit.metrics import scorecards
from hearkit.synth import synthetic_calls

COVERAGE_METRICS = (
    "talk_ratio_rep",
    "longest_monologue_s_rep",
    "questions_rep",
    "patience_s",
    "silence_share",
)
SPEED_METRICS = (
    "talk_ratio_rep", "talk_ratio_customer", "longest_monologue_s_rep", "longest_story_s_customer",
    "questions_rep", "patience_s", "interactivity_per_min", "silence_share", "overtalk_share", "wpm_rep",
)  # fmt: skip


def population(n: int, seed: int, scale: float, mean_turns: float) -> pd.DataFrame:
    calls = synthetic_calls(n, seed=seed, mean_turns=mean_turns, rep_turn_scale=scale)
    cards = scorecards(calls.turns, durations=calls.calls.set_index("call_id")["duration_s"])
    return calls.calls.merge(cards, on="call_id")


def coverage(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    pop_a = population(args.population, 101, 1.25, args.mean_turns)
    pop_b = population(args.population, 202, 1.0, args.mean_turns)
    print(
        f"populations: 2 × {args.population} calls of ~{args.mean_turns:g} turns, "
        f"made and scored in {time.perf_counter() - t0:.1f} s"
    )
    truth = {m: float(pop_a[m].mean() - pop_b[m].mean()) for m in COVERAGE_METRICS}
    hits = dict.fromkeys(COVERAGE_METRICS, 0)
    plain_hits = dict.fromkeys(COVERAGE_METRICS, 0)
    widths: dict[str, list[float]] = {m: [] for m in COVERAGE_METRICS}
    rng = np.random.default_rng(args.seed)
    t0 = time.perf_counter()
    for rep in range(args.reps):
        a = pop_a.iloc[rng.integers(0, len(pop_a), args.n_a)].assign(group="A")
        b = pop_b.iloc[rng.integers(0, len(pop_b), args.n_b)].assign(group="B")
        sample = pd.concat([a, b], ignore_index=True)
        result = cohorts.compare(
            sample, list(COVERAGE_METRICS), by="group", seed=rep, n_resamples=1000, min_calls=2
        )
        for row in result.differences.itertuples():
            hits[row.metric] += int(row.lo <= truth[row.metric] <= row.hi)
            widths[row.metric].append(row.hi - row.lo)
        plain = _plain_percentile(sample, rep)
        for metric, (lo, hi) in plain.items():
            plain_hits[metric] += int(lo <= truth[metric] <= hi)
    elapsed = time.perf_counter() - t0
    print(
        f"coverage of 95 % intervals of the difference A − B, {args.reps} seeded repetitions, "
        f"{args.n_a} and {args.n_b} calls ({elapsed:.1f} s):"
    )
    print(f"  {'metric':<26} {'true difference':>16} {'coverage':>9} {'plain pct.':>10} {'mean width':>11}")
    for m in COVERAGE_METRICS:
        unit, scale = cohorts.metric_unit(m)
        print(
            f"  {m:<26} {truth[m] * scale:>12.3f} {unit:<3} {100 * hits[m] / args.reps:>8.1f}% "
            f"{100 * plain_hits[m] / args.reps:>9.1f}% {np.mean(widths[m]) * scale:>10.3f}"
        )
    print("  target: 93–97 % (binomial standard error at 95 % and 400 repetitions: 1.1 pp)")


def _plain_percentile(sample: pd.DataFrame, seed: int) -> dict[str, tuple[float, float]]:
    """The plain percentile interval of the difference (no small-sample widening), for reference."""
    rng = np.random.default_rng(seed)
    out = {}
    a = sample[sample["group"] == "A"]
    b = sample[sample["group"] == "B"]
    for m in COVERAGE_METRICS:
        va, vb = a[m].dropna().to_numpy(), b[m].dropna().to_numpy()
        da = va[rng.integers(0, len(va), (1000, len(va)))].mean(axis=1)
        db = vb[rng.integers(0, len(vb), (1000, len(vb)))].mean(axis=1)
        lo, hi = np.quantile(da - db, [0.025, 0.975])
        out[m] = (float(lo), float(hi))
    return out


def speed(args: argparse.Namespace) -> None:
    calls = synthetic_calls(args.calls, seed=7, mean_turns=40)
    cards = scorecards(calls.turns, durations=calls.calls.set_index("call_id")["duration_s"])
    frame = calls.calls.merge(cards, on="call_id")
    rng = np.random.default_rng(3)
    frame["rep"] = [f"rep {i:02d}" for i in rng.integers(0, 20, len(frame))]
    metrics = list(SPEED_METRICS)
    cpu0, t0 = time.process_time(), time.perf_counter()
    result = cohorts.compare(frame, metrics, by="rep", n_resamples=1000, seed=0)
    ours, ours_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(
        f"hearkit.cohorts.compare: {len(frame)} calls × 20 reps × {len(metrics)} metrics × 1,000 resamples: "
        f"{ours:.2f} s wall, {ours_cpu:.2f} s CPU ({len(result.groups)} group intervals, "
        f"{len(result.differences)} pair differences)"
    )
    cpu0, t0 = time.perf_counter(), time.perf_counter()
    cpu0 = time.process_time()
    for _, group in frame.groupby("rep"):
        for m in metrics:
            values = group[m].dropna().to_numpy()
            stats.bootstrap(
                (values,), np.mean, n_resamples=1000, method="percentile", vectorized=True, random_state=0
            )
    base, base_cpu = time.perf_counter() - t0, time.process_time() - cpu0
    print(
        f"scipy.stats.bootstrap per rep and metric (group intervals only, no differences): "
        f"{base:.2f} s wall, {base_cpu:.2f} s CPU; hearkit {base / ours:.1f}× faster (target: hearkit < 10 s)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=400)
    parser.add_argument("--n-a", type=int, default=40)
    parser.add_argument("--n-b", type=int, default=40)
    parser.add_argument("--population", type=int, default=4000)
    parser.add_argument("--mean-turns", type=float, default=60.0)
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--skip-speed", action="store_true")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    coverage(args)
    if not args.skip_speed:
        speed(args)
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
