"""Spoken numbers to digits, aligned back to the recognised words."""

from __future__ import annotations

from hearkit.engine.pipeline.assemble import LabeledWord, build_result
from hearkit.engine.pipeline.numerals import numeral_spans


def test_multi_word_numbers_become_one_token_spanning_their_words() -> None:
    words = ["It", "costs", "two", "hundred", "and", "fifty", "dollars,", "okay?"]
    assert numeral_spans(words) == [
        ("It", 0, 1),
        ("costs", 1, 2),
        ("250", 2, 6),
        ("dollars,", 6, 7),
        ("okay?", 7, 8),
    ]


def test_sentences_without_numbers_are_unchanged() -> None:
    words = ["Hello", "there,", "how", "are", "you?"]
    assert [token for token, _, _ in numeral_spans(words)] == words


def test_result_text_and_words_agree_and_times_span_the_number() -> None:
    spoken = ["We", "have", "twenty", "one", "seats."]
    words = [LabeledWord(w, i * 0.5, i * 0.5 + 0.4) for i, w in enumerate(spoken)]
    result = build_result(words, audio_seconds=3.0, numerals=True, labelled=False)
    assert result.text == "We have 21 seats."
    number = result.words[2]
    assert (number.word, number.start, number.end) == ("21", 1.0, 1.9)
    plain = build_result(words, audio_seconds=3.0, numerals=False, labelled=False)
    assert plain.text == "We have twenty one seats."
