"""A CSV of https ``audio_url`` rows, end to end: ``hearkit batch`` → the real engine, which fetches each
recording itself over TLS from a real server on loopback (certificate from a ``trustme`` CA).

The engine trusts that CA (``ca_bundle``) and opens only ``127.0.0.0/8`` of the private space
(``allow_private_networks``), the explicit test allowance of the SSRF guard; every other private
address stays refused, as in production. Durations and channel counts come from the generator.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hearkit.batch.manifest import Manifest
from hearkit.cli.main import app
from hearkit.engine import LocalEngine
from hearkit.record import CallSet
from tests.batch import audio
from tests.engine.conftest import TLSAudioServer

runner = CliRunner()

#: name -> (seconds, channels) of the recordings the TLS server serves.
RECORDINGS = {"north": (2.0, 1), "south": (3.5, 2), "east": (1.5, 1)}


@pytest.fixture(scope="module")
def tls_audio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TLSAudioServer]:
    folder = tmp_path_factory.mktemp("remote-audio")
    files = {}
    for i, (name, (seconds, channels)) in enumerate(RECORDINGS.items()):
        write = audio.stereo if channels == 2 else audio.mono
        files[name] = write(folder / f"{name}.wav", seconds, seed=i)
    server = TLSAudioServer(tmp_path_factory.mktemp("tls"), files)
    yield server
    server.server.stop()


def _write_csv(path: Path, rows: list[dict[str, str]]) -> Path:
    columns = ["call_id", "audio_url", "title", "rep", "channels"]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


def _batch(csv_path: Path, out: Path, engine: LocalEngine) -> tuple[int, str]:
    args = ["batch", str(csv_path), "--out", str(out), "--concurrency", "2"]
    args += ["--api-key", engine.api_key, "--base-url", engine.base_url]
    result = runner.invoke(app, args)
    return result.exit_code, " ".join(result.output.split())


def test_csv_of_https_urls_is_fetched_by_the_engine_one_job_per_row(
    tmp_path: Path, tls_audio: TLSAudioServer
) -> None:
    good = {name: tls_audio.url(f"/audio/{name}.wav", host="127.0.0.1") for name in RECORDINGS}
    private = f"https://192.168.0.10:{tls_audio.port}/audio/north.wav"
    plain_http = f"http://127.0.0.1:{tls_audio.port}/audio/east.wav"
    rows = [
        {"call_id": name, "audio_url": url, "title": f"call {name}", "rep": "ana", "channels": ""}
        for name, url in good.items()
    ]
    rows[1]["channels"] = "2"  # south is a two-party stereo call: sent with channel=true
    rows.append({"call_id": "intranet", "audio_url": private, "title": "lan", "rep": "bo", "channels": ""})
    rows.append({"call_id": "plain", "audio_url": plain_http, "title": "http", "rep": "bo", "channels": ""})
    manifest_csv = _write_csv(tmp_path / "calls.csv", rows)
    out = tmp_path / "out"

    with LocalEngine(
        tmp_path / "engine",
        transcriber="fake",
        poll_interval=0.05,
        ca_bundle=str(tls_audio.ca_file),
        allow_private_networks="127.0.0.0/8",
    ) as engine:
        assert engine.runtime is not None
        hits_before = len(tls_audio.hits)
        code, text = _batch(manifest_csv, out, engine)
        jobs_after_first = engine.runtime.store.count_jobs()
        hits_after_first = tls_audio.hits[hits_before:]
        again_code, again_text = _batch(manifest_csv, out, engine)
        jobs_after_second = engine.runtime.store.count_jobs()
        hits_after_second = tls_audio.hits[hits_before:]

    # A row failed on the server (the private address): exit code 1, the other rows completed.
    assert code == 1, text
    assert "3 completed" in text and "1 failed" in text and "1 skipped" in text, text
    # One job per https row (the private one included: the engine refuses it), none for http://.
    assert jobs_after_first == 4
    # The engine fetched each public-https recording exactly once, and never touched the others.
    assert sorted(hits_after_first) == sorted(f"/audio/{name}.wav" for name in RECORDINGS)

    with Manifest(out) as manifest:
        by_call = {row.call_id: row for row in manifest.rows()}
    assert {call: row.status for call, row in by_call.items()} == {
        "north": "completed",
        "south": "completed",
        "east": "completed",
        "intranet": "failed",
        "plain": "skipped",
    }
    completed_jobs = {by_call[name].job_id for name in RECORDINGS}
    assert None not in completed_jobs and len(completed_jobs) == 3
    failed = by_call["intranet"].last_error or ""
    assert "192.168.0.10" in failed and "private" in failed and "not allowed" in failed, failed
    assert "https" in (by_call["plain"].last_error or "")
    assert by_call["plain"].job_id is None

    for name, (seconds, channels) in RECORDINGS.items():
        doc = json.loads((out / "calls" / f"{name}.json").read_text())
        assert doc["status"] == "completed"
        assert doc["result"]["audio_seconds"] == pytest.approx(seconds, abs=0.01)
        assert doc["hearkit"]["source"] == good[name]
        assert doc["hearkit"]["mode"] == ("channel" if channels == 2 else "diarize")
        segment_channels = {seg.get("channel") for seg in doc["result"]["segments"]}
        assert segment_channels == ({0, 1} if channels == 2 else {None})
        assert doc["hearkit"]["metadata"]["title"] == f"call {name}"
    assert not (out / "calls" / "intranet.json").exists()
    assert not (out / "calls" / "plain.json").exists()

    calls = CallSet.load(out / "dataset").calls.set_index("call_id")
    assert sorted(calls.index) == sorted(RECORDINGS)
    assert calls.loc["south", "source"] == good["south"]
    assert calls.loc["north", "title"] == "call north" and calls.loc["east", "rep"] == "ana"
    assert calls.loc["south", "diarization"] == "channel"

    # Re-running the same CSV submits nothing and fetches nothing: same jobs, same outcome.
    assert again_code == 1, again_text
    assert "3 completed" in again_text and "1 failed" in again_text, again_text
    assert jobs_after_second == jobs_after_first
    assert hits_after_second == hits_after_first


def test_the_production_default_still_refuses_a_loopback_url_from_a_csv(
    tmp_path: Path, tls_audio: TLSAudioServer
) -> None:
    """Without the explicit allowance, the same https URL on loopback fails its row, never fetched."""
    url = tls_audio.url("/audio/north.wav", host="127.0.0.1")
    manifest_csv = _write_csv(
        tmp_path / "calls.csv",
        [{"call_id": "north", "audio_url": url, "title": "", "rep": "", "channels": ""}],
    )
    with LocalEngine(
        tmp_path / "engine", transcriber="fake", poll_interval=0.05, ca_bundle=str(tls_audio.ca_file)
    ) as engine:
        assert engine.settings.allow_private_urls is False and engine.settings.allow_private_networks == ""
        hits_before = len(tls_audio.hits)
        code, text = _batch(manifest_csv, tmp_path / "out", engine)
        assert engine.runtime is not None and engine.runtime.store.count_jobs() == 1
    assert code == 1 and "1 failed" in text, text
    with Manifest(tmp_path / "out") as manifest:
        (row,) = manifest.rows()
    assert row.status == "failed"
    assert "127.0.0.1" in (row.last_error or "") and "loopback" in (row.last_error or "")
    assert len(tls_audio.hits) == hits_before
