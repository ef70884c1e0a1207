"""The job worker: claims queued jobs from the store and runs the transcriber off the HTTP loop.

Transcription is CPU-bound, so it never runs on the event loop: a named transcriber
(``whisper``, ``module:Class``) runs in a pool of ``workers`` spawned processes, each building
its transcriber (and model) once, lazily; the ``fake`` transcriber or a transcriber instance
handed to the engine runs in a thread pool of the same size. Fetching an ``audio_url`` is async
I/O on the loop. Whatever happens to one job (bad audio, fetch refused, a crashed worker
process), it ends ``failed`` with an ``error`` that says why, and the worker keeps going.
Uploaded and fetched audio is deleted as soon as its job ends.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import json
import logging
import multiprocessing
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from hearkit.engine.fetch import FetchError, fetch_audio
from hearkit.engine.probe import probe_audio
from hearkit.engine.settings import EngineSettings
from hearkit.engine.store import JobRow, Store
from hearkit.engine.transcriber import AudioError, Transcriber
from hearkit.schema import JobCreateParams, WebhookEvent, WebhookEventData

__all__ = ["Worker", "load_transcriber", "run_transcription"]

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


def run_transcription(
    transcriber: Transcriber | str, audio_path: str, params: dict[str, object], max_audio_seconds: float
) -> tuple[str, float]:
    """Check the audio, transcribe it; returns (result JSON, billed audio seconds). Runs in the pool."""
    path = Path(audio_path)
    info = probe_audio(path)
    if info.duration_s > max_audio_seconds:
        raise AudioError(
            f"the audio is {info.duration_s:.0f} s long; this server accepts at most"
            f" {max_audio_seconds:.0f} s: split the recording"
        )
    engine = load_transcriber(transcriber) if isinstance(transcriber, str) else transcriber
    result = engine.transcribe(path, JobCreateParams.model_validate(params))
    if result.audio_seconds is None:
        result.audio_seconds = round(info.duration_s, 3)
    body = result.to_api()
    body.pop("formats", None)
    return json.dumps(body, separators=(",", ":")), float(result.audio_seconds)


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


class Worker:
    """Runs queued jobs, at most ``settings.workers`` at a time."""

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
        self._wake = asyncio.Event()
        self._executor = self._make_executor()
        self._tasks: set[asyncio.Task[None]] = set()

    def _make_executor(self) -> Executor:
        mode = self.settings.executor
        if mode == "auto":
            mode = "process" if isinstance(self.transcriber, str) and self.transcriber != "fake" else "thread"
        if mode == "process":
            if not isinstance(self.transcriber, str):
                raise ValueError("executor='process' needs a transcriber name, not an instance")
            return ProcessPoolExecutor(self.settings.workers, mp_context=multiprocessing.get_context("spawn"))
        if mode != "thread":
            raise ValueError(f"executor must be 'auto', 'thread' or 'process', not {mode!r}")
        if self.transcriber == "fake":
            self.transcriber = load_transcriber("fake")
        return ThreadPoolExecutor(self.settings.workers, thread_name_prefix="hearkit-transcribe")

    def wake(self) -> None:
        """A job was queued: look now instead of at the next poll."""
        self._wake.set()

    def shutdown(self) -> None:
        """Stop now: running jobs stay ``running`` in the store and run again at the next start."""
        for task in self._tasks:
            task.cancel()
        # A worker process busy with a long transcription would keep the interpreter from exiting.
        processes = getattr(self._executor, "_processes", None) or {}
        for process in list(processes.values()):
            process.terminate()
        self._executor.shutdown(wait=False, cancel_futures=True)

    async def run(self) -> None:
        """Claim and run jobs forever (until cancelled)."""
        slots = asyncio.Semaphore(self.settings.workers)
        while True:
            await slots.acquire()
            self._wake.clear()
            try:
                job = self.store.claim_next_job()
            except Exception:  # e.g. disk full: keep the worker alive and try again
                log.exception("claiming a job failed")
                job = None
            if job is None:
                slots.release()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.settings.poll_interval)
                continue
            task = asyncio.create_task(self._run_job(job, slots))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _run_job(self, job: JobRow, slots: asyncio.Semaphore) -> None:
        try:
            result_json, seconds, error = await self._transcribe(job)
            status = "completed" if error is None else "failed"
            self.store.finish_job(
                job,
                result_json=result_json,
                audio_seconds=seconds,
                error=error,
                webhook_event=webhook_event(job.job_id, job.params, status),
            )
            if job.audio_path:
                _remove(job.audio_path)
            self.on_finished(job.job_id)
        except Exception:
            log.exception("job %s: could not be finished; it will run again after a restart", job.job_id)
        finally:
            slots.release()

    async def _transcribe(self, job: JobRow) -> tuple[str | None, float | None, str | None]:
        if job.attempts > self.settings.max_attempts:
            message = f"the job was interrupted {job.attempts - 1} times (server restarts); submit it again"
            return None, None, message
        fetched: Path | None = None
        try:
            if job.audio_path:
                path = Path(job.audio_path)
            else:
                fetched = self.tmp_dir / job.job_id
                await fetch_audio(str(job.params["audio_url"]), fetched, self.settings)
                path = fetched
            loop = asyncio.get_running_loop()
            result_json, seconds = await loop.run_in_executor(
                self._executor,
                run_transcription,
                self.transcriber,
                str(path),
                job.params,
                self.settings.max_audio_seconds,
            )
            return result_json, seconds, None
        except (AudioError, FetchError) as exc:
            return None, None, str(exc)
        except BrokenProcessPool:
            log.error("job %s: the transcription worker process died; starting a new pool", job.job_id)
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = self._make_executor()
            return None, None, "the transcription worker crashed on this audio; submit it again or report it"
        except Exception as exc:
            log.exception("job %s: transcriber error", job.job_id)
            return None, None, f"internal transcription error ({type(exc).__name__}); submit the job again"
        finally:
            if fetched is not None:
                _remove(fetched)
