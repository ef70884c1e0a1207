"""A job without a result among ``analyze_calls`` sources (U4 finding 19): flagged ``no_result``, its
numbers not measured, and the job's error in the row and the report card (it was a silent 0-second
``no_talk`` call with "speaker switches 0")."""

from __future__ import annotations

import json

import pandas as pd

from hearkit import report
from hearkit.record import analyze_calls

from .conftest import SAMPLE_DIR

FAILED = {
    "job_id": "job_x",
    "status": "failed",
    "created_at": 1,
    "updated_at": 2,
    "error": "the file is not decodable audio",
}


def test_a_failed_job_says_so() -> None:
    ok = json.loads((SAMPLE_DIR / "call_01_discovery.result.json").read_text())
    calls = analyze_calls({"ok": ok, "failed": FAILED})
    row = calls.calls.set_index("call_id").loc["failed"]
    assert row["flags"] == "no_result"
    assert row["job_error"] == "failed: the file is not decodable audio"
    for column in (
        "duration_s",
        "speech_s",
        "switches",
        "interruptions_total",
        "talk_ratio_rep",
        "overtalk_count",
    ):
        assert pd.isna(row[column]), column
    good = calls.calls.set_index("call_id").loc["ok"]
    assert good["job_error"] == "" and good["duration_s"] > 150 and good["switches"] > 0
    html = report.render_html(calls)
    assert "failed: the file is not decodable audio" in html
    assert "no transcript" in html
