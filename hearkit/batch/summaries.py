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
the LLM again for that call.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from hearkit.frames import CALL_ID
from hearkit.summarize import LLMConfig, SummarizeError, summarize
from hearkit.summary import CallSummary

__all__ = ["BatchSummaries", "summarize_batch"]


@dataclass
class BatchSummaries:
    """The summaries by call id, and the calls whose LLM summary failed (call id → message)."""

    summaries: dict[str, CallSummary] = field(default_factory=dict)
    llm_failures: dict[str, str] = field(default_factory=dict)


def summarize_batch(turns: pd.DataFrame, calls_dir: Path, llm: LLMConfig | None = None) -> BatchSummaries:
    """Summarize every call of ``turns`` (LLM summaries cached in ``calls_dir``; see module docstring).

    ``llm`` defaults to :meth:`LLMConfig.from_env` (``None``: the offline extractive summary).
    """
    config = llm if llm is not None else LLMConfig.from_env()
    out = BatchSummaries()
    if len(turns) == 0:
        return out
    for call_id, group in turns.groupby(CALL_ID, sort=False):
        key = str(call_id)
        if config is None:
            out.summaries[key] = summarize(group, method="extractive", call_id=key)
            continue
        cache = calls_dir / f"{key}.summary.json"
        stamp = {"base_url": config.base_url, "model": config.model}
        cached = _cached(cache, stamp)
        if cached is not None:
            out.summaries[key] = cached
            continue
        try:
            summary = summarize(group, llm=config, method="llm", call_id=key)
        except SummarizeError as exc:
            out.llm_failures[key] = str(exc)
            out.summaries[key] = summarize(group, method="extractive", call_id=key)
            continue
        _store(cache, stamp, summary)
        out.summaries[key] = summary
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
