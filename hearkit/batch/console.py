"""The end-of-run summary of a batch, printed with rich (the CLI and notebooks use it)."""

from __future__ import annotations

import re
import shlex

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from hearkit.batch.api import BatchReport
from hearkit.batch.cost import cost_line

__all__ = ["print_report"]

_MAX_LISTED = 50


def print_report(report: BatchReport, console: Console | None = None) -> None:
    """Counts, audio and cost, skipped files with their reason, failed jobs and the retry command."""
    console = console or Console()
    for note in report.notes:
        console.print(escape(note))
    counts = report.counts
    est = report.estimate
    if report.dry_run:
        unknown = f" ({est.unknown_duration} of unknown duration)" if est.unknown_duration else ""
        console.print(
            f"dry run: {est.recordings} recording(s) to send{unknown}, {est.audio_hours:.3f} audio hours; "
            f"{cost_line(est.audio_seconds, charged=report.charged)}; nothing was sent"
        )
        _listed(console, "skipped", [(f.source, f.error) for f in report.skipped])
        _listed(console, "duplicates, not sent", [(f.source, f.error) for f in report.duplicates])
        return
    console.print(
        "recordings: "
        + ", ".join(f"{counts[s]} {s}" for s in ("completed", "failed", "skipped", "pending", "submitted"))
    )
    seconds = report.billed_seconds or report.audio_seconds
    console.print(
        f"audio {seconds / 3600:.3f} h; {cost_line(seconds, charged=report.charged)};"
        f" {report.wall_s:.1f} s wall"
    )
    _listed(console, "skipped", [(f.source, f.error) for f in report.skipped])
    _listed(console, "failed", [(f"{f.call_id} ({f.job_id or 'no job'})", f.error) for f in report.failed])
    _listed(console, "duplicates, not sent", [(f.source, f.error) for f in report.duplicates])
    conflicts = [f for f in report.failed if "idempotency_conflict" in f.error]
    refused = [f for f in report.failed if re.match(r"\[4\d\d\b", f.error) and f not in conflicts]
    if conflicts and len(conflicts) == len(report.failed):
        # The same recording and options were sent with another delivery by a batch unknown here.
        console.print(
            f"{len(conflicts)} sent in the last 24 h with the same options and another --webhook-url by a"
            f" batch this machine does not know: [bold]{report.retry_command}[/bold] sends them as new"
            " jobs (transcribed again, and billed again on the hosted API)"
        )
    elif refused and len(refused) == len(report.failed):
        # A 4xx refused the request itself: --retry-failed with the same options fails again (U3 finding 3).
        console.print(
            f"{len(refused)} refused by the server for the options sent: run the batch again with the"
            " options fixed and --retry-failed (a folder where nothing completed takes new options;"
            " otherwise use a new --out)"
        )
    elif report.retry_command:
        console.print(f"retry the failed ones: [bold]{report.retry_command}[/bold]")
    if report.stop_reason:
        console.print(f"[red]stopped:[/red] {report.stop_reason}")
        console.print(f"what is done is saved; resume with: [bold]{report.resume_command}[/bold]")
    elif counts["pending"] or counts["submitted"]:
        if report.unfinished:
            last = report.unfinished[-1]
            console.print(
                f"{len(report.unfinished)} not finished after errors; the last, {escape(last.call_id)}:"
                f" {escape(last.error)}"
            )
            console.print(f"fix that, then resume with: [bold]{report.resume_command}[/bold]")
        else:
            console.print(f"not finished; resume with: [bold]{report.resume_command}[/bold]")
    if report.dataset_dir is not None:
        out = escape(shlex.quote(str(report.out_dir)))
        loader = escape(f"CallSet.load({str(report.out_dir)!r})")
        console.print(f"dataset: {escape(str(report.dataset_dir))}; in Python: {loader}")
        console.print(
            f"next: [bold]hearkit report {out} -o report.html[/bold] · [bold]hearkit dashboard {out}[/bold]"
        )


def _listed(console: Console, title: str, rows: list[tuple[str, str]]) -> None:
    if not rows:
        return
    table = Table(title=f"{len(rows)} {title}", show_lines=False)
    table.add_column("recording", overflow="fold")
    table.add_column("reason", overflow="fold")
    for source, reason in rows[:_MAX_LISTED]:
        table.add_row(source, reason)
    if len(rows) > _MAX_LISTED:
        table.add_row("…", f"{len(rows) - _MAX_LISTED} more in the manifest")
    console.print(table)
