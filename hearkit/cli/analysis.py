"""``hearkit demo``, ``hearkit analyze`` and ``hearkit dashboard``: the main job, the one-off, the web page.

- ``demo`` transcribes the stereo sample calls of ``sample_data/`` through the embedded engine (the real
  pipeline), analyzes them, prints a table of calls and writes ``hearkit-report.html``.
- ``analyze`` does the same for one recording (a file or an https URL) and prints its scorecard, or the
  whole call record as JSON.
- ``dashboard`` serves ``notebooks/03_dashboard.ipynb`` with Voilà on loopback.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import sys
import tempfile
import time
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from hearkit import timecode
from hearkit.cli.options import (
    SPEAKERS_HELP,
    SPEAKERS_MAX,
    SPEAKERS_MIN,
    VOCABULARY_HELP,
    speakers_line,
    vocabulary_terms,
    warnings_as_lines,
)
from hearkit.cli.waiting import job_progress

if TYPE_CHECKING:
    from rich.console import Console

    from hearkit.client import PyAI
    from hearkit.record import CallSet
    from hearkit.schema import Result

STEREO_ROLES: dict[str | int, str] = {0: "rep", 1: "customer"}
REPLAY_LEEWAY_S = 5.0
"""A replayed create answers with the job as first accepted: created before the request, by more
than this (leeway for the server's clock)."""


def register(app: typer.Typer) -> None:
    """Add this module's commands to the ``hearkit`` app."""
    app.command("demo")(demo)
    app.command("analyze")(analyze)
    app.command("dashboard")(dashboard)


# -- demo ------------------------------------------------------------------------------------------
def find_sample_dir(explicit: Path | None = None) -> Path:
    """``explicit``, else the sample calls shipped with hearkit (installed package or checkout)."""
    from hearkit.resources import sample_dir

    try:
        folder = explicit or sample_dir()
    except FileNotFoundError as exc:
        raise typer.BadParameter(str(exc), param_hint="--sample-dir") from None
    if not (folder / "index.json").is_file():
        raise typer.BadParameter(f"no index.json in {folder}", param_hint="--sample-dir")
    return folder


def sample_calls(folder: Path, only: Sequence[str], limit: int | None) -> list[dict[str, Any]]:
    """Entries of ``index.json`` (call_id, title, rep, …, stereo file), filtered by ``only``/``limit``."""
    entries: list[dict[str, Any]] = json.loads((folder / "index.json").read_text(encoding="utf-8"))["calls"]
    if only:
        known = {e["call_id"] for e in entries}
        unknown = sorted(set(only) - known)
        if unknown:
            raise typer.BadParameter(f"unknown call(s) {unknown}; the sample has {sorted(known)}")
        entries = [e for e in entries if e["call_id"] in only]
    return entries[:limit] if limit is not None else entries


def embedded_client() -> PyAI:
    """A client of the embedded engine, whatever ``PYAI_API_KEY`` says (the demo never bills)."""
    from hearkit.client import PyAI
    from hearkit.engine import LocalEngine

    engine = LocalEngine.default()
    return PyAI(api_key=engine.api_key, base_url=engine.base_url)


def transcribe_all(
    client: PyAI, folder: Path, entries: Sequence[dict[str, Any]], console: Console, *, new_jobs: bool = False
) -> tuple[list[Result], int]:
    """Submit every call, then wait for each with a progress bar measured in audio seconds; returns the
    results and how many calls reused an earlier job. A recording sent with the same options in the
    last 24 h (by `hearkit analyze` or an earlier demo: the same Idempotency-Key, :func:`_job_for`)
    reuses that job, not transcribed again; ``new_jobs`` transcribes every call again."""
    from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

    total = sum(float(e.get("duration_s", 0.0)) for e in entries) or float(len(entries))
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed:.0f}/{task.total:.0f} s of audio"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"transcribing {len(entries)} calls", total=total)
        submitted = []
        reused = 0
        for entry in entries:
            path = folder / entry["stereo"]
            if new_jobs:
                submitted.append(client.jobs.create(path, channel=True))
                continue
            job, lines, was_reused = _job_for(client, str(path), False, {"channel": True})
            for line in lines[:-1] if was_reused else lines:  # the reuses are said once, below
                console.print(f"{entry['call_id']}: {line}")
            submitted.append(job)
            reused += was_reused
        results = []
        for entry, job in zip(entries, submitted, strict=True):
            progress.update(task, description=f"transcribing {entry['call_id']}")
            done = client.jobs.wait(job.job_id, timeout=1800)
            results.append(client.jobs.result(done))
            progress.advance(task, float(entry.get("duration_s", 1.0)))
        fresh = len(entries) - reused
        done_line = f"transcribed {fresh} call{'s' if fresh != 1 else ''}"
        progress.update(task, description=done_line + (f", {reused} reused" if reused else ""))
    if reused:
        console.print(
            f"{reused} of {len(entries)} calls reused the job of an earlier `hearkit analyze` or `hearkit"
            " demo` of the same recording (same options, last 24 h): not transcribed again in this run"
            " (--new-jobs transcribes them again)"
        )
    return results, reused


def calls_table(calls: CallSet, width: int | None = None) -> Any:
    """A rich table of the calls: rep, duration, rep talk share, questions, tracker hits, monologue,
    trust. Narrower than 120 columns the title is left out, narrower than 100 the rep too, so an
    80-column terminal still reads one call per line (the call id never wraps: one types it next)."""
    from rich.table import Table

    from hearkit.frames import CALL_ID
    from hearkit.quality import trust_words

    width = width if width is not None else 200
    frame = calls.calls
    hits = {str(k): int(v) for k, v in calls.hits.groupby(CALL_ID).size().items()}
    table = Table(title="Calls", title_justify="left")
    table.add_column("call", no_wrap=True)
    texts = [c for c, room in (("title", 120), ("rep", 100)) if width >= room]
    for name in texts:
        table.add_column(name, no_wrap=True, overflow="ellipsis", max_width=28 if name == "title" else 16)
    for name in ("min", "rep talk", "rep q", "hits", "rep mono"):
        table.add_column(name, justify="right", no_wrap=True)
    table.add_column("trust", overflow="fold", min_width=12)

    def value(row: Any, *names: str) -> Any:
        return next((row[n] for n in names if n in row and row[n] == row[n]), None)

    for _, row in frame.iterrows():
        talk = value(row, "talk_ratio_rep", "rep_talk_ratio")
        duration = value(row, "duration_s", "audio_seconds")
        questions = value(row, "questions_rep", "rep_questions")
        monologue = value(row, "longest_monologue_s_rep", "longest_monologue_s")
        table.add_row(
            str(row[CALL_ID]),
            *(str(value(row, name) or "") for name in texts),
            "" if duration is None else f"{float(duration) / 60:.1f}",
            "" if talk is None else f"{float(talk):.0%}",
            "" if questions is None else str(int(questions)),
            str(int(hits.get(row[CALL_ID], 0))),
            "" if monologue is None else f"{float(monologue):.0f} s",
            trust_words(value(row, "trust"), value(row, "quality_flags")),  # issue 20: trust, flags in words
        )
    return table


def demo(
    output: Annotated[Path, typer.Option("--output", "-o", help="The HTML report to write.")] = Path(
        "hearkit-report.html"
    ),
    calls: Annotated[
        list[str] | None,
        typer.Option("--call", help="Only this sample call (repeatable).", show_default=False),
    ] = None,
    limit: Annotated[int | None, typer.Option(help="At most this many calls (quicker).", min=1)] = None,
    sample_dir: Annotated[
        Path | None, typer.Option(help="Folder of the sample calls (default: those shipped with hearkit).")
    ] = None,
    save: Annotated[
        Path | None,
        typer.Option(
            help="Also save the analyzed calls in this folder (for hearkit report / dashboard, CallSet.load)."
        ),
    ] = None,
    new_jobs: Annotated[
        bool,
        typer.Option(
            "--new-jobs",
            "--new-job",
            help="Transcribe every call again, even those sent with the same options in the last 24 h"
            " (by hearkit analyze or an earlier demo), whose jobs are reused by default.",
        ),
    ] = False,
) -> None:
    """Transcribe the sample calls with the embedded engine, analyze them, and write an HTML report.

    A sample recording sent with the same options in the last 24 h (``hearkit analyze`` of it, or an
    earlier demo) reuses that job and says so; ``--new-jobs`` transcribes every call again."""
    from rich.console import Console

    from hearkit._extras import require

    require("local", "hearkit demo (transcribes with the local engine)")
    if save is not None:
        check_not_a_batch(save)  # before minutes of transcription, not after
    console = Console()
    folder = find_sample_dir(sample_dir)
    entries = sample_calls(folder, calls or [], limit)

    from hearkit.errors import HearkitError
    from hearkit.record import analyze_calls
    from hearkit.report import write_html

    console.print(
        f"hearkit demo: {len(entries)} stereo sample call{'s' if len(entries) != 1 else ''} from {folder} "
        "→ embedded engine (local Whisper) → metrics, trackers, summaries → HTML report"
    )
    started = time.perf_counter()
    try:
        client = embedded_client()
        results, reused = transcribe_all(client, folder, entries, console, new_jobs=new_jobs)
        metadata: list[dict[str, Any]] = [
            {k: e[k] for k in ("title", "rep", "customer", "date", "kind") if k in e} for e in entries
        ]
        # Summaries come with the analysis (offline, or an LLM's when HEARKIT_LLM_BASE_URL names one).
        callset = analyze_calls(
            results, call_ids=[e["call_id"] for e in entries], roles=STEREO_ROLES, metadata=metadata
        )
    except HearkitError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    console.print(calls_table(callset, console.width))
    if save is not None:
        callset.save(save)
        console.print(f"calls saved in {save.resolve()} (hearkit report {save} reads them)")
    path = write_html(callset, output, title="hearkit demo: sample calls")
    elapsed = time.perf_counter() - started
    audio = sum(float(e.get("duration_s", 0.0)) for e in entries)
    not_now = f" ({reused} of the calls reused earlier jobs: not transcribed in this run)" if reused else ""
    console.print(
        f"{audio / 60:.1f} min of audio in {elapsed:.0f} s{not_now}. "
        f"Report: [bold]{path.resolve()}[/bold] (open it in a browser; it works offline)"
    )


# -- analyze ---------------------------------------------------------------------------------------
def _stated_seconds(path: Path) -> float | None:
    """The recording's length as its header states it (``None`` when it states none)."""
    from hearkit.audio import AudioProbeError, probe_header

    try:
        return probe_header(path).seconds or None
    except AudioProbeError:
        return None


def channel_count(path: Path) -> int:
    """Number of audio channels of a local recording (PyAV)."""
    from hearkit.audio import AudioProbeError, probe_header

    try:
        return probe_header(path).channels
    except AudioProbeError as exc:
        raise typer.BadParameter(
            f"{path}: {exc}; give a recording such as .wav, .ogg, .mp3",
            param_hint="SOURCE",
        ) from exc


def analyze(
    source: Annotated[
        str | None, typer.Argument(help="A local audio file or an https URL.", show_default=False)
    ] = None,
    stereo: Annotated[
        bool | None,
        typer.Option(
            "--stereo/--mono",
            help="Stereo: rep on channel 0, customer on channel 1 (exact split). Mono: diarize. "
            "Default: from the file's channels; stereo for a URL.",
            show_default=False,
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole call record as JSON.")] = False,
    call_id: Annotated[str | None, typer.Option(help="Id of the call in the record.")] = None,
    rep: Annotated[
        Path | None,
        typer.Option("--rep", help="Two-file call: the rep's (agent's) recording; needs --customer."),
    ] = None,
    customer: Annotated[
        Path | None,
        typer.Option("--customer", help="Two-file call: the customer's (caller's) recording; needs --rep."),
    ] = None,
    speakers: Annotated[
        int,
        typer.Option(
            "--speakers", min=SPEAKERS_MIN, max=SPEAKERS_MAX, help=SPEAKERS_HELP, show_default=False
        ),
    ] = 2,
    vocabulary: Annotated[str | None, typer.Option(help=VOCABULARY_HELP, show_default=False)] = None,
    new_job: Annotated[
        bool,
        typer.Option(
            "--new-job",
            "--new-jobs",
            help="Transcribe again even if this file was sent with the same options in the last 24 h"
            " (a new job: billed again on the hosted API). By default that job is reused.",
        ),
    ] = False,
    save: Annotated[
        Path | None,
        typer.Option(
            "--save",
            help="Also save the analysed call in this new folder, as `hearkit batch` saves its dataset"
            " (for hearkit report / dashboard DIR, CallSet.load).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Transcribe and analyze one call: talk ratio, trackers, metrics (the guide's one-off).

    A call stored as two files (one per party) is given with ``--rep AGENT.wav --customer CALLER.wav``:
    both are combined into one stereo FLAC (rep on channel 0, lossless) and split exactly by channel.
    """
    from rich.console import Console

    if save is not None:
        check_save_folder(save)  # before the transcription, not after it
    terms = vocabulary_terms(vocabulary)
    console = Console(stderr=as_json)
    with contextlib.ExitStack() as cleanup:
        two_files = rep is not None or customer is not None
        if two_files:
            source, call_id = _combined_legs(cleanup, source, rep, customer, stereo, call_id)
            stereo = True
        elif source is None:
            raise typer.BadParameter(
                "give a recording (SOURCE), or a two-file call with --rep AGENT.wav --customer CALLER.wav",
                param_hint="SOURCE",
            )
        shown = f"{rep} (rep) + {customer} (customer)" if two_files else None
        _analyze(
            console,
            source,
            stereo,
            as_json,
            call_id,
            speakers,
            roles_given=two_files,
            shown=shown,
            save=save,
            vocabulary=terms,
            new_job=new_job,
        )


def check_not_a_batch(folder: Path) -> None:
    """``--save`` into a ``hearkit batch --out`` folder (or its dataset/) is refused up front (as
    :meth:`hearkit.record.CallSet.save` refuses it): the batch's own runs rebuild it."""
    from hearkit.locate import batch_output_of

    batch = batch_output_of(folder)
    if batch is not None:
        raise typer.BadParameter(
            f"{folder} belongs to the `hearkit batch` output folder {batch}, whose runs rebuild its dataset/"
            f" (calls saved there would be overwritten or never read): give --save a folder of its own,"
            f" e.g. {batch}-demo",
            param_hint="--save",
        )


def check_save_folder(folder: Path) -> None:
    """``--save`` writes a new set of saved calls: a folder that holds calls already (saved, or a
    batch's) or a file is refused, so that nothing is overwritten."""
    from hearkit.locate import BATCH_DATASET, is_batch_output

    if folder.exists() and not folder.is_dir():
        raise typer.BadParameter(
            f"{folder} is a file; give a folder to save the call in", param_hint="--save"
        )
    held = [p for p in (folder, folder / BATCH_DATASET) if (p / "callset.json").is_file()]
    if held or is_batch_output(folder):
        raise typer.BadParameter(
            f"{folder} already holds saved calls ({'a hearkit batch output' if not held else held[0]}):"
            " --save writes a new folder and overwrites nothing; give another folder",
            param_hint="--save",
        )
    if folder.is_dir() and any(not p.name.startswith(".") for p in folder.iterdir()):
        # A folder of recordings got six Parquet/JSON files among them (U3 finding 29).
        raise typer.BadParameter(
            f"{folder} is not empty: --save writes a new folder of its own (calls.parquet, turns.parquet, "
            f"… callset.json); give a new one, e.g. --save {folder / 'hearkit-calls'}",
            param_hint="--save",
        )


def _combined_legs(
    cleanup: contextlib.ExitStack,
    source: str | None,
    rep: Path | None,
    customer: Path | None,
    stereo: bool | None,
    call_id: str | None,
) -> tuple[str, str]:
    """The stereo FLAC made from ``--rep`` and ``--customer`` (in a temporary folder), and the call id."""
    from hearkit.legs import combine_legs, pair_legs

    if rep is None or customer is None:
        raise typer.BadParameter("a two-file call needs both --rep AGENT.wav and --customer CALLER.wav")
    if source is not None:
        raise typer.BadParameter("give either SOURCE or --rep/--customer, not both", param_hint="SOURCE")
    if stereo is False:
        raise typer.BadParameter("--mono does not apply to a two-file call: each party has its own file")
    folder = Path(cleanup.enter_context(tempfile.TemporaryDirectory(prefix="hearkit-legs-")))
    pairs, _ = pair_legs([rep, customer])
    name = call_id or (pairs[0][0] if pairs else rep.stem)
    try:
        legs = combine_legs(rep, customer, folder / f"{name}.flac")
    except ValueError as exc:
        raise typer.BadParameter(str(exc), param_hint="--rep/--customer") from None
    return str(legs.path), name


def _analyze(
    console: Console,
    source: str,
    stereo: bool | None,
    as_json: bool,
    call_id: str | None,
    speakers: int = 2,
    *,
    roles_given: bool = False,
    shown: str | None = None,
    save: Path | None = None,
    vocabulary: list[str] | None = None,
    new_job: bool = False,
) -> None:
    """``roles_given``: the user said which recording is the rep's (``--rep``/``--customer``), so
    the roles are ``explicit``; a stereo file's roles are the channel convention (channel 0 = rep),
    which the quality block may find swapped. ``save``: a folder to save the call's set in."""
    from rich.console import Console

    from hearkit.client import PyAI
    from hearkit.errors import HearkitError

    is_url = "://" in source
    seconds: float | None = None  # the recording's length, when its header says it
    if is_url and not source.lower().startswith("https://"):
        raise typer.BadParameter(
            f"{source.split('://')[0]}:// is refused: customer audio must travel encrypted; give an https"
            " URL, or download the recording and pass its path",
            param_hint="SOURCE",
        )
    if not is_url:
        path = Path(source)
        if path.is_dir():
            raise typer.BadParameter(
                f"{path} is a folder: `hearkit batch {path} --out OUT` analyses every call in it",
                param_hint="SOURCE",
            )
        if not path.is_file():
            raise typer.BadParameter(f"{path} does not exist or is not a file", param_hint="SOURCE")
        if stereo is None:
            stereo = channel_count(path) >= 2
        elif stereo and channel_count(path) == 1:  # 0: the header does not say
            # said before anything is sent (a new-user check: the upload and the job came first, then
            # "Job ... ended failed: the file has 1 channel")
            raise typer.BadParameter(
                f"{path} has 1 channel: --stereo takes a call with one party per channel of a stereo file;"
                " drop --stereo (or give --mono) to separate the voices by diarization",
                param_hint="--stereo",
            )
        seconds = _stated_seconds(path)
    elif stereo is None:
        stereo = True
    try:
        with PyAI() as client:
            what = shown or source  # a two-file call's combined FLAC is a temporary file: name the legs
            console.print(f"transcribing {what} ({'stereo' if stereo else 'mono'}) via {client.base_url}")
            if not stereo:
                console.print(speakers_line(speakers))
            if vocabulary:
                from hearkit.batch.api import vocabulary_line

                console.print(vocabulary_line(vocabulary))
            fields: dict[str, Any] = {
                "channel": True if stereo else None,
                "diarize": None if stereo else True,
                # issue 20: mono = a two-party call: 2 speakers unless the audio strongly says otherwise
                "speakers_expected": None if stereo else (speakers or None),  # 0: the audio decides
                "vocabulary": vocabulary,
            }
            job = (
                client.jobs.create(
                    None if is_url else Path(source), audio_url=source if is_url else None, **fields
                )
                if new_job
                else _create_once(console, client, source, is_url, fields)
            )
            # From here the job exists: Ctrl-C cancels it, also before the wait begins (it used to
            # stop the engine then, which handed the running job back to the queue for later).
            try:
                ahead = _jobs_ahead(client)
                if ahead:
                    console.print(
                        f"{ahead} other job(s) in this data dir's queue (another hearkit process's work)"
                        " run first or alongside"
                    )
                # a long call behind a queue; Ctrl-C ends it. Its state is shown on a terminal.
                with job_progress(console, job.job_id, seconds, show=not as_json) as on_progress:
                    job = client.jobs.wait(job, timeout=3600, on_progress=on_progress)
            except KeyboardInterrupt:
                _give_up(console, client, job.job_id)
                raise typer.Exit(code=130) from None
            result = client.jobs.result(job)
    except HearkitError as exc:
        console.print(f"[red]error:[/red] {exc}")
        raise typer.Exit(code=1) from exc
    from hearkit.metadata import read_sidecar
    from hearkit.record import analyze_calls

    name = call_id or (Path(source).stem if not is_url else job.job_id)
    callset = analyze_calls(  # analyze_call's set, kept for --save
        [job.model_copy(update={"result": result})],
        call_ids=[name],
        roles=STEREO_ROLES if roles_given else None,
        metadata=None if is_url else [read_sidecar(Path(source))],
        vocabulary=vocabulary,  # kept with the call: the report and dashboard say it was prompted
    )
    record = callset.record(name)
    if save is not None:
        callset.save(save)
        console.print(f"call saved in {save.resolve()} (hearkit report {save} reads it)")
    if as_json:
        sys.stdout.write(record.model_dump_json(indent=2) + "\n")
        return
    print_record(record, Console())


_MAX_RESENDS = 5
"""Failed or cancelled earlier jobs of one recording gone past before a new one is simply created."""


def _create_once(console: Console, client: Any, source: str, is_url: bool, fields: dict[str, Any]) -> Any:
    """Create the job once (:func:`_job_for`), saying what happened."""
    job, lines, _ = _job_for(client, source, is_url, fields)
    for line in lines:
        console.print(line)
    return job


def _job_for(client: Any, source: str, is_url: bool, fields: dict[str, Any]) -> tuple[Any, list[str], bool]:
    """Create the job with an Idempotency-Key made of the recording's content hash and the options,
    as `hearkit batch` does: running `hearkit analyze` on the same file again (with --json, --save)
    within the server's 24 h replay window reuses the job, transcribed and billed once (U3 finding
    25: each run was a new job); `hearkit demo` sends its sample calls under the same keys, so each
    reuses the other's jobs. A reused job that failed or was cancelled is sent again under a key
    that follows from it, so the run after that reuses the new job in turn. Returns the job, the
    lines that say what happened, and whether an earlier job was reused."""
    from hearkit.batch.recordings import hash_file, hash_url
    from hearkit.batch.runner import idempotency_key

    audio = None if is_url else Path(source)
    content = hash_url(source) if is_url else hash_file(Path(source))
    # "via" keeps these keys apart from the batch's, whose request bodies differ (a 409 otherwise).
    options: dict[str, Any] = {name: value for name, value in fields.items() if value is not None}
    options["via"] = "hearkit analyze"
    lines: list[str] = []
    for _ in range(_MAX_RESENDS):
        asked = time.time()
        key = idempotency_key(content, options)
        job = client.jobs.create(audio, audio_url=source if is_url else None, idempotency_key=key, **fields)
        if job.created_at is None or job.created_at >= (asked - REPLAY_LEEWAY_S) * 1000:
            return job, lines, False  # a new job
        earlier = client.jobs.get(job.job_id)
        if earlier.status not in ("failed", "canceled", "cancelled"):
            when = datetime.fromtimestamp(job.created_at / 1000).strftime("%Y-%m-%d %H:%M")
            lines.append(
                f"this recording was sent with the same options at {when} (job {job.job_id}): that job is"
                " reused, nothing is transcribed or billed again (--new-job transcribes it again)"
            )
            return earlier, lines, True
        lines.append(
            f"the earlier job {job.job_id} of this recording ended {earlier.status}: sending it again"
        )
        options["after"] = job.job_id
    return client.jobs.create(audio, audio_url=source if is_url else None, **fields), lines, False


def _embedded_engine(client: Any) -> Any:
    """The process's embedded local engine when ``client`` talks to it, else ``None``."""
    from hearkit.engine.local import LocalEngine

    engine = LocalEngine._default
    if engine is None or not engine.running or client.base_url.rstrip("/") != engine.base_url:
        return None
    return engine


def _jobs_ahead(client: Any) -> int:
    """Jobs queued or running in the embedded engine's data dir besides the one just sent (0 if remote)."""
    engine = _embedded_engine(client)
    if engine is None or engine.runtime is None:
        return 0
    store = engine.runtime.store
    return max(0, int(store.count_jobs("queued")) + int(store.count_jobs("running")) - 1)


def _give_up(console: Console, client: Any, job_id: str) -> None:
    """Ctrl-C while waiting: cancel the job on the embedded engine; a remote one goes on (no cancel API)."""
    engine = _embedded_engine(client)
    if engine is not None:
        engine.cancel(job_id, "cancelled: hearkit analyze was interrupted (Ctrl-C) before the job ended")
        console.print(f"interrupted: job {job_id} cancelled, its audio deleted")
    else:
        console.print(
            f"interrupted: job {job_id} goes on at {client.base_url}; `hearkit jobs wait {job_id}` and"
            f" `hearkit jobs result {job_id}` fetch it later"
        )


def print_record(record: Any, console: Console) -> None:
    """The one-off's human-readable scorecard: metrics, tracker hits, and the transcript's start."""
    from rich.table import Table

    from hearkit.metrics import data_flag_words
    from hearkit.quality import view_of

    data = record.model_dump(mode="json")
    job_id = data.get("job_id")
    console.print(f"[bold]{data.get('call_id')}[/bold]" + (f"  job {job_id}" if job_id else ""))
    metrics = Table(title="Scorecard", title_justify="left")
    metrics.add_column("metric")
    metrics.add_column("value", justify="right")
    quality = view_of(getattr(record, "quality", None), list((data.get("metrics") or {}).keys()))
    for name, value in sorted((data.get("metrics") or {}).items()):
        shown = (
            f"{value:.3g}" if isinstance(value, float) else "not measured" if value is None else str(value)
        )
        if name == "flags":  # the data flags in words: what was clipped, dropped or left out
            shown = data_flag_words(value) or "-"
        if name in quality.greyed:  # issue 20: unreliable metrics greyed, with the flag that says why
            shown = f"[dim]{shown} ({quality.greyed[name].split(':')[0]})[/dim]"
        metrics.add_row(name, shown)
    for name, value in sorted((data.get("talk_ratio") or {}).items()):
        shown = (
            f"{value:.0%}" if isinstance(value, float) else "not measured" if value is None else str(value)
        )
        metrics.add_row(f"talk ratio: {name}", shown)
    console.print(metrics)
    colour = {"high": "green", "medium": "yellow", "low": "red"}.get(quality.trust, "dim")
    console.print(f"[{colour}]{quality.summary}[/{colour}]")
    for line in quality.lines:
        console.print(f"  {line.code} ({line.severity}): {line.meaning}", highlight=False, markup=False)
    hits = data.get("tracker_hits") or data.get("hits") or []
    if hits:
        table = Table(title="Tracker hits", title_justify="left")
        for column in ("tracker", "phrase", "role", "start"):
            table.add_column(column)
        for hit in hits:
            table.add_row(*(str(hit.get(c, "")) for c in ("tracker", "phrase", "role", "start")))
        console.print(table)
    print_summary(record, console)
    print_transcript(record, console)


#: The transcript's start shown by ``hearkit analyze``: whole turns up to about this many characters.
TRANSCRIPT_CHARS = 1200


def print_transcript(record: Any, console: Console, budget: int = TRANSCRIPT_CHARS) -> None:
    """The transcript's first whole turns (``[mm:ss] speaker (role): text``) up to ``budget``
    characters, turns without words left out; when more follow, one line says how many and where
    to read them all (a cut in the middle of a word read as the end of the call)."""
    from hearkit.record import labelled_transcript

    turns = record.turns_frame()
    if len(turns):
        lines = labelled_transcript(turns[turns["text"].str.strip() != ""]).splitlines()
    else:  # a record without turns rows: its stored transcript text
        lines = [line for line in str(record.transcript or "").splitlines() if line.strip()]
    shown, used = 0, 0
    for line in lines:
        if shown and used + len(line) > budget:
            break
        console.print(line, markup=False, highlight=False)
        shown, used = shown + 1, used + len(line) + 1
    if shown < len(lines):
        last = lines[-1][1:].partition("]")[0] if lines[-1].startswith("[") else ""
        console.print(
            f"… {len(lines) - shown} more turn(s){f', to {last}' if last else ''}: the whole"
            " transcript is in `hearkit analyze … --json` (its turns), or in the report of"
            " `hearkit batch` + `hearkit report`",
            markup=False,
            highlight=False,
        )


def print_summary(record: Any, console: Console) -> None:
    """The record's metadata, summary and action items (owner, due, the moment they were said)."""
    from rich.markup import escape

    meta = {k: v for k, v in (record.metadata or {}).items() if v not in (None, "")}
    if meta:
        console.print("  ".join(f"{k}: {escape(str(v))}" for k, v in meta.items()))
    summary = record.summary
    if summary is None:
        return
    if summary.summary:
        console.print(f"[bold]Summary[/bold] ({summary.method})")
        for item in summary.summary:
            console.print(f"  - {escape(item.text)}")
    if summary.action_items:
        console.print("[bold]Action items[/bold]")
        for action in summary.action_items:
            at = action.citations[0].start if action.citations else None
            clock = timecode.clock(at) if at is not None else ""
            who = action.owner_role or "?"
            due = f" (due {action.due})" if action.due else ""
            console.print(f"  - {escape(f'[{who}]')} {escape(action.text)}{escape(due)} {clock}")


# -- dashboard -------------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


DASHBOARD_IDLE_ENV = "HEARKIT_DASHBOARD_IDLE_S"
"""Seconds a dashboard page's kernel lives on once no browser holds it (default 300)."""


def _idle_seconds() -> int:
    """:data:`DASHBOARD_IDLE_ENV`'s seconds (300 when unset); ``ValueError`` naming it when it is not a
    whole number of seconds >= 1."""
    given = os.environ.get(DASHBOARD_IDLE_ENV, "").strip() or "300"
    if not given.isdigit() or int(given) < 1:
        raise ValueError(
            f"{DASHBOARD_IDLE_ENV}={given!r}: give a whole number of seconds, 1 or more (default 300)"
        )
    return int(given)


def voila_command(notebook: Path, port: int, *, open_browser: bool) -> list[str]:
    """The Voilà command line serving ``notebook`` on ``127.0.0.1:port``.

    Every page load starts a kernel; one no browser is connected to any more is shut down after
    ``$HEARKIT_DASHBOARD_IDLE_S`` idle seconds (300), so a dashboard shared with readers does not
    pile them up (a new user's check, U7 finding 14: 4 page loads, 4 kernels left until the server
    stopped). A page still open keeps its kernel however long it sits."""
    idle = _idle_seconds()
    return [
        sys.executable,
        "-m",
        "voila",
        str(notebook),
        f"--port={port}",
        "--Voila.ip=127.0.0.1",
        *([] if open_browser else ["--no-browser"]),
        # The jupytext lab extension does not load under Voilà; it is of no use in a dashboard.
        '--VoilaConfiguration.extension_denylist=["jupyterlab-jupytext"]',
        # Readers see Voilà's short error message, never code in a traceback.
        "--VoilaConfiguration.show_tracebacks=False",
        f"--MappingKernelManager.cull_idle_timeout={idle}",
        f"--MappingKernelManager.cull_interval={min(60, idle)}",
        "--MappingKernelManager.cull_connected=False",
    ]


def dashboard(
    source: Annotated[
        str | None,
        typer.Argument(
            help="The calls to show: the folder of `hearkit batch --out`, its dataset/, a CallSet.save() "
            "folder, or `sample` (the default).",
            show_default=False,
        ),
    ] = None,
    port: Annotated[int, typer.Option(help="Port on 127.0.0.1 (0: a free one).", min=0, max=65535)] = 8866,
    notebook: Annotated[
        Path | None, typer.Option(help="Serve this notebook instead (e.g. notebooks/03_dashboard.ipynb).")
    ] = None,
    open_browser: Annotated[bool, typer.Option("--browser/--no-browser", help="Open a browser.")] = True,
) -> None:
    """Serve the dashboard of your calls as a web page (Voilà, loopback only, no code shown)."""
    from hearkit._extras import require
    from hearkit.dashboard_app import write_app_notebook

    require("notebook", "hearkit dashboard (serves the notebook with Voilà)", "voila", "ipywidgets")
    if notebook is not None and source is not None:
        raise typer.BadParameter("give the calls folder or --notebook, not both", param_hint="--notebook")
    try:
        with warnings_as_lines():  # which calls are served, when the folder holds two sets
            target = notebook or write_app_notebook(source)
    except FileNotFoundError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    if not target.is_file():
        raise typer.BadParameter(f"{target} not found", param_hint="--notebook")
    chosen = port or free_port()
    try:
        command = voila_command(target.resolve(), chosen, open_browser=open_browser)
    except ValueError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(code=2) from exc
    typer.echo(f"serving {target.name} at http://127.0.0.1:{chosen}/ (Ctrl+C stops)", err=True)
    os.chdir(target.resolve().parent)
    # Replace this process: stopping `hearkit dashboard` stops Voilà and its kernels.
    os.execv(command[0], command)
