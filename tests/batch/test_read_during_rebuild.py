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
