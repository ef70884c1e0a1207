"""A two-file call's sidecar edited after its batch reaches the dataset at the next run, as a one-file
call's does (U9 finding 1: docs/batch.md says so, but the two-file call kept the values of its first scan:
the rebuild looked for a sidecar beside the combined legs/*.flac, and the stored copy won)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from tests.batch import audio
from tests.batch.cli_run import run


def test_an_edited_sidecar_of_a_two_file_call_reaches_the_dataset(tmp_path: Path) -> None:
    calls = tmp_path / "calls"
    audio.mono(calls / "umbrella_agent.wav", 1.0, seed=1)
    audio.mono(calls / "umbrella_caller.wav", 1.0, seed=2)
    sidecar = calls / "umbrella.meta.json"
    sidecar.write_text(json.dumps({"rep": "Ben Kim", "team": "SMB"}), encoding="utf-8")
    first = run(["batch", "calls", "--out", "out", "--no-progress"], tmp_path)
    assert first.returncode == 0, first.stdout + first.stderr
    frame = pd.read_parquet(tmp_path / "out" / "dataset" / "calls.parquet").set_index("call_id")
    assert (frame.loc["umbrella", "rep"], frame.loc["umbrella", "team"]) == ("Ben Kim", "SMB")

    sidecar.write_text(
        json.dumps({"rep": "Cara Diaz", "team": "SMB", "date": "2026-04-30"}), encoding="utf-8"
    )
    again = run(["batch", "--out", "out", "--no-progress"], tmp_path)
    assert again.returncode == 0, again.stdout + again.stderr
    frame = pd.read_parquet(tmp_path / "out" / "dataset" / "calls.parquet").set_index("call_id")
    assert (frame.loc["umbrella", "rep"], frame.loc["umbrella", "date"]) == ("Cara Diaz", "2026-04-30")
    assert "sidecar_of" not in frame.columns
