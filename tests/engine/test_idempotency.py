"""Idempotency-Key: replay of the original 202 (JSON and multipart), 409 on a different body, per key."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

from hearkit.engine import LocalEngine
from tests.engine.conftest import sandbox_key, wait_job
from tests.engine.test_errors import assert_problem

JOBS = "/v1/transcription/jobs"


def _client(engine: LocalEngine) -> httpx.Client:
    return httpx.Client(base_url=engine.base_url, headers={"Authorization": f"Bearer {sandbox_key(engine)}"})


def test_json_replay_returns_the_original_202_even_after_completion(engine: LocalEngine) -> None:
    with _client(engine) as http:
        body = {"audio_url": "http://not-https.example/a.wav", "diarize": True, "output_formats": ["json"]}
        first = http.post(JOBS, json=body, headers={"Idempotency-Key": "order-1"})
        reordered = {
            "output_formats": ["json"],
            "diarize": True,
            "audio_url": "http://not-https.example/a.wav",
        }
        again = http.post(JOBS, json=reordered, headers={"Idempotency-Key": "order-1"})
        assert first.status_code == again.status_code == 202
        assert again.json() == first.json()
        assert again.headers["idempotent-replayed"] == "true"
        assert len(http.get(JOBS).json()["data"]) == 1


def test_json_conflict_on_a_different_body(engine: LocalEngine) -> None:
    with _client(engine) as http:
        http.post(JOBS, json={"audio_url": "http://a.example/1.wav"}, headers={"Idempotency-Key": "k"})
        conflict = http.post(
            JOBS, json={"audio_url": "http://a.example/2.wav"}, headers={"Idempotency-Key": "k"}
        )
        problem = assert_problem(conflict, 409, "idempotency_conflict")
        assert "different request body" in str(problem["detail"])
        assert len(http.get(JOBS).json()["data"]) == 1


def test_keys_are_scoped_per_api_key(engine: LocalEngine) -> None:
    with _client(engine) as one, _client(engine) as two:
        a = one.post(
            JOBS, json={"audio_url": "http://a.example/1.wav"}, headers={"Idempotency-Key": "shared"}
        )
        b = two.post(
            JOBS, json={"audio_url": "http://a.example/1.wav"}, headers={"Idempotency-Key": "shared"}
        )
        assert a.json()["job_id"] != b.json()["job_id"]


def test_multipart_replay_and_conflict_hash_fields_and_file_bytes(
    engine: LocalEngine, audio: dict[str, Path]
) -> None:
    mono, stereo = audio["mono3"].read_bytes(), audio["stereo4"].read_bytes()
    with _client(engine) as http:

        def send(data: bytes, fields: dict[str, str], key: str = "upload-1") -> httpx.Response:
            return http.post(
                JOBS, files={"audio": ("a.wav", data)}, data=fields, headers={"Idempotency-Key": key}
            )

        first = send(mono, {"diarize": "true"})
        replay = send(mono, {"diarize": "true"})
        assert replay.status_code == 202 and replay.json() == first.json()
        assert_problem(send(stereo, {"diarize": "true"}), 409, "idempotency_conflict")  # other file bytes
        assert_problem(send(mono, {"diarize": "false"}), 409, "idempotency_conflict")  # other fields
        assert wait_job(http, first.json()["job_id"]).json()["status"] == "completed"
        assert len(http.get(JOBS).json()["data"]) == 1
        assert list((engine.data_dir / "audio").glob("*")) == []  # replays left no stray uploads


def test_concurrent_identical_requests_make_one_job(engine: LocalEngine, audio: dict[str, Path]) -> None:
    data = audio["long"].read_bytes()
    with _client(engine) as http:

        def send(_: int) -> httpx.Response:
            return http.post(JOBS, files={"audio": data}, headers={"Idempotency-Key": "burst"})

        with ThreadPoolExecutor(8) as pool:
            responses = list(pool.map(send, range(8)))
        assert {r.status_code for r in responses} == {202}
        assert len({r.json()["job_id"] for r in responses}) == 1
        assert len(http.get(JOBS).json()["data"]) == 1
