"""Holes: stretches of detected speech where the batched decode put no word, decoded a second time.

Whisper sometimes skips part of a window: its text jumps from one phrase to a later one and the
speech between gets no word. On a mono mix this happens where one voice runs into another (the
overtalk sample call lost "in the last review. We asked for it, yes, but not at that price,
honestly", 5.6 s of speech, 16 of its 62 word errors). Such a stretch is a *hole*: inside the
speech regions (bridged as for packing), at least :data:`MIN_HOLE_S` long between the words around
it (or a region edge), and holding at least :data:`MIN_VOICE_S` of energy-active voice (20 ms
frames, :func:`hearkit.engine.pipeline.vad.energy_activity`) so a plain pause is not one.

:func:`fill_holes` cuts each hole with :data:`PAD_S` of context on both sides, packs the holes into
as few windows as fit (:func:`hearkit.engine.pipeline.channels.plan_windows`), decodes them as the
first pass does, and keeps the words whose midpoint lies inside a hole. A call without holes costs
nothing more; each window of holes costs one encoder pass.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from hearkit.engine.pipeline.asr import DecodeSettings, Recognition, RecognizedWord
from hearkit.engine.pipeline.channels import BRIDGE_GAP_S, plan_windows
from hearkit.engine.pipeline.decode import SAMPLE_RATE
from hearkit.engine.pipeline.vad import bridge_gaps, energy_activity
from hearkit.engine.pipeline.vocabulary import recognize

__all__ = ["MIN_HOLE_S", "MIN_VOICE_S", "PAD_S", "fill_holes", "find_holes"]

MIN_HOLE_S = 1.5
"""Shortest word-less stretch of speech that is decoded again (seconds)."""
MIN_VOICE_S = 1.0
"""Energy-active voice a hole must hold (seconds of 20 ms frames): not a pause."""
PAD_S = 0.1
"""Context cut with a hole on each side (seconds); only words whose midpoint is in the hole are kept."""
_FRAME_S = 0.02


def find_holes(
    regions: list[tuple[int, int]],
    words: list[RecognizedWord],
    active: npt.NDArray[np.bool_],
) -> list[tuple[float, float]]:
    """The holes (seconds) of one signal: its speech ``regions`` (samples), its ``words``, its activity."""
    spans = sorted((w.start, w.end) for w in words)
    holes: list[tuple[float, float]] = []
    for a, b in bridge_gaps(regions, BRIDGE_GAP_S):
        start, end = a / SAMPLE_RATE, b / SAMPLE_RATE
        reach = start
        gaps = []
        for w_start, w_end in spans:
            if w_end <= start or w_start >= end:
                continue
            if w_start - reach >= MIN_HOLE_S:
                gaps.append((reach, w_start))
            reach = max(reach, w_end)
        if end - reach >= MIN_HOLE_S:
            gaps.append((reach, end))
        for g_start, g_end in gaps:
            voice = float(active[int(g_start / _FRAME_S) : int(np.ceil(g_end / _FRAME_S))].sum()) * _FRAME_S
            if voice >= MIN_VOICE_S:
                holes.append((g_start, g_end))
    return holes


def fill_holes(
    model: Callable[[], WhisperModel],
    signals: Sequence[npt.NDArray[np.float32]],
    regions: Sequence[list[tuple[int, int]]],
    recognition: Recognition,
    settings: DecodeSettings,
    activity: Sequence[npt.NDArray[np.bool_]] | None = None,
) -> Recognition:
    """``recognition`` of ``signals`` (a word's ``channel`` = its signal's index; one signal for the
    mono path, a call's two channels for the stereo one, several calls' channels when pooled) with
    the words of their holes decoded a second time, the holes of every signal packed together; its
    ``windows`` count the second pass's windows too. ``model`` loads the model (only when a hole is
    found); ``activity``: each signal's energy activity when the caller has it."""
    active = list(activity) if activity is not None else [energy_activity(x) for x in signals]
    holes = [
        find_holes(r, [w for w in recognition.words if w.channel == c], a)
        for c, (r, a) in enumerate(zip(regions, active, strict=True))
    ]
    if not any(holes):
        return recognition
    pad = int(PAD_S * SAMPLE_RATE)
    pieces = [
        [(max(0, int(s * SAMPLE_RATE) - pad), min(len(x), int(e * SAMPLE_RATE) + pad)) for s, e in found]
        for x, found in zip(signals, holes, strict=True)
    ]
    again = recognize(model(), list(signals), plan_windows(pieces, list(signals)), settings)
    found = [w for w in again.words if any(s <= (w.start + w.end) / 2 <= e for s, e in holes[w.channel])]
    words = sorted(recognition.words + found, key=lambda w: (w.channel, w.start))
    return replace(
        recognition,
        words=words,
        windows=recognition.windows + again.windows,
        prompted_windows=recognition.prompted_windows + again.prompted_windows,
    )
