"""The analysed dataset of a batch: every completed call through :func:`hearkit.record.analyze_calls`.

The per-call JSON files (``DIR/calls/<call_id>.json``: the job with its result) are the source
of truth; the dataset ``DIR/dataset/`` is rebuilt from them at the end of each run, in the
:meth:`hearkit.record.CallSet.save` format (``calls``, ``turns``, ``words``, ``hits`` and
``speakers`` Parquet frames), so ``CallSet.load(DIR / "dataset")`` reads it in one call. Each
call's metadata columns come from the batch: the fields of the recording's sidecar
``<name>.meta.json`` (:mod:`hearkit.metadata`, read afresh at each rebuild), then the CSV's columns
(``title``, ``rep``, ``customer``, ``date``, ``team``, ``kind``…; a CSV column wins over the
sidecar's field), plus ``source`` (path or URL), ``diarization`` (``channel`` or ``diarize``),
``vocabulary`` (the terms the recording's job was prompted with, from its stored request) and,
for a local one-file recording, ``audio_sha256`` (its content hash: clips are cut only while the
file still has it).
Every call gets its summary and action items (:mod:`hearkit.batch.summaries`).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from hearkit.batch.manifest import Manifest
from hearkit.batch.summaries import summarize_batch
from hearkit.batch.twofile import SIDECAR_OF
from hearkit.locate import SWAP_LOCK
from hearkit.metadata import read_sidecar

__all__ = [
    "DATASET_NAME",
    "RELABEL_KEY",
    "completed_calls",
    "dataset_lock",
    "save_dataset",
    "swap_in_dataset",
    "write_dataset",
]

DATASET_NAME = "dataset"
RELABEL_KEY = "relabel"
"""Key, in a per-call JSON's ``hearkit`` block, of the user's re-labels (``hearkit remap``): a list of
``{"merge": [...]}`` / ``{"roles": {...}}`` replayed on every rebuild, so a re-run keeps them."""
_log = logging.getLogger("hearkit.batch")


def write_dataset(manifest: Manifest) -> Path:
    """Analyse every completed call of the batch and save the CallSet to ``DIR/dataset``.

    The new dataset is written next to the old one and swapped in, so a crash while writing
    leaves the previous dataset (or none) and never a half-written one. The rebuild holds
    :func:`dataset_lock`, so a user's fix (:mod:`hearkit.batch.edits`) lands before or after it,
    never in between.
    """
    with dataset_lock(manifest.out_dir):
        return swap_in_dataset(manifest.out_dir, completed_calls(manifest))


@contextmanager
def dataset_lock(out_dir: Path) -> Iterator[None]:
    """Exclusive hold on the batch's dataset (an advisory ``flock`` on ``DIR/.dataset.lock``): one
    rebuild or user edit at a time, across processes (a batch running while a notebook fixes a
    role wrote the same staging folder). Not re-entrant. Without ``fcntl`` (Windows) it holds nothing."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    descriptor = os.open(out_dir / ".dataset.lock", os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)  # closing releases the lock


def save_dataset(out_dir: Path, callset: Any) -> Path:
    """Save ``callset`` as the batch's ``DIR/dataset`` under :func:`dataset_lock` (the only way
    hearkit writes a batch's dataset; ``CallSet.save`` refuses a batch folder)."""
    with dataset_lock(out_dir):
        return swap_in_dataset(out_dir, callset)


def swap_in_dataset(out_dir: Path, callset: Any) -> Path:
    """Write ``callset`` beside ``DIR/dataset``, then swap it in; the caller holds :func:`dataset_lock`."""
    target = out_dir / DATASET_NAME
    staging = out_dir / f".{DATASET_NAME}.new"
    old = out_dir / f".{DATASET_NAME}.old"
    for leftover in (staging, old):
        if leftover.exists():
            shutil.rmtree(leftover)
    callset.save(staging)
    with _swap_lock(out_dir):  # readers (CallSet.load) hold it shared: they see one whole dataset
        if target.exists():
            target.rename(old)
        staging.rename(target)
    if old.exists():
        shutil.rmtree(old)
    return target


@contextmanager
def _swap_lock(out_dir: Path) -> Iterator[None]:
    """The exclusive side of :func:`hearkit.locate.reading_dataset`, held only for the two renames."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    descriptor = os.open(out_dir / SWAP_LOCK, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX)
        yield
    finally:
        os.close(descriptor)


def completed_calls(manifest: Manifest) -> Any:
    """The :class:`~hearkit.record.CallSet` of the batch's completed calls (what
    :func:`write_dataset` saves; ``hearkit report`` reads it of a batch that has not finished)."""
    from hearkit.record import analyze_calls

    out_dir = manifest.out_dir
    sources: dict[str, Any] = {}
    metadata: dict[str, dict[str, Any]] = {}
    changes: dict[str, list[dict[str, Any]]] = {}
    vocabulary: dict[str, list[str] | None] = {}  # what each job was sent with (U5 finding 16)
    for row in manifest.rows("completed"):
        if row.result_path is None:
            continue
        document = json.loads((out_dir / row.result_path).read_text(encoding="utf-8"))
        kept = document.pop("hearkit", None) or {}
        if kept.get(RELABEL_KEY):
            changes[row.call_id] = list(kept[RELABEL_KEY])
        sources[row.call_id] = document
        vocabulary[row.call_id] = (row.request or {}).get("vocabulary")
        metadata[row.call_id] = {
            **_sidecar_now(row),
            **{k: str(v) for k, v in row.metadata.items() if k != SIDECAR_OF},
            "source": row.source,
            "diarization": row.mode or "",
            **_content_hash(row),
        }
    callset = analyze_calls(sources, metadata=metadata, summaries=False, vocabulary=vocabulary)
    callset = _replay_user_changes(callset, changes)
    summaries = summarize_batch(callset.turns, out_dir / "calls")
    for call_id, error in summaries.llm_failures.items():
        _log.warning(
            "LLM summary of %s failed (%s); it has the offline summary, the next run asks again",
            call_id,
            error,
        )
    if summaries.llm_not_asked:
        _log.warning(
            "the LLM endpoint failed for %d calls, the last ones in a row, so %d more were not asked"
            " this run and have the offline summary; fix the endpoint and run the batch again to ask",
            len(summaries.llm_failures),
            len(summaries.llm_not_asked),
        )
    callset.summaries = summaries.summaries
    return callset


def _sidecar_now(row: Any) -> dict[str, str]:
    """The sidecar of a recording as it is now (read at every rebuild, so an edit reaches the dataset):
    beside the file, or for a two-file call beside its legs (``X.meta.json``, kept as ``sidecar_of``
    in the manifest: the file sent is the combined one in ``legs/``)."""
    if row.kind != "file":
        return {}
    return read_sidecar(row.metadata.get(SIDECAR_OF) or row.source)


def _content_hash(row: Any) -> dict[str, str]:
    """``audio_sha256``: the recording's content hash at transcription, for a local one-file
    recording (its ``rec_id``), so clips are never cut from a file replaced under the same name
    (:func:`hearkit.clips.changed_recordings`). A two-file call's identity hashes both legs, not
    the combined file (named by that identity, so it cannot be replaced under its name)."""
    from hearkit.clips import SHA_COLUMN

    if row.kind != "file" or "rep_file" in row.metadata or "://" in row.source:
        return {}
    return {SHA_COLUMN: str(row.rec_id)}


def _replay_user_changes(callset: Any, changes: dict[str, list[dict[str, Any]]]) -> Any:
    """The user's stored re-labels applied to the fresh analysis (a change that no longer fits is
    dropped with a warning naming the call)."""
    from hearkit.relabel import apply_changes

    for call_id, steps in changes.items():
        try:
            callset = apply_changes(callset, call_id, steps)
        except (KeyError, ValueError) as exc:
            _log.warning("stored re-label of %s no longer applies (%s); it is left out", call_id, exc)
    return callset
