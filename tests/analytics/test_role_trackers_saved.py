"""A saved set keeps its role-limited trackers, so ``with_roles`` after ``CallSet.load`` equals a
fresh analysis with the new roles (U4 finding 17's remainder: the fix worked in memory only; a loaded
set's customer-only tracker kept the rep's words as hits). The fresh analysis of the stored result is
the reference."""

from __future__ import annotations

import json
from pathlib import Path

from hearkit.record import CallSet, analyze_calls
from hearkit.schema import Result
from hearkit.trackers import Tracker

from .conftest import SAMPLE_DIR

TRACKER = Tracker("customer_pricing", ("price", "discount", "seat"), role="customer")
SWAPPED = {"speaker_0": "customer", "speaker_1": "rep"}


def _hits(calls: CallSet) -> list[tuple[str, str, float]]:
    frame = calls.hits[calls.hits["tracker"] == TRACKER.name]
    return sorted((str(r.role), str(r.phrase), round(float(r.start), 3)) for r in frame.itertuples())


def test_with_roles_after_load_equals_a_fresh_analysis(tmp_path: Path) -> None:
    result = Result.model_validate(json.loads((SAMPLE_DIR / "call_03_pricing.result.json").read_text()))
    analyze_calls({"c": result}, trackers=[TRACKER], summaries=False).save(tmp_path / "set")
    loaded = CallSet.load(tmp_path / "set")
    assert loaded.role_trackers == (TRACKER,)
    relabelled = loaded.with_roles({"c": SWAPPED})
    fresh = analyze_calls({"c": result}, trackers=[TRACKER], roles=SWAPPED, summaries=False)
    assert _hits(relabelled) == _hits(fresh) and {r for r, _, _ in _hits(fresh)} == {"customer"}
    column = f"hits_{TRACKER.name}"
    assert relabelled.calls[column].tolist() == fresh.calls[column].tolist()
