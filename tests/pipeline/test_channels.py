"""The stereo path's channel checks: correlation measured once, really-mono detection."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from hearkit.engine.pipeline.channels import channel_correlation, is_really_mono, lagged_similarity
from hearkit.engine.pipeline.decode import decode_audio


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


def test_the_same_call_on_both_channels_is_caught_shifted_inverted_or_scaled(realdata: Path) -> None:
    """U3 finding 19: pyannote's two-person call written on both channels with a 1-sample offset, a
    0.8 ms offset at 0.9 gain, or inverted, went down the stereo path as two parties: every word
    counted twice, overtalk 66 % of the call, trust high. Zero-lag correlation read 0.96, -0.36, -1.0."""
    x = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0]
    late = int(0.0008 * 16000)
    variants = {
        "1 sample": np.stack([x, np.concatenate([[0.0], x[:-1]]).astype(np.float32)]),
        "0.8 ms": np.stack([x, 0.9 * np.concatenate([np.zeros(late), x[:-late]]).astype(np.float32)]),
        "inverted": np.stack([x, -x]),
        "halved": np.stack([x, 0.5 * x]),
    }
    for name, samples in variants.items():
        assert is_really_mono(samples.astype(np.float32), channel_correlation(samples)), name


def test_real_two_party_stereo_is_not_taken_for_one_signal_even_with_echo(realdata: Path) -> None:
    """The AWS contact-centre calls' agent and caller legs (separately recorded parties), as they
    are and with the agent's echo on the caller channel at -6 dB (far louder than a phone line's)."""
    legs = realdata / "aws_lca_calls"
    for call in ("40", "49"):
        agent = decode_audio(legs / f"Auto_Repairs_{call}_UTC_agent.wav").samples[0]
        caller = decode_audio(legs / f"Auto_Repairs_{call}_UTC_caller.wav").samples[0]
        n = min(len(agent), len(caller))
        for gain in (0.0, 0.5):
            samples = np.stack([agent[:n], caller[:n] + gain * agent[:n]]).astype(np.float32)
            assert not is_really_mono(samples, channel_correlation(samples)), (call, gain)
            similarity = lagged_similarity(samples)
            assert similarity is not None and similarity < 0.7, (call, gain, similarity)


def _through_mp3(samples: np.ndarray, kbps: int, folder: Path) -> np.ndarray:
    """``samples`` (16 kHz mono) encoded as MP3 at ``kbps`` kbit/s by PyAV's LAME and decoded back."""
    import av

    path = folder / f"copy{kbps}.mp3"
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libmp3lame", rate=16000)
        stream.bit_rate = kbps * 1000
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples[None, :].astype(np.float32), format="flt", layout="mono")
        frame.sample_rate = 16000
        resampler = av.AudioResampler(format=stream.format.name, layout="mono", rate=16000)
        for piece in [*resampler.resample(frame), *resampler.resample(None)]:
            out.mux(stream.encode(piece))
        out.mux(stream.encode(None))
    decoded = decode_audio(path).samples[0]
    return decoded[: len(samples)]


def test_the_other_partys_echo_over_a_near_silent_party_is_not_one_signal(tmp_path: Path) -> None:
    # Sample call 07 (scripts/make_sample_calls.py: the rep's monologue, the customer 1.8 % of the
    # talk, each party in its own stream), 60-100 s, the rep's echo at -10 dB on the customer's
    # channel: lagged similarity 0.90, which read as one signal, and the rep alone was diarized
    # into two speakers (rep share 0.855 against 0.982).
    both = decode_audio(
        Path(__file__).resolve().parents[2] / "sample_data" / "call_07_monologue.stereo.ogg"
    ).samples
    rep, customer = both[0][60 * 16000 : 100 * 16000], both[1][60 * 16000 : 100 * 16000]
    echoed = np.stack([rep, customer + 0.3 * rep]).astype(np.float32)
    similarity = lagged_similarity(echoed)
    assert similarity is not None and similarity > 0.85  # close to one signal by this measure alone
    assert not is_really_mono(echoed)
    # one signal, one channel through a 16 kbit/s MP3 coder, is one signal however alike the
    # similarity reads (0.96 here, as the echo's at -6 dB)
    mixed = (rep + customer).astype(np.float32)
    coded = np.stack([mixed, _through_mp3(mixed, 16, tmp_path)]).astype(np.float32)
    assert is_really_mono(coded)
