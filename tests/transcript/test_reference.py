"""``normalize_many`` against a deliberately plain per-row construction of the same frames.

The reference below reads the documented rules (module docstring of :mod:`hearkit.transcript`
and docs/client.md) one segment and one word at a time, with Python loops and ``bisect``, builds
each frame from a list of row dicts, and casts it to the documented dtypes. It shares no code
with the columnar implementation except the two rule constants (the greeting regex and the
question openers), so any change in how the columns are read or assembled must give the same
frames, dtypes included. It runs on the engine's real results of the sample calls.
"""

from __future__ import annotations

import bisect
import json
import random
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hearkit import transcript
from hearkit.schema import Result
from hearkit.transcript import _GREETING, _QUESTION_OPENERS, TURN_COLUMNS, WORD_COLUMNS

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"
SAMPLES = sorted(SAMPLE.glob("*.result.json"))

DTYPES = {
    "call_id": "str",
    "turn": "int64",
    "word_index": "int64",
    "speaker": "str",
    "channel": "Int64",
    "role": "str",
    "role_source": "str",
    "start": "float64",
    "end": "float64",
    "duration_s": "float64",
    "text": "str",
    "word": "str",
    "n_words": "int64",
}


def frame(rows: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    data = {c: pd.Series([row[c] for row in rows], dtype=DTYPES[c]) for c in columns}
    return pd.DataFrame(data, columns=list(columns))


def is_question(text: str) -> bool:
    stripped = text.rstrip()
    if stripped.endswith("?"):
        return True
    words = stripped.split()
    return bool(words) and words[0].lower().strip(",.!") in _QUESTION_OPENERS


def identity(key: str, label: str | None, channel: int | None) -> Any:
    if key == "channel":
        return channel if channel is not None else (label or "speaker_0")
    if label is not None:
        return label
    return f"channel_{channel}" if channel is not None else "speaker_0"


def nearest(mid: float, turns: list[dict[str, Any]]) -> int:
    """Position in ``turns`` (sorted by start) of the turn that starts at or before ``mid`` or the
    next one, whichever is closer (the earlier one on a tie)."""
    starts = [t["start"] for t in turns]
    right = bisect.bisect_right(starts, mid)
    before, after = max(right - 1, 0), min(right, len(turns) - 1)
    dist_before = max(mid - turns[before]["end"], 0.0)
    dist_after = max(turns[after]["start"] - mid, 0.0)
    return after if dist_after < dist_before else before


def decide_roles(
    roles: dict[Any, str] | None,
    key: str,
    speakers: list[Any],
    name: dict[Any, str],
    channel_of: dict[Any, int | None],
    turns: list[dict[str, Any]],
) -> dict[Any, tuple[str, str]]:
    if roles is not None:
        decided = {}
        for ident in speakers:
            role = roles.get(name[ident])
            if role is None and channel_of[ident] is not None:
                role = roles.get(channel_of[ident])
            decided[ident] = (role, "explicit") if role is not None else ("unknown", "unknown")
        return decided
    if len(speakers) < 2:
        return dict.fromkeys(speakers, ("unknown", "unknown"))
    if key == "channel" and sorted(speakers, key=str) == [0, 1]:
        return {s: ("rep" if s == 0 else "customer", "channel_convention") for s in speakers}
    greeted = set()
    for ident in speakers:
        own = [t for t in turns if t["ident"] == ident][:3]
        if any(_GREETING.search(t["text"]) for t in own):
            greeted.add(ident)
    if len(greeted) == 1:
        return {s: ("rep" if s in greeted else "customer", "inferred_greeting") for s in speakers}
    questions = {s: sum(1 for t in turns if t["ident"] == s and is_question(t["text"])) for s in speakers}
    ranked = sorted(speakers, key=lambda s: -questions[s])
    if questions[ranked[0]] >= 2 and questions[ranked[0]] >= 1.5 * questions[ranked[1]]:
        rep, source = ranked[0], "inferred_questions"
    else:
        rep, source = speakers[0], "inferred_first_speaker"
    return {s: ("rep" if s == rep else "customer", source) for s in speakers}


def reference(
    result: Result,
    call_id: str,
    *,
    speaker_key: str = "auto",
    roles: dict[Any, str] | None = None,
    merge_gap: float | None = 0.5,
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Turn rows and word rows of one call, one item at a time."""
    words = [
        {"start": w.start, "end": w.end, "text": w.word, "label": w.speaker, "channel": w.channel}
        for w in result.words
    ]
    segments = [
        {"start": s.start, "end": s.end, "text": s.text, "label": s.speaker, "channel": s.channel}
        for s in result.segments
    ] or [dict(w) for w in words]
    if not segments:
        return [], []
    segments.sort(key=lambda s: s["start"])
    words.sort(key=lambda w: w["start"])
    channels = {s["channel"] for s in segments if s["channel"] is not None}
    key = speaker_key
    if key == "auto":
        key = "channel" if len(channels) >= 2 else "speaker"

    speakers: list[Any] = []
    name: dict[Any, str] = {}
    channel_of: dict[Any, int | None] = {}
    turns: list[dict[str, Any]] = []
    previous: dict[str, Any] | None = None
    for seg in segments:
        ident = identity(key, seg["label"], seg["channel"])
        if ident not in speakers:
            speakers.append(ident)
            channel_of[ident] = seg["channel"]
        fallback = f"channel_{seg['channel']}" if seg["channel"] is not None else "speaker_0"
        if key != "channel":
            name.setdefault(ident, str(ident))
        elif ident not in name or (name[ident].startswith("channel_") and seg["label"] is not None):
            name[ident] = seg["label"] if seg["label"] is not None else fallback
        same = (
            previous is not None
            and merge_gap is not None
            and turns[-1]["ident"] == ident
            and seg["start"] - previous["end"] <= merge_gap
        )
        if same:
            turns[-1]["end"] = max(turns[-1]["end"], seg["end"])
            turns[-1]["parts"].append(seg["text"].strip())
        else:
            turns.append(
                {
                    "ident": ident,
                    "start": seg["start"],
                    "end": seg["end"],
                    "channel": seg["channel"],
                    "parts": [seg["text"].strip()],
                }
            )
        previous = seg
    for t in turns:
        t["text"] = " ".join(p for p in t["parts"] if p)
        t["n_words"] = 0
    decided = decide_roles(roles, key, speakers, name, channel_of, turns)

    word_rows = []
    if words:
        by_speaker = {s: [i for i, t in enumerate(turns) if t["ident"] == s] for s in speakers}
        carries = any((w["channel"] if key == "channel" else w["label"]) is not None for w in words)
        for index, w in enumerate(words):
            mid = (w["start"] + w["end"]) / 2
            turn = nearest(mid, turns)
            own = identity(key, w["label"], w["channel"]) if carries else None
            if own in by_speaker and turns[turn]["ident"] != own:
                mine = by_speaker[own]
                turn = mine[nearest(mid, [turns[i] for i in mine])]
            t = turns[turn]
            t["n_words"] += 1
            word_rows.append(
                {
                    "call_id": call_id,
                    "word_index": index,
                    "turn": turn,
                    "speaker": name[t["ident"]],
                    "channel": w["channel"] if w["channel"] is not None else t["channel"],
                    "role": decided[t["ident"]][0],
                    "start": w["start"],
                    "end": w["end"],
                    "duration_s": max(w["end"] - w["start"], 0.0),
                    "word": w["text"],
                }
            )
    else:
        for t in turns:
            t["n_words"] = len(t["text"].split())
    turn_rows = [
        {
            "call_id": call_id,
            "turn": i,
            "speaker": name[t["ident"]],
            "channel": t["channel"],
            "role": decided[t["ident"]][0],
            "role_source": decided[t["ident"]][1],
            "start": t["start"],
            "end": t["end"],
            "duration_s": max(t["end"] - t["start"], 0.0),
            "text": t["text"],
            "n_words": t["n_words"],
        }
        for i, t in enumerate(turns)
    ]
    return turn_rows, word_rows


def reference_many(
    results: list[Result], call_ids: list[str], **options: Any
) -> tuple[pd.DataFrame, pd.DataFrame]:
    turn_rows: list[dict[str, Any]] = []
    word_rows: list[dict[str, Any]] = []
    for result, call_id in zip(results, call_ids, strict=True):
        t, w = reference(result, call_id, **options)
        turn_rows += t
        word_rows += w
    return frame(turn_rows, TURN_COLUMNS), frame(word_rows, WORD_COLUMNS)


def assert_same(got: tuple[pd.DataFrame, pd.DataFrame], want: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    for g, w in zip(got, want, strict=True):
        pd.testing.assert_frame_equal(g, w, check_exact=True)
        assert {c: str(t) for c, t in g.dtypes.items()} == {c: DTYPES[c] for c in g.columns}


def sample_results() -> tuple[list[Result], list[str]]:
    results = [Result.model_validate_json(path.read_bytes()) for path in SAMPLES]
    return results, [path.name.removesuffix(".result.json") for path in SAMPLES]


def test_there_are_stereo_and_mono_samples() -> None:
    names = [path.name for path in SAMPLES]
    assert sum(".mono." in n for n in names) >= 5
    assert sum(".mono." not in n for n in names) >= 5


@pytest.mark.parametrize(
    "options",
    [
        {},
        {"merge_gap": None},
        {"merge_gap": 3.0},
        {"speaker_key": "speaker"},
        {"roles": {0: "rep", "speaker_1": "customer"}},
    ],
    ids=["defaults", "no-merge", "merge-3s", "by-label", "explicit-roles"],
)
def test_sample_calls_match_the_plain_construction(options: dict[str, Any]) -> None:
    results, ids = sample_results()
    assert_same(
        transcript.normalize_many(results, call_ids=ids, **options), reference_many(results, ids, **options)
    )
    for result, call_id in zip(results, ids, strict=True):
        assert_same(
            transcript.turns_and_words(result, call_id=call_id, **options),
            reference_many([result], [call_id], **options),
        )


def test_shuffled_and_partial_results_match_the_plain_construction() -> None:
    """Out-of-order items, words without segments, segments without words, missing labels."""
    rng = random.Random(3)
    results, _ = sample_results()
    variants: list[Result] = []
    for result in results:
        document = json.loads(result.model_dump_json())
        rng.shuffle(document["segments"])
        rng.shuffle(document["words"])
        variants.append(Result.model_validate(document))
        variants.append(Result.model_validate({**document, "segments": []}))
        variants.append(Result.model_validate({**document, "words": []}))
        for word in document["words"][::3]:
            word.pop("speaker", None)
            word.pop("channel", None)
        variants.append(Result.model_validate(document))
        # Segments without a label, or labelled like the channel fallback names.
        for i, segment in enumerate(document["segments"]):
            if i % 4 == 1:
                segment.pop("speaker", None)
            elif i % 4 == 2 and segment.get("speaker"):
                segment["speaker"] = f"channel_{segment['speaker']}"
        variants.append(Result.model_validate(document))
    variants.append(Result.model_validate({"text": "", "segments": [], "words": []}))
    names = [f"v{i}" for i in range(len(variants))]
    assert_same(transcript.normalize_many(variants, call_ids=names), reference_many(variants, names))
