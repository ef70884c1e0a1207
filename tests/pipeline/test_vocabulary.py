"""A vocabulary prompt is kept only in the windows where it made Whisper hear a term
(hearkit.engine.pipeline.vocabulary). Truth: the generating scripts of the sample calls (their
words and planted competitor mentions, sample_data/*.truth.json)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.asr import Chunk, RecognizedWord
from hearkit.engine.pipeline.decode import SAMPLE_RATE, decode_audio
from hearkit.engine.pipeline.vocabulary import _by_window, _reads_back_prompt, prompt_terms, term_hits
from hearkit.schema import JobCreateParams
from hearkit.trackers import DEFAULT_COMPETITORS

from .conftest import write_wav

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
TERMS = prompt_terms(list(DEFAULT_COMPETITORS))


def _words(text: str, start: float = 0.0, channel: int = 0) -> list[RecognizedWord]:
    return [
        RecognizedWord(t, start + 0.4 * i, start + 0.4 * i + 0.3, 0.9, channel)
        for i, t in enumerate(text.split())
    ]


def test_terms_are_found_however_the_asr_spaced_them() -> None:
    hits = term_hits(_words("we tried sales loft and Revenue.io then gong, later Gong."), TERMS)
    assert hits == {("salesloft",): 1, ("revenue", "io"): 1, ("gong",): 2}
    assert term_hits(_words("how long was the course"), TERMS) == {}
    assert prompt_terms(["Acme", " ", "acme", "Sales Loft"]) == [("acme",), ("sales", "loft")]


def test_a_term_written_at_almost_no_probability_is_not_heard() -> None:
    """Call 05's prompted decode wrote "Chorus," (never said) at probability 0.002; real names 0.04+."""
    invented = _words("set up. Chorus, Outfit, AirCalls.")
    invented[2] = RecognizedWord("Chorus,", invented[2].start, invented[2].end, 0.002)
    assert term_hits(invented, TERMS) == {}
    heard = _words("convinced Gong offered")
    heard[1] = RecognizedWord("Gong", heard[1].start, heard[1].end, 0.042)
    assert term_hits(heard, TERMS) == {("gong",): 1}
    split = _words("sales loft")
    split[1] = RecognizedWord("loft", split[1].start, split[1].end, 0.005)
    assert term_hits(split, TERMS) == {}  # every word of the occurrence must be heard


def test_the_prompt_read_back_is_told_from_names_in_a_sentence() -> None:
    assert _reads_back_prompt(_words("set up. Chorus, Gong, Salesloft."), TERMS)
    assert not _reads_back_prompt(_words("competitor names like Gong or Chorus"), TERMS)
    assert not _reads_back_prompt(_words("Gong said Gong"), TERMS)


def test_words_go_to_the_window_of_their_channel_and_piece() -> None:
    sr = SAMPLE_RATE
    chunks = [
        Chunk(((0, 10 * sr), (0, 8 * sr)), channels=(0, 1)),
        Chunk(((12 * sr, 20 * sr), (9 * sr, 20 * sr)), channels=(0, 1)),
    ]
    words = [
        *_words("a b", 1.0, 0),  # channel 0, inside the first window's piece
        *_words("c", 8.1, 1),  # channel 1, 0.25 s after the first window's piece, 0.75 s before the second's
        *_words("d", 13.0, 0),  # channel 0, inside the second window's piece
        *_words("e", 10.2, 0),  # channel 0, in the gap, nearer the first window's piece
        *_words("f", 11.4, 0),  # channel 0, in the gap, nearer the second window's piece
    ]
    split = _by_window(words, chunks)
    assert [w.text for w in split[0]] == ["a", "b", "c", "e"]
    assert [w.text for w in split[1]] == ["d", "f"]


def _excerpt(tmp_path: Path, call: str, first_s: float, last_s: float) -> Path:
    audio = decode_audio(SAMPLES / f"{call}.stereo.ogg")
    part = audio.samples[:, int(first_s * SAMPLE_RATE) : int(last_s * SAMPLE_RATE)]
    return write_wav(tmp_path / f"{call}_{first_s:.0f}.wav", np.ascontiguousarray(part.T))


@pytest.mark.asr
def test_a_call_that_names_no_term_keeps_its_plain_transcript(
    tmp_path: Path, transcriber: WhisperTranscriber
) -> None:
    """U5 finding 16: on a call naming no competitor the prompt lost whole sentences. The support
    call's script names none (its truth plants no competitor), so the vocabulary changes nothing."""
    truth = json.loads((SAMPLES / "call_04_support.truth.json").read_text())
    assert not [p for p in truth["planted"] if p["tracker"] == "competitors"]
    path = _excerpt(tmp_path, "call_04_support", 0.0, 45.0)
    plain = transcriber.transcribe(path, JobCreateParams(channel=True))
    prompted = transcriber.transcribe(
        path, JobCreateParams(channel=True, vocabulary=list(DEFAULT_COMPETITORS))
    )
    assert [(w.word, w.start, w.channel) for w in prompted.words or []] == [
        (w.word, w.start, w.channel) for w in plain.words or []
    ]
    assert prompted.quality is not None and prompted.quality.vocabulary_windows == 0
    assert plain.quality is not None and plain.quality.vocabulary_windows is None


@pytest.mark.asr
def test_a_name_the_plain_decode_mishears_is_heard_with_the_vocabulary(
    tmp_path: Path, transcriber: WhisperTranscriber
) -> None:
    """The overtalk call's customer says "Gong" at 102 s (tiny.en alone writes another word)."""
    truth = json.loads((SAMPLES / "call_06_overtalk.truth.json").read_text())
    gong = next(p for p in truth["planted"] if p["phrase"] == "Gong")
    first = gong["start"] - 12.0
    path = _excerpt(tmp_path, "call_06_overtalk", first, gong["end"] + 12.0)
    result = transcriber.transcribe(path, JobCreateParams(channel=True, vocabulary=list(DEFAULT_COMPETITORS)))
    near = [
        w
        for w in result.words or []
        if "gong" in w.word.lower() and gong["start"] - 0.5 <= w.start + first <= gong["end"] + 0.5
    ]
    assert len(near) == 1, [(w.word, w.start + first) for w in result.words or []]
    assert result.quality is not None and result.quality.vocabulary_windows == 1
