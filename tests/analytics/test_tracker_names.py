"""Competitor names as the ASR writes them (U3 finding 12), against the planted mentions of the
scripts that generated the sample calls (``sample_data/*.truth.json``, ``planted``)."""

from __future__ import annotations

import json
from typing import Any

import pandas as pd
import pytest

from hearkit.record import CallSet
from hearkit.trackers import DEFAULT_COMPETITORS, Tracker, competitor_tracker, find_hits, vocabulary_of

from .conftest import SAMPLE_DIR


def _words(*words: str) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "call_id": "c",
            "turn": 0,
            "speaker": "a",
            "role": "customer",
            "start": [float(i) for i in range(len(words))],
            "end": [i + 0.5 for i in range(len(words))],
            "word": list(words),
        }
    )


@pytest.mark.parametrize(
    ("words", "found"),
    [
        (("discount", "or", "sales", "loft,", "and"), ["sales loft,"]),  # sample call 02's stored result
        (("Sales-loft", "quoted", "us"), ["Sales-loft"]),
        (("we", "tried", "fire", "flies"), ["fire flies"]),
        (("Salesloft's", "pricing"), ["Salesloft's"]),
        (("how", "long", "does", "it", "take"), []),  # "Gong" as "long": not guessed
        (("the", "sales", "team", "lost", "it"), []),
        (("Chorus", "and", "Gong"), ["Chorus", "Gong"]),
    ],
)
def test_names_written_apart_or_hyphenated(words: tuple[str, ...], found: list[str]) -> None:
    hits = find_hits(_words(*words), [competitor_tracker()])
    assert [
        " ".join(words[s : e + 1])
        for s, e in zip(hits["start"].astype(int), hits["end"].astype(int), strict=True)
    ] == found


def test_a_two_word_name_written_as_one() -> None:
    hits = find_hits(_words("the", "salesloft", "deal"), [competitor_tracker(["Sales Loft"])])
    assert hits["start"].tolist() == [1.0]


def test_vocabulary_of_the_trackers() -> None:
    assert vocabulary_of() == list(DEFAULT_COMPETITORS)
    mine = [competitor_tracker(["Acme", "Globex", "Acme"]), Tracker("pricing", ("price",))]
    assert vocabulary_of(mine) == ["Acme", "Globex"]  # names only: inflected phrases are words


def _planted_competitors() -> list[dict[str, Any]]:
    out = []
    for entry in json.loads((SAMPLE_DIR / "index.json").read_text())["calls"]:
        truth = json.loads((SAMPLE_DIR / entry["truth"]).read_text())
        out += [{**p, "call_id": truth["call_id"]} for p in truth["planted"] if p["tracker"] == "competitors"]
    return out


@pytest.mark.parametrize("source", ["stereo", "mono"])
def test_stored_sample_results_against_the_planted_names(source: str) -> None:
    planted = _planted_competitors()
    assert len(planted) == 8
    hits = CallSet.load_sample(source).hits  # type: ignore[arg-type]
    hits = hits[hits["tracker"] == "competitors"]

    def near(p: dict[str, Any], h: pd.DataFrame) -> pd.DataFrame:
        return h[
            (h["call_id"] == p["call_id"]) & (h["start"] < p["end"] + 0.5) & (h["end"] > p["start"] - 0.5)
        ]

    salesloft = next(p for p in planted if p["phrase"] == "Salesloft")
    assert len(near(salesloft, hits)) == 1  # "sales loft" in both stored results: missed before
    found = sum(len(near(p, hits)) > 0 for p in planted)
    assert found == 4  # the other misses are heard as other words ("long", "Clary", "I would reach")
    invented = [h for _, h in hits.iterrows() if not any(len(near(p, hits.loc[[_]])) for p in planted)]
    assert invented == []
