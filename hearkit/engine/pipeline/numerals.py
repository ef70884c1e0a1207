"""Spoken numbers to digits (``numerals: true``) with ``text2num``, in words and text alike.

The whole word sequence of a segment is converted at once (so "five five five" in a phone
number becomes ``5 5 5`` as it would in the text), then the converted tokens are aligned back
to the recognised words: a number spoken as several words ("two hundred and fifty") becomes
one word spanning from the first word's start to the last word's end.
"""

from __future__ import annotations

import difflib
import re

from text_to_num import alpha2digit

__all__ = ["NumeralSpan", "numeral_spans"]

_PUNCT = re.compile(r"[^\w$%.,']+|(?<!\d)[.,]|[.,](?!\d)")

NumeralSpan = tuple[str, int, int]
"""A converted token and the half-open range ``[first, last)`` of source words it replaces."""


def _norm(token: str) -> str:
    return _PUNCT.sub("", token.lower()).strip(".,")


def numeral_spans(words: list[str]) -> list[NumeralSpan]:
    """Convert ``words`` (as recognised, punctuation attached) and align the result back.

    Returns tokens covering every source word in order; a token covering more than one word
    is a multi-word number. Words without numbers come back unchanged.
    """
    if not words:
        return []
    converted = alpha2digit(" ".join(w.strip() for w in words), "en").split()
    source_norm = [_norm(w) for w in words]
    target_norm = [_norm(t) for t in converted]
    matcher = difflib.SequenceMatcher(a=source_norm, b=target_norm, autojunk=False)
    spans: list[NumeralSpan] = []
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            spans.extend((converted[j1 + k], i1 + k, i1 + k + 1) for k in range(i2 - i1))
        elif tag == "delete":
            # Words dropped by the converter (e.g. "and" inside a number) join the previous token.
            if spans:
                token, first, _ = spans[-1]
                spans[-1] = (token, first, i2)
            else:
                spans.extend((words[i].strip(), i, i + 1) for i in range(i1, i2))
        elif tag == "insert":
            if spans:
                token, first, last = spans[-1]
                spans[-1] = (" ".join([token, *converted[j1:j2]]), first, last)
        else:
            _split_replace(spans, converted[j1:j2], i1, i2)
    return spans


def _split_replace(spans: list[NumeralSpan], tokens: list[str], i1: int, i2: int) -> None:
    """Share the words ``[i1, i2)`` among ``tokens`` in order, at least one word each."""
    n_words = i2 - i1
    n_tokens = len(tokens)
    if n_tokens > n_words:
        head = tokens[: n_words - 1]
        tokens = [*head, " ".join(tokens[n_words - 1 :])]
        n_tokens = n_words
    bounds = [i1 + round(k * n_words / n_tokens) for k in range(n_tokens + 1)]
    spans.extend((tokens[k], bounds[k], bounds[k + 1]) for k in range(n_tokens))
