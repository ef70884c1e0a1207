"""Several stereo calls recognised in shared Whisper windows (issue 17): each word lands in its own call.

Ground truth: the sample calls' ``truth.json`` (written by ``scripts/make_sample_calls.py``, the
script that generated the audio): every scripted word with its channel and its time on the call.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.asr import Chunk, Recognition, RecognizedWord, _looping_channels
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.transcriber import AudioError
from hearkit.schema import JobCreateParams, Result
from tests.pipeline.conftest import write_wav

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
# (call, offset s, seconds): short archive-like cuts whose last windows run part empty alone.
CUTS = (("call_01_discovery", 0.0, 40.0), ("call_05_renewal", 40.0, 35.0), ("call_03_pricing", 20.0, 30.0))


def _norm(text: str) -> str:
    return re.sub(r"[^a-z0-9']", "", text.lower())


def _cut(call: str, offset: float, seconds: float) -> DecodedAudio:
    full = decode_audio(SAMPLES / f"{call}.stereo.ogg")
    start, end = int(offset * SAMPLE_RATE), int((offset + seconds) * SAMPLE_RATE)
    return DecodedAudio(np.ascontiguousarray(full.samples[:, start:end]), full.source_rate, 2)


def _truth(call: str, offset: float, seconds: float) -> list[dict[str, object]]:
    """The script's words said inside the cut, times moved onto the cut's timeline."""
    words = json.loads((SAMPLES / f"{call}.truth.json").read_text())["words"]
    return [
        {**w, "start": w["start"] - offset, "end": w["end"] - offset, "norm": _norm(w["word"])}
        for w in words
        if offset <= w["start"] and w["end"] <= offset + seconds
    ]


def _placed(result: Result, truth: list[dict[str, object]]) -> list[bool]:
    """For each of the result's words: does the script have it on the same channel, with the same
    spelling, starting within 1 s? A word of another call (or channel) is not there."""
    return [
        any(
            t["norm"] == _norm(w.word)
            and t["channel"] == w.channel
            and abs(float(t["start"]) - w.start) <= 1.0  # type: ignore[arg-type]
            for t in truth
        )
        for w in result.words
        if _norm(w.word)
    ]


def _longest_miss(placed: list[bool]) -> int:
    """The longest run of consecutive words the script does not have there (a piece of another
    call's speech given to this call would be such a run)."""
    longest = run = 0
    for ok in placed:
        run = 0 if ok else run + 1
        longest = max(longest, run)
    return longest


@pytest.mark.asr
def test_pooled_calls_share_windows_and_each_word_lands_in_its_own_call(tmp_path: Path) -> None:
    transcriber = WhisperTranscriber()
    audios = [_cut(call, offset, seconds) for call, offset, seconds in CUTS]
    alone = [len(transcriber.plan_stereo(a)) for a in audios]
    pooled = transcriber.plan_pooled(audios)
    assert len(pooled) < sum(alone)  # 40 + 35 + 30 s of calls: the shared windows are fewer
    calls_of_window = [{chunk.channel_of(i) // 2 for i in range(len(chunk.pieces))} for chunk in pooled]
    assert any(len(calls) > 1 for calls in calls_of_window)  # a window holds speech of two calls

    paths = [
        write_wav(tmp_path / f"{call}.wav", a.samples.T) for (call, _, _), a in zip(CUTS, audios, strict=True)
    ]
    broken = tmp_path / "broken.wav"
    broken.write_bytes(b"RIFF not really audio")
    results = transcriber.transcribe_pooled(
        [(paths[0], JobCreateParams(channel=True)), (broken, JobCreateParams(channel=True))]
        + [(p, JobCreateParams(channel=True)) for p in paths[1:]]
    )
    assert isinstance(results[1], AudioError)  # the bad file fails on its own
    for (call, offset, seconds), audio, result in zip(CUTS, audios, [results[0], *results[2:]], strict=True):
        assert isinstance(result, Result), result
        truth = _truth(call, offset, seconds)
        alone = _placed(transcriber.transcribe_audio(audio, JobCreateParams(channel=True)), truth)
        placed = _placed(result, truth)
        assert result.audio_seconds == pytest.approx(seconds, abs=0.01)
        assert {w.channel for w in result.words} == {0, 1}
        # as many of the call's own words in place as when it is transcribed alone (ASR errors,
        # such as "30" for "thirty", are the same in both), and no run of foreign words
        assert sum(placed) / len(placed) >= 0.75, call
        assert sum(placed) / len(placed) >= sum(alone) / len(alone) - 0.05, call
        assert _longest_miss(placed) <= 3, call
        # about as many words as the script says in the cut: none of another call's added
        assert 0.85 * len(truth) <= len(result.words) <= 1.1 * len(truth), (
            call,
            len(result.words),
            len(truth),
        )
        assert result.quality is not None and result.quality.repetition_redecoded == 0


def test_a_loop_counts_for_the_call_whose_words_loop_not_for_the_calls_sharing_its_window() -> None:
    # A pooled window holding speech of call 0 (channels 0, 1) and call 1 (channels 2, 3), where
    # call 1's caller channel decoded as the "T -T -T ..." loop the batched decoder can emit.
    said = [("thanks", 0), ("for", 0), ("calling", 0), ("hi", 1), ("there", 1)]
    loop = [("T", 3), ("-T", 3), ("-T", 3), ("-T", 3), ("-T", 3), ("-T", 3)]
    words = [
        RecognizedWord(text, float(i), float(i) + 0.5, 0.9, ch) for i, (text, ch) in enumerate(said + loop)
    ]
    window = Chunk(((0, 16_000), (0, 16_000), (0, 16_000)), 0, (0, 1, 3))
    looped = _looping_channels(words, window)
    assert looped == {3}
    recognition = Recognition(words, windows=1, repetition_redecoded=1, repetition_channels=[looped])
    assert recognition.repetition_redecoded_of({0, 1}) == 0
    assert recognition.repetition_redecoded_of({2, 3}) == 1
    # a loop in text without timed words: every channel of the window is counted
    assert _looping_channels(words[:5], window) == {0, 1, 3}


@pytest.mark.asr
def test_one_call_through_transcribe_pooled_is_the_call_transcribed_alone(tmp_path: Path) -> None:
    transcriber = WhisperTranscriber()
    call, offset, seconds = CUTS[0]
    audio = _cut(call, offset, seconds)
    path = write_wav(tmp_path / "one.wav", audio.samples.T)
    alone = transcriber.transcribe(path, JobCreateParams(channel=True))
    (pooled,) = transcriber.transcribe_pooled([(path, JobCreateParams(channel=True))])
    assert isinstance(pooled, Result), pooled
    assert [(w.word, w.channel, w.start, w.end) for w in pooled.words] == [
        (w.word, w.channel, w.start, w.end) for w in alone.words
    ]
    assert pooled.quality == alone.quality
    # and the script's words are there (not two equally wrong results)
    placed = _placed(pooled, _truth(call, offset, seconds))
    assert sum(placed) / len(placed) >= 0.75
