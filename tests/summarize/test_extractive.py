"""The offline summary on a hand-written call, in punctuated and in ASR style (lowercase, no punctuation)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hearkit.summarize import summarize, summarize_calls
from tests.summarize.scripted_call import (
    ACTION_ITEMS,
    LINES,
    NEXT_STEP_TURNS,
    OBJECTION_TURNS,
    turns_frame,
)


@pytest.mark.parametrize("asr_style", [False, True], ids=["punctuated", "asr"])
def test_action_items_owners_and_due_phrases(asr_style: bool) -> None:
    summary = summarize(turns_frame(asr_style=asr_style))

    assert summary.method == "extractive" and summary.model is None
    found = [
        (a.citations[0].turn, a.owner_role, a.due.lower() if a.due else None) for a in summary.action_items
    ]
    expected = [(turn, owner, due.lower() if due else None) for turn, owner, due in ACTION_ITEMS]
    assert found == expected


def test_citations_carry_the_turn_times() -> None:
    turns = turns_frame()
    summary = summarize(turns)

    spans = {int(t): (s, e) for t, s, e in zip(turns["turn"], turns["start"], turns["end"], strict=True)}
    items = [*summary.summary, *summary.action_items, *summary.next_steps, *summary.objections]
    assert items and all(item.citations for item in items)
    for item in items:
        for citation in item.citations:
            assert (citation.start, citation.end) == spans[citation.turn]


@pytest.mark.parametrize("asr_style", [False, True], ids=["punctuated", "asr"])
def test_objections_come_from_the_customer_and_next_steps_are_found(asr_style: bool) -> None:
    summary = summarize(turns_frame(asr_style=asr_style))

    objection_turns = [o.citations[0].turn for o in summary.objections]
    assert set(OBJECTION_TURNS) <= set(objection_turns)
    assert all(LINES[turn][0] == "customer" for turn in objection_turns)
    assert [n.citations[0].turn for n in summary.next_steps] == NEXT_STEP_TURNS
    assert "expire again" in summary.objections[1].text


def test_summary_is_a_few_distinct_central_turns_in_call_order() -> None:
    summary = summarize(turns_frame())

    turns = [item.citations[0].turn for item in summary.summary]
    assert 1 <= len(turns) <= 5 and turns == sorted(turns) and len(set(turns)) == len(turns)
    # The call is about missing invoices: the central turns say so.
    assert sum("invoices" in item.text.lower() for item in summary.summary) >= 2
    # Short pleasantries are never picked.
    assert all(len(LINES[t][1].split()) >= 6 for t in turns)
    assert all(item.text.split(":")[0] in ("Rep", "Customer") for item in summary.summary)


def test_call_without_speech_gives_an_empty_summary() -> None:
    empty = turns_frame().iloc[0:0]
    summary = summarize(empty, call_id="silent")
    assert summary.call_id == "silent" and summary.summary == [] and summary.action_items == []
    only_stop_words = turns_frame().iloc[0:2].assign(text=["it is what it is", "so be it"])
    assert len(summarize(only_stop_words).summary) == 1


def test_summarize_calls_keys_by_call_id() -> None:
    both = pd.concat([turns_frame(call_id="a"), turns_frame(asr_style=True, call_id="b")], ignore_index=True)
    summaries = summarize_calls(both)
    assert list(summaries) == ["a", "b"]
    assert summaries["b"].call_id == "b"
    assert len(summaries["a"].action_items) == len(summaries["b"].action_items) == len(ACTION_ITEMS)


def test_bad_frames_say_what_to_do() -> None:
    turns = turns_frame()
    with pytest.raises(ValueError, match=r"lacks column\(s\) \['text'\].*hearkit.transcript.turns"):
        summarize(turns.drop(columns=["text"]))
    two_calls = pd.concat([turns_frame(call_id="a"), turns_frame(call_id="b")])
    with pytest.raises(ValueError, match=r"holds 2 calls.*summarize_calls"):
        summarize(two_calls)
    with pytest.raises(ValueError, match="turn ids repeat"):
        summarize(pd.concat([turns, turns.iloc[:1]]))
    with pytest.raises(ValueError, match="seconds as numbers"):
        summarize(turns.assign(start="soon"))
    with pytest.raises(TypeError, match="turns DataFrame"):
        summarize("call_01.json")
    with pytest.raises(ValueError, match="method must be"):
        summarize(turns, method="abstractive")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="call_id"):
        summarize_calls(turns.drop(columns=["call_id"]))


def test_tfidf_similarity_matches_scikit_learn() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from hearkit._summarize.extractive import STOP_WORDS, tfidf_similarity

    texts = [text for _, text in LINES] + ["the the and", "Invoices invoices INVOICES sync"]
    vectorizer = TfidfVectorizer(stop_words=sorted(STOP_WORDS), sublinear_tf=True)
    matrix = vectorizer.fit_transform(texts)
    expected = (matrix @ matrix.T).toarray()
    assert np.allclose(tfidf_similarity(texts), expected)
    assert tfidf_similarity(["and the", "of it"]).tolist() == [[0.0, 0.0], [0.0, 0.0]]


def test_abbreviation_dots_do_not_end_a_commitment() -> None:
    turns = (
        turns_frame()
        .iloc[:2]
        .assign(
            text=[
                "I will forward them to our I.T. lead today. Then we are done.",
                "Thanks, talk at 10 a.m. then.",
            ]
        )
    )
    (item,) = summarize(turns).action_items
    assert item.text == "I will forward them to our I.T. lead today"
    assert item.due == "today"


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("i'll send it over by friday okay", "by friday"),
        ("We will review it with legal by Monday.", "by Monday"),
        ("I'll call you tomorrow at ten to confirm", "tomorrow at ten"),
        ("let's meet next tuesday afternoon", "next tuesday"),
        ("I'll have the numbers by end of day Thursday", "by end of day Thursday"),
        ("we'll ship it within two weeks", "within two weeks"),
        ("i will send the contract by march 3rd", "by march 3rd"),
        ("I'll get it to you by the fifteenth", "by the fifteenth"),
        ("I'll update it this afternoon", "this afternoon"),
        ("I'll send the notes right after this call", "right after this call"),
        ("I will send it by the 15th at noon", "by the 15th at noon"),
        ("we meet on the 14th of june", "on the 14th of june"),
        ("by the first of the month", "by the first of the month"),
        # U3 finding 5: a number after "the" is a quantity, not a day ("due: the 50" on sample call 02)
        ("We will pick the 50 coils next week", "next week"),
        ("I will send the 20 licences by Friday", "by Friday"),
        ("We will review the 2 contracts tomorrow", "tomorrow"),
        ("I will ship the 3 units on the 5th", "on the 5th"),
        ("I'll pick the first option tomorrow", "tomorrow"),
        ("I will send the 21st invoice", None),
        ("may I ask who else is involved", None),
        ("we talked about this last week", None),
    ],
)
def test_due_phrases_as_said(said: str, due: str | None) -> None:
    from hearkit._summarize.rules import find_due

    assert find_due(said) == due


@pytest.mark.parametrize(
    ("said", "due"),
    [
        ("I will correct the invoice and send you a new one by Thursday.", "by Thursday"),
        ("I'll adjust the quote and send it over by Friday.", "by Friday"),
        ("We will waive the setup fee and reissue the contract by Monday.", "by Monday"),
    ],
)
def test_a_rep_commitment_to_put_something_right_is_an_action_item(said: str, due: str) -> None:
    """U8 finding 7: "I will correct the invoice and send you a new one by Thursday" (from the
    user's call script) gave no action item: "correct" was not a commitment verb."""
    turns = pd.DataFrame(
        [
            {"call_id": "x", "turn": 0, "speaker": "s1", "role": "customer", "start": 0.0, "end": 4.0,
             "text": "You charged us twice this month."},
            {"call_id": "x", "turn": 1, "speaker": "s0", "role": "rep", "start": 5.0, "end": 9.0,
             "text": said},
        ]
    )  # fmt: skip
    items = summarize(turns, method="extractive").action_items
    assert [(item.text, item.due) for item in items] == [(said.rstrip("."), due)]
