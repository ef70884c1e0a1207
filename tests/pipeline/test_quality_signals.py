"""The quality block's voice-print and overlap measures, and the flags they raise, on made-up inputs
whose answer is known by construction (the thresholds themselves are set on the development
recordings by benchmarks/quality_signals.py)."""

from __future__ import annotations

import numpy as np
import pytest

from hearkit.engine.pipeline.diarize import Diarization, SpeakerCount
from hearkit.engine.pipeline.quality import (
    MIXED_VOICE_MIN,
    OVERLAP_MAX,
    VOICES_ALIKE,
    _signal_flags,
    mixed_voice,
    overlap_share,
    voice_similarity,
)
from hearkit.quality import TALK_RATIO_FLAGS, view_of
from hearkit.schema import Quality, Segment


def _voices(directions: list[np.ndarray], per_voice: int, noise: float, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    rows = []
    for direction in directions:
        block = direction + noise * rng.standard_normal((per_voice, direction.size))
        rows.append(block / np.linalg.norm(block, axis=1, keepdims=True))
    return np.concatenate(rows).astype(np.float32)


def _diarization(embeddings: np.ndarray, labels: list[int]) -> Diarization:
    return Diarization(
        turns=[],
        count=SpeakerCount(chosen=len(set(labels)), audio_count=len(set(labels)), scores={}, margin=0.1),
        separation=0.3,
        embeddings=embeddings,
        window_times=[(i * 0.75, i * 0.75 + 1.6) for i in range(len(embeddings))],
        labels=np.array(labels, dtype=np.int64),
        names={c: f"speaker_{c}" for c in set(labels)},
    )


def _unit(*values: float) -> np.ndarray:
    vector = np.zeros(256)
    vector[: len(values)] = values
    return vector / np.linalg.norm(vector)


def test_voice_similarity_is_the_cosine_of_the_two_closest_voice_prints() -> None:
    a, b, c = _unit(1, 0, 0), _unit(0, 1, 0), _unit(1, 0.1, 0)  # c is almost a: one voice split
    embeddings = _voices([a, b, c], 10, 0.01)
    labels = [0] * 10 + [1] * 10 + [2] * 10
    assert voice_similarity(_diarization(embeddings, labels)) == pytest.approx(float(a @ c), abs=0.01)
    distinct = _diarization(embeddings[:20], labels[:20])
    assert voice_similarity(distinct) == pytest.approx(0.0, abs=0.02)
    # Windows the diarizer left unassigned (-1) and too-small speakers give no voice print.
    assert voice_similarity(_diarization(embeddings[:13], [0] * 10 + [-1, 1, 1])) is None


def test_mixed_voice_is_high_when_the_largest_speaker_holds_two_voices() -> None:
    a, b, d = _unit(1, 0, 0), _unit(0, 1, 0), _unit(0, 0, 1)
    two_in_one = _voices([a, b, d], 12, 0.05)
    merged = mixed_voice(_diarization(two_in_one, [0] * 24 + [1] * 12))  # a and b as one speaker
    one_each = mixed_voice(_diarization(_voices([a, d], 24, 0.05), [0] * 24 + [1] * 24))
    assert merged is not None and one_each is not None
    assert merged > 0.5 > one_each
    assert mixed_voice(_diarization(two_in_one[:8], [0] * 8)) is None  # too few windows to split


def test_overlap_share_is_time_with_two_speakers_over_time_with_anyone() -> None:
    segments = [
        Segment(id=0, start=0.0, end=10.0, speaker="speaker_0"),
        Segment(id=1, start=8.0, end=12.0, speaker="speaker_1"),
        Segment(id=2, start=11.0, end=11.5, speaker="speaker_1"),  # the same speaker twice: no overlap
    ]
    assert overlap_share(segments) == pytest.approx(2.0 / 12.0, abs=0.002)
    assert overlap_share([Segment(id=0, start=0.0, end=3.0, speaker="speaker_0")]) == 0.0
    assert overlap_share([Segment(id=0, start=0.0, end=3.0)]) is None


def test_each_measure_over_its_threshold_raises_a_plain_words_flag_that_greys_the_talk_ratio() -> None:
    quiet = Quality(
        voice_similarity=VOICES_ALIKE - 0.01, mixed_voice=MIXED_VOICE_MIN, overlap_share=OVERLAP_MAX
    )
    assert _signal_flags(quiet) == []
    loud = Quality(voice_similarity=VOICES_ALIKE + 0.05, mixed_voice=MIXED_VOICE_MIN + 0.1, overlap_share=0.4)
    flags = _signal_flags(loud)
    assert [f.code for f in flags] == ["voices_alike", "mixed_voices", "much_overlap"]
    assert all(f.severity == "warning" and "talk_ratio" in f.affects for f in flags)
    assert "counted twice" in flags[0].meaning and "counted as one" in flags[1].meaning
    assert "40%" in flags[2].meaning
    assert {f.code for f in flags} <= TALK_RATIO_FLAGS
    loud.flags = flags
    view = view_of(loud, ["talk_ratio_rep", "wpm_rep"])
    assert "talk_ratio_rep" in view.greyed and "wpm_rep" not in view.greyed


def test_every_flag_the_pipeline_can_raise_has_plain_words_for_the_calls_table() -> None:
    import re
    from pathlib import Path

    from hearkit.quality import FLAG_WORDS, trust_words

    pipeline = Path(__file__).resolve().parents[2] / "hearkit" / "engine" / "pipeline"
    source = (pipeline / "quality.py").read_text() + (pipeline / "rediarize.py").read_text()
    raised = set(re.findall(r'code="([a-z_]+)"', source))
    assert len(raised) >= 14 and raised <= set(FLAG_WORDS), raised - set(FLAG_WORDS)
    assert trust_words("medium", "speaker_count_uncertain,much_overlap") == (
        "medium: speaker count uncertain; much talking over each other"
    )
    assert trust_words("high", "") == "high"
    assert trust_words(None, None) == "not measured"
    assert trust_words("low", "a_future_flag") == "low: a_future_flag"
