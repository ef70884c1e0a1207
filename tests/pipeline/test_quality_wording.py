"""The stereo quality flags say what a command-line user does about them (a new-user trial: 'send it
with diarize' is the API's wording; 'channel 1' meant nothing to a user who gave --rep/--customer files)."""

from __future__ import annotations

import numpy as np

from hearkit.engine.pipeline.quality import single_quality, stereo_quality
from hearkit.schema import Result, Segment


def test_stereo_really_mono_names_the_command_that_separates_the_voices() -> None:
    result = Result(text="hello there", speakers=1, segments=[], words=[])
    quality = single_quality(result, stereo_really_mono=True, correlation=0.999)
    (flag,) = [f for f in quality.flags if f.code == "stereo_really_mono"]
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
