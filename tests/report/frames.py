"""Call frames in the column layout of hearkit.frames, built here (not by hearkit.record): from the
sample calls' ground-truth JSON (written by scripts/make_sample_calls.py) and by hand."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hearkit import metrics
from hearkit.frames import HIT_COLUMNS, TURN_COLUMNS
from hearkit.summary import CallSummary, Citation, SummaryItem

SAMPLE_DATA = Path(__file__).resolve().parents[2] / "sample_data"
INJECTION = "<script>window.__pwned = 1</script>"
ATTRIBUTE_INJECTION = '" onmouseover="window.__pwned = 2" x="'
IMG_INJECTION = '<img src=x onerror="window.__pwned = 3">'


@dataclass
class Frames:
    """What a CallSet holds (calls, turns, words, hits, summaries), duck-typed."""

    calls: pd.DataFrame
    turns: pd.DataFrame
    hits: pd.DataFrame
    words: pd.DataFrame = field(default_factory=pd.DataFrame)
    summaries: dict[str, CallSummary] = field(default_factory=dict)


def turns_frame(rows: list[tuple[str, int, str, str, float, float, str]]) -> pd.DataFrame:
    """rows: (call_id, turn, speaker, role, start, end, text)."""
    records = [
        {
            "call_id": c,
            "turn": t,
            "speaker": s,
            "channel": 0 if r == "rep" else 1,
            "role": r,
            "role_source": "explicit",
            "start": a,
            "end": b,
            "duration_s": b - a,
            "text": x,
            "n_words": len(x.split()),
        }
        for c, t, s, r, a, b, x in rows
    ]
    frame = pd.DataFrame.from_records(records, columns=list(TURN_COLUMNS))
    return frame.astype(
        {
            "call_id": "string",
            "turn": "int64",
            "speaker": "string",
            "channel": "Int64",
            "role": "string",
            "role_source": "string",
            "text": "string",
            "n_words": "int64",
        }
    )


def hits_frame(rows: list[tuple[str, str, str, str, str, float, float, float, str, int]]) -> pd.DataFrame:
    """rows: (call_id, tracker, phrase, speaker, role, start, end, position, snippet, turn); the
    times come from words (``time_source``), as hearkit.trackers.find_hits gives them."""
    return pd.DataFrame.from_records([(*row, "words") for row in rows], columns=list(HIT_COLUMNS))


def truth_calls() -> list[dict[str, object]]:
    index = json.loads((SAMPLE_DATA / "index.json").read_text())
    return [json.loads((SAMPLE_DATA / entry["truth"]).read_text()) for entry in index["calls"]]


def truth_frames() -> Frames:
    """The committed sample calls as frames, straight from their ground truth."""
    calls, turns, hits = [], [], []
    summaries: dict[str, CallSummary] = {}
    for truth in truth_calls():
        cid = str(truth["call_id"])
        duration = float(truth["duration_s"])  # type: ignore[arg-type]
        calls.append(
            {k: truth[k] for k in ("call_id", "title", "kind", "rep", "customer", "date", "duration_s")}
        )
        texts = {}
        for t in truth["turns"]:  # type: ignore[attr-defined]
            turns.append((cid, t["turn"], t["speaker"], t["role"], t["start"], t["end"], t["text"]))
            texts[t["turn"]] = t
        for p in truth["planted"]:  # type: ignore[attr-defined]
            role = texts[p["turn"]]["role"]
            hits.append(
                (cid, p["tracker"], p["phrase"], texts[p["turn"]]["speaker"], role, p["start"], p["end"],
                 p["start"] / duration, texts[p["turn"]]["text"], p["turn"])
            )  # fmt: skip
        items = [
            SummaryItem(
                text=a["text"],
                citations=[
                    Citation(turn=a["turn"], start=texts[a["turn"]]["start"], end=texts[a["turn"]]["end"])
                ],
            )
            for a in truth["action_items"]  # type: ignore[attr-defined]
        ]
        summaries[cid] = CallSummary(call_id=cid, method="extractive", next_steps=items)
    meta = pd.DataFrame(calls)
    meta["date"] = pd.to_datetime(meta["date"])
    turn_frame = turns_frame(turns)
    # as hearkit.record does: metadata plus every scorecard metric (the charts' tests recompute the
    # values they check from the turns themselves)
    cards = metrics.scorecards(
        turn_frame, durations=dict(zip(meta["call_id"], meta["duration_s"], strict=True))
    )
    frame = meta.merge(cards.drop(columns=["duration_s"]), on="call_id", how="left")
    return Frames(calls=frame, turns=turn_frame, hits=hits_frame(hits), summaries=summaries)


def hostile_frames() -> Frames:
    """Two calls whose transcript, title and speaker labels try to inject markup and script."""
    turns = turns_frame(
        [
            ("evil", 0, "speaker_0", "rep", 0.0, 5.0, f"Our pricing starts at $49. {INJECTION}"),
            (
                "evil",
                1,
                "speaker_1",
                "customer",
                4.5,
                9.0,
                f"That {ATTRIBUTE_INJECTION} is too much {IMG_INJECTION}",
            ),
            ("evil", 2, "speaker_0", "rep", 12.0, 20.0, "Next steps: I send the contract by Friday."),
            ("evil", 3, "<b>speaker_2</b>", "customer", 19.0, 22.0, "</details></ol><h1>fake heading</h1>"),
            ("calm", 0, "speaker_0", "rep", 0.0, 10.0, "Let's talk about the price and the discount."),
            ("calm", 1, "speaker_1", "customer", 10.0, 14.0, "A competitor is cheaper."),
        ]
    )
    hits = hits_frame(
        [
            ("evil", "pricing", "pricing", "speaker_0", "rep", 0.8, 1.2, 0.04, f"Our pricing {INJECTION}", 0),
            ("evil", "next_steps", "next steps", "speaker_0", "rep", 12.0, 12.6, 0.55, "Next steps", 2),
            ("calm", "pricing", "price", "speaker_0", "rep", 3.0, 3.3, 0.21, "about the price", 0),
        ]
    )
    calls = pd.DataFrame(
        {
            "call_id": ["evil", "calm"],
            "title": [f"Demo {IMG_INJECTION}", "Renewal"],
            "rep": [ATTRIBUTE_INJECTION, "Bob"],
            "customer": ["Cy", "Di"],
            "date": pd.to_datetime(["2026-11-01", "2026-11-02"]),
            "duration_s": [22.0, 14.0],
            "talk_ratio_rep": [0.62, 0.71],
            "longest_monologue_s": [8.0, 10.0],
        }
    )
    summary = CallSummary(
        call_id="evil",
        method="extractive",
        summary=[SummaryItem(text=f"Pricing {INJECTION}", citations=[Citation(turn=0, start=0.0, end=5.0)])],
    )
    return Frames(calls=calls, turns=turns, hits=hits, summaries={"evil": summary})
