"""Summaries and action items of a batch's calls, made once per call and kept beside its result.

Every dataset a batch writes carries a :class:`~hearkit.summary.CallSummary` per call
(:mod:`hearkit.summarize`): the offline extractive one by default, an LLM's when
``HEARKIT_LLM_BASE_URL``/``HEARKIT_LLM_MODEL`` name an endpoint. The dataset is rebuilt from
every completed call at the end of each run, so LLM summaries are stored in
``DIR/calls/<call_id>.summary.json`` with the endpoint and model that wrote them and reused while
those stay the same: resuming or extending a batch never asks the LLM twice for one call.
Extractive summaries cost milliseconds and are made afresh (they follow the current rules).

When the LLM fails for a call (after its own retries), that call gets the extractive summary and
the failure is counted in :attr:`BatchSummaries.llm_failures` with its message; the next run asks
the LLM again for that call. After :data:`GIVE_UP_AFTER` calls in a row fail, the endpoint is taken
to be down for this run: the calls not yet asked get the extractive summary without a request
(:attr:`BatchSummaries.llm_not_asked`), so a dead endpoint costs a few calls' retries, not every
call's (U8 finding 9: 4 attempts × 10,000 calls). Up to :data:`LLM_CONCURRENCY` calls are asked at
once (``HEARKIT_LLM_CONCURRENCY``), as the jobs of a batch are: an endpoint answering in 5 s took
14 h for 10,000 calls one at a time.
"""

from __future__ import annotations

import json
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hearkit.frames import CALL_ID
from hearkit.summarize import LLMConfig, SummarizeError, summarize
from hearkit.summary import CallSummary

__all__ = ["GIVE_UP_AFTER", "LLM_CONCURRENCY", "BatchSummaries", "summarize_batch"]

GIVE_UP_AFTER = 3
"""Calls in a row whose LLM summary failed after which the rest of the run does not ask."""
LLM_CONCURRENCY = 4
"""Calls asked of the LLM endpoint at once (``HEARKIT_LLM_CONCURRENCY`` overrides, 1 or more)."""


@dataclass
class BatchSummaries:
    """The summaries by call id, the calls whose LLM summary failed (call id → message) and the calls
    not asked because the endpoint had failed :data:`GIVE_UP_AFTER` calls in a row."""

    summaries: dict[str, CallSummary] = field(default_factory=dict)
    llm_failures: dict[str, str] = field(default_factory=dict)
    llm_not_asked: list[str] = field(default_factory=list)


class _Breaker:
    """Counts calls failed in a row (a success resets it); open once :data:`GIVE_UP_AFTER` is reached."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._failed_in_a_row = 0

    @property
    def open(self) -> bool:
        with self._lock:
            return self._failed_in_a_row >= GIVE_UP_AFTER

    def record(self, ok: bool) -> None:
        with self._lock:
            self._failed_in_a_row = 0 if ok else self._failed_in_a_row + 1


def _concurrency() -> int:
    raw = os.environ.get("HEARKIT_LLM_CONCURRENCY", "").strip()
    if not raw:
        return LLM_CONCURRENCY
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"HEARKIT_LLM_CONCURRENCY must be a whole number >= 1, not {raw!r}")
    return int(raw)


def summarize_batch(turns: pd.DataFrame, calls_dir: Path, llm: LLMConfig | None = None) -> BatchSummaries:
    """Summarize every call of ``turns`` (LLM summaries cached in ``calls_dir``; see module docstring).

    ``llm`` defaults to :meth:`LLMConfig.from_env` (``None``: the offline extractive summary).
    """
    config = llm if llm is not None else LLMConfig.from_env()
    out = BatchSummaries()
    if len(turns) == 0:
        return out
    calls = [(str(call_id), group) for call_id, group in turns.groupby(CALL_ID, sort=False)]
    if config is None:
        out.summaries = {key: summarize(group, method="extractive", call_id=key) for key, group in calls}
        return out
    stamp = {"base_url": config.base_url, "model": config.model}
    breaker = _Breaker()

    def one(key: str, group: pd.DataFrame) -> tuple[CallSummary, str | None, bool]:
        """(summary, LLM error or None, asked)."""
        cache = calls_dir / f"{key}.summary.json"
        cached = _cached(cache, stamp)
        if cached is not None:
            return cached, None, True
        if breaker.open:
            return summarize(group, method="extractive", call_id=key), None, False
        try:
            summary = summarize(group, llm=config, method="llm", call_id=key)
        except SummarizeError as exc:
            breaker.record(False)
            return summarize(group, method="extractive", call_id=key), str(exc), True
        breaker.record(True)
        _store(cache, stamp, summary)
        return summary, None, True

    with ThreadPoolExecutor(max_workers=_concurrency(), thread_name_prefix="hearkit-llm") as pool:
        done = list(pool.map(lambda call: one(*call), calls))
    for (key, _), (summary, error, asked) in zip(calls, done, strict=True):
        out.summaries[key] = summary
        if error is not None:
            out.llm_failures[key] = error
        if not asked:
            out.llm_not_asked.append(key)
    return out


def _cached(path: Path, stamp: dict[str, str]) -> CallSummary | None:
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        if document.get("written_by") != stamp:
            return None
        return CallSummary.model_validate(document["summary"])
    except (OSError, ValueError, KeyError, TypeError):
        return None  # no cache, or one from another endpoint or version: summarize again


def _store(path: Path, stamp: dict[str, str], summary: CallSummary) -> None:
    document = {"written_by": stamp, "summary": summary.model_dump(mode="json")}
    staging = path.with_name(f".{path.name}.tmp")
    staging.write_text(json.dumps(document, indent=1), encoding="utf-8")
    os.replace(staging, path)
