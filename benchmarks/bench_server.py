"""Throughput of the local engine (``hearkit serve``, fake transcriber) under concurrent clients.

    uv run python benchmarks/bench_server.py [--jobs 1000] [--clients 16] [--workers 2]

The server runs as a real ``hearkit serve`` subprocess (its own interpreter, so client and
server do not share a GIL). Each job uploads a 0.5 s WAV (multipart) and is polled until
completed.

* Load: ``--clients`` concurrent clients (asyncio + httpx) each run create → poll (0.1 s,
  ×1.5, at most 1 s) → next, until ``--jobs`` jobs are completed. Prints jobs/s and create
  latency p50/p99.
* Baseline A, the guide's loop: one job at a time, submit then poll with the official
  example's schedule (1 s, ×1.5, at most 5 s), on ``--guide-jobs`` jobs.
* Baseline B, one job at a time with the load's polling schedule (isolates server
  concurrency from the polling schedule), on ``--sequential-jobs`` jobs.

Ratios are load jobs/s ÷ baseline jobs/s, all measured in this run.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import wave
from pathlib import Path

import httpx

JOBS = "/v1/transcription/jobs"
FAST_POLL = (0.1, 1.5, 1.0)  # first wait, factor, maximum (seconds)
GUIDE_POLL = (1.0, 1.5, 5.0)  # the official example's waitJob schedule


def tiny_wav(seconds: float = 0.5, rate: int = 8000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes(b"\x00\x10" * int(seconds * rate))
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(data_dir: Path, port: int, workers: int, log: Path) -> tuple[subprocess.Popen[bytes], str]:
    env = {**os.environ, "HEARKIT_TRANSCRIBER": "fake", "HEARKIT_POLL_INTERVAL": "0.05"}
    command = [sys.executable, "-m", "hearkit.cli.main", "serve", "--data-dir", str(data_dir)]
    minted = subprocess.run(
        [*command, "--create-key", "--rps", "1000000", "--burst", "1000000"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    server = subprocess.Popen(
        [*command, "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
    )
    deadline = time.monotonic() + 120
    while True:
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            return server, minted.stdout.strip()
        except httpx.TransportError:
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("hearkit serve did not start") from None
            time.sleep(0.1)


async def run_job(
    http: httpx.AsyncClient, audio: bytes, poll: tuple[float, float, float], latencies: list[float]
) -> None:
    started = time.perf_counter()
    created = await http.post(JOBS, files={"audio": ("a.wav", audio, "audio/wav")})
    latencies.append(time.perf_counter() - started)
    created.raise_for_status()
    job_id = created.json()["job_id"]
    delay, factor, maximum = poll
    while True:
        await asyncio.sleep(delay)
        job = (await http.get(f"{JOBS}/{job_id}")).json()
        if job["status"] == "completed":
            return
        if job["status"] == "failed":
            raise RuntimeError(job["error"])
        delay = min(maximum, delay * factor)


async def load(
    base_url: str, key: str, jobs: int, clients: int, poll: tuple[float, float, float]
) -> tuple[float, list[float]]:
    audio = tiny_wav()
    latencies: list[float] = []
    remaining = iter(range(jobs))
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {key}"}, limits=limits, timeout=60
    ) as http:

        async def client() -> None:
            for _ in remaining:
                await run_job(http, audio, poll, latencies)

        started = time.perf_counter()
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.perf_counter() - started
    return jobs / elapsed, latencies


def pct(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=100)[int(q) - 1] if len(values) >= 2 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--jobs", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--guide-jobs", type=int, default=12)
    parser.add_argument("--sequential-jobs", type=int, default=100)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        port = free_port()
        log = Path(tmp) / "server.log"
        server, key = start_server(Path(tmp) / "data", port, args.workers, log)
        base = f"http://127.0.0.1:{port}"
        try:
            rate, latencies = asyncio.run(load(base, key, args.jobs, args.clients, FAST_POLL))
            guide_rate, _ = asyncio.run(load(base, key, args.guide_jobs, 1, GUIDE_POLL))
            seq_rate, seq_latencies = asyncio.run(load(base, key, args.sequential_jobs, 1, FAST_POLL))
        finally:
            server.terminate()
            stopping = time.perf_counter()
            server.wait(120)
            shutdown_s = time.perf_counter() - stopping
            errors = [line for line in log.read_text().splitlines() if "ERROR" in line or "Traceback" in line]

    load_avg = os.getloadavg()[0]
    print(f"hearkit serve, fake transcriber, {args.workers} workers, {os.cpu_count()} CPUs")
    print(
        f"machine load average at the end: {load_avg:.1f} (other work on the machine skews absolute figures)"
    )
    print(
        f"load:       {args.jobs} jobs, {args.clients} concurrent clients: {rate:8.1f} jobs/s,"
        f" create p50 {pct(latencies, 50) * 1000:.1f} ms, p99 {pct(latencies, 99) * 1000:.1f} ms"
    )
    print(
        f"baseline A: the guide's submit-then-poll loop (1 s, x1.5, <=5 s), one job at a time,"
        f" {args.guide_jobs} jobs: {guide_rate:8.2f} jobs/s"
    )
    print(
        f"baseline B: submit-then-poll (0.1 s, x1.5, <=1 s), one job at a time, {args.sequential_jobs} jobs:"
        f" {seq_rate:8.1f} jobs/s, create p99 {pct(seq_latencies, 99) * 1000:.1f} ms"
    )
    print(f"ratio load / A: {rate / guide_rate:.1f}x   load / B: {rate / seq_rate:.2f}x")
    print(f"server shutdown took {shutdown_s:.1f} s; server log errors: {len(errors)}")


if __name__ == "__main__":
    main()
