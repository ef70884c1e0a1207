"""Bad input to the metrics: each case has its documented outcome (clipped, merged, dropped, flagged)."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
import pytest

from hearkit.metrics import MetricOptions, clean_turns, data_flag_words, scorecards

RATIOS = ["talk_ratio_rep", "talk_ratio_customer", "talk_ratio_other"]


def frame(*rows: tuple[Any, ...], columns: tuple[str, ...] = ("call_id", "speaker", "role", "start", "end")):
    return pd.DataFrame(list(rows), columns=list(columns))


def one(cards: pd.DataFrame, call_id: str = "c") -> pd.Series:
    return cards.set_index("call_id").loc[call_id]


def flags(row: pd.Series) -> set[str]:
    return set(filter(None, str(row["flags"]).split(",")))


def test_empty_turns_frame_gives_no_rows_but_the_columns() -> None:
    cards = scorecards(frame())
    assert cards.empty and "talk_ratio_rep" in cards.columns


def test_empty_call_listed_in_calls_is_no_talk_with_nan_ratios() -> None:
    cards = scorecards(frame(), durations={"empty": 30.0}, calls=["empty"])
    row = one(cards, "empty")
    assert "no_talk" in flags(row)
    assert all(math.isnan(row[c]) for c in [*RATIOS, "longest_monologue_s", "patience_s"])
    assert row["silence_share"] == 1.0 and row["duration_s"] == 30.0


def test_a_typo_in_a_durations_key_is_an_error_naming_it_and_the_calls() -> None:
    # 'cal_1' for 'call_1': it made a third, silent call flagged no_talk, and call_1 lost its length
    turns = frame(("call_1", "a", "rep", 0.0, 10.0), ("call_2", "a", "rep", 0.0, 5.0))
    with pytest.raises(ValueError, match=r"'cal_1'.*'call_1', 'call_2'.*calls=") as info:
        scorecards(turns, durations={"cal_1": 60.0, "call_2": 30.0})
    assert "'call_2'" not in str(info.value).split("The calls are")[0]  # the good key is not blamed


def test_durations_of_known_calls_still_score_every_call() -> None:
    turns = frame(("call_1", "a", "rep", 0.0, 10.0), ("call_2", "a", "rep", 0.0, 5.0))
    cards = scorecards(turns, durations={"call_1": 60.0}, calls=["call_3"])
    assert sorted(cards["call_id"]) == ["call_1", "call_2", "call_3"]
    assert one(cards, "call_1")["duration_s"] == 60.0
    assert "no_talk" in flags(one(cards, "call_3"))


def test_only_zero_length_segments_is_no_talk_not_a_division_error() -> None:
    cards = scorecards(frame(("c", "a", "rep", 5.0, 5.0), ("c", "b", "customer", 6.0, 6.0)))
    row = one(cards)
    assert {"no_talk", "zero_length"} <= flags(row)
    assert all(math.isnan(row[c]) for c in RATIOS)


def test_end_before_start_is_clipped_to_zero_length_and_flagged() -> None:
    turns = frame(("c", "a", "rep", 0.0, 10.0), ("c", "b", "customer", 20.0, 12.0))
    row = one(scorecards(turns))
    assert "end_before_start" in flags(row)
    assert row["talk_s_rep"] == 10.0 and row["talk_s_customer"] == 0.0
    assert row["talk_ratio_rep"] == 1.0 and row["talk_ratio_customer"] == 0.0


def test_nan_times_are_dropped_and_flagged() -> None:
    turns = frame(
        ("c", "a", "rep", 0.0, 4.0), ("c", "b", "customer", np.nan, 9.0), ("c", "b", "customer", 5.0, 7.0)
    )
    row = one(scorecards(turns))
    assert "nan_times" in flags(row)
    assert row["talk_s_customer"] == 2.0 and row["n_turns"] == 2


def test_negative_start_and_times_past_the_duration_are_clipped() -> None:
    turns = frame(("c", "a", "rep", -3.0, 4.0), ("c", "b", "customer", 8.0, 15.0))
    row = one(scorecards(turns, durations={"c": 10.0}))
    assert "clipped" in flags(row)
    assert row["talk_s_rep"] == 4.0 and row["talk_s_customer"] == 2.0
    assert row["silence_s"] == pytest.approx(4.0)


def test_overlapping_segments_of_one_speaker_are_merged_not_double_counted() -> None:
    turns = frame(("c", "a", "rep", 0.0, 10.0), ("c", "a", "rep", 5.0, 12.0), ("c", "a", "rep", 5.0, 12.0))
    turns = pd.concat([turns, frame(("c", "b", "customer", 13.0, 15.0))], ignore_index=True)
    row = one(scorecards(turns))
    assert "self_overlap" in flags(row)
    assert row["talk_s_rep"] == 12.0
    assert row["overtalk_s"] == 0.0 and row["interruptions_total"] == 0


def test_missing_speaker_falls_back_to_channel_then_speaker_0() -> None:
    turns = pd.DataFrame(
        {
            "call_id": ["c", "c", "d"],
            "speaker": [None, "x", None],
            "channel": pd.array([1, 0, None], dtype="Int64"),
            "start": [0.0, 3.0, 0.0],
            "end": [2.0, 4.0, 1.0],
        }
    )
    cleaned, flag_counts = clean_turns(turns)
    assert cleaned["speaker"].tolist() == ["channel_1", "x", "speaker_0"]
    assert (cleaned["role"] == "unknown").all()
    assert flag_counts.set_index("call_id")["missing_speaker"].to_dict() == {"c": 1, "d": 1}
    cards = scorecards(turns)
    assert math.isnan(one(cards, "c")["talk_ratio_other"])  # no roles at all: not measured
    assert "no_role" in flags(one(cards, "c"))
    assert pd.isna(one(cards, "c")["interruptions_rep"])  # no rep: not measured, not 0


@pytest.mark.parametrize(
    "roles",
    [None, ["rep", "unknown"], ["rep", None], ["customer", ""]],
    ids=["no role column", "one unknown", "one missing", "one blank"],
)
def test_talk_without_a_role_is_not_measured_and_flagged(roles: list[Any] | None) -> None:
    # the rep talks 6 s of 10: with a speaker of no role, a rep ratio of 0 (or 0.6) was printed as fact
    turns = pd.DataFrame(
        {"call_id": ["c", "c"], "speaker": ["a", "b"], "start": [0.0, 6.0], "end": [6.0, 10.0]}
    )
    if roles is not None:
        turns["role"] = roles
    row = one(scorecards(turns))
    assert all(math.isnan(row[c]) for c in RATIOS)
    assert "no_role" in flags(row)
    assert "talk ratios not measured; set the roles" in data_flag_words(row["flags"])


def test_roles_of_every_speaker_give_ratios_and_no_flag() -> None:
    turns = frame(("c", "a", "rep", 0.0, 6.0), ("c", "b", "manager", 6.0, 10.0))  # 'manager' is a role
    row = one(scorecards(turns))
    assert (row["talk_ratio_rep"], row["talk_ratio_customer"], row["talk_ratio_other"]) == (0.6, 0.0, 0.4)
    assert "no_role" not in flags(row)


@pytest.mark.parametrize(
    ("rep", "customer"), [("REP", "Customer"), (" rep ", "customer\t"), ("Rep", "CUSTOMER")]
)
def test_role_names_are_matched_ignoring_case_and_spaces(rep: str, customer: str) -> None:
    # a frame of one's own with 'Rep'/'Customer' gave rep 0 %, customer 0 %, other 100 %, no flag
    turns = frame(("c", "a", rep, 0.0, 6.0), ("c", "b", customer, 6.0, 10.0))
    row = one(scorecards(turns))
    assert (row["talk_ratio_rep"], row["talk_ratio_customer"], row["talk_ratio_other"]) == (0.6, 0.4, 0.0)
    assert flags(row) == {"duration_from_turns"}


@pytest.mark.parametrize(
    "roles", [("agent", "caller"), ("Sales", "Prospect"), ("other_person",)], ids=["agent", "sales", "one"]
)
def test_a_call_with_no_rep_and_no_customer_is_not_measured_and_flagged(roles: tuple[str, ...]) -> None:
    # contact-centre names ('agent'/'caller') gave rep 0 %, customer 0 %, other 100 %, read as fact
    turns = frame(*[("c", f"s{i}", role, 4.0 * i, 4.0 * i + 3) for i, role in enumerate(roles)])
    row = one(scorecards(turns))
    assert all(math.isnan(row[c]) for c in RATIOS)
    assert flags(row) - {"single_speaker"} == {"no_rep_or_customer", "duration_from_turns"}
    assert "no speaker is the rep or the customer" in data_flag_words(row["flags"])
    assert row["talk_s_other"] == 3.0 * len(roles)  # the times are still measured


@pytest.mark.parametrize("bad", [np.inf, -np.inf, "x"])
def test_an_infinite_or_non_numeric_time_drops_the_turn_not_the_call(bad: Any) -> None:
    # one end of inf made the call's length infinite: every ratio NaN and the call flagged no_talk
    turns = frame(
        ("c", "a", "rep", 0.0, 6.0), ("c", "b", "customer", 6.0, 10.0), ("c", "b", "customer", 11.0, bad)
    )
    turns["end"] = turns["end"].astype(object)
    row = one(scorecards(turns))
    assert (row["talk_ratio_rep"], row["duration_s"]) == (0.6, 10.0)
    assert flags(row) == {"nan_times", "duration_from_turns"}


@pytest.mark.parametrize(("scale", "offset"), [(1000.0, 0.0), (1.0, 1.7e9)], ids=["milliseconds", "epoch"])
def test_times_that_are_not_seconds_into_the_call_are_refused(scale: float, offset: float) -> None:
    """Milliseconds made a 2-minute call 33 hours long (0.1 words a minute, hours of monologue), and
    clock times 54 years of silence, without a word."""
    turns = frame(("c", "a", "rep", 0.0, 60.0), ("c", "b", "customer", 60.0, 120.0))
    turns["start"], turns["end"] = turns["start"] * scale + offset, turns["end"] * scale + offset
    with pytest.raises(
        ValueError, match=r"in call 'c' .*: start and end are seconds from the start of the call"
    ):
        scorecards(turns)
    day = frame(
        ("c", "a", "rep", 0.0, 3600.0), ("c", "b", "customer", 3600.0, 23 * 3600.0)
    )  # a long recording
    assert one(scorecards(day))["duration_s"] == 23 * 3600.0
    known = one(scorecards(turns, durations={"c": 120.0}))  # a result's audio_seconds: clipped, flagged
    assert "clipped" in flags(known) and known["duration_s"] == 120.0


def test_one_speaker_call_is_flagged_and_ratios_still_sum_to_one() -> None:
    turns = frame(("c", "a", "rep", 0.0, 5.0), ("c", "a", "rep", 6.0, 9.0))
    row = one(scorecards(turns))
    assert "single_speaker" in flags(row)
    assert row["talk_ratio_rep"] == 1.0 and sum(row[c] for c in RATIOS) == 1.0
    assert row["interruptions_total"] == 0 and row["overtalk_s"] == 0.0 and row["switches"] == 0
    assert math.isnan(row["patience_s"]) and math.isnan(row["talk_s_customer"])


def test_missing_required_columns_say_what_to_do() -> None:
    with pytest.raises(ValueError, match=r"hearkit\.transcript\.turns"):
        scorecards(pd.DataFrame({"call_id": ["c"], "speaker": ["a"]}))
    with pytest.raises(TypeError, match="DataFrame"):
        scorecards([{"call_id": "c"}])  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="call_id"):
        scorecards(frame((None, "a", "rep", 0.0, 1.0)))


def test_bad_options_and_durations_are_refused() -> None:
    with pytest.raises(ValueError, match="min_overlap_s"):
        MetricOptions(min_overlap_s=-1)
    turns = frame(("c", "a", "rep", 0.0, 1.0))
    with pytest.raises(ValueError, match="≥ 0") as caught:
        scorecards(turns, durations={"c": -5.0})
    assert "negative: 'c': -5.0" in str(caught.value)
    with pytest.raises(ValueError, match="no number: 'c': 'abc'"):  # was pandas' "could not convert string"
        scorecards(turns, durations={"c": "abc"})
    with pytest.raises(ValueError, match="infinite: 'c': inf"):  # made silence and share infinite
        scorecards(turns, durations={"c": float("inf")})
    row = one(scorecards(turns, durations={"c": None}))  # not known: from the turns, flagged
    assert row["duration_s"] == 1.0 and "duration_from_turns" in flags(row)


def test_unpunctuated_lowercase_text_counts_questions_by_question_words() -> None:
    turns = pd.DataFrame(
        {
            "call_id": ["c"] * 3,
            "speaker": ["a", "b", "a"],
            "role": ["rep", "customer", "rep"],
            "start": [0.0, 3.0, 6.0],
            "end": [2.0, 5.0, 8.0],
            "text": ["how many reps do you have", "about forty um forty two", "can we meet tuesday"],
        }
    )
    row = one(scorecards(turns))
    assert row["questions_rep"] == 2 and row["questions_customer"] == 0
    assert row["fillers_customer"] == 1


def test_interruption_threshold_is_configurable() -> None:
    # Customer starts 0.4 s before the rep stops and talks on: an interruption at 0.3 s, not at 0.5 s.
    turns = frame(("c", "a", "rep", 0.0, 5.0), ("c", "b", "customer", 4.6, 8.0))
    assert one(scorecards(turns))["interruptions_customer"] == 1
    assert one(scorecards(turns, min_overlap_s=0.5))["interruptions_customer"] == 0
    assert one(scorecards(turns))["overtalk_s"] == pytest.approx(0.4)


def test_every_data_flag_is_shown_to_readers_in_words() -> None:
    """A trial saw 'zero_length' in `hearkit analyze`'s scorecard with nothing saying what it meant."""
    from hearkit.metrics import DATA_FLAG_WORDS, data_flag_words
    from hearkit.views import metric_items

    turns = pd.DataFrame(
        {
            "call_id": ["c", "c", "c"],
            "speaker": ["a", "b", "a"],
            "role": ["rep", "customer", "rep"],
            "start": [0.0, 2.0, 5.0],
            "end": [1.5, 2.0, 6.0],  # the customer's turn has no length
            "text": ["hello", "hi", "bye"],
        }
    )
    row = scorecards(turns).iloc[0]
    raised = flags(row)
    assert "zero_length" in raised and raised <= set(DATA_FLAG_WORDS)
    (shown,) = [item["value"] for item in metric_items(row) if item["label"] == "data flags"]
    assert "zero_length (turns of no length" in shown
    assert data_flag_words("") == "" and data_flag_words("a_future_flag") == "a_future_flag"
