"""A set or report made of ``CallRecord``s keeps each record's quality block (U4 finding 24: trust
"not measured" and nothing greyed, though every record carried its block)."""

from __future__ import annotations

import json

from hearkit import report
from hearkit.record import CallSet, analyze_call
from hearkit.schema import Quality, QualityFlag, Result

from .conftest import SAMPLE_DIR


def test_from_records_and_the_report_keep_the_quality_block() -> None:
    result = Result.model_validate(json.loads((SAMPLE_DIR / "call_01_discovery.result.json").read_text()))
    flag = QualityFlag(
        code="roles_maybe_swapped",
        meaning="channel 1 introduces itself as the rep",
        severity="warning",
        affects=["roles"],
    )
    result.quality = Quality(trust="medium", flags=[flag], method="channels", speakers_found=2)
    record = analyze_call(result, call_id="c1")
    calls = CallSet.from_records([record]).calls.iloc[0]
    assert calls["trust"] == "medium"
    assert calls["quality_flags"] == "roles_maybe_swapped"
    html = report.render_html(record)
    assert "roles_maybe_swapped" in html
    assert 'class="num unreliable" title="unreliable: roles_maybe_swapped' in html
