"""The committed notebooks: generated from their jupytext percent scripts, outputs stripped."""

from __future__ import annotations

import jupytext
import nbformat
import pytest

from tests.notebooks.conftest import NOTEBOOK_NAMES, NOTEBOOKS


def test_the_four_notebooks_are_there() -> None:
    assert [n[:2] for n in NOTEBOOK_NAMES] == ["01", "02", "03", "04"]


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_ipynb_has_no_outputs(name: str) -> None:
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    nbformat.validate(notebook)
    for cell in notebook.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name}: a cell has outputs; regenerate the .ipynb from the .py"
            assert cell.execution_count is None
    assert notebook.metadata.kernelspec.name == "python3"


@pytest.mark.parametrize("name", NOTEBOOK_NAMES)
def test_ipynb_matches_its_percent_script(name: str) -> None:
    script = jupytext.read(NOTEBOOKS / f"{name}.py")
    notebook = nbformat.read(NOTEBOOKS / f"{name}.ipynb", as_version=4)
    expected = [(c.cell_type, c.source) for c in script.cells]
    actual = [(c.cell_type, c.source) for c in notebook.cells]
    assert actual == expected, (
        f"notebooks/{name}.ipynb is out of date: run `uv run jupytext --to ipynb notebooks/{name}.py`"
    )
