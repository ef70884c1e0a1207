"""Entry point of the ``hearkit`` command. Each sub-module registers its own commands."""

from __future__ import annotations

import signal
from types import FrameType

import typer

from hearkit._extras import MissingExtraError
from hearkit.cli import analysis, batch, jobs, notebooks, remap, report, serve

app = typer.Typer(
    name="hearkit",
    help="Conversation intelligence for recorded calls: transcribe, analyze, chart, report.",
    no_args_is_help=True,
    add_completion=False,
)


@app.callback()
def _root() -> None:
    """Conversation intelligence for recorded calls: transcribe, analyze, chart, report."""


@app.command()
def version() -> None:
    """Print hearkit's version."""
    from hearkit import __version__

    typer.echo(__version__)


for _module in (analysis, report, jobs, serve, batch, notebooks, remap):
    _module.register(app)


def _stop_like_ctrl_c(signum: int, frame: FrameType | None) -> None:
    # Through the SIGINT handler in force (asyncio's cancels the running task cleanly; raising
    # KeyboardInterrupt here could land inside the event loop's own callbacks).
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler) and handler is not _stop_like_ctrl_c:
        handler(signal.SIGINT, frame)
        return
    raise KeyboardInterrupt


def main() -> None:
    """The ``hearkit`` command: the app, with a missing optional extra told in one line (no traceback).

    SIGTERM (``timeout``, ``docker stop``, systemd, a CI cancel) stops a command as Ctrl-C does: one
    line, running jobs handed back or cancelled, exit code 130. By default it ended the process at
    once, leaving the engine's jobs "running" until their lease expired.
    """
    signal.signal(signal.SIGTERM, _stop_like_ctrl_c)
    try:
        app()
    except MissingExtraError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise SystemExit(2) from None


if __name__ == "__main__":  # pragma: no cover
    main()
