"""A set made of ``CallRecord``s keeps the calls' words (U4 finding 24's remainder:
``CallSet.from_records`` had an empty words frame, so ``search`` timed every phrase by interpolating
within its turn instead of by the words' own timestamps)."""

from __future__ import annotations

import json

from hearkit.record import CallRecord, CallSet, analyze_call, analyze_calls

from .conftest import SAMPLE_DIR

ROLES = {0: "rep", 1: "customer"}


def test_records_keep_their_words_and_a_json_record_says_what_it_lacks() -> None:
    result = json.loads((SAMPLE_DIR / "call_03_pricing.result.json").read_text())
    whole = analyze_calls({"c3": result}, roles=ROLES, summaries=False)
    record = analyze_call(result, call_id="c3", roles=ROLES, summary=False)

    made = CallSet.from_records([record])
    assert len(made.words) == len(result["words"]) == len(whole.words)
    found = made.search("per seat")
    assert set(found["time_source"]) == {"words"}
    assert found[["start", "end"]].equals(whole.search("per seat")[["start", "end"]])
    assert record.words_frame() is not None and len(record.words_frame()) == len(result["words"])

    # the record's JSON has no words (that is stated): search then interpolates, and says so per row
    read_back = CallRecord.model_validate_json(record.model_dump_json())
    assert "words" not in json.loads(record.model_dump_json())
    assert read_back.words_frame() is None
    assert set(CallSet.from_records([read_back]).search("per seat")["time_source"]) == {"interpolated"}

    # a yes/no metric stays one in the record (pydantic made pricing_late 0.0)
    assert record.metrics["pricing_late"] is bool(whole.calls["pricing_late"].iloc[0])
