"""`hearkit report`: write the standalone HTML report of saved calls. See :mod:`hearkit.report`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hearkit`` app."""
    app.command("report")(report)


def report(
    sources: Annotated[
        list[str],
        typer.Argument(
            help="The folder of `hearkit batch --out`, its dataset/, a folder written by CallSet.save(), "
            "or `sample` for the sample calls; several make one report of all their calls (the same call"
            " in two is shown once; another call under a used id is renamed id@folder).",
            show_default=False,
            metavar="SOURCE",
        ),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML file to write.")] = Path(
        "hearkit-report.html"
    ),
    cdn: Annotated[
        bool,
        typer.Option(
            "--cdn", help="Load plotly.js from cdn.plot.ly instead of embedding it (needs a network)."
        ),
    ] = False,
    title: Annotated[str, typer.Option(help="Title of the report.")] = "hearkit call report",
    audio: Annotated[
        str,
        typer.Option(
            help="Audio to embed: moments (a short clip of each tracker hit, monologue and interruption), "
            "full (each whole call), none, or auto (moments when the recordings are at hand)."
        ),
    ] = "auto",
) -> None:
    """Write one self-contained HTML report (overview, charts, transcripts) of saved calls."""
    # Several sources (two months' batch folders): one report of all their calls (_once_each).
    _check_output(output)
    if audio not in ("auto", "moments", "full", "none"):
        typer.echo(f"error: --audio must be moments, full, none or auto, not {audio!r}", err=True)
        raise typer.Exit(code=2)
    for source in sources:  # said before the analysis modules load (U8 note 11: 18 s to say no)
        _check_source(source)
    sets: list[Any] = []
    unfinished: list[str] = []
    for source in sources:
        calls, progress = _load(source)
        if progress is not None:
            unfinished.append(progress if len(sources) == 1 else f"{source}: {progress}")
        sets.append(calls)
    if unfinished:  # the page says it too: it is read where the CLI is not
        title = f"{title} ({'; '.join(unfinished)})"
    sets = _once_each(sets, sources)
    from hearkit.report import write_report
    from hearkit.report_audio import audio_size

    replacing = Path(output).exists()
    try:
        written = write_report(
            sets if len(sets) > 1 else sets[0],
            output,
            plotlyjs="cdn" if cdn else "inline",
            title=title,
            audio=None if audio == "auto" else audio,  # type: ignore[arg-type]
        )
    except (OSError, ValueError, TypeError) as exc:
        typer.echo(f"error: could not write {output}: {exc}", err=True)
        raise typer.Exit(code=1) from exc
    path = written.path
    size_mb = path.stat().st_size / 1e6
    again = " (replaced the file that was there)" if replacing else ""
    n_calls = sum(len(c.calls) for c in sets)
    typer.echo(f"wrote {path}{again} ({size_mb:.1f} MB, {n_calls} calls); open it in a browser")
    if written.audio.what:  # customer audio in a file that gets shared: say so where it was asked for
        size = audio_size(written.audio.audio_bytes)
        typer.echo(f"it embeds {written.audio.what} ({size} of audio): anyone with the file can hear them")
    for why in [*written.audio.changed.values(), *written.audio.mismatched.values()]:
        typer.echo(f"note: {why}", err=True)
    if written.audio.not_cut:
        typer.echo(f"note: {written.audio.not_cut}", err=True)


def _check_source(source: str) -> None:
    """A source that is no folder is refused in one line, exit 2, as :func:`hearkit.locate.callset_folder`
    words it."""
    from hearkit.locate import EXPECTED

    if source == "sample":
        return
    path = Path(source).expanduser()
    if not path.exists():
        typer.echo(f"error: {path} does not exist; expected {EXPECTED}", err=True)
        raise typer.Exit(code=2)
    if not path.is_dir():
        typer.echo(f"error: {path} is a file, not a folder; expected {EXPECTED}", err=True)
        raise typer.Exit(code=2)


def _load(source: str) -> tuple[Any, str | None]:
    """The calls of one source, and how far its batch got when it has not finished (else ``None``)."""
    from hearkit.cli.options import warnings_as_lines
    from hearkit.record import CallSet

    if source == "sample":
        return CallSet.load_sample(), None
    try:
        with warnings_as_lines():  # which calls were read, when the folder holds two sets
            return CallSet.load(Path(source)), None
    except (FileNotFoundError, ValueError, OSError) as exc:
        unfinished = _unfinished_batch(Path(source))
        if unfinished is None:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(code=2) from exc
        return unfinished


def _once_each(sets: list[Any], sources: list[str]) -> list[Any]:
    """``sets`` with each call in the report once: a call id found again in a later source is the same
    call (the same job, or the same transcript) and is shown from the first source that has it; another
    call under the same id (``call_001`` of two months) is kept, its id suffixed with its source's folder
    name (``call_001@november``). One line says each."""
    first: dict[str, tuple[Any, str]] = {}
    repeated: dict[tuple[str, str], list[str]] = {}
    renamed: list[str] = []
    kept = []
    for calls, source in zip(sets, sources, strict=True):
        again, other = [], {}
        for call_id in dict.fromkeys(calls.call_ids):
            if call_id not in first:
                continue
            earlier, where = first[call_id]
            if _same_call(earlier, calls, call_id):
                again.append(call_id)
                repeated.setdefault((where, source), []).append(call_id)
            else:
                other[call_id] = _free_id(f"{call_id}@{Path(source).name or source}", first)
                renamed.append(f"{call_id} of {source} is {other[call_id]}")
        calls = _renamed(_without(calls, set(again)) if again else calls, other)
        for call_id in calls.call_ids:
            first.setdefault(call_id, (calls, source))
        kept.append(calls)
    if repeated:
        n = sum(len(ids) for ids in repeated.values())
        pairs = "; ".join(
            f"{', '.join(ids[:3])}{f', … ({len(ids)} calls)' if len(ids) > 3 else ''} in {a} and {b}"
            for (a, b), ids in repeated.items()
        )
        typer.echo(
            f"note: {n} call{'s are' if n > 1 else ' is'} in more than one source ({pairs}): the report"
            " shows each once, from the first source named"
        )
    if renamed:
        shown = "; ".join(renamed[:3]) + (f"; … ({len(renamed)} calls)" if len(renamed) > 3 else "")
        typer.echo(f"note: other calls under an id an earlier source uses are renamed in the report: {shown}")
    shown_sets = [calls for calls in kept if len(calls.calls)]
    return shown_sets or kept[:1]


def _same_call(a: Any, b: Any, call_id: str) -> bool:
    """Whether ``call_id`` is one call in the CallSets ``a`` and ``b``: the same job id, or (a set that
    does not say: sample calls, records) the same turns, times and words."""
    from hearkit.frames import CALL_ID

    def job(calls: Any) -> Any:
        if "job_id" not in calls.calls.columns:
            return None
        ids = calls.calls.loc[calls.calls[CALL_ID].astype(str) == call_id, "job_id"].dropna()
        return str(ids.iloc[0]) if len(ids) else None

    jobs = job(a), job(b)
    if jobs[0] is not None and jobs[1] is not None:
        return bool(jobs[0] == jobs[1])

    def said(calls: Any) -> list[tuple[Any, ...]]:
        turns = calls.turns[calls.turns[CALL_ID].astype(str) == call_id]
        return list(
            zip(turns["start"].round(2), turns["end"].round(2), turns["text"].astype(str), strict=True)
        )

    return said(a) == said(b)


def _free_id(wanted: str, used: dict[str, Any]) -> str:
    """``wanted``, or ``wanted-2``, ``-3``… when an earlier source already uses it."""
    candidate, n = wanted, 2
    while candidate in used:
        candidate, n = f"{wanted}-{n}", n + 1
    return candidate


def _renamed(calls: Any, ids: dict[str, str]) -> Any:
    """A copy of the CallSet ``calls`` with the call ids ``ids`` renamed (every frame, the summaries)."""
    if not ids:
        return calls
    from dataclasses import replace

    from hearkit.frames import CALL_ID

    def rename(frame: Any) -> Any:
        if CALL_ID not in frame.columns:
            return frame
        out = frame.copy()
        out[CALL_ID] = out[CALL_ID].astype(str).replace(ids)
        out.attrs.update(frame.attrs)
        return out

    return replace(
        calls,
        **{name: rename(getattr(calls, name)) for name in calls._FRAMES},
        summaries={
            ids.get(k, k): (v.model_copy(update={"call_id": ids[k]}) if k in ids else v)
            for k, v in calls.summaries.items()
        },
        formats={ids.get(k, k): v for k, v in calls.formats.items()},
    )


def _without(calls: Any, call_ids: set[str]) -> Any:
    """A copy of the CallSet ``calls`` without the calls ``call_ids`` (every frame's rows of them)."""
    from dataclasses import replace

    from hearkit.frames import CALL_ID

    def keep(frame: Any) -> Any:
        if CALL_ID not in frame.columns:
            return frame
        kept = frame[~frame[CALL_ID].astype(str).isin(call_ids)].reset_index(drop=True)
        kept.attrs.update(frame.attrs)
        return kept

    return replace(
        calls,
        **{name: keep(getattr(calls, name)) for name in calls._FRAMES},
        summaries={k: v for k, v in calls.summaries.items() if k not in call_ids},
        formats={k: v for k, v in calls.formats.items() if k not in call_ids},
    )


def _check_output(output: Path) -> None:
    """Refuse to write the report over a file that is not an HTML page (U3 finding 23: ``-o`` naming
    a recording replaced the customer's recording with the report) or into a folder."""
    if output.is_dir():
        typer.echo(
            f"error: -o {output} is a folder: give the HTML file to write, e.g. -o report.html", err=True
        )
        raise typer.Exit(code=2)
    if output.exists() and output.suffix.lower() not in (".html", ".htm"):
        typer.echo(
            f"error: -o {output} is an existing file that is not an HTML page (.html): hearkit writes a "
            "report only over an earlier report; give a new name, e.g. -o report.html",
            err=True,
        )
        raise typer.Exit(code=2)


def _unfinished_batch(folder: Path) -> tuple[Any, str] | None:
    """The completed calls of a `hearkit batch` output folder whose dataset/ is not written yet
    (a run stopped by Ctrl-C, or still running) and how far it got ("unfinished batch: 2 of 4
    recordings"); ``None`` when it is not one or none completed."""
    from hearkit.batch.manifest import Manifest
    from hearkit.batch.results import completed_calls
    from hearkit.locate import is_batch_output

    if not is_batch_output(folder):
        return None
    with Manifest(folder) as manifest:
        counts = manifest.counts()
        if not counts.get("completed"):
            return None
        calls = completed_calls(manifest)
    total = sum(counts.values())
    progress = f"unfinished batch: {counts['completed']} of {total} recordings"
    typer.echo(
        f"note: the batch in {folder} has not finished ({counts['completed']} of {total} recordings"
        f" completed): the report shows those; run `hearkit batch --out {folder}` with the same"
        " recordings to finish it"
    )
    return calls, progress
