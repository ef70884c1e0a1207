"""Abbreviations' dots end no sentence, and "Have a nice day." is no question (U5 finding 8: on AWS call 40
the rep's 7 questions read 9: "8 a.m."/"3 p.m." split a question in two; the closing "Have a nice day."
counted 1). The expected counts are a reader's: one per question asked."""

from __future__ import annotations

import pandas as pd
import pytest

from hearkit.metrics import scorecards


def _rep_questions(text: str) -> int:
    turns = pd.DataFrame({"call_id": ["c"], "speaker": ["a"], "role": ["rep"], "start": [0.0], "end": [5.0]})
    turns["text"] = [text]
    return int(scorecards(turns).iloc[0]["questions_rep"])


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The rep's turns of AWS call 40 as the local engine wrote them (U5's count: one question each).
        (
            "That sounds great. So let's just go ahead and pencil and cycle two days from now. Would you"
            " prefer between 8 a.m. and 10 a.m. or would you prefer between 3 p.m. and 5 p.m.?",
            1,
        ),
        ("Well, should we just get you on an 8 a.m.?", 1),
        ("Can you do 3 p.m.?", 1),
        ("Is it 5 p.m.?", 1),
        ("Can you come at 8 a.m. tomorrow?", 1),
        ("We open at 9 a.m. and close at 5 p.m.", 0),
        ("Dr. Smith, could you send it?", 1),
        ("I live in the U.S. Do you ship there?", 1),
        # Closings that open like "Have you …" but wish, not ask.
        ("Have a nice day.", 0),
        ("Have a great weekend.", 0),
        ("Have a good one.", 0),
        ("Thanks, have a nice day!", 0),
        ("have a nice day", 0),
        # Still questions.
        ("Have you tried restarting it.", 1),
        ("Has the payment gone through.", 1),
        ("Has a decision been made?", 1),
    ],
)
def test_question_count(text: str, expected: int) -> None:
    assert _rep_questions(text) == expected
