"""The stereo path's channel checks: correlation measured once, really-mono detection."""

from __future__ import annotations

import numpy as np

from hearkit.engine.pipeline.channels import channel_correlation, is_really_mono


def _noise(seed: int, n: int = 16000 * 5) -> np.ndarray:
    return np.random.default_rng(seed).normal(0, 0.1, n).astype(np.float32)


def test_one_signal_twice_is_really_mono_and_two_signals_are_not() -> None:
    voice = _noise(1)
    same = np.stack([voice, 0.5 * voice])
    different = np.stack([voice, _noise(2)])
    corr_same = channel_correlation(same)
    corr_different = channel_correlation(different)
    assert corr_same is not None and corr_same > 0.999
    assert corr_different is not None and abs(corr_different) < 0.05
    assert is_really_mono(same)
    assert not is_really_mono(different)


def test_a_correlation_the_caller_already_has_is_used_not_measured_again() -> None:
    different = np.stack([_noise(3), _noise(4)])
    assert not is_really_mono(different)
    assert is_really_mono(different, correlation=0.99)
    assert not is_really_mono(different, correlation=0.5)


def test_a_constant_or_missing_channel_has_no_correlation() -> None:
    voice = _noise(5)
    assert channel_correlation(np.stack([voice, np.zeros_like(voice)])) is None
    assert channel_correlation(voice[None, :]) is None
    # one silent channel is really mono by its level, whatever the correlation
    assert is_really_mono(np.stack([voice, np.zeros_like(voice)]), correlation=None)
