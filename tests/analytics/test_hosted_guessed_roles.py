"""A result without a quality block (the hosted API's) whose rep and customer are a guess: the report
and the dashboard grey its rep talk alike (U2 finding 4, re-checked: on the local engine's results both
grey it now, but a hosted result's guess was shown plain in both, trust "not measured"). Sample call
03's stored mono result has no block, and its roles come from who asked more questions."""

from __future__ import annotations

import json
import re

import numpy as np

from hearkit import report
from hearkit.dashboard import Selection, build_index, calls_table_html
from hearkit.record import analyze_calls

from .conftest import SAMPLE_DIR


def test_a_hosted_result_with_guessed_roles_is_greyed_in_report_and_dashboard() -> None:
    results = {
        cid: json.loads((SAMPLE_DIR / f"{cid}.mono.result.json").read_text())
        for cid in ("call_03_pricing", "call_01_discovery")
    }
    assert all("quality" not in r or r["quality"] is None for r in results.values())  # as the hosted API's
    calls = analyze_calls(results, summaries=False)
    sources = calls.turns.groupby("call_id")["role_source"].first().to_dict()
    assert sources == {"call_03_pricing": "inferred_questions", "call_01_discovery": "inferred_greeting"}
    frame = calls.calls.set_index("call_id")
    assert frame.loc["call_03_pricing", "quality_flags"] == "transcript_not_checked,roles_guessed"
    assert frame.loc["call_01_discovery", "trust"] == "not measured"  # a greeting told them apart

    html = report.render_html(calls)
    greyed_report = set(re.findall(r'title="unreliable: roles_guessed: [^"]*"[^>]*>([\d.]+%)', html))
    index = build_index(calls)
    everything = Selection(mask=np.ones(len(calls), dtype=bool), call_ids=tuple(calls.call_ids))
    table = calls_table_html(index, everything)
    rows = dict(re.findall(r'<tr data-call-id="([^"]+)">(.*?)</tr>', table, flags=re.S))
    assert 'title="unreliable: roles_guessed' in rows["call_03_pricing"]
    assert "unreliable" not in rows["call_01_discovery"]
    share = f"{frame.loc['call_03_pricing', 'talk_ratio_rep']:.1%}"
    assert greyed_report == {share}  # the one greyed rep talk cell of the report is call 03's
