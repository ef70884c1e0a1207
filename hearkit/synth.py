"""Synthetic calls for benchmarks and scale tests: realistic turn structure, made in bulk with numpy.

Each call alternates between a rep (``speaker_0``, channel 0) and a customer (``speaker_1``,
channel 1). Turn lengths are lognormal (median about 3.3 s, a long tail of monologues); the pause
before a turn is lognormal too, and about 12 % of turns start early, overlapping the previous
speaker by up to a second (overtalk and interruptions); about 8 % of turns are short backchannels
placed inside the other speaker's turn. The number of turns per call is Poisson around
``mean_turns``. Text comes from a small bank of sentences, so questions, fillers and trackers
have something to find. Everything is vectorized: 10,000 calls (about 2 million turns) take a
few seconds.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from hearkit.frames import CALL_ID
from hearkit.record import CallSet
from hearkit.trackers import find_hits

__all__ = ["SENTENCES", "synthetic_calls", "synthetic_turns"]

SENTENCES = (
    "Thanks for taking the time today.",
    "How does your team handle this right now?",
    "We mostly do it by hand, um, which takes a while.",
    "What would success look like for you this quarter?",
    "Our price is forty dollars per seat per month.",
    "That is too expensive for us right now.",
    "We are also looking at Gong and Chorus.",
    "Can you send me a proposal by Friday?",
    "Let's schedule a follow up next week.",
    "I see, that makes sense.",
    "Could you walk me through the setup?",
    "Uh, I am not sure we have the budget this year.",
    "The reports update every morning for the managers.",
    "Who else is involved in the decision?",
    "We can offer a discount for a two year term.",
    "You know, adoption has been lower than we hoped.",
    "I will send you the recording and the next steps.",
    "Is that something your team would use every day?",
)
_BACKCHANNELS = ("Mm hmm.", "Right.", "Okay.", "I see.", "Yeah.")


def synthetic_turns(
    n: int, *, seed: int = 0, mean_turns: float = 200.0, rep_turn_scale: float = 1.0
) -> tuple[pd.DataFrame, pd.Series]:  # type: ignore[type-arg]
    """``(turns, durations)``: a turns frame (:data:`hearkit.transcript.TURN_COLUMNS`) of ``n``
    calls and each call's duration in seconds (last turn end plus a short tail).

    ``rep_turn_scale`` multiplies the length of the rep's floor turns (not backchannels): above 1
    the rep talks more, a known difference for testing comparisons (:mod:`hearkit.cohorts`).
    The same seed draws the same random numbers whatever the scale."""
    if not rep_turn_scale > 0:
        raise ValueError(f"rep_turn_scale must be > 0, not {rep_turn_scale}")
    if n < 0:
        raise ValueError(f"n must be ≥ 0, not {n}")
    rng = np.random.default_rng(seed)
    per_call = np.maximum(rng.poisson(mean_turns, n), 2).astype(np.int64)
    total = int(per_call.sum())
    call = np.repeat(np.arange(n, dtype=np.int64), per_call)
    first = np.concatenate([[0], np.cumsum(per_call)[:-1]]).astype(np.int64)
    index_in_call = np.arange(total, dtype=np.int64) - np.repeat(first, per_call)

    duration = np.clip(rng.lognormal(mean=1.2, sigma=0.8, size=total), 0.3, 150.0)
    pause = rng.lognormal(mean=-0.9, sigma=0.7, size=total)
    early = rng.random(total) < 0.12
    pause = np.where(early, -rng.uniform(0.1, 1.0, total), pause)
    backchannel = (rng.random(total) < 0.08) & (index_in_call > 0)
    duration = np.where(backchannel, rng.uniform(0.3, 1.0, total), duration)
    if rep_turn_scale != 1.0:
        # The rep holds the even floor turns (see the speaker assignment below).
        floor = np.cumsum(~backchannel) - 1
        floor -= np.repeat(floor[first], per_call)
        duration = np.where(~backchannel & (floor % 2 == 0), duration * rep_turn_scale, duration)

    # Floor turns follow each other; backchannels sit inside the previous floor turn.
    step = np.where(backchannel, 0.0, duration + pause)
    offset = np.cumsum(step) - step
    offset -= np.repeat(offset[first], per_call)
    start = 1.0 + offset
    start = np.where(index_in_call == 0, 1.0, start)
    start = np.where(early & ~backchannel & (index_in_call > 0), start, np.maximum(start, 0.0))
    previous_start = np.concatenate([[0.0], start[:-1]])
    previous_duration = np.concatenate([[0.0], duration[:-1]])
    bc_start = previous_start + rng.uniform(0.2, 0.6, total) * previous_duration
    start = np.where(backchannel, bc_start, start)
    end = start + duration

    # Alternate speakers; a backchannel comes from the other side of the turn it sits in.
    floor_number = np.cumsum(~backchannel) - 1
    floor_number -= np.repeat(floor_number[first], per_call)
    speaker = (floor_number % 2).astype(np.int64)
    speaker = np.where(backchannel, 1 - speaker, speaker)

    # Text as codes into a bank of every sentence, sentence pair and backchannel.
    n_s, n_b = len(SENTENCES), len(_BACKCHANNELS)
    bank = [*SENTENCES, *(f"{a} {b}" for a in SENTENCES for b in SENTENCES), *_BACKCHANNELS]
    bank_words = np.array([len(t.split()) for t in bank], dtype=np.int64)
    picks = rng.integers(0, n_s, size=(total, 2))
    text_code = np.where(duration > 4.0, n_s + picks[:, 0] * n_s + picks[:, 1], picks[:, 0])
    text_code = np.where(backchannel, n_s + n_s * n_s + rng.integers(0, n_b, total), text_code)

    # Turn ids in time order within each call.
    order = np.argsort(call * (float(end.max(initial=0.0)) + 1.0) + start, kind="stable")
    call, speaker, start, end, text_code = (
        call[order],
        speaker[order],
        start[order],
        end[order],
        text_code[order],
    )

    ids = [f"synth_{i:06d}" for i in range(n)]
    turns = pd.DataFrame(
        {
            CALL_ID: _decode(call, ids),
            "turn": index_in_call,
            "speaker": _decode(speaker, ["speaker_0", "speaker_1"]),
            "channel": pd.array(speaker, dtype="Int64"),
            "role": _decode(speaker, ["rep", "customer"]),
            "role_source": _decode(np.zeros(total, dtype=np.int64), ["channel_convention"]),
            "start": start,
            "end": end,
            "duration_s": end - start,
            "text": _decode(text_code, bank),
            "n_words": bank_words[text_code],
        }
    )
    last_end = np.full(n, 0.0)
    np.maximum.at(last_end, call, end)
    durations = pd.Series(last_end + 1.5, index=pd.Index(ids, dtype="str"), name="duration_s")
    return turns, durations


def _decode(codes: npt.NDArray[np.int64], values: list[str]) -> Any:
    """A pandas ``str`` array of ``values[codes]``, decoded by Arrow (no Python string per row)."""
    dictionary = pa.DictionaryArray.from_arrays(pa.array(codes), pa.array(values, type=pa.large_string()))
    return pd.array(dictionary.cast(pa.large_string()), dtype="str")  # type: ignore[call-overload]


def synthetic_calls(
    n: int, seed: int = 0, *, mean_turns: float = 200.0, hits: bool = False, rep_turn_scale: float = 1.0
) -> CallSet:
    """A :class:`~hearkit.record.CallSet`-compatible set of ``n`` synthetic calls.

    ``calls`` holds ``call_id``, ``duration_s``, ``rep``, ``customer``, ``date``, ``kind``; ``turns``
    the turns; ``words`` is empty (no word timings); ``hits`` is filled (from the turn text, times
    interpolated) only when ``hits=True``. Compute scorecards with :func:`hearkit.metrics.scorecards`.
    """
    turns, durations = synthetic_turns(n, seed=seed, mean_turns=mean_turns, rep_turn_scale=rep_turn_scale)
    rng = np.random.default_rng(seed + 1)
    reps = np.array(["Jordan Lee", "Sam Ortiz", "Maya Chen", "Ravi Rao", "Ana Silva"], dtype=object)
    kinds = np.array(["discovery", "demo", "pricing", "support", "renewal"], dtype=object)
    dates = pd.Timestamp("2026-01-01") + pd.to_timedelta(rng.integers(0, 300, n), unit="D")
    calls = pd.DataFrame(
        {
            CALL_ID: pd.array(durations.index.to_numpy(), dtype="str"),
            "duration_s": durations.to_numpy(),
            "rep": pd.array(reps[rng.integers(0, len(reps), n)], dtype="str"),
            "customer": pd.array([f"Customer {i % 997}" for i in range(n)], dtype="str"),
            "date": pd.array(list(dates.strftime("%Y-%m-%d")), dtype="str"),
            "kind": pd.array(kinds[rng.integers(0, len(kinds), n)], dtype="str"),
        }
    )
    found = find_hits(None, turns=turns, durations=durations) if hits else find_hits(None)
    return CallSet(
        calls=calls,
        turns=turns,
        words=pd.DataFrame(columns=[CALL_ID, "word_index", "turn", "speaker", "start", "end", "word"]),
        hits=found,
        speakers=pd.DataFrame(columns=[CALL_ID, "speaker", "role", "talk_s"]),
    )
