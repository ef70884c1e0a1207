"""The dashboard's search box finds what ``CallSet.search`` finds (U4 finding 11: the box matched raw
transcript characters, so "no problem no problem" missed a call that says "No problem. No problem.",
and a phrase typed with ’ missed the ASR's I'm). Transcripts written here by hand."""

from __future__ import annotations

from hearkit.dashboard import FilterState, apply_filters, build_index
from hearkit.record import CallSet
from tests.dashboard.conftest import make_frames


def test_punctuation_between_words_does_not_hide_a_call() -> None:
    frames = make_frames(3, seed=6)
    first = frames.turns.index[frames.turns["call_id"] == "call_0001"][0]
    frames.turns.loc[first, "text"] = "No problem. No problem, I'm already-home!"
    index = build_index(frames)
    for query in (
        '"no problem no problem"',
        '"No problem, no problem"',
        '"I’m already home"',
        "problem",
        "PROBLEM!",
    ):
        assert apply_filters(index, FilterState(search=query)).call_ids == ("call_0001",), query
    assert apply_filters(index, FilterState(search='"problem i\'m nowhere"')).call_ids == ()


def test_the_box_and_callset_search_agree_on_a_real_set() -> None:
    calls = CallSet.load_sample()
    index = build_index(calls)
    nonempty = 0
    for phrase in ("send me a quote", "next week", "pricing", "No. Problem"):
        found = set(calls.search(phrase)["call_id"])
        boxed = set(apply_filters(index, FilterState(search=f'"{phrase}"')).call_ids)
        assert boxed == found, (phrase, boxed, found)
        nonempty += bool(found)
    assert nonempty >= 2  # the comparison is not between two empty sets
