"""A call transcribed with a vocabulary prompt says so wherever it is shown (U5 finding 16: on AWS
call 40 the prompt dropped 29 of 698 words, a rep sentence with its action item and every customer
filler, and nothing in the dataset, record, report or dashboard said the transcript was prompted)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from hearkit import report
from hearkit.dashboard import dashboard
from hearkit.record import CallSet, analyze_calls

from .conftest import SAMPLE_DIR

NOTE = "prompted with vocabulary Gong, Clari: words, fillers, questions and action items may differ"


def _results() -> dict[str, object]:
    return {
        cid: json.loads((SAMPLE_DIR / f"{name}.result.json").read_text())
        for cid, name in (("told", "call_01_discovery"), ("plain", "call_02_demo"))
    }


def test_the_vocabulary_is_kept_per_call_and_said_in_report_and_dashboard(tmp_path: Path) -> None:
    calls = analyze_calls(_results(), vocabulary={"told": ["Gong", " Clari ", "Gong"]}, summaries=False)
    assert calls.calls.set_index("call_id")["vocabulary"].to_dict() == {"told": "Gong, Clari", "plain": ""}
    assert calls.record("told").vocabulary == ["Gong", "Clari"]
    assert calls.record("plain").vocabulary == []
    assert "vocabulary" not in calls.record("told").metrics  # a record field, not a metric

    again = CallSet.from_records(calls.records())  # a set of records keeps it
    assert again.calls.set_index("call_id")["vocabulary"].to_dict() == {"told": "Gong, Clari", "plain": ""}
    loaded = CallSet.load(calls.save(tmp_path / "set"))  # and so does a saved one
    assert loaded.record("told").vocabulary == ["Gong", "Clari"]

    html = report.render_html(calls)
    assert html.count(NOTE) == 1  # on the prompted call's card only

    board = dashboard(calls)
    board.call_picker.value = "told"
    assert NOTE in board.summary.value
    board.call_picker.value = "plain"
    assert "prompted with vocabulary" not in board.summary.value


def test_one_list_is_every_call_and_a_bare_string_is_refused() -> None:
    calls = analyze_calls(_results(), vocabulary=["Gong"], summaries=False)
    assert calls.calls["vocabulary"].tolist() == ["Gong", "Gong"]
    with pytest.raises(ValueError, match=r"vocabulary=\['Gong'\]"):
        analyze_calls(_results(), vocabulary="Gong", summaries=False)
    with pytest.raises(ValueError, match="key it by call_id"):
        analyze_calls(_results(), vocabulary={"call_01_discovery.wav": ["Gong"]}, summaries=False)
