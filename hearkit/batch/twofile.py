"""Two-file calls in a batch: the rep's and the customer's legs become one stereo recording.

A batch finds two-file calls two ways:

* in a folder or glob, by file name: ``X_agent.wav`` with ``X_caller.wav`` is the call ``X``
  (also ``X_rep``/``X_customer``, ``-``, ``.`` or a space for ``_``, any audio extension; see
  :data:`hearkit.legs.LEG_SUFFIXES`); a leg without its partner is an ordinary recording;
* in a CSV manifest, by the columns ``rep_path`` and ``customer_path`` (or ``agent_path`` and
  ``caller_path``) on one row, beside the usual metadata columns.

Each pair is combined once (:func:`hearkit.legs.combine_legs`: lossless FLAC, rep on channel 0,
different lengths padded, different rates brought to the higher one) into the batch's output
folder, ``OUT/legs/<call>-<hash>.flac``, and sent with ``channel: true``. The recording's
identity is the hash of both legs' contents, so renaming or moving the legs changes nothing and a
resumed batch reuses the combined file (it is made again if deleted). Its metadata records both
leg files (``rep_file``, ``customer_file``); a sidecar ``X.meta.json`` beside the legs (the call
name with ``.meta.json``) adds title, rep, customer and the rest, as for one-file recordings.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from hearkit.batch.recordings import AudioInfo, Recording, _clean_id
from hearkit.legs import combine_legs, legs_id
from hearkit.metadata import read_sidecar

__all__ = ["SIDECAR_OF", "legs_recording"]


SIDECAR_OF = "sidecar_of"
"""Manifest metadata key of a two-file call: the path whose sidecar (``X.meta.json``) is the call's."""


def legs_recording(
    row: dict[str, Any],
    known: frozenset[str] | set[str],
    hasher: Callable[[Path], str],
    legs_dir: Path,
) -> Recording:
    """The recording of one two-file call (``row["legs"]`` = (rep file, customer file))."""
    rep, customer = row["legs"]
    meta: dict[str, Any] = dict(row.get("meta", {}))
    name = str(row.get("name") or rep.stem)
    call_id = _clean_id(str(meta.pop("call_id", ""))) or _clean_id(name) or "call"
    meta = {"rep_file": str(rep), "customer_file": str(customer), **meta}
    missing = [str(p) for p in (rep, customer) if not p.is_file()]
    if missing:
        return Recording(
            rec_id=legs_id(str(rep), str(customer)),
            call_id=call_id,
            source=f"{rep} + {customer}",
            kind="file",
            metadata=meta,
            skip_reason=f"two-file call: file not found: {', '.join(missing)}",
        )
    sidecar_of = rep.with_name(f"{name}.wav")  # X.meta.json beside the legs
    read_sidecar(sidecar_of)  # a broken one stops the batch before anything is sent
    # Its fields are read again at every rebuild (results._sidecar_now), not stored: an edit applies
    # (U9 finding 1: a two-file call kept the values of its first scan).
    meta = {**meta, SIDECAR_OF: str(sidecar_of)}
    rec_id = legs_id(hasher(rep), hasher(customer))
    target = legs_dir / f"{call_id}-{rec_id[:12]}.flac"
    rec = Recording(rec_id=rec_id, call_id=call_id, source=str(target), kind="file", metadata=meta)
    if rec_id in known and target.is_file():
        rec.size_bytes = target.stat().st_size
        return rec
    try:
        legs = combine_legs(rep, customer, target)
    except ValueError as exc:
        rec.source = f"{rep} + {customer}"
        rec.skip_reason = f"two-file call: {exc}"
        return rec
    rec.size_bytes = target.stat().st_size
    rec.info = AudioInfo(channels=2, duration_s=legs.duration_s, layout="stereo")
    rec.mode = "channel"  # one party per channel by construction, whatever --mono/--auto say
    return rec
