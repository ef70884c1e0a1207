"""Shared fixtures of the analytics tests: the committed sample calls' ground truth."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

REPO = Path(__file__).resolve().parents[2]
SAMPLE_DIR = REPO / "sample_data"


def load_truths() -> list[dict[str, Any]]:
    index = json.loads((SAMPLE_DIR / "index.json").read_text())
    return [json.loads((SAMPLE_DIR / entry["truth"]).read_text()) for entry in index["calls"]]


def truth_turns(truths: list[dict[str, Any]]) -> pd.DataFrame:
    """The ground-truth turns of the sample calls as a turns frame (hearkit.transcript.TURN_COLUMNS)."""
    rows = [
        {
            "call_id": t["call_id"],
            "turn": turn["turn"],
            "speaker": turn["speaker"],
            "channel": turn["channel"],
            "role": turn["role"],
            "role_source": "explicit",
            "start": turn["start"],
            "end": turn["end"],
            "duration_s": turn["end"] - turn["start"],
            "text": turn["text"],
            "n_words": len(turn["text"].split()),
        }
        for t in truths
        for turn in t["turns"]
    ]
    frame = pd.DataFrame(rows)
    frame["channel"] = frame["channel"].astype("Int64")
    for col in ("call_id", "speaker", "role", "role_source", "text"):
        frame[col] = frame[col].astype("str")
    return frame


def truth_words(truths: list[dict[str, Any]]) -> pd.DataFrame:
    rows = [
        {
            "call_id": t["call_id"],
            "word_index": i,
            "turn": w["turn"],
            "speaker": w["speaker"],
            "channel": w["channel"],
            "role": w["role"],
            "start": w["start"],
            "end": w["end"],
            "duration_s": w["end"] - w["start"],
            "word": w["word"],
        }
        for t in truths
        for i, w in enumerate(t["words"])
    ]
    frame = pd.DataFrame(rows)
    frame["channel"] = frame["channel"].astype("Int64")
    for col in ("call_id", "speaker", "role", "word"):
        frame[col] = frame[col].astype("str")
    return frame


@pytest.fixture(scope="session")
def truths() -> list[dict[str, Any]]:
    return load_truths()


@pytest.fixture(scope="session")
def truth_turns_frame(truths: list[dict[str, Any]]) -> pd.DataFrame:
    return truth_turns(truths)


@pytest.fixture(scope="session")
def truth_words_frame(truths: list[dict[str, Any]]) -> pd.DataFrame:
    return truth_words(truths)
