"""A worker process ended while busy leaves no semaphore behind (no resource_tracker warning at exit).

A new-user trial saw ``UserWarning: resource_tracker: There appear to be N leaked semaphore objects``
after Ctrl-C of ``hearkit analyze`` / ``hearkit batch``. The cause: faster-whisper builds a ``tqdm`` bar
on every transcription (progress off), whose first bar makes a multiprocessing lock (a named semaphore)
in the worker process; the engine ends a busy worker with ``terminate()``, which cannot unlink it. The
program below does what the engine does, in a fresh interpreter whose stderr holds the tracker's words.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROGRAM = textwrap.dedent(
    """
    import time
    from tests.engine.test_worker_semaphores import busy_with_a_bar
    from hearkit.engine.executors import process_pool

    if __name__ == "__main__":
        pool = process_pool(1)
        assert pool.submit(busy_with_a_bar, 0.0).result(timeout=120) == "bar made"
        running = pool.submit(busy_with_a_bar, 60.0)
        time.sleep(1.0)  # the worker is inside the task, as on Ctrl-C during a transcription
        for process in list(pool._processes.values()):  # what Worker.shutdown does to a busy slot
            process.terminate()
        pool.shutdown(wait=False, cancel_futures=True)
        print("ended")
    """
)


def busy_with_a_bar(seconds: float) -> str:
    """What faster-whisper's batched transcription does in a worker: a disabled tqdm bar, then work."""
    import time

    from tqdm import tqdm

    with tqdm(total=1, disable=True, position=0):
        time.sleep(seconds)
    return "bar made"


def test_a_terminated_busy_worker_leaks_no_semaphore(tmp_path: Path) -> None:
    script = tmp_path / "engine_like.py"
    script.write_text(PROGRAM, encoding="utf-8")
    done = subprocess.run(
        [sys.executable, str(script)],
        cwd=ROOT,
        env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert done.returncode == 0 and "ended" in done.stdout, done.stderr
    assert "leaked semaphore" not in done.stderr, done.stderr
