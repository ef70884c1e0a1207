"""Packing speech into few, full Whisper windows, and the repetition guard's loop finder."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.asr import PIECE_GAP_S, RecognizedWord, _without_loops, repetition_loops
from hearkit.engine.pipeline.channels import MAX_CHUNK_S, plan_full_windows, plan_windows, window_floor
from hearkit.engine.pipeline.decode import SAMPLE_RATE

SR = SAMPLE_RATE


def _merged(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    out: list[tuple[int, int]] = []
    for start, end in spans:
        if out and out[-1][1] == start:
            out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def test_windows_approach_the_floor_and_cover_every_piece_once() -> None:
    rng = np.random.default_rng(7)
    signals = [rng.normal(0, 0.1, 200 * SR).astype(np.float32) for _ in range(2)]
    # Channel 0: 9 pieces of 7 s; channel 1: 11 pieces of 5 s (each 9 s apart).
    pieces = [
        [(k * 9 * SR, k * 9 * SR + 7 * SR) for k in range(9)],
        [(k * 9 * SR + SR, k * 9 * SR + 6 * SR) for k in range(11)],
    ]
    chunks = plan_windows(pieces, signals)
    speech_s = 9 * 7 + 11 * 5  # 118 s, plus 0.2 s between pieces: 5 windows of 29.5 s at most
    assert len(chunks) == math.ceil((speech_s + 18 * PIECE_GAP_S) / MAX_CHUNK_S) == 5
    for chunk in chunks:
        assert chunk.samples <= MAX_CHUNK_S * SR
    for chunk in chunks[:-1]:  # full, but for the 3 s a cut may move back to find a quiet moment
        assert chunk.samples > (MAX_CHUNK_S - 3.0) * SR
        assert len(chunk.channels) == len(chunk.pieces)
    # Every sample of every piece is decoded exactly once, on its own channel.
    for channel in range(2):
        laid = [p for c in chunks for i, p in enumerate(c.pieces) if c.channel_of(i) == channel]
        assert _merged(laid) == pieces[channel]
    assert {c.channel_of(i) for c in chunks for i in range(len(c.pieces))} == {0, 1}


def test_a_piece_is_cut_at_its_quietest_moment_to_fill_a_window() -> None:
    signal = np.full(60 * SR, 0.2, dtype=np.float32)
    dip = int(27.0 * SR)
    signal[dip : dip + SR // 10] = 0.0  # 100 ms of silence at 27 s
    pieces = [[(0, 20 * SR), (20 * SR + SR // 2, 45 * SR)]]
    chunks = plan_windows(pieces, [signal])
    first = chunks[0].pieces
    assert first[0] == (0, 20 * SR)
    cut = first[1][1]
    assert dip <= cut <= dip + SR // 10
    assert chunks[1].pieces[0] == (cut, 45 * SR)
    gap = int(PIECE_GAP_S * SR)
    assert chunks[0].samples == 20 * SR + gap + cut - (20 * SR + SR // 2)


def test_no_cut_when_little_room_is_left() -> None:
    signal = np.full(80 * SR, 0.2, dtype=np.float32)
    pieces = [[(0, 28 * SR), (29 * SR, 50 * SR)]]
    chunks = plan_windows(pieces, [signal])
    assert [c.pieces for c in chunks] == [((0, 28 * SR),), ((29 * SR, 50 * SR),)]


def test_a_file_over_its_floor_is_packed_again_with_cuts_nearer_the_end_of_the_room() -> None:
    # 11 pieces of 20 s whose level rises through each piece: the quietest 100 ms of the last 3 s
    # before the room runs out is its start, so each default cut leaves ~3 s of a window empty.
    pieces = [(k * 21 * SR, k * 21 * SR + 20 * SR) for k in range(11)]
    signal = np.zeros(11 * 21 * SR, dtype=np.float32)
    for start, end in pieces:
        signal[start:end] = np.linspace(0.05, 0.5, end - start)
    packed_s = 11 * 20 + 10 * PIECE_GAP_S  # 222 s: 8 windows of 30 s at the least
    default = plan_windows([pieces], [signal])
    assert window_floor(default) == math.ceil(packed_s / 30) == 8
    assert len(default) == 9
    full = plan_full_windows([pieces], [signal])
    assert len(full) == window_floor(full) == 8
    assert all(chunk.samples <= MAX_CHUNK_S * SR for chunk in full)
    assert _merged([p for chunk in full for p in chunk.pieces]) == pieces
    # A file already at its floor keeps the default packing.
    at_floor = [pieces[:4]]
    assert len(plan_windows(at_floor, [signal])) == window_floor(plan_windows(at_floor, [signal])) == 3
    assert plan_full_windows(at_floor, [signal]) == plan_windows(at_floor, [signal])


def test_repetition_loops_are_found_and_natural_repeats_are_not() -> None:
    assert repetition_loops(["t", "t", "t", "t", "t", "t", "t", "t", "t"]) == [(0, 1, 9)]
    assert repetition_loops(["so", "i", "see", "i", "see", "i", "see", "i", "see", "okay"]) == [(1, 2, 4)]
    assert repetition_loops(["yeah", "yeah", "yeah", "no", "no", "no", "no"]) == []
    assert repetition_loops(["thank", "you", "thank", "you", "thank", "you"]) == []
    assert repetition_loops([]) == []


def test_a_loop_left_after_the_second_decode_is_cut_to_one_occurrence() -> None:
    texts = ["Hello", "T", "-T", "-T", "-T", "-T", "-T", "bye"]
    words = [RecognizedWord(t, i, i + 0.5, 0.9) for i, t in enumerate(texts)]
    kept, loops = _without_loops(words)
    assert [w.text for w in kept] == ["Hello", "T", "bye"]
    assert loops == 1


@pytest.mark.asr
def test_the_stereo_result_counts_windows_decoded_again_for_loops(realdata: Path) -> None:
    from hearkit.engine.pipeline import WhisperTranscriber
    from hearkit.engine.pipeline.decode import decode_audio
    from hearkit.schema import JobCreateParams

    audio = decode_audio(realdata / "faster_whisper" / "stereo_diarization.wav")
    result = WhisperTranscriber().transcribe_audio(audio, JobCreateParams(channel=True))
    assert result.quality is not None
    # Two clean read sentences: nothing loops, and the count says so (0, not "not measured").
    assert result.quality.repetition_redecoded == 0
    assert {w.channel for w in result.words} == {0, 1}
