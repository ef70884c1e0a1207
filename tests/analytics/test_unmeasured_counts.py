"""A call whose quality block says a metric was not measured holds "not measured" in every column
of it, counts included (U4 finding 4: one_voice blanked talk_ratio_rep but left "0 interruptions",
"4 switches", "3 rep questions" as measurements)."""

from __future__ import annotations

import json

import pandas as pd

from hearkit.record import analyze_call, analyze_calls
from hearkit.schema import Quality, QualityFlag, Result

from .conftest import SAMPLE_DIR

COUNTS = ("interruptions_rep", "interruptions_customer", "interruptions_total", "switches", "overtalk_count")


def _results() -> tuple[Result, Result]:
    raw = json.loads((SAMPLE_DIR / "call_06_overtalk.result.json").read_text())
    plain = Result.model_validate(raw)
    flagged = Result.model_validate(raw)
    # The flag as the engine writes it (hearkit/engine/pipeline/quality.py).
    flag = QualityFlag(
        code="one_voice",
        meaning="one voice found in a two-party call",
        severity="unreliable",
        affects=["speaker_count", "talk_ratio", "roles"],
    )
    flagged.quality = Quality(trust="low", flags=[flag], method="channels", speakers_found=1)
    plain.quality = Quality(trust="high", flags=[], method="channels", speakers_found=2)
    return plain, flagged


def test_counts_are_not_measured_where_the_quality_block_says_so() -> None:
    plain, flagged = _results()
    calls = analyze_calls({"plain": plain, "flagged": flagged}).calls.set_index("call_id")
    for column in (*COUNTS, "questions_rep", "talk_ratio_rep", "overtalk_s"):
        assert pd.isna(calls.loc["flagged", column]), column
        assert not pd.isna(calls.loc["plain", column]), column
    # the planted call's counts stay as measured on the unflagged copy
    assert calls.loc["plain", "interruptions_total"] == 8
    assert calls.loc["plain", "switches"] > 0
    # what is not affected stays
    assert calls.loc["flagged", "words_rep"] == calls.loc["plain", "words_rep"]
    assert calls.loc["flagged", "hits_pricing"] == calls.loc["plain", "hits_pricing"]


def test_the_one_call_record_says_none() -> None:
    _, flagged = _results()
    metrics = analyze_call(flagged).metrics
    for column in (*COUNTS, "questions_rep", "talk_ratio_rep"):
        assert metrics[column] is None, column
