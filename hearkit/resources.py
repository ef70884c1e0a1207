"""Where the sample calls and the notebooks are: in the installed package, or in a source checkout.

The wheel carries ``sample_data/`` and ``notebooks/`` inside the package (``hearkit/sample_data``,
``hearkit/notebooks``: pyproject.toml's hatch ``force-include``); a checkout keeps them at its root. One
resolver for both, so ``CallSet.load_sample()``, ``hearkit demo``, ``hearkit dashboard`` and
``hearkit notebooks`` work from any folder.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

__all__ = ["copy_notebooks", "notebooks_dir", "sample_dir"]

PACKAGE = Path(__file__).resolve().parent
CHECKOUT = PACKAGE.parent


def _find(name: str, marker: str) -> Path:
    for folder in (PACKAGE / name, CHECKOUT / name):
        if (folder / marker).is_file():
            return folder
    raise FileNotFoundError(
        f"hearkit's {name}/ is in neither {PACKAGE / name} (installed package) nor {CHECKOUT / name} "
        "(source checkout): reinstall hearkit"
    )


def sample_dir() -> Path:
    """The sample calls' folder: ``HEARKIT_SAMPLE_DIR`` if set, else the package's or the checkout's."""
    env = os.environ.get("HEARKIT_SAMPLE_DIR")
    return Path(env) if env else _find("sample_data", "index.json")


def notebooks_dir() -> Path:
    """The folder of the example notebooks (jupytext ``.py`` scripts paired with ``.ipynb``)."""
    return _find("notebooks", "03_dashboard.ipynb")


def copy_notebooks(target: Path, *, overwrite: bool = False) -> list[Path]:
    """Copy the notebooks (``.ipynb`` and their ``.py`` pairs) into ``target``; returns the new files.

    Raises ``FileExistsError`` naming the files that exist unless ``overwrite``.
    """
    sources = sorted(p for p in notebooks_dir().iterdir() if p.suffix in {".ipynb", ".py"})
    targets = [target / p.name for p in sources]
    existing = [t.name for t in targets if t.exists()]
    if existing and not overwrite:
        raise FileExistsError(
            f"{target} already holds {len(existing)} of the notebook files ({', '.join(existing[:2])}, ...): "
            "pass --force to overwrite them"
        )
    target.mkdir(parents=True, exist_ok=True)
    for source, copy in zip(sources, targets, strict=True):
        shutil.copyfile(source, copy)
    return targets
