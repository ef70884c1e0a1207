"""The local engine in its own process (the tests' other core), for load and fault tests.

``python -m tests.batch.engine_process DATA_DIR WORKERS`` starts a ``LocalEngine`` with the fake
transcriber and prints ``<base_url> <api_key>``; it serves until its stdin closes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class EngineProcess:
    base_url: str
    api_key: str
    process: subprocess.Popen[str]


@contextmanager
def engine_process(data_dir: Path, *, workers: int = 2, **env: str) -> Iterator[EngineProcess]:
    command = [sys.executable, "-m", "tests.batch.engine_process", str(data_dir), str(workers)]
    child_env = {**os.environ, "PYTHONPATH": str(ROOT), **env}
    process = subprocess.Popen(
        command, cwd=ROOT, env=child_env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().split()
        if len(line) != 2:
            raise RuntimeError(f"the engine process did not start (exit code {process.poll()})")
        yield EngineProcess(line[0], line[1], process)
    finally:
        if process.stdin is not None:
            process.stdin.close()
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def main(data_dir: str, workers: str) -> None:
    from hearkit.engine import LocalEngine

    with LocalEngine(data_dir, transcriber="fake", workers=int(workers), poll_interval=0.05) as engine:
        print(engine.base_url, engine.api_key, flush=True)
        sys.stdin.read()


if __name__ == "__main__":
    main(*sys.argv[1:3])
