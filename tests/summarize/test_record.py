"""Summaries inside the analytics records: analyze_call fills CallRecord.summary, load_sample
fills CallSet.summaries, and summarize() takes a CallRecord. (conftest.py clears HEARKIT_LLM_*,
so these are the offline summaries.)"""

from __future__ import annotations

import json
from pathlib import Path

from hearkit.record import CallSet, analyze_call, truth_to_result
from hearkit.summarize import summarize

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"


def test_analyze_call_fills_a_cited_summary() -> None:
    truth = json.loads((SAMPLE / "call_03_pricing.truth.json").read_text())
    record = analyze_call(truth_to_result(truth), call_id="pricing", roles={0: "rep", 1: "customer"})

    assert record.summary is not None and record.summary.method == "extractive"
    assert record.summary.call_id == "pricing"
    spans = {t.turn: (t.start, t.end) for t in record.turns}
    cited = [c for item in record.summary.action_items for c in item.citations]
    assert cited and all(spans[c.turn] == (c.start, c.end) for c in cited)
    planted = {(a["owner_role"], a["text"].split()[0].lower()) for a in truth["action_items"]}
    found = {(a.owner_role, a.text.split()[0].lower()) for a in record.summary.action_items}
    assert planted <= found
    # The record itself is accepted by summarize(), with the same result.
    assert summarize(record) == record.summary
    assert analyze_call(truth_to_result(truth), summary=False).summary is None


def test_sample_callset_carries_summaries_that_survive_save_and_load(tmp_path: Path) -> None:
    callset = CallSet.load_sample("truth")

    assert sorted(callset.summaries) == sorted(callset.call_ids)
    assert all(s.action_items for s in callset.summaries.values())
    loaded = CallSet.load(callset.save(tmp_path / "set"))
    assert loaded.summaries == callset.summaries
    record = loaded.record(callset.call_ids[0])
    assert record.summary == callset.summaries[callset.call_ids[0]]
