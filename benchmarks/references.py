"""Readers of the third-party speaker annotations in ``../shared/realdata`` (read in place), shared by
the pipeline and diarization benchmarks: each returns ``(start_s, end_s, speaker)`` spans."""

from __future__ import annotations

import json
from pathlib import Path

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
