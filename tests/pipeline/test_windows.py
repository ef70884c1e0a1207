"""Packing speech into few, full Whisper windows, and the repetition guard's loop finder."""

from __future__ import annotations

import math
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.asr import PIECE_GAP_S, RecognizedWord, _without_loops, repetition_loops
from hearkit.engine.pipeline.channels import (
    MAX_CHUNK_S,
    plan_full_windows,
    plan_windows,
    trim_margins,
    window_floor,
)
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


def _rising(count: int, length_s: int) -> tuple[list[tuple[int, int]], np.ndarray]:
    """``count`` pieces of ``length_s`` seconds, 1 s apart, whose level rises through each piece:
    the quietest 100 ms of a cut search is its first, so a cut leaves the whole search empty."""
    pieces = [(k * (length_s + 1) * SR, k * (length_s + 1) * SR + length_s * SR) for k in range(count)]
    signal = np.zeros(count * (length_s + 1) * SR, dtype=np.float32)
    for start, end in pieces:
        signal[start:end] = np.linspace(0.05, 0.5, end - start)
    return pieces, signal


def test_a_file_still_over_15_percent_above_its_floor_is_cut_nearer_the_end_of_the_room() -> None:
    # 13 pieces of 13 s: 171.4 s packed, a floor of 6; the 3, 2 and 1.5 s cut searches leave
    # 7 windows (+17 %), the 1 s search 6.
    pieces, signal = _rising(13, 13)
    assert window_floor(plan_windows([pieces], [signal])) == math.ceil((13 * 13 + 12 * PIECE_GAP_S) / 30) == 6
    assert len(plan_full_windows([pieces], [signal], wide_cut=False)) == 7
    full = plan_full_windows([pieces], [signal])
    assert len(full) == 6
    assert all(chunk.samples <= MAX_CHUNK_S * SR for chunk in full)
    assert _merged([p for chunk in full for p in chunk.pieces]) == pieces
    # 26 pieces of 13 s: 13 windows for a floor of 12 (+8 %), within the bound: left as it is,
    # though the 1 s search would reach 12.
    pieces, signal = _rising(26, 13)
    kept = plan_full_windows([pieces], [signal])
    assert (len(kept), window_floor(kept)) == (13, 12)
    assert len(plan_windows([pieces], [signal], cut_search_s=1.0, min_fill_s=1.0)) == 12


def test_trimming_margins_takes_only_silence_off_a_pieces_ends() -> None:
    rng = np.random.default_rng(3)
    signal = (rng.normal(0, 1e-4, 10 * SR)).astype(np.float32)  # a quiet line
    signal[2 * SR : 4 * SR] += rng.normal(0, 0.1, 2 * SR).astype(np.float32)  # voice 2-4 s
    signal[6 * SR : 8 * SR] += rng.normal(0, 0.1, 2 * SR).astype(np.float32)  # voice 6-8 s
    pieces = [
        [
            (int(1.8 * SR), int(4.2 * SR)),  # the detectors' 0.2 s margins: 0.1 s comes off each end
            (int(5.95 * SR), int(8.05 * SR)),  # 50 ms margins: nothing comes off
        ]
    ]
    trimmed = trim_margins(pieces, [signal])
    assert trimmed == [[(int(1.9 * SR), int(4.1 * SR)), (int(5.95 * SR), int(8.05 * SR))]]
    # A piece without voice is left as it is.
    assert trim_margins([[(0, SR)]], [signal]) == [[(0, SR)]]


def _speech_floor(speech_s: float) -> int:
    """The fewest 30 s windows ``speech_s`` seconds of speech could fill (issue 17's floor)."""
    return math.ceil(speech_s / 30.0)


def _union_seconds(spans: list[tuple[float, float]]) -> float:
    total, reach = 0.0, float("-inf")
    for start, end in sorted(spans):
        total += max(0.0, end - max(start, reach))
        reach = max(reach, end)
    return total


_SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"

_OVER_THE_SCRIPT_FLOOR = pytest.mark.xfail(
    strict=True,
    reason="issue 17 not met: 6 windows for the 5 the script's speech fills (+20 %); the pieces the path "
    "decodes (speech regions with the detectors' margins, 0.2 s between pieces) fill 150-163 s (147-159 s "
    "with the margins trimmed), as much as or more than 5 windows of 29.5 s hold (docs/pipeline.md)",
)


@pytest.mark.parametrize(
    "call",
    [
        pytest.param("call_01_discovery", marks=_OVER_THE_SCRIPT_FLOOR),
        pytest.param("call_02_demo", marks=_OVER_THE_SCRIPT_FLOOR),
        pytest.param("call_03_pricing", marks=_OVER_THE_SCRIPT_FLOOR),
        "call_04_support",
        pytest.param("call_05_renewal", marks=_OVER_THE_SCRIPT_FLOOR),
        "call_06_overtalk",
        "call_07_monologue",
    ],
)
def test_windows_are_within_15_percent_of_the_floor_of_the_scripts_speech(call: str) -> None:
    """Issue 17's target on the sample calls (2.5-3.2 min), the floor taken from the generating
    script: ``ceil(speech seconds / 30)``, speech seconds = each channel's union of its turns.
    call_04 (7 windows for 6 before its pieces' silent margins were trimmed) is the one the
    packing steps for files over 15 % bring in."""
    import json

    from hearkit.engine.pipeline import WhisperTranscriber
    from hearkit.engine.pipeline.decode import decode_audio

    truth = json.loads((_SAMPLES / f"{call}.truth.json").read_text())
    speech_s = sum(
        _union_seconds([(t["start"], t["end"]) for t in truth["turns"] if t["channel"] == channel])
        for channel in (0, 1)
    )
    audio = decode_audio(_SAMPLES / f"{call}.stereo.ogg")
    assert audio.duration >= 120
    floor = _speech_floor(speech_s)
    windows = len(WhisperTranscriber().plan_stereo(audio))
    assert windows <= 1.15 * floor, (windows, floor, round(speech_s, 1))


def test_windows_are_within_15_percent_of_the_floor_of_a_real_calls_annotated_speech(realdata: Path) -> None:
    """Issue 17's target on SpokenWOZ MUL1011 (a real stereo call, 183 s; 7 windows for a floor of 6
    before the 1 s cut search): the floor from its third-party annotation, the union of its turn
    spans (each from the agent's first word to the user's last, 168.4 s at 8 kHz)."""
    import csv

    from hearkit.engine.pipeline import WhisperTranscriber
    from hearkit.engine.pipeline.decode import decode_audio

    woz = realdata / "spokenwoz_speechbrain"
    with (woz / "dialogue_state_tracking_sample_spokenwoz.csv").open() as rows:
        speech_s = _union_seconds(
            [(int(r["start"]) / 8000, int(r["end"]) / 8000) for r in csv.DictReader(rows)]
        )
    floor = _speech_floor(speech_s)
    assert floor == 6
    audio = decode_audio(woz / "MUL1011.opus")
    assert audio.duration >= 120
    transcriber = WhisperTranscriber()
    windows = len(transcriber.plan_stereo(audio))
    assert windows <= 1.15 * floor, (windows, floor)
    before = replace(transcriber, pack_wide_cut=False, pack_trimmed=False)
    assert len(before.plan_stereo(audio)) > 1.15 * floor  # the way before


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
