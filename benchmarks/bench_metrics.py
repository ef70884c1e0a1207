"""Scorecards for 10,000 synthetic calls (~2 M turns): wall time, peak memory, and two baselines.

    uv run python benchmarks/bench_metrics.py [--calls 10000] [--loop-calls 1000] [--repeat 3]

1. ``hearkit.metrics.scorecards`` (every metric) plus ``top_keywords`` on the whole frame:
   wall time (best of ``--repeat``) and the process's peak RSS (includes making the frames).
2. Baseline A, the guide's per-call functions (pyai-api.md §8.2: ``talkRatio(segments)`` and
   ``keywords(text, n=8)``) looped over calls in plain Python, on ``--loop-calls`` calls and
   extrapolated linearly to all calls (said so in the output). The loop's input (per-call lists
   of segment dicts) is built before timing. The guide computes only two of hearkit's metrics,
   so "full scorecards vs the loop" understates the like-for-like speedup, printed as well
   (``talk_time`` + ``top_keywords`` vs the loop).
3. Baseline B, DuckDB running the same talk-ratio aggregation in SQL on the same DataFrame:
   the plain sum (guide's definition) and hearkit's definition (union of a speaker's turns, via
   gaps-and-islands windows); results are checked equal before timing is trusted.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import time
from collections import Counter
from collections.abc import Callable
from typing import Any

import duckdb
import numpy as np
import pandas as pd

from hearkit.metrics import scorecards, talk_time
from hearkit.record import top_keywords
from hearkit.synth import synthetic_turns

_GUIDE_STOP_TEXT = """
the and for are but not you your with this that have has was were will would could should can
what when where which who how all any our out about into from they them their there then than
"""
GUIDE_STOP = set(_GUIDE_STOP_TEXT.split())


def guide_talk_ratio(segments: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The guide's talkRatio: seconds per speaker, pct of the total, sorted by seconds."""
    secs: dict[str, float] = {}
    for seg in segments:
        speaker = seg.get("speaker") or "speaker_0"
        secs[speaker] = secs.get(speaker, 0.0) + max(0.0, seg["end"] - seg["start"])
    total = sum(secs.values()) or 1.0
    rows = [{"speaker": s, "secs": v, "pct": round(v / total * 100)} for s, v in secs.items()]
    return sorted(rows, key=lambda r: -r["secs"])


def guide_keywords(text: str, n: int = 8) -> list[tuple[str, int]]:
    """The guide's keywords: lower-case [a-z']+ tokens, ≥ 3 letters, no stop words, top n."""
    tokens = [t for t in re.findall(r"[a-z']+", text.lower()) if len(t) >= 3 and t not in GUIDE_STOP]
    return Counter(tokens).most_common(n)


def best_of(repeat: int, fn: Callable[[], Any]) -> tuple[float, Any]:
    best, out = float("inf"), None
    for _ in range(repeat):
        began = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - began)
    return best, out


SQL_SUM = """
WITH t AS (SELECT call_id, speaker, SUM(GREATEST("end" - start, 0)) AS talk_s FROM turns GROUP BY 1, 2)
SELECT call_id, speaker, talk_s, talk_s / SUM(talk_s) OVER (PARTITION BY call_id) AS talk_ratio FROM t
"""
SQL_UNION = """
WITH o AS (
  SELECT call_id, speaker, start, "end",
         MAX("end") OVER (PARTITION BY call_id, speaker ORDER BY start, "end"
                          ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS prev_max
  FROM turns),
g AS (
  SELECT *, SUM(CASE WHEN prev_max IS NULL OR start > prev_max THEN 1 ELSE 0 END)
         OVER (PARTITION BY call_id, speaker ORDER BY start, "end" ROWS UNBOUNDED PRECEDING) AS island
  FROM o),
i AS (SELECT call_id, speaker, MIN(start) AS s, MAX("end") AS e FROM g GROUP BY call_id, speaker, island),
t AS (SELECT call_id, speaker, SUM(e - s) AS talk_s FROM i GROUP BY 1, 2)
SELECT call_id, speaker, talk_s, talk_s / SUM(talk_s) OVER (PARTITION BY call_id) AS talk_ratio FROM t
"""


def pandas_sum_ratio(turns: pd.DataFrame) -> pd.DataFrame:
    secs = (turns["end"] - turns["start"]).clip(lower=0).groupby([turns["call_id"], turns["speaker"]]).sum()
    frame = secs.rename("talk_s").reset_index()
    frame["talk_ratio"] = frame["talk_s"] / frame.groupby("call_id")["talk_s"].transform("sum")
    return frame


def same(a: pd.DataFrame, b: pd.DataFrame) -> float:
    key = ["call_id", "speaker"]
    left = a[[*key, "talk_s", "talk_ratio"]].astype({"call_id": str, "speaker": str}).sort_values(key)
    right = b[[*key, "talk_s", "talk_ratio"]].astype({"call_id": str, "speaker": str}).sort_values(key)
    assert len(left) == len(right), (len(left), len(right))
    return float(np.max(np.abs(left["talk_ratio"].to_numpy() - right["talk_ratio"].to_numpy())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--loop-calls", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}")

    began = time.perf_counter()
    turns, durations = synthetic_turns(args.calls, seed=0)
    print(
        f"synthetic_turns: {args.calls:,} calls, {len(turns):,} turns in {time.perf_counter() - began:.2f} s"
    )

    rss_before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t_cards, cards = best_of(args.repeat, lambda: scorecards(turns, durations=durations))
    rss_cards = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    t_kw, _ = best_of(args.repeat, lambda: top_keywords(turns, n=8))
    t_talk, ours = best_of(args.repeat, lambda: talk_time(turns))
    peak_gb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024**2
    assert len(cards) == args.calls
    print(f"scorecards (all {cards.shape[1] - 2} metrics + flags): {t_cards:.2f} s  (target < 10 s)")
    print(f"top_keywords: {t_kw:.2f} s; talk_time alone: {t_talk:.2f} s")
    print(
        f"peak RSS: {rss_before:.2f} GB after making the frames, {rss_cards:.2f} GB after scorecards, "
        f"{peak_gb:.2f} GB after keywords  (target < 2 GB)"
    )

    # Baseline A: the guide's per-call functions in a loop, on a subset.
    subset_ids = set(turns["call_id"].drop_duplicates().iloc[: args.loop_calls])
    sub = turns[turns["call_id"].isin(subset_ids)]
    per_call = {
        cid: [
            {"start": s, "end": e, "speaker": sp, "text": tx}
            for s, e, sp, tx in zip(g["start"], g["end"], g["speaker"], g["text"], strict=True)
        ]
        for cid, g in sub.groupby("call_id", sort=False)
    }

    def loop() -> None:
        for segments in per_call.values():
            guide_talk_ratio(segments)
            guide_keywords(" ".join(seg["text"] for seg in segments))

    t_loop_sub, _ = best_of(1, loop)
    t_loop = t_loop_sub * args.calls / len(per_call)
    print(
        f"guide loop (talkRatio + keywords per call): {t_loop_sub:.2f} s on {len(per_call):,} calls, "
        f"extrapolated linearly to {args.calls:,} calls: {t_loop:.1f} s"
    )
    full = t_loop / (t_cards + t_kw)
    print(f"  speedup, full scorecards + keywords vs the loop: {full:.1f}x  (target >= 20x)")
    print(f"  speedup, like for like (talk_time + top_keywords): {t_loop / (t_talk + t_kw):.1f}x")

    # Baseline A2: hearkit's own scorecards called once per call (what vectorizing saves).
    few = list(per_call)[: max(1, args.loop_calls // 5)]
    groups = [g for _, g in sub[sub["call_id"].isin(few)].groupby("call_id", sort=False)]

    def each() -> None:
        for g in groups:
            cid = str(g["call_id"].iloc[0])
            scorecards(g, durations={cid: float(durations[cid])})

    t_each_sub, _ = best_of(1, each)
    t_each = t_each_sub * args.calls / len(groups)
    print(
        f"scorecards called per call in a loop: {t_each_sub:.2f} s on {len(groups):,} calls, "
        f"extrapolated to {args.calls:,}: {t_each:.1f} s -> vectorized is {t_each / t_cards:.1f}x faster"
    )

    # Baseline B: DuckDB on the same frame.
    con = duckdb.connect()
    frame = turns[["call_id", "speaker", "start", "end"]]
    con.register("turns", frame)
    t_duck_sum, duck_sum = best_of(args.repeat, lambda: con.execute(SQL_SUM).df())
    t_pd_sum, pd_sum = best_of(args.repeat, lambda: pandas_sum_ratio(frame))
    t_duck_union, duck_union = best_of(args.repeat, lambda: con.execute(SQL_UNION).df())
    diff_sum, diff_union = same(pd_sum, duck_sum), same(ours, duck_union)
    print(
        f"talk ratio, plain sum: pandas groupby {t_pd_sum:.2f} s vs DuckDB {t_duck_sum:.2f} s "
        f"-> {t_pd_sum / t_duck_sum:.2f}x DuckDB's time (target <= 2x); max |diff| {diff_sum:.1e}"
    )
    print(
        f"talk ratio, union of turns: hearkit talk_time {t_talk:.2f} s vs DuckDB {t_duck_union:.2f} s "
        f"-> {t_talk / t_duck_union:.2f}x DuckDB's time (target <= 2x); max |diff| {diff_union:.1e}"
    )
    print(f"DuckDB threads: {con.execute('SELECT current_setting(' + repr('threads') + ')').fetchone()[0]}")


if __name__ == "__main__":
    main()
