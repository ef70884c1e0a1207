"""Typed call summaries: what :mod:`hearkit.summarize` returns and what records, reports and
the dashboard show. Every item cites the turns it rests on."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["ActionItem", "CallSummary", "Citation", "SummaryItem"]


class Citation(BaseModel):
    """A turn an item rests on: its id in the turns frame (``turn``) and its time span (seconds)."""

    model_config = ConfigDict(frozen=True)

    turn: int
    start: float
    end: float


class SummaryItem(BaseModel):
    """A statement (next step, objection, summary sentence) with the turns it rests on."""

    text: str
    citations: list[Citation] = Field(default_factory=list)


class ActionItem(SummaryItem):
    """Something someone committed to do. ``owner_role`` is ``rep``/``customer``/… when said."""

    owner_role: str | None = None
    due: str | None = None


class CallSummary(BaseModel):
    """Summary of one call.

    ``method`` says how it was made: ``llm`` (an OpenAI-compatible endpoint, ``model`` names it)
    or ``extractive`` (the offline default: central turns and rule-based action items).
    ``dropped_items`` counts items the LLM returned without a valid citation (left out);
    ``unknown_owners`` counts action items whose ``owner_role`` from the LLM is no role of the call
    (``"boss"``): kept, without an owner. ``chunks`` is how many pieces the transcript was split
    into (1 = it fitted the context budget whole).
    """

    call_id: str
    method: Literal["llm", "extractive"]
    model: str | None = None
    summary: list[SummaryItem] = Field(default_factory=list)
    action_items: list[ActionItem] = Field(default_factory=list)
    next_steps: list[SummaryItem] = Field(default_factory=list)
    objections: list[SummaryItem] = Field(default_factory=list)
    dropped_items: int = 0
    unknown_owners: int = 0
    chunks: int = 1
