"""The pure filter path: ``build_index`` + ``apply_filters`` against a plain pandas reading of the frames."""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hearkit.dashboard import FilterState, apply_filters, build_index, calls_table_html, parse_search
from tests.dashboard.conftest import TRACKERS, WORDS, Frames, make_frames

FRAMES = make_frames(200, seed=3)
INDEX = build_index(FRAMES)


def facts(frames: Frames) -> list[dict[str, object]]:
    """What each call's filters look at, read row by row from the frames (no index, no numpy masks)."""
    out = []
    for call in frames.calls.itertuples(index=False):
        turns = frames.turns[frames.turns["call_id"] == call.call_id]
        out.append(
            {
                "call_id": call.call_id,
                "rep": call.rep,
                "team": call.team,
                "day": dt.date.fromisoformat(call.date) if isinstance(call.date, str) else None,
                "hits": set(frames.hits.loc[frames.hits["call_id"] == call.call_id, "tracker"]),
                # A phrase matches inside one turn, never across two.
                "text": "\n".join(" ".join(t.lower().split()) for t in turns["text"]),
                "talk": call.talk_ratio_rep,
                "duration": call.duration_s,
            }
        )
    return out


FACTS = facts(FRAMES)


def expected_ids(state: FilterState) -> list[str]:
    kept = []
    for f in FACTS:
        checks = [
            not state.reps or f["rep"] in state.reps,
            not state.teams or f["team"] in state.teams,  # no team ('' or None) is in no team
            state.date_from is None or f["day"] >= state.date_from,
            state.date_to is None or f["day"] <= state.date_to,
            not state.trackers
            or (all if state.tracker_mode == "all" else any)(t in f["hits"] for t in state.trackers),
            state.talk_ratio is None or state.talk_ratio[0] <= f["talk"] <= state.talk_ratio[1],
            state.duration_s is None or state.duration_s[0] <= f["duration"] <= state.duration_s[1],
            all(term in f["text"] for term in parse_search(state.search)),
        ]
        if all(checks):
            kept.append(f["call_id"])
    return kept


def ranges(low: float, high: float) -> st.SearchStrategy[tuple[float, float] | None]:
    pair = st.tuples(st.floats(low, high), st.floats(low, high)).map(lambda p: (min(p), max(p)))
    return st.none() | pair


states = st.builds(
    FilterState,
    reps=st.lists(st.sampled_from(["Ana", "Bo", "Chen", "Dee", "Nobody"]), max_size=3).map(tuple),
    teams=st.lists(st.sampled_from(["East", "West", "Partners", "Nowhere"]), max_size=2).map(tuple),
    date_from=st.none() | st.dates(dt.date(2025, 12, 1), dt.date(2026, 5, 30)),
    date_to=st.none() | st.dates(dt.date(2025, 12, 1), dt.date(2026, 5, 30)),
    trackers=st.lists(st.sampled_from([*TRACKERS, "unknown"]), max_size=2).map(tuple),
    tracker_mode=st.sampled_from(["any", "all"]),
    talk_ratio=ranges(0.0, 1.0),
    duration_s=ranges(0.0, 400.0),
    search=st.sampled_from(["", "price", "PRICING budget", '"next week"', "acme   demo", "zebra", "no"]),
)


@settings(max_examples=150, deadline=None)
@given(state=states)
def test_apply_filters_matches_a_row_by_row_reading(state: FilterState) -> None:
    selection = apply_filters(INDEX, state)
    assert list(selection.call_ids) == expected_ids(state)
    assert int(selection.mask.sum()) == len(selection)


def test_team_filter_keeps_the_calls_of_those_teams() -> None:
    calls = FRAMES.calls
    east = apply_filters(INDEX, FilterState(teams=("East",)))
    assert set(east.call_ids) == set(calls.loc[calls["team"] == "East", "call_id"])
    assert 0 < len(east) < len(calls)
    assert INDEX.teams == ("East", "Partners", "West")  # no team (None, '') is not a team


def test_no_filter_keeps_every_call_in_order() -> None:
    selection = apply_filters(INDEX, FilterState())
    assert list(selection.call_ids) == FRAMES.calls["call_id"].tolist()


def test_each_filter_narrows_the_set() -> None:
    every = len(apply_filters(INDEX, FilterState()))
    for state in (
        FilterState(reps=("Ana",)),
        FilterState(date_from=dt.date(2026, 3, 1)),
        FilterState(trackers=("pricing",)),
        FilterState(talk_ratio=(0.2, 0.5)),
        FilterState(duration_s=(0.0, 60.0)),
        FilterState(search="competitor"),
    ):
        assert 0 < len(apply_filters(INDEX, state)) < every, state


def test_phrase_search_needs_the_words_together() -> None:
    frames = make_frames(3, seed=1)
    frames.turns["text"] = [
        "next week demo",
        "x",
        "week next",
        "y",
        "NEXT\n  WEEK",
        "z",
        *list(frames.turns["text"].iloc[6:]),
    ]
    frames.turns["call_id"] = ["call_0000"] * 2 + ["call_0001"] * 2 + ["call_0002"] * (len(frames.turns) - 4)
    index = build_index(frames)
    assert apply_filters(index, FilterState(search='"next week"')).call_ids == ("call_0000", "call_0002")
    assert len(apply_filters(index, FilterState(search="next week"))) == 3


def test_parse_search() -> None:
    assert parse_search('  Pricing "Next   Week" pricing ') == ("pricing", "next week")
    assert parse_search("   ") == ()
    assert parse_search('"unclosed phrase') == ("unclosed", "phrase")  # a stray quote is punctuation


def test_calls_without_a_value_fail_only_the_filter_on_it() -> None:
    frames = make_frames(4, seed=2)
    frames.calls.loc[0, "talk_ratio_rep"] = np.nan
    frames.calls.loc[1, "date"] = None
    index = build_index(frames)
    assert "call_0000" in apply_filters(index, FilterState()).call_ids
    assert "call_0000" not in apply_filters(index, FilterState(talk_ratio=(0.0, 1.0))).call_ids
    assert "call_0001" not in apply_filters(index, FilterState(date_to=dt.date(2030, 1, 1))).call_ids
    assert "call_0001" in apply_filters(index, FilterState(talk_ratio=(0.0, 1.0))).call_ids


def test_calls_a_talk_ratio_filter_hides_for_lack_of_a_ratio_are_counted_in_words() -> None:
    """'3 of 4 calls' did not say that a call was left out only because its talk ratio is not measured."""
    frames = make_frames(4, seed=2)
    frames.calls.loc[0, "talk_ratio_rep"] = np.nan
    index = build_index(frames)
    chosen = apply_filters(index, FilterState(talk_ratio=(0.0, 1.0)))
    assert chosen.unmeasured_talk == 1 and len(chosen) == 3
    line = calls_table_html(index, chosen).split("</p>")[0]
    assert line.endswith(
        "3 of 4 calls; 1 call without a measured rep talk ratio left out by the talk-ratio filter"
        " (widen it to 0–100% to see them)"
    )
    assert apply_filters(index, FilterState()).unmeasured_talk == 0
    narrowed = apply_filters(index, FilterState(talk_ratio=(0.0, 1.0), reps=("nobody",)))
    assert narrowed.unmeasured_talk == 0  # left out by another filter first: not counted


def test_search_results_are_cached_per_query() -> None:
    index = build_index(make_frames(20, seed=4))
    first = index.search_mask(("price",))
    assert index.search_mask(("price",)) is first
    assert list(first) == ["price" in t for t in index.transcripts]


def test_frames_missing_columns_are_refused_with_the_names() -> None:
    frames = make_frames(3)
    broken = Frames(calls=frames.calls, turns=frames.turns.drop(columns="text"), hits=frames.hits)
    with pytest.raises(ValueError, match=r"turns frame lacks column\(s\) \['text'\]"):
        build_index(broken)
    duplicated = Frames(calls=pd.concat([frames.calls, frames.calls]), turns=frames.turns, hits=frames.hits)
    with pytest.raises(ValueError, match="call_id must be unique"):
        build_index(duplicated)


def test_a_reversed_range_is_refused() -> None:
    with pytest.raises(ValueError, match="from low to high"):
        apply_filters(INDEX, FilterState(talk_ratio=(0.8, 0.2)))


def test_words_of_the_fixture_are_searchable() -> None:
    # Guards the fixture: a search for each vocabulary word finds some calls, a foreign word none.
    for word in WORDS[:5]:
        assert len(apply_filters(INDEX, FilterState(search=word))) > 0
    assert len(apply_filters(INDEX, FilterState(search="zebra"))) == 0
