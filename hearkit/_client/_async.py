"""``AsyncPyAI``: the awaitable shell around :mod:`hearkit._client._core` (I/O only, no policy)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from types import TracebackType
from typing import Any, TypeVar

import anyio
import httpx

from hearkit._client._core import (
    AudioInput,
    BaseClient,
    CursorGuard,
    Flow,
    ProgressCallback,
    Reply,
    Sleep,
    create_fields,
)
from hearkit.retry import PollPolicy, RetryPolicy
from hearkit.schema import Identity, Job, JobList, Result

__all__ = ["AsyncJobs", "AsyncPyAI"]

T = TypeVar("T")


class AsyncPyAI(BaseClient):
    """Async client of the PyAI Hear batch transcription jobs API (same API as ``PyAI``, awaited).

    Key and root URL come from the arguments or ``PYAI_API_KEY`` / ``PYAI_BASE_URL``; with
    neither, hearkit's embedded local engine is started and used (same API, same code path).

    >>> async with AsyncPyAI() as client:
    ...     job = await client.jobs.transcribe("call.wav", channel=True)
    ...     turns = hearkit.transcript.turns(await client.jobs.result(job))
    """

    _sleep = staticmethod(anyio.sleep)

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        http_client: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        allow_insecure_audio_url: bool = False,
        poll: PollPolicy | None = None,
        retry: RetryPolicy | None = None,
        allow_insecure_base_url: bool | None = None,
    ) -> None:
        super().__init__(
            api_key,
            base_url,
            timeout=timeout,
            max_retries=max_retries,
            allow_insecure_audio_url=allow_insecure_audio_url,
            poll=poll or PollPolicy(),
            retry=retry,
            allow_insecure_base_url=allow_insecure_base_url,
        )
        if http_client is not None and transport is not None:
            raise ValueError("give http_client or transport, not both")
        self._owns_http = http_client is None
        self._http = http_client or httpx.AsyncClient(
            transport=transport, timeout=self.timeout, follow_redirects=True
        )
        self.jobs = AsyncJobs(self)

    async def me(self) -> Identity:
        """``GET /v1/me``: the calling key's scopes, environment and limits."""
        return await self._run(self._me_flow())

    async def close(self) -> None:
        """Close the connection pool (only if this client created it)."""
        if self._owns_http:
            await self._http.aclose()

    aclose = close

    async def __aenter__(self) -> AsyncPyAI:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()

    async def _run(self, flow: Flow[T]) -> T:
        reply: Reply = None
        while True:
            try:
                op = flow.send(reply)
            except StopIteration as stop:
                return stop.value  # type: ignore[no-any-return]
            if isinstance(op, Sleep):
                await self._sleep(op.seconds)
                reply = None
                continue
            try:
                reply = await self._http.send(op.request)
            except httpx.TransportError as exc:
                reply = exc


class AsyncJobs:
    """``client.jobs`` of :class:`AsyncPyAI`: the same methods as the sync client's, awaitable."""

    def __init__(self, client: AsyncPyAI) -> None:
        self._client = client

    async def create(
        self,
        audio: AudioInput | None = None,
        *,
        audio_url: str | None = None,
        model: str | None = None,
        channel: bool | None = None,
        diarize: bool | None = None,
        numerals: bool | None = None,
        output_formats: Sequence[str] | None = None,
        webhook_url: str | None = None,
        vocabulary: Sequence[str] | None = None,
        idempotency_key: str | None = None,
        **extra: Any,
    ) -> Job:
        """Submit a recording (``audio``: path, bytes or binary file) or an https ``audio_url``.

        Always sends an ``Idempotency-Key`` (``idempotency_key`` or one generated for this call)
        and reuses it on every retry, so a network blip never creates two jobs. ``extra``
        fields (``smart_format``, ``call_id``, …) pass through unchanged.
        """
        fields = create_fields(
            model=model,
            channel=channel,
            diarize=diarize,
            numerals=numerals,
            output_formats=output_formats,
            webhook_url=webhook_url,
            vocabulary=vocabulary,
            extra=extra,
        )
        return await self._client._run(self._client._create_flow(audio, audio_url, fields, idempotency_key))

    async def get(self, job_id: str) -> Job:
        """``GET /v1/transcription/jobs/{id}``."""
        return await self._client._run(self._client._get_flow(job_id))

    async def list(self, limit: int | None = None, cursor: str | None = None) -> JobList:
        """One page of jobs (``limit`` 1–100); pass the page's ``next_cursor`` for the next one."""
        return await self._client._run(self._client._list_flow(limit, cursor))

    async def iter(self, limit: int = 100) -> AsyncIterator[Job]:
        """Every job, page after page, following ``next_cursor`` until ``has_more`` is false."""
        guard = CursorGuard()
        cursor: str | None = None
        while True:
            page = await self.list(limit=limit, cursor=cursor)
            for job in page.data:
                yield job
            cursor = guard.next_cursor(page)
            if cursor is None:
                return

    async def wait(
        self,
        job: str | Job,
        *,
        timeout: float = 600,  # noqa: ASYNC109 (the job's deadline on the server, same API as PyAI)
        on_progress: ProgressCallback | None = None,
        poll: PollPolicy | None = None,
    ) -> Job:
        """Poll until the job is completed (1 s, ×1.5, at most 5 s by default) and return it.

        Raises :class:`~hearkit.errors.JobFailedError` on ``failed``/``cancelled`` and
        :class:`~hearkit.errors.WaitTimeoutError` after ``timeout`` seconds.
        ``on_progress(job)`` is called after every poll.
        """
        return await self._client._run(
            self._client._wait_flow(job, timeout, on_progress, poll or self._client.poll)
        )

    async def result(self, job: str | Job) -> Result:
        """The transcript: inline ``result``, or the signed ``result_url`` fetched without the key."""
        return await self._client._run(self._client._result_flow(job))

    async def download_format(self, job: str | Job, fmt: str) -> str:
        """The ``"srt"`` or ``"vtt"`` subtitles of a job created with that output format."""
        return await self._client._run(self._client._format_flow(job, fmt))

    async def transcribe(
        self,
        audio: AudioInput | None = None,
        *,
        audio_url: str | None = None,
        timeout: float = 600,  # noqa: ASYNC109 (the job's deadline on the server, same API as PyAI)
        on_progress: ProgressCallback | None = None,
        **create_kwargs: Any,
    ) -> Job:
        """Create a job and wait for it: the completed :class:`~hearkit.schema.Job`."""
        job = await self.create(audio, audio_url=audio_url, **create_kwargs)
        return await self.wait(job, timeout=timeout, on_progress=on_progress)
