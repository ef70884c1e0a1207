"""A batch's summaries: offline by default, the LLM's when configured, asked once per call (cached
beside the call's result with the endpoint and model), and the offline summary when the LLM fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hearkit.batch.summaries import GIVE_UP_AFTER, LLM_CONCURRENCY, summarize_batch
from tests.summarize.conftest import Reply, ScriptedLLM, completion, error
from tests.summarize.scripted_call import turns_frame
from tests.summarize.test_llm import GOOD


def two_calls() -> pd.DataFrame:
    return pd.concat([turns_frame(call_id="a"), turns_frame(call_id="b")], ignore_index=True)


def test_offline_by_default_and_nothing_cached(tmp_path: Path) -> None:
    out = summarize_batch(two_calls(), tmp_path)
    assert set(out.summaries) == {"a", "b"} and out.llm_failures == {}
    assert all(s.method == "extractive" and s.action_items for s in out.summaries.values())
    assert list(tmp_path.iterdir()) == []


def test_the_llm_is_asked_once_per_call_across_runs(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    llm_server.play(completion(GOOD))
    first = summarize_batch(two_calls(), tmp_path, llm=llm_server.config())
    assert len(llm_server.seen) == 2
    assert {s.method for s in first.summaries.values()} == {"llm"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a.summary.json", "b.summary.json"]

    again = summarize_batch(two_calls(), tmp_path, llm=llm_server.config())
    assert len(llm_server.seen) == 2, "a resumed batch never asks twice"
    assert again.summaries == first.summaries

    summarize_batch(two_calls(), tmp_path, llm=llm_server.config(model="another-model"))
    assert len(llm_server.seen) == 4, "another model writes its own summaries"


def test_a_failing_llm_leaves_the_offline_summary_and_is_asked_again(
    llm_server: ScriptedLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm_server.play(error(401, "invalid api key"))
    out = summarize_batch(two_calls(), tmp_path, llm=llm_server.config(max_retries=0))
    assert set(out.llm_failures) == {"a", "b"} and all(
        "401" in m or "key" in m for m in out.llm_failures.values()
    )
    assert {s.method for s in out.summaries.values()} == {"extractive"}
    assert list(tmp_path.iterdir()) == []

    llm_server.play(completion(GOOD))
    monkeypatch.setenv("HEARKIT_LLM_BASE_URL", llm_server.base_url)
    monkeypatch.setenv("HEARKIT_LLM_MODEL", "scripted-model")
    monkeypatch.setenv("HEARKIT_LLM_API_KEY", "sk-test-7f3a9c-super-secret-key")
    retried = summarize_batch(two_calls(), tmp_path)  # configured from the environment
    assert {s.method for s in retried.summaries.values()} == {"llm"} and retried.llm_failures == {}


def many_calls(n: int) -> pd.DataFrame:
    return pd.concat([turns_frame(call_id=f"c{i:02d}") for i in range(n)], ignore_index=True)


def test_a_dead_endpoint_is_given_up_after_a_few_calls(
    llm_server: ScriptedLLM, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """U8 finding 9: a 500-answering endpoint was asked (4 attempts) for every call of the batch."""
    monkeypatch.setenv("HEARKIT_LLM_CONCURRENCY", "1")
    llm_server.play(error(500, "upstream down"))
    out = summarize_batch(many_calls(12), tmp_path, llm=llm_server.config(max_retries=0))
    assert len(llm_server.seen) == GIVE_UP_AFTER
    assert list(out.llm_failures) == ["c00", "c01", "c02"]
    assert out.llm_not_asked == [f"c{i:02d}" for i in range(3, 12)]
    assert len(out.summaries) == 12 and {s.method for s in out.summaries.values()} == {"extractive"}
    llm_server.play(completion(GOOD))
    again = summarize_batch(many_calls(12), tmp_path, llm=llm_server.config(max_retries=0))
    assert again.llm_failures == {} and again.llm_not_asked == []  # the next run asks every call
    assert {s.method for s in again.summaries.values()} == {"llm"}


def test_calls_are_asked_several_at_once(llm_server: ScriptedLLM, tmp_path: Path) -> None:
    """U8 finding 9: the batch asked one call at a time (12 calls at 3 s each: 36 s)."""
    llm_server.play(Reply(**{**completion(GOOD).__dict__, "delay": 2.0}))
    out = summarize_batch(many_calls(LLM_CONCURRENCY), tmp_path, llm=llm_server.config())
    assert {s.method for s in out.summaries.values()} == {"llm"}
    arrivals = sorted(seen.at for seen in llm_server.seen)
    assert len(arrivals) == LLM_CONCURRENCY
    assert arrivals[-1] - arrivals[0] < 2.0  # the last request arrived before the first was answered


def test_a_bad_concurrency_setting_is_one_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hearkit.summarize import LLMConfig

    monkeypatch.setenv("HEARKIT_LLM_CONCURRENCY", "four")
    with pytest.raises(ValueError, match="HEARKIT_LLM_CONCURRENCY must be a whole number >= 1, not 'four'"):
        summarize_batch(two_calls(), tmp_path, llm=LLMConfig(base_url="http://127.0.0.1:9/v1", model="m"))
