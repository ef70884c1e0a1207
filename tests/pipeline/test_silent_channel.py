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
from hearkit.engine.pipeline.transcriber import _quiet_party
from hearkit.metrics import scorecards
from hearkit.schema import JobCreateParams, Segment
from hearkit.transcript import turns, words


@pytest.mark.asr
@pytest.mark.parametrize(("live", "role"), [(0, "rep"), (1, "customer")])
def test_one_voice_beside_a_silent_channel_is_its_channels_party(
    realdata: Path, transcriber: WhisperTranscriber, live: int, role: str
) -> None:
    """The agent's leg alone (the caller's leg holds no speech in 98-119 s), laid on channel ``live``
    beside a silent one: one speaker, on that channel, with the channel's role (rep on 0), and all
    the talk. Before: 3 speakers (0.63 / 0.20 / 0.17), two of them "customer"; then one speaker of
    no role, the talk ratio not measured (U5 finding 18)."""
    a, b = 98 * SAMPLE_RATE, 119 * SAMPLE_RATE
    agent, caller = (
        decode_audio(realdata / "aws_lca_calls" / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][a:b]
        for leg in ("agent", "caller")
    )
    assert np.sqrt(np.mean(caller**2)) < 0.01 * np.sqrt(np.mean(agent**2))  # the caller's leg is silent here
    channels = [agent, caller] if live == 0 else [caller, agent]
    result = transcriber.transcribe_audio(
        DecodedAudio(np.stack(channels).astype(np.float32), SAMPLE_RATE, 2),
        JobCreateParams(channel=True),
    )
    assert result.speakers == 1
    assert {s.channel for s in result.segments} == {live}
    assert result.quality is not None
    codes = [f.code for f in result.quality.flags]
    assert "one_party_silent" in codes and "stereo_really_mono" not in codes
    assert (
        "no_voice_split" not in codes and "one_voice" not in codes
    )  # no voices to tell apart: said by channel
    call = turns(result, call_id="c")
    assert set(call["role"]) == {role} and set(call["role_source"]) == {"channel_convention"}
    ratio = scorecards(call, words(result, call_id="c"))["talk_ratio_rep"].iloc[0]
    assert ratio == pytest.approx(1.0 if live == 0 else 0.0)


@pytest.mark.asr
def test_one_voice_beside_line_noise_under_minus_60_dbfs_is_its_channels_party(
    realdata: Path, transcriber: WhisperTranscriber
) -> None:
    """X8's rule gap: AWS call 49's agent leg (the first minute) beside a leg of line noise 39 dB under it
    (-61 dBFS: silent by the absolute half of the level rule, not the relative one) was split into two
    voices and called ``stereo_really_mono`` (0.49 / 0.51). The agent is one speaker on channel 0 with all
    the talk, and the noise leg ``one_party_silent``, as beside a leg of zeros."""
    agent = decode_audio(realdata / "aws_lca_calls" / "Auto_Repairs_49_UTC_agent.wav").samples[0][
        : 60 * SAMPLE_RATE
    ]
    level = float(np.sqrt(np.mean(agent.astype(np.float64) ** 2)))
    rng = np.random.default_rng(5)
    noise = (level * 10 ** (-39 / 20) * rng.standard_normal(len(agent))).astype(np.float32)
    assert float(np.sqrt(np.mean(noise.astype(np.float64) ** 2))) < 1e-3  # under -60 dBFS
    result = transcriber.transcribe_audio(
        DecodedAudio(np.stack([agent, noise]).astype(np.float32), SAMPLE_RATE, 2),
        JobCreateParams(channel=True),
    )
    assert result.speakers == 1
    assert {s.channel for s in result.segments} == {0}
    assert result.quality is not None
    codes = [f.code for f in result.quality.flags]
    assert "one_party_silent" in codes and "stereo_really_mono" not in codes


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


def test_a_quiet_leg_that_holds_speech_is_a_party_and_silence_or_echo_is_not(realdata: Path) -> None:
    """A new-user check: AWS call 40's caller leg 40 dB down (-62 dBFS, under 1 % of the agent's level)
    was taken as silent and the call read "the customer never spoke", talk ratio 1.0 for 0.47. That leg
    holds the caller's own speech while the agent is silent: a party. Line noise at -70 dBFS, digital
    silence and the agent's own voice 40 dB down (an echo) are not."""
    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][: 60 * SAMPLE_RATE]
        for leg in ("agent", "caller")
    )
    rng = np.random.default_rng(0)
    legs = {
        "quiet speech": caller * np.float32(0.01),
        "line noise": 10 ** (-70 / 20) * rng.standard_normal(len(caller)),
        "zeros": np.zeros_like(caller),
        "echo": agent * np.float32(0.01),
    }
    for name, leg in legs.items():
        audio = DecodedAudio(np.stack([agent, leg]).astype(np.float32), SAMPLE_RATE, 2)
        assert _quiet_party(audio) == (name == "quiet speech"), name
