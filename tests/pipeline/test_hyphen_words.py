"""Whisper's word pieces: a hyphenated word arrives as two words, the second without the leading
space that starts a new word (as faster-whisper returned "follow", "-up" for the sample calls'
"follow-up", stored in sample_data/call_02_demo.result.json before this join)."""

from __future__ import annotations

from types import SimpleNamespace

from hearkit.engine.pipeline.asr import _words_of


def _segment(*pieces: tuple[str, float, float, float]) -> SimpleNamespace:
    words = [SimpleNamespace(word=w, start=s, end=e, probability=p) for w, s, e, p in pieces]
    return SimpleNamespace(words=words)


def test_a_hyphen_or_dot_piece_joins_the_word_before_it() -> None:
    segments = [
        _segment(
            (" a", 0.5, 0.7, 0.9),
            (" follow", 0.7, 1.0, 0.8),
            ("-up", 1.0, 1.2, 0.6),
            (" call", 1.2, 1.5, 0.95),
            (" -", 1.6, 1.7, 0.5),  # a dash said as a word keeps its space: not joined
        ),
        _segment(("-year", 2.0, 2.3, 0.7)),  # first word of a segment: nothing to join to
        _segment((" 8", 3.0, 3.2, 0.9), (" a", 3.2, 3.3, 0.9), (".m.", 3.3, 3.6, 0.8)),
    ]
    words = _words_of(segments, offset_s=0.5, channel=1)
    assert [w.text for w in words] == ["a", "follow-up", "call", "-", "-year", "8", "a.m."]
    joined = words[1]
    assert (joined.start, joined.end, joined.probability, joined.channel) == (0.2, 0.7, 0.6, 1)
