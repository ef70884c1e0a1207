"""Client benchmarks: walking job pages, and normalizing results into DataFrames.

1. Walk 10,000 jobs in 100 pages of 100 over an in-memory transport. hearkit validates every
   job into a pydantic ``Job``; the baseline is the official ``pyai-sdk`` returning raw dicts,
   (a) through the same httpx stack (``httpx.Client`` + ``MockTransport``) and (b) through its
   bare callable transport (no HTTP objects at all, the floor). Target: hearkit within 1.5×
   of the raw-dict walk. The walks take turns for 9 rounds so that each meets the same load.
2. Normalize 1,000 results of 200 segments (8 words each: 1.6 M words) into the turns and
   words frames with ``hearkit.transcript.normalize_many``; target under 2 s. Baseline: a
   naive flatten (``pd.DataFrame`` of every segment's and word's dict, per call, then concat),
   which does less work (no merging, no roles, no word-to-turn assignment).

    uv run python benchmarks/bench_client.py [--quick]

The machine is shared: the load average is printed with the figures.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import random
import statistics
import time
from collections.abc import Callable
from typing import Any

import httpx
import pandas as pd
import pyai

from hearkit import transcript
from hearkit.client import PyAI
from hearkit.schema import Result

KEY = "pyai_test_bench"
BASE = "https://api.pyai.com"


def best_of(repeats: int, run: Callable[[], Any]) -> tuple[float, Any]:
    """Least CPU time of ``repeats`` runs (GC collected before each), and the last output.

    CPU time of this process, not wall time: the machine is shared by several engineers, and
    every measured step is single-threaded, so on an idle machine the two agree.
    """
    best, out = float("inf"), None
    for _ in range(repeats):
        gc.collect()
        started = time.process_time()
        out = run()
        best = min(best, time.process_time() - started)
    return best, out


def job_pages(n_pages: int, per_page: int) -> dict[str | None, bytes]:
    """List pages keyed by the cursor that asks for them, as the server would send them."""
    rng = random.Random(7)
    pages: dict[str | None, bytes] = {}
    cursor: str | None = None
    for p in range(n_pages):
        jobs = []
        for i in range(per_page):
            n = p * per_page + i
            status = rng.choice(["completed"] * 8 + ["failed", "running"])
            job: dict[str, Any] = {
                "job_id": f"job_{n:024d}",
                "status": status,
                "created_at": 1786599793725 + n,
                "updated_at": 1786599800000 + n,
            }
            if status == "failed":
                job["error"] = "audio could not be decoded"
            jobs.append(job)
        last = p == n_pages - 1
        nxt = None if last else f"cur_{p + 1:04d}"
        body = {"object": "list", "data": jobs, "has_more": not last, "next_cursor": nxt}
        pages[cursor] = json.dumps(body).encode()
        cursor = nxt
    return pages


def bench_walk(n_pages: int, per_page: int, repeats: int) -> None:
    pages = job_pages(n_pages, per_page)
    headers = {"content-type": "application/json"}

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, headers=headers, content=pages[request.url.params.get("cursor")])

    def raw(
        method: str, url: str, hdrs: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        cursor = dict(httpx.URL(url).params).get("cursor")
        return 200, headers, pages[cursor]

    http = httpx.Client(transport=httpx.MockTransport(handler))

    def via_httpx(
        method: str, url: str, hdrs: dict[str, str], body: bytes | None
    ) -> tuple[int, dict[str, str], bytes]:
        response = http.request(method, url, headers=hdrs, content=body)
        return response.status_code, dict(response.headers), response.content

    def sdk_walk(transport: Any) -> list[dict[str, Any]]:
        sdk = pyai.PyAI(KEY, base_url=BASE, transport=transport)
        out: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = sdk.transcription_jobs.list(limit=per_page, cursor=cursor)
            out.extend(page["data"])
            if not page["has_more"] or not page["next_cursor"]:
                return out
            cursor = page["next_cursor"]

    client = PyAI(KEY, base_url=BASE, transport=httpx.MockTransport(handler))
    # The three walks take turns, round after round, so that all of them meet the same load on a
    # shared machine; each round's hearkit / sdk ratio is paired, and its median is reported
    # beside the ratio of the best times (separate best-of-N runs swung 0.93-1.66x under load).
    runs: dict[str, list[float]] = {"ours": [], "sdk_httpx": [], "sdk_raw": []}
    walks: dict[str, Callable[[], list[Any]]] = {
        "ours": lambda: list(client.jobs.iter(limit=per_page)),
        "sdk_httpx": lambda: sdk_walk(via_httpx),
        "sdk_raw": lambda: sdk_walk(raw),
    }
    outputs: dict[str, list[Any]] = {}
    for _ in range(repeats):
        for name, walk in walks.items():
            seconds, outputs[name] = best_of(1, walk)
            runs[name].append(seconds)
    jobs, dicts = outputs["ours"], outputs["sdk_httpx"]
    t_ours, t_sdk_httpx, t_sdk_raw = (min(runs[name]) for name in ("ours", "sdk_httpx", "sdk_raw"))
    paired = statistics.median(o / s for o, s in zip(runs["ours"], runs["sdk_httpx"], strict=True))
    assert len(jobs) == len(dicts) == n_pages * per_page
    assert [j.job_id for j in jobs] == [d["job_id"] for d in dicts]
    n = len(jobs)
    print(f"walk {n:,} jobs in {n_pages} pages (CPU time, best of {repeats} interleaved rounds):")
    print(f"  hearkit PyAI.jobs.iter, pydantic Job per item : {t_ours * 1000:8.1f} ms")
    print(f"  pyai-sdk raw dicts, same httpx stack          : {t_sdk_httpx * 1000:8.1f} ms")
    print(f"  pyai-sdk raw dicts, bare callable transport   : {t_sdk_raw * 1000:8.1f} ms")
    print(f"  ratio hearkit / sdk (same httpx stack)        : {t_ours / t_sdk_httpx:8.2f}x  (target <= 1.5x)")
    label = f"median of the {repeats} paired round ratios"
    print(f"  {label:<46}: {paired:8.2f}x")
    print(f"  ratio hearkit / sdk (bare transport)          : {t_ours / t_sdk_raw:8.2f}x")


def synthetic_results(
    n_calls: int, n_segments: int, words_per_segment: int, distinct: int = 100
) -> list[Result]:
    """``n_calls`` stereo results; ``distinct`` different ones, repeated (building 1.8 M validated
    pydantic objects would take longer than the measurement itself)."""
    rng = random.Random(11)
    vocabulary = [
        "price",
        "renewal",
        "hello",
        "yes",
        "we",
        "can",
        "do",
        "the",
        "contract",
        "next",
        "week",
        "budget",
        "team",
    ]
    results: list[Result] = []
    for _ in range(min(n_calls, distinct)):
        segments, words, t = [], [], 0.0
        for i in range(n_segments):
            channel = i % 2 if rng.random() < 0.8 else (i + 1) % 2
            speaker = f"speaker_{channel + 1}"
            start = t
            tokens = [rng.choice(vocabulary) for _ in range(words_per_segment)]
            for token in tokens:
                words.append(
                    {"word": token, "start": t, "end": t + 0.25, "channel": channel, "speaker": speaker}
                )
                t += 0.3
            segments.append(
                {
                    "id": i,
                    "start": start,
                    "end": t,
                    "text": " ".join(tokens),
                    "speaker": speaker,
                    "channel": channel,
                }
            )
            t += 0.4
        document = {"text": "", "speakers": 2, "audio_seconds": t, "segments": segments, "words": words}
        results.append(Result.model_validate_json(json.dumps(document)))
    return [results[i % len(results)] for i in range(n_calls)]


def naive_flatten(results: list[Result]) -> tuple[pd.DataFrame, pd.DataFrame]:
    turns, words = [], []
    for i, result in enumerate(results):
        seg = pd.DataFrame([s.model_dump() for s in result.segments])
        seg["call_id"] = f"call_{i}"
        turns.append(seg)
        wrd = pd.DataFrame([w.model_dump() for w in result.words])
        wrd["call_id"] = f"call_{i}"
        words.append(wrd)
    return pd.concat(turns, ignore_index=True), pd.concat(words, ignore_index=True)


def bench_normalize(n_calls: int, n_segments: int, words_per_segment: int, repeats: int) -> None:
    started = time.perf_counter()
    results = synthetic_results(n_calls, n_segments, words_per_segment)
    built = time.perf_counter() - started
    ids = [f"call_{i}" for i in range(n_calls)]
    t_many, (turns, words) = best_of(repeats, lambda: transcript.normalize_many(results, call_ids=ids))
    t_each, _ = best_of(
        1, lambda: [transcript.turns_and_words(r, call_id=c) for r, c in zip(results, ids, strict=True)]
    )
    t_naive, _ = best_of(1, lambda: naive_flatten(results))
    print(
        f"normalize {n_calls:,} results x {n_segments} segments ({len(words):,} words, CPU time) "
        f"({min(n_calls, 100)} distinct results, validated beforehand in {built:.1f} s):"
    )
    rows = f"turns {len(turns):,} rows + words {len(words):,} rows"
    print(f"  normalize_many -> {rows} : {t_many:6.2f} s  (target < 2 s)")
    print(f"  turns_and_words per call, {n_calls:,} calls x 2 frames           : {t_each:6.2f} s")
    print(f"  baseline: naive flatten (DataFrame of dicts per call, concat)  : {t_naive:6.2f} s")
    print(f"  ratio normalize_many / naive flatten                           : {t_many / t_naive:6.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the sizes (a smoke run)")
    args = parser.parse_args()
    scale = 10 if args.quick else 1
    load = os.getloadavg()
    print(f"machine: {os.cpu_count()} cores, load average {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    bench_walk(100 // scale, 100, repeats=9)
    bench_normalize(1000 // scale, 200, 8, repeats=2)
    load = os.getloadavg()
    print(f"load average at the end: {load[0]:.2f}")


if __name__ == "__main__":
    main()
