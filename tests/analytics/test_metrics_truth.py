"""Every scorecard metric against the exact ground truth of every sample call.

Expected values come from ``reference.py`` (simple loops over the truth JSON, no hearkit code) and
from facts of the scripts themselves (where overtalk was planted, which call has the monologue).
"""

from __future__ import annotations

import math
from typing import Any

import pandas as pd
import pytest

from hearkit.metrics import scorecards, speaker_stats

from .reference import reference_metrics

TOL = 1e-6


@pytest.fixture(scope="module")
def cards(truths: list[dict[str, Any]], truth_turns_frame: pd.DataFrame) -> pd.DataFrame:
    durations = {t["call_id"]: t["duration_s"] for t in truths}
    return scorecards(truth_turns_frame, durations=durations).set_index("call_id")


def test_one_row_per_sample_call(truths: list[dict[str, Any]], cards: pd.DataFrame) -> None:
    assert sorted(cards.index) == sorted(t["call_id"] for t in truths)
    assert len(truths) >= 6
    assert (cards["flags"] == "").all()


@pytest.mark.parametrize("index", range(7))
def test_scorecard_matches_reference(index: int, truths: list[dict[str, Any]], cards: pd.DataFrame) -> None:
    truth = truths[index]
    ref = reference_metrics(truth)
    row = cards.loc[truth["call_id"]]
    assert row["duration_s"] == pytest.approx(ref["duration_s"], abs=TOL)
    for role in ("rep", "customer"):
        assert row[f"talk_s_{role}"] == pytest.approx(ref["talk_s"][role], abs=TOL)
        assert row[f"talk_ratio_{role}"] == pytest.approx(ref["talk_ratio"][role], abs=TOL)
        assert row[f"share_of_call_{role}"] == pytest.approx(ref["share_of_call"][role], abs=TOL)
        assert row[f"interruptions_{role}"] == ref["interruptions"][role]
        assert row[f"questions_{role}"] == ref["questions"][role]
        assert row[f"words_{role}"] == ref["words"][role]
        assert row[f"wpm_{role}"] == pytest.approx(ref["wpm"][role], rel=1e-9)
        assert row[f"fillers_{role}"] == ref["fillers"][role]
    assert row["talk_ratio_other"] == 0.0
    assert row["speech_s"] == pytest.approx(ref["speech_s"], abs=TOL)
    assert row["silence_s"] == pytest.approx(ref["silence_s"], abs=TOL)
    assert row["silence_share"] == pytest.approx(ref["silence_s"] / ref["duration_s"], abs=TOL)
    assert row["overtalk_s"] == pytest.approx(ref["overtalk_s"], abs=TOL)
    assert row["overtalk_count"] == ref["overtalk_count"]
    assert row["switches"] == ref["switches"]
    assert row["interactivity_per_min"] == pytest.approx(ref["interactivity_per_min"], rel=1e-9)
    assert row["patience_s"] == pytest.approx(ref["patience_s"], abs=TOL)
    assert row["longest_monologue_s_rep"] == pytest.approx(ref["longest"]["rep"], abs=TOL)
    assert row["longest_story_s_customer"] == pytest.approx(ref["longest"]["customer"], abs=TOL)
    assert row["longest_monologue_s"] == pytest.approx(max(ref["longest"].values()), abs=TOL)


def test_planted_conversation_shapes(cards: pd.DataFrame) -> None:
    """Facts of the scripts, independent of any metric code."""
    overtalk_calls = {"call_06_overtalk", "call_07_monologue"}  # interruptions / backchannels
    for call_id, row in cards.iterrows():
        if call_id not in overtalk_calls:
            assert row["overtalk_s"] == 0 and row["interruptions_total"] == 0
    assert cards.loc["call_06_overtalk", "interruptions_total"] >= 6
    # The monologue call: one rep turn of > 2 minutes, four backchannels that don't interrupt.
    mono = cards.loc["call_07_monologue"]
    assert mono["longest_monologue_s_rep"] > 120
    assert mono["interruptions_total"] == 0
    assert mono["talk_ratio_rep"] > 0.8
    assert cards["longest_monologue_s_rep"].idxmax() == "call_07_monologue"


def test_ratios_sum_to_one(cards: pd.DataFrame) -> None:
    total = cards[["talk_ratio_rep", "talk_ratio_customer", "talk_ratio_other"]].sum(axis=1)
    assert ((total - 1).abs() < 1e-12).all()


def test_speaker_stats_agree_with_scorecards(
    truths: list[dict[str, Any]], truth_turns_frame: pd.DataFrame, cards: pd.DataFrame
) -> None:
    stats = speaker_stats(truth_turns_frame, durations={t["call_id"]: t["duration_s"] for t in truths})
    assert len(stats) == 2 * len(truths)
    rep = stats[stats["role"] == "rep"].set_index("call_id")
    assert rep["talk_s"].to_dict() == pytest.approx(cards["talk_s_rep"].to_dict())
    # The monologue call's backchannels are recognised as such.
    cust = stats[stats["role"] == "customer"].set_index("call_id")
    assert cust.loc["call_07_monologue", "backchannels"] == 4


def test_words_frame_gives_the_same_word_counts(
    truths: list[dict[str, Any]], truth_turns_frame: pd.DataFrame, truth_words_frame: pd.DataFrame
) -> None:
    durations = {t["call_id"]: t["duration_s"] for t in truths}
    with_words = scorecards(truth_turns_frame, truth_words_frame, durations=durations)
    without = scorecards(truth_turns_frame.drop(columns=["n_words"]), durations=durations)
    assert with_words["words_rep"].tolist() == without["words_rep"].tolist()
    assert not math.isnan(with_words["wpm_customer"].iloc[0])


def test_turns_missing_their_role_take_their_speakers_role(
    truths: list[dict[str, Any]], truth_turns_frame: pd.DataFrame
) -> None:
    """A trial blanked the role of every third turn: the rep's talk went to 'other' (rep 0 %, no flag)."""
    turns = truth_turns_frame.copy()
    turns["role"] = turns["role"].astype(object)
    turns.loc[turns.index % 3 == 0, "role"] = None
    durations = {t["call_id"]: t["duration_s"] for t in truths}
    blanked = scorecards(turns, durations=durations).set_index("call_id")
    for truth in truths:
        ref = reference_metrics(truth)
        row = blanked.loc[truth["call_id"]]
        assert row["talk_ratio_rep"] == pytest.approx(ref["talk_ratio"]["rep"], abs=TOL)
        assert "no_role" not in row["flags"]
