"""Reading a batch folder while the batch rebuilds its dataset (U3 finding 8b: 70 of 386 loads
failed with "without a complete dataset/ yet", one with a raw FileNotFoundError on turns.parquet:
the old dataset was removed before the new one was renamed in). A rebuilding process (the batch's
own ``write_dataset``, as every re-run calls it) runs beside a loop of ``CallSet.load``."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.cli_run import run

ROOT = Path(__file__).resolve().parents[2]
REBUILD = (
    "import sys\n"
    "from hearkit.batch.manifest import Manifest\n"
    "from hearkit.batch.results import write_dataset\n"
    "with Manifest(sys.argv[1]) as manifest:\n"
    "    for _ in range(int(sys.argv[2])):\n"
    "        write_dataset(manifest)\n"
)


def test_every_load_during_rebuilds_reads_one_whole_dataset(tmp_path: Path) -> None:
    calls, out = tmp_path / "calls", tmp_path / "out"
    for n in range(3):
        audio.stereo(calls / f"c{n}.wav", 2.0 + n, seed=n)
    first = run(["batch", str(calls), "--out", str(out), "--no-progress"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    expected = sorted(CallSet.load(out).calls["call_id"])
    assert expected == ["c0", "c1", "c2"]

    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rebuilder = subprocess.Popen([sys.executable, "-c", REBUILD, str(out), "25"], env=env, cwd=ROOT)
    loads, failures = 0, []
    try:
        while rebuilder.poll() is None:
            try:
                loaded = CallSet.load(out)
                assert sorted(loaded.calls["call_id"]) == expected
                assert sorted(loaded.turns["call_id"].unique()) == expected
            except (FileNotFoundError, ValueError) as exc:
                failures.append(str(exc))
            loads += 1
            time.sleep(0.002)
    finally:
        rebuilder.wait(timeout=300)
    assert rebuilder.returncode == 0
    assert loads >= 20, loads  # the loads did overlap the rebuilds
    assert failures == [], f"{len(failures)} of {loads} loads failed: {failures[:2]}"


def test_two_batches_on_one_out_at_once_both_finish_with_one_job_per_recording(tmp_path: Path) -> None:
    """U3 finding 8: one run ended in a traceback (its staging folder removed by the other) and the
    other said rc 0 over a dataset/ holding only callset.json."""
    import sqlite3

    calls, out = tmp_path / "calls", tmp_path / "out"
    for n in range(4):
        audio.stereo(calls / f"c{n}.wav", 2.0 + n, seed=n)
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}} | {
        "HEARKIT_DATA_DIR": str(tmp_path / "engine"),
        "HEARKIT_TRANSCRIBER": "fake",
        "HEARKIT_FAKE_DELAY": "0.3",
    }
    command = [
        str(Path(sys.executable).parent / "hearkit"),
        "batch",
        str(calls),
        "--out",
        str(out),
        "--no-progress",
    ]
    both = [
        subprocess.Popen(
            command, env=env, cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=240)[0] for p in both]
    assert [p.returncode for p in both] == [0, 0], outputs
    assert all("Traceback" not in text for text in outputs)
    assert sorted(CallSet.load(out).calls["call_id"]) == ["c0", "c1", "c2", "c3"]
    with sqlite3.connect(tmp_path / "engine" / "engine.sqlite3") as db:
        assert db.execute("SELECT status, COUNT(*) FROM jobs GROUP BY status").fetchall() == [
            ("completed", 4)
        ]
