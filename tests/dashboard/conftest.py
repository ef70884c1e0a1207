"""Fixtures of the dashboard tests: small call sets in the column layout of ``hearkit.frames``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import pytest

from hearkit.frames import HIT_COLUMNS, TURN_COLUMNS
from hearkit.summary import CallSummary

WORDS = [
    "price",
    "pricing",
    "budget",
    "discount",
    "competitor",
    "acme",
    "next",
    "week",
    "demo",
    "contract",
    "thanks",
    "hello",
    "yes",
    "no",
    "maybe",
]
TRACKERS = ("pricing", "competitors", "next_steps")


@dataclass
class Frames:
    """A stand-in for ``hearkit.record.CallSet`` made of plain frames."""

    calls: pd.DataFrame
    turns: pd.DataFrame
    hits: pd.DataFrame
    words: pd.DataFrame = field(default_factory=pd.DataFrame)
    summaries: dict[str, CallSummary] = field(default_factory=dict)


def make_frames(n: int, seed: int = 0) -> Frames:
    """``n`` random calls: 2–8 turns each, random reps, teams (some missing), dates, talk ratios and
    tracker hits."""
    rng = np.random.default_rng(seed)
    reps = ["Ana", "Bo", "Chen", "Dee"]
    calls, turns, hits = [], [], []
    for i in range(n):
        call_id = f"call_{i:04d}"
        n_turns = int(rng.integers(2, 9))
        t = 0.0
        for k in range(n_turns):
            length = float(rng.uniform(2, 40))
            text = " ".join(rng.choice(WORDS, size=int(rng.integers(3, 12))))
            role = "rep" if k % 2 == 0 else "customer"
            turns.append(
                (
                    call_id,
                    k,
                    f"channel_{k % 2}",
                    k % 2,
                    role,
                    "explicit",
                    t,
                    t + length,
                    length,
                    text,
                    len(text.split()),
                )
            )
            t += length + float(rng.uniform(0, 3))
        for tracker in TRACKERS:
            for _ in range(int(rng.poisson(0.6))):
                phrase = tracker.replace("_", " ")
                hits.append((call_id, tracker, phrase, "channel_0", "rep", 1.0, 2.0, 0.1, phrase, 0, "words"))
        calls.append(
            (
                call_id,
                f"Call {i}",
                reps[int(rng.integers(0, len(reps)))],
                (dt.date(2026, 1, 1) + dt.timedelta(days=int(rng.integers(0, 120)))).isoformat(),
                float(rng.uniform(0.1, 0.9)),
                t,
            )
        )
    # Teams from their own generator (the draws above stay as they were); some calls have none.
    team_rng = np.random.default_rng(seed + 10_000)
    teams = team_rng.choice(np.array(["East", "West", "Partners", None, ""], dtype=object), size=n)
    return Frames(
        calls=pd.DataFrame(
            calls, columns=["call_id", "title", "rep", "date", "talk_ratio_rep", "duration_s"]
        ).assign(team=teams),
        turns=pd.DataFrame(turns, columns=list(TURN_COLUMNS)),
        hits=pd.DataFrame(hits, columns=list(HIT_COLUMNS)),
    )


@pytest.fixture
def frames() -> Frames:
    return make_frames(300, seed=7)
