"""``CallRecord.transcript`` writes times past an hour as the report's clock does (U4 finding 25)."""

from __future__ import annotations

import pandas as pd

from hearkit.record import labelled_transcript


def test_times_past_an_hour() -> None:
    turns = pd.DataFrame(
        {
            "turn": [0, 1, 2],
            "speaker": "speaker_0",
            "role": "rep",
            "start": [10.0, 3599.9, 3700.0],
            "text": ["hello", "still here", "I'll send you the quote by Friday."],
        }
    )
    assert labelled_transcript(turns).splitlines() == [
        "[00:10] speaker_0 (rep): hello",
        "[59:59] speaker_0 (rep): still here",
        "[1:01:40] speaker_0 (rep): I'll send you the quote by Friday.",
    ]
