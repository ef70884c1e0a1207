"""One rule says when a channel is silent by its level (``channels.silent_by_level``); the mono path asks
it by the relative half alone (the transcriber had its own copy, ``_silent_channel``, on a float64 copy of
the whole call). Which channel is silent and which signal is diarized, on channels whose content is
known from outside the code: the sample calls' scripts (a party per channel), AWS call 40/49's recorded
legs, and legs made silent, noisy or quiet here by a known gain."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.channels import channel_levels, silent_beside_voice, silent_by_level
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.transcriber import _single_signal
from hearkit.engine.pipeline.vad import mean_square

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _audio(left: np.ndarray, right: np.ndarray) -> DecodedAudio:
    n = min(len(left), len(right))
    return DecodedAudio(np.stack([left[:n], right[:n]]).astype(np.float32), SAMPLE_RATE, 2)


def _legs(realdata: Path, call: int) -> tuple[np.ndarray, np.ndarray]:
    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_{call}_UTC_{leg}.wav").samples[0] for leg in ("agent", "caller")
    )
    return agent, caller


@pytest.mark.parametrize(
    "call", [c["stereo"] for c in json.loads((SAMPLES / "index.json").read_text())["calls"]]
)
def test_a_sample_call_has_no_silent_channel_and_its_mix_is_diarized(call: str) -> None:
    audio = decode_audio(SAMPLES / call)
    assert silent_by_level(audio.samples) is None
    assert silent_by_level(audio.samples, absolute=False) is None
    assert np.array_equal(_single_signal(audio), audio.mono())


@pytest.mark.parametrize("call", [40, 49])
def test_recorded_legs_and_legs_made_silent(realdata: Path, call: int) -> None:
    agent, caller = _legs(realdata, call)
    rng = np.random.default_rng(call)
    both = _audio(agent, caller)
    assert silent_by_level(both.samples) is None and silent_by_level(both.samples, absolute=False) is None
    assert np.array_equal(_single_signal(both), both.mono())
    for name, leg in {
        "zeros": np.zeros_like(caller),
        "line noise -70 dBFS": 10 ** (-70 / 20) * rng.standard_normal(len(caller)),
        "caller 50 dB down": caller * np.float32(10 ** (-50 / 20)),
    }.items():
        for live in (0, 1):
            audio = _audio(agent, leg) if live == 0 else _audio(leg, agent)
            assert silent_by_level(audio.samples) == 1 - live, name
            assert silent_by_level(audio.samples, absolute=False) == 1 - live, name
            assert np.array_equal(_single_signal(audio), audio.samples[live]), name  # the live leg alone


def test_two_parties_recorded_low_are_both_diarized(realdata: Path) -> None:
    """Both legs 50 dB down (under -60 dBFS): by the absolute half the quieter counts as silent (the
    stereo path then asks whether it holds a party), but the mono path mixes both: they are 2 parties
    within 40 dB of each other, not one party and silence."""
    agent, caller = _legs(realdata, 40)
    gain = np.float32(10 ** (-50 / 20))
    audio = _audio(agent * gain, caller * gain)
    assert max(channel_levels(audio.samples)) < 1e-3  # both under -60 dBFS
    assert silent_by_level(audio.samples) is not None
    assert silent_by_level(audio.samples, absolute=False) is None
    assert np.array_equal(_single_signal(audio), audio.mono())


def test_a_leg_30_db_down_is_not_silent(realdata: Path) -> None:
    agent, caller = _legs(realdata, 49)
    audio = _audio(agent, caller * np.float32(10 ** (-30 / 20)))
    levels = channel_levels(audio.samples)
    assert 0.01 < levels[1] / levels[0] < 0.1
    assert silent_by_level(audio.samples, absolute=False) is None


def test_mean_square_is_the_float64_mean_of_squares() -> None:
    x = np.random.default_rng(0).standard_normal(1_000_003).astype(np.float32) * np.float32(0.1)
    assert mean_square(x) == pytest.approx(float(np.mean(np.square(x, dtype=np.float64))), rel=1e-12)
    assert mean_square(np.zeros(0, dtype=np.float32)) == 0.0


def test_line_noise_under_minus_60_dbfs_beside_a_talking_leg_is_silent_beside_it(realdata: Path) -> None:
    """X8's rule gap: a leg of line noise under -60 dBFS but within 40 dB of the talking leg is silent by
    the absolute half only. Beside a leg at a usable level it is the silent channel; two legs recorded low
    (two parties, or one signal twice) are not one party and silence."""
    agent, caller = (leg[: 60 * SAMPLE_RATE] for leg in _legs(realdata, 49))  # the agent at -22 dBFS
    level = 20 * np.log10(channel_levels(agent[None, :])[0])
    rng = np.random.default_rng(5)
    noise = (10 ** ((level - 39) / 20) * rng.standard_normal(len(agent))).astype(np.float32)
    for live in (0, 1):
        audio = _audio(agent, noise) if live == 0 else _audio(noise, agent)
        levels = channel_levels(audio.samples)
        assert levels[1 - live] < 1e-3 and levels[1 - live] > 0.01 * levels[live]  # the gap
        assert silent_by_level(audio.samples, absolute=False) is None
        assert silent_beside_voice(audio.samples) == 1 - live
    assert silent_beside_voice(_audio(agent, np.zeros_like(agent)).samples) == 1
    gain = np.float32(10 ** (-50 / 20))
    # two parties recorded low, and one signal twice recorded low
    assert silent_beside_voice(_audio(agent * gain, caller * gain).samples) is None
    assert silent_beside_voice(_audio(agent * gain, agent * gain * np.float32(0.5)).samples) is None
    assert silent_beside_voice(_audio(agent, caller).samples) is None
