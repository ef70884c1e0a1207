"""Benchmark of ``hearkit batch``: orchestration throughput and real-ASR throughput.

    uv run python benchmarks/bench_batch.py [--n 1000] [--baseline-n 40] [--asr-calls 20] [--skip-asr]

Part 1, orchestration: ``n`` short recordings (0.5 s tones, written here) through the local engine
with the fake transcriber, the engine in its own process. Baseline, measured in the same run:
the guide's loop, one recording at a time: submit, then poll ``GET /v1/transcription/jobs/{id}``
with the official example's backoff (1 s, ×1.5, at most 5 s), on the first ``baseline-n``
recordings (it needs about a second a job, so all 1,000 would take a quarter of an hour); a second
reference runs the same sequential loop with the batch's fast polling. Then the batch at
concurrency 16. Figures: jobs/s and the ratio.

Part 2, real ASR: ``asr-calls`` cuts of 30 s from the sample calls (stereo and mono), transcribed
by the engine's faster-whisper pipeline (tiny.en) through the batch at concurrency 1 and then 2
(fresh engine each time, engine workers = 2): audio hours per wall hour.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import wave
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import av
import numpy as np

from hearkit.batch import arun
from hearkit.batch.runner import RunnerSettings
from hearkit.client import AsyncPyAI, PyAI

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"

_ENGINE = """
import sys
from hearkit.engine import LocalEngine
data_dir, transcriber, workers = sys.argv[1], sys.argv[2], int(sys.argv[3])
with LocalEngine(data_dir, transcriber=transcriber, workers=workers, poll_interval=0.05) as engine:
    print(engine.base_url, engine.api_key, flush=True)
    sys.stdin.read()
"""


@contextmanager
def engine_process(data_dir: Path, transcriber: str, workers: int) -> Iterator[tuple[str, str]]:
    """The local engine in its own process; yields (base_url, api_key)."""
    process = subprocess.Popen(
        [sys.executable, "-c", _ENGINE, str(data_dir), transcriber, str(workers)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stdin is not None
    base_url, api_key = process.stdout.readline().split()
    try:
        yield base_url, api_key
    finally:
        process.stdin.close()
        process.wait(60)


def write_tones(folder: Path, n: int, seconds: float = 0.5, rate: int = 8000) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    t = np.arange(int(seconds * rate)) / rate
    for i in range(n):
        pcm = (0.3 * np.sin(2 * np.pi * (200 + 0.37 * i) * t) * 32767).astype("<i2")
        with wave.open(str(folder / f"call_{i:05d}.wav"), "wb") as handle:
            handle.setnchannels(1)
            handle.setsampwidth(2)
            handle.setframerate(rate)
            handle.writeframes(pcm.tobytes())


def guide_loop(
    files: list[Path], base_url: str, api_key: str, *, first: float, factor: float, cap: float
) -> float:
    """One at a time: create, then poll with backoff until completed. Returns seconds."""
    started = time.perf_counter()
    with PyAI(api_key=api_key, base_url=base_url) as client:
        for path in files:
            job = client.jobs.create(path, diarize=True)
            delay = first
            while True:
                job = client.jobs.get(job.job_id)
                if job.status in ("completed", "failed"):
                    break
                time.sleep(delay)
                delay = min(delay * factor, cap)
            assert job.status == "completed", job.error
    return time.perf_counter() - started


async def batch(source: Path, out: Path, base_url: str, api_key: str, concurrency: int) -> float:
    client = AsyncPyAI(api_key=api_key, base_url=base_url, max_retries=0)
    settings = RunnerSettings(poll_initial=0.05, poll_max=1.0)
    started = time.perf_counter()
    try:
        report = await arun(
            source,
            out,
            client=client,
            concurrency=concurrency,
            mode="mono",
            progress=False,
            write_dataset=False,
            settings=settings,
        )
    finally:
        await client.close()
    elapsed = time.perf_counter() - started
    assert report.complete, report.counts
    return elapsed


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.1f} (1 min), {five:.1f} (5 min) on {os.cpu_count()} cores"


def orchestration(tmp: Path, n: int, baseline_n: int) -> None:
    source = tmp / "tones"
    write_tones(source, n)
    files = sorted(source.iterdir())
    print(f"orchestration: {n} recordings of 0.5 s, fake transcriber, engine in its own process (4 workers)")
    print(f"  {load()}")
    with engine_process(tmp / "engine-baseline", "fake", 4) as (base_url, api_key):
        guide_s = guide_loop(files[:baseline_n], base_url, api_key, first=1.0, factor=1.5, cap=5.0)
    guide_rate = baseline_n / guide_s
    print(f"  baseline, guide's loop (1 s ×1.5 ≤ 5 s polls), {baseline_n} jobs: {guide_rate:.2f} jobs/s")
    with engine_process(tmp / "engine-fastpoll", "fake", 4) as (base_url, api_key):
        fast_n = min(n, baseline_n * 3)
        fast_s = guide_loop(files[:fast_n], base_url, api_key, first=0.05, factor=1.5, cap=1.0)
    fast_rate = fast_n / fast_s
    print(
        f"  reference, same loop with the batch's polling (50 ms ×1.5 ≤ 1 s), {fast_n} jobs: "
        f"{fast_rate:.2f} jobs/s"
    )
    with engine_process(tmp / "engine-batch", "fake", 4) as (base_url, api_key):
        batch_s = asyncio.run(batch(source, tmp / "out-batch", base_url, api_key, 16))
    rate = n / batch_s
    print(f"  hearkit batch, concurrency 16, {n} jobs: {rate:.2f} jobs/s ({batch_s:.1f} s)")
    print(
        f"  ratio vs guide's loop: {rate / guide_rate:.1f}x (target >= 10x); "
        f"vs fast-poll loop: {rate / fast_rate:.1f}x"
    )
    print(f"  {load()}")


def cut_opus(src: Path, target: Path, offset: float, seconds: float) -> None:
    """Write ``seconds`` of ``src`` from ``offset`` as Opus with PyAV (no ffmpeg command needed)."""
    with av.open(str(src)) as inp:
        layout = inp.streams.audio[0].layout.name
        resampler = av.AudioResampler(format="flt", layout=layout, rate=48_000)
        frames = [f for frame in inp.decode(audio=0) for f in resampler.resample(frame)]
    channels = len(frames[0].layout.channels)
    samples = np.concatenate([f.to_ndarray().reshape(-1, channels) for f in frames])
    cut = np.ascontiguousarray(samples[int(offset * 48_000) : int((offset + seconds) * 48_000)])
    with av.open(str(target), "w") as out:
        stream = out.add_stream("libopus", rate=48_000, layout=layout)  # type: ignore[call-overload]
        frame = av.AudioFrame.from_ndarray(cut.reshape(1, -1), format="flt", layout=layout)
        frame.sample_rate = 48_000
        out.mux(stream.encode(frame))
        out.mux(stream.encode(None))


def make_cuts(tmp: Path, count: int, seconds: float = 30.0) -> tuple[Path, float]:
    """``count`` distinct 30 s cuts of the sample calls (stereo and mono files, three offsets)."""
    folder = tmp / "cuts"
    folder.mkdir()
    sources = sorted(SAMPLES.glob("*.stereo.ogg")) + sorted(SAMPLES.glob("*.mono.ogg"))
    total = 0.0
    made = 0
    for offset in (0.0, 45.0, 90.0):
        for src in sources:
            if made == count:
                return folder, total
            name = src.name.replace(".ogg", f".at{int(offset)}.ogg")
            cut_opus(src, folder / name, offset, seconds)
            total += seconds
            made += 1
    return folder, total


def real_asr(tmp: Path, calls: int) -> None:
    folder, audio_s = make_cuts(tmp, calls)
    print(
        f"real ASR: {calls} cuts of 30 s of the sample calls ({audio_s / 60:.1f} audio min), whisper tiny.en"
    )
    for concurrency in (1, 2):
        print(f"  {load()}")
        with engine_process(tmp / f"engine-asr-{concurrency}", "whisper", 2) as (base_url, api_key):
            elapsed = asyncio.run(
                batch_auto(folder, tmp / f"out-asr-{concurrency}", base_url, api_key, concurrency)
            )
        print(
            f"  concurrency {concurrency}: {elapsed:.1f} s wall, "
            f"{audio_s / elapsed:.2f} audio hours per wall hour"
        )


async def batch_auto(source: Path, out: Path, base_url: str, api_key: str, concurrency: int) -> float:
    client = AsyncPyAI(api_key=api_key, base_url=base_url, max_retries=0)
    started = time.perf_counter()
    try:
        report = await arun(
            source, out, client=client, concurrency=concurrency, progress=False, write_dataset=False
        )
    finally:
        await client.close()
    assert report.complete, (report.counts, report.failed[:2])
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--n", type=int, default=1000)
    parser.add_argument("--baseline-n", type=int, default=40)
    parser.add_argument("--asr-calls", type=int, default=20)
    parser.add_argument("--skip-asr", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp:
        orchestration(Path(tmp), args.n, args.baseline_n)
        if not args.skip_asr:
            real_asr(Path(tmp), args.asr_calls)


if __name__ == "__main__":
    main()
