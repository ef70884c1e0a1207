"""Re-label stored calls without transcribing them again: roles, merged and split speakers.

Swapped roles are the most common complaint about call analytics, and a wrong speaker count the
second. Both are fixed here on the stored frames of a :class:`~hearkit.record.CallSet`; every
metric, tracker hit, speaker row and chart then follows, because they all read these frames.

* :func:`with_roles` sets roles by speaker (``{call_id: {speaker: role}}``, speaker as in the
  turns frame's ``speaker`` column). The turns', words', hits' and speakers' ``role`` change,
  ``role_source`` becomes ``user``, and the calls' per-role scorecard columns are re-aggregated
  from the per-speaker statistics already in ``CallSet.speakers`` (talk time, words, questions,
  fillers, interruptions, monologues and answer pauses are properties of a speaker, not of a
  role): no turn is read again, so 10,000 calls re-label in seconds. When the speakers frame
  lacks those statistics, the scorecards of the changed calls are recomputed from their turns.
* :func:`merge_speakers` makes several speakers of a call one; :func:`split_speaker` gives some
  of a speaker's turns to a new speaker. The call's scorecard and speaker rows are recomputed.

Provenance: ``role_source`` keeps the transcript's values (``explicit``, ``channel_convention``,
``inferred_*``, ``unknown``) plus ``user``; ``speaker_source`` says who decided the speaker of a
turn: ``channel`` (a stereo channel), ``model`` (the diarizer, or the API's label), ``user``.
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from dataclasses import replace
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from hearkit.frames import CALL_ID
from hearkit.metrics import (
    ROLE_FLAGS,
    ROLE_GROUPS,
    replace_flags,
    role_flags,
    role_group,
    scorecards,
    speaker_stats,
)
from hearkit.quality import blank_unmeasured, measured, quality_cells, quality_of, roles_set_by_user
from hearkit.record import CallSet
from hearkit.schema import Quality
from hearkit.summarize import summarize_calls
from hearkit.summary import CallSummary
from hearkit.trackers import find_hits
from hearkit.transcript import canonical_role

__all__ = [
    "SPEAKER_SOURCES",
    "apply_changes",
    "merge_speakers",
    "speaker_sources",
    "split_speaker",
    "with_roles",
]

SPEAKER_SOURCES = ("channel", "model", "user")
USER = "user"
_SEP = "\x1f"
_STATS = ("talk_s", "words", "questions", "fillers", "interruptions", "longest_monologue_s", "n_responses")


def speaker_sources(turns: pd.DataFrame) -> pd.Series:  # type: ignore[type-arg]
    """Each turn's ``speaker_source``: the column when present, else ``channel`` for calls with
    two or more channels (the speaker is the channel) and ``model`` otherwise."""
    if "speaker_source" in turns.columns:
        return turns["speaker_source"]
    stereo = np.zeros(len(turns), dtype=np.int8)
    if "channel" in turns.columns and len(turns):
        channel = turns["channel"].to_numpy(dtype=np.float64, na_value=np.nan)
        codes, _ = pd.factorize(turns[CALL_ID])
        spread = pd.Series(channel).groupby(codes).agg(["min", "max"])
        two = (spread["max"] > spread["min"]).to_numpy()
        stereo = (two[codes] & ~np.isnan(channel)).astype(np.int8)
    names = pa.array(["model", "channel"], type=pa.large_string())
    values = pa.DictionaryArray.from_arrays(pa.array(stereo), names).cast(pa.large_string())
    return pd.Series(pd.array(values, dtype="str"), index=turns.index)  # type: ignore[call-overload]


def apply_changes(calls: CallSet, call_id: str, changes: Sequence[Mapping[str, Any]]) -> CallSet:
    """Replay a user's stored changes of one call, in order: ``{"merge": [speakers]}`` and
    ``{"roles": {speaker: role}}`` (what ``hearkit remap`` keeps in a batch's per-call JSON, so a
    rebuilt dataset keeps them). A change that no longer fits the call raises ``KeyError`` or
    ``ValueError``."""
    for change in changes:
        if "merge" in change:
            calls = merge_speakers(calls, call_id, [str(s) for s in change["merge"]])
        elif "roles" in change:
            calls = with_roles(calls, {call_id: {str(k): str(v) for k, v in change["roles"].items()}})
        else:
            raise ValueError(f"unknown stored change {dict(change)!r}: expected 'merge' or 'roles'")
    return calls


def with_roles(calls: CallSet, roles: Mapping[str, Mapping[str, str]]) -> CallSet:
    """A copy of ``calls`` with the given speakers' roles (others keep theirs)."""
    changes = _role_changes(calls, roles)
    if changes.empty:
        return replace(calls)
    affected = set(changes[CALL_ID])
    new_role = changes.set_index([CALL_ID, "speaker"])["role"]

    turns = _relabel_frame(calls.turns, new_role, source=True)
    words = _relabel_frame(calls.words, new_role)
    hits = _relabel_frame(calls.hits, new_role)
    speakers = _relabel_frame(calls.speakers, new_role)
    if "speaker_source" not in turns.columns:
        turns["speaker_source"] = speaker_sources(calls.turns)
    if set(_STATS) <= set(speakers.columns) and "response_pause_s" in speakers.columns:
        cards = _role_columns(speakers[speakers[CALL_ID].isin(affected)], calls.calls)
    else:
        cards = _rescore(turns, words, calls.calls, affected)[0]
    hits, counts = _rematch_role_trackers(calls, turns, words, hits, affected)
    out = replace(
        calls,
        turns=turns,
        words=words,
        hits=hits,
        speakers=speakers,
        calls=_update_calls(calls.calls, cards),
        summaries=_resummarize(calls.summaries, turns, affected),
    )
    for column, per_call in counts.items():
        rows = out.calls[CALL_ID].astype(str).isin(affected)
        out.calls.loc[rows, column] = (
            out.calls.loc[rows, CALL_ID].astype(str).map(per_call).fillna(0).astype(int)
        )
    _settle_role_doubts(out.calls, affected)
    _keep_index(calls, out)
    return out


def _rematch_role_trackers(
    calls: CallSet, turns: pd.DataFrame, words: pd.DataFrame, hits: pd.DataFrame, affected: set[str]
) -> tuple[pd.DataFrame, dict[str, dict[str, int]]]:
    """Hits of the set's role-limited trackers, matched again in the relabelled calls: a customer-only
    tracker kept its hits under the new role (the rep's words) and missed the new customer's
    (U4 finding 17). Returns the hits and, per ``hits_<tracker>`` column, the new count per call."""
    trackers = list(calls.role_trackers)
    if not trackers or not affected:
        return hits, {}
    names = {t.name for t in trackers}
    mine = hits[CALL_ID].astype(str).isin(affected) & hits["tracker"].isin(names) if len(hits) else None
    kept = hits[~mine] if mine is not None else hits
    spoken = turns[turns[CALL_ID].astype(str).isin(affected)]
    said = words[words[CALL_ID].astype(str).isin(affected)]
    durations: dict[str, float] = {}
    if "audio_seconds" in calls.calls.columns:
        known = calls.calls.set_index(calls.calls[CALL_ID].astype(str))["audio_seconds"]
        durations = {
            c: float(d)
            for c, d in known.items()
            if c in affected and c in set(spoken[CALL_ID].astype(str)) and pd.notna(d)
        }
    found = find_hits(said, trackers, turns=spoken, durations=durations)
    out = pd.concat([kept, found], ignore_index=True) if len(found) else kept.reset_index(drop=True)
    counts = {
        f"hits_{t.name}": {
            str(c): int(n) for c, n in found[found["tracker"] == t.name].groupby(CALL_ID).size().items()
        }
        for t in trackers
        if f"hits_{t.name}" in calls.calls.columns
    }
    return out, counts


def _settle_role_doubts(calls: pd.DataFrame, affected: set[str]) -> None:
    """The quality columns of calls whose roles a user set: role doubts dropped (in place); what an
    unreliable flag says was not measured (one voice found) stays NaN after the re-scoring."""
    if "quality" not in calls.columns:
        return
    settled: dict[Hashable, Quality | None] = {}
    for label in calls.index[calls[CALL_ID].astype(str).isin(affected)]:
        quality = quality_of(calls.loc[label])
        if quality is None:
            continue
        settled[label] = roles_set_by_user(quality)
        for name, value in quality_cells(measured(settled[label])).items():
            calls.at[label, name] = value
    blank_unmeasured(calls, settled)


def merge_speakers(
    calls: CallSet, call_id: str, speakers: Sequence[str], *, into: str | None = None
) -> CallSet:
    """``speakers`` of call ``call_id`` become one speaker, ``into`` (default: the first); its
    role is ``into``'s. Turns keep their ids (summaries cite them)."""
    if isinstance(speakers, str):  # its letters were taken for speakers: "no speaker 's'"
        raise TypeError(
            f"speakers is a list of speaker labels, e.g. [{speakers!r}, 'speaker_2'], not one string"
        )
    known = _speakers_of(calls, call_id)
    names = [str(s) for s in speakers]
    if len(names) < 2:
        raise ValueError(f"name at least two speakers to merge, not {names}")
    for name in names:
        if name not in known:
            raise KeyError(f"call {call_id!r} has no speaker {name!r}; its speakers: {sorted(known)}")
    target = names[0] if into is None else str(into)
    if target not in names:
        raise ValueError(f"into={target!r} must be one of the merged speakers {names}")
    role = known[target]
    return _reassign(calls, call_id, lambda f: f["speaker"].isin(names), target, role)


def split_speaker(
    calls: CallSet,
    call_id: str,
    speaker: str,
    turns: Sequence[int],
    *,
    new_speaker: str,
    role: str | None = None,
) -> CallSet:
    """Give turns ``turns`` (ids of the turns frame's ``turn`` column) of ``speaker`` in call
    ``call_id`` to a new speaker ``new_speaker`` (role ``role``, default ``speaker``'s)."""
    known = _speakers_of(calls, call_id)
    if speaker not in known:
        raise KeyError(f"call {call_id!r} has no speaker {speaker!r}; its speakers: {sorted(known)}")
    if new_speaker in known:
        raise ValueError(
            f"{new_speaker!r} already speaks in {call_id!r}: use merge_speakers to join speakers"
        )
    if isinstance(turns, str | int):  # "12" was the turns 1 and 2
        raise TypeError(f"turns is a list of turn ids (the turns frame's 'turn' column), e.g. [{turns!r}]")
    of_call = calls.turns[(calls.turns[CALL_ID] == call_id) & (calls.turns["speaker"] == speaker)]
    wanted = {int(t) for t in turns}
    missing = sorted(wanted - set(of_call["turn"].astype(int)))
    if not wanted or missing:
        raise KeyError(f"turns {missing or '[]'} are not turns of {speaker!r} in {call_id!r}")
    moved = np.array(sorted(wanted))
    return _reassign(
        calls,
        call_id,
        lambda f: (f["speaker"] == speaker) & f["turn"].isin(moved),
        str(new_speaker),
        role or known[speaker],
    )


# ---------------------------------------------------------------------------------------------


def _role_changes(calls: CallSet, roles: Mapping[str, Mapping[str, str]]) -> pd.DataFrame:
    if not isinstance(roles, Mapping):
        raise TypeError(
            "roles must be a mapping {call_id: {speaker: role}}, e.g. {'call_1': {'speaker_1': 'rep'}}"
        )
    rows = []
    for call_id, by_speaker in roles.items():
        if not isinstance(by_speaker, Mapping):
            raise TypeError(f"roles[{call_id!r}] must map speaker → role, not {type(by_speaker).__name__}")
        for speaker, role in by_speaker.items():
            if not isinstance(role, str) or not role.strip():
                raise ValueError(
                    f"role of {speaker!r} in {call_id!r} must be a non-empty string, not {role!r}"
                )
            rows.append((str(call_id), str(speaker), canonical_role(role)))
    changes = pd.DataFrame(rows, columns=[CALL_ID, "speaker", "role"])
    if changes.empty:
        return changes
    known = pd.MultiIndex.from_frame(
        calls.turns[[CALL_ID, "speaker"]].drop_duplicates().astype(str)
        if calls.speakers.empty
        else calls.speakers[[CALL_ID, "speaker"]].astype(str)
    )
    probe = pd.MultiIndex.from_frame(changes[[CALL_ID, "speaker"]])
    unknown = changes[known.get_indexer(probe) < 0]
    if not unknown.empty:
        call_id, speaker = unknown.iloc[0][CALL_ID], unknown.iloc[0]["speaker"]
        ids = set(calls.calls[CALL_ID].astype(str))
        if call_id not in ids:
            raise KeyError(f"no call {call_id!r} in this CallSet ({len(ids)} calls)")
        speakers = sorted(_speakers_of(calls, call_id))
        raise KeyError(f"call {call_id!r} has no speaker {speaker!r}; its speakers: {speakers}")
    return changes


def _speakers_of(calls: CallSet, call_id: str) -> dict[str, str]:
    turns = calls.turns[calls.turns[CALL_ID] == call_id]
    if turns.empty:
        ids = set(calls.calls[CALL_ID].astype(str))
        raise KeyError(
            f"no call {call_id!r} with turns in this CallSet"
            + ("" if call_id in ids else f" ({len(ids)} calls)")
        )
    first = turns.drop_duplicates("speaker")
    return dict(zip(first["speaker"].astype(str), first["role"].astype(str), strict=True))


def _relabel_frame(frame: pd.DataFrame, new_role: pd.Series, *, source: bool = False) -> pd.DataFrame:  # type: ignore[type-arg]
    """``frame`` with ``role`` (and ``role_source``) set where (call_id, speaker) is in ``new_role``.

    Arrow kernels on the whole columns (a joined key, ``index_in``, ``if_else``): no Python
    object per row, so two million turns take a fraction of a second."""
    if frame.empty or "speaker" not in frame.columns or "role" not in frame.columns:
        return frame
    changed_keys = pa.array([f"{c}{_SEP}{s}" for c, s in new_role.index], type=pa.large_string())
    key = pc.binary_join_element_wise(
        _arrow(frame[CALL_ID]), _arrow(frame["speaker"]), pa.scalar(_SEP, pa.large_string())
    )
    where = pc.index_in(key, value_set=changed_keys)
    hit = pc.is_valid(where)
    out = frame.copy()
    roles = pa.array(new_role.astype(str).tolist(), type=pa.large_string())
    out["role"] = _column(
        pc.if_else(hit, roles.take(pc.fill_null(where, 0)), _arrow(frame["role"])), frame["role"]
    )
    if source and "role_source" in out.columns:
        user = pa.scalar(USER, pa.large_string())
        out["role_source"] = _column(
            pc.if_else(hit, user, _arrow(frame["role_source"])), frame["role_source"]
        )
    return out


def _arrow(column: pd.Series) -> pa.Array:  # type: ignore[type-arg]
    return pa.array(column.astype("str").array, type=pa.large_string())  # type: ignore[arg-type]


def _column(values: pa.Array, like: pd.Series) -> Any:  # type: ignore[type-arg]
    return pd.array(values, dtype="str") if like.dtype == "str" else values.to_pandas().to_numpy(dtype=object)  # type: ignore[call-overload]


def _role_columns(speakers: pd.DataFrame, calls: pd.DataFrame) -> pd.DataFrame:
    """The per-role scorecard columns of the calls in ``speakers``, from per-speaker statistics
    (definitions in :mod:`hearkit.metrics`; same formulas, aggregated by the new roles)."""
    call_ids, call = np.unique(speakers[CALL_ID].astype(str).to_numpy(), return_inverse=True)
    n = len(call_ids)
    role = speakers["role"].astype(str).to_numpy()
    group = np.array([role_group(r) for r in role], dtype=np.int64)
    cg = call * 3 + group
    present = np.bincount(cg, minlength=n * 3).reshape(n, 3) > 0

    def by_group(column: str | np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
        values = speakers[column].to_numpy(dtype=np.float64) if isinstance(column, str) else column
        return np.bincount(cg, weights=np.nan_to_num(values), minlength=n * 3).reshape(n, 3)

    talk_g, words_g, fillers_g = by_group("talk_s"), by_group("words"), by_group("fillers")
    total = talk_g.sum(axis=1)
    # the rule of hearkit.metrics: a talking speaker without a role, or no rep nor customer at all,
    # leaves every talk ratio unmeasured (and the call's flags say which)
    talk = np.nan_to_num(speakers["talk_s"].to_numpy(dtype=np.float64))
    flags = role_flags(call.astype(np.int64), [str(r) for r in role], talk, n)
    measured = (total > 0) & (flags["no_role"] == 0) & (flags["no_rep_or_customer"] == 0)
    n_resp = speakers["n_responses"].to_numpy(dtype=np.float64)
    pause_sum = by_group(n_resp * np.nan_to_num(speakers["response_pause_s"].to_numpy(dtype=np.float64)))
    resp_g = by_group(n_resp)
    mono_flat = np.full(n * 3, np.nan)
    np.fmax.at(mono_flat, cg, speakers["longest_monologue_s"].to_numpy(dtype=np.float64))
    mono = mono_flat.reshape(n, 3)
    duration = _durations(calls, call_ids)
    out: dict[str, Any] = {CALL_ID: call_ids}
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(measured[:, None], talk_g / total[:, None], np.nan)
        share = np.where(present & (duration[:, None] > 0), talk_g / duration[:, None], np.nan)
        wpm = np.where(present & (talk_g > 0), words_g / (talk_g / 60.0), np.nan)
        rate = np.where(present & (words_g > 0), 100.0 * fillers_g / words_g, np.nan)
        patience = np.where(resp_g[:, 0] > 0, pause_sum[:, 0] / resp_g[:, 0], np.nan)
    counts = {"interruptions": by_group("interruptions"), "questions": by_group("questions")}
    for j, r in enumerate(ROLE_GROUPS):
        out[f"talk_s_{r}"] = np.where(present[:, j], talk_g[:, j], np.nan)
        out[f"talk_ratio_{r}"] = ratio[:, j]
        out[f"share_of_call_{r}"] = share[:, j]
        out[f"interruptions_{r}"] = _counts(counts["interruptions"][:, j], present[:, j])
        out[f"questions_{r}"] = _counts(counts["questions"][:, j], present[:, j])
        out[f"words_{r}"] = _counts(words_g[:, j], present[:, j])
        out[f"wpm_{r}"] = wpm[:, j]
        out[f"fillers_{r}"] = _counts(fillers_g[:, j], present[:, j])
        out[f"filler_rate_{r}"] = rate[:, j]
    out["longest_monologue_s_rep"] = mono[:, 0]
    out["longest_story_s_customer"] = mono[:, 1]
    out["patience_s"] = patience
    if "flags" in calls.columns:
        before = pd.Series(calls["flags"].to_numpy(dtype=object), index=calls[CALL_ID].astype(str).to_numpy())
        before = before[~before.index.duplicated()].reindex(call_ids)
        out["flags"] = [
            replace_flags(old, {name: int(flags[name][i]) for name in ROLE_FLAGS})
            for i, old in enumerate(before.to_numpy(dtype=object))
        ]
    return pd.DataFrame(out)


def _counts(values: np.ndarray, present: np.ndarray) -> pd.arrays.IntegerArray:  # type: ignore[type-arg]
    return pd.arrays.IntegerArray(np.round(values).astype(np.int64), ~present)


def _durations(calls: pd.DataFrame, call_ids: np.ndarray) -> np.ndarray:  # type: ignore[type-arg]
    column = next((c for c in ("duration_s", "audio_seconds") if c in calls.columns), None)
    if column is None:
        return np.full(len(call_ids), np.nan)
    series = pd.Series(
        calls[column].to_numpy(dtype=np.float64, na_value=np.nan),
        index=calls[CALL_ID].astype(str).to_numpy(),
    )
    return series.reindex(call_ids).to_numpy(dtype=np.float64)


def _update_calls(calls: pd.DataFrame, cards: pd.DataFrame) -> pd.DataFrame:
    """``calls`` with the columns of ``cards`` overwritten for the calls in it."""
    out = calls.copy()
    position = pd.Index(out[CALL_ID].astype(str)).get_indexer(pd.Index(cards[CALL_ID].astype(str)))
    ok = position >= 0
    rows = position[ok].tolist()
    for column in cards.columns:
        if column == CALL_ID or column not in out.columns:
            continue
        where = int(out.columns.get_loc(column))  # type: ignore[arg-type]
        out.iloc[rows, where] = cards[column].array[ok]
    return out


def _rescore(
    turns: pd.DataFrame, words: pd.DataFrame, calls: pd.DataFrame, affected: set[str]
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Scorecards and speaker statistics of the ``affected`` calls, recomputed from their turns."""
    part = turns[turns[CALL_ID].isin(affected)]
    part_words = words[words[CALL_ID].isin(affected)] if len(words) else None
    ids = np.array(sorted(affected), dtype=object)
    duration = _durations(calls, ids)
    known = {str(c): float(d) for c, d in zip(ids, duration, strict=True) if np.isfinite(d)}
    found_words = part_words if part_words is not None and len(part_words) else None
    cards = scorecards(part, found_words, durations=known or None, calls=list(known))
    stats = speaker_stats(part, found_words, durations=known or None, calls=list(known))
    return cards, stats


def _reassign(calls: CallSet, call_id: str, pick: Any, speaker: str, role: str) -> CallSet:
    """Turns of ``call_id`` chosen by ``pick`` (and their words and hits) go to ``speaker``."""
    of_call = calls.turns[CALL_ID] == call_id
    moved = calls.turns.loc[of_call & pick(calls.turns), "turn"]
    frames = {}
    for name in ("turns", "words", "hits"):
        frame = getattr(calls, name)
        if frame.empty or "speaker" not in frame.columns or "turn" not in frame.columns:
            frames[name] = frame
            continue
        mask = (frame[CALL_ID] == call_id) & frame["turn"].isin(moved)
        out = frame.copy()
        if name == "turns":
            out["speaker_source"] = speaker_sources(frame)
            out.loc[mask, "speaker_source"] = USER
            if "role_source" in out.columns:
                out.loc[mask, "role_source"] = USER
        out.loc[mask, "speaker"] = speaker
        if "role" in out.columns:
            out.loc[mask, "role"] = role
        frames[name] = out
    cards, stats = _rescore(frames["turns"], frames["words"], calls.calls, {call_id})
    speakers = calls.speakers
    if not speakers.empty:
        stats = stats[[c for c in speakers.columns if c in stats.columns]]
        speakers = pd.concat([speakers[speakers[CALL_ID] != call_id], stats], ignore_index=True)
    return replace(
        calls,
        turns=frames["turns"],
        words=frames["words"],
        hits=frames["hits"],
        speakers=speakers,
        calls=_update_calls(calls.calls, cards),
        summaries=_resummarize(calls.summaries, frames["turns"], {call_id}),
    )


def _resummarize(
    summaries: Mapping[str, CallSummary], turns: pd.DataFrame, affected: set[str]
) -> dict[str, CallSummary]:
    """The summaries, those of ``affected`` calls written again from their relabelled turns (the
    same method: offline, or the LLM of ``HEARKIT_LLM_BASE_URL``), so "Rep: …" prefixes and action
    items' owners follow the new roles (U4 finding 26: they kept the old ones). Calls without a
    summary get none."""
    redo = {c for c in affected if c in summaries}
    if not redo:
        return dict(summaries)
    fresh = summarize_calls(turns[turns[CALL_ID].astype(str).isin(redo)])
    return {c: fresh.get(c, summary) for c, summary in summaries.items()}


def _keep_index(old: CallSet, new: CallSet) -> None:
    """A role change keeps the turns' times: the phrase index stays valid (roles are read live)."""
    index = old.__dict__.get("_phrase_index")
    if index is not None:
        new.__dict__["_phrase_index"] = index
