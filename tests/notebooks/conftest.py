"""Fixtures of the notebook tests: each notebook executed once (nbclient), exported (nbconvert), and
a headless Chromium to open the exports."""

from __future__ import annotations

import asyncio
import os
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbconvert import HTMLExporter

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
NOTEBOOK_NAMES = sorted(p.stem for p in NOTEBOOKS.glob("[0-9][0-9]_*.py"))


@dataclass
class Executed:
    """A notebook after headless execution: the notebook, its HTML export, and the folder it ran in."""

    name: str
    notebook: nbformat.NotebookNode
    html_path: Path
    workdir: Path

    @property
    def html(self) -> str:
        return self.html_path.read_text(encoding="utf-8")


def kernel_env(data_dir: Path) -> dict[str, str]:
    """The kernel's environment: the embedded engine (no hosted key) with its data in a temp folder."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}}
    env["HEARKIT_DATA_DIR"] = str(data_dir)
    # The kernel is this interpreter (the project venv), whatever kernels the user has registered.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    return env


async def execute(name: str, root: Path) -> Executed:
    """Run ``notebooks/<name>.ipynb`` in ``root/<name>/notebooks`` (next to a link to ``sample_data``),
    then export it to HTML with nbconvert's default (lab) template."""
    workdir = root / name / "notebooks"
    workdir.mkdir(parents=True)
    (root / name / "sample_data").symlink_to(REPO / "sample_data", target_is_directory=True)
    source = NOTEBOOKS / f"{name}.ipynb"
    shutil.copy(source, workdir / source.name)
    notebook = nbformat.read(source, as_version=4)
    client = NotebookClient(
        notebook,
        timeout=240,
        kernel_name="python3",
        resources={"metadata": {"path": str(workdir)}},
    )
    await client.async_execute(env=kernel_env(root / name / "engine"))
    body, _ = HTMLExporter(template_name="lab").from_notebook_node(notebook)
    html_path = workdir / f"{name}.html"
    html_path.write_text(body, encoding="utf-8")
    return Executed(name=name, notebook=notebook, html_path=html_path, workdir=workdir)


@pytest.fixture(scope="session")
def executed(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Executed]:
    """Every notebook, executed concurrently (each kernel mostly waits: imports, the engine, I/O)."""
    root = tmp_path_factory.mktemp("notebooks-run")

    async def run_all() -> list[Executed]:
        return list(await asyncio.gather(*(execute(name, root) for name in NOTEBOOK_NAMES)))

    return {run.name: run for run in asyncio.run(run_all())}
