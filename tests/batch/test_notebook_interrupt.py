"""The notebook's stop button stops ``hearkit.batch.run`` (U3 finding 13: inside a running event loop
the batch ran on a worker thread that the interrupt never reached; every pending recording was still
sent and billed, then a bare KeyboardInterrupt traceback came once all were done).

The cell is reproduced as a kernel runs it: a coroutine on an event loop in the main thread calls
``hearkit.batch.run`` synchronously, and SIGINT (what ipykernel's interrupt sends) arrives while the
batch runs, with Python's default handler (no asyncio.run handler in between, as in a kernel)."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

from tests.batch.audio import mono

ROOT = Path(__file__).resolve().parents[2]

CELL = textwrap.dedent(
    """
    import asyncio, os, signal, sqlite3, sys, threading, time
    import hearkit.batch

    calls, out = sys.argv[1], sys.argv[2]

    def press_stop():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                with sqlite3.connect(os.path.join(out, "manifest.sqlite"), timeout=10) as db:
                    sql = "SELECT COUNT(*) FROM recordings WHERE status = 'completed'"
                    done = db.execute(sql).fetchone()[0]
            except sqlite3.OperationalError:
                done = 0
            if done >= 1:
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.05)

    async def cell():
        assert asyncio.get_running_loop()
        hearkit.batch.run(calls, out, concurrency=1, progress=False, write_dataset=False)

    signal.signal(signal.SIGINT, signal.default_int_handler)
    threading.Thread(target=press_stop, daemon=True).start()
    loop = asyncio.new_event_loop()
    try:
        loop.run_until_complete(cell())
        print("FINISHED")
    except KeyboardInterrupt as exc:
        print("STOPPED:", exc)
    """
)


def _counts(out: Path) -> dict[str, int]:
    with sqlite3.connect(out / "manifest.sqlite", timeout=10) as db:
        return dict(db.execute("SELECT status, COUNT(*) FROM recordings GROUP BY status").fetchall())


def test_the_kernel_interrupt_stops_sending_and_says_how_to_resume(tmp_path: Path) -> None:
    calls, out = tmp_path / "calls", tmp_path / "out"
    recordings = 8
    for n in range(recordings):
        mono(calls / f"call_{n}.wav", 2.0 + n * 0.25, seed=n)
    env = {
        **os.environ,
        "HEARKIT_DATA_DIR": str(tmp_path / "engine"),
        "HEARKIT_TRANSCRIBER": "fake",
        "HEARKIT_FAKE_DELAY": "1.5",
        "HEARKIT_POLL_INTERVAL": "0.05",
        "PYTHONPATH": str(ROOT),
    }
    env.pop("PYAI_API_KEY", None)
    env.pop("PYAI_BASE_URL", None)
    done = subprocess.run(
        [sys.executable, "-c", CELL, str(calls), str(out)],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    assert done.returncode == 0, done.stdout + done.stderr
    counts = _counts(out)
    assert "FINISHED" not in done.stdout, (done.stdout, counts)
    stopped = [line for line in done.stdout.splitlines() if line.startswith("STOPPED:")]
    assert stopped == [
        f"STOPPED: interrupted: {counts.get('completed', 0)} done, {counts.get('submitted', 0)} in flight;"
        " run the same command again to resume"
    ]
    assert counts.get("pending", 0) >= recordings - 3, counts  # the rest was never sent
    with sqlite3.connect(tmp_path / "engine" / "engine.sqlite3") as db:
        jobs = db.execute("SELECT COUNT(*) FROM jobs").fetchone()[0]
    assert jobs <= 3, jobs
