"""One path for one's own calls, without ASR (the fake transcriber): sidecar and CSV metadata reach
the dataset, sidecars are not reported as skipped recordings, a broken sidecar stops the batch
before anything is sent, every call has a summary, and the output folder loads as it is."""

from __future__ import annotations

import asyncio
import csv
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hearkit.batch import BatchReport, arun
from hearkit.batch.runner import RunnerSettings
from hearkit.engine import LocalEngine
from hearkit.record import CallSet
from tests.batch import audio
from tests.batch.clients import async_client

FAST = RunnerSettings(poll_initial=0.05, poll_max=0.3, retry_backoff=0.02)


def _batch(source: Path | str, out: Path, engine: LocalEngine, **options: Any) -> BatchReport:
    async def go() -> BatchReport:
        client = async_client(engine.base_url, engine.api_key)
        try:
            return await arun(source, out, client=client, progress=False, settings=FAST, **options)
        finally:
            await client.close()

    return asyncio.run(go())


def test_sidecar_and_csv_metadata_reach_the_dataset_and_every_call_has_a_summary(tmp_path: Path) -> None:
    src = tmp_path / "calls"
    audio.stereo(src / "acme.wav", 3.0)
    audio.stereo(src / "globex.wav", 2.0, seed=7)
    sidecar = {"title": "Acme renewal", "rep": "Ana Lopez", "customer": "Acme", "date": "2026-03-02"}
    (src / "acme.meta.json").write_text(json.dumps({**sidecar, "team": "EMEA"}), encoding="utf-8")
    out = tmp_path / "out"
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        report = _batch(src, out, engine)
        assert report.complete and report.skipped == [], "a sidecar is not a skipped recording"
        assert report.counts["completed"] == 2

        calls = CallSet.load(out).calls.set_index("call_id")  # the output folder itself
        assert calls.loc["acme", ["title", "rep", "customer", "date", "team"]].tolist() == [
            *sidecar.values(),
            "EMEA",
        ]
        assert pd.isna(calls.loc["globex", "title"]) and pd.isna(calls.loc["globex", "team"])

        # Editing a sidecar and running again updates the dataset without a new job.
        (src / "acme.meta.json").write_text(json.dumps({**sidecar, "team": "APAC"}), encoding="utf-8")
        assert engine.runtime is not None
        jobs = engine.runtime.store.count_jobs()
        _batch(src, out, engine)
        assert engine.runtime.store.count_jobs() == jobs
    reloaded = CallSet.load(out)
    assert reloaded.calls.set_index("call_id").loc["acme", "team"] == "APAC"
    assert set(reloaded.summaries) == {"acme", "globex"}
    assert all(s.method == "extractive" for s in reloaded.summaries.values())
    assert reloaded.record("acme").metadata["team"] == "APAC"


def test_a_csv_column_wins_over_the_sidecar(tmp_path: Path) -> None:
    src = tmp_path / "calls"
    audio.stereo(src / "acme.wav", 2.0)
    (src / "acme.meta.json").write_text('{"title": "from sidecar", "team": "EMEA"}', encoding="utf-8")
    manifest = tmp_path / "calls.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["path", "title", "rep"])
        writer.writerow([str(src / "acme.wav"), "from csv", "Bo"])
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        assert _batch(manifest, tmp_path / "out", engine).complete
    row = CallSet.load(tmp_path / "out" / "dataset").calls.iloc[0]
    assert (row["title"], row["rep"], row["team"]) == ("from csv", "Bo", "EMEA")


def test_a_broken_sidecar_stops_the_batch_before_anything_is_sent(tmp_path: Path) -> None:
    src = tmp_path / "calls"
    audio.stereo(src / "acme.wav", 2.0)
    (src / "acme.meta.json").write_text('{"title": "Acme",', encoding="utf-8")
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        with pytest.raises(ValueError, match=r"acme\.meta\.json: not valid JSON .*fix it or remove it"):
            _batch(src, tmp_path / "out", engine)
        assert engine.runtime is not None
        assert engine.runtime.store.count_jobs() == 0


def test_every_broken_sidecar_is_said_at_once_and_an_unreadable_date_is_one(tmp_path: Path) -> None:
    """U8 note 15: the batch stopped at the first bad sidecar, so a folder with several was fixed one run
    at a time; and a sidecar "date": "yesterday" was stored as given, then `cohorts.trend` failed on it."""
    src = tmp_path / "calls"
    for name in ("acme", "globex", "initech"):
        audio.stereo(src / f"{name}.wav", 1.0)
    (src / "acme.meta.json").write_text('{"title": "Acme",', encoding="utf-8")
    (src / "globex.meta.json").write_text('{"date": "yesterday"}', encoding="utf-8")
    (src / "initech.meta.json").write_text('{"date": "2026-03-14", "rep": "Ana"}', encoding="utf-8")
    with LocalEngine(tmp_path / "engine", transcriber="fake") as engine:
        with pytest.raises(ValueError, match="2 sidecar") as refused:
            _batch(src, tmp_path / "out", engine)
        assert engine.runtime is not None
        assert engine.runtime.store.count_jobs() == 0
    said = str(refused.value)
    assert "acme.meta.json: not valid JSON" in said
    assert "globex.meta.json: 'date' 'yesterday' is not a date hearkit can read" in said
    assert "initech" not in said
