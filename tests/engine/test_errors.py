"""Every error of the catalog the engine can produce, with its exact wire shape; bad audio; bad bodies."""

from __future__ import annotations

import re
from pathlib import Path

import httpx
import pytest

from hearkit.engine import LocalEngine
from tests.engine.conftest import SAMPLE_DATA, client_of, start_engine, wait_job

REQUEST_ID = re.compile(r"^req_[0-9a-f]{24}$")


def assert_problem(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert str(body["type"]).endswith("/problems/" + code)
    assert body["status"] == status
    assert REQUEST_ID.match(response.headers["x-pyai-request-id"])
    assert body["request_id"] == response.headers["x-pyai-request-id"]
    return body


def assert_envelope(response: httpx.Response, status: int, code: str) -> dict[str, object]:
    assert response.status_code == status, response.text
    error: dict[str, object] = response.json()["error"]
    assert error["code"] == code
    assert error["message"]
    if status == 429:
        assert int(response.headers["retry-after"]) >= 1
    return error


def _key(engine: LocalEngine, **options: object) -> dict[str, str]:
    assert engine.runtime is not None
    values: dict[str, object] = {
        "env": "test",
        "scopes": ["hear:transcribe", "transcribe:jobs"],
        "rps": 100.0,
        "burst": 100,
        "project_id": "proj_" + str(id(options)),
    }
    values.update(options)
    api_key, _ = engine.runtime.store.create_key(**values)  # type: ignore[arg-type]
    return {"Authorization": f"Bearer {api_key}"}


def test_401_missing_and_invalid_keys(engine: LocalEngine) -> None:
    jobs = engine.base_url + "/v1/transcription/jobs"
    assert_envelope(httpx.get(jobs), 401, "unauthorized")
    assert_envelope(httpx.get(jobs, headers={"Authorization": "Bearer pyai_test_nope"}), 401, "unauthorized")
    assert httpx.get(jobs, headers={"x-api-key": engine.api_key}).status_code == 200  # the documented alias


def test_403_missing_scope(engine: LocalEngine) -> None:
    headers = _key(engine, scopes=["hear:transcribe"])
    error = assert_envelope(
        httpx.post(
            engine.base_url + "/v1/transcription/jobs", headers=headers, json={"audio_url": "https://x.y/a"}
        ),
        403,
        "forbidden",
    )
    assert "transcribe:jobs" in str(error["message"])
    assert httpx.get(engine.base_url + "/v1/me", headers=headers).status_code == 200


def test_429_rate_limit_with_burst_and_retry_after(engine: LocalEngine) -> None:
    headers = _key(engine, rps=0.1, burst=3)
    codes = [httpx.get(engine.base_url + "/v1/me", headers=headers) for _ in range(4)]
    assert [r.status_code for r in codes[:3]] == [200, 200, 200]
    assert_envelope(codes[3], 429, "rate_limit_exceeded")
    assert 5 <= int(codes[3].headers["retry-after"]) <= 10  # one token takes 10 s at 0.1/s


def test_402_live_key_out_of_credit(engine: LocalEngine, audio: dict[str, Path]) -> None:
    headers = _key(engine, env="live", credit_seconds=2.0)
    me = httpx.get(engine.base_url + "/v1/me", headers=headers).json()
    assert me["env"] == "live" and me["credit"]["gated"] is True
    with httpx.Client(base_url=engine.base_url, headers=headers) as http:
        job = http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()}).json()
        assert wait_job(http, job["job_id"]).json()["status"] == "completed"  # 3 s billed > 2 s credit
        error = assert_envelope(
            http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()}),
            402,
            "credit_exhausted",
        )
        assert "credit" in str(error["message"])
        assert http.get("/v1/me").json()["credit"]["available_cents"] == 0


def test_429_daily_cap_of_test_key(engine: LocalEngine, audio: dict[str, Path]) -> None:
    headers = _key(engine, env="test", daily_cap_seconds=2.5)
    with httpx.Client(base_url=engine.base_url, headers=headers) as http:
        job = http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()}).json()
        assert wait_job(http, job["job_id"]).json()["status"] == "completed"
        response = http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()})
        assert_envelope(response, 429, "daily_cap_exceeded")
        assert int(response.headers["retry-after"]) <= 86_400
        assert http.get("/v1/me").json()["limits"]["daily_unit_cap"] == 2.5


def test_404_unknown_job_route_and_other_projects_job(engine: LocalEngine, http: httpx.Client) -> None:
    assert_problem(http.get("/v1/transcription/jobs/job_" + "a" * 24), 404, "not_found")
    assert_problem(http.get("/v1/nothing-here"), 404, "not_found")
    job_id = http.post("/v1/transcription/jobs", json={"audio_url": "http://plain/a.wav"}).json()["job_id"]
    other = _key(engine)
    assert_problem(
        httpx.get(f"{engine.base_url}/v1/transcription/jobs/{job_id}", headers=other), 404, "not_found"
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"audio_url": "https://a.example/x.wav", "diarize": "yes please"}, "diarize"),
        ({"audio_url": "https://a.example/x.wav", "channel": 1}, "channel"),
        ({"audio_url": "https://a.example/x.wav", "output_formats": ["docx"]}, "output_formats"),
        ({"audio_url": "https://a.example/x.wav", "vocabulary": "acme"}, "vocabulary"),
        ({"audio_url": 42}, "audio_url"),
        ({"audio_url": "not a url"}, "audio_url"),
        ({"audio_url": "https://a.example/x.wav", "webhook_url": "ftp://hooks/x"}, "webhook_url"),
    ],
)
def test_400_wrong_field_types_name_the_field(
    http: httpx.Client, body: dict[str, object], field: str
) -> None:
    problem = assert_problem(http.post("/v1/transcription/jobs", json=body), 400, "invalid_request")
    assert f"'{field}" in str(problem["detail"])


def test_400_sources_bodies_headers_and_query(http: httpx.Client, audio: dict[str, Path]) -> None:
    jobs = "/v1/transcription/jobs"
    for response in (
        http.post(jobs, json={}),
        http.post(
            jobs, files={"audio": audio["mono3"].read_bytes()}, data={"audio_url": "https://a.example/x"}
        ),
        http.post(jobs, data={"diarize": "true"}, files={"other": b"x"}),
        http.post(jobs, content=b"{not json", headers={"content-type": "application/json"}),
        http.post(jobs, content=b"[1, 2]", headers={"content-type": "application/json"}),
        http.post(jobs, content=b"audio", headers={"content-type": "audio/wav"}),
        http.post(jobs, json={"audio_url": "https://a.example/x"}, headers={"Idempotency-Key": "k" * 256}),
        http.post(jobs, files={"audio": b"x"}, data={"diarize": "maybe"}),
        http.get(jobs, params={"limit": 0}),
        http.get(jobs, params={"limit": 101}),
        http.get(jobs, params={"limit": "ten"}),
        http.get(jobs, params={"cursor": "garbage!"}),
    ):
        assert_problem(response, 400, "invalid_request")
    detail = http.post(jobs, json={}).json()["detail"]
    assert "exactly one audio source" in detail


def test_400_too_many_vocabulary_fields_says_to_send_fewer_terms(
    http: httpx.Client, audio: dict[str, Path]
) -> None:
    """A new-user check sent 300 terms as repeated form fields: the answer named no vocabulary."""
    fields = {"vocabulary": [f"term{i}" for i in range(300)]}
    response = http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()}, data=fields)
    problem = assert_problem(response, 400, "invalid_request")
    assert "send fewer terms" in str(problem["detail"])


def test_413_upload_over_the_cap(tmp_path: Path, audio: dict[str, Path]) -> None:
    with start_engine(tmp_path, max_upload_bytes=50_000) as engine:
        headers = {"Authorization": f"Bearer {engine.api_key}"}
        response = httpx.post(
            engine.base_url + "/v1/transcription/jobs",
            headers=headers,
            files={"audio": audio["mono3"].read_bytes()},
        )
        assert_problem(response, 413, "payload_too_large")
        assert list((engine.data_dir / "audio").iterdir()) == []
        small = httpx.post(
            engine.base_url + "/v1/transcription/jobs",
            headers=headers,
            files={"audio": b"RIFF" + b"\0" * 100},
        )
        assert small.status_code == 202  # the server is fine after refusing


def test_bad_audio_fails_the_job_clearly_and_the_server_keeps_serving(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    corrupt = (SAMPLE_DATA / "call_01_discovery.stereo.ogg").read_bytes()[:300]  # Ogg cut in its headers
    cases = {
        "empty": (b"", "empty"),
        "text": (b"this is a text file, not a recording\n" * 20, "not decodable audio"),
        "corrupt": (corrupt, "not decodable audio"),
        "long": (audio["long"].read_bytes(), "at most 10 s"),
    }
    with start_engine(tmp_path, max_audio_seconds=10.0) as engine:
        with client_of(engine) as http:
            ids = {
                name: http.post("/v1/transcription/jobs", files={"audio": data}).json()["job_id"]
                for name, (data, _) in cases.items()
            }
            good = http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()}).json()[
                "job_id"
            ]
            for name, (_, expected) in cases.items():
                job = wait_job(http, ids[name]).json()
                assert job["status"] == "failed", (name, job)
                assert expected in job["error"], (name, job["error"])
                assert "result" not in job
            assert wait_job(http, good).json()["status"] == "completed"
        assert list((engine.data_dir / "audio").iterdir()) == []  # failed uploads are deleted too


def test_jobs_queued_before_the_credit_ran_out_fail_unbilled(tmp_path: Path, audio: dict[str, Path]) -> None:
    """U8 finding 5: a live key with 100 s of credit was billed 400 s by one batch: every create
    passed (nothing billed yet), and every queued job then ran. Now a job whose key ran out of credit
    while it waited fails, unbilled, with the reason."""
    from hearkit.engine.fake import FakeTranscriber

    server = start_engine(tmp_path / "engine", transcriber=FakeTranscriber(delay=1.0), workers=1)
    try:
        headers = _key(server, env="live", credit_seconds=2.0)
        with httpx.Client(base_url=server.base_url, headers=headers, timeout=30) as http:
            ids = [
                http.post("/v1/transcription/jobs", files={"audio": audio["mono3"].read_bytes()}).json()[
                    "job_id"
                ]
                for _ in range(4)
            ]
            jobs = [wait_job(http, job_id).json() for job_id in ids]
            assert [job["status"] for job in jobs] == ["completed", "failed", "failed", "failed"]
            assert all(job["error"].startswith("credit_exhausted") for job in jobs[1:])
            assert "not transcribed or billed" in jobs[1]["error"]
        assert server.runtime is not None
        key = server.runtime.store.key_by_secret(headers["Authorization"].split()[1])
        assert key is not None
        assert server.runtime.store.billed_seconds(key.key_id) == pytest.approx(3.0, abs=0.05)  # one job, 3 s
    finally:
        server.stop()
