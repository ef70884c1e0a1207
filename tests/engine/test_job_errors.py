"""A failed job's ``error`` is one line naming the cause; the traceback is in ``<data_dir>/engine.log``."""

from __future__ import annotations

from pathlib import Path

from tests.engine.conftest import client_of, start_engine, wait_job

JOBS = "/v1/transcription/jobs"


def test_channel_true_on_a_one_channel_file_says_so(tmp_path: Path, audio: dict[str, Path]) -> None:
    with start_engine(tmp_path) as engine, client_of(engine) as http:
        created = http.post(JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"channel": "true"})
        job = wait_job(http, created.json()["job_id"]).json()
    assert job["status"] == "failed"
    assert "the file has 1 channel" in job["error"] and "diarize=true" in job["error"]
    assert "hearkit analyze FILE --mono" in job["error"]  # what a command-line user types instead
    assert "internal" not in job["error"]


def test_an_unexpected_transcriber_error_is_one_line_naming_it(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    with (
        start_engine(
            tmp_path, transcriber="tests.engine.transcribers:RaisingTranscriber", executor="process"
        ) as engine,
        client_of(engine) as http,
    ):
        created = http.post(JOBS, files={"audio": audio["mono3"].read_bytes()})
        job = wait_job(http, created.json()["job_id"], timeout=120).json()
    assert job["status"] == "failed"
    error = job["error"]
    assert "\n" not in error
    assert "RuntimeError: decoder state lost at frame 1234" in error
    log = tmp_path / "engine.log"
    assert str(log) in error
    text = log.read_text()
    assert "Traceback" in text and "second line of detail" in text and created.json()["job_id"] in text
