"""Archive throughput: audio hours per wall hour of ``hearkit batch`` end to end, per way of using the cores.

    uv run python benchmarks/bench_archive.py [--calls 20] [--seconds 50] [--configs default,dask,procs2]
        [--rounds 2]  (the options continue on this line)

``calls`` stereo cuts of the sample calls (``seconds`` long each, three offsets into each call) are
transcribed with ``channel: true`` by ``hearkit.batch.run`` from upload to the Parquet dataset, each
configuration in a fresh Python process with its own engine data directory (model load, engine
start, uploads, transcription, result download, analysis and the dataset all counted):

* ``default``: the engine's defaults (1 worker process of all the cores, a call's windows in that many
  decode lanes, every call transcribed alone); ``pool4`` / ``pool8``: the same with up to 4 / 8 queued
  calls transcribed together, their speech in shared windows (``HEARKIT_POOL_CALLS``);
  ``dask``: ``--dask local`` with its defaults (2 worker threads, one model replica of cores / 2
  threads each);
* ``threads2``: one engine worker process of 2 threads (``HEARKIT_WORKERS=1``,
  ``HEARKIT_ASR_THREADS=2``): a call's windows decoded in 2 lanes on model replicas of 1 thread;
* ``threads2one``: the same with one decode lane on one model replica of 2 threads
  (``HEARKIT_ASR_LANES=1``, the way before the lanes);
* ``procs2``: two worker processes, the model on 1 thread each;
* ``procs2x2``: two worker processes of 2 threads each (4 threads on 2 cores);
* ``dask2``: ``--dask local``: the 2-worker local cluster (threads of one process), one model with
  two replicas of 1 thread (``HEARKIT_ASR_REPLICAS=2``, ``HEARKIT_ASR_THREADS=1``);
* ``dask2shared``: the same cluster with one model replica of 2 threads (the two worker threads
  wait for each other in the model).

Order effects: before the first timed run an untimed warm-up process imports hearkit, faster-whisper and
the model and transcribes one call (the first run otherwise pays a cold page cache); with ``--rounds N``
the configurations run N times, in the given order in round 1, reversed in round 2, rotated by one in
round 3 (then reversed again), so that no configuration always runs first or last. Every run is
printed, then per configuration the mean and the spread over the rounds, and its ratio to the
``default`` configuration's throughput *within each round* (the machine's load moves between rounds).

Figures: **audio hours per wall hour** = audio seconds of all calls / wall seconds of the run (the
inverse of the end-to-end RTF; target ≥ 8 on the idle machine); **CPU seconds** = user + system
time of the run's process and all its children (``RUSAGE_CHILDREN``), which the shared machine's
load does not inflate the way it inflates wall time. The load average is printed beside each run.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_batch import cut_opus

ROOT = Path(__file__).resolve().parents[1]
SAMPLES = ROOT / "sample_data"

CONFIGS: dict[str, dict[str, str]] = {
    "default": {},
    "pool4": {"HEARKIT_POOL_CALLS": "4"},
    "pool8": {"HEARKIT_POOL_CALLS": "8"},
    "dask": {"DASK": "local"},
    "threads2": {"HEARKIT_WORKERS": "1", "HEARKIT_ASR_THREADS": "2"},
    "threads2one": {"HEARKIT_WORKERS": "1", "HEARKIT_ASR_THREADS": "2", "HEARKIT_ASR_LANES": "1"},
    "procs2": {"HEARKIT_WORKERS": "2", "HEARKIT_ASR_THREADS": "1"},
    "procs2x2": {"HEARKIT_WORKERS": "2", "HEARKIT_ASR_THREADS": "2"},
    "dask2": {"DASK": "local", "HEARKIT_ASR_THREADS": "1", "HEARKIT_ASR_REPLICAS": "2"},
    "dask2shared": {"DASK": "local", "HEARKIT_ASR_THREADS": "2", "HEARKIT_ASR_REPLICAS": "1"},
}

_RUN = """
import sys, time
from hearkit.batch import run
source, out, dask = sys.argv[1], sys.argv[2], sys.argv[3] or None
report = run(source, out, mode="stereo", progress=False, write_dataset=True, dask=dask)
assert report.complete, report
assert (__import__("pathlib").Path(out) / "dataset").exists(), "no dataset written"
"""


def load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load {one:.1f} / {five:.1f} / {fifteen:.1f} (1/5/15 min, {os.cpu_count()} cores)"


def make_calls(folder: Path, count: int, seconds: float) -> float:
    """``count`` stereo cuts of the sample calls; returns their total audio seconds."""
    folder.mkdir(parents=True)
    sources = sorted(SAMPLES.glob("*.stereo.ogg"))
    made = 0
    for offset in (0.0, 50.0, 100.0, 25.0, 75.0):
        for src in sources:
            if made == count:
                return made * seconds
            cut_opus(src, folder / src.name.replace(".stereo.ogg", f".at{int(offset)}.ogg"), offset, seconds)
            made += 1
    return made * seconds


def round_order(names: list[str], round_index: int) -> list[str]:
    """Round 0: as given; 1: reversed; 2: rotated by one; 3: that reversed; …"""
    shift = (round_index // 2) % max(1, len(names))
    order = names[shift:] + names[:shift]
    return order[::-1] if round_index % 2 else order


def run_config(name: str, source: Path, tmp: Path, tag: str = "") -> tuple[float, float]:
    """(wall seconds, CPU seconds) of one batch run in a fresh process."""
    settings = dict(CONFIGS[name])
    dask = settings.pop("DASK", "")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))}
    env.update(settings, HEARKIT_DATA_DIR=str(tmp / f"engine-{name}{tag}"))
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-c", _RUN, str(source), str(tmp / f"out-{name}{tag}"), dask],
        check=True,
        cwd=ROOT,
        env=env,
    )
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=50.0)
    parser.add_argument("--configs", default="default,dask,procs2")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--no-warmup", action="store_true", help="skip the untimed warm-up run")
    args = parser.parse_args()
    names = [n.strip() for n in args.configs.split(",") if n.strip()]
    unknown = [n for n in names if n not in CONFIGS]
    if unknown:
        parser.error(f"unknown configuration(s) {unknown}: choose from {sorted(CONFIGS)}")
    with tempfile.TemporaryDirectory(prefix="hearkit-archive-") as tmp_name:
        tmp = Path(tmp_name)
        audio_s = make_calls(tmp / "calls", args.calls, args.seconds)
        print(
            f"{args.calls} stereo calls of {args.seconds:.0f} s ({audio_s / 60:.1f} audio min), tiny.en int8,"
            f" {args.rounds} round(s)"
        )
        if not args.no_warmup:
            make_calls(tmp / "warmup", 1, 10.0)
            print(f"  warm-up (untimed) — {load()}", flush=True)
            run_config("default", tmp / "warmup", tmp, tag="-warmup")
        runs: dict[str, list[tuple[float, float, float]]] = {n: [] for n in names}
        for round_index in range(args.rounds):
            order = round_order(names, round_index)
            print(f"round {round_index + 1}: {', '.join(order)}", flush=True)
            for name in order:
                before = load()
                wall, cpu = run_config(name, tmp / "calls", tmp, tag=f"-r{round_index}")
                rate = audio_s / wall
                runs[name].append((wall, cpu, rate))
                print(
                    f"  {name:12s} wall {wall:6.1f} s  CPU {cpu:6.1f} s  audio h per wall h {rate:5.2f}"
                    f"  (RTF {wall / audio_s:.3f}, CPU s per audio s {cpu / audio_s:.3f})"
                    f" — before: {before}; after: {load()}",
                    flush=True,
                )
        print("per configuration (mean over rounds; min-max):")
        for name in names:
            rates = [r[2] for r in runs[name]]
            cpus = [r[1] for r in runs[name]]
            mean_rate = sum(rates) / len(rates)
            line = (
                f"  {name:12s} audio h per wall h {mean_rate:5.2f} ({min(rates):.2f}-{max(rates):.2f})"
                f"  CPU s {sum(cpus) / len(cpus):5.1f} ({min(cpus):.1f}-{max(cpus):.1f})"
            )
            if "default" in runs and name != "default":
                ratios = [mine[2] / base[2] for mine, base in zip(runs[name], runs["default"], strict=True)]
                line += "  vs default per round: " + ", ".join(f"{r:.2f}x" for r in ratios)
            print(line)


if __name__ == "__main__":
    main()
