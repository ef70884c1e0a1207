"""An independent, deliberately simple per-call reading of the metric definitions.

Plain Python loops over one call's ground-truth turns (dicts from ``<call_id>.truth.json``); it
shares no code with :mod:`hearkit.metrics`. Valid for calls where a speaker's own turns never
overlap (true of the scripted sample calls: the generator refuses such a script).
"""

from __future__ import annotations

import itertools
import re
from typing import Any

MIN_OVERLAP_S = 0.3
BACKCHANNEL_MAX_S = 1.5
INTERJECTION_MAX_S = 1.0
MONOLOGUE_GAP_S = 3.0
FILLER_WORDS = {"um", "uh", "uhm", "erm", "er", "ah"}
FILLER_BIGRAMS = {("you", "know"), ("i", "mean")}


def overlap(a: dict[str, Any], b: dict[str, Any]) -> float:
    return max(0.0, min(a["end"], b["end"]) - max(a["start"], b["start"]))


def longest_stretch(turns: list[dict[str, Any]], who: str, key: str = "speaker") -> float:
    """Longest continuous speech of ``who`` (turns with ``turn[key] == who``), by the definition's
    words: walk the turns in start order; another party's turn of at least INTERJECTION_MAX_S, or
    a pause of ``who``'s own of at least MONOLOGUE_GAP_S, closes the open stretch."""
    best = 0.0
    run_start: float | None = None
    run_end = 0.0
    for t in sorted(turns, key=lambda t: (t["start"], t["end"])):
        if t["end"] <= t["start"]:
            continue
        if t[key] != who:
            if t["end"] - t["start"] >= INTERJECTION_MAX_S:
                run_start = None
            continue
        if run_start is not None and t["start"] - run_end >= MONOLOGUE_GAP_S:
            run_start = None
        if run_start is None:
            run_start, run_end = t["start"], t["end"]
        else:
            run_end = max(run_end, t["end"])
        best = max(best, run_end - run_start, t["end"] - t["start"])
    return best


def reference_metrics(truth: dict[str, Any]) -> dict[str, Any]:
    turns = sorted(truth["turns"], key=lambda t: (t["start"], t["end"]))
    duration = truth["duration_s"]
    talk: dict[str, float] = {}
    for t in turns:
        talk[t["role"]] = talk.get(t["role"], 0.0) + (t["end"] - t["start"])
    total = sum(talk.values())

    overtalk, overtalk_count = 0.0, 0
    for a in turns:
        for b in turns:
            if a["role"] == "rep" and b["role"] == "customer" and overlap(a, b) > 0:
                overtalk += overlap(a, b)
                overtalk_count += 1
    speech = total - overtalk

    backchannel = set()
    interruptions = {"rep": 0, "customer": 0}
    for b in turns:
        for a in turns:
            if a["role"] == b["role"] or not (a["start"] < b["start"] < a["end"]):
                continue
            if b["end"] <= a["end"] and b["end"] - b["start"] <= BACKCHANNEL_MAX_S:
                backchannel.add(b["turn"])
            elif min(a["end"], b["end"]) - b["start"] >= MIN_OVERLAP_S:
                interruptions[b["role"]] += 1

    floor = [t for t in turns if t["turn"] not in backchannel]
    switches = sum(1 for prev, cur in itertools.pairwise(floor) if prev["role"] != cur["role"])

    pauses = []
    last_end, last_role = None, None
    for t in floor:
        if last_end is not None and t["role"] == "rep" and last_role != "rep":
            pauses.append(max(0.0, t["start"] - last_end))
        if last_end is None or t["end"] >= last_end:
            last_end, last_role = t["end"], t["role"]

    longest = {role: longest_stretch(turns, role, key="role") for role in talk}

    words: dict[str, int] = {}
    questions: dict[str, int] = {}
    fillers: dict[str, int] = {}
    for t in turns:
        tokens = [re.sub(r"[^\w']", "", w).lower() for w in t["text"].split()]
        words[t["role"]] = words.get(t["role"], 0) + len(tokens)
        questions[t["role"]] = questions.get(t["role"], 0) + t["text"].count("?")
        n_fill = sum(1 for w in tokens if w in FILLER_WORDS)
        # "you know" / "i mean" set off: punctuation right after them, and not after "do"/"did"/"if".
        raw = t["text"].split()
        n_fill += sum(
            1
            for i, pair in enumerate(itertools.pairwise(tokens))
            if pair in FILLER_BIGRAMS
            and (i + 2 == len(raw) or not raw[i + 1][-1].isalnum())
            and (i == 0 or tokens[i - 1] not in {"do", "did", "if"})
        )
        fillers[t["role"]] = fillers.get(t["role"], 0) + n_fill

    return {
        "duration_s": duration,
        "talk_s": talk,
        "talk_ratio": {role: secs / total for role, secs in talk.items()},
        "share_of_call": {role: secs / duration for role, secs in talk.items()},
        "speech_s": speech,
        "silence_s": duration - speech,
        "overtalk_s": overtalk,
        "overtalk_count": overtalk_count,
        "interruptions": interruptions,
        "switches": switches,
        "interactivity_per_min": switches / (duration / 60),
        "patience_s": sum(pauses) / len(pauses) if pauses else float("nan"),
        "longest": longest,
        "words": words,
        "wpm": {role: words[role] / (talk[role] / 60) for role in talk},
        "questions": questions,
        "fillers": fillers,
    }
