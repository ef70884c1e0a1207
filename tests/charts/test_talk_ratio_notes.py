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
    talk_box, talk_grey, words = fig.data[0], fig.data[1], fig.data[2]
    assert [cell[1] for cell in talk_box.customdata] == [""]  # "plain"
    assert [cell[1] for cell in talk_grey.customdata] == [" (unreliable: roles_guessed)"]  # "guessed"
    assert all(cell[1] == "" for cell in words.customdata) and len(words.x) == 2


def test_metric_distributions_leave_greyed_values_out_of_the_box() -> None:
    """U5 finding 14: six greyed rep talk ratios of eight made the box and its whiskers, drawn like the
    rest (only a hover said so); the table above greys them. Here 2 of 3 calls carry roles_guessed."""
    raw = json.loads(SAMPLE.read_text())
    results = {name: Result.model_validate(raw) for name in ("plain", "guessed_a", "guessed_b")}
    flag = QualityFlag(code="roles_guessed", meaning="guessed", severity="warning", affects=["roles"])
    for name in ("guessed_a", "guessed_b"):
        results[name].quality = Quality(trust="medium", flags=[flag], method="diarization", speakers_found=2)
    calls = analyze_calls(results, summaries=False).calls
    calls.loc[calls["call_id"] == "guessed_a", "talk_ratio_rep"] = 0.10  # an outlier among the greyed
    fig = charts.metric_distributions(calls, ["talk_ratio_rep"])
    box, grey = fig.data
    plain_value = float(calls.loc[calls["call_id"] == "plain", "talk_ratio_rep"].iloc[0])
    assert list(box.x) == [round(plain_value, 4)]  # the box's statistics: the plain value only
    assert sorted(grey.x)[0] == 0.1 and len(grey.x) == 2
    assert grey.line.width == 0 and grey.hoveron == "points" and grey.marker.symbol == "circle-open"
    assert fig.layout.annotations[0].text.endswith("(2 of 3 greyed, grey points: not in the box)")
