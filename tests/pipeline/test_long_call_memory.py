"""A long call's memory: the whole-call statistics of the stereo path hold a few megabytes beside the
call's samples, not copies of it. A 1-hour stereo call (0.46 GB of float32 samples) peaked at 2.55 GB:
float64 copies of the whole call for its channel levels (2x the samples), its channel correlation (1.2x),
the echo analysis' frame levels (4x) and resampling (1.5x). Measured here with tracemalloc, which sees
numpy's allocations; the bounds are shares of the call's own samples, so a copy of it fails them."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber, asr, transcriber
from hearkit.engine.pipeline.channels import channel_correlation, is_really_mono, silent_by_level
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.echo import _bulk_delays, _narrow
from hearkit.engine.pipeline.transcriber import _quiet_party
from hearkit.schema import JobCreateParams

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


@pytest.fixture(scope="module")
def long_call() -> np.ndarray:
    """20 minutes of two unrelated channels (0.15 GB of float32): one sample call's legs laid end to end."""
    call = decode_audio(SAMPLES / "call_02_demo.stereo.ogg").samples
    repeats = -(-20 * 60 * SAMPLE_RATE // call.shape[1])
    return np.ascontiguousarray(np.tile(call, repeats)[:, : 20 * 60 * SAMPLE_RATE])


def _peak(function: Callable[..., Any], *args: Any) -> int:
    """Bytes allocated at most at once (as tracemalloc sees them) while ``function(*args)`` runs."""
    tracemalloc.start()
    try:
        function(*args)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_channel_levels_and_correlation_take_no_copy_of_the_call(long_call: np.ndarray) -> None:
    bound = 0.2 * long_call.nbytes
    assert _peak(silent_by_level, long_call) < bound
    assert _peak(channel_correlation, long_call) < bound
    assert _peak(is_really_mono, long_call) < bound
    assert (
        _peak(_quiet_party, DecodedAudio(long_call, SAMPLE_RATE, 2)) < 0.2 * long_call.nbytes + 64e6
    )  # + VAD


def test_the_echo_analysis_frame_levels_take_no_copy_of_the_call(long_call: np.ndarray) -> None:
    frames = long_call.shape[1] // 320
    assert _peak(_bulk_delays, long_call, frames) < 0.1 * long_call.nbytes


def test_the_echo_analysis_resamples_a_channel_at_a_time(long_call: np.ndarray) -> None:
    # its answer is half the call (2 channels at 8 kHz); one channel's float64 resampling another half
    narrow = _narrow(long_call)
    assert narrow.dtype == np.float32 and narrow.shape == (2, long_call.shape[1] // 2)
    assert _peak(_narrow, long_call) < 0.9 * long_call.nbytes


def test_a_long_calls_channels_are_heard_one_after_the_other_with_the_same_regions(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    audio = decode_audio(SAMPLES / "call_06_overtalk.stereo.ogg")
    parallel = WhisperTranscriber(cpu_threads=2, lanes=2)._stereo_regions(audio)
    monkeypatch.setattr(transcriber, "PARALLEL_VAD_MAX_S", 10.0)  # as if the call were long
    serial = WhisperTranscriber(cpu_threads=2, lanes=2)._stereo_regions(audio)
    assert serial[1] == parallel[1] and serial[2] == parallel[2]
    assert all(np.array_equal(a, b) for a, b in zip(serial[0], parallel[0], strict=True))


@pytest.mark.asr
def test_windows_handed_to_the_decoder_in_runs_give_the_same_words(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lane gives faster-whisper its windows a few batches at a time (not all of their features at
    once): the batches are the same, so are the words. Runs of one batch of 2 windows against all at once."""
    audio = decode_audio(SAMPLES / "call_04_support.stereo.ogg")
    options = JobCreateParams(channel=True)
    small = WhisperTranscriber(cpu_threads=2, lanes=1, batch_size=2)
    assert len(small.plan_stereo(audio)) >= 5  # several runs of 2
    monkeypatch.setattr(asr, "WINDOW_RUN_BATCHES", 1)
    in_runs = [(w.word, w.start, w.end, w.channel) for w in small.transcribe_audio(audio, options).words]
    monkeypatch.setattr(asr, "WINDOW_RUN_BATCHES", 1000)
    at_once = [(w.word, w.start, w.end, w.channel) for w in small.transcribe_audio(audio, options).words]
    assert len(at_once) > 200
    assert in_runs == at_once
