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
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["BATCH_DATASET", "BATCH_MANIFEST", "CALLSET_FILES", "callset_folder", "is_batch_output"]

CALLSET_FILES = (
    "calls.parquet",
    "turns.parquet",
    "words.parquet",
    "hits.parquet",
    "speakers.parquet",
    "callset.json",
)
"""The files :meth:`hearkit.record.CallSet.save` writes."""

BATCH_DATASET = "dataset"
"""The sub-folder of a batch output folder that holds its saved CallSet."""

BATCH_MANIFEST = "manifest.sqlite"
"""The file that marks a folder as a ``hearkit batch`` output folder."""

EXPECTED = (
    "a `hearkit batch --out` folder (with dataset/ inside), its dataset/ folder, "
    "or a folder written by CallSet.save() (calls.parquet, turns.parquet, … and callset.json)"
)


def is_batch_output(folder: str | Path) -> bool:
    """Whether ``folder`` is the output folder of a ``hearkit batch`` run (it has the manifest)."""
    return (Path(folder) / BATCH_MANIFEST).is_file()


def callset_folder(folder: str | Path) -> Path:
    """The folder that holds the saved CallSet of ``folder`` (``folder`` itself or its ``dataset/``).

    Raises :class:`FileNotFoundError` with a one-line message when ``folder`` holds no saved calls.
    """
    path = Path(folder).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{path} does not exist; expected {EXPECTED}")
    if not path.is_dir():
        raise FileNotFoundError(f"{path} is a file, not a folder; expected {EXPECTED}")
    if _missing(path) == []:
        return path
    dataset = path / BATCH_DATASET
    if dataset.is_dir() and _missing(dataset) == []:
        return dataset
    if is_batch_output(path):
        raise FileNotFoundError(
            f"{path} is a `hearkit batch` output folder without a complete dataset/ yet (no call completed, "
            f"or the run stopped before writing it): run `hearkit batch --out {path}` again to finish it"
        )
    present = [name for name in CALLSET_FILES if (path / name).is_file()]
    if present:
        raise FileNotFoundError(
            f"{path} is an incomplete saved CallSet (missing {', '.join(_missing(path))}); "
            f"save it again with CallSet.save(folder); expected {EXPECTED}"
        )
    raise FileNotFoundError(f"{path} holds no saved calls; expected {EXPECTED}")


def _missing(folder: Path) -> list[str]:
    return [name for name in CALLSET_FILES if not (folder / name).is_file()]
