"""A two-channel call whose second channel is silent (U5 finding 18, U3 finding 9): the live channel
is diarized (it may hold both parties, or one), but one voice is not split into several.

Truth from outside the code: AWS call 40's legs (``../shared/realdata/aws_lca_calls``, development
data; the caller's leg holds no speech in 98-119 s) and pyannote's phone call with its RTTM."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.quality import speaker_shares
from hearkit.schema import JobCreateParams, Segment


@pytest.mark.asr
def test_the_rep_alone_beside_a_silent_channel_is_one_speaker(
    realdata: Path, transcriber: WhisperTranscriber
) -> None:
    # before: 3 speakers (0.63 / 0.20 / 0.17), two of them "customer", all the agent's voice
    a, b = 98 * SAMPLE_RATE, 119 * SAMPLE_RATE
    agent, caller = (
        decode_audio(realdata / "aws_lca_calls" / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][a:b]
        for leg in ("agent", "caller")
    )
    assert np.sqrt(np.mean(caller**2)) < 0.01 * np.sqrt(np.mean(agent**2))  # the caller's leg is silent here
    result = transcriber.transcribe_audio(
        DecodedAudio(np.stack([agent, caller]).astype(np.float32), SAMPLE_RATE, 2),
        JobCreateParams(channel=True),
    )
    assert result.speakers == 1
    assert {s.speaker for s in result.segments} == {"speaker_0"}
    assert {s.channel for s in result.segments} == {0}
    assert result.quality is not None
    assert "one_party_silent" in [f.code for f in result.quality.flags]


@pytest.mark.asr
def test_a_two_party_call_on_one_channel_beside_a_silent_one_is_still_two(
    realdata: Path, transcriber: WhisperTranscriber
) -> None:
    mixed = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0]
    result = transcriber.transcribe_audio(
        DecodedAudio(np.stack([mixed, np.zeros_like(mixed)]).astype(np.float32), SAMPLE_RATE, 2),
        JobCreateParams(channel=True),
    )
    rttm = [line.split() for line in (realdata / "pyannote_sample" / "sample.rttm").read_text().splitlines()]
    spans = [
        Segment(id=i, start=float(p[3]), end=float(p[3]) + float(p[4]), speaker=p[7])
        for i, p in enumerate(rttm)
    ]
    assert result.speakers == 2
    found = sorted(speaker_shares(result.segments).values())
    assert found == pytest.approx(sorted(speaker_shares(spans).values()), abs=0.05)
    assert result.quality is not None
    assert "one_party_silent" not in [f.code for f in result.quality.flags]
