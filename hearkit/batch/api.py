"""``hearkit.batch.run``: a folder, glob or CSV of recordings in; one analyzed record per call out.

The output folder ``out`` holds everything a batch knows, so the same call resumes it:

* ``manifest.sqlite``: the state of every recording (:mod:`hearkit.batch.manifest`);
* ``calls/<call_id>.json``: the completed job with its result, one file a call;
* ``dataset/``: the Parquet datasets of calls (scorecards), turns, words and tracker hits, as
  :meth:`hearkit.record.CallSet.save` writes them, with each call's summary and action items
  (``CallSet.load(out)`` reads the output folder as it is; so do ``hearkit report OUT`` and
  ``hearkit dashboard OUT``).

``run`` works in scripts and inside a running event loop (Jupyter): there it runs the batch on
a worker thread with its own loop. In async code, ``await arun(...)``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import os
import shlex
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlparse

from hearkit.batch.cost import CostEstimate, batch_cost, estimate, is_local_url, realtime_cost
from hearkit.batch.manifest import MANIFEST_NAME, Manifest, ManifestRow
from hearkit.batch.progress import BatchProgress
from hearkit.batch.recordings import Mode, Recording, discover, orphan_sidecars
from hearkit.batch.runner import JobsClient, Runner, RunnerSettings
from hearkit.batch.speakers import DEFAULT_SPEAKERS, BatchSettings, resolve_speakers, speaker_notes
from hearkit.locate import CALLSET_FILES
from hearkit.schema import MAX_SPEAKER_OPTION

__all__ = ["BatchReport", "FailedRecording", "arun", "interrupted_line", "run", "vocabulary_line"]


@dataclass(frozen=True)
class FailedRecording:
    """A recording that did not complete: where it came from and why (``status`` failed or skipped)."""

    call_id: str
    source: str
    status: str
    error: str
    job_id: str | None = None


@dataclass
class BatchReport:
    """What a batch run did, and the state of the whole output folder after it.

    ``estimate`` covers the recordings this run had to send (all of them on a dry run);
    ``audio_seconds``/``billed_seconds`` sum every completed recording of the folder.
    """

    out_dir: Path
    counts: dict[str, int]
    estimate: CostEstimate
    dry_run: bool = False
    stop_reason: str | None = None
    failed: list[FailedRecording] = field(default_factory=list)
    skipped: list[FailedRecording] = field(default_factory=list)
    duplicates: list[FailedRecording] = field(default_factory=list)
    """Files of this run with the same content as a recording kept (not in the manifest: listed
    by every run, not only the dry run, U3 finding 1)."""
    audio_seconds: float = 0.0
    billed_seconds: float = 0.0
    wall_s: float = 0.0
    dataset_dir: Path | None = None
    rate_limited: int = 0
    notes: list[str] = field(default_factory=list)
    """Lines about the batch's settings the reader should know (the speaker count sent, a resumed
    batch whose completed calls were transcribed with another one)."""
    unfinished: list[FailedRecording] = field(default_factory=list)
    """Recordings still pending or submitted whose last request failed (the server stopped answering,
    say): the error says what to fix before resuming (U8 finding 6)."""
    reused_elsewhere: int = 0
    """Recordings whose job another batch folder created with the same options and another delivery
    (``--webhook-url``): reused, not transcribed or billed again (:mod:`hearkit.batch.sent`)."""
    charged: bool = True
    """False when hearkit's own engine did the work (embedded, a ``hearkit serve`` on this machine,
    ``--dask``): nothing was billed, and ``batch_usd``/``realtime_usd`` are what the hosted API
    would have charged."""

    @property
    def complete(self) -> bool:
        """True when every recording that can be sent has completed (none pending or failed)."""
        return self.counts["pending"] == self.counts["submitted"] == self.counts["failed"] == 0

    @property
    def batch_usd(self) -> float:
        """Cost of the completed audio at the hosted batch rate (billed seconds; audio seconds if
        unknown); what it would have cost when ``charged`` is false."""
        return batch_cost(self.billed_seconds or self.audio_seconds)

    @property
    def realtime_usd(self) -> float:
        """What the same audio would have cost at the realtime rate."""
        return realtime_cost(self.billed_seconds or self.audio_seconds)

    @property
    def retry_command(self) -> str | None:
        """The command that sends the failed recordings again, or None when nothing failed."""
        if not self.failed:
            return None
        return f"hearkit batch --out {shlex.quote(str(self.out_dir))} --retry-failed"

    @property
    def resume_command(self) -> str:
        """The command that resumes this batch where it stopped."""
        return f"hearkit batch --out {shlex.quote(str(self.out_dir))}"


def run(
    source: str | Path | None = None,
    out: str | Path = "hearkit-batch",
    **options: Any,
) -> BatchReport:
    """Run (or resume) a batch; blocks until it is done. See :func:`arun` for the options.

    Inside a running event loop (a Jupyter cell) the batch runs on a worker thread with its
    own loop, so no ``asyncio.run`` is nested in the notebook's loop. The kernel's interrupt
    (the stop button) stops it as Ctrl-C stops ``hearkit batch``: nothing more is sent, jobs in
    flight are handed back, and ``KeyboardInterrupt`` says what is done and how to resume
    (:func:`interrupted_line`).
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(arun(source, out, **options))
    if options.get("client") is not None:
        raise ValueError(
            "inside a running event loop (a notebook), run() works on its own thread and loop, where a "
            "client made in your loop cannot be used: pass api_key=/base_url= instead, or "
            "`await hearkit.batch.arun(..., client=client)`"
        )
    return _run_on_thread(source, out, options)


def _run_on_thread(source: str | Path | None, out: str | Path, options: dict[str, Any]) -> BatchReport:
    """:func:`arun` on a worker thread's loop; an interrupt of the calling thread cancels it.

    The calling thread waits in short slices: a wait without a timeout took the kernel's interrupt
    only once the whole batch had been sent and finished (U3 finding 13)."""
    started = concurrent.futures.Future[tuple[asyncio.AbstractEventLoop, asyncio.Task[Any]]]()

    async def main() -> BatchReport:
        task = asyncio.current_task()
        assert task is not None
        started.set_result((asyncio.get_running_loop(), task))
        return await arun(source, out, **options)

    pool = concurrent.futures.ThreadPoolExecutor(1, thread_name_prefix="hearkit-batch")
    try:
        done = pool.submit(asyncio.run, main())
        try:
            while True:
                try:
                    return done.result(timeout=0.2)
                except concurrent.futures.TimeoutError:
                    continue
        except KeyboardInterrupt:
            with contextlib.suppress(concurrent.futures.TimeoutError):
                loop, task = started.result(timeout=10)
                loop.call_soon_threadsafe(task.cancel)  # as Ctrl-C cancels the CLI's batch
            with contextlib.suppress(BaseException):  # CancelledError: the batch stopped as asked
                done.result()
            raise KeyboardInterrupt(interrupted_line(Path(out))) from None
    finally:
        pool.shutdown(wait=True)


def interrupted_line(out_dir: Path) -> str:
    """The one line said after an interrupt: what is done, what is still in flight, how to resume."""
    if not (out_dir / MANIFEST_NAME).is_file():
        return "interrupted before any recording was sent; run the same command again to start"
    with Manifest(out_dir) as manifest:
        counts = manifest.counts()
    return (
        f"interrupted: {counts['completed']} done, {counts['submitted']} in flight;"
        " run the same command again to resume"
    )


async def arun(
    source: str | Path | None = None,
    out: str | Path = "hearkit-batch",
    *,
    concurrency: int = 8,
    mode: Mode = "auto",
    model: str | None = None,
    numerals: bool | None = None,
    output_formats: Sequence[str] | None = None,
    vocabulary: Sequence[str] | None = None,
    speakers_expected: int | None = None,
    webhook_url: str | None = None,
    dry_run: bool = False,
    retry_failed: bool = False,
    client: Any = None,
    api_key: str | None = None,
    base_url: str | None = None,
    dask: str | None = None,
    transcriber: str | None = None,
    progress: bool | Literal["lines"] = True,
    write_dataset: bool = True,
    settings: RunnerSettings | None = None,
) -> BatchReport:
    """Run (or resume) the batch of ``source`` into the folder ``out``.

    ``source``: a folder, a glob pattern or a CSV manifest (columns ``path`` or ``audio_url``,
    optional ``call_id``, ``title``, ``rep``, ``customer``, ``date``, ``kind``, ``duration_s``,
    ``channels``); ``None`` resumes the batch already in ``out``. ``mode``: ``auto`` (inspect
    each file), ``stereo`` (``channel``) or ``mono`` (``diarize``). ``client``: an
    :class:`hearkit.client.AsyncPyAI` (built from ``api_key``/``base_url``/env otherwise; with
    no key at all, the embedded local engine). ``dask``: a scheduler address or ``"local"``
    to transcribe on a Dask cluster with the local engine's ``transcriber`` instead of the API.
    ``dry_run``: discover, inspect and estimate the cost; send nothing. ``progress``: a live bar,
    ``"lines"`` (one plain line per finished recording, for logs and pipes) or ``False``.

    ``speakers_expected``: the speakers to expect on each *diarized* (mono) recording, sent as the
    job option ``speakers_expected`` (another count only when the audio strongly says so). A new
    batch sends :data:`DEFAULT_SPEAKERS` (2: a folder of two-party calls, as ``hearkit analyze
    --mono`` does); ``0`` sends none (the audio alone decides); ``None`` keeps the batch's own
    setting when it is resumed. See :func:`resolve_speakers` for a resumed batch.
    """
    started = time.monotonic()
    if dask is not None and output_formats:
        # SRT/VTT are signed links to the server that ran the job; a cluster task has none.
        raise ValueError(
            "output formats (--formats) come from the jobs API as signed links; a --dask run has no "
            "server to serve them: drop --formats, or run without --dask"
        )
    if speakers_expected is not None and not 0 <= speakers_expected <= MAX_SPEAKER_OPTION:
        raise ValueError(
            f"speakers_expected must be 0 (none sent) to {MAX_SPEAKER_OPTION}, not {speakers_expected}"
        )
    _check_formats(output_formats)
    if dask is not None:  # before the output folder is made (U5 finding 2: a traceback after it was)
        from hearkit._extras import require

        require("dask", "hearkit batch --dask")
    _check_webhook_url(webhook_url, http_maybe=_server_of_this_machine(client, api_key, base_url))
    wanted = BatchSettings(mode, _job_options(model, numerals, output_formats, vocabulary), speakers_expected)
    # Discovery hashes and decodes files: off the event loop (it may be a notebook's).
    manifest, found, batch, new_files = await asyncio.to_thread(
        _prepare, source, out, wanted, dry_run, retry_failed
    )
    options = batch.options
    charged = not _on_own_engine(client, api_key, base_url, dask)
    try:
        if dry_run:
            cost = estimate(_dry_run_durations(manifest, found))
            report = _report(manifest, cost, dry_run=True, started=started)
            report.notes = batch.notes
            report.charged = charged
            report.skipped = [
                FailedRecording(rec.call_id, rec.shown, "skipped", rec.skip_reason)
                for rec in found
                if rec.skip_reason is not None and not rec.skip_reason.startswith("duplicate of")
            ]
            report.duplicates = _duplicates(found)
            return report
        todo = manifest.rows("pending", "submitted")
        cost = estimate(row.duration_s for row in todo)
        totals = manifest.totals()
        bar = BatchProgress(
            len(todo) + manifest.counts()["completed"],
            done=manifest.counts()["completed"],
            audio_seconds=totals["billed_seconds"] or totals["audio_seconds"],
            enabled=progress,
            charged=charged,
        )
        stop_reason: str | None = None
        rate_limited = reused = 0
        with bar:
            if dask is not None:
                from hearkit.batch.distributed import run_on_dask

                # The same transcription options as a jobs-API run (numerals, model, vocabulary...).
                await asyncio.to_thread(
                    run_on_dask,
                    manifest,
                    todo,
                    scheduler=dask,
                    transcriber=transcriber,
                    progress=bar,
                    options=options,
                    speakers_expected=batch.sent_speakers,
                )
            elif todo:
                runner_settings = settings or RunnerSettings()
                runner_settings.concurrency = concurrency
                runner_settings.options = options
                runner_settings.speakers_expected = batch.sent_speakers
                runner_settings.webhook_url = webhook_url
                stop_reason, rate_limited, reused = await _run_with_client(
                    manifest, todo, runner_settings, bar, client, api_key, base_url
                )
        dataset_dir = None
        if write_dataset and manifest.counts()["completed"]:
            from hearkit.batch.results import write_dataset as build

            dataset_dir = await asyncio.to_thread(build, manifest)
        report = _report(manifest, cost, dry_run=False, started=started, stop_reason=stop_reason)
        report.duplicates = _duplicates(found)
        report.dataset_dir = dataset_dir
        report.rate_limited = rate_limited
        report.reused_elsewhere = reused
        report.notes = batch.notes + _reuse_notes(reused, webhook_url)
        report.charged = charged
        return report
    finally:
        manifest.close()
        if dry_run:
            _remove_new(new_files)  # a dry run stores no state


async def _run_with_client(
    manifest: Manifest,
    todo: list[ManifestRow],
    settings: RunnerSettings,
    bar: BatchProgress,
    client: Any,
    api_key: str | None,
    base_url: str | None,
) -> tuple[str | None, int, int]:
    owned = client is None
    if owned:
        from hearkit.client import AsyncPyAI

        # No client-side retries: the runner retries, and counts each attempt in the manifest.
        client = AsyncPyAI(api_key=api_key, base_url=base_url, max_retries=0)
    # The client's ledger: job id -> seconds billed, from the x-pyai-units headers it saw.
    ledger = getattr(client, "ledger", None)
    units: Mapping[str, float] = ledger if ledger is not None else {}
    jobs: JobsClient = client.jobs
    runner = Runner(manifest, jobs, settings, progress=bar, billed=units)
    try:
        await runner.run(todo)
        # Billed units can arrive after the result was saved (e.g. on the result_url document).
        for row in manifest.rows("completed"):
            if row.billed_seconds is None and row.job_id is not None and row.job_id in units:
                manifest.set_billed(row.rec_id, units[row.job_id])
    finally:
        if owned:
            await client.close()
    return runner.stop_reason, runner.limiter.rate_limited, runner.reused_elsewhere


def _reuse_notes(reused: int, webhook_url: str | None) -> list[str]:
    """The line of a run that reused jobs another batch folder created with another delivery."""
    if not reused:
        return []
    unsent = " (this run's --webhook-url is not called for them: a job keeps the delivery it was made with)"
    said = (
        f"{reused} recording(s) reused the job another batch folder created with the same transcription"
        " options and another --webhook-url or none: transcribed and billed once"
    )
    return [said + (unsent if webhook_url else "")]


def _on_own_engine(client: Any, api_key: str | None, base_url: str | None, dask: str | None) -> bool:
    """Whether hearkit's own engine does the work, which bills nothing: a Dask cluster, the embedded
    engine (no key, no URL), or a server on this machine (:func:`hearkit.batch.cost.is_local_url`)."""
    if dask is not None:
        return True
    if client is None:
        from hearkit._client._core import configured

        key, url = configured(api_key, base_url)
        return (key is None and url is None) or (url is not None and is_local_url(url))
    # A given client: its resolved endpoint (the embedded engine's is on loopback).
    url = getattr(client, "base_url", None)
    return isinstance(url, str) and is_local_url(url)


def _not_there_yet(out_dir: Path) -> list[Path]:
    """The output folder and its manifest, those of them that do not exist yet (in creation order)."""
    return [p for p in (out_dir, out_dir / MANIFEST_NAME) if not p.exists()]


def _remove_new(paths: list[Path]) -> None:
    """Remove what opening the manifest created (``_not_there_yet``): the manifest with its SQLite
    side files, then the folder if it is still empty."""
    for path in reversed(paths):
        if path.name == MANIFEST_NAME:
            for side in ("", "-wal", "-shm", "-journal"):
                path.with_name(path.name + side).unlink(missing_ok=True)
        else:
            with contextlib.suppress(OSError):  # not empty: kept
                path.rmdir()


def _prepare(
    source: str | Path | None,
    out: str | Path,
    wanted: BatchSettings,
    dry_run: bool,
    retry_failed: bool,
) -> tuple[Manifest, list[Recording], BatchSettings, list[Path]]:
    """The manifest, the recordings found and the batch's settings; and what opening the manifest
    created (for a dry run to remove)."""
    out_dir = Path(out).expanduser().resolve()
    if out_dir.exists() and not out_dir.is_dir():  # was a FileExistsError traceback (U3 finding 24)
        raise ValueError(f"--out {out} is a file, not a folder: give the batch a folder of its own")
    from hearkit.summarize import LLMConfig

    LLMConfig.from_env()  # a bad HEARKIT_LLM_* setting stops the batch before it makes its folder
    new_files = _not_there_yet(out_dir)
    manifest = Manifest(out_dir)
    try:
        found: list[Recording] = []
        source_text, batch = _check_settings(manifest, source, wanted, dry_run)
        if source_text is not None:
            known = {row.rec_id for row in manifest.rows()}
            hasher, save_hashes = manifest.cached_hasher()
            with contextlib.ExitStack() as scratch:
                # A dry run writes nothing in OUT: its two-file calls are combined (to check them and
                # to know their length) in a temporary folder, removed right after.
                legs_dir = (
                    Path(scratch.enter_context(tempfile.TemporaryDirectory(prefix="hearkit-dry-run-legs-")))
                    if dry_run
                    else out_dir / "legs"
                )
                found = discover(
                    source_text,
                    mode=batch.mode,
                    exclude=out_dir,
                    known=known,
                    hasher=hasher,
                    legs_dir=legs_dir,
                )
            _check_stereo(found, batch)
            earlier = {row.source: row.call_id for row in manifest.rows() if row.kind == "file"}
            if not dry_run:
                manifest.add(found)
                save_hashes()
            replaced = _replaced_files(manifest, found, known, earlier, dry_run)
            replaced += _suffixed_ids(manifest, found, known, dry_run)
            replaced += _orphan_lines(orphan_sidecars(source_text, found, out_dir))
        else:
            replaced = []
        if retry_failed and not dry_run:
            manifest.requeue_failed()
        batch.notes = speaker_notes(manifest, found, batch) + replaced + _vocabulary_notes(batch.options)
    except BaseException:
        manifest.close()
        _remove_new(new_files)  # a refused source (an empty folder) leaves no batch folder behind
        raise
    return manifest, found, batch, new_files


def _job_options(
    model: str | None,
    numerals: bool | None,
    output_formats: Sequence[str] | None,
    vocabulary: Sequence[str] | None,
) -> dict[str, Any]:
    options: dict[str, Any] = {}
    if model:
        options["model"] = model
    if numerals is not None:
        options["numerals"] = numerals
    if output_formats:
        options["output_formats"] = list(output_formats)
    if vocabulary:
        options["vocabulary"] = list(vocabulary)
    return options


def _check_settings(
    manifest: Manifest, source: str | Path | None, wanted: BatchSettings, dry_run: bool
) -> tuple[str | None, BatchSettings]:
    """The source to (re)discover and the batch's settings; stores them on first use, refuses changed ones.

    Resumed without a source (``hearkit batch --out DIR``), the batch keeps its stored mode and
    options unless others are given. The speaker count is resolved by :func:`resolve_speakers`.
    """
    stored = manifest.settings()
    if not stored:
        if source is None:
            raise ValueError(
                f"{manifest.out_dir} holds no batch yet: "
                "give the recordings to process (a folder, a glob or a CSV)"
            )
        saved = [name for name in CALLSET_FILES if (manifest.out_dir / name).is_file()]
        if saved:  # its dataset/ would sit beside calls it never reads
            raise ValueError(
                f"{manifest.out_dir} holds calls saved with CallSet.save() ({', '.join(saved[:2])}, …): "
                "give the batch an --out folder of its own"
            )
        speakers = DEFAULT_SPEAKERS if wanted.speakers is None else wanted.speakers
        batch = BatchSettings(wanted.mode, wanted.options, speakers)
        if not dry_run:
            manifest.save_settings(
                {
                    "mode": batch.mode,
                    "options": batch.options,
                    "speakers": speakers,
                    "source": _stored_source(source),
                }
            )
        return str(source), batch
    mode, options = wanted.mode, wanted.options
    if source is None:
        # The printed resume command gives no options: the batch's own apply.
        mode = stored.get("mode", mode) if mode == "auto" else mode
        options = options or stored.get("options", options)
    changed = {k: (stored.get(k), v) for k, v in (("mode", mode), ("options", options)) if stored.get(k) != v}
    if changed and source is not None and not dry_run and manifest.forget_unfinished():
        # Nothing of the folder completed or is in flight (every recording failed, e.g. for the
        # options themselves): it starts over with the new ones; nothing is billed twice.
        manifest.save_settings({"mode": mode, "options": options, "source": _stored_source(source)})
        changed = {}
    if changed:
        detail = "; ".join(f"{k}: was {old!r}, now {new!r}" for k, (old, new) in changed.items())
        raise ValueError(
            f"{manifest.out_dir} was started with other options ({detail}). Resume it with the same "
            "options, or use a new --out folder for different ones (a recording sent with other options "
            "is a new job, billed again)."
        )
    speakers, migrated = resolve_speakers(stored, wanted.speakers)
    if not dry_run and (migrated or stored.get("speakers") != speakers):
        manifest.save_settings({"speakers": speakers})
    batch = BatchSettings(mode, options, speakers, migrated=migrated)
    return (str(source) if source is not None else stored.get("source")), batch


def _stored_source(source: str | Path) -> str:
    """The source as the manifest keeps it: a local folder, file or glob made absolute, so the
    resume command (``hearkit batch --out DIR``) works from any directory (U3 finding 20)."""
    text = str(source)
    return text if "://" in text else os.path.abspath(os.path.expanduser(text))


def _replaced_files(
    manifest: Manifest, found: list[Recording], known: set[str], earlier: dict[str, str], dry_run: bool
) -> list[str]:
    """A line per file whose content changed since the batch took it (a name a recorder reused): it
    is a new call, and the old call stays in the dataset (U3 finding 15: said nowhere)."""
    lines = []
    for rec in found:
        old = earlier.get(rec.source)
        if old is None or rec.skip_reason is not None or rec.rec_id in known:
            continue
        new = rec.call_id if dry_run else manifest.get(rec.rec_id).call_id
        lines.append(
            f"{rec.source} changed since it was transcribed as call {old}: it "
            f"{'would be' if dry_run else 'is'} the new call {new}; {old} stays in the dataset "
            "(no audio of it is cut from the new file)"
        )
    return lines


_MAX_ID_LINES = 10


def _suffixed_ids(manifest: Manifest, found: list[Recording], known: set[str], dry_run: bool) -> list[str]:
    """Lines naming the recordings new in this run whose call id is not their name: another
    recording of the batch has the name, so a hash suffix made it unique (U3 finding 11: ``call1``
    of three folders became ``call1``, ``call1-c8403fcc``, ``call1-d5e386c2`` without a word, ids
    that no longer match the files). Said by the run that adds them (and its dry run)."""
    rows = {row.rec_id: row for row in manifest.rows()} if not dry_run else {}
    holder = {row.call_id: row.source for row in rows.values()} | {r.call_id: r.source for r in found}
    lines = []
    for rec in found:
        if rec.skip_reason is not None or rec.rec_id in known or not rec.named:
            continue
        final = rows[rec.rec_id].call_id if rec.rec_id in rows else rec.call_id
        if final != rec.named:
            lines.append(
                f"{rec.source} {'would be' if dry_run else 'is'} call {final}: call {rec.named} is "
                f"{holder.get(rec.named, 'another recording of this batch')}"
            )
    if not lines:
        return []
    head = (
        f"{len(lines)} recording(s) share their name with another recording of the batch: a hash "
        "suffix makes their call ids unique (a CSV manifest's call_id column sets ids of your own)"
    )
    more = [f"… {len(lines) - _MAX_ID_LINES} more: see the manifest"] if len(lines) > _MAX_ID_LINES else []
    return [head, *lines[:_MAX_ID_LINES], *more]


def _duplicates(found: list[Recording]) -> list[FailedRecording]:
    """The files of this run with the same content as a recording kept, named as the user named
    them (a two-file call by its legs: U5 re-check of finding 11 saw the batch's combined FLACs, one
    of them in a dry run's temporary folder already gone)."""
    return [
        FailedRecording(rec.call_id, rec.shown, "skipped", rec.skip_reason)
        for rec in found
        if rec.skip_reason is not None and rec.skip_reason.startswith("duplicate of")
    ]


def vocabulary_line(terms: Sequence[str] | None, *, sent: str = "sent") -> str:
    """The line a run prints when it sends a vocabulary (``""`` when none): the terms (the first 8) and
    that the prompt moves more than names (U5 finding 16: nothing said the transcript had been prompted).
    ``sent`` says how it went: ``hearkit analyze`` "sent", a batch "sent with every recording"."""
    if not terms:
        return ""
    shown = ", ".join(terms[:8]) + (f", … ({len(terms)} terms)" if len(terms) > 8 else "")
    return (
        f"vocabulary {sent}: {shown}; where it made the recogniser hear a term, other words nearby may"
        " change too (the local engine keeps the unprompted transcript everywhere else)"
    )


def _vocabulary_notes(options: Mapping[str, Any]) -> list[str]:
    """The batch's vocabulary, said on every run: the prompt moves more than names (U5 finding 16)."""
    line = vocabulary_line(
        [str(t) for t in options.get("vocabulary") or []], sent="sent with every recording"
    )
    return [line] if line else []


def _orphan_lines(orphans: list[Path]) -> list[str]:
    """Lines naming the sidecars no recording takes (their title, rep, team… go nowhere)."""
    if not orphans:
        return []
    head = (
        f"{len(orphans)} sidecar(s) belong to no recording, so their fields are used nowhere: the"
        " recording X.wav takes X.meta.json or X.wav.meta.json beside it (a two-file call X_agent +"
        " X_caller takes X.meta.json)"
    )
    shown = [str(p) for p in orphans[:_MAX_ID_LINES]]
    more = [f"… {len(orphans) - _MAX_ID_LINES} more"] if len(orphans) > _MAX_ID_LINES else []
    return [head, *shown, *more]


def _server_of_this_machine(client: Any, api_key: str | None, base_url: str | None) -> bool:
    """Whether the batch talks to a jobs server on this machine that it did not start itself (a
    `hearkit serve`, which may be a test server that takes http webhook URLs)."""
    if client is not None:
        url = getattr(client, "base_url", None)
        return isinstance(url, str) and is_local_url(url)
    from hearkit._client._core import configured

    _, url = configured(api_key, base_url)
    return url is not None and is_local_url(url)


def _check_formats(formats: Sequence[str] | None) -> None:
    """Refuse output formats the jobs API refuses, before anything is stored or sent, in the dry run
    too (U5 finding 13: ``--formats pdf`` passed the dry run, then every recording was refused with
    a 400 one by one)."""
    from typing import get_args

    from hearkit.schema import OutputFormat

    known = get_args(OutputFormat)
    wrong = [f for f in formats or () if f not in known]
    if wrong:
        extra = ", ".join(f for f in known if f != "json")
        raise ValueError(
            f"--formats {','.join(wrong)}: choose from {extra} (the JSON result is always written),"
            " e.g. --formats srt,vtt"
        )


def _check_webhook_url(url: str | None, *, http_maybe: bool = False) -> None:
    """Refuse a webhook URL the jobs API refuses, before anything is stored or sent (U3 finding 3:
    every recording failed with a 400 and the folder kept re-sending the stored URL). The hosted
    API and the embedded engine take only https; a server of this machine (``http_maybe``) may be
    set to take http too (``allow_private_urls``), so there it decides (a refusal lets go of the
    stored request: fix the option and ``--retry-failed``)."""
    if url is None:
        return
    parsed = urlparse(url.strip())
    allowed = ("https", "http") if http_maybe else ("https",)
    if parsed.scheme not in allowed or not parsed.hostname:
        raise ValueError(
            f"--webhook-url must be an absolute https:// URL, not {url!r}: the jobs API delivers webhooks "
            "over https only (`hearkit webhooks listen` speaks http: put a TLS proxy in front of it), "
            "or leave the option out and the batch polls for its jobs"
        )


def _check_stereo(found: list[Recording], batch: BatchSettings) -> None:
    """``--stereo`` (one speaker per channel) refused for one-channel files before anything is sent
    (U3 finding 31: the dry run said nothing and every job failed)."""
    if batch.mode != "stereo":
        return
    mono = [
        Path(rec.source).name
        for rec in found
        if rec.skip_reason is None and rec.info is not None and rec.info.channels == 1
    ]
    if mono:
        names = ", ".join(mono[:3]) + (f" and {len(mono) - 3} more" if len(mono) > 3 else "")
        raise ValueError(
            f"--stereo sends each recording as one speaker per channel, but {len(mono)} of them have one "
            f"channel ({names}): run with --auto (each file by its channels) or --mono"
        )


def _dry_run_durations(manifest: Manifest, found: list[Recording]) -> list[float | None]:
    done = {row.rec_id for row in manifest.rows("completed", "skipped")}
    durations: list[float | None] = []
    for rec in found:
        if rec.skip_reason is None and rec.rec_id not in done:
            durations.append(rec.info.duration_s if rec.info else None)
    return durations


def _report(
    manifest: Manifest,
    cost: CostEstimate,
    *,
    dry_run: bool,
    started: float,
    stop_reason: str | None = None,
) -> BatchReport:
    totals = manifest.totals()
    failed = [_failed(row) for row in manifest.rows("failed")]
    skipped = [_failed(row) for row in manifest.rows("skipped")]
    unfinished = [_failed(row) for row in manifest.rows("pending", "submitted") if row.last_error]
    return BatchReport(
        out_dir=manifest.out_dir,
        counts=manifest.counts(),
        estimate=cost,
        dry_run=dry_run,
        stop_reason=stop_reason,
        failed=failed,
        skipped=skipped,
        unfinished=unfinished,
        audio_seconds=totals["audio_seconds"],
        billed_seconds=totals["billed_seconds"],
        wall_s=time.monotonic() - started,
    )


def _failed(row: ManifestRow) -> FailedRecording:
    return FailedRecording(
        call_id=row.call_id,
        source=row.source,
        status=row.status,
        error=row.last_error or "",
        job_id=row.job_id,
    )
