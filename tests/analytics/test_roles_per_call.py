"""Per-call role maps given to ``analyze_calls(roles=...)`` (U4 finding 14): the error says roles= is one
map for every call and names the way to give roles per call, which then works."""

from __future__ import annotations

import json

import pytest

from hearkit.record import analyze_calls
from hearkit.schema import Result

from .conftest import SAMPLE_DIR


def test_per_call_maps_get_the_way_that_works() -> None:
    result = Result.model_validate(json.loads((SAMPLE_DIR / "call_01_discovery.result.json").read_text()))
    per_call = {"a": {"speaker_0": "customer", "speaker_1": "rep"}}
    with pytest.raises(
        ValueError, match=r"roles= is one map applied to every call .*\.with_roles\(\{call_id: \{"
    ):
        analyze_calls({"a": result}, roles=per_call)
    plain = analyze_calls({"a": result}).calls.iloc[0]
    swapped = analyze_calls({"a": result}).with_roles(per_call).calls.iloc[0]
    assert swapped["talk_ratio_rep"] == pytest.approx(plain["talk_ratio_customer"])
