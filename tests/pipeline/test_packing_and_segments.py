"""Packing speech into Whisper windows, mapping words back, and segment edges under diarization."""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.asr import PIECE_GAP_S, Chunk, get_model, transcribe_chunks
from hearkit.engine.pipeline.assemble import LabeledWord, build_result
from hearkit.engine.pipeline.channels import MAX_CHUNK_S, plan_chunks
from hearkit.engine.pipeline.decode import SAMPLE_RATE, decode_audio
from hearkit.engine.pipeline.diarize import Turn, speaker_at
from hearkit.engine.pipeline.vad import bridge_gaps, energy_activity, trim_to_activity
from hearkit.schema import Result
from tests.pipeline.conftest import espeak

SR = SAMPLE_RATE


def test_short_pauses_are_bridged_long_ones_kept() -> None:
    regions = [(0, SR), (SR + SR // 4, 2 * SR), (4 * SR, 5 * SR)]  # pauses of 0.25 s and 2 s
    assert bridge_gaps(regions, 0.6) == [(0, 2 * SR), (4 * SR, 5 * SR)]
    assert bridge_gaps(regions, 0.1) == regions
    assert bridge_gaps([], 0.6) == []


def test_windows_count_the_silence_laid_between_pieces() -> None:
    # 40 regions of 2 s, 1 s apart: 80 s of speech.
    regions = [(k * 3 * SR, k * 3 * SR + 2 * SR) for k in range(40)]
    chunks = plan_chunks(regions)
    assert [piece for chunk in chunks for piece in chunk.pieces] == regions
    gap = int(PIECE_GAP_S * SR)
    for chunk in chunks:
        expected = sum(end - start for start, end in chunk.pieces) + gap * (len(chunk.pieces) - 1)
        assert chunk.samples == expected <= MAX_CHUNK_S * SR
    # Full windows: adding the next piece would have gone over the limit.
    for chunk in chunks[:-1]:
        assert chunk.samples + gap + 2 * SR > MAX_CHUNK_S * SR


@pytest.fixture(scope="module")
def two_phrases(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, list[tuple[float, float]]]:
    """One channel: a phrase at 1 s and another at 20 s, silence elsewhere; their true spans."""
    folder = tmp_path_factory.mktemp("phrases")
    first = decode_audio(espeak(folder / "a.wav", "Please send the contract today.")).samples[0]
    second = decode_audio(espeak(folder / "b.wav", "Our budget is fixed until March.")).samples[0]
    signal = np.zeros(30 * SR, dtype=np.float32)
    spans = []
    for at, phrase in ((1.0, first), (20.0, second)):
        start = int(at * SR)
        signal[start : start + len(phrase)] = phrase
        spans.append((at, at + len(phrase) / SR))
    return signal, spans


def test_words_of_packed_pieces_land_back_on_their_own_times(
    two_phrases: tuple[np.ndarray, list[tuple[float, float]]],
) -> None:
    signal, spans = two_phrases
    pieces = tuple((int((a - 0.2) * SR), int((b + 0.2) * SR)) for a, b in spans)
    words = transcribe_chunks(get_model(), [signal], [Chunk(pieces, 0)])
    texts = " ".join(w.text.lower().strip(".,") for w in words)
    assert "contract" in texts and "budget" in texts
    for word in words:
        phrase = 0 if word.text.lower().strip(".,") in "please send the contract today" else 1
        start, end = spans[phrase]
        assert start - 0.3 <= word.start <= word.end <= end + 0.3, (word, spans[phrase])


def test_a_word_without_duration_belongs_to_the_turn_it_is_in() -> None:
    turns = [Turn(0.0, 2.0, "speaker_0"), Turn(2.0, 9.0, "speaker_1"), Turn(9.0, 10.0, "speaker_0")]
    # 2.4 s is inside speaker_1's turn, nearer to the 2.0 boundary than to anything else.
    assert speaker_at(turns, 2.4, 2.4) == "speaker_1"
    assert speaker_at(turns, 8.9, 8.9) == "speaker_1"
    assert speaker_at(turns, 1.0, 2.5) == "speaker_0"  # overlaps speaker_0 more
    assert speaker_at(turns, 12.0, 12.0) == "speaker_0"  # after every turn: the nearest
    assert speaker_at([], 1.0, 1.0) == "speaker_0"


def word(text: str, start: float, end: float, speaker: str) -> LabeledWord:
    return LabeledWord(text, start, end, speaker)


def test_segments_widen_to_their_speech_turns() -> None:
    words = [
        word("Hello", 1.30, 1.30, "speaker_0"),  # no duration, late
        word("there", 1.30, 1.70, "speaker_0"),
        word("Hi", 3.00, 3.20, "speaker_1"),
        word("again", 3.20, 3.50, "speaker_1"),
    ]
    turns = [
        Turn(1.00, 1.90, "speaker_0"),
        Turn(1.95, 2.40, "speaker_0"),  # a word-less bit of the same speaker 50 ms later
        Turn(2.90, 3.80, "speaker_1"),
    ]
    result = build_result(words, audio_seconds=4.0, numerals=False, labelled=True, turns=turns)
    spans = [(s.speaker, s.start, s.end) for s in result.segments]
    assert spans == [("speaker_0", 1.00, 2.40), ("speaker_1", 2.90, 3.80)]
    # Word times are the recogniser's.
    assert [(w.start, w.end) for w in result.words] == [(w.start, w.end) for w in words]
    # Without turns (stereo, plain): segments are word-bounded.
    plain = build_result(words, audio_seconds=4.0, numerals=False, labelled=True)
    assert [(s.start, s.end) for s in plain.segments] == [(1.30, 1.70), (3.00, 3.50)]


def test_widening_never_runs_into_the_same_speakers_next_segment() -> None:
    # Two segments of one speaker split by a 1.2 s pause; the turns 0.8 s apart chain into one.
    words = [word("One", 1.0, 1.5, "speaker_0"), word("two", 2.7, 3.0, "speaker_0")]
    turns = [Turn(0.5, 1.5, "speaker_0"), Turn(2.3, 3.5, "speaker_0")]
    result = build_result(words, audio_seconds=4.0, numerals=False, labelled=True, turns=turns)
    spans = [(s.start, s.end) for s in result.segments]
    # The second segment keeps its start (widening to 0.5 would run into the first one) and
    # the word-less 2.3-2.7 s of its turn joins it from the front.
    assert spans == [(0.5, 1.5), (2.3, 3.5)]


def test_speech_turns_without_words_are_segments_of_their_speaker() -> None:
    # A backchannel the recogniser gave no word: speaker_1's 2.0-2.4 s turn.
    words = [word("So", 1.0, 1.2, "speaker_0"), word("yes", 1.3, 1.9, "speaker_0")]
    turns = [Turn(1.0, 1.9, "speaker_0"), Turn(2.0, 2.4, "speaker_1"), Turn(2.6, 2.7, "speaker_1")]
    result = build_result(words, audio_seconds=4.0, numerals=False, labelled=True, turns=turns)
    spans = [(s.speaker, s.start, s.end, s.text) for s in result.segments]
    # The 0.1 s blip is under MIN_WORDLESS_S and stays out.
    assert spans == [("speaker_0", 1.0, 1.9, "So yes"), ("speaker_1", 2.0, 2.4, "")]
    assert result.speakers == 2
    assert result.text == "[speaker_0] So yes"


def test_result_of_real_call_keeps_segments_ordered_and_inside_the_audio(
    realdata: Path, diarized_phone_call: Result
) -> None:
    """The widened segments of a real diarized call stay inside the file and in time order."""
    audio = decode_audio(realdata / "pyannote_sample" / "sample.wav")
    result = diarized_phone_call
    starts = [s.start for s in result.segments]
    assert starts == sorted(starts)
    for segment in result.segments:
        assert 0.0 <= segment.start <= segment.end <= audio.duration
    by_speaker: dict[str, list[tuple[float, float]]] = {}
    for segment in result.segments:
        by_speaker.setdefault(str(segment.speaker), []).append((segment.start, segment.end))
    for spans in by_speaker.values():
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert end <= start  # one speaker's segments never overlap each other


def test_word_edges_are_trimmed_to_where_the_voice_is() -> None:
    # 1 s of silence, 0.5 s of tone, 1 s of silence: the tone is the "voice".
    signal = np.zeros(int(2.5 * SR), dtype=np.float32)
    t = np.arange(SR // 2) / SR
    signal[SR : SR + SR // 2] = 0.3 * np.sin(2 * np.pi * 220 * t).astype(np.float32)
    active = energy_activity(signal)
    start, end = trim_to_activity(0.8, 1.9, active)  # a word stretched over the padding
    assert start == pytest.approx(1.0, abs=0.02) and end == pytest.approx(1.5, abs=0.02)
    # A word with no voice inside keeps its times; a word inside the voice is untouched.
    assert trim_to_activity(2.0, 2.3, active) == (2.0, 2.3)
    assert trim_to_activity(1.1, 1.3, active) == (1.1, 1.3)
