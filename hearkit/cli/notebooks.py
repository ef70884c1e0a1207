"""``hearkit notebooks [DIR]``: copy the example notebooks shipped with hearkit into a folder of one's own."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hearkit`` app."""
    app.command("notebooks")(notebooks)


def notebooks(
    folder: Annotated[Path, typer.Argument(help="Where to copy the notebooks (created if missing).")] = Path(
        "hearkit-notebooks"
    ),
    force: Annotated[bool, typer.Option("--force", help="Overwrite notebooks already there.")] = False,
) -> None:
    """Copy the example notebooks (.ipynb with their jupytext .py pairs) into FOLDER."""
    from hearkit.resources import copy_notebooks

    try:
        copied = copy_notebooks(folder, overwrite=force)
    except FileExistsError as exc:
        raise typer.BadParameter(str(exc), param_hint="FOLDER") from None
    except OSError as exc:
        typer.echo(f"error: could not copy the notebooks into {folder}: {exc}", err=True)
        raise typer.Exit(code=1) from None
    names = ", ".join(p.name for p in copied if p.suffix == ".ipynb")
    typer.echo(f"copied {names} into {folder.resolve()}")
    typer.echo(f"open them with: jupyter lab {folder} (needs pip install 'hearkit[notebook]')")
