"""Local-engine transcription on Dask (in-process LocalCluster, and a separately started scheduler with a
worker process), and dask metrics."""

from __future__ import annotations

import importlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from hearkit.batch import distributed, run
from hearkit.batch.manifest import Manifest
from hearkit.cli.main import app
from hearkit.engine import LocalEngine
from hearkit.record import CallSet
from tests.batch import audio

cli = CliRunner()


def test_dask_local_cluster_transcribes_every_recording_once(tmp_path: Path) -> None:
    src = tmp_path / "in"
    durations = {}
    for i in range(6):
        audio.stereo(src / f"stereo_{i}.wav", 1.0 + i, seed=i)
        durations[f"stereo_{i}"] = 1.0 + i
    for i in range(4):
        audio.mono(src / f"mono_{i}.wav", 3.0 + i, seed=i)
        durations[f"mono_{i}"] = 3.0 + i
    (src / "readme.txt").write_text("not a recording")
    distributed.LOADS.clear()
    distributed._TRANSCRIBERS.clear()

    report = run(src, tmp_path / "out", dask="local", transcriber="fake", progress=False, write_dataset=False)

    assert report.counts == {"pending": 0, "submitted": 0, "completed": 10, "failed": 0, "skipped": 1}
    assert distributed.LOADS == {"fake": 1}  # one process (processes=False): the model is built once
    for call_id, seconds in durations.items():
        doc = json.loads((tmp_path / "out" / "calls" / f"{call_id}.json").read_text())
        result = doc["result"]
        assert result["audio_seconds"] == pytest.approx(seconds, abs=0.01)
        if call_id.startswith("stereo"):
            assert {s.get("channel") for s in result["segments"]} <= {0, 1}
            assert doc["hearkit"]["mode"] == "channel"
        else:
            assert all("channel" not in s for s in result["segments"])
            assert doc["hearkit"]["mode"] == "diarize"
    assert report.audio_seconds == pytest.approx(sum(durations.values()), abs=0.05)
    with Manifest(tmp_path / "out") as manifest:
        jobs = [row.job_id for row in manifest.rows("completed")]
    assert len(set(jobs)) == 10

    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "calls").iterdir()}
    again = run(src, tmp_path / "out", dask="local", transcriber="fake", progress=False, write_dataset=False)
    assert again.counts["completed"] == 10
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "out" / "calls").iterdir()} == stamps


def _synthetic_turns(n_calls: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    frames = []
    for call in range(n_calls):
        n = int(rng.integers(5, 60))
        durations = rng.gamma(2.0, 3.0, n)
        starts = np.cumsum(np.r_[0, durations[:-1] + rng.uniform(0, 1, n - 1)])
        frames.append(
            pd.DataFrame(
                {
                    "call_id": f"call_{call:05d}",
                    "turn": np.arange(n),
                    "speaker": rng.choice(["speaker_1", "speaker_2", "speaker_3"], n, p=[0.5, 0.4, 0.1]),
                    "start": starts,
                    "end": starts + durations,
                    "duration_s": durations,
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def test_dask_talk_time_over_a_partitioned_parquet_dataset_equals_pandas(tmp_path: Path) -> None:
    import dask.dataframe as dd

    turns = _synthetic_turns(150)
    dataset = tmp_path / "turns"
    dataset.mkdir()
    # Files cut through the middle of calls: partitions do not align with calls.
    for i, chunk in enumerate(np.array_split(np.arange(len(turns)), 7)):
        turns.iloc[chunk].to_parquet(dataset / f"part-{i}.parquet", index=False)
    lazy = dd.read_parquet(str(dataset))
    assert lazy.npartitions >= 7

    by_dask = distributed.talk_time(lazy).compute()
    by_pandas = distributed.talk_time(pd.read_parquet(dataset))
    key = ["call_id", "speaker"]
    by_dask = by_dask.sort_values(key).reset_index(drop=True)
    by_pandas = by_pandas.sort_values(key).reset_index(drop=True)
    pd.testing.assert_frame_equal(by_dask, by_pandas, check_dtype=False, rtol=1e-12)

    # An independent reading of the definition: talk share of each speaker of one call.
    one = turns[turns["call_id"] == "call_00042"]
    expected = one.groupby("speaker")["duration_s"].sum() / one["duration_s"].sum()
    got = by_pandas[by_pandas["call_id"] == "call_00042"].set_index("speaker")["talk_share"]
    pd.testing.assert_series_equal(got.sort_index(), expected.sort_index(), check_names=False)


def test_dask_scorecards_partition_by_partition_equal_pandas(tmp_path: Path) -> None:
    from hearkit.metrics import scorecards

    turns = _synthetic_turns(120, seed=3)
    roles = {"speaker_1": "rep", "speaker_2": "customer", "speaker_3": "unknown"}
    turns["role"] = turns["speaker"].map(roles)
    turns["text"] = np.where(turns.index % 3 == 0, "how much does it cost?", "um we can do that")
    aligned = tmp_path / "aligned"
    aligned.mkdir()
    calls = turns["call_id"].unique()
    for i, chunk in enumerate(np.array_split(calls, 5)):  # whole calls per file
        turns[turns["call_id"].isin(chunk)].to_parquet(aligned / f"part-{i}.parquet", index=False)
    cut = tmp_path / "cut"
    cut.mkdir()
    for i, rows in enumerate(np.array_split(np.arange(len(turns)), 5)):  # calls cut across files
        turns.iloc[rows].to_parquet(cut / f"part-{i}.parquet", index=False)

    expected = scorecards(turns).sort_values("call_id").reset_index(drop=True)
    for dataset in (aligned, cut):
        got = distributed.scorecards_by_partition(dataset).sort_values("call_id").reset_index(drop=True)
        pd.testing.assert_frame_equal(got, expected, check_dtype=False)


def test_dask_scorecards_of_a_saved_calls_folder_read_its_turns(tmp_path: Path) -> None:
    """A batch or CallSet.save() folder was read whole, the calls frame first: 'the turns frame lacks
    start, end'; a missing path was dask's 'An error occurred while calling the read_parquet method'."""
    from hearkit.metrics import scorecards
    from hearkit.record import CallSet

    calls = CallSet.load_sample("truth")
    folder = calls.save(tmp_path / "saved")
    got = distributed.scorecards_by_partition(folder).sort_values("call_id").reset_index(drop=True)
    want = scorecards(calls.turns).sort_values("call_id").reset_index(drop=True)
    pd.testing.assert_frame_equal(got, want, check_dtype=False)
    with pytest.raises(FileNotFoundError, match=r"nope does not exist: give a turns Parquet file or folder"):
        distributed.scorecards_by_partition(tmp_path / "nope")


@pytest.fixture()
def scheduler() -> Iterator[str]:
    """A separately started ``distributed`` scheduler with one worker *process* (not this process)."""
    dist: Any = importlib.import_module("distributed")
    with dist.LocalCluster(
        n_workers=1,
        threads_per_worker=1,
        processes=True,
        host="127.0.0.1",
        dashboard_address=None,
        scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
        silence_logs=40,
    ) as cluster:
        yield str(cluster.scheduler_address)


def _worker_loads(address: str) -> dict[str, dict[str, int]]:
    """``distributed.LOADS`` of every worker process of the cluster at ``address``."""
    dist: Any = importlib.import_module("distributed")

    def loads() -> dict[str, int]:
        return dict(distributed.LOADS)

    with dist.Client(address, timeout=20) as client:
        return dict(client.run(loads))


@pytest.mark.timeout(120)
def test_dask_on_a_separately_started_scheduler_gives_the_results_of_the_jobs_api(
    tmp_path: Path, scheduler: str
) -> None:
    src = tmp_path / "in"
    audio.stereo(src / "two_party.wav", 4.0, seed=1)
    audio.mono(src / "mono.wav", 6.0, seed=2)
    audio.dual_mono(src / "dual.wav", 2.0)
    (src / "notes.txt").write_text("not a recording")
    common = [str(src), "--numerals", "--no-progress", "--concurrency", "2"]
    distributed.LOADS.clear()
    distributed._TRANSCRIBERS.clear()

    on_dask = cli.invoke(
        app, ["batch", *common, "--out", str(tmp_path / "dask"), "--dask", scheduler, "--transcriber", "fake"]
    )
    assert on_dask.exit_code == 0, on_dask.output
    with LocalEngine(tmp_path / "engine", transcriber="fake", poll_interval=0.05) as engine:
        args = ["batch", *common, "--out", str(tmp_path / "api")]
        on_api = cli.invoke(app, [*args, "--api-key", engine.api_key, "--base-url", engine.base_url])
    assert on_api.exit_code == 0, on_api.output

    # The transcriber was built once, in the worker process, and never in this one.
    assert distributed.LOADS == {}
    assert list(_worker_loads(scheduler).values()) == [{"fake": 1}]

    with Manifest(tmp_path / "dask") as manifest:
        dask_rows = {row.call_id: row for row in manifest.rows()}
        assert manifest.counts() == {"pending": 0, "submitted": 0, "completed": 3, "failed": 0, "skipped": 1}
    with Manifest(tmp_path / "api") as manifest:
        api_rows = {row.call_id: row for row in manifest.rows()}
    assert {c: r.status for c, r in dask_rows.items()} == {c: r.status for c, r in api_rows.items()}
    assert {c: (r.mode, r.layout) for c, r in dask_rows.items()} == {
        c: (r.mode, r.layout) for c, r in api_rows.items()
    }
    assert {r.job_id for r in dask_rows.values() if r.job_id} == {
        distributed.local_job_id(r.rec_id) for r in dask_rows.values() if r.status == "completed"
    }
    for call_id in ("two_party", "mono", "dual"):
        dask_doc = json.loads((tmp_path / "dask" / "calls" / f"{call_id}.json").read_text())
        api_doc = json.loads((tmp_path / "api" / "calls" / f"{call_id}.json").read_text())
        assert dask_doc["result"] == api_doc["result"], call_id
        assert "fake segment 1 of" in dask_doc["result"]["text"]  # --numerals reached the transcriber
    dask_calls = CallSet.load(tmp_path / "dask" / "dataset")
    api_calls = CallSet.load(tmp_path / "api" / "dataset")
    for frame in ("turns", "words"):
        pd.testing.assert_frame_equal(getattr(dask_calls, frame), getattr(api_calls, frame))
    # Only the job ids differ: the cluster's are local_ + the content hash, never billed.
    assert dask_calls.calls["job_id"].str.startswith("local_").all()
    assert not api_calls.calls["job_id"].str.startswith("local_").any()
    pd.testing.assert_frame_equal(
        dask_calls.calls.drop(columns="job_id"), api_calls.calls.drop(columns="job_id")
    )

    # A resume on the same scheduler sends nothing: every recording already has its one job.
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "dask" / "calls").iterdir()}
    again = cli.invoke(
        app, ["batch", *common, "--out", str(tmp_path / "dask"), "--dask", scheduler, "--transcriber", "fake"]
    )
    assert again.exit_code == 0, again.output
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "dask" / "calls").iterdir()} == stamps
    assert list(_worker_loads(scheduler).values()) == [{"fake": 1}]


def test_dask_refuses_output_formats_it_cannot_produce(tmp_path: Path) -> None:
    audio.mono(tmp_path / "in" / "a.wav", 1.0)
    args = ["batch", str(tmp_path / "in"), "--out", str(tmp_path / "out"), "--no-progress"]
    refused = cli.invoke(app, [*args, "--dask", "local", "--transcriber", "fake", "--formats", "srt"])
    assert refused.exit_code == 2, refused.output
    assert "--formats" in refused.output and "--dask" in refused.output
    assert not (tmp_path / "out" / "manifest.sqlite").exists()  # refused before anything was stored


def test_the_local_cluster_leaves_the_webhook_listener_port_free() -> None:
    """``--dask local`` must not take 8787 (the default port of ``hearkit webhooks listen``), nor
    listen on every interface: its scheduler's HTTP endpoints bind a free loopback port."""
    with distributed.cluster_client("local", n_workers=1) as client:
        assert client.submit(sum, [1, 2]).result(timeout=30) == 3
        http = client.cluster.scheduler.http_server
        bound = [sock.getsockname()[:2] for sock in http._sockets.values()]
        assert bound, "the scheduler's HTTP server is not listening"
        for host, port in bound:
            assert host == "127.0.0.1" and port != 8787, bound
