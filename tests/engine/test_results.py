"""Offloaded results behind signed expiring links, SRT/VTT formats, the units header."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import srt
import webvtt

from hearkit.engine import LocalEngine
from hearkit.engine.signing import sign_link
from tests.engine.conftest import client_of, start_engine, wait_job

JOBS = "/v1/transcription/jobs"


@pytest.fixture(scope="module")
def offloading(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    server = start_engine(tmp_path_factory.mktemp("offload"), result_inline_max_bytes=100)
    yield server
    server.stop()


def _complete(engine: LocalEngine, data: bytes, fields: dict[str, str]) -> httpx.Response:
    with client_of(engine) as http:
        job_id = http.post(JOBS, files={"audio": data}, data=fields).json()["job_id"]
        return wait_job(http, job_id)


def test_offloaded_result_is_the_same_document_behind_a_signed_link(
    engine: LocalEngine, offloading: LocalEngine, audio: dict[str, Path]
) -> None:
    data = audio["stereo4"].read_bytes()
    inline = _complete(engine, data, {"channel": "true"}).json()
    offloaded = _complete(offloading, data, {"channel": "true"})
    job = offloaded.json()
    assert "result" not in job
    assert job["result_url"].startswith(offloading.base_url + f"{JOBS}/{job['job_id']}/result?")
    document = httpx.get(job["result_url"])  # no API key: the link is the credential
    assert document.status_code == 200
    assert document.json() == inline["result"]
    assert document.headers["x-pyai-units"] == offloaded.headers["x-pyai-units"] == "audio_seconds=4.0"


def test_tampered_and_expired_links_are_refused(offloading: LocalEngine, audio: dict[str, Path]) -> None:
    job = _complete(offloading, audio["mono3"].read_bytes(), {}).json()
    url = job["result_url"]
    tampered = url[:-4] + ("0000" if not url.endswith("0000") else "1111")
    assert httpx.get(tampered).json()["error"]["code"] == "forbidden"
    assert httpx.get(url.split("?")[0]).status_code == 403
    assert offloading.runtime is not None
    path = f"{JOBS}/{job['job_id']}/result"
    expired = sign_link(offloading.runtime.url_secret, offloading.base_url, path, 60, now=time.time() - 120)
    response = httpx.get(expired)
    assert response.status_code == 403
    assert "expired" in response.json()["error"]["message"]


def _seconds(timestamp: str) -> float:
    hours, minutes, seconds = timestamp.split(":")
    return int(hours) * 3600 + int(minutes) * 60 + float(seconds)


def test_formats_are_signed_srt_and_vtt_links(engine: LocalEngine, audio: dict[str, Path]) -> None:
    job = _complete(
        engine, audio["long"].read_bytes(), {"diarize": "true", "output_formats": "json,srt,vtt"}
    ).json()
    result = job["result"]
    assert set(result["formats"]) == {"srt", "vtt"}
    srt_response = httpx.get(result["formats"]["srt"])
    assert srt_response.headers["content-type"].startswith("application/x-subrip")
    cues = list(srt.parse(srt_response.text))
    vtt = webvtt.from_string(httpx.get(result["formats"]["vtt"]).text)
    segments = result["segments"]
    assert len(cues) == len(vtt.captions) == len(segments) == 5  # 12.5 s in slots of 2.5 s
    for cue, caption, segment in zip(cues, vtt.captions, segments, strict=True):
        expected = f"[{segment['speaker']}] {segment['text']}"
        assert cue.content == caption.text == expected
        assert cue.start.total_seconds() == pytest.approx(segment["start"], abs=1e-3)
        assert _seconds(caption.end) == pytest.approx(segment["end"], abs=1e-3)


def test_no_formats_map_without_subtitle_formats(engine: LocalEngine, audio: dict[str, Path]) -> None:
    job = _complete(engine, audio["mono3"].read_bytes(), {"output_formats": "json"}).json()
    assert "formats" not in job["result"]
