"""Phrase search across calls, checked against the sample scripts' own word timings."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from hearkit.record import CallSet, sample_dir
from hearkit.synth import synthetic_calls


def _script_occurrences(phrase: str, role: str | None = None) -> list[tuple[str, float, float]]:
    """(call, first word start, last word end) of every occurrence in the scripts' word lists."""
    wanted = phrase.lower().split()
    found = []
    for path in sorted(Path(sample_dir()).glob("*.truth.json")):
        truth = json.loads(path.read_text())
        words = truth["words"]
        plain = [re.sub(r"[^\w']", "", w["word"].lower()) for w in words]
        for i in range(len(words) - len(wanted) + 1):
            span = words[i : i + len(wanted)]
            same_turn = len({w["turn"] for w in span}) == 1
            if plain[i : i + len(wanted)] == wanted and same_turn and role in (None, span[0]["role"]):
                found.append((truth["call_id"], span[0]["start"], span[-1]["end"]))
    return found


@pytest.fixture(scope="module")
def scripted() -> CallSet:
    return CallSet.load_sample("truth")


@pytest.mark.parametrize(
    ("phrase", "role"), [("per seat", None), ("i'll send you", "rep"), ("price", "customer")]
)
def test_finds_what_the_scripts_say_with_their_times(
    scripted: CallSet, phrase: str, role: str | None
) -> None:
    expected = _script_occurrences(phrase, role)
    assert expected, "the scripts say this phrase"
    found = scripted.search(phrase.upper() + "!", role=role)
    got = sorted(zip(found["call_id"], found["start"], found["end"], strict=True))
    assert len(got) == len(expected) == found.attrs["total"]
    for (call, start, end), (g_call, g_start, g_end) in zip(sorted(expected), got, strict=True):
        assert (g_call, g_start, g_end) == (
            call,
            pytest.approx(start, abs=1e-3),
            pytest.approx(end, abs=1e-3),
        )
    assert (found["time_source"] == "words").all()
    assert all(len(s) == len(phrase.split()) for s in found["word_starts"])
    assert all(phrase.split()[0] in c.lower() for c in found["context"])
    if role is not None:
        assert set(found["role"]) == {role}


def test_phrase_stays_inside_one_turn_and_absent_words_find_nothing(scripted: CallSet) -> None:
    assert scripted.search("zebra crossing").empty
    ends = scripted.turns.groupby("call_id").first()["text"].str.split().str[-1].str.lower().str.strip(".?!,")
    starts = scripted.turns.groupby("call_id").nth(1)["text"].str.split().str[0].str.lower().str.strip(".?!,")
    phrase = f"{ends.iloc[0]} {starts.iloc[0]}"  # last word of turn 0 + first word of turn 1
    crossing = [o for o in _script_occurrences(phrase) if o]
    assert len(scripted.search(phrase)) == len(crossing)


def test_synthetic_scale_without_word_times_interpolates_inside_the_turn() -> None:
    calls = synthetic_calls(40, seed=3, mean_turns=30)
    found = calls.search("send me a proposal", role="customer", limit=None)
    texts = calls.turns[calls.turns["role"] == "customer"]["text"]
    assert len(found) == texts.str.lower().str.count("send me a proposal").sum()
    turns = calls.turns.set_index(["call_id", "turn"])
    for row in found.head(20).itertuples():
        turn = turns.loc[(row.call_id, row.turn)]
        assert turn["start"] - 1e-3 <= row.start < row.end <= turn["end"] + 1e-3
        assert row.time_source == "interpolated"
    limited = calls.search("send me a proposal", limit=3)
    assert len(limited) == 3 and limited.attrs["total"] >= len(found)


@pytest.mark.parametrize("phrase", ["", "  ...  ", None])
def test_bad_phrase_says_what_to_do(scripted: CallSet, phrase: object) -> None:
    with pytest.raises(ValueError, match="at least one word"):
        scripted.search(phrase)  # type: ignore[arg-type]


def test_changed_turns_rebuild_the_index(scripted: CallSet) -> None:
    shifted = CallSet(**{n: getattr(scripted, n) for n in CallSet._FRAMES})
    before = shifted.search("per seat")
    shifted.turns = shifted.turns.assign(
        start=shifted.turns["start"] + 100.0, end=shifted.turns["end"] + 100.0
    )
    shifted.words = pd.DataFrame(columns=shifted.words.columns)
    after = shifted.search("per seat")
    assert (after["start"].to_numpy() > before["start"].to_numpy() + 90).all()


def test_a_word_the_phrase_rule_splits_is_found_as_the_phrase_says_it() -> None:
    """A trial found no hit for "8 a.m." (the index kept "a.m." as one token, the phrase read "a m"),
    while trackers and the dashboard found three; with word times and with text only."""
    from hearkit.search import build_index, search

    turns = pd.DataFrame(
        {
            "call_id": ["c", "c"],
            "turn": [0, 1],
            "speaker": ["speaker_0", "speaker_1"],
            "role": ["rep", "customer"],
            "start": [0.0, 3.0],
            "end": [2.0, 5.0],
            "text": ["open at 8 a.m. daily", "a follow-up at 9 a.m."],
        }
    )
    words = pd.DataFrame(
        {
            "call_id": ["c"] * 4,
            "turn": [0, 0, 0, 0],
            "word_index": [0, 1, 2, 3],
            "word": ["open", "at", "8", "a.m."],
            "start": [0.0, 0.4, 0.8, 1.0],
            "end": [0.4, 0.8, 1.0, 1.6],
        }
    )
    for index in (build_index(turns, words), build_index(turns)):
        found = search(index, turns, "8 a.m.")
        assert len(found) == 1 and found["phrase"].iloc[0] == "8 a.m."
        assert len(search(index, turns, "a.m.")) == 2 and len(search(index, turns, "follow up")) == 1
    timed = search(build_index(turns, words), turns, "8 a.m.")
    assert (timed["start"].iloc[0], timed["end"].iloc[0]) == (0.8, 1.6)  # the words' own times


def test_a_filter_no_turn_can_pass_is_an_error_not_an_empty_result(scripted: CallSet) -> None:
    """role='agent' (or a typo'd speaker) found nothing, which reads as 'the customer never said it'."""
    with pytest.raises(
        ValueError, match=r"no turn has role 'agent'; the roles of these calls: customer, rep"
    ):
        scripted.search("per seat", role="agent")
    with pytest.raises(ValueError, match=r"no turn has speaker 'speaker_9'"):
        scripted.search("zebra crossing", speaker="speaker_9")  # checked when the phrase is absent too
    said = scripted.search("per seat", role="customer")
    assert len(scripted.search("per seat", role="Customer ")) == len(said) > 0  # role case, as the metrics
    assert scripted.search("zebra crossing", role="rep").empty  # a real role, an absent phrase: empty


def test_percent_and_currency_are_matched_as_said_and_quoted_as_said() -> None:
    """U8 finding 11: the engine writes "20 % off" as the words ``20`` ``%`` ``off``; "20%" found
    nothing, "10 %" found "10 minutes", "45" missed "$45", and the context read "20 off"."""
    from hearkit.search import build_index, search

    texts = ["we promised 20 % off today", "do you have 10 minutes", "it is $45 a seat", "so 10% off then"]
    turns = pd.DataFrame(
        {
            "call_id": ["c"] * 4,
            "turn": [0, 1, 2, 3],
            "speaker": ["speaker_0", "speaker_1", "speaker_0", "speaker_0"],
            "role": ["rep", "customer", "rep", "rep"],
            "start": [0.0, 5.0, 10.0, 15.0],
            "end": [4.0, 9.0, 14.0, 19.0],
            "text": texts,
        }
    )
    tokens = [(turn, word) for turn, text in enumerate(texts) for word in text.split()]
    words = pd.DataFrame(
        {
            "call_id": ["c"] * len(tokens),
            "turn": [turn for turn, _ in tokens],
            "word_index": range(len(tokens)),
            "word": [word for _, word in tokens],
            "start": [5.0 * turn + 0.5 * i for i, (turn, _) in enumerate(tokens)],
            "end": [5.0 * turn + 0.5 * i + 0.4 for i, (turn, _) in enumerate(tokens)],
        }
    )
    for index in (build_index(turns, words), build_index(turns)):
        for query in ("20%", "20 %"):
            found = search(index, turns, query)
            assert list(found["turn"]) == [0], query
            assert found["context"].iloc[0] == "we promised 20 % off today"
        assert list(search(index, turns, "10 %")["turn"]) == [3]
        assert list(search(index, turns, "% off")["turn"]) == [0, 3]
        assert list(search(index, turns, "45")["turn"]) == [2]
        assert list(search(index, turns, "$45")["turn"]) == [2]
        assert list(search(index, turns, "10")["turn"]) == [1, 3]
