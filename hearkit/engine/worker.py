"""The job worker: claims queued jobs from the store and runs the transcriber off the HTTP loop.

Transcription is CPU-bound, so it never runs on the event loop: a named transcriber
(``whisper``, ``module:Class``) runs in ``workers`` slots, each a pool of one spawned process
that builds its transcriber (and model) once, lazily; the ``fake`` transcriber or a transcriber
instance handed to the engine runs in one thread per slot. One process per slot, not one pool of
``workers`` processes, because a process that dies breaks its whole pool: in a shared pool the
job running beside the crashing one failed with it; here a broken pool names its one job.
Fetching an ``audio_url`` is async I/O on the loop. Whatever happens to one job (bad audio,
fetch refused, a crashed worker process), it ends ``failed`` with a one-line ``error`` that says
why (the traceback goes to the engine log, ``<data_dir>/engine.log``), and the worker keeps going.
What happens to the *engine* is not the job's fault: when the engine stops (or the interpreter
exits) mid-job, the job is handed back to the queue (:mod:`hearkit.engine.leases`), never failed.
Uploaded and fetched audio is deleted as soon as its job ends.

With ``pool_calls`` > 1 a slot claims up to that many queued first-attempt ``channel: true`` uploads
at once and runs them in one ``transcribe_pooled`` call (their speech in shared Whisper windows);
each still ends on its own, as above, and a pool whose process dies runs each of its jobs again alone.

Many processes may run workers on one data dir at once: jobs are claimed under a lease
(:class:`hearkit.engine.leases.Leases`), so each runs in one live process at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import os
import traceback
from collections.abc import Callable
from concurrent.futures import Executor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from hearkit.engine.executors import process_pool, process_pool_problem, thread_pool, warn_thread_fallback
from hearkit.engine.fetch import FetchError, fetch_audio
from hearkit.engine.leases import Leases
from hearkit.engine.logs import configure_engine_log
from hearkit.engine.probe import probe_audio
from hearkit.engine.settings import EngineSettings
from hearkit.engine.store import JobRow, Store
from hearkit.engine.transcriber import AudioError, Transcriber
from hearkit.schema import JobCreateParams, Result, WebhookEvent, WebhookEventData

__all__ = ["Outcome", "Worker", "load_transcriber", "run_transcription", "run_transcriptions"]

log = logging.getLogger("hearkit.engine")

_NAMED = {
    "fake": "hearkit.engine.fake:FakeTranscriber",
    "whisper": "hearkit.engine.pipeline:WhisperTranscriber",
}
_CACHE: dict[str, Transcriber] = {}


def load_transcriber(spec: str) -> Transcriber:
    """Build the transcriber ``spec`` names (``fake``, ``whisper`` or ``module:Class``), once per process."""
    if spec not in _CACHE:
        target = _NAMED.get(spec, spec)
        module_name, _, attr = target.partition(":")
        if not attr:
            raise ValueError(f"transcriber {spec!r} is not 'fake', 'whisper' or 'package.module:ClassName'")
        factory = getattr(importlib.import_module(module_name), attr)
        _CACHE[spec] = factory()
    return _CACHE[spec]


def _checked_seconds(path: Path, params: dict[str, object], max_audio_seconds: float) -> float:
    """The audio's duration after the checks every job's audio passes; raises :class:`AudioError`."""
    info = probe_audio(path, max_seconds=max_audio_seconds)
    if params.get("channel") and info.channels < 2:
        raise AudioError(
            f"the file has {info.channels} channel: channel=true needs a stereo recording with one"
            " speaker per channel; send it with diarize=true to separate the speakers (on the command"
            " line: `hearkit analyze FILE --mono`, or no --stereo)"
        )
    if info.duration_s > max_audio_seconds:
        raise AudioError(
            f"the audio is {info.duration_s:.0f} s long; this server accepts at most"
            f" {max_audio_seconds:.0f} s: split the recording"
        )
    return info.duration_s


def _serialised(result: Result, duration_s: float) -> tuple[str, float]:
    if result.audio_seconds is None:
        result.audio_seconds = round(duration_s, 3)
    body = result.to_api()
    body.pop("formats", None)
    return json.dumps(body, separators=(",", ":")), float(result.audio_seconds)


def run_transcription(
    transcriber: Transcriber | str, audio_path: str, params: dict[str, object], max_audio_seconds: float
) -> tuple[str, float]:
    """Check the audio, transcribe it; returns (result JSON, billed audio seconds). Runs in the pool."""
    path = Path(audio_path)
    duration_s = _checked_seconds(path, params, max_audio_seconds)
    engine = load_transcriber(transcriber) if isinstance(transcriber, str) else transcriber
    return _serialised(engine.transcribe(path, JobCreateParams.model_validate(params)), duration_s)


@dataclass(frozen=True)
class Outcome:
    """What one job of a pooled run came to: its result, or why not.

    ``audio_error``: the job's audio cannot be used (the user's one line, as :class:`AudioError`
    says it); ``internal``: an unexpected error (``Type: first line``), with ``traceback`` for the
    engine log.
    """

    result_json: str | None = None
    audio_seconds: float | None = None
    audio_error: str | None = None
    internal: str | None = None
    traceback: str | None = None

    @classmethod
    def of_error(cls, exc: BaseException) -> Outcome:
        if isinstance(exc, AudioError):
            return cls(audio_error=str(exc))
        text = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        return cls(internal=_cause(exc), traceback=text)


def run_transcriptions(
    transcriber: Transcriber | str, jobs: list[tuple[str, dict[str, object]]], max_audio_seconds: float
) -> list[Outcome]:
    """Check and transcribe several jobs' audio in one call, one :class:`Outcome` each (in order).

    A transcriber with ``transcribe_pooled`` (the whisper pipeline) packs the speech of the stereo
    ones into shared windows; any other transcribes them one by one. A job whose audio fails a
    check, or whose transcription fails, gets its own error and the others go on. Runs in the pool.
    """
    outcomes: list[Outcome | None] = [None] * len(jobs)
    ready: list[tuple[int, Path, JobCreateParams, float]] = []
    for index, (audio_path, params) in enumerate(jobs):
        try:
            path = Path(audio_path)
            seconds = _checked_seconds(path, params, max_audio_seconds)
            ready.append((index, path, JobCreateParams.model_validate(params), seconds))
        except Exception as exc:
            outcomes[index] = Outcome.of_error(exc)
    engine = load_transcriber(transcriber) if isinstance(transcriber, str) else transcriber
    pooled = getattr(engine, "transcribe_pooled", None)
    results: list[Result | Exception]
    if callable(pooled) and ready:
        results = pooled([(path, options) for _, path, options, _ in ready])
    else:
        results = []
        for _, path, options, _ in ready:
            try:
                results.append(engine.transcribe(path, options))
            except Exception as exc:
                results.append(exc)
    for (index, _, _, seconds), result in zip(ready, results, strict=True):
        try:
            if isinstance(result, Exception):
                raise result
            result_json, billed = _serialised(result, seconds)
            outcomes[index] = Outcome(result_json, billed)
        except Exception as exc:
            outcomes[index] = Outcome.of_error(exc)
    return [o if o is not None else Outcome(internal="RuntimeError: not transcribed") for o in outcomes]


def webhook_event(job_id: str, params: dict[str, object], status: str) -> tuple[str, str, str] | None:
    """(url, event type, JSON payload) of the job's webhook, or ``None`` without ``webhook_url``."""
    url = params.get("webhook_url")
    if not isinstance(url, str):
        return None
    event_type = f"transcription.job.{status}"
    event = WebhookEvent(type=event_type, data=WebhookEventData(job_id=job_id))
    return url, event_type, json.dumps(event.to_api(), separators=(",", ":"))


def _remove(path: str | Path) -> None:
    """Delete a job's audio (privacy: no audio outlives its job)."""
    Path(path).unlink(missing_ok=True)


_MISSING_AUDIO = (
    "the uploaded audio is missing from the engine's data dir (deleted outside the engine);"
    " submit the job again"
)


def _exists(path: str | None) -> bool:
    return bool(path) and Path(str(path)).exists()


def _ids(jobs: list[JobRow]) -> str:
    return ", ".join(job.job_id for job in jobs)


class _HandBack(Exception):
    """The engine, not the job, stopped this attempt: the job goes back to the queue."""


class Worker:
    """Runs queued jobs, at most ``settings.workers`` at a time, under leases of this process."""

    def __init__(
        self,
        store: Store,
        settings: EngineSettings,
        transcriber: Transcriber | str,
        on_finished: Callable[[str], None] | None = None,
    ) -> None:
        self.on_finished = on_finished or (lambda _job_id: None)
        self.store = store
        self.settings = settings
        self.transcriber = transcriber
        self.tmp_dir = settings.data_dir / "tmp"
        self.log_path = configure_engine_log(settings.data_dir)
        self.leases = Leases(store, settings.lease_seconds)
        self._wake = asyncio.Event()
        self._stopping = False
        self._pool_checked = True
        self._slots = [self._make_executor() for _ in range(max(1, settings.workers))]
        self._busy: set[int] = set()  # slots running a transcription now
        self._tasks: set[asyncio.Task[None]] = set()
        self._pooling: bool | None = None  # whether the transcriber pools (looked up once)

    def _make_executor(self) -> Executor:
        """One slot's executor: a one-process pool, or one thread when processes are not used."""
        mode = self.settings.executor
        if mode == "auto":
            mode = "process" if isinstance(self.transcriber, str) and self.transcriber != "fake" else "thread"
        if mode == "process":
            if not isinstance(self.transcriber, str):
                raise ValueError("executor='process' needs a transcriber name, not an instance")
            problem = process_pool_problem()
            if problem is None:
                self._pool_checked = False  # the first job checks that a process starts at all
                return process_pool(1, share_of=self.settings.workers)
            warn_thread_fallback(problem)
            mode = "thread"
        if mode != "thread":
            raise ValueError(f"executor must be 'auto', 'thread' or 'process', not {mode!r}")
        if self.transcriber == "fake":
            self.transcriber = load_transcriber("fake")
        return thread_pool(1)

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def shutdown(self) -> None:
        """Stop now: this process's running jobs go back to the queue (another process runs them)."""
        self._stopping = True
        for task in self._tasks:
            task.cancel()
        try:
            self.leases.leave()
        except Exception:  # the store may be closed already: the leases then expire
            log.exception("handing jobs back failed; other processes take them over when their leases expire")
        for slot, executor in enumerate(self._slots):
            if slot not in self._busy:
                # An idle worker process ends on its own: its exit releases what it holds (ended with
                # terminate(), its semaphores were reported leaked at every engine command's exit).
                executor.shutdown(wait=True, cancel_futures=True)
                continue
            # A worker process busy with a long transcription would keep the interpreter from exiting.
            processes = list((getattr(executor, "_processes", None) or {}).values())
            for process in processes:
                process.terminate()
            executor.shutdown(wait=False, cancel_futures=True)

    async def run(self) -> None:
        """Claim and run jobs forever (until cancelled), renewing this process's leases meanwhile."""
        renewer = asyncio.create_task(self._renew_forever(), name="hearkit-leases")
        try:
            await self._claim_forever()
        finally:
            renewer.cancel()

    async def _renew_forever(self) -> None:
        while True:
            await asyncio.sleep(self.leases.renew_interval)
            try:
                await asyncio.to_thread(self.leases.renew)
            except Exception:
                log.exception("renewing job leases failed")

    async def _claim_forever(self) -> None:
        free: asyncio.Queue[int] = asyncio.Queue()
        for slot in range(len(self._slots)):
            free.put_nowait(slot)
        while True:
            slot = await free.get()
            self._wake.clear()
            job = None
            if not self._stopping:
                try:
                    job = self.leases.claim_next()
                except Exception:  # e.g. disk full: keep the worker alive and try again
                    log.exception("claiming a job failed")
            if job is None:
                free.put_nowait(slot)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)
                continue
            jobs = [job, *self._claim_pool_of(job)]
            task = asyncio.create_task(self._run_jobs(jobs, slot, free))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _pools(self, job: JobRow) -> bool:
        """True when ``job`` may share its transcription with other queued jobs (see ``pool_calls``):
        a ``channel: true`` upload, on its first attempt (a job whose process died while running it
        runs alone, so that a crash on its audio stays its own), for a transcriber that pools."""
        return bool(
            self.settings.pool_calls > 1
            and job.params.get("channel")
            and job.audio_path
            and job.attempts <= 1
            and self._transcriber_pools()
        )

    def _transcriber_pools(self) -> bool:
        """The transcriber has ``transcribe_pooled`` (``whisper`` has; a ``module:Class`` name is
        looked up on the class, without building it)."""
        if self._pooling is None:
            spec = self.transcriber
            if not isinstance(spec, str):
                self._pooling = callable(getattr(spec, "transcribe_pooled", None))
            elif spec in _NAMED:
                self._pooling = spec == "whisper"
            else:
                try:
                    module_name, _, attr = spec.partition(":")
                    factory = getattr(importlib.import_module(module_name), attr)
                    self._pooling = callable(getattr(factory, "transcribe_pooled", None))
                except Exception:  # loading it fails in the worker process, with the job's error
                    self._pooling = False
        return self._pooling

    def _claim_pool_of(self, first: JobRow) -> list[JobRow]:
        """Queued jobs claimed to run with ``first`` (up to ``pool_calls`` in all): uploads with
        ``channel: true`` and the same vocabulary, never tried before, of the same project. Calls of
        different projects never share a window: a word at the edge of a packed piece could go to
        the wrong call, and one customer's words must not reach another's transcript."""
        if self._stopping or not self._pools(first):
            return []

        def joins(job: JobRow) -> bool:
            return (
                job.status == "queued"
                and job.attempts == 0
                and job.project_id == first.project_id
                and bool(job.params.get("channel"))
                and bool(job.audio_path)
                and job.params.get("vocabulary") == first.params.get("vocabulary")
            )

        more: list[JobRow] = []
        while len(more) + 1 < self.settings.pool_calls:
            try:
                job = self.leases.claim_next(accept=joins)
            except Exception:
                log.exception("claiming a job to pool with %s failed", first.job_id)
                break
            if job is None:
                break
            more.append(job)
        return more

    def _out_of_credit(self, job: JobRow) -> str | None:
        """Why ``job`` may not run: its live key's prepaid credit was used up while it waited in the
        queue (the create check sees only what was billed then, so one batch of queued jobs overran a
        100 s credit fourfold, U8 finding 5). The job fails unbilled; the overrun is at most the jobs
        already running."""
        key = self.store.key_by_id(job.key_id)
        if key is None or key.env != "live" or key.credit_seconds is None:
            return None
        used = self.store.billed_seconds(key.key_id)
        if used < key.credit_seconds:
            return None
        return (
            f"credit_exhausted: this key's prepaid credit of {key.credit_seconds:g} audio seconds was used up"
            f" ({used:.1f} s billed) while the job waited; it was not transcribed or billed. Create a key"
            " with more credit (`hearkit serve --create-key --live --credit-seconds N`) and send it again"
        )

    async def _run_jobs(self, jobs: list[JobRow], slot: int, free: asyncio.Queue[int]) -> None:
        """Transcribe ``jobs`` (one, or a pool) in ``slot`` and store each one's outcome."""
        funded = []
        for job in jobs:
            refused = self._out_of_credit(job)
            if refused is None:
                funded.append(job)
            else:
                self._finish(job, None, None, refused)
        jobs = funded
        if not jobs:
            free.put_nowait(slot)
            return
        try:
            if len(jobs) == 1:
                outcomes = [await self._transcribe(jobs[0], slot)]
            else:
                outcomes = await self._transcribe_pool(jobs, slot)
        except _HandBack as exc:
            for job in jobs:
                log.info("job %s: handed back to the queue (%s)", job.job_id, exc)
                with contextlib.suppress(Exception):
                    self.leases.hand_back(job.job_id)
            free.put_nowait(slot)
            return
        except Exception:
            log.exception(
                "jobs %s: could not be run; another process or the next start runs them", _ids(jobs)
            )
            free.put_nowait(slot)
            return
        try:
            for job, (result_json, seconds, error) in zip(jobs, outcomes, strict=True):
                self._finish(job, result_json, seconds, error)
        finally:
            free.put_nowait(slot)

    def _finish(self, job: JobRow, result_json: str | None, seconds: float | None, error: str | None) -> None:
        try:
            status = "completed" if error is None else "failed"
            finished = self.leases.finish(
                job,
                result_json=result_json,
                audio_seconds=seconds,
                error=error,
                webhook_event=webhook_event(job.job_id, job.params, status),
            )
            if finished:
                if job.audio_path:
                    _remove(job.audio_path)
                self.on_finished(job.job_id)
        except Exception:
            log.exception(
                "job %s: could not be finished; another process or the next start runs it", job.job_id
            )

    async def _transcribe_pool(
        self, jobs: list[JobRow], slot: int
    ) -> list[tuple[str | None, float | None, str | None]]:
        """Each job's (result JSON, billed seconds, error) from one pooled run of their uploads.

        Every job completes or fails on its own (:func:`run_transcriptions`). If the pooled run
        itself fails (its worker process died: a native crash on one of the files), each job is
        run again alone in a new process, so that the crash fails only the job whose audio causes it.
        """
        missing: tuple[str | None, float | None, str | None] = (None, None, _MISSING_AUDIO)
        outcomes = [missing] * len(jobs)
        present = [i for i, job in enumerate(jobs) if await asyncio.to_thread(_exists, job.audio_path)]
        if not present:
            return outcomes
        await self._ensure_processes_start(slot)
        loop = asyncio.get_running_loop()
        try:
            self._busy.add(slot)
            results = await loop.run_in_executor(
                self._slots[slot],
                run_transcriptions,
                self.transcriber,
                [(str(jobs[i].audio_path), jobs[i].params) for i in present],
                self.settings.max_audio_seconds,
            )
        except BrokenProcessPool:
            if self._stopping:
                raise _HandBack("the engine stopped its worker processes") from None
            log.error("jobs %s: the transcription worker process died; each runs alone", _ids(jobs))
            self._slots[slot].shutdown(wait=False, cancel_futures=True)
            self._slots[slot] = self._make_executor()
            results = None
        except RuntimeError as exc:
            if self._stopping or "shutdown" in str(exc):  # the executor (or interpreter) is stopping
                raise _HandBack(str(exc)) from exc
            results = None
            log.exception("jobs %s: the pooled run failed; each runs alone", _ids(jobs))
        except Exception:
            log.exception("jobs %s: the pooled run failed; each runs alone", _ids(jobs))
            results = None
        finally:
            self._busy.discard(slot)
        if results is None:
            for i in present:
                outcomes[i] = await self._transcribe(jobs[i], slot)
            return outcomes
        log.info("jobs %s: transcribed together (pool_calls=%d)", _ids([jobs[i] for i in present]), len(jobs))
        for i, outcome in zip(present, results, strict=True):
            if outcome.internal is not None:
                log.error(
                    "job %s: transcriber error\n%s", jobs[i].job_id, outcome.traceback or outcome.internal
                )
                outcomes[i] = (None, None, _internal(outcome.internal, self.log_path))
            else:
                outcomes[i] = (outcome.result_json, outcome.audio_seconds, outcome.audio_error)
        return outcomes

    async def _ensure_processes_start(self, slot: int) -> None:
        """Before the first job on process pools: check that a worker process starts at all."""
        if self._pool_checked:
            return
        self._pool_checked = True
        try:
            await asyncio.get_running_loop().run_in_executor(self._slots[slot], os.getpid)
        except BrokenProcessPool:
            for executor in self._slots:
                executor.shutdown(wait=False, cancel_futures=True)
            warn_thread_fallback("a worker process could not start from this program")
            if self.transcriber == "fake":
                self.transcriber = load_transcriber("fake")
            self._slots = [thread_pool(1) for _ in self._slots]

    async def _transcribe(self, job: JobRow, slot: int) -> tuple[str | None, float | None, str | None]:
        if job.attempts > self.settings.max_attempts:
            message = (
                f"the job's engine process died {job.attempts - 1} times while running it (a crash on this"
                " audio, or the process killed); submit it again"
            )
            return None, None, message
        fetched: Path | None = None
        try:
            if job.audio_path:
                path = Path(job.audio_path)
                if not await asyncio.to_thread(path.exists):
                    return None, None, _MISSING_AUDIO
            else:
                fetched = self.tmp_dir / job.job_id
                await fetch_audio(str(job.params["audio_url"]), fetched, self.settings)
                path = fetched
            await self._ensure_processes_start(slot)
            loop = asyncio.get_running_loop()
            try:
                self._busy.add(slot)
                result_json, seconds = await loop.run_in_executor(
                    self._slots[slot],
                    run_transcription,
                    self.transcriber,
                    str(path),
                    job.params,
                    self.settings.max_audio_seconds,
                )
            except RuntimeError as exc:
                if self._stopping or "shutdown" in str(exc):  # the executor (or interpreter) is stopping
                    raise _HandBack(str(exc)) from exc
                raise
            return result_json, seconds, None
        except (AudioError, FetchError) as exc:
            return None, None, str(exc)
        except BrokenProcessPool:
            if self._stopping:
                raise _HandBack("the engine stopped its worker processes") from None
            # The slot's pool held this job only, so the crash is this job's.
            log.error("job %s: the transcription worker process died; starting a new one", job.job_id)
            self._slots[slot].shutdown(wait=False, cancel_futures=True)
            self._slots[slot] = self._make_executor()
            return None, None, "the transcription worker crashed on this audio; submit it again or report it"
        except _HandBack:
            raise
        except Exception as exc:
            log.exception("job %s: transcriber error", job.job_id)
            return None, None, _one_line(exc, self.log_path)
        finally:
            self._busy.discard(slot)
            if fetched is not None:
                _remove(fetched)


def _cause(exc: BaseException) -> str:
    """``<Type>: <first line of the message>``, at most 300 characters."""
    first = next((line.strip() for line in str(exc).splitlines() if line.strip()), "")
    cause = f"{type(exc).__name__}: {first}" if first else type(exc).__name__
    return cause[:297] + "..." if len(cause) > 300 else cause


def _internal(cause: str, log_path: Path) -> str:
    return f"internal transcription error: {cause} (traceback in {log_path}); submit the job again"


def _one_line(exc: BaseException, log_path: Path) -> str:
    """``internal transcription error: <Type>: <first line of the message>`` and where the traceback is."""
    return _internal(_cause(exc), log_path)
