"""The talk-ratio chart says "not measured" and "unreliable" as the tables do (U4 finding 5: a not
measured call's hover read "rep: 0.0% of talk (0:00)", and a roles_guessed call was a plain bar)."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from hearkit import charts
from hearkit.record import analyze_calls
from hearkit.schema import Quality, QualityFlag, Result

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data" / "call_01_discovery.result.json"


def test_hover_and_opacity_follow_the_quality() -> None:
    raw = json.loads(SAMPLE.read_text())
    plain, guessed, unroled = (Result.model_validate(raw) for _ in range(3))
    flag = QualityFlag(
        code="roles_guessed", meaning="rep and customer were guessed", severity="warning", affects=["roles"]
    )
    guessed.quality = Quality(trust="medium", flags=[flag], method="diarization", speakers_found=2)
    calls = analyze_calls(
        {"plain": plain, "guessed": guessed}, roles={0: "rep", 1: "customer"}, summaries=False
    )
    lone = analyze_calls({"unroled": unroled}, roles={0: "rep"}, summaries=False)  # speaker 1 has no role
    frame = pd.concat([calls.calls, lone.calls], ignore_index=True)
    turns = pd.concat([calls.turns, lone.turns], ignore_index=True)
    fig = charts.talk_ratio(turns, frame)
    rep = next(t for t in fig.data if t.name == "rep")
    by_call = dict(zip(rep.y, rep.customdata, strict=True))
    opacity = dict(zip(rep.y, rep.marker.opacity, strict=True))
    assert by_call["unroled"][1] == "not measured (no_role)"
    assert "unreliable: roles_guessed" in by_call["guessed"][1]
    assert "% of talk (" in by_call["plain"][1]
    assert "unreliable" not in by_call["plain"][1]
    assert opacity["guessed"] == 0.45 and opacity["plain"] == 1.0


def test_metric_distributions_say_which_points_are_greyed() -> None:
    """U4 finding 5's addendum: the roles_guessed call's rep talk ratio was an ordinary point."""
    raw = json.loads(SAMPLE.read_text())
    plain, guessed = Result.model_validate(raw), Result.model_validate(raw)
    flag = QualityFlag(code="roles_guessed", meaning="guessed", severity="warning", affects=["roles"])
    guessed.quality = Quality(trust="medium", flags=[flag], method="diarization", speakers_found=2)
    calls = analyze_calls({"plain": plain, "guessed": guessed}, summaries=False).calls
    fig = charts.metric_distributions(calls, ["talk_ratio_rep", "words_rep"])
    talk, words = fig.data[0], fig.data[1]
    notes = dict(zip(["plain", "guessed"], [cell[1] for cell in talk.customdata], strict=True))
    assert notes == {"plain": "", "guessed": " (unreliable: roles_guessed)"}
    assert all(cell[1] == "" for cell in words.customdata)
