"""The offline extractor against the action items planted in the sample call scripts.

Ground truth is ``sample_data/<call_id>.truth.json`` (``action_items``: text, owner role, turn, due),
written by the analytics owner's call scripts, not by the extractor. Turns come from the truth
file itself (the ASR-turn figures are in ``benchmarks/bench_summaries.py``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hearkit.summarize import summarize

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def sample_truths() -> list[dict[str, Any]]:
    index = json.loads((SAMPLE / "index.json").read_text())
    return [json.loads((SAMPLE / call["truth"]).read_text()) for call in index["calls"]]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


@pytest.mark.parametrize("asr_style", [False, True], ids=["punctuated", "asr"])
def test_extractor_finds_at_least_80_percent_of_planted_action_items(asr_style: bool) -> None:
    planted = matched = owner_right = 0
    for truth in sample_truths():
        turns = pd.DataFrame(truth["turns"]).assign(call_id=truth["call_id"])
        if asr_style:
            turns["text"] = turns["text"].str.lower().str.replace(r"[^\w\s']", "", regex=True)
        found = summarize(turns, method="extractive").action_items
        for item in truth["action_items"]:
            planted += 1
            candidates = [a for a in found if a.citations[0].turn == item["turn"]]
            if not candidates:
                continue
            best = max(candidates, key=lambda a: len(words(a.text) & words(item["text"])))
            found.remove(best)
            matched += 1
            owner_right += best.owner_role == item["owner_role"]
    assert planted >= 10, "the sample calls plant action items"
    assert matched / planted >= 0.8
    assert owner_right / matched >= 0.8


def test_due_dates_of_the_stored_sample_transcripts_match_the_scripts() -> None:
    """The sample calls' stored ASR results (numbers written as digits) through the offline summary:
    every due the script planted is found as said (U3 finding 5: "We will pick the 50 coils next
    week" was due "the 50").
    """
    from hearkit.record import CallSet

    callset = CallSet.load_sample()
    for truth in sample_truths():
        planted = {item["due"].lower() for item in truth["action_items"] if item.get("due")}
        found = {
            re.sub(r"^(?:by|on|before|until)\s+", "", item.due.lower())
            for item in callset.summaries[truth["call_id"]].action_items
            if item.due
        }
        assert planted <= found, (truth["call_id"], planted, found)
