"""Where saved calls are: one rule for ``CallSet.load``, ``hearkit report`` and ``hearkit dashboard``.

Three folders hold a set of analysed calls, and each of them is accepted wherever saved calls are
read:

- the output folder of ``hearkit batch --out OUT`` (it holds ``manifest.sqlite`` and the dataset
  in ``OUT/dataset/``);
- that ``dataset/`` folder itself;
- any folder written by :meth:`hearkit.record.CallSet.save` (``calls.parquet``, ``turns.parquet``,
  ``words.parquet``, ``hits.parquet``, ``speakers.parquet`` and ``callset.json``).

Anything else raises :class:`FileNotFoundError` with one line that names the folder, what was
found there and the three things that were expected.

A batch output folder is always read through its ``dataset/``, the one the batch rebuilds at every
run. Calls saved with ``CallSet.save()`` at the top of a batch folder (which ``save()`` now refuses,
but an older hearkit wrote) are never read in its place: a :class:`SavedCallsWarning` says which one
was read, why, and how to read the other. A dataset/ that lacks calls the manifest has completed
since it was written (a run stopped before rebuilding it, or is still running) is read with a
warning naming them.
"""

from __future__ import annotations

import os
import shlex
import sqlite3
import warnings
from collections.abc import Iterator
from contextlib import closing, contextmanager
from datetime import UTC, datetime
from pathlib import Path

__all__ = [
    "AUDIO_EXTENSIONS",
    "BATCH_DATASET",
    "BATCH_MANIFEST",
    "CALLSET_FILES",
    "SWAP_LOCK",
    "SavedCallsWarning",
    "batch_output_of",
    "callset_folder",
    "is_batch_output",
    "reading_dataset",
]

CALLSET_FILES = (
    "calls.parquet",
    "turns.parquet",
    "words.parquet",
    "hits.parquet",
    "speakers.parquet",
    "callset.json",
)
"""The files :meth:`hearkit.record.CallSet.save` writes."""

AUDIO_EXTENSIONS = (".wav", ".flac", ".mp3", ".m4a", ".ogg", ".opus", ".aac", ".wma", ".webm", ".mp4", ".amr")
"""What a folder of recordings is expected to hold (``hearkit batch`` reports other files as skipped;
:meth:`hearkit.record.CallSet.save` refuses a folder holding them)."""

BATCH_DATASET = "dataset"
"""The sub-folder of a batch output folder that holds its saved CallSet."""

BATCH_MANIFEST = "manifest.sqlite"
"""The file that marks a folder as a ``hearkit batch`` output folder."""

EXPECTED = (
    "a `hearkit batch --out` folder (with dataset/ inside), its dataset/ folder, "
    "or a folder written by CallSet.save() (calls.parquet, turns.parquet, … and callset.json)"
)


class SavedCallsWarning(UserWarning):
    """What was read from a folder of saved calls is not all it holds: a ``CallSet.save()`` copy
    beside a batch's dataset/ (not read), or a dataset/ that lacks calls the batch completed since."""


def is_batch_output(folder: str | Path) -> bool:
    """Whether ``folder`` is the output folder of a ``hearkit batch`` run (it has the manifest)."""
    return (Path(folder) / BATCH_MANIFEST).is_file()


def batch_output_of(folder: str | Path) -> Path | None:
    """The ``hearkit batch`` output folder that ``folder`` is, or whose ``dataset/`` it is; else ``None``."""
    path = Path(folder).expanduser()
    if is_batch_output(path):
        return path
    real = path.resolve()
    if real.name == BATCH_DATASET and is_batch_output(real.parent):
        return path.parent if path.name == BATCH_DATASET else real.parent
    return None


SWAP_LOCK = ".dataset.swap.lock"
"""File, in a batch output folder, locked exclusively while its ``dataset/`` is swapped for a
rebuilt one, and shared by every reader of that dataset (:func:`reading_dataset`)."""


@contextmanager
def reading_dataset(folder: str | Path) -> Iterator[None]:
    """Hold a batch's dataset still while it is read: a shared ``flock`` on the batch folder's
    :data:`SWAP_LOCK`, which a rebuild takes exclusively only to swap the new dataset in (a few
    milliseconds). Without it a reader met the moment between removing the old dataset and renaming
    the new one ("without a complete dataset/ yet", or one Parquet file of each generation: U3
    finding 8b). Holds nothing for a folder that is not a batch's or on a system without ``fcntl``."""
    batch = batch_output_of(folder)
    lock = batch / SWAP_LOCK if batch is not None else None
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        fcntl = None  # type: ignore[assignment]
    if lock is None or fcntl is None or not lock.is_file():
        yield
        return
    try:
        descriptor = os.open(lock, os.O_RDONLY)
    except OSError:  # unreadable lock file: read as before
        yield
        return
    try:
        fcntl.flock(descriptor, fcntl.LOCK_SH)
        yield
    finally:
        os.close(descriptor)


def callset_folder(folder: str | Path) -> Path:
    """The folder that holds the saved CallSet of ``folder`` (``folder`` itself or its ``dataset/``).

    Raises :class:`FileNotFoundError` with a one-line message when ``folder`` holds no saved calls.
    """
    path = Path(folder).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; expected {EXPECTED}")
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is a file, not a folder; expected {EXPECTED}")
    dataset = path / BATCH_DATASET
    if is_batch_output(path):
        stray = [name for name in CALLSET_FILES if (path / name).is_file()]
        if dataset.is_dir() and _missing(dataset) == []:
            if stray:
                warnings.warn(_stray_note(path, stray), SavedCallsWarning, stacklevel=3)
            _warn_if_behind(path)
            return dataset
        also = f"; {_stray_files(path, stray)}" if stray else ""
        raise FileNotFoundError(
            f"{path} is a `hearkit batch` output folder without a complete dataset/ yet (no call completed, "
            f"or the run stopped before writing it): run `hearkit batch --out {path}` again to finish it"
            + also
        )
    if _missing(path) == []:
        batch = batch_output_of(path)
        if batch is not None:  # a batch's dataset/ named directly
            _warn_if_behind(batch)
        return path
    if dataset.is_dir() and _missing(dataset) == []:
        return dataset
    present = [name for name in CALLSET_FILES if (path / name).is_file()]
    if present:
        raise FileNotFoundError(
            f"{path} is an incomplete saved CallSet (missing {', '.join(_missing(path))}); "
            f"save it again with CallSet.save(folder); expected {EXPECTED}"
        )
    raise FileNotFoundError(f"{path} holds no saved calls; expected {EXPECTED}")


def _missing(folder: Path) -> list[str]:
    return [name for name in CALLSET_FILES if not (folder / name).is_file()]


def _stray_files(batch: Path, stray: list[str]) -> str:
    """What the ``CallSet.save()`` files at the top of a batch folder are, and how to read them."""
    keep = shlex.quote(str(batch.with_name(batch.name + "-saved")))
    here = shlex.quote(str(batch))
    moved = " ".join(
        sorted({f"{here}/*.parquet" if name.endswith(".parquet") else f"{here}/{name}" for name in stray})
    )
    return (
        f"it also holds calls saved there with CallSet.save() ({_describe(batch)}), which the batch never "
        f"reads nor updates; to read them, move them to a folder of their own: "
        f"mkdir {keep} && mv {moved} {keep}/"
    )


def _stray_note(batch: Path, stray: list[str]) -> str:
    return (
        f"read the batch's dataset/ of {batch} ({_describe(batch / BATCH_DATASET)}), the calls every "
        f"`hearkit batch` run rebuilds; {_stray_files(batch, stray)}. To keep a role fix in the batch, "
        f"use `hearkit remap {shlex.quote(str(batch))} --call ID --rep SPEAKER` or "
        "hearkit.batch.with_roles(folder, {call_id: {speaker: role}})"
    )


def _describe(folder: Path) -> str:
    """``N calls, written <UTC time>`` of a saved CallSet (what can be read cheaply)."""
    parts = []
    try:
        import pyarrow.parquet as pq

        rows = pq.read_metadata(folder / "calls.parquet").num_rows
        parts.append(f"{rows} call{'' if rows == 1 else 's'}")
    except (OSError, ValueError):
        pass
    meta = folder / "callset.json"
    if meta.is_file():
        written = datetime.fromtimestamp(meta.stat().st_mtime, tz=UTC)
        parts.append(f"written {written:%Y-%m-%d %H:%M} UTC")
    return ", ".join(parts) or "unreadable"


def _warn_if_behind(batch: Path) -> None:
    """Warn when the manifest has completed calls that the batch's dataset/ does not hold."""
    missing = _completed_not_in_dataset(batch)
    if not missing:
        return
    shown = ", ".join(missing[:5]) + (f" and {len(missing) - 5} more" if len(missing) > 5 else "")
    warnings.warn(
        f"the dataset/ of {batch} ({_describe(batch / BATCH_DATASET)}) lacks {len(missing)} call(s) the "
        f"batch completed since it was written ({shown}); read as it is. A run still going rebuilds it when "
        f"it ends; if none is, the last one stopped before that: run `hearkit batch --out "
        f"{shlex.quote(str(batch))}` to rebuild it",
        SavedCallsWarning,
        stacklevel=4,
    )


def _completed_not_in_dataset(batch: Path) -> list[str]:
    """Call ids the manifest says completed and the dataset's calls.parquet lacks (read-only; an
    unreadable manifest or dataset gives ``[]``: this check only ever adds a warning)."""
    try:
        import pyarrow.parquet as pq

        table = pq.read_table(batch / BATCH_DATASET / "calls.parquet", columns=["call_id"])
        held = {str(c) for c in table.column("call_id").to_pylist()}
        uri = f"{(batch / BATCH_MANIFEST).resolve().as_uri()}?mode=ro"
        with closing(sqlite3.connect(uri, uri=True, timeout=5.0)) as db:
            rows = db.execute(
                "SELECT call_id FROM recordings WHERE status = 'completed' ORDER BY seq"
            ).fetchall()
    except (OSError, ValueError, KeyError, sqlite3.Error):
        return []
    return [str(r[0]) for r in rows if str(r[0]) not in held]
