"""The create/get/list path over real HTTP, with the fake transcriber."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from hearkit.engine import LocalEngine
from tests.engine.conftest import wait_job

JOB_ID = re.compile(r"^job_[0-9A-Za-z]{24}$")


def test_multipart_upload_completes_with_the_real_duration(
    http: httpx.Client, audio: dict[str, Path]
) -> None:
    with audio["stereo4"].open("rb") as f:
        created = http.post(
            "/v1/transcription/jobs", files={"audio": ("call.wav", f, "audio/wav")}, data={"channel": "true"}
        )
    assert created.status_code == 202, created.text
    job = created.json()
    assert JOB_ID.match(job["job_id"])
    assert job["status"] == "queued"
    assert set(job) == {"job_id", "status", "created_at", "updated_at"}
    assert job["created_at"] > 1_600_000_000_000  # Unix ms, not seconds

    done = wait_job(http, job["job_id"])
    body = done.json()
    assert body["status"] == "completed"
    assert set(body) == {"job_id", "status", "created_at", "updated_at", "result"}
    result = body["result"]
    assert result["audio_seconds"] == 4.0  # the generator wrote 4.0 s
    assert done.headers["x-pyai-units"] == "audio_seconds=4.0"
    assert {s["channel"] for s in result["segments"]} == {0, 1}
    assert result["text"].startswith("[speaker_1] ")
    assert "formats" not in result


def test_json_audio_url_non_https_fails_at_once(http: httpx.Client) -> None:
    created = http.post("/v1/transcription/jobs", json={"audio_url": "http://example.com/call.wav"})
    assert created.status_code == 202
    job = created.json()
    assert job["status"] == "failed"
    assert "https" in job["error"]
    assert http.get(f"/v1/transcription/jobs/{job['job_id']}").json()["error"] == job["error"]


def test_list_is_newest_first_and_shows_created_jobs(http: httpx.Client, audio: dict[str, Path]) -> None:
    ids = []
    for _ in range(3):
        with audio["mono3"].open("rb") as f:
            ids.append(http.post("/v1/transcription/jobs", files={"audio": f}).json()["job_id"])
    page = http.get("/v1/transcription/jobs", params={"limit": 3}).json()
    assert page["object"] == "list"
    assert [j["job_id"] for j in page["data"]] == ids[::-1]
    assert page["has_more"] is True
    assert isinstance(page["next_cursor"], str)


def test_uploaded_audio_is_deleted_when_the_job_ends(
    engine: LocalEngine, http: httpx.Client, audio: dict[str, Path]
) -> None:
    with audio["mono3"].open("rb") as f:
        job_id = http.post("/v1/transcription/jobs", files={"audio": f}).json()["job_id"]
    assert wait_job(http, job_id).json()["status"] == "completed"
    assert not (engine.data_dir / "audio" / job_id).exists()


def test_openapi_documents_the_contract(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    paths = spec["paths"]
    for path in ("/v1/transcription/jobs", "/v1/transcription/jobs/{job_id}", "/v1/me", "/v1/sandbox/keys"):
        assert path in paths
    create = paths["/v1/transcription/jobs"]["post"]
    assert set(create["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    assert "202" in create["responses"]


def test_signing_secret_status_and_identity(engine: LocalEngine, http: httpx.Client) -> None:
    status = http.get("/v1/webhooks/signing-secret").json()
    assert status == {
        "object": "webhook_signing_secret",
        "configured": True,
        "last4": engine.webhook_secret[-4:],
    }
    me = http.get("/v1/me").json()
    assert me["object"] == "identity" and me["key_id"].startswith("key_")
    assert "transcribe:jobs" in me["scopes"]


def test_default_engine_is_one_process_wide_instance(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARKIT_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("HEARKIT_TRANSCRIBER", "fake")
    monkeypatch.setattr(LocalEngine, "_default", None)
    first = LocalEngine.default()
    try:
        assert LocalEngine.default() is first
        assert first.data_dir == tmp_path
        assert (tmp_path / "local_api_key").read_text().strip() == first.api_key
        assert httpx.get(first.base_url + "/v1/me", headers={"x-api-key": first.api_key}).status_code == 200
    finally:
        first.stop()


@pytest.mark.parametrize("limit", ["²", "٣", "0", "101", "ten", "1e3", "9" * 11])
def test_a_limit_that_is_no_number_from_1_to_100_is_a_400(http: httpx.Client, limit: str) -> None:
    """'²' and Arabic-Indic digits pass str.isdigit() but not int(): they were a 500 (the fuzz test)."""
    response = http.get("/v1/transcription/jobs", params={"limit": limit})
    assert response.status_code == 400, response.text
    assert "'limit'" in response.json()["detail"]
