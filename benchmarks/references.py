"""Readers of the third-party speaker annotations in ``../shared/realdata`` (read in place), shared by
the pipeline and diarization benchmarks: each returns ``(start_s, end_s, speaker)`` spans; and
:func:`channel_truth`, the reference for calls whose parties were recorded apart (one per channel or
file), which the mono-vs-stereo test uses too.

Truth for a separately recorded party comes from a plain energy detector written here (not
hearkit's): 50 ms frames 20 dB above the channel's 10th-percentile level and above -50 dBFS,
pauses < 0.3 s bridged, runs < 0.1 s dropped."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import numpy.typing as npt

SAMPLE_RATE = 16_000

Spans = list[tuple[float, float, str]]


def rttm_spans(path: Path, uri: str | None = None) -> Spans:
    """SPEAKER lines of an RTTM file (of one recording ``uri``, or all)."""
    spans = []
    for line in path.read_text().splitlines():
        parts = line.split()
        if parts and parts[0] == "SPEAKER" and (uri is None or parts[1] == uri):
            start, dur = float(parts[3]), float(parts[4])
            spans.append((start, start + dur, parts[7]))
    return spans


def falcon_spans(path: Path) -> Spans:
    """Picovoice Falcon's test JSON: every object with ``start_sec``, ``end_sec`` and ``speaker_tag``."""
    spans: Spans = []

    def walk(node: object) -> None:
        if isinstance(node, dict):
            if {"start_sec", "end_sec", "speaker_tag"} <= node.keys():
                spans.append((float(node["start_sec"]), float(node["end_sec"]), str(node["speaker_tag"])))
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(path.read_text()))
    return spans


def channel_truth(signal: npt.NDArray[np.float32], label: str) -> Spans:
    """Where one separately recorded party (16 kHz ``signal``) speaks: the module's energy detector."""
    frame = SAMPLE_RATE // 20
    n = len(signal) // frame
    level = 10 * np.log10(
        np.mean(signal[: n * frame].reshape(n, frame).astype(np.float64) ** 2, axis=1) + 1e-12
    )
    active = level > max(float(np.percentile(level, 10)) + 20.0, -50.0)
    runs: list[list[float]] = []
    for index in np.flatnonzero(active):
        start, end = index * 0.05, (index + 1) * 0.05
        if runs and start - runs[-1][1] < 0.3:
            runs[-1][1] = end
        else:
            runs.append([start, end])
    return [(a, b, label) for a, b in runs if b - a >= 0.1]
