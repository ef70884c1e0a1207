"""The webhook receiver of a batch (``hearkit webhooks listen``): signed events into the manifest.

``POST /webhooks/pyai`` (also ``POST /``) takes a completion callback, verifies its
``X-PyAI-Signature`` over the raw body with :func:`hearkit.webhooks.verify` *before* parsing it,
and stores the event in the batch manifest, de-duplicated by the SHA-256 of the body; the batch
runner, in the same or another process, wakes the job's waiter, which re-fetches the job (the
authoritative state). Answers: 204 stored (or a duplicate), 401 bad or missing signature, 400 a
signed body that is not an event, 413 a body over 2 MiB. An event for a job this batch does not
know is stored too, and ignored.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from hearkit.batch.manifest import Manifest
from hearkit.errors import WebhookPayloadError, WebhookVerificationError
from hearkit.webhooks import SIGNATURE_HEADER, verify

__all__ = ["MAX_BODY_BYTES", "webhook_app"]

MAX_BODY_BYTES = 2 * 1024 * 1024


def webhook_app(out_dir: str | Path, secrets: str | Sequence[str] | None = None) -> Starlette:
    """An ASGI app that stores verified webhook events in the manifest of ``out_dir``.

    ``secrets``: the signing secret (several during rotation); None reads ``PYAI_WEBHOOK_SECRET``.
    """
    manifest = Manifest(out_dir)

    async def receive(request: Request) -> Response:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body larger than 2 MiB"}, status_code=413)
        body = await request.body()
        if len(body) > MAX_BODY_BYTES:
            return JSONResponse({"error": "body larger than 2 MiB"}, status_code=413)
        try:
            event = verify(body, request.headers.get(SIGNATURE_HEADER), secrets)
        except WebhookPayloadError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        except WebhookVerificationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=401)
        manifest.add_webhook_event(hashlib.sha256(body).hexdigest(), event.data.job_id, event.type)
        return Response(status_code=204)

    async def health(request: Request) -> Response:
        return JSONResponse({"ok": True, "manifest": str(manifest.path)})

    routes = [
        Route("/webhooks/pyai", receive, methods=["POST"]),
        Route("/", receive, methods=["POST"]),
        Route("/health", health, methods=["GET"]),
    ]

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        manifest.close()

    return Starlette(routes=routes, lifespan=lifespan)
