"""Phrase search across every call of a set, with the words' timestamps.

:func:`build_index` makes a :class:`PhraseIndex` once (the token stream of all calls, as integer
codes, with a postings list per distinct token); :func:`search` then finds a phrase in all calls
by array arithmetic on the postings of its rarest token, and returns one row per occurrence:
``call_id``, ``turn``, ``speaker``, ``role`` (as the turns frame says *now*, so re-labelled roles
are followed), ``start``/``end`` (the first matched word's start, the last one's end),
``phrase`` (the words as said), ``context`` (up to ``context_words`` words either side, same
turn), ``word_starts``/``word_ends`` (each matched word's times) and ``time_source``.

Matching: tokens are normalized the way trackers see them (:func:`hearkit.trackers.normalize_text`:
lower case, punctuation dropped), so "Send me a QUOTE." matches ``send me a quote``; a ``%`` after a
number and a currency sign before one are tokens of their own (:func:`search_tokens`), so "20%",
"20 %" and the recogniser's words ``20`` ``%`` all match each other, "10 %" does not match "10
minutes", and "45" finds "$45". A token with nothing to match (a lone dash) still shows in the
context, as said. A phrase
matches inside one turn (one speaker), never across speakers. Times come from the words frame
(``time_source="words"``); calls without word timings are indexed from the turn text, each
token's time interpolated over its turn in proportion to its length (``"interpolated"``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, TypedDict

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hearkit.frames import CALL_ID
from hearkit.trackers import normalize_text
from hearkit.transcript import canonical_role

__all__ = ["PhraseIndex", "SearchOptions", "build_index", "search"]

RESULT_COLUMNS = (
    CALL_ID, "turn", "speaker", "role", "start", "end", "phrase", "context", "word_starts", "word_ends",
    "time_source",
)  # fmt: skip

I32 = npt.NDArray[np.int32]
_SPLIT = "-/–—"
_PERCENT_AFTER_NUMBER = re.compile(r"(?<=\d)\s+%")
_LONE_PERCENT = re.compile(r"^\W*%\W*$")
_SIGN_TOKENS = re.compile(r"(?<=\d)%|[$£€](?=\d)")


def search_tokens(text: str) -> list[str]:
    """The tokens search matches ``text`` by: :func:`~hearkit.trackers.normalize_text`'s words, with a
    ``%`` after a number and a currency sign before one split off as tokens (``$45`` -> ``$ 45``,
    ``20 %`` -> ``20 %``), and a lone ``%`` word kept."""
    if _LONE_PERCENT.match(text):
        return ["%"]
    normalized = normalize_text(_PERCENT_AFTER_NUMBER.sub("%", text))
    return _SIGN_TOKENS.sub(lambda sign: f" {sign.group()} ", normalized).split()


@dataclass(frozen=True)
class PhraseIndex:
    """Every call's tokens in turn order. Per token: normalized-token ``code`` (−1 none), the
    turns-frame row it belongs to (``turn_row``), its original text (``raw`` codes into
    ``raw_vocab``) and times; ``order``/``bounds`` are the postings (positions grouped by code)."""

    vocab: dict[str, int]
    code: I32
    turn_row: I32
    raw: I32
    raw_vocab: pa.Array
    start: npt.NDArray[np.float32]
    end: npt.NDArray[np.float32]
    interpolated: npt.NDArray[np.bool_]
    turn_first: npt.NDArray[np.int64]
    turn_last: npt.NDArray[np.int64]
    order: I32
    bounds: npt.NDArray[np.int64]
    fingerprint: tuple[int, str, str]

    @property
    def n_tokens(self) -> int:
        return len(self.code)

    @property
    def nbytes(self) -> int:
        arrays = (self.code, self.turn_row, self.raw, self.start, self.end, self.interpolated, self.order)
        return int(sum(a.nbytes for a in arrays) + self.turn_first.nbytes * 2 + self.raw_vocab.nbytes)


def fingerprint(turns: pd.DataFrame) -> tuple[int, str, str]:
    """What an index depends on in the turns frame: its length and times (roles may change).
    Sums as ``repr`` strings, so a NaN time compares equal to itself."""
    if len(turns) == 0:
        return (0, "0.0", "0.0")
    sums = [repr(float(np.sum(turns[c].to_numpy(dtype=np.float64)))) for c in ("start", "end")]
    return (len(turns), sums[0], sums[1])


def build_index(turns: pd.DataFrame, words: pd.DataFrame | None = None) -> PhraseIndex:
    """The phrase index of a turns frame (and its words frame, for real word times)."""
    for column in (CALL_ID, "turn", "start", "end", "text"):
        if column not in turns.columns:
            raise KeyError(f"the turns frame has no {column!r} column; build it with hearkit.transcript")
    n_turns = len(turns)
    timed = _word_tokens(turns, words) if words is not None and len(words) else None
    covered = np.zeros(n_turns, dtype=bool)
    parts = []
    if timed is not None:
        covered[timed[0]] = True
        parts.append(timed)
    if not covered.all():
        parts.append(_text_tokens(turns, np.flatnonzero(~covered)))
    turn_row = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int32)
    raw_text = pa.chunked_array([p[1] for p in parts], type=pa.large_string()) if parts else None
    start = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.float32)
    end = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, np.float32)
    interpolated = np.concatenate([np.full(len(p[0]), p[4]) for p in parts]) if parts else np.zeros(0, bool)
    position = np.concatenate([p[5] for p in parts]) if parts else np.zeros(0, np.int64)

    # Stream order: turns-frame row, then position in the turn (sorted only when not already).
    raw_flat = raw_text.combine_chunks() if raw_text is not None else pa.array([], pa.large_string())
    if not _in_order(turn_row, position):
        order = np.lexsort((position, turn_row))
        turn_row = turn_row[order]
        start, end, interpolated = start[order], end[order], interpolated[order]
        raw_flat = raw_flat.take(pa.array(order))
    turn_row = turn_row.astype(np.int32)
    raw_encoded = pc.dictionary_encode(raw_flat)
    raw_vocab = raw_encoded.dictionary
    raw = np.asarray(raw_encoded.indices, dtype=np.int32)
    # A token can normalise to several ("a.m." -> "a m", as the phrase "8 a.m." does): it becomes as
    # many tokens, each with its times; the first keeps the original text, the others show nothing.
    vocab: dict[str, int] = {}
    # A token with nothing to match (a lone dash) is one part with code -1, so its text still shows.
    codes_of = [
        [vocab.setdefault(part, len(vocab)) for part in search_tokens(str(t))] or [-1]
        for t in raw_vocab.to_pylist()
    ]
    blank = len(raw_vocab)
    raw_vocab = pa.concat_arrays([raw_vocab.cast(pa.large_string()), pa.array([""], pa.large_string())])
    parts_of = np.array([len(c) for c in codes_of], np.int64)
    count = parts_of[raw]
    offsets = np.r_[0, np.cumsum(parts_of)].astype(np.int64)
    flat_codes = np.array([c for codes in codes_of for c in codes] + [-1], np.int32)
    token = np.repeat(np.arange(len(raw), dtype=np.int64), count)
    part = np.arange(len(token), dtype=np.int64) - np.repeat(np.cumsum(count) - count, count)
    code = flat_codes[offsets[raw[token]] + part] if len(token) else np.zeros(0, np.int32)
    raw = np.where(part == 0, raw[token], blank).astype(np.int32)
    turn_row, start, end, interpolated = turn_row[token], start[token], end[token], interpolated[token]
    postings = np.argsort(code, kind="stable").astype(np.int32)
    bounds = np.searchsorted(code[postings], np.arange(len(vocab) + 1)).astype(np.int64)
    turn_first = np.searchsorted(turn_row, np.arange(n_turns), side="left").astype(np.int64)
    turn_last = np.searchsorted(turn_row, np.arange(n_turns), side="right").astype(np.int64) - 1
    return PhraseIndex(
        vocab=vocab,
        code=code,
        turn_row=turn_row,
        raw=raw,
        raw_vocab=raw_vocab,
        start=start,
        end=end,
        interpolated=interpolated,
        turn_first=turn_first,
        turn_last=turn_last,
        order=postings,
        bounds=bounds,
        fingerprint=fingerprint(turns),
    )


def _in_order(turn_row: npt.NDArray[Any], position: npt.NDArray[np.int64]) -> bool:
    if len(turn_row) < 2:
        return True
    step = np.diff(turn_row.astype(np.int64))
    return bool((step >= 0).all() and (np.diff(position)[step == 0] > 0).all())


def _word_tokens(turns: pd.DataFrame, words: pd.DataFrame) -> tuple[Any, ...] | None:
    """Tokens of the words frame, tied to their turns-frame rows; None when none ties."""
    keys = pd.MultiIndex.from_arrays([turns[CALL_ID].astype(str), turns["turn"].astype(np.int64)])
    probe = pd.MultiIndex.from_arrays([words[CALL_ID].astype(str), words["turn"].astype(np.int64)])
    row = keys.get_indexer(probe)
    ok = row >= 0
    if not ok.any():
        return None
    text = words["word"].astype("str").fillna("").to_numpy(dtype=object)[ok]
    # A word like "follow-up" is two tokens, as trackers see it: each part gets the word's times.
    pieces = pd.Series(text).str.replace(f"[{_SPLIT}]", " ", regex=True).str.split()
    exploded = pieces.explode().dropna()
    owner = exploded.index.to_numpy()
    position = (
        words["word_index"].to_numpy(dtype=np.int64)[ok][owner] * 8 + exploded.groupby(level=0).cumcount()
    )
    start = words["start"].to_numpy(dtype=np.float64)[ok][owner].astype(np.float32)
    end = words["end"].to_numpy(dtype=np.float64)[ok][owner].astype(np.float32)
    raw = pa.array(exploded.astype(str).to_numpy(dtype=object), type=pa.large_string())
    return (row[ok][owner].astype(np.int32), raw, start, end, False, position.to_numpy(dtype=np.int64))


def _text_tokens(turns: pd.DataFrame, rows: npt.NDArray[np.int64]) -> tuple[Any, ...]:
    """Tokens of the turns' text (rows given), times spread over each turn by token length."""
    text = pa.array(turns["text"].astype("str").fillna(""), type=pa.large_string()).take(pa.array(rows))
    for ch in _SPLIT:
        text = pc.replace_substring(text, ch, " ")
    tokens = pc.utf8_split_whitespace(text)
    parent = np.asarray(pc.list_parent_indices(tokens), dtype=np.int64)
    flat = pc.list_flatten(tokens)
    length = np.asarray(pc.utf8_length(flat), dtype=np.float64) + 1.0
    owner = rows[parent]
    cum = np.cumsum(length)
    first = np.r_[True, parent[1:] != parent[:-1]] if len(parent) else np.zeros(0, bool)
    base = np.maximum.accumulate(np.where(first, cum - length, 0.0)) if len(parent) else cum
    total = np.bincount(parent, weights=length, minlength=len(rows))[parent] if len(parent) else cum
    before = cum - length - base
    t_start = turns["start"].to_numpy(dtype=np.float64)[owner]
    span = np.maximum(turns["end"].to_numpy(dtype=np.float64)[owner] - t_start, 0.0)
    w_start = t_start + span * before / total
    w_end = t_start + span * (before + length - 1.0) / total
    position = np.arange(len(parent), dtype=np.int64) - np.flatnonzero(first).repeat(
        np.diff(np.r_[np.flatnonzero(first), len(parent)])
    )
    return (
        owner.astype(np.int32),
        flat,
        w_start.astype(np.float32),
        w_end.astype(np.float32),
        True,
        position,
    )


class SearchOptions(TypedDict, total=False):
    """Keyword options of :func:`search` (and :meth:`hearkit.record.CallSet.search`)."""

    role: str | None
    speaker: str | None
    context_words: int
    limit: int | None


def search(
    index: PhraseIndex,
    turns: pd.DataFrame,
    phrase: str,
    *,
    role: str | None = None,
    speaker: str | None = None,
    context_words: int = 8,
    limit: int | None = 1000,
) -> pd.DataFrame:
    """Every occurrence of ``phrase`` (columns :data:`RESULT_COLUMNS`), optionally only where the
    turn's ``role`` / ``speaker`` is the one given; at most ``limit`` rows (in call order), the
    total count in ``result.attrs["total"]``."""
    if not isinstance(phrase, str) or not search_tokens(phrase):
        raise ValueError(f"search needs a phrase with at least one word, not {phrase!r}")
    if fingerprint(turns) != index.fingerprint:
        raise ValueError("this index was built for other turns (times changed); build it again")
    if limit is not None and limit < 1:
        raise ValueError(f"limit must be ≥ 1 or None, not {limit!r}")
    if context_words < 0:
        raise ValueError(f"context_words must be ≥ 0, not {context_words!r}")
    if role is not None:
        role = canonical_role(str(role))  # 'Customer' is the role customer, as in the metrics
    wanted = search_tokens(phrase)
    codes = [index.vocab.get(t, -1) for t in wanted]
    if min(codes) < 0:
        _check_filters(turns, role, speaker)
        return _frame([], total=0)
    # Candidates from the rarest token's postings; then every other token checked in place.
    sizes = [int(index.bounds[c + 1] - index.bounds[c]) for c in codes]
    pivot = int(np.argmin(sizes))
    c = codes[pivot]
    at = index.order[index.bounds[c] : index.bounds[c + 1]].astype(np.int64) - pivot
    k = len(codes)
    at = at[(at >= 0) & (at + k <= index.n_tokens)]
    for offset, code in enumerate(codes):
        if offset != pivot and len(at):
            at = at[index.code[at + offset] == code]
    if len(at):
        at = at[index.turn_row[at] == index.turn_row[at + k - 1]]
    rows = index.turn_row[at]
    if len(at) and (role is not None or speaker is not None):
        keep = np.ones(len(at), dtype=bool)
        for column, value in (("role", role), ("speaker", speaker)):
            if value is not None:
                if column not in turns.columns:
                    raise KeyError(f"the turns frame has no {column!r} column to filter on")
                taken = pa.array(turns[column].array.take(rows.astype(np.int64)), type=pa.large_string())
                keep &= np.asarray(pc.fill_null(pc.equal(taken, value), False), dtype=bool)
        at, rows = at[keep], rows[keep]
    total = len(at)
    if limit is not None:
        at, rows = at[:limit], rows[:limit]
    if not len(at):
        _check_filters(turns, role, speaker)
        return _frame([], total=total)
    rows64 = rows.astype(np.int64)
    span = at[:, None] + np.arange(k)[None, :]
    first = np.maximum(at - context_words, index.turn_first[rows64])
    last = np.minimum(at + k - 1 + context_words, index.turn_last[rows64])
    data = {
        CALL_ID: _take(turns, CALL_ID, rows64),
        "turn": turns["turn"].to_numpy(dtype=np.int64)[rows64],
        "speaker": _take(turns, "speaker", rows64),
        "role": _take(turns, "role", rows64),
        "start": index.start[at].astype(np.float64).round(3),
        "end": index.end[at + k - 1].astype(np.float64).round(3),
        "phrase": _join(index, at, at + k - 1),
        "context": _join(index, first, last),
        "word_starts": list(index.start[span].astype(np.float64).round(3)),
        "word_ends": list(index.end[span].astype(np.float64).round(3)),
        "time_source": np.where(index.interpolated[at], "interpolated", "words"),
    }
    return _frame(data, total=total)


def _check_filters(turns: pd.DataFrame, role: str | None, speaker: str | None) -> None:
    """An empty result must not come from a filter no turn can pass (a typo'd speaker, a role the
    calls do not have): that reads as "never said". Checked only when nothing was found."""
    for column, value in (("role", role), ("speaker", speaker)):
        if value is None:
            continue
        if column not in turns.columns:
            raise KeyError(f"the turns frame has no {column!r} column to filter on")
        present = sorted({str(v) for v in pd.unique(turns[column].dropna())})
        if str(value) not in present:
            shown = ", ".join(present[:12]) + (" …" if len(present) > 12 else "")
            raise ValueError(
                f"no turn has {column} {value!r}; the {column}s of these calls: {shown or 'none'}"
            )


def _take(turns: pd.DataFrame, column: str, rows: npt.NDArray[np.int64]) -> Any:
    if column not in turns.columns:
        return np.full(len(rows), "unknown", dtype=object)
    return turns[column].array.take(rows)


def _join(index: PhraseIndex, first: npt.NDArray[np.int64], last: npt.NDArray[np.int64]) -> Any:
    """The original tokens first..last (inclusive) of each row, joined by spaces (Arrow)."""
    lengths = (last - first + 1).astype(np.int64)
    offsets = np.r_[0, np.cumsum(lengths)]
    flat = (
        np.arange(offsets[-1], dtype=np.int64) - np.repeat(offsets[:-1], lengths) + np.repeat(first, lengths)
    )
    values = pa.DictionaryArray.from_arrays(pa.array(index.raw[flat]), index.raw_vocab).cast(
        pa.large_string()
    )
    lists = pa.LargeListArray.from_arrays(pa.array(offsets), values)
    joined = pc.binary_join(lists, pa.scalar(" ", pa.large_string()))
    joined = pc.utf8_trim_whitespace(pc.replace_substring_regex(joined, "  +", " "))  # blank parts' spaces
    return pd.array(joined, dtype="str")  # type: ignore[call-overload]


def _frame(data: dict[str, Any] | list[Any], *, total: int) -> pd.DataFrame:
    frame = (
        pd.DataFrame(data, columns=list(RESULT_COLUMNS))
        if data
        else pd.DataFrame(columns=list(RESULT_COLUMNS))
    )
    frame.attrs["total"] = total
    return frame
