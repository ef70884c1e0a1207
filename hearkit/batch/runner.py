"""The batch runner: every pending recording of the manifest through the jobs API, at bounded concurrency.

One recording goes through these steps, each one committed to the manifest before the next:

1. the create request (options, ``Idempotency-Key``) is fixed and stored;
2. ``submitted`` (attempts + 1) is stored, then the request is sent;
3. the job id of the 202 is stored;
4. the job is awaited (a webhook event wakes the waiter at once; polling with backoff catches
   an event that never came);
5. the per-call JSON is written, then ``completed`` is stored.

A crash between any two steps resumes at the step that was not stored: a create that may or
may not have reached the server is sent again with the same key and the same request, and the
server replays the original job, so no recording is billed twice and none is lost.

Errors: 5xx and connection errors are retried (``max_attempts`` sends, exponential backoff);
429 pauses for ``Retry-After`` and lowers the concurrency (:mod:`hearkit.batch.limiter`); 402,
401, 403 and a daily cap (429 ``daily_cap_exceeded``) stop the run cleanly (nothing more is
sent; jobs already created are still collected); a job that fails on the server is ``failed``
with its error.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import hashlib
import json
import logging
import os
import re
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, TypeVar

from hearkit.batch.limiter import AdaptiveLimiter
from hearkit.batch.manifest import Manifest, ManifestRow
from hearkit.batch.progress import BatchProgress
from hearkit.batch.sent import SentJobs
from hearkit.batch.speakers import request_options
from hearkit.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    DailyCapExceededError,
    IdempotencyConflictError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
)
from hearkit.ledger import parse_units
from hearkit.retry import PollPolicy, RetryPolicy
from hearkit.schema import Job, Result

__all__ = ["JobsClient", "Runner", "RunnerSettings", "idempotency_key", "parse_units", "write_json"]

_T = TypeVar("_T")
_log = logging.getLogger("hearkit.batch")

_JOB_PATH = re.compile(r"/v1/transcription/jobs/([^/?#]+)$")
_MAX_RATE_LIMITED = 200
#: Errors of a job whose upload did not reach the server whole (the engine's wording): such a job is
#: never reused; the recording is sent again as a new job.
_LOST_UPLOAD = (
    "the audio file is empty (0 bytes)",
    "the uploaded audio is missing",
    "disconnected before the request body was complete",
)


class JobsClient(Protocol):
    """The part of :class:`hearkit.client.AsyncPyAI` the runner uses (``client.jobs``)."""

    async def create(self, audio: Any = None, **kwargs: Any) -> Job: ...

    async def get(self, job_id: str) -> Job: ...

    async def result(self, job: Job) -> Result: ...


@dataclass
class RunnerSettings:
    """How the runner sends and waits.

    ``options`` are the transcription options sent with every job (``model``, ``numerals``,
    ``output_formats``, ``vocabulary``); the diarization option comes from each recording's
    mode, and ``speakers_expected`` goes with each diarized one when set
    (:func:`hearkit.batch.speakers.request_options`). ``poll_initial``/``poll_max`` bound the
    polling backoff (×1.5 a poll; or ``poll``, a :class:`hearkit.retry.PollPolicy`, the
    client's own type); with a ``webhook_url`` the runner waits for events and polls only
    every ``webhook_poll`` seconds. Failed sends back off by ``retry`` (a
    :class:`hearkit.retry.RetryPolicy`, the client's own type), by default ``max_attempts``
    sends with ``retry_backoff · 2^attempt`` seconds between them (at most 64 ×
    ``retry_backoff``). ``sent_jobs``: the index of the jobs this machine's batches created
    (:mod:`hearkit.batch.sent`; ``None``: its default place), by which a 409 on another delivery
    reuses the job.
    """

    concurrency: int = 8
    options: dict[str, Any] = field(default_factory=dict)
    speakers_expected: int | None = None
    webhook_url: str | None = None
    max_attempts: int = 8
    poll_initial: float = 0.1
    poll_max: float = 5.0
    webhook_poll: float = 30.0
    retry_backoff: float = 0.2
    job_timeout: float = 6 * 3600.0
    retry: RetryPolicy | None = None
    poll: PollPolicy | None = None
    sent_jobs: Path | None = None

    def __post_init__(self) -> None:
        # poll_initial/poll_max and max_attempts/retry_backoff are the short way to give the
        # policies; a given poll or retry wins.
        if self.poll is None:
            self.poll = PollPolicy(initial=self.poll_initial, factor=1.5, maximum=self.poll_max)
        if self.retry is None:
            self.retry = RetryPolicy(
                max_retries=self.max_attempts - 1,
                initial_delay=self.retry_backoff,
                max_delay=self.retry_backoff * 2**6,
            )
        self.max_attempts = self.retry.attempts

    @property
    def polling(self) -> PollPolicy:
        """The :class:`hearkit.retry.PollPolicy` of waiting for a job (without webhook events)."""
        assert self.poll is not None  # set by __post_init__
        return self.poll

    @property
    def policy(self) -> RetryPolicy:
        """The :class:`hearkit.retry.RetryPolicy` of submissions, polls and result fetches."""
        assert self.retry is not None  # set by __post_init__
        return self.retry


def idempotency_key(rec_id: str, options: Mapping[str, Any], generation: int = 0) -> str:
    """The Idempotency-Key of one recording: content hash + transcription options + generation.

    Delivery settings (``webhook_url``) are not part of it: they do not change the transcript.
    ``generation`` increases only when a job that *failed on the server* is retried on purpose.
    """
    canonical = json.dumps(dict(options), sort_keys=True, separators=(",", ":"))
    digest = hashlib.sha256(f"{rec_id}|{canonical}|{generation}".encode()).hexdigest()
    return f"hearkit-{digest[:48]}"


def write_json(path: Path, document: Any) -> None:
    """Write JSON atomically (temp file + rename): a crash leaves the old file or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(document, indent=1, sort_keys=True), encoding="utf-8")
    os.replace(tmp, path)


class Runner:
    """Runs the pending rows of one manifest through a jobs client."""

    def __init__(
        self,
        manifest: Manifest,
        jobs: JobsClient,
        settings: RunnerSettings,
        *,
        progress: BatchProgress | None = None,
        billed: Mapping[str, float] | None = None,
    ) -> None:
        self.manifest = manifest
        self.jobs = jobs
        self.settings = settings
        self.progress = progress
        self.billed = billed if billed is not None else {}
        self.limiter = AdaptiveLimiter(settings.concurrency)
        self.stop_reason: str | None = None
        self.calls_dir = manifest.out_dir / "calls"
        self._waiters: dict[str, asyncio.Event] = {}
        self._event_jobs: set[str] = set()
        self._seen_events: set[str] = set()
        self._resent: set[str] = set()
        self.sent = SentJobs(settings.sent_jobs)
        self.reused_elsewhere = 0
        """Recordings whose job another batch created under the same key with another delivery."""

    async def run(self, rows: list[ManifestRow]) -> None:
        """Process ``rows`` (pending or submitted); returns when each is settled or the run stopped."""
        queue: asyncio.Queue[ManifestRow] = asyncio.Queue()
        for row in rows:
            queue.put_nowait(row)
        watcher = asyncio.create_task(self._watch_webhook_events()) if self.settings.webhook_url else None
        workers = [
            asyncio.create_task(self._worker(queue)) for _ in range(min(self.settings.concurrency, len(rows)))
        ]
        try:
            await asyncio.gather(*workers)
        finally:
            for task in workers:
                task.cancel()
            if watcher is not None:
                watcher.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watcher

    async def _worker(self, queue: asyncio.Queue[ManifestRow]) -> None:
        while True:
            try:
                row = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            async with self.limiter:
                await self._process(row)

    async def _process(self, row: ManifestRow) -> None:
        job_id = row.job_id
        if job_id is None:
            if self.stop_reason is not None:
                return
            job_id = await self._submit(row)
            if job_id is None:
                return
        job = await self._wait(row, job_id)
        if job is None:
            return
        if job.status == "completed":
            try:
                await self._save(row, job)
            except (APIError, APIConnectionError, OSError) as exc:
                # Stays `submitted` with its job id: the next run fetches the result again.
                self.manifest.note_error(row.rec_id, f"result of job {job.job_id} not saved: {exc}")
        else:
            error = job.error or f"job ended with status {job.status}"
            if self._upload_lost(row, error):
                # The server never had the whole file: never reuse that job, send the file again.
                self._resent.add(row.rec_id)
                fresh = self.manifest.resend(row.rec_id, f"job {job.job_id}: {error}; sent again")
                await self._process(fresh)
                return
            self.manifest.mark_failed(row.rec_id, f"job {job.job_id} {job.status}: {error}")
            if self.progress is not None:
                self.progress.failed_one()

    def _upload_lost(self, row: ManifestRow, error: str) -> bool:
        """Whether a failed job's error says its upload was empty, missing or cut off, once per run,
        while the local file is a recording this batch read and found usable."""
        if row.kind != "file" or row.rec_id in self._resent or row.duration_s is None:
            return False
        if not any(sign in error for sign in _LOST_UPLOAD):
            return False
        path = Path(row.source)
        return path.is_file() and path.stat().st_size > 0

    def _request(self, row: ManifestRow) -> tuple[str, dict[str, Any]]:
        if row.idempotency_key and row.request is not None:
            return row.idempotency_key, row.request
        options = request_options(self.settings.options, row.mode, self.settings.speakers_expected)
        key = idempotency_key(row.rec_id, options, row.generation)
        request = dict(options)
        if row.kind == "url":
            request["audio_url"] = row.source
        if self.settings.webhook_url:
            request["webhook_url"] = self.settings.webhook_url
        stored = self.manifest.prepare_submit(row.rec_id, key, request)
        assert stored.idempotency_key is not None and stored.request is not None
        return stored.idempotency_key, stored.request

    async def _submit(self, row: ManifestRow) -> str | None:
        key, request = self._request(row)
        # The budget is per run: sends cut short by a crash (kill -9) are counted in the manifest
        # (``attempts``) but must not use up the retries of the run that resumes.
        attempts = 0
        rate_limited = 0
        last_error = row.last_error or ""
        while attempts < self.settings.policy.attempts:
            await self.limiter.pace()
            if self.stop_reason is not None:
                return None
            self.manifest.mark_sending(row.rec_id)
            attempts += 1
            try:
                audio = Path(row.source) if row.kind == "file" else None
                job = await self.jobs.create(audio, idempotency_key=key, **request)
            except DailyCapExceededError as exc:
                self._stop(str(exc))  # hours until the reset: stop cleanly rather than wait
                self.manifest.note_error(row.rec_id, str(exc))
                if attempts == 1 and row.attempts == 0:  # nothing ever reached the server
                    self.manifest.mark_pending(row.rec_id)
                return None
            except RateLimitError as exc:
                self.limiter.on_rate_limited(exc.retry_after)
                last_error = str(exc)
                self.manifest.note_error(row.rec_id, last_error)
                rate_limited += 1
                if rate_limited < _MAX_RATE_LIMITED:
                    attempts -= 1  # a 429 created nothing: it does not use up an attempt
                continue
            except (PaymentRequiredError, AuthenticationError, PermissionDeniedError) as exc:
                self._stop(str(exc))
                self.manifest.note_error(row.rec_id, str(exc))
                if attempts == 1 and row.attempts == 0:  # nothing ever reached the server
                    self.manifest.mark_pending(row.rec_id)
                return None
            except IdempotencyConflictError as exc:
                return await self._conflict(row, key, exc)
            except (ServerError, APIConnectionError) as exc:
                last_error = str(exc)
                self.manifest.note_error(row.rec_id, last_error)
                await self._backoff(attempts)
                continue
            except APIError as exc:
                # A 4xx refused the request itself (no job was created); a malformed success may have one.
                self._fail(row, str(exc), refused=400 <= exc.status_code < 500)
                return None
            await asyncio.to_thread(self.sent.remember, key, job.job_id)
            self.manifest.mark_created(row.rec_id, job.job_id)
            await self.limiter.on_success()
            return job.job_id
        self._fail(row, f"gave up after {attempts} attempts: {last_error}")
        return None

    async def _conflict(self, row: ManifestRow, key: str, exc: IdempotencyConflictError) -> str | None:
        """A 409 for a key that differs from an earlier request in its delivery alone (the key holds
        the recording and every transcription option): the earlier job, when this machine's index
        knows it and the server still has it (not failed), is this recording's job, transcribed and
        billed once. Otherwise the recording fails with a new generation, so ``--retry-failed``
        sends it as a new job (the same key would be refused again)."""
        for job_id in await asyncio.to_thread(self.sent.jobs_of, key):
            try:
                earlier = await self.jobs.get(job_id)
            except (APIError, APIConnectionError):
                continue  # another server's or account's job (404), or not reachable now
            if earlier.status in ("failed", "canceled", "cancelled"):
                continue
            self.manifest.mark_created(row.rec_id, job_id)
            self.reused_elsewhere += 1
            return job_id
        self.manifest.mark_conflict(
            row.rec_id,
            f"{exc} This recording was sent in the last 24 h with the same transcription options but"
            " another delivery (--webhook-url, or none), by a batch whose job this machine does not"
            " know: --retry-failed sends it as a new job (transcribed and billed again)",
        )
        if self.progress is not None:
            self.progress.failed_one()
        return None

    async def _wait(self, row: ManifestRow, job_id: str) -> Job | None:
        delay = self.settings.polling.initial
        deadline = time.monotonic() + self.settings.job_timeout
        errors = 0
        while True:
            await self.limiter.pace()
            try:
                job = await self.jobs.get(job_id)
            except RateLimitError as exc:
                self.limiter.on_rate_limited(exc.retry_after)
                continue
            except NotFoundError as exc:
                self._fail(row, f"job {job_id} no longer exists on the server: {exc}")
                return None
            except (ServerError, APIConnectionError) as exc:
                errors += 1
                self.manifest.note_error(row.rec_id, str(exc))
                if errors >= self.settings.policy.attempts * 4:
                    return None  # stays `submitted`: the next run picks the job up again
                await self._backoff(min(errors, 6))
                continue
            if job.is_terminal:
                return job
            if time.monotonic() > deadline:
                self.manifest.note_error(row.rec_id, f"job {job_id} still {job.status} after the timeout")
                return None
            await self._sleep_or_event(job_id, delay)
            if not self.settings.webhook_url:
                delay = self.settings.polling.after(delay)
            else:
                delay = self.settings.webhook_poll

    async def _save(self, row: ManifestRow, job: Job) -> None:
        result = job.result
        if result is None:
            result = await _retrying(lambda: self.jobs.result(job), self.settings.policy)
        document = job.to_api()
        document["result"] = result.to_api()
        document["hearkit"] = {
            "call_id": row.call_id,
            "rec_id": row.rec_id,
            "source": row.source,
            "mode": row.mode,
            "layout": row.layout,
            "idempotency_key": row.idempotency_key,
            "metadata": row.metadata,
        }
        document["hearkit"]["format_files"] = await self._save_formats(row, job, result)
        path = self.calls_dir / f"{row.call_id}.json"
        write_json(path, document)
        billed = self.billed.get(job.job_id)
        self.manifest.mark_completed(
            row.rec_id,
            result_path=str(path.relative_to(self.manifest.out_dir)),
            audio_seconds=result.audio_seconds,
            billed_seconds=billed,
        )
        if self.progress is not None:
            self.progress.completed(billed if billed is not None else result.audio_seconds)

    async def _save_formats(self, row: ManifestRow, job: Job, result: Result) -> dict[str, str]:
        """Each subtitle rendering asked for (``--formats srt,vtt``) saved as ``calls/<call_id>.<fmt>``;
        returns ``{fmt: path relative to the batch folder}``. The result holds only signed links,
        dead once the embedded engine's port closes and after an hour on the hosted API: the
        subtitles were never kept (U3 finding 28). A rendering that cannot be fetched is left out
        with a warning; the call itself is complete."""
        download = getattr(self.jobs, "download_format", None)
        saved: dict[str, str] = {}
        for fmt in sorted(result.formats or {}):
            if fmt not in ("srt", "vtt") or download is None:
                continue
            try:
                text = await _retrying(functools.partial(download, job, fmt), self.settings.policy)
            except (APIError, APIConnectionError, ValueError) as exc:
                _log.warning("the %s subtitles of %s could not be fetched (%s)", fmt, row.call_id, exc)
                continue
            path = self.calls_dir / f"{row.call_id}.{fmt}"
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_text(str(text), encoding="utf-8")
            os.replace(tmp, path)
            saved[fmt] = str(path.relative_to(self.manifest.out_dir))
        return saved

    def _fail(self, row: ManifestRow, error: str, *, refused: bool = False) -> None:
        self.manifest.mark_failed(row.rec_id, error, refused=refused)
        if self.progress is not None:
            self.progress.failed_one()

    def _stop(self, reason: str) -> None:
        if self.stop_reason is None:
            self.stop_reason = reason

    async def _backoff(self, attempt: int) -> None:
        await asyncio.sleep(self.settings.policy.backoff(attempt - 1))

    # webhook events -------------------------------------------------------------------------

    async def _sleep_or_event(self, job_id: str, delay: float) -> None:
        if job_id in self._event_jobs:
            self._event_jobs.discard(job_id)
            return
        event = self._waiters.setdefault(job_id, asyncio.Event())
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(event.wait(), timeout=delay)
        self._waiters.pop(job_id, None)

    async def _watch_webhook_events(self) -> None:
        """Wake the waiter of each job whose webhook event the receiver stored for this batch."""
        from hearkit.batch.webhook_listener import webhook_store

        store = await asyncio.to_thread(webhook_store, self.manifest.out_dir)
        try:
            while True:
                for event in await asyncio.to_thread(store.events):
                    if event.dedupe_key in self._seen_events:
                        continue
                    self._seen_events.add(event.dedupe_key)
                    waiter = self._waiters.get(event.job_id)
                    if waiter is not None:
                        waiter.set()
                    else:
                        self._event_jobs.add(event.job_id)
                await asyncio.sleep(0.2)
        finally:
            store.close()


async def _retrying(call: Callable[[], Awaitable[_T]], policy: RetryPolicy) -> _T:
    for attempt in range(policy.attempts):
        try:
            return await call()
        except (ServerError, APIConnectionError, RateLimitError) as exc:
            if attempt + 1 == policy.attempts:
                raise
            retry_after = exc.retry_after if isinstance(exc, RateLimitError) else None
            wait = policy.delay(attempt, retry_after)
            await asyncio.sleep(policy.backoff(attempt) if wait is None else wait)
    raise AssertionError("unreachable")
