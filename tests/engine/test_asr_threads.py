"""How transcriptions share the cores: worker processes' model threads and the transcriber's settings."""

from __future__ import annotations

import os

import pytest

from hearkit.engine.executors import process_pool
from hearkit.engine.pipeline import WhisperTranscriber


def _threads_setting() -> str | None:
    return os.environ.get("HEARKIT_ASR_THREADS")


def test_each_worker_process_gets_its_share_of_the_cores(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HEARKIT_ASR_THREADS", raising=False)
    pool = process_pool(2)
    try:
        seen = pool.submit(_threads_setting).result(timeout=120)
    finally:
        pool.shutdown()
    assert seen == str(max(1, (os.cpu_count() or 1) // 2))


def test_an_explicit_thread_setting_wins_in_the_workers(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARKIT_ASR_THREADS", "3")
    pool = process_pool(2)
    try:
        assert pool.submit(_threads_setting).result(timeout=120) == "3"
    finally:
        pool.shutdown()


def test_the_transcriber_reads_its_threads_and_replicas(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HEARKIT_ASR_THREADS", "1")
    monkeypatch.setenv("HEARKIT_ASR_REPLICAS", "2")
    transcriber = WhisperTranscriber()
    assert (transcriber.cpu_threads, transcriber.replicas) == (1, 2)
    monkeypatch.delenv("HEARKIT_ASR_THREADS")
    monkeypatch.delenv("HEARKIT_ASR_REPLICAS")
    assert (WhisperTranscriber().cpu_threads, WhisperTranscriber().replicas) == (2, 1)


@pytest.mark.parametrize("value", ["two", "0", "-1"])
def test_a_bad_thread_setting_says_what_to_set(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("HEARKIT_ASR_THREADS", value)
    with pytest.raises(ValueError, match="HEARKIT_ASR_THREADS"):
        WhisperTranscriber()
