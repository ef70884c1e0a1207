"""``longest_monologue_s``: continuous speech of one speaker, against hand-worked cases and the
turns of third-party RTTM annotations (read in place from ../shared/realdata) walked by
``reference.longest_stretch``, a plain loop over the definition's words."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hearkit.metrics import scorecards, speaker_stats

from .reference import longest_stretch


def _turns(rows: list[tuple[str, str, float, float]], call_id: str = "c") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "call_id": call_id,
            "speaker": [r[0] for r in rows],
            "role": [r[1] for r in rows],
            "start": [r[2] for r in rows],
            "end": [r[3] for r in rows],
            "text": "words here.",
        }
    )


def test_a_hold_is_not_a_monologue() -> None:
    """U4 finding 1: "Please hold" … 118 s of hold … "Thanks for holding" read as a 123 s monologue."""
    turns = _turns(
        [("a", "rep", 0, 5), ("b", "customer", 5.5, 9), ("a", "rep", 10, 12), ("a", "rep", 130, 133)]
    )
    card = scorecards(turns, durations={"c": 140}).iloc[0]
    assert card["longest_monologue_s_rep"] == pytest.approx(5.0)  # the first turn; 10–12 and 130–133 apart
    assert card["talk_s_rep"] == pytest.approx(10.0)


def test_the_speakers_own_short_turns_make_one_stretch() -> None:
    """Three 0.6–0.7 s phrases 0.4 s apart are 2.9 s of speech, not a 0.7 s monologue."""
    turns = _turns(
        [("a", "rep", 0, 0.7), ("a", "rep", 1.1, 1.8), ("a", "rep", 2.2, 2.9), ("b", "customer", 3.5, 8)]
    )
    card = scorecards(turns).iloc[0]
    assert card["longest_monologue_s_rep"] == pytest.approx(2.9)


def test_pause_limit_and_interjections() -> None:
    # A pause of 2.9 s keeps the stretch; 3.0 s ends it.
    kept = _turns([("a", "rep", 0, 10), ("a", "rep", 12.9, 20), ("b", "customer", 21, 22)])
    broken = _turns([("a", "rep", 0, 10), ("a", "rep", 13.0, 20), ("b", "customer", 21, 22)])
    assert scorecards(kept).iloc[0]["longest_monologue_s_rep"] == pytest.approx(20.0)
    assert scorecards(broken).iloc[0]["longest_monologue_s_rep"] == pytest.approx(10.0)
    # Another speaker's 0.5 s "mm hmm" between does not break it; a 1.5 s answer does.
    backchannel = _turns([("a", "rep", 0, 10), ("b", "customer", 10.2, 10.7), ("a", "rep", 11, 20)])
    answer = _turns([("a", "rep", 0, 10), ("b", "customer", 10.2, 11.7), ("a", "rep", 12, 20)])
    assert scorecards(backchannel).iloc[0]["longest_monologue_s_rep"] == pytest.approx(20.0)
    assert scorecards(answer).iloc[0]["longest_monologue_s_rep"] == pytest.approx(10.0)
    # The limit is an option.
    assert scorecards(broken, monologue_gap_s=5).iloc[0]["longest_monologue_s_rep"] == pytest.approx(20.0)
    with pytest.raises(ValueError, match="monologue_gap_s"):
        scorecards(broken, monologue_gap_s=-1)


def _rttm_turns(path: Path) -> dict[str, list[dict[str, Any]]]:
    calls: dict[str, list[dict[str, Any]]] = {}
    for line in path.read_text().splitlines():
        f = line.split()
        if not f or f[0] != "SPEAKER":
            continue
        start, dur = float(f[3]), float(f[4])
        calls.setdefault(f[1], []).append({"speaker": f[7], "start": start, "end": start + dur})
    return calls


def test_every_speaker_of_the_rttm_annotations(realdata: Path) -> None:
    files = [
        realdata / "pyannote_ami_debug" / "debug.development.rttm",
        realdata / "pyannote_ami_debug" / "debug.test.rttm",
        realdata / "pyannote_sample" / "sample.rttm",
    ]
    calls = {k: v for f in files for k, v in _rttm_turns(f).items()}
    assert len(calls) == 5
    frame = pd.DataFrame([{"call_id": c, **t} for c, turns in calls.items() for t in turns])
    stats = speaker_stats(frame).set_index(["call_id", "speaker"])
    checked = 0
    for call_id, turns in calls.items():
        for who in {t["speaker"] for t in turns}:
            assert stats.loc[(call_id, who), "longest_monologue_s"] == pytest.approx(
                longest_stretch(turns, who), abs=1e-6
            ), (call_id, who)
            checked += 1
    assert checked >= 10
    # U4's case: dev01's MEE012 speaks 22.464–23.920 and 29.072–29.544 with nobody between;
    # the 5.15 s pause ends the stretch, so these two are not one 7.08 s monologue.
    mee012 = [t for t in calls["dev01"] if t["speaker"] == "MEE012"]
    assert any(abs(t["start"] - 22.464) < 1e-3 for t in mee012)
    assert stats.loc[("dev01", "MEE012"), "longest_monologue_s"] < 7.0
