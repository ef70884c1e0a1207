"""The offline summary: the most central turns, and rule-based action items, next steps, objections.

Centrality of a turn = the sum of its TF-IDF cosine similarities to every other turn of the call
(degree centrality, as in LexRank without the random walk): a turn that shares many weighted
words with the rest of the call states what the call is about. Turns under
``MIN_SUMMARY_WORDS`` words ("okay", "sure, go ahead") are not candidates; a candidate more
than ``MAX_OVERLAP`` similar to a turn already picked is skipped, so the picks say different
things. They are shown in call order.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence

import numpy as np

from hearkit._summarize.frame import CallTurns, TurnRow
from hearkit._summarize.rules import find_commitments, find_next_steps, find_objections
from hearkit.summary import ActionItem, CallSummary, SummaryItem

__all__ = [
    "MAX_OVERLAP",
    "MIN_SUMMARY_WORDS",
    "STOP_WORDS",
    "extractive_summary",
    "summary_size",
    "tfidf_similarity",
]

MIN_SUMMARY_WORDS = 6
MAX_OVERLAP = 0.5
_MAX_ITEM_WORDS = 45
_MAX_SUMMARY_ITEMS = 5
_QUIET_ROLES = frozenset({"rep", "agent"})


def summary_size(n_turns: int) -> int:
    """How many turns the extractive summary picks: √(turns), at least 1, at most 5."""
    return max(1, min(_MAX_SUMMARY_ITEMS, round(math.sqrt(n_turns))))


def extractive_summary(call: CallTurns) -> CallSummary:
    """Summarize ``call`` without a model: central turns plus phrase rules (see module docstring)."""
    rows = call.rows()
    return CallSummary(
        call_id=call.call_id,
        method="extractive",
        summary=_central_turns(call, rows),
        action_items=_action_items(call, rows),
        next_steps=_next_steps(call, rows),
        objections=_objections(call, rows),
    )


def _central_turns(call: CallTurns, rows: list[TurnRow]) -> list[SummaryItem]:
    if not rows:
        return []
    candidates = [row for row in rows if len(row.text.split()) >= MIN_SUMMARY_WORDS] or rows
    texts = [row.text for row in candidates]
    similarity = tfidf_similarity(texts)
    np.fill_diagonal(similarity, 0.0)
    centrality = similarity.sum(axis=1)
    lengths = np.array([len(text) for text in texts])
    # Highest centrality first; ties (e.g. no shared vocabulary) go to the longer turn.
    order = np.lexsort((-lengths, -centrality))
    picked: list[int] = []
    for index in order:
        if len(picked) == summary_size(len(rows)):
            break
        if all(similarity[index, other] <= MAX_OVERLAP for other in picked):
            picked.append(int(index))
    return [
        SummaryItem(text=f"{_label(row)}: {_shorten(row.text)}", citations=call.citations([row.turn]))
        for row in (candidates[index] for index in sorted(picked))
    ]


_TOKEN = re.compile(r"(?u)\b\w\w+\b")

_STOP_TEXT = """
    about above after again against all almost also am an and any are as at be because been before being
    below between both but by can could did do does doing don done down during each either else ever every
    few for from further get gets got had has have having he her here hers herself him himself his how if
    in into is it its itself just let ll me might more most much must my myself no nor not now of off on
    once one only or other our ours ourselves out over own quite rather re really same she should so some
    still such than that the their theirs them themselves then there these they this those through to too
    under until up upon us ve very was we were what when where whether which while who whom whose why will
    with would yet you your yours yourself yourselves
    um uh erm hmm mm oh yeah yes okay ok right sure well like know think mean thing things
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
"""Words that say nothing about a call's topic: function words and speech fillers (a stand-in
for scikit-learn's English list, which would import scikit-learn and SciPy, seconds at start-up)."""


def tfidf_similarity(texts: Sequence[str]) -> np.ndarray:
    """Cosine similarities of the texts' TF-IDF vectors (n × n).

    The weighting of scikit-learn's ``TfidfVectorizer(stop_words=STOP_WORDS, sublinear_tf=True)``:
    tokens of 2+ word characters, lowercased, :data:`STOP_WORDS` removed; tf = 1 + ln(count);
    idf = ln((1 + n) / (1 + df)) + 1; rows L2-normalized. Computed directly with numpy, because
    the vectorizer's per-call checks cost ten times the arithmetic on a call's few dozen turns.
    """
    docs = [[t for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS] for text in texts]
    vocabulary: dict[str, int] = {}
    for doc in docs:
        for token in doc:
            vocabulary.setdefault(token, len(vocabulary))
    rows = np.repeat(np.arange(len(docs)), [len(doc) for doc in docs])
    columns = np.fromiter(
        (vocabulary[token] for doc in docs for token in doc), dtype=np.int64, count=len(rows)
    )
    width = max(len(vocabulary), 1)
    counts = np.bincount(rows * width + columns, minlength=len(docs) * width).reshape(len(docs), width)
    counts = counts[:, : len(vocabulary)].astype(np.float64)
    present = counts > 0
    tf = np.where(present, 1.0 + np.log(np.where(present, counts, 1.0)), 0.0)
    idf = np.log((1.0 + len(docs)) / (1.0 + present.sum(axis=0))) + 1.0
    weights = tf * idf
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    weights = weights / np.where(norms == 0, 1.0, norms)
    similarity: np.ndarray = weights @ weights.T
    return similarity


def _action_items(call: CallTurns, rows: list[TurnRow]) -> list[ActionItem]:
    items: list[ActionItem] = []
    for row in rows:
        for commitment in find_commitments(row.text):
            owner = row.role if commitment.owner == "self" else _other_role(call, row.role)
            items.append(
                ActionItem(
                    text=commitment.text,
                    owner_role=owner if owner not in (None, "unknown") else None,
                    due=commitment.due,
                    citations=call.citations([row.turn]),
                )
            )
    return items


def _next_steps(call: CallTurns, rows: list[TurnRow]) -> list[SummaryItem]:
    return [
        SummaryItem(text=step, citations=call.citations([row.turn]))
        for row in rows
        for step in find_next_steps(row.text)
    ]


def _objections(call: CallTurns, rows: list[TurnRow]) -> list[SummaryItem]:
    """Objections are raised by the other side: turns of rep/agent roles are skipped when known."""
    has_other_side = bool(set(call.roles) - _QUIET_ROLES)
    return [
        SummaryItem(text=f"{_label(row)}: {snippet}", citations=call.citations([row.turn]))
        for row in rows
        if not (has_other_side and row.role in _QUIET_ROLES)
        for snippet in find_objections(row.text)
    ]


def _other_role(call: CallTurns, role: str) -> str | None:
    """The role of the person spoken to, when the call has exactly two known roles."""
    known = [r for r in call.roles if r != "unknown"]
    if len(known) == 2 and role in known:
        return known[1 - known.index(role)]
    return None


def _label(row: TurnRow) -> str:
    return row.role.capitalize() if row.role not in ("", "unknown") else row.speaker


def _shorten(text: str) -> str:
    words = text.split()
    return text if len(words) <= _MAX_ITEM_WORDS else " ".join(words[:_MAX_ITEM_WORDS]) + " …"
