"""Signed completion callbacks: verify and sign ``X-PyAI-Signature``.

The scheme (PyAI's official receiver, ``reference/pyai-api.md`` §4.2)::

    X-PyAI-Signature: t=<unix seconds>,v1=<hex hmac_sha256(secret, f"{t}." + raw_body)>[,v1=<hex>…]

* The signature covers the exact raw body bytes: verify before parsing JSON.
* Exactly one ``t`` (digits) and one or more ``v1`` (64 lower-case hex digits); several ``v1``
  values appear during secret rotation and any one matching accepts the delivery.
* ``abs(now - t) > tolerance`` (300 s) is rejected in both directions (too old and too new).
* Anything else (missing header, unknown part, repeated ``t``, bad hex) is rejected: fail closed.

:func:`sign` and :func:`verify_signature` live in :mod:`hearkit.webhook_signature` (pure, standard
library only), which the local engine's delivery imports too; they are re-exported here.

:func:`webhook_receiver` is a small ASGI app (Starlette) for the receiving side: POST only,
body capped (413), signature checked before parsing (401), non-event bodies refused (400), each
event stored durably in SQLite before the 2xx, repeated deliveries de-duplicated by the SHA-256
of the body, and the job re-fetched through the client (the webhook only says "look again").
"""

from __future__ import annotations

import contextlib
import hashlib
import inspect
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import anyio
from pydantic import ValidationError
from starlette.applications import Starlette
from starlette.background import BackgroundTask
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hearkit import _boundedjson
from hearkit._sqlite import Database
from hearkit.errors import NotFoundError, WebhookPayloadError, WebhookVerificationError
from hearkit.schema import Job, WebhookEvent
from hearkit.webhook_signature import (
    DEFAULT_TOLERANCE,
    SIGNATURE_HEADER,
    secrets_or_env,
    sign,
    verify_signature,
)

if TYPE_CHECKING:
    from hearkit.client import AsyncPyAI, PyAI

__all__ = [
    "DEFAULT_TOLERANCE",
    "MAX_BODY_BYTES",
    "SIGNATURE_HEADER",
    "StoredEvent",
    "WebhookStore",
    "parse_event",
    "sign",
    "verify",
    "verify_signature",
    "webhook_receiver",
]

logger = logging.getLogger("hearkit.webhooks")

MAX_BODY_BYTES = 2 * 1024 * 1024
"""Largest webhook body the receiver reads (PyAI's official receiver uses the same 2 MiB)."""


def verify(
    raw_body: bytes,
    header: str | None,
    secrets: str | Sequence[str] | None = None,
    *,
    tolerance: int = DEFAULT_TOLERANCE,
    now: float | None = None,
) -> WebhookEvent:
    """Verify a delivery and return its event; raise :class:`WebhookVerificationError` otherwise.

    >>> event = verify(request_body, request.headers.get("X-PyAI-Signature"), secret)
    >>> event.data.job_id
    """
    verify_signature(raw_body, header, secrets, tolerance=tolerance, now=now)
    return parse_event(raw_body)


def parse_event(raw_body: bytes) -> WebhookEvent:
    """The :class:`WebhookEvent` in an already verified body; :class:`WebhookPayloadError` if not one."""
    try:
        data = _boundedjson.loads(raw_body)
    except _boundedjson.JSONBoundsError as exc:
        raise WebhookPayloadError(
            f"signature is valid but the body is not JSON, or not acceptable: {exc}"
        ) from exc
    try:
        return WebhookEvent.model_validate(data)
    except ValidationError as exc:
        raise WebhookPayloadError(
            "signature is valid but the body is not a webhook event "
            f"(expected {{'type', 'data': {{'job_id'}}}}): {exc.error_count()} problem(s)"
        ) from exc


@dataclass(frozen=True)
class StoredEvent:
    """One received event as :class:`WebhookStore` keeps it.

    ``job_status``/``job`` are filled once the job was re-fetched; ``fetch_error`` says why a
    re-fetch failed (it is retried at the next start of the receiver), or, starting ``not found``,
    that the job does not exist for the receiver's client (settled: not retried).
    """

    dedupe_key: str
    received_at: float
    type: str
    job_id: str
    body: bytes
    deliveries: int
    job_status: str | None
    job: Job | None
    fetch_error: str | None


class WebhookStore:
    """Verified webhook events in SQLite (WAL, synchronous=FULL): durable before the 2xx."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._database = Database(self.path, synchronous="FULL", busy_timeout=5.0, row_factory=False)
        self._lock = self._database.lock
        self._db = self._database.conn
        self._db.execute(
            """CREATE TABLE IF NOT EXISTS webhook_events (
                dedupe_key TEXT PRIMARY KEY,
                received_at REAL NOT NULL,
                type TEXT NOT NULL,
                job_id TEXT NOT NULL,
                body BLOB NOT NULL,
                deliveries INTEGER NOT NULL DEFAULT 1,
                job_status TEXT,
                job_json TEXT,
                fetched_at REAL,
                fetch_error TEXT
            )"""
        )

    def add(self, body: bytes, event: WebhookEvent) -> tuple[str, bool]:
        """Store a delivery; ``(dedupe_key, is_new)``. A repeat only bumps ``deliveries``."""
        key = hashlib.sha256(body).hexdigest()
        with self._lock:
            inserted = self._db.execute(
                "INSERT OR IGNORE INTO webhook_events (dedupe_key, received_at, type, job_id, body) "
                "VALUES (?, ?, ?, ?, ?)",
                (key, time.time(), event.type, event.data.job_id, body),
            ).rowcount
            if not inserted:
                self._db.execute(
                    "UPDATE webhook_events SET deliveries = deliveries + 1 WHERE dedupe_key = ?", (key,)
                )
        return key, bool(inserted)

    def mark_fetched(self, key: str, job: Job) -> None:
        """Record the job as re-fetched after the event."""
        with self._lock:
            self._db.execute(
                "UPDATE webhook_events SET job_status = ?, job_json = ?, fetched_at = ?, fetch_error = NULL "
                "WHERE dedupe_key = ?",
                (job.status, job.model_dump_json(exclude_unset=True), time.time(), key),
            )

    def mark_fetch_failed(self, key: str, error: str) -> None:
        """Record why re-fetching the job failed (the event stays pending)."""
        with self._lock:
            self._db.execute(
                "UPDATE webhook_events SET fetch_error = ? WHERE dedupe_key = ?", (error[:500], key)
            )

    def mark_not_found(self, key: str, error: str) -> None:
        """Record that the event's job does not exist for this client (404: another key's job, or an
        id nobody made): settled, so it is not fetched again at every start (U8 note 4)."""
        with self._lock:
            self._db.execute(
                "UPDATE webhook_events SET fetch_error = ?, fetched_at = ? WHERE dedupe_key = ?",
                (f"not found: {error}"[:500], time.time(), key),
            )

    def events(self) -> list[StoredEvent]:
        """Every stored event, oldest first."""
        return self._select("")

    def pending(self) -> list[StoredEvent]:
        """Events whose job was not re-fetched yet (nor found not to exist)."""
        return self._select("WHERE fetched_at IS NULL")

    def get(self, key: str) -> StoredEvent | None:
        """The event stored under ``key``, if any."""
        found = self._select("WHERE dedupe_key = ?", (key,))
        return found[0] if found else None

    def close(self) -> None:
        self._database.close()

    def _select(self, where: str, args: tuple[Any, ...] = ()) -> list[StoredEvent]:
        with self._lock:
            rows = self._db.execute(
                "SELECT dedupe_key, received_at, type, job_id, body, deliveries, job_status, job_json, "
                f"fetch_error FROM webhook_events {where} ORDER BY received_at, dedupe_key",
                args,
            ).fetchall()
        return [
            StoredEvent(
                key,
                received,
                kind,
                job_id,
                bytes(body),
                deliveries,
                status,
                Job.model_validate_json(job_json) if job_json else None,
                error,
            )
            for key, received, kind, job_id, body, deliveries, status, job_json, error in rows
        ]


JobCallback = Callable[[Job, WebhookEvent], Any]


def webhook_receiver(
    secrets: str | Sequence[str] | None,
    store: WebhookStore | str | Path,
    *,
    client: PyAI | AsyncPyAI | None = None,
    on_job: JobCallback | None = None,
    path: str = "/webhooks/pyai",
    max_body_bytes: int = MAX_BODY_BYTES,
    tolerance: int = DEFAULT_TOLERANCE,
) -> Starlette:
    """An ASGI app receiving PyAI completion callbacks at ``POST path``.

    Answers 204 once the event is stored (a repeated delivery too), 401 on a bad or missing
    signature, 400 on a signed body that is not an event, 413 above ``max_body_bytes``, 405
    for other methods. After answering, the job is re-fetched with ``client.jobs.get`` (sync
    or async client) and ``on_job(job, event)`` is called. ``app.state.store`` is the store.

    >>> app = webhook_receiver(os.environ["PYAI_WEBHOOK_SECRET"], "events.sqlite3", client=PyAI())
    >>> uvicorn.run(app, host="127.0.0.1", port=8788)  # hearkit serve takes 8787
    """
    keys = secrets_or_env(secrets)
    owns_store = not isinstance(store, WebhookStore)
    events = store if isinstance(store, WebhookStore) else WebhookStore(store)

    async def refetch(key: str, event: WebhookEvent) -> None:
        if client is None:
            return
        try:
            get = client.jobs.get
            if inspect.iscoroutinefunction(get):
                job: Job = await cast(Callable[[str], Awaitable[Job]], get)(event.data.job_id)
            else:  # a blocking client must not stall the event loop
                job = await run_in_threadpool(cast(Callable[[str], Job], get), event.data.job_id)
        except NotFoundError as exc:  # no such job for this client: nothing to retry
            logger.warning("webhook for job %s, which this client cannot see: %s", event.data.job_id, exc)
            await run_in_threadpool(events.mark_not_found, key, str(exc))
            return
        except Exception as exc:  # the event is stored; a later start retries the fetch
            logger.warning("re-fetching job %s after its webhook failed: %s", event.data.job_id, exc)
            await run_in_threadpool(events.mark_fetch_failed, key, f"{type(exc).__name__}: {exc}")
            return
        await run_in_threadpool(events.mark_fetched, key, job)
        if on_job is not None:
            outcome = on_job(job, event)
            if inspect.isawaitable(outcome):
                await outcome

    async def receive(request: Request) -> Response:
        body = await _read_capped(request, max_body_bytes)
        if body is None:
            return JSONResponse({"error": f"body larger than {max_body_bytes} bytes"}, status_code=413)
        try:
            event = verify(body, request.headers.get(SIGNATURE_HEADER), keys, tolerance=tolerance)
        except WebhookPayloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except WebhookVerificationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        key, is_new = await run_in_threadpool(events.add, body, event)
        stored = None if is_new else await run_in_threadpool(events.get, key)
        needs_fetch = is_new or (stored is not None and stored.job is None)
        return Response(
            status_code=204, background=BackgroundTask(refetch, key, event) if needs_fetch else None
        )

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        async def retry_pending() -> None:
            for pending in await run_in_threadpool(events.pending):
                await refetch(pending.dedupe_key, parse_event(pending.body))

        async with anyio.create_task_group() as tasks:
            tasks.start_soon(retry_pending)
            yield
            tasks.cancel_scope.cancel()
        if owns_store:
            events.close()

    app = Starlette(routes=[Route(path, receive, methods=["POST"])], lifespan=lifespan)
    app.state.store = events
    return app


async def _read_capped(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it exceeds ``limit`` bytes."""
    declared = request.headers.get("content-length", "")
    if declared.isascii() and declared.isdigit() and (len(declared) > 18 or int(declared) > limit):
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
