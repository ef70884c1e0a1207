"""``FakeTranscriber``: a fast, deterministic stand-in for tests and benchmarks. NOT the default.

It decodes the audio for real (:func:`~hearkit.engine.probe.probe_audio`, so empty, corrupt and
non-audio files fail exactly as with the real pipeline) but invents the words: the recording is
cut into slots of :attr:`FakeTranscriber.slot_seconds` and each slot becomes one segment whose
text is ``"fake segment <n> of <total>"`` (``n`` 1-based, spelled out unless ``numerals``).

* ``channel: true`` on a stereo file: slots alternate between channel 0 (``speaker_1``) and
  channel 1 (``speaker_2``), like the hosted API's 1-based labels;
* ``diarize: true``: slots alternate between ``speaker_1`` and ``speaker_2`` (no channel);
* otherwise: no speaker labels, ``speakers = 1``.

``result.audio_seconds`` is the decoded duration rounded to milliseconds. Select it with
``transcriber="fake"`` or ``HEARKIT_TRANSCRIBER=fake``; ``HEARKIT_FAKE_DELAY`` (seconds) makes
each job take at least that long, for tests that need a job caught mid-run.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

from hearkit.engine.probe import probe_audio
from hearkit.schema import JobCreateParams, Result, Segment, Word

__all__ = ["FakeTranscriber"]

_ONES = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]
_ONES += [
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]


def _spell(n: int) -> list[str]:
    if n < 20:
        return [_ONES[n]]
    if n < 100:
        return [_TENS[n // 10]] + ([_ONES[n % 10]] if n % 10 else [])
    if n < 1000:
        rest = _spell(n % 100) if n % 100 else []
        return [_ONES[n // 100], "hundred", *rest]
    return [str(n)]


class FakeTranscriber:
    """Deterministic transcripts from the audio's real duration and channel count."""

    name = "fake"

    def __init__(self, slot_seconds: float = 2.5, delay: float | None = None) -> None:
        self.slot_seconds = slot_seconds
        self.delay = float(os.environ.get("HEARKIT_FAKE_DELAY", "0")) if delay is None else delay

    def transcribe(self, audio_path: Path, options: JobCreateParams) -> Result:
        started = time.monotonic()
        info = probe_audio(audio_path)
        duration = round(info.duration_s, 3)
        stereo = bool(options.channel) and info.channels >= 2
        labelled = stereo or bool(options.diarize)
        n_slots = max(1, int(-(-duration // self.slot_seconds)))
        segments: list[Segment] = []
        words: list[Word] = []
        for i in range(n_slots):
            start = round(i * self.slot_seconds, 3)
            end = round(min(duration, (i + 1) * self.slot_seconds), 3)
            number = [str(i + 1)] if options.numerals else _spell(i + 1)
            total = [str(n_slots)] if options.numerals else _spell(n_slots)
            tokens = ["fake", "segment", *number, "of", *total]
            speaker = f"speaker_{i % 2 + 1}" if labelled else None
            channel = i % 2 if stereo else None
            step = (end - start) / len(tokens)
            for k, token in enumerate(tokens):
                word = Word(
                    word=token, start=round(start + k * step, 3), end=round(start + (k + 1) * step, 3)
                )
                if speaker is not None:
                    word.speaker = speaker
                if channel is not None:
                    word.channel = channel
                words.append(word)
            segment = Segment(id=i, start=start, end=end, text=" ".join(tokens))
            if speaker is not None:
                segment.speaker = speaker
            if channel is not None:
                segment.channel = channel
            segments.append(segment)
        if labelled:
            text = "\n".join(f"[{s.speaker}] {s.text}" for s in segments)
        else:
            text = " ".join(s.text for s in segments)
        remaining = self.delay - (time.monotonic() - started)
        if remaining > 0:
            time.sleep(remaining)
        return Result(
            text=text,
            speakers=min(2, n_slots) if labelled else 1,
            audio_seconds=duration,
            segments=segments,
            words=words,
        )
