"""``hearkit batch`` (archive processing) and ``hearkit webhooks listen`` (its webhook receiver)."""

from __future__ import annotations

import signal
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from hearkit.cli.jobs import warn_key_on_command_line
from hearkit.cli.options import SPEAKERS_HELP, SPEAKERS_MAX, SPEAKERS_MIN, VOCABULARY_HELP, vocabulary_terms

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["register"]


def _console() -> Console:
    """Standard output as rich prints it (made when a command prints: rich is not imported at start)."""
    from rich.console import Console

    return Console(stderr=False)


def register(app: typer.Typer) -> None:
    """Add ``batch`` and the ``webhooks`` group (``listen``) to the ``hearkit`` app."""
    # Extra arguments are taken so that a glob the shell expanded gets a hint, not typer's bare
    # "Got unexpected extra argument(s)" (U3 finding 27).
    app.command("batch", context_settings={"allow_extra_args": True})(batch)
    webhooks = typer.Typer(help="Receive PyAI webhook callbacks.", no_args_is_help=True)
    webhooks.command("listen")(listen)
    app.add_typer(webhooks, name="webhooks")


def batch(
    ctx: typer.Context,
    source: Annotated[
        str | None,
        typer.Argument(help="Folder, glob pattern ('calls/**/*.wav') or CSV (path or audio_url column)."),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", "-o", help="Output folder (manifest, JSON, Parquet).")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="Jobs in flight at once.")] = 8,
    stereo: Annotated[bool, typer.Option("--stereo", help="Every file is stereo: channel=true.")] = False,
    mono: Annotated[bool, typer.Option("--mono", help="Every file is mono: diarize=true.")] = False,
    auto: Annotated[bool, typer.Option("--auto", help="Inspect each file (the default).")] = False,
    speakers: Annotated[
        int | None,
        typer.Option(
            "--speakers",
            min=SPEAKERS_MIN,
            max=SPEAKERS_MAX,
            help=SPEAKERS_HELP + " A resumed batch keeps its own unless given.",
            show_default=False,
        ),
    ] = None,
    webhook_url: Annotated[
        str | None, typer.Option(help="URL of `hearkit webhooks listen` (events wake the waiters).")
    ] = None,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Estimate duration and cost; send nothing.")
    ] = False,
    retry_failed: Annotated[
        bool, typer.Option("--retry-failed", help="Send failed recordings again.")
    ] = False,
    reconcile: Annotated[
        Path | None, typer.Option(help="Compare billed x-pyai-units with result.audio_seconds in DIR.")
    ] = None,
    model: Annotated[str | None, typer.Option(help="Model id sent with each job.")] = None,
    numerals: Annotated[bool, typer.Option("--numerals", help="Spoken numbers as digits.")] = False,
    vocabulary: Annotated[str | None, typer.Option(help=VOCABULARY_HELP, show_default=False)] = None,
    formats: Annotated[
        str | None,
        typer.Option(
            help="Extra output formats: srt, vtt or both ('srt,vtt'), saved as calls/<id>.srt/.vtt."
        ),
    ] = None,
    dask: Annotated[
        str | None, typer.Option(help="Transcribe on a Dask cluster: scheduler address, or 'local'.")
    ] = None,
    transcriber: Annotated[
        str | None, typer.Option(help="Local transcriber for --dask: 'whisper' (default) or 'fake'.")
    ] = None,
    api_key: Annotated[
        str | None,
        typer.Option(
            envvar="PYAI_API_KEY",
            callback=warn_key_on_command_line,
            help="API key (else local engine; better: PYAI_API_KEY, since a key here shows in `ps`).",
        ),
    ] = None,
    base_url: Annotated[str | None, typer.Option(envvar="PYAI_BASE_URL", help="API base URL.")] = None,
    progress: Annotated[bool, typer.Option(help="Show the progress bar.")] = True,
    dataset: Annotated[bool, typer.Option(help="Write the Parquet dataset at the end.")] = True,
) -> None:
    """Transcribe and analyze a folder, glob or CSV of recordings; resumable, never billed twice."""
    if ctx.args:
        given = [source or "", *ctx.args]
        shown = " ".join(given[:3]) + (f" … ({len(given)} in all)" if len(given) > 3 else "")
        raise typer.BadParameter(
            f"one source, not {len(given)} ({shown}): the shell expanded a glob into its files; quote it "
            "(hearkit batch 'calls/*.wav' --out DIR) or give the folder",
            param_hint="SOURCE",
        )
    if reconcile is not None:
        _reconcile(reconcile)
        return
    if out is None:
        raise typer.BadParameter("give the output folder with --out DIR", param_hint="--out")
    if stereo + mono + auto > 1:
        raise typer.BadParameter("choose one of --stereo, --mono, --auto")
    from hearkit.batch import run

    mode = "stereo" if stereo else "mono" if mono else "auto"
    try:
        report = run(
            source,
            out,
            concurrency=concurrency,
            mode=mode,
            model=model,
            numerals=True if numerals else None,
            vocabulary=vocabulary_terms(vocabulary),
            output_formats=[f.strip() for f in formats.split(",") if f.strip()] if formats else None,
            speakers_expected=speakers,
            webhook_url=webhook_url,
            dry_run=dry_run,
            retry_failed=retry_failed,
            api_key=api_key,
            base_url=base_url,
            dask=dask,
            transcriber=transcriber,
            progress=(True if sys.stdout.isatty() else "lines") if progress else False,
            write_dataset=dataset,
        )
    except (ValueError, FileNotFoundError) as exc:
        _console().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    except KeyboardInterrupt:
        # A second Ctrl-C while the engine hands its jobs back ends the process at once, quietly.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        _console().print(interrupted_line(out))
        raise typer.Exit(130) from None
    from hearkit.batch import print_report

    print_report(report, _console())
    if report.stop_reason:
        raise typer.Exit(3)
    if report.failed or (not report.dry_run and not report.complete):
        raise typer.Exit(1)
    if (
        report.skipped
        and not report.dry_run
        and not any(n for s, n in report.counts.items() if s != "skipped")
    ):
        _console().print("[red]error:[/red] nothing was transcribed: every recording was skipped (see above)")
        raise typer.Exit(1)


def interrupted_line(out_dir: Path) -> str:
    """The one line printed after Ctrl-C: what is done, what is still in flight, how to resume."""
    from hearkit.batch.api import interrupted_line as line

    return line(out_dir)


def _reconcile(out_dir: Path) -> None:
    from hearkit.batch import reconcile

    try:
        result = reconcile(out_dir)
    except FileNotFoundError as exc:
        _console().print(f"[red]error:[/red] {exc}")
        raise typer.Exit(2) from exc
    from rich.table import Table

    table = Table(title=f"billed vs transcribed audio ({len(result.jobs)} completed jobs)")
    for column in ("call_id", "job_id", "billed s", "result s", "difference s"):
        table.add_column(column)
    for job in result.mismatches:
        table.add_row(
            job.call_id,
            job.job_id or "",
            "missing" if job.billed_seconds is None else f"{job.billed_seconds:.3f}",
            "missing" if job.audio_seconds is None else f"{job.audio_seconds:.3f}",
            "" if job.difference is None else f"{job.difference:+.3f}",
        )
    if result.mismatches:
        _console().print(table)
    _console().print(
        f"billed {result.billed_seconds:.3f} s, transcribed {result.audio_seconds:.3f} s, "
        f"difference {result.billed_seconds - result.audio_seconds:+.3f} s; "
        f"{len(result.mismatches)} mismatch(es)"
    )
    if result.mismatches:
        raise typer.Exit(1)


def listen(
    out: Annotated[
        Path, typer.Option("--out", "-o", help="The batch output folder whose manifest gets events.")
    ],
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    # Not 8787, hearkit serve's port: the two run side by side.
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8788,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            "--secret-file",
            help="File holding the signing secret (one per line during rotation). Default: the"
            " PYAI_WEBHOOK_SECRET environment variable (several separated by commas).",
        ),
    ] = None,
    secret: Annotated[
        list[str] | None,
        typer.Option(help="Deprecated: a secret on the command line is visible to every user in `ps`."),
    ] = None,
) -> None:
    """Receive signed completion callbacks for a batch (POST /webhooks/pyai) and record them."""
    import os

    from hearkit.batch.webhook_listener import webhook_app
    from hearkit.cli.bound import bind_port, serve_on

    if secret:
        typer.echo(
            "warning: --secret is deprecated and will be removed: the secret shows in `ps`;"
            " use PYAI_WEBHOOK_SECRET or --secret-file",
            err=True,
        )
        secrets = list(secret)
    elif secret_file is not None:
        try:
            secrets = [line.strip() for line in secret_file.read_text().splitlines() if line.strip()]
        except OSError as exc:
            raise typer.BadParameter(f"cannot read {secret_file}: {exc.strerror}") from None
    else:
        secrets = [
            part.strip() for part in os.environ.get("PYAI_WEBHOOK_SECRET", "").split(",") if part.strip()
        ]
    if not secrets:
        raise typer.BadParameter(
            "give the webhook signing secret in PYAI_WEBHOOK_SECRET or a file named by --secret-file"
        )
    if out.exists() and not out.is_dir():
        raise typer.BadParameter(
            f"{out} is a file: --out names the batch output folder (hearkit batch --out)"
        )
    try:
        app = webhook_app(out, secrets)
    except OSError as exc:
        raise typer.BadParameter(f"cannot use {out} as the batch output folder: {exc.strerror}") from None
    sock = bind_port(host, port)
    _console().print(f"listening on http://{host}:{sock.getsockname()[1]}/webhooks/pyai for {out}")
    serve_on(sock, app, log_level="warning")
