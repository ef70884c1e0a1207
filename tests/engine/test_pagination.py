"""Listing 250 jobs: newest first, limit 1–100, opaque cursor, stable while jobs are being added."""

from __future__ import annotations

import httpx

from hearkit.engine import LocalEngine

JOBS = "/v1/transcription/jobs"


def _create(http: httpx.Client, n: int) -> list[str]:
    # Non-https audio_url: each job fails at once, so listing is tested without transcribing.
    return [
        http.post(JOBS, json={"audio_url": f"http://h.example/{i}.wav"}).json()["job_id"] for i in range(n)
    ]


def test_pagination_of_250_jobs_is_complete_ordered_and_stable(engine: LocalEngine) -> None:
    assert engine.runtime is not None
    api_key, _ = engine.runtime.store.create_key(
        env="test", scopes=["transcribe:jobs"], rps=10_000, burst=10_000, project_id="proj_pages"
    )
    with httpx.Client(base_url=engine.base_url, headers={"Authorization": f"Bearer {api_key}"}) as http:
        created = _create(http, 250)
        assert len(http.get(JOBS).json()["data"]) == 20  # default limit

        first = http.get(JOBS, params={"limit": 100}).json()
        added = _create(http, 30)  # concurrent inserts between pages
        pages = [first]
        while pages[-1]["has_more"]:
            pages.append(http.get(JOBS, params={"limit": 100, "cursor": pages[-1]["next_cursor"]}).json())

        seen = [job["job_id"] for page in pages for job in page["data"]]
        assert seen == created[::-1]  # each job once, newest first, nothing added mid-walk leaks in
        assert [len(p["data"]) for p in pages] == [100, 100, 50]
        assert [p["has_more"] for p in pages] == [True, True, False]
        assert pages[-1]["next_cursor"] is None
        stamps = [j["created_at"] for p in pages for j in p["data"]]
        assert stamps == sorted(stamps, reverse=True)

        newest = http.get(JOBS, params={"limit": 30}).json()
        assert [j["job_id"] for j in newest["data"]] == added[::-1]
