"""Size (and build time) of a 50-call HTML report against the naive way of sharing the same charts.

    uv run python benchmarks/bench_report.py [--calls 50]

Report: ``hearkit.report.render_html(calls)``, plotly.js embedded once (the offline default).
Baseline, measured in the same run: every figure of that report written on its own with
``fig.write_html(include_plotlyjs=True)`` (what a notebook user gets by saving each chart), summed.
Targets: the report at least 5x smaller than the baseline, and under 6 MB.
The calls are ``hearkit.synth.synthetic_calls(n, seed=0, hits=True)`` (about 200 turns each) with
their scorecards, as a CallSet from ``analyze_calls`` has them.
"""

from __future__ import annotations

import argparse
import io
import time

from hearkit import metrics, report

MB = 1_000_000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=50)
    args = parser.parse_args()
    from hearkit.synth import synthetic_calls

    calls = synthetic_calls(args.calls, seed=0, hits=True)
    # a CallSet from analyze_calls carries every scorecard metric in `calls`; add them likewise
    cards = metrics.scorecards(
        calls.turns, durations=dict(zip(calls.calls["call_id"], calls.calls["duration_s"], strict=True))
    )
    calls.calls = calls.calls.merge(cards.drop(columns=["duration_s"]), on="call_id", how="left")
    started = time.perf_counter()
    html = report.render_html(calls)
    report_s = time.perf_counter() - started
    report_bytes = len(html.encode("utf-8"))
    cdn_bytes = len(report.render_html(calls, plotlyjs="cdn").encode("utf-8"))

    figures = report.figures(calls)
    started = time.perf_counter()
    baseline_bytes = 0
    for fig in figures.values():
        buffer = io.StringIO()
        fig.write_html(buffer, include_plotlyjs=True)
        baseline_bytes += len(buffer.getvalue().encode("utf-8"))
    baseline_s = time.perf_counter() - started

    ratio = baseline_bytes / report_bytes
    print(f"calls: {args.calls}, figures: {len(figures)}, turns: {len(calls.turns)}, hits: {len(calls.hits)}")
    print(f"report (plotly.js inline once): {report_bytes / MB:8.2f} MB  built in {report_s:6.2f} s")
    print(f"report (--cdn):                 {cdn_bytes / MB:8.2f} MB")
    print(f"baseline (write_html per fig):  {baseline_bytes / MB:8.2f} MB  built in {baseline_s:6.2f} s")
    print(f"ratio baseline / report: {ratio:.1f}x (target >= 5x); under 6 MB: {report_bytes < 6 * MB}")


def audio_report(n_calls: int) -> None:
    """A report of ``n_calls`` real recordings (the sample calls, repeated under new ids) with
    ``audio="moments"``: the size of each part of the file (target: under 12 MB in all)."""
    import json
    import re

    from hearkit.record import STEREO_ROLES, analyze_calls, sample_dir

    base = sample_dir()
    entries = json.loads((base / "index.json").read_text())["calls"]
    sources, files, metadata = {}, {}, {}
    for i in range(n_calls):
        entry = entries[i % len(entries)]
        call_id = f"{entry['call_id']}_{i:02d}"
        sources[call_id] = json.loads((base / entry["result"]).read_text())
        files[call_id] = base / entry["stereo"]
        metadata[call_id] = {k: entry[k] for k in ("title", "rep", "customer", "date", "kind")}
    calls = analyze_calls(sources, roles=STEREO_ROLES, metadata=metadata, summaries=False)
    for mode in ("none", "moments"):
        cpu0, started = time.process_time(), time.perf_counter()
        html = report.render_html(calls, audio=mode, audio_files=files)  # type: ignore[arg-type]
        wall, cpu = time.perf_counter() - started, time.process_time() - cpu0
        parts = {}
        for name in ("hk-plotly", "hk-figures", "hk-audio"):
            found = re.search(rf'<script[^>]*id="{name}">(.*?)</script>', html, re.S)
            parts[name] = len(found.group(1).encode()) if found else 0
        total = len(html.encode("utf-8"))
        rest = total - sum(parts.values())
        print(
            f"{n_calls} real calls, audio={mode}: {total / MB:.2f} MB "
            f"(plotly.js {parts['hk-plotly'] / MB:.2f}, "
            f"figures {parts['hk-figures'] / MB:.2f}, audio clips {parts['hk-audio'] / MB:.2f}, "
            f"page and transcripts {rest / MB:.2f}); built in {wall:.1f} s wall, {cpu:.1f} s CPU"
        )
    print(f"with moments under 12 MB: {total < 12 * MB}")


if __name__ == "__main__":
    main()
    audio_report(50)
