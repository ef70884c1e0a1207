"""The mono path of a two-party call agrees with its stereo truth: a real contact-centre call.

AWS's call 40 comes as its two legs (agent and caller recorded apart, ../shared/realdata/aws_lca_calls,
development data). The legs are mixed to mono and sent through the mono path after recognition
(``WhisperTranscriber.label_speakers`` with no words: the diarizer's speech turns become the result's
segments), as ``hearkit analyze --mono`` sends a call (``speakers_expected=2``). The truth is each leg's
own speech, found by a plain energy detector that is not hearkit's (``benchmarks/references.py``'s
``channel_truth``, shared with the diarization benchmark): 50 ms frames 20 dB above the leg's
10th-percentile level and above -50 dBFS, pauses under 0.3 s bridged, runs under 0.1 s dropped.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from benchmarks.references import channel_truth
from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.decode import SAMPLE_RATE, decode_audio
from hearkit.engine.pipeline.quality import speaker_shares
from hearkit.engine.pipeline.vad import speech_regions
from hearkit.schema import JobCreateParams

SECONDS = 60.0


def test_mono_mix_of_a_real_call_gives_the_legs_talk_shares(realdata: Path) -> None:
    legs = [
        decode_audio(realdata / "aws_lca_calls" / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][
            : int(SECONDS * SAMPLE_RATE)
        ]
        for leg in ("agent", "caller")
    ]
    truth = [sum(end - start for start, end, _ in channel_truth(leg, "leg")) for leg in legs]
    expected = sorted(t / sum(truth) for t in truth)
    mix = np.mean(np.stack(legs), axis=0).astype(np.float32)
    result = WhisperTranscriber().label_speakers(
        mix, speech_regions(mix), [], JobCreateParams(diarize=True, speakers_expected=2), SECONDS
    )
    assert result.speakers == 2
    found = sorted(speaker_shares(result.segments).values())
    assert found == pytest.approx(expected, abs=0.05)  # within 5 percentage points of the legs
