"""Moments worth hearing: every tracker hit, monologue and interruption of a set of calls.

One row per moment (columns :data:`MOMENT_COLUMNS`): ``call_id``, ``kind`` (``hit``,
``monologue``, ``interruption``), ``label`` (what it is, in words), ``at`` and ``end`` (the
moment itself, seconds), ``turn``, ``speaker``, ``role``, and ``clip_start``/``clip_end``: the
span to play, the moment with ``before_s`` of lead-in and ``after_s`` after it (a monologue's
clip is its first ``monologue_clip_s`` seconds), clipped to the call.

Definitions (the same rules as :mod:`hearkit.metrics`):

* *hit*: a row of the hits frame (:func:`hearkit.trackers.find_hits`).
* *monologue*: a turn of at least ``monologue_min_s`` seconds.
* *interruption*: a turn that starts strictly inside another speaker's speech, overlaps it for
  at least ``min_overlap_s`` (0.3 s), and is not a backchannel (a turn that starts and ends
  inside the other's speech and lasts at most ``backchannel_max_s``, 1.5 s).

Nothing here reads audio; :mod:`hearkit.clips` cuts the clips.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from hearkit.metrics import MetricOptions

__all__ = ["KINDS", "MOMENT_COLUMNS", "moments", "spans"]

KINDS = ("hit", "monologue", "interruption")
MOMENT_COLUMNS = (
    "call_id", "kind", "label", "at", "end", "turn", "speaker", "role", "clip_start", "clip_end",
)  # fmt: skip


def moments(
    turns: pd.DataFrame,
    hits: pd.DataFrame | None = None,
    *,
    kinds: Sequence[str] = KINDS,
    before_s: float = 2.0,
    after_s: float = 3.0,
    monologue_min_s: float = 30.0,
    monologue_clip_s: float = 10.0,
    durations: pd.Series | None = None,  # type: ignore[type-arg]
    max_per_call: int | None = None,
) -> pd.DataFrame:
    """The moments of the calls in ``turns`` (and ``hits``), in call and time order.

    ``max_per_call`` keeps at most that many moments a call: interruptions and monologues first
    (they are few), then hits in time order.
    """
    unknown = sorted(set(kinds) - set(KINDS))
    if unknown:
        raise ValueError(f"unknown moment kinds {unknown}; choose from {list(KINDS)}")
    if before_s < 0 or after_s < 0:
        raise ValueError("before_s and after_s must be ≥ 0 seconds")
    parts = []
    if "hit" in kinds and hits is not None and len(hits):
        parts.append(
            pd.DataFrame(
                {
                    "call_id": hits["call_id"].astype(str).to_numpy(),
                    "kind": "hit",
                    "label": (hits["tracker"].astype(str) + ": " + hits["phrase"].astype(str)).to_numpy(),
                    "at": hits["start"].astype(float).to_numpy(),
                    "end": hits["end"].astype(float).to_numpy(),
                    "turn": hits["turn"].astype("Int64").to_numpy() if "turn" in hits else pd.NA,
                    "speaker": hits["speaker"].astype(str).to_numpy() if "speaker" in hits else "",
                    "role": hits["role"].astype(str).to_numpy() if "role" in hits else "",
                }
            )
        )
    if len(turns) and ("monologue" in kinds or "interruption" in kinds):
        frame = turns.sort_values(["call_id", "start"], kind="stable").reset_index(drop=True)
        start = frame["start"].to_numpy(dtype=np.float64)
        end = frame["end"].to_numpy(dtype=np.float64)
        if "monologue" in kinds:
            long_ = (end - start) >= monologue_min_s
            parts.append(_turn_moments(frame[long_], "monologue", lambda d: f"monologue {d:.0f} s"))
        if "interruption" in kinds:
            mask = _interruptions(frame, MetricOptions())
            parts.append(_turn_moments(frame[mask], "interruption", lambda d: "interruption"))
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=list(MOMENT_COLUMNS))
    out = pd.concat(parts, ignore_index=True)
    clip_end = np.where(
        out["kind"] == "monologue",
        out["at"] + monologue_clip_s,
        out["end"].astype(float) + after_s,
    )
    out["clip_start"] = np.maximum(out["at"].astype(float) - before_s, 0.0)
    out["clip_end"] = clip_end
    if durations is not None:
        limit = out["call_id"].map(durations).astype(float).to_numpy()
        out["clip_end"] = np.where(np.isfinite(limit), np.minimum(out["clip_end"], limit), out["clip_end"])
    priority = out["kind"].map({"interruption": 0, "monologue": 1, "hit": 2})
    out = out.assign(_p=priority).sort_values(["call_id", "_p", "at"], kind="stable")
    if max_per_call is not None:
        out = out.groupby("call_id", sort=False).head(max_per_call)
    out = out.drop(columns="_p").sort_values(["call_id", "at"], kind="stable").reset_index(drop=True)
    return out[list(MOMENT_COLUMNS)]


def spans(moments_frame: pd.DataFrame, *, join_gap_s: float = 1.0) -> pd.DataFrame:
    """The clip spans to cut: each call's moment clips merged where they overlap or lie less than
    ``join_gap_s`` apart, so no second of audio is embedded twice. Columns ``call_id``,
    ``start``, ``end``, ``clip`` (0-based within the call)."""
    rows: list[dict[str, Any]] = []
    for call_id, group in moments_frame.groupby("call_id", sort=True):
        ordered = group.sort_values("clip_start")
        current: list[float] | None = None
        for a, b in zip(ordered["clip_start"].astype(float), ordered["clip_end"].astype(float), strict=True):
            if current is not None and a <= current[1] + join_gap_s:
                current[1] = max(current[1], b)
                continue
            if current is not None:
                rows.append({"call_id": str(call_id), "start": current[0], "end": current[1]})
            current = [a, b]
        if current is not None:
            rows.append({"call_id": str(call_id), "start": current[0], "end": current[1]})
    out = pd.DataFrame(rows, columns=["call_id", "start", "end"])
    out["clip"] = out.groupby("call_id").cumcount()
    return out


def _turn_moments(rows: pd.DataFrame, kind: str, label: Any) -> pd.DataFrame:
    duration = (rows["end"] - rows["start"]).to_numpy(dtype=np.float64)
    return pd.DataFrame(
        {
            "call_id": rows["call_id"].astype(str).to_numpy(),
            "kind": kind,
            "label": [f"{label(d)} ({r})" for d, r in zip(duration, rows.get("role", ""), strict=False)]
            if len(rows)
            else [],
            "at": rows["start"].to_numpy(dtype=np.float64),
            "end": rows["end"].to_numpy(dtype=np.float64),
            "turn": rows["turn"].astype("Int64").to_numpy(),
            "speaker": rows["speaker"].astype(str).to_numpy(),
            "role": rows["role"].astype(str).to_numpy() if "role" in rows else "",
        }
    )


def _interruptions(frame: pd.DataFrame, opts: MetricOptions) -> np.ndarray:  # type: ignore[type-arg]
    """Per turn (frame sorted by call, start): whether it interrupts (see the module text)."""
    start = frame["start"].to_numpy(dtype=np.float64)
    end = frame["end"].to_numpy(dtype=np.float64)
    speaker = frame["speaker"].astype(str).to_numpy()
    calls = frame["call_id"].astype(str).to_numpy()
    other_end = np.full(len(frame), -np.inf)
    for label in np.unique(speaker):
        masked = pd.Series(np.where(speaker == label, -np.inf, end))
        # the latest end of any *other* speaker's turn that started earlier in the same call
        running = masked.groupby(calls).cummax().to_numpy()
        previous = np.concatenate([[-np.inf], running[:-1]])
        same_call = np.concatenate([[False], calls[1:] == calls[:-1]])
        previous = np.where(same_call, previous, -np.inf)
        mine = speaker == label
        other_end[mine] = previous[mine]
    covered = other_end > start
    backchannel = covered & (end <= other_end) & ((end - start) <= opts.backchannel_max_s)
    overlap = np.minimum(other_end, end) - start
    return covered & ~backchannel & (overlap >= opts.min_overlap_s) & (end > start)  # type: ignore[no-any-return]
