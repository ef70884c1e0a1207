"""Recall and precision of the offline action-item extractor against the sample calls' planted items.

Ground truth: ``sample_data/<call_id>.truth.json`` ``action_items`` (written into the call scripts
by ``scripts/sample_scripts.py``, independent of the extractor). Run on

- ground-truth turns (the script's own turns, punctuated), and the same turns lowercased with
  punctuation stripped (what a hosted ASR gives);
- ASR turns, when ``sample_data/<call_id>.result.json`` (stereo, channel 0 = rep) or
  ``<call_id>.mono.result.json`` (diarized, roles inferred) exist (``hearkit.transcript.turns``).

A found item matches a planted one when its cited turn overlaps the planted turn's time span;
among several, the one sharing most words. One-to-one. recall = matched planted / planted;
precision = matched found / found (the scripts plant some commitments, not all: the found
items that match none are printed so you can judge them). Baseline, measured in the same run:
a keyword rule that calls every turn containing "I'll", "I will", "we'll", "we will" or "let's"
one action item. "owner ok" = matched items with the planted owner role / matched; "due ok" =
matched items whose found due phrase contains the planted one / matched items planted with a due.

Requests made of the other party ("send me a quote", "could you send me the list"): the sample
scripts plant none, so a held-out set written by hand for this purpose,
``benchmarks/data/request_calls.json`` (three short calls, items with owner and due, and
distractors such as in-call requests "walk me through…", "share your screen"), is scored the same
way, overall and for the request items alone (owner ≠ speaker). It is never used to tune the
rules; their development examples are in ``tests/summarize/test_requests.py``.

    uv run python benchmarks/bench_summaries.py
"""

from __future__ import annotations

import json
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from hearkit.summarize import summarize

SAMPLE = Path(__file__).resolve().parents[1] / "sample_data"
HELDOUT = Path(__file__).resolve().parent / "data" / "request_calls.json"
BASELINE = re.compile(r"\b(?:i'?ll|i will|we'?ll|we will|let'?s)\b", re.IGNORECASE)


@dataclass(frozen=True)
class Found:
    start: float
    end: float
    text: str
    owner_role: str | None
    due: str | None


@dataclass
class Score:
    planted: int = 0
    found: int = 0
    matched: int = 0
    owner_right: int = 0
    due_planted: int = 0
    due_right: int = 0
    unmatched: tuple[str, ...] = ()

    def add(self, other: Score) -> None:
        for name in ("planted", "found", "matched", "owner_right", "due_planted", "due_right"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def line(self) -> str:
        recall = self.matched / self.planted if self.planted else float("nan")
        precision = self.matched / self.found if self.found else float("nan")
        owner = self.owner_right / self.matched if self.matched else float("nan")
        due = self.due_right / self.due_planted if self.due_planted else float("nan")
        return (
            f"planted {self.planted:2d}  found {self.found:2d}  recall {recall:5.2f}"
            f"  precision {precision:5.2f}  owner ok {owner:4.2f}  due ok {due:4.2f}"
        )


def truth_turns(truth: dict[str, object], *, asr_style: bool) -> pd.DataFrame:
    frame = pd.DataFrame(truth["turns"])  # type: ignore[arg-type]
    frame["call_id"] = truth["call_id"]
    if asr_style:
        frame["text"] = frame["text"].str.lower().str.replace(r"[^\w\s']", "", regex=True)
    return frame


def asr_turns(call_id: str, *, mono: bool) -> pd.DataFrame | None:
    """Turns of the engine's result: stereo (channel 0 = rep) or mono (diarized, roles inferred)."""
    path = SAMPLE / f"{call_id}.{'mono.' if mono else ''}result.json"
    if not path.exists():
        return None
    from hearkit.transcript import turns

    roles = None if mono else {0: "rep", 1: "customer"}
    return turns(json.loads(path.read_text()), call_id=call_id, roles=roles)


def extractor(frame: pd.DataFrame) -> list[Found]:
    summary = summarize(frame, method="extractive")
    return [
        Found(a.citations[0].start, a.citations[0].end, a.text, a.owner_role, a.due)
        for a in summary.action_items
    ]


def keyword_baseline(frame: pd.DataFrame) -> list[Found]:
    return [
        Found(float(row.start), float(row.end), str(row.text), str(row.role), None)
        for row in frame.itertuples()
        if BASELINE.search(str(row.text))
    ]


def words(text: str) -> set[str]:
    return set(re.findall(r"[a-z']+", text.lower()))


def score(
    planted: list[dict[str, object]], spans: dict[int, tuple[float, float]], found: list[Found]
) -> Score:
    result = Score(planted=len(planted), found=len(found))
    free = list(found)
    for item in planted:
        start, end = spans[int(item["turn"])]  # type: ignore[call-overload]
        overlapping = [f for f in free if f.start < end and f.end > start]
        if not overlapping:
            continue
        best = max(overlapping, key=lambda f: len(words(f.text) & words(str(item["text"]))))
        free.remove(best)
        result.matched += 1
        result.owner_right += best.owner_role == item.get("owner_role")
        due = str(item.get("due") or "").lower()
        result.due_planted += bool(due)
        result.due_right += bool(due) and best.due is not None and due in best.due.lower()
    result.unmatched = tuple(f.text for f in free)
    return result


def main() -> None:
    index = json.loads((SAMPLE / "index.json").read_text())["calls"]
    methods: dict[str, Callable[[pd.DataFrame], list[Found]]] = {
        "extractor": extractor,
        "baseline": keyword_baseline,
    }
    print(f"{len(index)} sample calls; machine: {os.cpu_count()} cores, load {os.getloadavg()[0]:.2f}")
    variants = (
        "truth turns",
        "truth turns, ASR style (lowercase, no punctuation)",
        "ASR turns, stereo",
        "ASR turns, mono (diarized, roles inferred)",
    )
    for variant in variants:
        totals = {name: Score() for name in methods}
        seconds = dict.fromkeys(methods, 0.0)
        print(f"\n== {variant}")
        for call in index:
            truth = json.loads((SAMPLE / call["truth"]).read_text())
            spans = {int(t["turn"]): (float(t["start"]), float(t["end"])) for t in truth["turns"]}
            if variant.startswith("ASR"):
                frame = asr_turns(call["call_id"], mono="mono" in variant)
                if frame is None:
                    print(f"  {call['call_id']}: no engine result yet")
                    continue
            else:
                frame = truth_turns(truth, asr_style="ASR style" in variant)
            for name, method in methods.items():
                began = time.perf_counter()
                found = method(frame)
                seconds[name] += time.perf_counter() - began
                result = score(truth["action_items"], spans, found)
                totals[name].add(result)
                if name == "extractor":
                    print(f"  {call['call_id']:<20} {result.line()}")
                    for text in result.unmatched:
                        print(f"  {'':<20}   not planted: {text!r}")
        if totals["extractor"].planted:
            for name in methods:
                print(f"  {'ALL ' + name:<20} {totals[name].line()}  ({seconds[name] * 1000:.1f} ms)")
            ours, base = totals["extractor"], totals["baseline"]
            ratio_r = (ours.matched / ours.planted) / max(base.matched / base.planted, 1e-9)
            ratio_p = (ours.matched / max(ours.found, 1)) / max(base.matched / max(base.found, 1), 1e-9)
            print(f"  extractor / baseline: recall x{ratio_r:.2f}, precision x{ratio_p:.2f}")


def heldout_truths() -> list[dict[str, object]]:
    """The held-out request calls in the truth-file layout (turn times: 0.4 s a word, 0.6 s gaps)."""
    truths: list[dict[str, object]] = []
    for call in json.loads(HELDOUT.read_text())["calls"]:
        turns, items, clock = [], [], 0.0
        for number, (role, text, planted) in enumerate(call["lines"]):
            length = 0.4 * len(text.split())
            turns.append(
                {
                    "turn": number,
                    "speaker": role,
                    "role": role,
                    "start": clock,
                    "end": clock + length,
                    "text": text,
                }
            )
            items += [
                {"turn": number, "text": text, "owner_role": owner, "due": due} for owner, due in planted
            ]
            clock += length + 0.6
        truths.append({"call_id": call["call_id"], "turns": turns, "action_items": items})
    return truths


def heldout() -> None:
    """Score the extractor and the baseline on the held-out request calls (see module docstring)."""
    truths = heldout_truths()
    for asr_style in (False, True):
        print(f"\n== held-out request calls{', ASR style' if asr_style else ''}")
        totals = {"extractor": Score(), "baseline": Score(), "requests only": Score()}
        for truth in truths:
            spans = {int(t["turn"]): (float(t["start"]), float(t["end"])) for t in truth["turns"]}  # type: ignore[attr-defined]
            role_of = {int(t["turn"]): t["role"] for t in truth["turns"]}  # type: ignore[attr-defined]
            frame = truth_turns(truth, asr_style=asr_style)
            found = extractor(frame)
            result = score(truth["action_items"], spans, found)  # type: ignore[arg-type]
            totals["extractor"].add(result)
            totals["baseline"].add(score(truth["action_items"], spans, keyword_baseline(frame)))  # type: ignore[arg-type]
            requests = [i for i in truth["action_items"] if i["owner_role"] != role_of[i["turn"]]]  # type: ignore[attr-defined,index]
            totals["requests only"].add(score(requests, spans, found))
            print(f"  {truth['call_id']:<20} {result.line()}")
            for text in result.unmatched:
                print(f"  {'':<20}   not planted: {text!r}")
        for name, total in totals.items():
            if name == "requests only":
                recall = total.matched / total.planted if total.planted else float("nan")
                counts = f"planted {total.planted:2d}  matched {total.matched:2d}"
                print(f"  {'ALL ' + name:<20} {counts}  recall {recall:5.2f}")
            else:
                print(f"  {'ALL ' + name:<20} {total.line()}")


def throughput(n_calls: int = 100) -> None:
    """Archive speed: ``summarize_calls`` over synthetic calls (``hearkit.synth``, ~200 turns each)."""
    from hearkit.summarize import summarize_calls
    from hearkit.synth import synthetic_calls

    turns = synthetic_calls(n_calls, seed=0).turns
    began = time.perf_counter()
    summaries = summarize_calls(turns, method="extractive")
    ours = (time.perf_counter() - began) / len(summaries)
    began = time.perf_counter()
    for _, frame in turns.groupby("call_id", sort=False):
        keyword_baseline(frame)
    base = (time.perf_counter() - began) / len(summaries)
    print(
        f"\n== throughput: {len(summaries)} synthetic calls, {len(turns) / len(summaries):.0f} turns a call"
    )
    print(
        f"  extractor {ours * 1000:.1f} ms a call, keyword baseline {base * 1000:.1f} ms a call "
        f"(x{ours / base:.1f})"
    )


if __name__ == "__main__":
    main()
    heldout()
    throughput()
