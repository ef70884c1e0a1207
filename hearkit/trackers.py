"""Trackers: named sets of phrases and patterns, found with word timestamps across many calls.

A :class:`Tracker` matches its ``phrases`` case- and punctuation-insensitively, across word
boundaries (``"follow up"`` matches the words ``Follow-up,``), with simple inflections
(``price`` also matches ``prices``, ``priced``, ``pricing``; a possessive ``'s`` is allowed), and
its ``patterns`` as regular expressions over the same normalized text. A match never spans two
turns. ``role`` limits a tracker to one role's speech.

Normalized text: each word lower-cased, typographic apostrophes (’) read as ``'``, hyphens and
slashes become spaces, punctuation other than a leading ``$``/``£``/``€``, a trailing ``%``, apostrophes and
decimal points inside numbers is dropped, thousands separators are removed (``$1,200`` →
``$1200``). A word the recogniser split off a number is joined to it: a thousands group (``$1``
``,500``) and a lone ``%`` (``20`` ``%``); the pricing tracker counts ``20% off`` as a discount.

All calls are matched at once: the normalized words of every call are joined into one string
(with a separator at every turn boundary) and each tracker is one compiled regular expression
run over it; character offsets map back to words with ``searchsorted``.

When a call has no word timings, :func:`find_hits` can fall back to the turns' text: words are
spread over each turn in proportion to their length (``time_source = "interpolated"`` on the hit,
instead of ``"words"``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from hearkit.frames import CALL_ID, HIT_COLUMNS, HITS, empty
from hearkit.transcript import canonical_role, empty_words

__all__ = [
    "DEFAULT_COMPETITORS",
    "DEFAULT_TRACKERS",
    "DISCOUNT_PATTERNS",
    "HIT_COLUMNS",
    "MONEY_PATTERNS",
    "Tracker",
    "competitor_tracker",
    "default_trackers",
    "find_hits",
    "keyword_timeline",
    "normalize_text",
    "normalize_words",
    "pricing_near_end",
    "vocabulary_of",
    "words_from_turns",
]


_NUMBER_WORDS = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven",
    "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen",
    "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety", "hundred",
    "thousand", "million",
)  # fmt: skip
_NUM_WORD = "(?:" + "|".join(_NUMBER_WORDS) + ")"
_NUM_PHRASE = rf"{_NUM_WORD}(?:\s(?:and\s)?{_NUM_WORD})*"
_CURRENCY = r"(?:dollars?|bucks|usd|eur|euros?|gbp|pounds?|cents?|pence|quid)"
_UNIT = r"(?:seat|user|license|licence|month|year|agent|minute)s?"

_AFTER_AMOUNT = (
    "(?:(?<=\\d )|"
    + "|".join(
        rf"(?<=\b{w} )"
        for w in (*_NUMBER_WORDS, "dollar", "dollars", "bucks", "usd", "euro", "euros", "pound", "pounds")
    )
    + ")"
)
MONEY_PATTERNS = (
    r"[$£€]\d+(?:\.\d+)?(?:\s?[km])?",  # $40, $40.50, $1200, $5k, £30, €40
    r"(?:usd|eur|gbp)\s?\d+(?:\.\d+)?(?:\s?[km])?",  # USD 500
    rf"\d+(?:\.\d+)?\s?(?:k\s)?{_CURRENCY}",  # 40 dollars, 40 bucks
    rf"{_NUM_PHRASE}\s{_CURRENCY}",  # forty dollars, thirty four dollars
    rf"per\s{_UNIT}",  # per seat, per user, per month
    # "a month" right after an amount (500 a month, forty dollars a seat): alone it is a time ("a
    # month ago", "once a month"). The amount is its own hit, as before.
    rf"{_AFTER_AMOUNT}(?:a|each)\s(?:seat|user|license|licence|month|year)",
)
DISCOUNT_PATTERNS = (r"\d+(?:\.\d+)?%\s(?:off|discount)",)
"""A discount as the recogniser writes it (``20% off``, ``10 % off``: a lone ``%`` word is joined to
the number before it); ``twenty percent off`` is the phrase ``percent off``."""

DEFAULT_COMPETITORS = ("Gong", "Chorus", "Salesloft", "Outreach", "Clari", "Avoma", "Fireflies", "Revenue.io")


@dataclass(frozen=True)
class Tracker:
    """A named set of ``phrases`` (plain words, matched with simple inflections) and ``patterns``
    (regular expressions over normalized text), optionally limited to one ``role``.

    ``inflect=False`` matches phrases as names (competitors): no inflections, a possessive
    ``'s`` allowed, and the spacing the ASR gives a name ignored (``"Salesloft"`` matches
    ``sales loft``, ``Sales-loft``; ``"Sales Loft"`` matches ``salesloft``; one-word names of at
    least :data:`SPLIT_NAME_MIN_LETTERS` letters). A name the ASR heard as another word ("Gong" as
    "long", "Clari" as "Clary") is not found: send the names as the transcription's
    ``vocabulary`` (:func:`vocabulary_of`).
    """

    name: str
    phrases: tuple[str, ...] = ()
    patterns: tuple[str, ...] = ()
    role: str | None = None
    inflect: bool = True
    _regex: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a Tracker needs a name")
        for field_name in ("phrases", "patterns"):
            value = getattr(self, field_name)
            if isinstance(value, str):  # tuple("price") is five one-letter phrases: 'i' matched every "I"
                raise TypeError(
                    f"tracker {self.name!r}: {field_name} is a list, not one string: pass [{value!r}]"
                )
        object.__setattr__(self, "phrases", tuple(self.phrases))
        object.__setattr__(self, "patterns", tuple(self.patterns))
        if self.role is not None:  # 'Customer' is the role customer (it matched no turn: 0 hits)
            object.__setattr__(self, "role", canonical_role(str(self.role)))
        alternatives = []
        for phrase in self.phrases:
            if not str(phrase).strip():
                continue
            if not normalize_text(str(phrase)).split():  # an empty expression matched between every word
                raise ValueError(
                    f"tracker {self.name!r}: the phrase {phrase!r} has no words once punctuation is dropped"
                    " (phrases match words; give a pattern for symbols, e.g. r'\\$\\d+')"
                )
            alternatives.append(_phrase_regex(str(phrase), inflect=self.inflect))
        for pattern in self.patterns:
            try:
                compiled = re.compile(pattern)
            except re.error as exc:
                raise ValueError(f"tracker {self.name!r}: bad regular expression {pattern!r}: {exc}") from exc
            if compiled.fullmatch(""):
                raise ValueError(
                    f"tracker {self.name!r}: the pattern {pattern!r} matches empty text, so it would count a"
                    " hit between words; make it match at least one character"
                )
            alternatives.append(f"(?:{pattern})")
        if not alternatives:
            raise ValueError(f"tracker {self.name!r} has no phrases or patterns")
        # Longest alternatives first, so a longer phrase wins over its prefix.
        alternatives.sort(key=len, reverse=True)
        regex = r"(?<![\w$£€])(?:" + "|".join(alternatives) + r")(?![\w%])"
        object.__setattr__(self, "_regex", re.compile(regex))

    @property
    def regex(self) -> re.Pattern[str]:
        """The compiled expression run over normalized text."""
        return self._regex


SPLIT_NAME_MIN_LETTERS = 6
"""A name (``inflect=False``) of at least this many letters also matches written in two or more
words: the ASR writes "Salesloft" as "sales loft", "Fireflies" as "fire flies"."""


def _phrase_regex(phrase: str, *, inflect: bool) -> str:
    tokens = normalize_text(phrase).split()
    if not inflect:
        # Names: the words of a name may be run together ("Sales Loft" ↔ "salesloft"), and a long
        # one-word name split ("salesloft" ↔ "sales loft").
        return r"\s?".join(_name_regex(token) for token in tokens) + "(?:'s)?"
    parts = []
    for token in tokens:
        escaped = re.escape(token)
        if not token.isalpha() or len(token) < 3:
            parts.append(escaped + "(?:'s)?")
        elif token.endswith("e"):
            parts.append(re.escape(token[:-1]) + "(?:e|es|ed|ing|er|ers)")
        elif token.endswith("y") and len(token) > 3:
            parts.append(re.escape(token[:-1]) + "(?:y|ies|ied|ying)")
        else:
            parts.append(escaped + "(?:s|es|ed|ing|'s)?")
    return r"\s+".join(parts)


def _name_regex(token: str) -> str:
    if token.isalpha() and len(token) >= SPLIT_NAME_MIN_LETTERS:
        return r"\s?".join(re.escape(letter) for letter in token)
    return re.escape(token)


def vocabulary_of(trackers: Iterable[Tracker] | None = None) -> list[str]:
    """The names of ``trackers`` (default :data:`DEFAULT_TRACKERS`; the phrases of those with
    ``inflect=False``: competitors, products) as written, each once, for a transcription's
    ``vocabulary`` option. The ASR spells a name it was not told about as it hears it (on the
    sample calls "Gong" became "long" and "Clari" "Clary": no tracker can find those); the local
    engine puts these terms in the decoder's prompt."""
    out: dict[str, None] = {}
    for tracker in DEFAULT_TRACKERS if trackers is None else trackers:
        if not tracker.inflect:
            out.update((str(p).strip(), None) for p in tracker.phrases if str(p).strip())
    return list(out)


def competitor_tracker(names: Iterable[str] = DEFAULT_COMPETITORS, *, name: str = "competitors") -> Tracker:
    """A tracker of competitor names (exact, no inflections; possessive allowed)."""
    if isinstance(names, str):  # tuple("Gong") is four one-letter names
        raise TypeError(f"competitor names are a list, not one string: pass [{names!r}]")
    return Tracker(name, tuple(names), inflect=False)


def default_trackers(competitors: Iterable[str] = DEFAULT_COMPETITORS) -> tuple[Tracker, ...]:
    """The default trackers (pricing, competitors, objections, next_steps), with your competitors."""
    return (
        Tracker(
            "pricing",
            (
                "price", "cost", "budget", "discount", "quote", "invoice", "credit", "how much",
                "list price", "contract value", "percent off",
            ),
            MONEY_PATTERNS + DISCOUNT_PATTERNS,
        ),
        competitor_tracker(competitors),
        Tracker(
            "objections",
            (
                "too expensive", "not sure", "concern", "not a priority", "no budget", "budget is tight",
                "tight budget", "already use", "not interested", "frustrating", "other vendors",
                "not convinced", "too complicated", "bad timing", "can't commit", "cannot commit",
            ),
        ),
        Tracker(
            "next_steps",
            (
                "next step", "follow up", "schedule", "send you", "calendar invite", "set up a call",
                "set up a meeting", "book a meeting", "circle back", "get back to you",
            ),
            (r"by\s(?:monday|tuesday|wednesday|thursday|friday|end\sof\s(?:the\s)?(?:day|week|month))",),
        ),
    )  # fmt: skip


_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u2032": "'"})
_STRIP_RE = re.compile(r"[^\w$£€%'.\s]")
_DOT_RE = re.compile(r"(?<!\d)\.|\.(?!\d)")
_THOUSANDS_RE = re.compile(r"(?<=\d),(?=\d{3})")


def normalize_text(text: str) -> str:
    """Lower-case ``text`` and drop punctuation the way tracker matching sees it. Typographic
    apostrophes (’ ‘ ʼ ′) are ``'``: a phrase pasted from a document finds the ASR's ``I'm``."""
    text = _THOUSANDS_RE.sub("", text.lower().translate(_APOSTROPHES))
    text = re.sub(r"[-/–—]", " ", text)
    text = _DOT_RE.sub(" ", _STRIP_RE.sub(" ", text))
    text = re.sub(r"(?<=\w)[$£€]|[$£€](?!\d)", " ", text)
    text = re.sub(r"%(?=\w)|(?<!\d)%", " ", text)
    text = re.sub(r"(?<!\w)'|'(?!\w)", " ", text)
    return " ".join(text.split())


DEFAULT_TRACKERS: tuple[Tracker, ...] = default_trackers()


def normalize_words(words: pd.Series) -> pd.Series:  # type: ignore[type-arg]
    """:func:`normalize_text` of every word of a Series (each distinct word normalized once)."""
    codes, uniques = pd.factorize(words.astype("str").fillna(""))
    normalized = np.array([normalize_text(str(u)) for u in uniques] + [""], dtype=object)
    return pd.Series(normalized[codes], index=words.index, dtype=object)


def words_from_turns(turns: pd.DataFrame) -> pd.DataFrame:
    """A words frame made from the turns' text: each turn's tokens spread over its time span in
    proportion to their length. For results without word timings (times are interpolated)."""
    if len(turns) == 0:
        return empty_words()
    frame = turns.reset_index(drop=True)
    tokens = frame["text"].astype("str").fillna("").str.split()
    exploded = tokens.explode().dropna()
    owner = exploded.index.to_numpy()
    word = exploded.astype("str").to_numpy()
    length = np.array([len(w) + 1 for w in word], dtype=np.float64)
    start = frame["start"].to_numpy(dtype=np.float64)[owner]
    end = frame["end"].to_numpy(dtype=np.float64)[owner]
    cum = np.cumsum(length)
    owner_first = np.r_[True, owner[1:] != owner[:-1]]
    base = np.maximum.accumulate(np.where(owner_first, cum - length, 0.0))
    total = pd.Series(length).groupby(owner).transform("sum").to_numpy()
    before = cum - length - base
    span = np.maximum(end - start, 0.0)
    w_start = start + span * before / total
    w_end = start + span * (before + length - 1) / total
    out = pd.DataFrame(
        {
            CALL_ID: frame[CALL_ID].to_numpy()[owner],
            "word_index": pd.Series(owner).groupby(frame[CALL_ID].to_numpy()[owner]).cumcount().to_numpy(),
            "turn": frame["turn"].to_numpy()[owner] if "turn" in frame else owner,
            "speaker": frame["speaker"].to_numpy()[owner] if "speaker" in frame else "speaker_0",
            "channel": frame["channel"].to_numpy()[owner] if "channel" in frame else pd.NA,
            "role": frame["role"].to_numpy()[owner] if "role" in frame else "unknown",
            "start": w_start,
            "end": w_end,
            "duration_s": w_end - w_start,
            "word": word,
        }
    )
    return out


_HIT_WORD_COLUMNS = (CALL_ID, "word", "start", "end")


def _check_hit_inputs(words: pd.DataFrame | None, trackers: object) -> None:
    """One-line errors for what :func:`find_hits` cannot read (a bare KeyError from pandas, or an
    AttributeError on a tracker name, before)."""
    if (
        not isinstance(trackers, Sequence)
        or isinstance(trackers, str)
        or not all(isinstance(t, Tracker) for t in trackers)
    ):
        raise TypeError(
            "trackers must be a list of Tracker objects, e.g. DEFAULT_TRACKERS or"
            f" [Tracker('pricing', ['price', 'discount'])], not {trackers!r:.100}"
        )
    if words is None:
        return
    if not isinstance(words, pd.DataFrame):
        raise TypeError(f"words must be a words DataFrame (CallSet.words), not {type(words).__name__}")
    missing = [c for c in _HIT_WORD_COLUMNS if c not in words.columns]
    if missing:
        raise ValueError(
            f"the words frame lacks {', '.join(missing)}: find_hits needs {', '.join(_HIT_WORD_COLUMNS)}"
            " (the words of CallSet.words or hearkit.transcript.words)"
        )
    if (
        len(words)
        and not pd.api.types.is_string_dtype(words["word"])
        and not pd.api.types.is_object_dtype(words["word"])
    ):
        raise ValueError(f"the words frame's 'word' column holds {words['word'].dtype}, not text")


def find_hits(
    words: pd.DataFrame | None,
    trackers: Sequence[Tracker] = DEFAULT_TRACKERS,
    *,
    turns: pd.DataFrame | None = None,
    durations: Mapping[str, float] | pd.Series | None = None,
    context_words: int = 6,
) -> pd.DataFrame:
    """Every tracker hit in every call: one row per match (columns :data:`HIT_COLUMNS`).

    ``start``/``end`` are the first matched word's start and the last one's end (seconds);
    ``position`` is ``start / call duration`` (0–1; duration from ``durations``, else the call's
    last word end); ``snippet`` is the match with ``context_words`` words either side (the
    original words, same turn); ``turn`` the turn id of the match. Calls of ``turns`` that have no
    words are matched on their text with interpolated times (``time_source="interpolated"``).
    A ``durations`` key that is no call of ``words`` or ``turns`` is a ``ValueError`` naming it (a
    typo'd key left the call's positions on its last word end, silently).
    """
    _check_hit_inputs(words, trackers)
    _check_duration_keys(durations, words, turns)
    frames = []
    if words is not None and len(words):
        w = words.copy()
        w["time_source"] = "words"
        frames.append(w)
    if turns is not None and len(turns):
        have = set(frames[0][CALL_ID].astype("str")) if frames else set()
        missing = turns[~turns[CALL_ID].astype("str").isin(have)]
        if len(missing):
            interp = words_from_turns(missing)
            interp["time_source"] = "interpolated"
            frames.append(interp)
    if not frames:
        return _empty_hits()
    w = pd.concat(frames, ignore_index=True)
    for col, default in (("speaker", "speaker_0"), ("role", "unknown"), ("turn", -1)):
        if col not in w.columns:
            w[col] = default
    w = w[w["start"].notna() & w["end"].notna()]
    w = w.sort_values([CALL_ID, "start", "end"], kind="stable").reset_index(drop=True)
    call = w[CALL_ID].astype("str").to_numpy()
    turn = pd.to_numeric(w["turn"], errors="coerce").fillna(-1).to_numpy(dtype=np.int64)
    speaker = w["speaker"].astype("str").to_numpy()
    norm = normalize_words(w["word"]).to_numpy(dtype=object)
    originals = w["word"].astype("str").to_numpy()

    # Join all words; a "|" piece at each turn/speaker/call boundary stops matches crossing it.
    boundary = np.ones(len(w), dtype=bool)
    boundary[1:] = (call[1:] != call[:-1]) | (turn[1:] != turn[:-1]) | (speaker[1:] != speaker[:-1])
    glued = _glued_to_number(originals, norm, boundary)
    norm = np.where(glued & (norm == ""), "%", norm)
    separator = np.where(glued, "", " ")
    separator[0] = ""
    prefix = np.where(boundary, "| ", "")
    lead = np.where(glued, 0, 1) + np.where(boundary, 2, 0)  # len(separator) + len(prefix)
    lead[0] -= 1
    lengths = lead + pd.Series(norm, dtype=object).str.len().to_numpy(dtype=np.int64)
    piece_start = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
    word_start = piece_start + lead
    joined = "".join((separator + prefix + norm.astype(str)).tolist())

    duration = _call_durations(w, durations)
    starts = w["start"].to_numpy(dtype=np.float64)
    ends = w["end"].to_numpy(dtype=np.float64)
    roles = w["role"].astype("str").to_numpy()
    sources = w["time_source"].astype("str").to_numpy()
    rows: list[tuple[Any, ...]] = []
    for tracker in trackers:
        for match in tracker.regex.finditer(joined):
            first = int(np.searchsorted(word_start, match.start(), side="right") - 1)
            last = int(np.searchsorted(word_start, match.end() - 1, side="right") - 1)
            if tracker.role is not None and roles[first] != tracker.role:
                continue
            lo = first
            while lo > 0 and first - lo < context_words and not boundary[lo]:
                lo -= 1
            hi = last
            while hi + 1 < len(w) and hi - last < context_words and not boundary[hi + 1]:
                hi += 1
            dur = duration.get(call[first], np.nan)
            rows.append(
                (
                    call[first],
                    tracker.name,
                    _said(originals, separator, first, last),
                    speaker[first],
                    roles[first],
                    starts[first],
                    ends[last],
                    starts[first] / dur if dur and dur > 0 else np.nan,
                    " ".join(originals[lo : hi + 1]),
                    int(turn[first]),
                    sources[first],
                )
            )
    if not rows:
        return _empty_hits()
    hits = pd.DataFrame(rows, columns=list(HIT_COLUMNS))
    hits = hits.sort_values([CALL_ID, "start", "tracker"], kind="stable").reset_index(drop=True)
    return _typed_hits(hits)


_GLUED_RE = re.compile(r"^(?:,\d{3}(?!\d)|%)")


def _glued_to_number(
    originals: npt.NDArray[np.object_], norm: npt.NDArray[np.object_], boundary: npt.NDArray[np.bool_]
) -> npt.NDArray[np.bool_]:
    """Words the recogniser split off a number: a thousands group (``$1`` ``,500`` is $1,500) or a
    lone ``%`` (``20`` ``%``), glued to the number word before them in the same turn."""
    split_off = pd.Series(originals, dtype=object).str.strip().str.match(_GLUED_RE).to_numpy(dtype=bool)
    after_number = pd.Series(norm, dtype=object).str[-1:].str.isdigit().to_numpy(dtype=bool)
    glued = np.zeros(len(originals), dtype=bool)
    glued[1:] = split_off[1:] & ~boundary[1:] & after_number[:-1]
    return glued


def _said(originals: npt.NDArray[np.object_], separator: npt.NDArray[np.str_], first: int, last: int) -> str:
    """The words ``first`` to ``last`` as said, a glued piece without its space (``$1,500``)."""
    return "".join(
        (separator[i] if i > first else "") + str(originals[i]).strip() for i in range(first, last + 1)
    )


def _check_duration_keys(
    durations: Mapping[str, float] | pd.Series | None, words: pd.DataFrame | None, turns: pd.DataFrame | None
) -> None:
    if durations is None:
        return
    known: set[str] = set()
    for frame in (words, turns):
        if frame is not None and len(frame) and CALL_ID in frame.columns:
            known.update(frame[CALL_ID].astype("str"))
    keys = durations.index if isinstance(durations, pd.Series) else list(durations)
    unknown = [str(k) for k in keys if str(k) not in known]
    if unknown:
        shown = sorted(known)
        raise ValueError(
            f"durations names {len(unknown)} call(s) with no words or turns here: "
            f"{', '.join(map(repr, unknown[:10]))}{' …' if len(unknown) > 10 else ''}. The calls are: "
            f"{', '.join(map(repr, shown[:10])) or 'none'}{' …' if len(shown) > 10 else ''}; fix the call id"
        )


def _call_durations(
    words: pd.DataFrame, durations: Mapping[str, float] | pd.Series | None
) -> dict[str, float]:
    last = words.groupby(words[CALL_ID].astype("str"))["end"].max().to_dict()
    if durations is not None:
        given = dict(durations.items()) if isinstance(durations, pd.Series) else dict(durations)
        last.update({str(k): float(v) for k, v in given.items() if v is not None and np.isfinite(v)})
    return {str(k): float(v) for k, v in last.items()}


def _typed_hits(hits: pd.DataFrame) -> pd.DataFrame:
    return hits.astype(dict(HITS.dtypes))


def _empty_hits() -> pd.DataFrame:
    return empty("hits")


def keyword_timeline(hits: pd.DataFrame, *, bins: int = 10, by: str = "tracker") -> pd.DataFrame:
    """Hit counts per ``by`` value in ``bins`` equal slices of the call (by ``position``, 0–1).

    Columns: ``<by>``, ``bin`` (0..bins-1), ``bin_start``, ``bin_end`` (call fraction), ``hits``,
    ``calls`` (distinct calls with a hit in the bin). Every bin is present (zeros included).
    """
    if bins < 1:
        raise ValueError(f"bins must be ≥ 1, not {bins}")
    valid = hits[hits["position"].notna()]
    bin_ = np.clip(np.floor(valid["position"].to_numpy(dtype=np.float64) * bins), 0, bins - 1).astype(
        np.int64
    )
    frame = pd.DataFrame(
        {by: valid[by].astype("str").to_numpy(), "bin": bin_, CALL_ID: valid[CALL_ID].to_numpy()}
    )
    grouped = frame.groupby([by, "bin"]).agg(hits=(CALL_ID, "size"), calls=(CALL_ID, "nunique"))
    keys = sorted(set(frame[by]))
    full = pd.MultiIndex.from_product([keys, range(bins)], names=[by, "bin"])
    out = grouped.reindex(full, fill_value=0).reset_index()
    out["bin_start"] = out["bin"] / bins
    out["bin_end"] = (out["bin"] + 1) / bins
    out["hits"] = out["hits"].astype(np.int64)
    out["calls"] = out["calls"].astype(np.int64)
    return out[[by, "bin", "bin_start", "bin_end", "hits", "calls"]]


def pricing_near_end(
    hits: pd.DataFrame,
    *,
    tail: float = 0.25,
    tracker: str = "pricing",
    call_ids: Iterable[str] | None = None,
) -> pd.DataFrame:
    """The "pricing near the end" buying signal, per call.

    Columns: ``call_id``, ``pricing_hits`` (all hits of ``tracker``), ``pricing_hits_tail`` (hits
    with position ≥ 1 − ``tail``), ``tail_share`` (tail hits / all hits; NaN without hits),
    ``pricing_late`` (True when the tail holds at least one hit and more than its even share,
    i.e. ``tail_share > tail``). ``call_ids`` adds calls without hits (0 hits, not late).
    """
    if not 0 < tail < 1:
        raise ValueError(f"tail must be a fraction of the call between 0 and 1, not {tail}")
    mine = hits[hits["tracker"] == tracker]
    in_tail = (mine["position"] >= 1 - tail).to_numpy()
    counts = pd.DataFrame({CALL_ID: mine[CALL_ID].astype("str").to_numpy(), "tail": in_tail})
    agg = counts.groupby(CALL_ID).agg(pricing_hits=("tail", "size"), pricing_hits_tail=("tail", "sum"))
    if call_ids is not None:
        agg = agg.reindex(sorted(set(agg.index) | {str(c) for c in call_ids}), fill_value=0)
    agg = agg.astype(np.int64)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = np.where(agg["pricing_hits"] > 0, agg["pricing_hits_tail"] / agg["pricing_hits"], np.nan)
    agg["tail_share"] = share
    agg["pricing_late"] = (agg["pricing_hits_tail"] > 0) & (np.nan_to_num(share) > tail)
    out = agg.reset_index()
    out[CALL_ID] = out[CALL_ID].astype("str")
    return out
