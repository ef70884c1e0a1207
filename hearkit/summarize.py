"""Call summaries with action items, next steps and objections, every item citing its turns.

Two ways to make one, both returning :class:`hearkit.summary.CallSummary`:

- ``method="llm"``: any OpenAI-compatible chat completions endpoint (``LLMConfig``, or the
  environment variables ``HEARKIT_LLM_BASE_URL``, ``HEARKIT_LLM_MODEL``, ``HEARKIT_LLM_API_KEY``).
  The prompt is the speaker- and role-labelled transcript with turn ids; the answer is JSON
  validated against a schema (asked again once with the error if it is not); items that cite no
  existing turn are dropped and counted in ``dropped_items``. Long calls are summarized
  map-reduce in chunks that fit ``LLMConfig.context_tokens``, never truncated.
- ``method="extractive"`` (the default when no endpoint is configured): the most central turns
  as the summary, and phrase rules for action items ("I'll send…", "let's schedule…", "can you…",
  with the due phrase as said), next steps and objections. Works on lowercase unpunctuated ASR text.

Example::

    from hearkit.summarize import summarize

    summary = summarize(turns)  # one call's turns frame, or a CallRecord
    [(a.text, a.owner_role, a.due, a.citations[0].start) for a in summary.action_items]
"""

from __future__ import annotations

from typing import Any, Literal

import pandas as pd

from hearkit._summarize.extractive import extractive_summary
from hearkit._summarize.frame import call_turns
from hearkit._summarize.llm import LLMConfig, SummarizeError, llm_summary
from hearkit.frames import CALL_ID
from hearkit.summary import CallSummary

__all__ = ["LLMConfig", "SummarizeError", "summarize", "summarize_calls"]

Method = Literal["auto", "llm", "extractive"]


def summarize(
    call: Any,
    *,
    llm: LLMConfig | None = None,
    method: Method = "auto",
    call_id: str | None = None,
) -> CallSummary:
    """Summarize one call.

    ``call`` is a turns DataFrame of one call (``hearkit.transcript.turns``: ``turn, speaker,
    role, start, end, text``, optionally ``call_id``) or a ``CallRecord``. ``method="auto"``
    uses ``llm``, else the endpoint in ``HEARKIT_LLM_BASE_URL``, else the offline extractive
    summary; ``"llm"`` requires an endpoint, ``"extractive"`` never calls one. ``call_id``
    overrides the call's own id in the result.

    Raises ``ValueError`` for a frame that is not one call's turns, and
    :class:`SummarizeError` when the endpoint fails (after its retries) or answers invalid JSON twice.
    """
    if method not in ("auto", "llm", "extractive"):
        raise ValueError(f"method must be 'auto', 'llm' or 'extractive', got {method!r}")
    turns = call_turns(call, call_id=call_id)
    if method == "extractive":
        return extractive_summary(turns)
    config = llm if llm is not None else LLMConfig.from_env()
    if config is None:
        if method == "llm":
            raise ValueError(
                "method='llm' needs an endpoint: pass llm=LLMConfig(base_url=..., model=...) or set "
                "HEARKIT_LLM_BASE_URL and HEARKIT_LLM_MODEL"
            )
        return extractive_summary(turns)
    return llm_summary(turns, config)


def summarize_calls(
    turns: pd.DataFrame, *, llm: LLMConfig | None = None, method: Method = "auto"
) -> dict[str, CallSummary]:
    """Summaries of every call in a multi-call turns frame, keyed by ``call_id`` (in frame order)."""
    if CALL_ID not in turns.columns:
        raise ValueError("summarize_calls() needs a 'call_id' column; for one call use summarize(turns)")
    return {
        str(call_id): summarize(group, llm=llm, method=method, call_id=str(call_id))
        for call_id, group in turns.groupby(CALL_ID, sort=False, dropna=False)
    }
