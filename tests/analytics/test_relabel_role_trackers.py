"""After ``with_roles``, a role-limited tracker is matched again on the relabelled speech (U4
finding 17: a customer-only tracker kept its hits under the new role, the rep's words, and missed
the new customer's), so it equals a fresh analysis with the swapped roles, as the docs say."""

from __future__ import annotations

import json

from hearkit.record import analyze_calls
from hearkit.schema import Result
from hearkit.trackers import Tracker

from .conftest import SAMPLE_DIR


def _hits(calls: object) -> list[tuple[str, str, float]]:
    frame = calls.hits  # type: ignore[attr-defined]
    frame = frame[frame["tracker"] == "customer_pricing"]
    return sorted((str(r.role), str(r.phrase), round(float(r.start), 3)) for r in frame.itertuples())


def test_with_roles_equals_a_fresh_analysis_for_role_trackers() -> None:
    result = Result.model_validate(json.loads((SAMPLE_DIR / "call_03_pricing.result.json").read_text()))
    trackers = [Tracker("customer_pricing", ("price", "discount", "seat"), role="customer")]
    swapped = {"speaker_0": "customer", "speaker_1": "rep"}
    first = analyze_calls({"c": result}, trackers=trackers, summaries=False)
    relabelled = first.with_roles({"c": swapped})
    fresh = analyze_calls({"c": result}, trackers=trackers, roles=swapped, summaries=False)
    assert _hits(first) != _hits(fresh)  # the rep and the customer said different things
    assert _hits(relabelled) == _hits(fresh)
    assert {role for role, _, _ in _hits(relabelled)} == {"customer"}
    column = "hits_customer_pricing"
    assert relabelled.calls[column].tolist() == fresh.calls[column].tolist() == [len(_hits(fresh))]
