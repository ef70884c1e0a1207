"""Normalization of the engine's real Whisper results of the sample calls, checked against the
calls' ground truth (the scripts that synthesized them), which hearkit.transcript never reads."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from hearkit import transcript

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
CASES = sorted(
    (path.name.split(".")[0], kind)
    for kind in ("result", "mono.result")
    for path in SAMPLE.glob(f"*.{kind}.json")
    if kind == "mono.result" or ".mono." not in path.name
)


def load(call_id: str, kind: str) -> tuple[dict[str, Any], dict[str, Any]]:
    result = json.loads((SAMPLE / f"{call_id}.{kind}.json").read_text())
    truth = json.loads((SAMPLE / f"{call_id}.truth.json").read_text())
    return result, truth


def test_the_sample_results_are_there() -> None:
    assert len([c for c in CASES if c[1] == "result"]) >= 5
    assert len([c for c in CASES if c[1] == "mono.result"]) >= 5


@pytest.mark.parametrize(("call_id", "kind"), CASES)
def test_roles_agree_with_the_truth(call_id: str, kind: str) -> None:
    result, truth = load(call_id, kind)
    turns, words = transcript.turns_and_words(result, call_id=call_id)
    truth_start = np.array([t["start"] for t in truth["turns"]])
    truth_end = np.array([t["end"] for t in truth["turns"]])
    truth_role = [t["role"] for t in truth["turns"]]
    # Each normalized turn is matched to the truth turn it overlaps best (intersection over
    # union, so a backchannel inside a long monologue matches the backchannel, not the monologue).
    agree = []
    for start, end, role in zip(turns["start"], turns["end"], turns["role"], strict=True):
        overlap = np.minimum(truth_end, end) - np.maximum(truth_start, start)
        union = np.maximum(truth_end, end) - np.minimum(truth_start, start)
        agree.append(truth_role[int((overlap / union).argmax())] == role)
    assert np.mean(agree) >= 0.85, (call_id, kind, turns[["speaker", "role", "start", "text"]])
    expected_source = "channel_convention" if kind == "result" else None
    if expected_source:
        assert set(turns["role_source"]) == {expected_source}
    assert len(words) == len(result["words"])
    if truth.get("words"):
        middle = np.array([(w["start"] + w["end"]) / 2 for w in truth["words"]])
        truth_word_role = [w["role"] for w in truth["words"]]
        hits = [
            truth_word_role[int(np.abs(middle - (s + e) / 2).argmin())] == role
            for s, e, role in zip(words["start"], words["end"], words["role"], strict=True)
        ]
        assert np.mean(hits) >= 0.9


@pytest.mark.parametrize(("call_id", "kind"), CASES)
def test_turns_cover_the_transcript(call_id: str, kind: str) -> None:
    result, _ = load(call_id, kind)
    turns = transcript.turns(result, call_id=call_id)
    assert turns["turn"].tolist() == list(range(len(turns)))
    assert turns["start"].is_monotonic_increasing
    assert (turns["duration_s"] >= 0).all()
    assert turns["n_words"].sum() == len(result["words"])
    # No two consecutive turns of one speaker closer than the merge gap.
    same = turns["speaker"].to_numpy()[1:] == turns["speaker"].to_numpy()[:-1]
    gaps = turns["start"].to_numpy()[1:] - turns["end"].to_numpy()[:-1]
    assert not (same & (gaps <= 0.5)).any()
