"""The speaker-count job options (issue 20) through the real engine on loopback: bad values get a
400 that names the field and says what to do; good ones are accepted from JSON and multipart forms."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from tests.engine.conftest import wait_job

URL = "https://a.example/x.wav"


@pytest.mark.parametrize(
    ("body", "says"),
    [
        (
            {"audio_url": URL, "speakers_expected": 0},
            "'speakers_expected': Input should be greater than or equal to 1",
        ),
        ({"audio_url": URL, "max_speakers": 40}, "'max_speakers': Input should be less than or equal to 6"),
        ({"audio_url": URL, "min_speakers": "two"}, "'min_speakers'"),
        (
            {"audio_url": URL, "min_speakers": 4, "max_speakers": 2},
            "min_speakers (4) is above max_speakers (2)",
        ),
        # U4 finding 2: a count without diarization came back as one speaker, trust high
        ({"audio_url": URL, "speakers_expected": 2}, "add diarize=true"),
        ({"audio_url": URL, "diarize": False, "min_speakers": 2, "max_speakers": 3}, "add diarize=true"),
    ],
)
def test_bad_speaker_options_are_a_400_naming_the_problem(
    http: httpx.Client, body: dict[str, object], says: str
) -> None:
    response = http.post("/v1/transcription/jobs", json=body)
    assert response.status_code == 400, response.text
    assert response.json()["type"].endswith("invalid_request")
    assert says in response.json()["detail"]


def test_speaker_options_are_accepted_from_a_form_upload(http: httpx.Client, audio: dict[str, Path]) -> None:
    with audio["mono3"].open("rb") as f:
        response = http.post(
            "/v1/transcription/jobs",
            files={"audio": ("call.wav", f, "audio/wav")},
            data={"diarize": "true", "speakers_expected": "2", "min_speakers": "1", "max_speakers": "3"},
        )
    assert response.status_code in (200, 201, 202), response.text
    assert wait_job(http, response.json()["job_id"]).json()["status"] == "completed"
