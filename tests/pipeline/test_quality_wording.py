"""The stereo quality flags say what a command-line user does about them (a new-user trial: 'send it
with diarize' is the API's wording; 'channel 1' meant nothing to a user who gave --rep/--customer files)."""

from __future__ import annotations

import numpy as np

from hearkit.engine.pipeline.quality import really_mono_stereo, single_quality, stereo_quality
from hearkit.schema import Result, Segment


def test_stereo_really_mono_says_the_voices_were_separated_by_diarization() -> None:
    from hearkit.schema import Quality

    quality = really_mono_stereo(Quality(method="diarization"), correlation=-1.0, similarity=1.0)
    (flag,) = [f for f in quality.flags if f.code == "stereo_really_mono"]
    assert "diarization instead of by channel" in flag.meaning and flag.severity == "info"
    assert quality.channel_correlation == -1.0 and quality.channel_similarity == 1.0


def test_a_plain_transcript_says_how_to_separate_the_voices() -> None:
    result = Result(text="hello there", speakers=1, segments=[], words=[])
    assert single_quality(result, voices_separated=False).flags == []  # no words: nothing to say
    from hearkit.schema import Word

    result.words = [Word(word="hello", start=0.0, end=0.5)]
    (flag,) = single_quality(result, voices_separated=False).flags
    assert flag.code == "voices_not_separated"
    assert "hearkit analyze FILE --mono" in flag.meaning and "diarize=true" in flag.meaning


def test_roles_maybe_swapped_says_which_file_is_which_channel_and_the_fix() -> None:
    # The customer's words on channel 0, a rep's greeting on channel 1: the cue rule picks channel 1.
    segments = [
        Segment(
            id=0, start=0.0, end=2.0, text="Hi, I'm calling about my order.", speaker="speaker_0", channel=0
        ),
        Segment(
            id=1,
            start=2.5,
            end=5.0,
            text="Thanks for calling Acme, how can I help?",
            speaker="speaker_1",
            channel=1,
        ),
    ]
    result = Result(text="", speakers=2, segments=segments, words=[], audio_seconds=5.0)
    active = [np.ones(500, dtype=bool), np.ones(500, dtype=bool)]
    quality = stereo_quality(result, 0.1, None, active, [[(0, 200)], [(250, 500)]])
    (flag,) = [f for f in quality.flags if f.code == "roles_maybe_swapped"]
    assert "--rep file" in flag.meaning and "--customer" in flag.meaning
    assert "hearkit remap OUT --call ID --rep speaker_1" in flag.meaning
