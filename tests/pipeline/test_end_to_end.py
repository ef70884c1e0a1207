"""Real audio through the real local server: hearkit's client → HTTP → LocalEngine → worker process
running the default WhisperTranscriber → result JSON and SRT/VTT parsed by standard parsers."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
import srt
import webvtt

from hearkit.client import PyAI
from hearkit.engine import LocalEngine

pytestmark = pytest.mark.asr


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[PyAI]:
    with LocalEngine(tmp_path_factory.mktemp("engine"), transcriber="whisper") as engine:
        yield PyAI(engine.api_key, base_url=engine.base_url)


def test_stereo_job_returns_channels_and_parseable_subtitles(client: PyAI, realdata: Path) -> None:
    reference = realdata / "faster_whisper" / "stereo_diarization.reference.derived.txt"
    lines = reference.read_text().splitlines()
    expected = [set(re.findall(r"[a-z]+", line.split("\t", 1)[1].lower())) for line in lines]
    job = client.jobs.transcribe(
        realdata / "faster_whisper" / "stereo_diarization.wav",
        channel=True,
        output_formats=["json", "srt", "vtt"],
        timeout=300,
    )
    assert job.status == "completed"
    result = client.jobs.result(job)
    assert result.speakers == 2
    for channel in (0, 1):
        said = {w.word.lower().strip(".,") for w in result.words if w.channel == channel}
        assert len(said & expected[channel]) / len(expected[channel]) >= 0.8

    cues = list(srt.parse(client.jobs.download_format(job, "srt")))
    assert len(cues) == len(result.segments)
    assert {c.content.split("]", 1)[0] + "]" for c in cues} == {"[speaker_0]", "[speaker_1]"}
    assert all(c.start < c.end for c in cues)
    vtt = webvtt.from_buffer(io.StringIO(client.jobs.download_format(job, "vtt")))
    assert len(vtt.captions) == len(result.segments)
    assert "horizon" in " ".join(c.text for c in vtt.captions).lower()


def test_mono_job_is_diarized_and_a_corrupt_upload_fails_cleanly(
    client: PyAI, tmp_path: Path, realdata: Path
) -> None:
    job = client.jobs.transcribe(realdata / "pyannote_sample" / "sample.wav", diarize=True, timeout=300)
    result = client.jobs.result(job)
    assert result.speakers is not None and result.speakers >= 2
    assert len({w.speaker for w in result.words}) >= 2

    corrupt = tmp_path / "broken.wav"
    corrupt.write_bytes(b"RIFF" + bytes(500))
    failed = client.jobs.create(corrupt, channel=True)
    from hearkit.errors import JobFailedError

    with pytest.raises(JobFailedError) as info:
        client.jobs.wait(failed.job_id, timeout=120)
    assert "audio" in (info.value.job.error or "").lower()
