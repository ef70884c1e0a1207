"""Roles given to ``analyze_calls(roles=...)`` settle the engine's role doubts as ``with_roles`` does
(U4 finding 16: the report kept "roles_maybe_swapped … give the channels the other way round" after
the user had given them right)."""

from __future__ import annotations

import json

from hearkit.record import analyze_call, analyze_calls
from hearkit.schema import Quality, QualityFlag, Result

from .conftest import SAMPLE_DIR


def _flagged() -> Result:
    result = Result.model_validate(json.loads((SAMPLE_DIR / "call_01_discovery.result.json").read_text()))
    swapped = QualityFlag(
        code="roles_maybe_swapped",
        meaning="channel 1 introduces itself as the rep",
        severity="warning",
        affects=["roles"],
    )
    result.quality = Quality(trust="medium", flags=[swapped], method="channels", speakers_found=2)
    return result


def test_explicit_roles_settle_the_doubt() -> None:
    result = _flagged()
    given = analyze_calls({"a": result}, roles={0: "customer", 1: "rep"}).calls.iloc[0]
    assert "roles_maybe_swapped" not in given["quality_flags"]
    assert "roles_set_by_user" in given["quality_flags"]
    assert given["trust"] == "high"
    # the same as with_roles on the call analysed without roles
    later = analyze_calls({"a": result}).with_roles({"a": {"speaker_0": "customer", "speaker_1": "rep"}})
    assert later.calls.iloc[0]["quality_flags"] == given["quality_flags"]
    assert later.calls.iloc[0]["talk_ratio_rep"] == given["talk_ratio_rep"]
    # without roles the doubt stays, and the caller's object is not changed
    plain = analyze_calls({"a": result}).calls.iloc[0]
    assert "roles_maybe_swapped" in plain["quality_flags"] and plain["trust"] == "medium"
    assert result.quality is not None and [f.code for f in result.quality.flags] == ["roles_maybe_swapped"]
    record = analyze_call(result, roles={0: "customer", 1: "rep"})
    assert record.quality is not None and "roles_maybe_swapped" not in [f.code for f in record.quality.flags]


def test_the_engines_own_channel_order_keeps_the_doubt() -> None:
    """{0: rep, 1: customer} (the tour's map, and what --rep A --customer B sends) is the order the
    engine doubts: the warning that the files or channels may be the wrong way round stays."""
    given = analyze_calls({"a": _flagged()}, roles={0: "rep", 1: "customer"}).calls.iloc[0]
    assert "roles_maybe_swapped" in given["quality_flags"]
    assert given["trust"] == "medium"
