"""Trackers: planted phrases found at their planted times; matching rules; timelines; fallback."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pytest

from hearkit.trackers import (
    DEFAULT_TRACKERS,
    Tracker,
    competitor_tracker,
    default_trackers,
    find_hits,
    keyword_timeline,
    normalize_text,
    pricing_near_end,
    words_from_turns,
)


def words_frame(*turns: tuple[str, str, float]) -> pd.DataFrame:
    """Words of a tiny call: each turn (speaker, text, start) gets 0.5 s per word."""
    rows = []
    for turn_id, (speaker, text, start) in enumerate(turns):
        for i, word in enumerate(text.split()):
            rows.append(
                {
                    "call_id": "c1",
                    "turn": turn_id,
                    "speaker": speaker,
                    "role": speaker,
                    "start": start + 0.5 * i,
                    "end": start + 0.5 * i + 0.4,
                    "word": word,
                }
            )
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def truth_hits(truths: list[dict[str, Any]], truth_words_frame: pd.DataFrame) -> pd.DataFrame:
    return find_hits(truth_words_frame, durations={t["call_id"]: t["duration_s"] for t in truths})


def test_every_planted_phrase_is_hit_at_its_planted_time(
    truths: list[dict[str, Any]], truth_hits: pd.DataFrame
) -> None:
    n_planted = 0
    for truth in truths:
        for planted in truth["planted"]:
            n_planted += 1
            hits = truth_hits[
                (truth_hits["call_id"] == truth["call_id"])
                & (truth_hits["tracker"] == planted["tracker"])
                & (truth_hits["start"] >= planted["start"] - 1e-9)
                & (truth_hits["end"] <= planted["end"] + 1e-9)
            ]
            assert len(hits), f"{truth['call_id']}: planted {planted} not found"
            assert (hits["role"] == planted["speaker"]).all()
            assert (hits["turn"] == planted["turn"]).all()
    assert n_planted >= 30


def test_hit_columns_and_positions(truth_hits: pd.DataFrame) -> None:
    assert list(truth_hits.columns[:9]) == [
        "call_id", "tracker", "phrase", "speaker", "role", "start", "end", "position", "snippet",
    ]  # fmt: skip
    assert truth_hits["position"].between(0, 1).all()
    assert (truth_hits["end"] > truth_hits["start"]).all()
    assert (truth_hits["time_source"] == "words").all()
    assert truth_hits.apply(lambda r: r["phrase"] in r["snippet"], axis=1).all()


@pytest.mark.parametrize(
    ("text", "phrase"),
    [
        ("it is $40 per seat.", "$40"),
        ("it is $1,200 a year", "$1,200"),
        ("only 40 bucks", "40 bucks"),
        ("that is forty dollars", "forty dollars"),
        ("about thirty four dollars", "thirty four dollars"),
        ("billed per seat,", "per seat,"),
        ("our Prices went up", "Prices"),
        ("the pricing, honestly", "pricing,"),
        ("PRICED too high", "PRICED"),
    ],
)
def test_money_and_inflections_hit_pricing(text: str, phrase: str) -> None:
    hits = find_hits(words_frame(("rep", text, 0.0)), [DEFAULT_TRACKERS[0]])
    assert phrase in hits["phrase"].tolist()


def test_multi_word_phrases_ignore_case_punctuation_and_hyphens() -> None:
    words = words_frame(("rep", "Let's set a Follow-up, then SCHEDULED calls", 10.0))
    hits = find_hits(words, [Tracker("next", ("follow up", "schedule"))])
    assert hits["phrase"].tolist() == ["Follow-up,", "SCHEDULED"]
    assert hits["start"].tolist() == [11.5, 12.5]
    assert hits["end"].tolist() == [pytest.approx(11.9), pytest.approx(12.9)]


def test_phrase_across_two_words_of_one_turn_has_both_times() -> None:
    words = words_frame(("customer", "that is too expensive for us", 3.0))
    hits = find_hits(words, default_trackers())
    row = hits[hits["tracker"] == "objections"].iloc[0]
    assert row["phrase"] == "too expensive"
    assert (row["start"], row["end"]) == (pytest.approx(4.0), pytest.approx(4.9))


def test_a_phrase_never_spans_two_turns() -> None:
    words = words_frame(("rep", "is it too", 0.0), ("customer", "expensive I think", 2.0))
    hits = find_hits(words, [Tracker("obj", ("too expensive",))])
    assert hits.empty


def test_role_limited_tracker_and_competitor_names() -> None:
    words = words_frame(("rep", "we beat Gong's numbers", 0.0), ("customer", "we use gong today", 3.0))
    comp = competitor_tracker(["Gong"])
    assert len(find_hits(words, [comp])) == 2
    customer_only = Tracker("comp_customer", ("gong",), role="customer", inflect=False)
    hits = find_hits(words, [customer_only])
    assert hits["role"].tolist() == ["customer"]
    assert "gongs" not in normalize_text("Gong's") and normalize_text("Gong's") == "gong's"


def test_bad_tracker_definitions_are_refused() -> None:
    with pytest.raises(ValueError, match="no phrases"):
        Tracker("empty")
    with pytest.raises(ValueError, match="bad regular expression"):
        Tracker("broken", patterns=("(unclosed",))


def test_tracker_definitions_that_counted_hits_everywhere_are_refused() -> None:
    """A one-string phrases= was one phrase per letter ('i' hit every "I"), a phrase of punctuation and a
    pattern matching empty text hit between words: the sample calls gave hundreds of 'hits'."""
    words = words_frame(("rep", "I think the price is fine", 0.0))
    assert find_hits(words, [Tracker("p", ("price",))])["phrase"].tolist() == ["price"]
    with pytest.raises(TypeError, match=r"phrases is a list, not one string: pass \['price'\]"):
        Tracker("p", "price")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="patterns is a list"):
        Tracker("p", patterns=r"\$\d+")  # type: ignore[arg-type]
    with pytest.raises(TypeError, match=r"competitor names are a list, not one string: pass \['Gong'\]"):
        competitor_tracker("Gong")
    with pytest.raises(ValueError, match=r"the phrase '\.\.\.' has no words"):
        Tracker("p", ("price", "..."))
    with pytest.raises(ValueError, match="the pattern 'x\\*' matches empty text"):
        Tracker("p", patterns=("x*",))


def test_a_tracker_role_ignores_case() -> None:
    words = words_frame(("rep", "the price is", 0.0), ("customer", "what price", 3.0))
    hits = find_hits(words, [Tracker("p", ("price",), role=" Customer")])  # matched no turn: 0 hits
    assert hits["role"].tolist() == ["customer"]


def test_segment_text_fallback_is_flagged_and_inside_the_turn() -> None:
    turns = pd.DataFrame(
        {
            "call_id": ["c9", "c9"],
            "turn": [0, 1],
            "speaker": ["rep", "customer"],
            "role": ["rep", "customer"],
            "start": [0.0, 10.0],
            "end": [8.0, 14.0],
            "text": ["our price is forty dollars per seat", "that is too expensive"],
        }
    )
    hits = find_hits(None, turns=turns, durations={"c9": 20.0})
    assert set(hits["time_source"]) == {"interpolated"}
    assert {"pricing", "objections"} <= set(hits["tracker"])
    obj = hits[hits["tracker"] == "objections"].iloc[0]
    assert 10.0 <= obj["start"] < obj["end"] <= 14.0
    assert obj["position"] == pytest.approx(obj["start"] / 20.0)
    interp = words_from_turns(turns)
    assert len(interp) == 11
    assert (interp.groupby("turn")["start"].min().to_numpy() == [0.0, 10.0]).all()


def test_no_words_gives_an_empty_typed_frame() -> None:
    hits = find_hits(pd.DataFrame(columns=["call_id", "start", "end", "word"]))
    assert hits.empty and "position" in hits.columns


def test_keyword_timeline_bins_every_hit(truth_hits: pd.DataFrame) -> None:
    timeline = keyword_timeline(truth_hits, bins=5)
    assert timeline["hits"].sum() == len(truth_hits)
    assert len(timeline) == 5 * truth_hits["tracker"].nunique()
    # Independent count: pricing hits in the last fifth of their calls.
    expected = int((truth_hits[truth_hits["tracker"] == "pricing"]["position"] >= 0.8).sum())
    got = timeline[(timeline["tracker"] == "pricing") & (timeline["bin"] == 4)]["hits"].item()
    assert got == expected


def test_pricing_near_end_signal() -> None:
    hits = pd.DataFrame(
        {
            "call_id": ["a", "a", "a", "b", "b"],
            "tracker": ["pricing"] * 5,
            "position": [0.1, 0.9, 0.95, 0.1, 0.2],
        }
    )
    signal = pricing_near_end(hits, tail=0.25, call_ids=["a", "b", "c"]).set_index("call_id")
    assert signal.loc["a", "pricing_hits_tail"] == 2 and bool(signal.loc["a", "pricing_late"])
    assert not bool(signal.loc["b", "pricing_late"])
    assert signal.loc["c", "pricing_hits"] == 0 and np.isnan(signal.loc["c", "tail_share"])
    with pytest.raises(ValueError, match="tail"):
        pricing_near_end(hits, tail=1.5)


def test_what_find_hits_cannot_read_is_named_in_one_line() -> None:
    """A trial got a bare KeyError: 'word' from inside pandas and an AttributeError for a tracker
    given by name."""
    from hearkit.trackers import DEFAULT_TRACKERS, find_hits

    words = pd.DataFrame({"call_id": ["c"], "word": ["price"], "start": [0.0], "end": [0.4]})
    assert len(find_hits(words, DEFAULT_TRACKERS)) >= 0  # a minimal frame is enough
    with pytest.raises(ValueError, match="lacks word: find_hits needs call_id, word, start, end"):
        find_hits(words.drop(columns="word"), DEFAULT_TRACKERS)
    with pytest.raises(TypeError, match="list of Tracker objects"):
        find_hits(words, "pricing")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="holds int64, not text"):
        find_hits(words.assign(word=1), DEFAULT_TRACKERS)


def test_a_typo_in_a_durations_key_is_named_not_ignored() -> None:
    # 'C1' for 'c1': the hit's position silently became start / last word end (6.0 / 6.4), not / 60 s
    words = words_frame(("customer", "what is the price", 6.0))
    with pytest.raises(ValueError, match=r"'C1'.*The calls are: 'c1'"):
        find_hits(words, durations={"C1": 60.0})
    (position,) = find_hits(words, [Tracker("p", ("price",))], durations={"c1": 60.0})["position"]
    assert position == pytest.approx(7.5 / 60.0)


def test_a_discount_and_a_price_split_by_the_recogniser_are_pricing_hits() -> None:
    """U8 finding 2: the local engine writes "ten percent off" as the words ``10`` ``%`` ``off`` (or
    ``20%`` ``off``) and "fifteen hundred dollars" as ``$1`` ``,500``: no discount was a pricing hit and
    $1,500 read as a "$1" hit."""
    words = words_frame(
        ("rep", "we can do 10 % off this quarter", 0.0),
        ("customer", "they promised 20% off the list", 10.0),
        ("rep", "so $1 ,500 in total", 20.0),
        ("rep", "page 4 % of the deck and 1 ,2", 30.0),
    )
    hits = find_hits(words)
    pricing = hits[hits["tracker"] == "pricing"]
    assert list(zip(pricing["phrase"], pricing["start"], strict=True)) == [
        ("10% off", 1.5),
        ("20% off", 11.0),
        ("$1,500", 20.5),
    ]
    assert "costs" not in set(pricing["phrase"])  # nothing else in these turns is pricing
