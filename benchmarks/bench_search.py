"""Phrase search across 10,000 synthetic calls: index build time and query times.

    uv run python benchmarks/bench_search.py [--calls 10000] [--repeat 15]

``hearkit.synth`` calls (about 200 turns each, 2 M turns, 22 M tokens, no word timings so
times are interpolated). The index is built once (time and size printed); each query then runs
``--repeat`` times (median and worst wall, median CPU). The synthetic sentence bank is small, so
its phrases are very common (tens of thousands of matches): the worst case for the search, which
keeps the first 1,000 rows and counts all. Baseline, same run: what a skilled pandas user writes,
``turns[turns.role == role].text.str.contains(phrase, case=False, regex=False)`` (no timestamps,
no normalization), and DuckDB's ``ILIKE`` over the same frame.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time

import duckdb

from hearkit.synth import synthetic_calls

QUERIES = (
    ("send me a proposal", "customer"),
    ("gong and chorus", None),
    ("forty dollars per seat", "rep"),
    ("send me a quote", "customer"),  # never said: the rarest case
)


def timed(fn, repeat: int) -> tuple[float, float, float, object]:  # type: ignore[no-untyped-def]
    walls, cpus, out = [], [], None
    for _ in range(repeat):
        c0, t0 = time.process_time(), time.perf_counter()
        out = fn()
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    return statistics.median(walls), max(walls), statistics.median(cpus), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=15)
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    calls = synthetic_calls(args.calls, seed=0)
    turns = calls.turns
    c0, t0 = time.process_time(), time.perf_counter()
    index = calls.search_index()
    print(
        f"index of {args.calls} calls, {len(turns):,} turns, {index.n_tokens:,} tokens: built in "
        f"{time.perf_counter() - t0:.1f} s wall, {time.process_time() - c0:.1f} s CPU; "
        f"{index.nbytes / 1e6:.0f} MB"
    )
    con = duckdb.connect()
    con.register("turns", turns[["call_id", "role", "text"]])
    for phrase, role in QUERIES:
        med, worst, cpu, found = timed(lambda p=phrase, r=role: calls.search(p, role=r), args.repeat)
        total = found.attrs["total"]  # type: ignore[attr-defined]

        def pandas_way(p: str = phrase, r: str | None = role) -> int:
            rows = turns if r is None else turns[turns["role"] == r]
            return int(rows["text"].str.contains(p, case=False, regex=False).sum())

        p_med, _, _, p_count = timed(pandas_way, 3)
        where = "" if role is None else f" AND role = '{role}'"
        d_med, _, _, _ = timed(
            lambda p=phrase, w=where: con.execute(
                f"SELECT count(*) FROM turns WHERE text ILIKE '%{p}%'{w}"
            ).fetchone(),
            3,
        )
        print(
            f"{phrase!r} role={role}: {total:,} matches; hearkit median {1000 * med:.1f} ms "
            f"(worst {1000 * worst:.1f}, CPU {1000 * cpu:.1f} ms) | "
            f"pandas str.contains {1000 * p_med:.0f} ms "
            f"({p_count:,} turns) {p_med / med:.0f}x | DuckDB ILIKE {1000 * d_med:.0f} ms {d_med / med:.0f}x"
        )
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
