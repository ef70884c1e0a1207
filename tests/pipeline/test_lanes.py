"""Decoding one transcription's windows in parallel lanes (issue 17): same words as one run."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.schema import JobCreateParams

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "call_05_renewal.stereo.ogg"


def test_lanes_default_to_the_cores_one_transcription_uses(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARKIT_ASR_LANES", raising=False)
    assert WhisperTranscriber(cpu_threads=2).decode_lanes == 2
    assert WhisperTranscriber(cpu_threads=1).decode_lanes == 1
    assert WhisperTranscriber(cpu_threads=2, lanes=1).decode_lanes == 1


def test_lanes_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARKIT_ASR_LANES", "1")
    assert WhisperTranscriber(cpu_threads=2).decode_lanes == 1
    monkeypatch.setenv("HEARKIT_ASR_LANES", "none")
    with pytest.raises(ValueError, match="HEARKIT_ASR_LANES"):
        WhisperTranscriber()


@pytest.mark.asr
def test_two_lanes_give_the_words_one_run_gives() -> None:
    full = decode_audio(SAMPLE)
    audio = DecodedAudio(np.ascontiguousarray(full.samples[:, : 75 * SAMPLE_RATE]), full.source_rate, 2)
    one = WhisperTranscriber(cpu_threads=2, lanes=1)
    assert len(one.plan_stereo(audio)) >= 3  # enough windows to split between the lanes
    options = JobCreateParams(channel=True)
    words_one = [(w.word, w.start, w.end, w.channel) for w in one.transcribe_audio(audio, options).words]
    two = WhisperTranscriber(cpu_threads=2, lanes=2)
    words_two = [(w.word, w.start, w.end, w.channel) for w in two.transcribe_audio(audio, options).words]
    assert len(words_one) > 100
    assert {w[3] for w in words_one} == {0, 1}
    assert words_two == words_one
