"""The page ``hearkit dashboard`` serves: a one-cell notebook that shows the dashboard of your calls.

``hearkit dashboard OUT`` serves the calls of a ``hearkit batch --out OUT`` folder (or its
``dataset/``, or any ``CallSet.save()`` folder; :func:`hearkit.locate.callset_folder`);
``hearkit dashboard`` alone serves the sample calls. The page is made for readers, not notebook
users: :func:`write_app_notebook` writes a notebook with a title and one code cell
(``dashboard(CallSet.load(<folder>))``) into a private temporary folder, and Voilà renders it
with its default ``strip_sources``, so readers see the title and the widgets, never code; Voilà
is started with ``show_tracebacks`` off, so an error shows Voilà's short message, not code.
The tutorial notebook ``notebooks/03_dashboard.ipynb`` stays a notebook to read and run
(``hearkit dashboard --notebook notebooks/03_dashboard.ipynb`` still serves it).
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hearkit.locate import callset_folder

__all__ = ["APP_NOTEBOOK", "app_source", "write_app_notebook"]

APP_NOTEBOOK = "hearkit-dashboard.ipynb"


def app_source(folder: Path | None) -> str:
    """The code cell of the served notebook: load the calls (``None``: the samples) and show them."""
    load = "CallSet.load_sample()" if folder is None else f"CallSet.load({str(folder)!r})"
    return "\n".join(
        [
            "import plotly.io as pio",
            "from IPython.display import display",
            "",
            "from hearkit.dashboard import dashboard",
            "from hearkit.record import CallSet",
            "",
            'pio.renderers.default = "plotly_mimetype+notebook"',
            f"display(dashboard({load}))",
        ]
    )


def write_app_notebook(source: str | Path | None, *, directory: Path | None = None) -> Path:
    """Write the dashboard notebook of ``source`` (a calls folder, or ``None``/``"sample"`` for the
    sample calls) into ``directory`` (default: a new private temporary folder); returns its path.

    Raises :class:`FileNotFoundError` with one line when ``source`` holds no saved calls.
    """
    sample = source is None or str(source) == "sample"
    folder = None if sample else callset_folder(Path(str(source))).resolve()
    shown = None if folder is None else folder.parent if folder.name == "dataset" else folder
    title = "Sample calls" if shown is None else f"Calls of {shown}"
    notebook = {
        "nbformat": 4,
        "nbformat_minor": 5,
        "metadata": {"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
        "cells": [
            {
                "id": "title",
                "cell_type": "markdown",
                "metadata": {},
                "source": f"# hearkit dashboard\n\n{_markdown_text(title)}",
            },
            {
                "id": "dashboard",
                "cell_type": "code",
                "metadata": {},
                "execution_count": None,
                "outputs": [],
                "source": app_source(folder),
            },
        ],
    }
    target_dir = directory or Path(tempfile.mkdtemp(prefix="hearkit-dashboard-"))
    target = target_dir / APP_NOTEBOOK
    target.write_text(json.dumps(notebook, indent=1), encoding="utf-8")
    return target


def _markdown_text(text: str) -> str:
    """``text`` with Markdown and HTML specials escaped (a folder name is shown, never interpreted)."""
    special = "\\`*_{}[]()#+-.!<>&|"
    return "".join(f"\\{c}" if c in special else c for c in text)
