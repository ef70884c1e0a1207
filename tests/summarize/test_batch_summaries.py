"""A batch's summaries: offline by default, the LLM's when configured, asked once per call (cached
beside the call's result with the endpoint and model), and the offline summary when the LLM fails."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from hearkit.batch.summaries import summarize_batch
from tests.summarize.conftest import ScriptedLLM, completion, error
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
