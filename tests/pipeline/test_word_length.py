"""Words Whisper times at a single instant get a length (U5 finding 3: "Sure." at 52.56-52.56 s
made a turn of no talk time and a ``zero_length`` data flag on most real stereo calls)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline.asr import RecognizedWord, with_length
from hearkit.engine.pipeline.decode import SAMPLE_RATE


def _word(text: str, start: float, end: float) -> RecognizedWord:
    return RecognizedWord(text, start, end, 0.9, 0)


def test_an_instant_word_ends_at_its_instant() -> None:
    words = with_length([_word("I", 0.2, 0.4), _word("Sure.", 1.0, 1.0), _word("no", 2.0, 2.3)])
    assert words[1].end == 1.0 and words[1].start == pytest.approx(1.0 - 4 * 0.06)
    assert words[0] == _word("I", 0.2, 0.4) and words[2] == _word("no", 2.0, 2.3)


def test_an_instant_word_after_a_close_word_starts_there_and_runs_on() -> None:
    words = with_length([_word("I", 0.5, 0.95), _word("Sure.", 1.0, 1.0), _word("no", 1.1, 1.3)])
    assert words[1].start == 0.95 and words[1].end == 1.1
    assert words[0] == _word("I", 0.5, 0.95) and words[2] == _word("no", 1.1, 1.3)


def test_an_instant_word_goes_to_the_side_of_it_where_the_voice_is() -> None:
    # a word timed at the instant its turn starts, or at the instant it ends
    active = np.zeros(1000, dtype=bool)
    active[int(10.45 / 0.02) : int(11.5 / 0.02)] = True  # the voice starts after the instant
    words = [_word("there.", 9.5, 9.99), _word("Okay.", 10.43, 10.43), _word("I", 10.9, 11.0)]
    (_, okay, _) = with_length(words, active)
    assert okay.start == 10.43 and okay.end == pytest.approx(10.43 + 4 * 0.06)
    active[:] = False
    active[int(10.0 / 0.02) : int(10.42 / 0.02)] = True  # the voice ends at the instant
    (_, okay, _) = with_length(words, active)
    assert okay.end == 10.43 and okay.start == pytest.approx(10.43 - 4 * 0.06)


def test_an_instant_word_between_touching_words_takes_from_the_longer_one() -> None:
    words = with_length([_word("I", 0.8, 1.0), _word("have", 1.0, 1.0), _word("to", 1.0, 1.6)])
    assert all(w.end > w.start for w in words)
    assert words[0].end <= words[1].start and words[1].end <= words[2].start
    assert words[2].end == 1.6 and words[0] == _word("I", 0.8, 1.0)


def test_a_lone_instant_word_gets_its_estimated_length() -> None:
    (word,) = with_length([_word("Wonderful.", 3.0, 3.0)])
    assert word.start == pytest.approx(3.0 - 0.54) and word.end == 3.0


@pytest.mark.asr
def test_real_call_words_all_have_length_and_sure_lies_in_the_callers_speech(  # type: ignore[no-untyped-def]
    realdata: Path, transcriber
) -> None:
    """AWS call 40, 30-75 s, agent and caller legs as the two channels: before, 4 of 108 words
    came out at one instant (the caller's "Sure.", spoken at 52.0-52.46 s, at 52.50 s exactly).
    Ground truth is the caller leg's own energy."""
    from hearkit.engine.pipeline.decode import DecodedAudio, decode_audio
    from hearkit.schema import JobCreateParams

    legs = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(legs / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][30 * SAMPLE_RATE : 75 * SAMPLE_RATE]
        for leg in ("agent", "caller")
    )
    audio = DecodedAudio(np.stack([agent, caller]).astype(np.float32), SAMPLE_RATE, 2)
    result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))

    assert len(result.words) > 50
    assert [w.word for w in result.words if w.end <= w.start] == []
    assert all(s.end > s.start for s in result.segments)

    frame = SAMPLE_RATE // 50
    frames = caller[: len(caller) // frame * frame].reshape(-1, frame)
    level = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-12)
    callers = [w for w in result.words if w.channel == 1 and 20 < w.end < 25]
    (sure,) = [w for w in callers if w.word.strip(".").lower() == "sure"]
    spoken = level[int(sure.start * 50) : int(np.ceil(sure.end * 50))]
    assert spoken.size and spoken.max() > -30.0, (sure, spoken)  # the word's own frames: -13 to -25 dBFS
