"""A long call's memory: the whole-call statistics of the stereo path hold a few megabytes beside the
call's samples, not copies of it. A 1-hour stereo call (0.46 GB of float32 samples) peaked at 2.55 GB:
float64 copies of the whole call for its channel levels (2x the samples), its channel correlation (1.2x),
the echo analysis' frame levels (4x) and resampling (1.5x). Measured here with tracemalloc, which sees
numpy's allocations; the bounds are shares of the call's own samples, so a copy of it fails them."""

from __future__ import annotations

import os
import sys
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber, asr, transcriber
from hearkit.engine.pipeline.asr import PIECE_GAP_S, Chunk, _PackedTimeline
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


def _packed_by_hand(signals: list[np.ndarray], chunks: list[Chunk]) -> np.ndarray:
    """Every chunk's pieces one after the other with PIECE_GAP_S of silence between a chunk's pieces."""
    gap = np.zeros(int(PIECE_GAP_S * SAMPLE_RATE), dtype=np.float32)
    parts = []
    for chunk in chunks:
        for i, (start, end) in enumerate(chunk.pieces):
            parts += ([gap] if i else []) + [signals[chunk.channel_of(i)][start:end]]
    return np.concatenate(parts)


def test_the_packed_audio_of_some_windows_is_the_whole_packing_there_and_silence_elsewhere(
    long_call: np.ndarray,
) -> None:
    signals = [long_call[0], long_call[1]]
    second = SAMPLE_RATE
    chunks = [
        Chunk(((0, 10 * second), (12 * second, 29 * second)), 0),
        Chunk(((5 * second, 20 * second), (40 * second, 50 * second)), 0, (1, 0)),
        Chunk(((100 * second, 129 * second),), 1),
    ]
    whole = _packed_by_hand(signals, chunks)
    timeline = _PackedTimeline(signals, chunks)
    assert timeline.length == len(whole)
    some = timeline.audio_of([0, 2])
    for index, (a, b) in enumerate(timeline.clips):
        assert np.array_equal(timeline.clip_audio(index), whole[a:b])
        assert np.array_equal(some[a:b], whole[a:b] if index != 1 else np.zeros(b - a, dtype=np.float32))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm")
def test_the_packed_audio_of_a_few_windows_holds_only_their_memory(long_call: np.ndarray) -> None:
    """A 20-minute call's speech in 40 windows; the audio of 2 of them is laid out on the whole
    timeline: the memory it takes is about theirs (2 MB), not the timeline's (77 MB)."""
    signals = [long_call[0], long_call[1]]
    window = 29 * SAMPLE_RATE
    chunks = [Chunk(((k * window, (k + 1) * window),), 0) for k in range(40)]
    timeline = _PackedTimeline(signals, chunks)
    page = os.sysconf("SC_PAGE_SIZE")

    def resident() -> int:
        with open("/proc/self/statm") as statm:
            return int(statm.read().split()[1]) * page

    before = resident()
    audio = timeline.audio_of([3, 4])
    grown = resident() - before
    assert audio.nbytes > 70e6
    assert grown < 0.2 * audio.nbytes
