"""``hearkit jobs list|get|wait|result``: thin commands over :class:`hearkit.client.PyAI`.

The key and root URL come from ``PYAI_API_KEY`` / ``PYAI_BASE_URL`` (or ``--api-key`` /
``--base-url``); with neither, the embedded local engine answers.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

if TYPE_CHECKING:
    from hearkit.client import PyAI
    from hearkit.schema import Job

__all__ = ["register"]


def warn_key_on_command_line(ctx: typer.Context, param: typer.CallbackParam, value: str | None) -> str | None:
    """Option callback: a key given as ``--api-key`` (not from ``PYAI_API_KEY``) is visible to every user
    of the machine in ``ps`` and stays in the shell's history, so the command says so (U8 note 13)."""
    source = ctx.get_parameter_source(param.name) if param.name else None
    if value and source is not None and source.name == "COMMANDLINE":
        typer.echo(
            "warning: a key given with --api-key is visible to every user of this machine in `ps` and"
            " stays in your shell history; set PYAI_API_KEY instead",
            err=True,
        )
    return value


ApiKey = Annotated[
    str | None,
    typer.Option(
        "--api-key",
        envvar="PYAI_API_KEY",
        callback=warn_key_on_command_line,
        help="PyAI API key (better: the PYAI_API_KEY environment variable; a key here shows in `ps`).",
    ),
]
BaseUrl = Annotated[
    str | None,
    typer.Option("--base-url", envvar="PYAI_BASE_URL", help="API root, e.g. https://api.pyai.com."),
]


def register(app: typer.Typer) -> None:
    """Add ``hearkit jobs ...`` to the ``hearkit`` app."""
    jobs = typer.Typer(
        help="Transcription jobs: list, inspect, wait for and fetch results.", no_args_is_help=True
    )
    app.add_typer(jobs, name="jobs")

    @jobs.command("list")
    def list_jobs(
        limit: Annotated[int, typer.Option(min=1, max=100, help="Jobs per page.")] = 20,
        all_pages: Annotated[
            bool, typer.Option("--all", help="Follow next_cursor through every page.")
        ] = False,
        as_json: Annotated[bool, typer.Option("--json", help="One JSON object per line.")] = False,
        api_key: ApiKey = None,
        base_url: BaseUrl = None,
    ) -> None:
        """List jobs, newest first (one page of --limit; --all for every page)."""
        with _client(api_key, base_url) as client:
            more = False
            if all_pages:
                found: Iterator[Job] = client.jobs.iter(limit=limit)
            else:
                page = client.jobs.list(limit=limit)
                found, more = iter(page.data), page.has_more
            for job in found:
                if as_json:
                    typer.echo(json.dumps(_summary(job)))
                else:
                    typer.echo(f"{job.job_id}  {job.status:<9}  {_when(job.created_at)}")
            if more:
                # a new-user check: 20 jobs printed of 80+, with nothing saying the list went on
                typer.echo(
                    f"more jobs than these {limit}: --all lists every one (--limit up to 100 a page)",
                    err=True,
                )

    @jobs.command("get")
    def get_job(job_id: str, api_key: ApiKey = None, base_url: BaseUrl = None) -> None:
        """Print one job as JSON."""
        with _client(api_key, base_url) as client:
            typer.echo(json.dumps(client.jobs.get(job_id).to_api(), indent=2))

    @jobs.command("wait")
    def wait_job(
        job_id: str,
        timeout: Annotated[float, typer.Option(help="Seconds to wait before giving up.")] = 600,
        api_key: ApiKey = None,
        base_url: BaseUrl = None,
    ) -> None:
        """Poll a job until it completes; exit code 1 if it fails or the wait times out."""
        with _client(api_key, base_url, run_jobs=True) as client:
            job = client.jobs.wait(
                job_id, timeout=timeout, on_progress=lambda j: typer.echo(f"{j.job_id}: {j.status}", err=True)
            )
            typer.echo(job.status)

    @jobs.command("result")
    def job_result(
        job_id: str,
        fmt: Annotated[str, typer.Option("--format", help="json, srt or vtt.")] = "json",
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")
        ] = None,
        api_key: ApiKey = None,
        base_url: BaseUrl = None,
    ) -> None:
        """Print (or save) a completed job's transcript as JSON, SRT or WebVTT."""
        if fmt not in ("json", "srt", "vtt"):
            raise typer.BadParameter("use json, srt or vtt", param_hint="--format")
        with _client(api_key, base_url) as client:
            if fmt == "json":
                text = json.dumps(client.jobs.result(job_id).to_api(), indent=2)
            else:
                text = client.jobs.download_format(job_id, fmt)
        if output is None:
            typer.echo(text)
        else:
            output.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
            typer.echo(f"wrote {output}", err=True)


@contextmanager
def _client(api_key: str | None, base_url: str | None, *, run_jobs: bool = False) -> Iterator[PyAI]:
    """A client whose errors end the command with their message and exit code 1.

    Without ``run_jobs``, a command that would use the embedded engine gets one of its own that only
    serves the API: looking at jobs must not start running (then hand back) work that another
    hearkit process queued on the same data dir.
    """
    from hearkit._client._core import configured
    from hearkit.client import PyAI
    from hearkit.errors import HearkitError

    try:
        with contextlib.ExitStack() as stack:
            if not run_jobs and configured(api_key, base_url) == (None, None):
                from hearkit.engine import LocalEngine

                engine = stack.enter_context(LocalEngine(run_jobs=False))
                api_key, base_url = engine.api_key, engine.base_url
            yield stack.enter_context(PyAI(api_key, base_url))
    except (HearkitError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None


def _summary(job: Job) -> dict[str, Any]:
    return {"job_id": job.job_id, "status": job.status, "created_at": job.created_at, "error": job.error}


def _when(millis: int | None) -> str:
    if millis is None:
        return "-"
    return datetime.fromtimestamp(millis / 1000, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
