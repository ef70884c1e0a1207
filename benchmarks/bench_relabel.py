"""Re-labelling stored calls without transcribing again.

    uv run python benchmarks/bench_relabel.py [--calls 10000] [--mean-turns 200]

1. Roles of ``--calls`` stored synthetic calls (``hearkit.synth``, ~2 M turns, scorecards and
   speaker statistics computed once, as ``analyze_calls`` stores them) swapped with
   ``CallSet.with_roles``: wall and CPU time. Baseline in the same run: recomputing the
   scorecards of every call from the relabelled turns (what one would do without the
   per-speaker re-aggregation), and the check that both give the same per-role columns.
2. Re-diarization of a stored mono call with a given speaker count
   (:func:`hearkit.rediarize.rediarize`), against its transcription time, when
   ``--audio`` names a mono recording (default: the sample call_04_support.mono.ogg, 2 min 57 s): the call is
   transcribed once by the local engine (time measured), then re-diarized from the stored result.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from hearkit.metrics import scorecards, speaker_stats
from hearkit.record import CallSet, sample_dir
from hearkit.synth import synthetic_calls


def stored_set(n: int, mean_turns: float) -> CallSet:
    calls = synthetic_calls(n, seed=0, mean_turns=mean_turns)
    durations = calls.calls.set_index("call_id")["duration_s"]
    cards = scorecards(calls.turns, durations=durations)
    stats = speaker_stats(calls.turns, durations=durations)
    frame = calls.calls.merge(cards.drop(columns=["duration_s"]), on="call_id")
    return CallSet(calls=frame, turns=calls.turns, words=calls.words, hits=calls.hits, speakers=stats)


def relabel(args: argparse.Namespace) -> None:
    t0 = time.perf_counter()
    stored = stored_set(args.calls, args.mean_turns)
    print(f"{args.calls} stored calls, {len(stored.turns):,} turns, made in {time.perf_counter() - t0:.1f} s")
    swap = {c: {"speaker_0": "customer", "speaker_1": "rep"} for c in stored.call_ids}
    c0, t0 = time.process_time(), time.perf_counter()
    swapped = stored.with_roles(swap)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    print(f"with_roles, every call's roles swapped: {wall:.2f} s wall, {cpu:.2f} s CPU (target < 5 s)")
    c0, t0 = time.process_time(), time.perf_counter()
    fresh = scorecards(swapped.turns, durations=stored.calls.set_index("call_id")["duration_s"])
    base_wall, base_cpu = time.perf_counter() - t0, time.process_time() - c0
    print(
        f"baseline, scorecards recomputed from the relabelled turns: {base_wall:.2f} s wall, "
        f"{base_cpu:.2f} s CPU; with_roles {base_wall / wall:.1f}x faster"
    )
    a = swapped.calls.set_index("call_id").loc[fresh["call_id"]]
    b = fresh.set_index("call_id")
    columns = [
        c for c in b.columns if c.startswith(("talk_ratio_", "wpm_", "questions_", "longest_", "patience"))
    ]
    same = all(
        np.allclose(a[c].astype(float).to_numpy(), b[c].astype(float).to_numpy(), equal_nan=True)
        for c in columns
    )
    print(f"per-role columns equal to the recomputed scorecards: {same} ({len(columns)} columns checked)")


def rediarize_call(args: argparse.Namespace) -> None:
    from hearkit.engine.pipeline.rediarize import rediarize
    from hearkit.engine.pipeline.transcriber import WhisperTranscriber
    from hearkit.schema import JobCreateParams

    path = args.audio
    transcriber = WhisperTranscriber()
    c0, t0 = time.process_time(), time.perf_counter()
    result = transcriber.transcribe(path, JobCreateParams(diarize=True))
    asr_wall, asr_cpu = time.perf_counter() - t0, time.process_time() - c0
    stored = result.to_api() if hasattr(result, "to_api") else result.model_dump()
    kept = result.speaker_embeddings
    if kept is None:
        print("the engine kept no speaker embeddings with this result: nothing to re-diarize")
        return
    walls, cpus = [], []
    for _ in range(5):
        c0, t0 = time.process_time(), time.perf_counter()
        again = rediarize(stored, speakers_expected=2)
        walls.append(time.perf_counter() - t0)
        cpus.append(time.process_time() - c0)
    wall, cpu = sorted(walls)[2], sorted(cpus)[2]
    print(
        f"{path.name} ({result.audio_seconds:.0f} s): transcription with diarization {asr_wall:.1f} s wall, "
        f"{asr_cpu:.1f} s CPU; stored embeddings {len(kept.starts)} windows, {len(kept.data) / 1e3:.0f} KB"
    )
    print(
        f"re-diarize with speakers_expected=2 from the stored result (median of 5): "
        f"{1000 * wall:.0f} ms wall, {1000 * cpu:.0f} ms CPU = {100 * wall / asr_wall:.2f} % of the "
        f"transcription's wall time, {100 * cpu / asr_cpu:.2f} % of its CPU (target < 5 %); "
        f"speakers {result.speakers} -> {again.speakers}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--mean-turns", type=float, default=200.0)
    parser.add_argument("--audio", type=Path, default=sample_dir() / "call_04_support.mono.ogg")
    parser.add_argument("--skip-relabel", action="store_true")
    args = parser.parse_args()
    print(f"load average: {os.getloadavg()}")
    if not args.skip_relabel:
        relabel(args)
    rediarize_call(args)
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
