"""Records and call sets: the sample calls end to end, Parquet round trip, synthetic calls."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from hearkit.metrics import SCORECARD_COLUMNS
from hearkit.record import CallRecord, CallSet, analyze_call, labelled_transcript, top_keywords
from hearkit.summary import ActionItem, CallSummary
from hearkit.synth import synthetic_calls, synthetic_turns

from .conftest import SAMPLE_DIR


@pytest.fixture(scope="module")
def truth_set() -> CallSet:
    return CallSet.load_sample("truth")


def test_sample_set_from_truth_has_metadata_metrics_and_hits(
    truth_set: CallSet, truths: list[dict[str, Any]]
) -> None:
    calls = truth_set.calls.set_index("call_id")
    assert len(calls) == len(truths)
    for t in truths:
        row = calls.loc[t["call_id"]]
        assert (row["title"], row["rep"], row["date"], row["kind"]) == (
            t["title"],
            t["rep"],
            t["date"],
            t["kind"],
        )
        talk_rep = sum(x["end"] - x["start"] for x in t["turns"] if x["role"] == "rep")
        assert row["talk_s_rep"] == pytest.approx(talk_rep, abs=1e-6)
        planted_pricing = sum(1 for p in t["planted"] if p["tracker"] == "pricing")
        assert row["hits_pricing"] >= planted_pricing
    assert set(SCORECARD_COLUMNS) <= set(truth_set.calls.columns)


def test_parquet_round_trip_is_lossless(truth_set: CallSet, tmp_path: Path) -> None:
    truth_set.summaries["call_03_pricing"] = CallSummary(
        call_id="call_03_pricing",
        method="extractive",
        action_items=[ActionItem(text="send both quotes", owner_role="rep", due="Friday")],
    )
    truth_set.save(tmp_path / "set")
    loaded = CallSet.load(tmp_path / "set")
    for name in ("calls", "turns", "words", "hits", "speakers"):
        pd.testing.assert_frame_equal(getattr(truth_set, name), getattr(loaded, name))
    assert loaded.summaries == truth_set.summaries
    assert loaded.record("call_03_pricing") == truth_set.record("call_03_pricing")


def test_load_refuses_a_folder_that_is_not_a_set(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError, match=r"CallSet\.save"):
        CallSet.load(tmp_path)


def test_record_of_one_call_matches_its_truth(truths: list[dict[str, Any]]) -> None:
    truth = next(t for t in truths if t["call_id"] == "call_07_monologue")
    from hearkit.record import truth_to_result

    record = analyze_call(
        truth_to_result(truth),
        call_id="mono",
        roles={0: "rep", 1: "customer"},
        metadata={"title": truth["title"]},
    )
    assert isinstance(record, CallRecord)
    assert record.audio_seconds == truth["duration_s"] and record.metadata["title"] == truth["title"]
    assert [s.role for s in record.speakers] == ["rep", "customer"]  # sorted by talk time
    assert sum(s.ratio or 0 for s in record.speakers) == pytest.approx(1.0)
    assert record.metrics["longest_monologue_s_rep"] > 120
    assert {h.tracker for h in record.hits} >= {"pricing", "competitors", "next_steps"}
    assert len(record.turns) == len(truth["turns"])
    first = truth["turns"][0]
    assert record.transcript.splitlines()[0] == f"[00:01] speaker_0 (rep): {first['text']}"
    assert record.summary is not None and record.summary.call_id == "mono"  # wired by hearkit.summarize
    json.loads(record.model_dump_json())


def test_top_keywords_skip_stop_words_and_short_words() -> None:
    turns = pd.DataFrame(
        {
            "call_id": ["x", "x", "y"],
            "text": ["The price, the PRICE and the seat-count.", "Price? Yes: 40 per seat", "ok ok"],
        }
    )
    kws = top_keywords(turns, n=3)
    assert [(k.word, k.count) for k in kws["x"]] == [("price", 3), ("seat", 2), ("count", 1)]
    assert "y" not in kws


def test_labelled_transcript_orders_by_time() -> None:
    turns = pd.DataFrame(
        {
            "turn": [1, 0],
            "speaker": ["s1", "s0"],
            "role": ["customer", "rep"],
            "start": [65.0, 1.0],
            "text": ["later", "first"],
        }
    )
    assert labelled_transcript(turns) == "[00:01] s0 (rep): first\n[01:05] s1 (customer): later"


def test_stereo_sample_results_exist_and_load() -> None:
    index = json.loads((SAMPLE_DIR / "index.json").read_text())["calls"]
    assert all((SAMPLE_DIR / e["result"]).is_file() for e in index)
    calls = CallSet.load_sample("stereo").calls
    assert len(calls) == len(index) and (calls["talk_ratio_rep"] > 0.3).all()


def test_synthetic_calls_have_realistic_structure() -> None:
    turns, durations = synthetic_turns(50, seed=3)
    again, _ = synthetic_turns(50, seed=3)
    pd.testing.assert_frame_equal(turns, again)
    per_call = turns.groupby("call_id").size()
    assert len(per_call) == 50 and 120 < per_call.mean() < 280
    assert (turns["end"] > turns["start"]).all()
    assert (turns.groupby("call_id")["end"].max() < durations.reindex(per_call.index)).all()
    assert 1.5 < turns["duration_s"].median() < 6
    sorted_ok = turns.groupby("call_id")["start"].apply(lambda s: s.is_monotonic_increasing)
    assert sorted_ok.all()
    cs = synthetic_calls(5, hits=True)
    assert len(cs.calls) == 5 and (cs.hits["time_source"] == "interpolated").all()


@pytest.mark.parametrize("source", [{}, {"transcript": "hello", "duration": 30}])
def test_a_dict_that_is_no_job_or_result_is_an_error_not_an_empty_record(source: dict[str, Any]) -> None:
    # {} validated as a Result with every default: an empty record, talk ratio {}, no error
    with pytest.raises(ValueError, match=r"not a PyAI job or result.*client\.jobs\.wait"):
        analyze_call(source)


@pytest.mark.parametrize(
    ("job", "message"),
    [
        (
            {"job_id": "j1", "status": "failed", "error": "audio unreadable"},
            r"j1 failed \(audio unreadable\)",
        ),
        ({"job_id": "j2", "status": "queued"}, r"j2 is queued.*client\.jobs\.wait"),
    ],
)
def test_a_job_without_its_result_is_an_error_for_one_call(job: dict[str, Any], message: str) -> None:
    from hearkit.errors import ResultUnavailableError

    with pytest.raises(ResultUnavailableError, match=message):
        analyze_call(job)


def test_a_silent_result_is_still_a_record_flagged_no_talk() -> None:
    record = analyze_call({"audio_seconds": 12.0, "text": ""}, call_id="silent", summary=False)
    assert record.audio_seconds == 12.0 and "no_talk" in record.flags


def test_a_result_without_speaker_labels_has_no_rep_talk_ratio_and_says_so() -> None:
    # hosted-API style result, no speakers: one voice 'speaker_0' of role unknown; rep talk was 0 %
    segments = [
        {"id": i, "start": s, "end": e, "text": t}
        for i, (s, e, t) in enumerate(
            [(0.0, 5.0, "Thanks for calling Acme."), (5.5, 12.0, "I want a price.")]
        )
    ]
    record = analyze_call({"audio_seconds": 15.0, "segments": segments}, call_id="c", summary=False)
    assert record.metrics["talk_ratio_rep"] is None and record.metrics["talk_ratio_customer"] is None
    assert "no_role" in record.flags


def test_a_failed_job_among_others_keeps_its_no_talk_row() -> None:
    """analyze_calls keeps a row for a job without a result (no turns, no audio_seconds), and a
    silent result's row; the spoken call's pricing hit sits at start / its audio_seconds."""
    from hearkit.record import analyze_calls

    spoken = {
        "audio_seconds": 20.0,
        "segments": [
            {"id": 0, "start": 0.0, "end": 4.0, "text": "Hello, thanks for calling.", "speaker": "A"},
            {"id": 1, "start": 10.0, "end": 14.0, "text": "What is the price?", "speaker": "B"},
        ],
    }
    failed = {"job_id": "j9", "status": "failed", "error": "unreadable"}
    silent = {"audio_seconds": 8.0, "text": ""}
    calls = analyze_calls(
        [spoken, failed, silent], call_ids=["spoken", "failed", "silent"], summaries=False
    ).calls.set_index("call_id")
    assert list(calls.index) == ["spoken", "failed", "silent"]
    # a job without a result is no_result (its error in job_error), not no_talk ("nobody spoke")
    assert calls.loc["failed", "flags"] == "no_result" and "no_talk" in calls.loc["silent", "flags"]
    assert calls.loc["failed", "job_error"] == "failed: unreadable"
    assert calls.loc["silent", "duration_s"] == 8.0 and calls.loc["spoken", "hits_pricing"] == 1


def test_metadata_that_names_none_of_the_calls_is_an_error() -> None:
    """Keys that were file names ('call_01.wav') left every title and rep empty without a word."""
    from hearkit.record import analyze_calls

    result = json.loads((SAMPLE_DIR / "call_01_discovery.result.json").read_text())
    with pytest.raises(ValueError, match=r"metadata names none of these calls .*'call_01\.wav'.*'call_01'"):
        analyze_calls({"call_01": result}, metadata={"call_01.wav": {"rep": "Ana"}}, summaries=False)
    frame = pd.DataFrame({"call_id": ["c9"], "rep": ["Ana"]})
    with pytest.raises(ValueError, match="metadata names none of these calls"):
        analyze_calls({"call_01": result}, metadata=frame, summaries=False)
    more = {"call_01": {"rep": "Ana"}, "call_99": {"rep": "Lee"}}  # a superset (a CRM export) is fine
    assert analyze_calls({"call_01": result}, metadata=more, summaries=False).calls["rep"].tolist() == ["Ana"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("callset.json", b"{not json", "Expecting property name"),
        ("callset.json", b"[]", "a JSON object was expected, not list"),  # was an AttributeError traceback
        ("turns.parquet", b"garbage", "Parquet"),
    ],
)
def test_a_damaged_saved_set_names_the_file_and_what_to_do(
    truth_set: CallSet, tmp_path: Path, name: str, content: bytes, reason: str
) -> None:
    import sqlite3

    folder = truth_set.save(tmp_path / "set")
    (folder / name).write_bytes(content)
    with pytest.raises(ValueError, match=rf"set/{name} is damaged \(.*{reason}.*\): save the calls again"):
        CallSet.load(folder)
    batch = tmp_path / "batch"  # a batch's dataset: rebuilt by running the batch again
    truth_set.save(batch / "dataset")
    sqlite3.connect(batch / "manifest.sqlite").close()
    (batch / "dataset" / name).write_bytes(content)
    with pytest.raises(ValueError, match=rf"is damaged .*: run `hearkit batch --out {batch}` to rebuild it"):
        CallSet.load(batch)


@pytest.mark.parametrize("seconds", [-1.0, float("inf")])
def test_a_result_with_an_impossible_length_is_named_as_such(seconds: float) -> None:
    """It said 'durations must be ≥ 0 seconds', an argument the caller never gave."""
    from hearkit.record import analyze_calls

    result = {"audio_seconds": seconds, "segments": [{"id": 0, "start": 0.0, "end": 1.0, "text": "hi"}]}
    with pytest.raises(
        ValueError, match=r"the result of 'c1' says audio_seconds=(-1\.0|inf): a recording's length"
    ):
        analyze_calls({"c1": result}, summaries=False)
