"""A vocabulary prompt kept only in the windows where it made Whisper hear one of its terms.

A job's ``vocabulary`` goes into Whisper's decoder prompt, which makes names the model does not
know ("Gong", "Clari") come out right. On tiny.en the prompt also rewrites speech that has nothing
to do with it: on AWS contact-centre call 40, which names no term, the prompted transcript lost 29
of 698 words, a whole rep sentence with its action item and every customer filler (U5 finding 16).

So a job with a vocabulary is decoded twice, window by window the same: once plainly and once
prompted. A window keeps its prompted words only when they hold more occurrences of some term than
its plain words do (a term counts when Whisper wrote it at a word probability of at least
:data:`MIN_TERM_PROBABILITY`) and the extra terms are not the prompt read back (two different terms
in a row); every other window keeps its plain words. A call that names no term
therefore gets exactly its plain transcript. Cost: a second decode of every window (about twice
the recognition CPU of the job, only for jobs that send a vocabulary).
"""

from __future__ import annotations

import bisect
import itertools
import re
from collections import Counter
from dataclasses import replace

import numpy as np
import numpy.typing as npt
from faster_whisper import WhisperModel

from hearkit.engine.pipeline.asr import Chunk, DecodeSettings, Recognition, RecognizedWord, recognize_chunks
from hearkit.engine.pipeline.decode import SAMPLE_RATE

__all__ = ["MIN_TERM_PROBABILITY", "prompt_terms", "recognize", "term_hits"]

_TOKEN = re.compile(r"[a-z0-9]+")
Term = tuple[str, ...]
"""A vocabulary term as lower-case tokens."""
MIN_TERM_PROBABILITY = 0.01
"""A term Whisper wrote at a lower word probability is not taken as heard. Measured with the
competitor names on the seven stereo sample calls (``benchmarks/bench_vocabulary.py``): the one
name the prompt invented ("Chorus," in call 05, never said) had 0.002; the seven names it heard
right 0.04-0.50 ("Gong" 0.042 twice). One invented example: a bound, not a tuned curve."""


def _tokens(text: str) -> list[str]:
    return _TOKEN.findall(text.lower())


def prompt_terms(vocabulary: list[str] | None) -> list[Term]:
    """The vocabulary's terms as lower-case token tuples (empty and duplicate terms dropped)."""
    terms = (tuple(_tokens(t)) for t in vocabulary or [])
    return list(dict.fromkeys(t for t in terms if t))


def _term_positions(tokens: list[str], terms: list[Term]) -> list[tuple[int, int, Term]]:
    """``(first token, last token + 1, term)`` of every occurrence of a term in ``tokens``; a term is
    also found written as one word ("sales loft" for "Salesloft", "salesloft" for "Sales Loft")."""
    found = []
    joined = {"".join(t): t for t in terms}
    for i in range(len(tokens)):
        for term in terms:
            if tuple(tokens[i : i + len(term)]) == term:
                found.append((i, i + len(term), term))
        for n in (1, 2, 3):
            term_of = joined.get("".join(tokens[i : i + n])) if i + n <= len(tokens) else None
            if term_of is not None and tuple(tokens[i : i + n]) != term_of:
                found.append((i, i + n, term_of))
    return found


def term_hits(words: list[RecognizedWord], terms: list[Term]) -> Counter[Term]:
    """How often each term occurs in ``words`` (in their order), counting only occurrences whose
    words all have a probability of at least :data:`MIN_TERM_PROBABILITY`."""
    tokens: list[str] = []
    probability: list[float] = []
    for w in words:
        for tok in _tokens(w.text):
            tokens.append(tok)
            probability.append(w.probability)
    return Counter(
        term
        for first, last, term in _term_positions(tokens, terms)
        if min(probability[first:last]) >= MIN_TERM_PROBABILITY
    )


def _reads_back_prompt(words: list[RecognizedWord], terms: list[Term]) -> bool:
    """Whether two occurrences of different terms follow each other with no other word between:
    Whisper copying its prompt (a list of the terms) into the transcript."""
    tokens = [tok for w in words for tok in _tokens(w.text)]
    positions = sorted(_term_positions(tokens, terms))
    return any(b[0] == a[1] and b[2] != a[2] for a, b in itertools.pairwise(positions))


def _by_window(words: list[RecognizedWord], chunks: list[Chunk]) -> list[list[RecognizedWord]]:
    """``words`` (on their channels' timelines) split by the window whose piece holds their middle,
    or whose piece of the word's channel is nearest to it."""
    spans: dict[int, list[tuple[float, float, int]]] = {}
    for index, chunk in enumerate(chunks):
        for p, (start, end) in enumerate(chunk.pieces):
            spans.setdefault(chunk.channel_of(p), []).append((start / SAMPLE_RATE, end / SAMPLE_RATE, index))
    for v in spans.values():
        v.sort()
    starts = {channel: [s[0] for s in v] for channel, v in spans.items()}
    out: list[list[RecognizedWord]] = [[] for _ in chunks]
    for word in words:
        channel_spans = spans.get(word.channel)
        if not channel_spans:
            out[0].append(word)
            continue
        middle = (word.start + word.end) / 2
        at = bisect.bisect_right(starts[word.channel], middle)
        nearby = channel_spans[max(0, at - 1) : at + 1]
        nearest = min(nearby, key=lambda s: max(s[0] - middle, middle - s[1], 0.0))
        out[nearest[2]].append(word)
    return out


def recognize(
    model: WhisperModel,
    signals: list[npt.NDArray[np.float32]],
    chunks: list[Chunk],
    settings: DecodeSettings,
    *,
    lanes: int = 1,
) -> Recognition:
    """The words of ``chunks`` (:func:`~hearkit.engine.pipeline.asr.recognize_chunks`); with a
    vocabulary (``settings.vocabulary``), each window's plain decode, or its prompted decode where
    that heard more of a term without reading the prompt back (``prompted_windows`` counts them)."""
    terms = prompt_terms(list(settings.vocabulary))
    plain_settings = replace(settings, initial_prompt=None, vocabulary=())
    plain = recognize_chunks(model, signals, chunks, plain_settings if terms else settings, lanes=lanes)
    if not terms or settings.initial_prompt is None:
        return plain
    prompted = recognize_chunks(model, signals, chunks, settings, lanes=lanes)
    kept_plain = _by_window(plain.words, chunks)
    kept_prompted = _by_window(prompted.words, chunks)
    words: list[RecognizedWord] = []
    chosen = 0
    for plain_words, prompted_words in zip(kept_plain, kept_prompted, strict=True):
        gained = term_hits(prompted_words, terms) - term_hits(plain_words, terms)
        if gained and not _reads_back_prompt(prompted_words, terms):
            words += prompted_words
            chosen += 1
        else:
            words += plain_words
    words.sort(key=lambda w: (w.channel, w.start))
    return replace(plain, words=words, prompted_windows=chosen)
