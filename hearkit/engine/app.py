"""The FastAPI application: the PyAI Hear batch jobs contract, served from the local store.

One router per resource (all bodies are :mod:`hearkit.schema` models):

* :mod:`~hearkit.engine.routes.jobs`: ``POST /v1/transcription/jobs`` (JSON with ``audio_url``,
  or multipart with an ``audio`` file part and the same fields as form fields) → 202 queued
  ``Job``; ``GET /v1/transcription/jobs/{id}`` → ``Job`` (+ ``x-pyai-units: audio_seconds=<n>``
  once completed); ``GET /v1/transcription/jobs?limit=&cursor=`` → ``JobList``, newest first.
* :mod:`~hearkit.engine.routes.links`: ``GET …/{id}/result`` and ``…/formats/{srt|vtt}``, signed
  expiring links (no API key), the targets of ``result_url`` and of ``result.formats``.
* :mod:`~hearkit.engine.routes.account`: ``GET /v1/me``, ``GET /v1/webhooks/signing-secret``,
  ``POST /v1/sandbox/keys``; :mod:`~hearkit.engine.routes.health`: ``GET /v1/health``.

Key, rate limit, scope and billing checks are dependencies (:mod:`hearkit.engine.deps`); bodies
and query values are read and bounded in :mod:`hearkit.engine.bodies`; errors, request ids and
the logged 500 in :mod:`hearkit.engine.handlers`; lifecycle in :mod:`hearkit.engine.runtime`.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from hearkit import __version__
from hearkit.engine.handlers import install_error_handlers
from hearkit.engine.render import units_header
from hearkit.engine.routes import account, health, jobs, links
from hearkit.engine.runtime import JOBS_SCOPE, Runtime
from hearkit.engine.settings import EngineSettings
from hearkit.engine.transcriber import Transcriber

__all__ = ["JOBS_SCOPE", "Runtime", "create_app", "units_header"]


def create_app(settings: EngineSettings, transcriber: Transcriber | None = None) -> FastAPI:
    """The ASGI app over the data dir of ``settings``; ``app.state.runtime`` is its :class:`Runtime`."""
    runtime = Runtime(settings, transcriber)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        await runtime.start()
        try:
            yield
        finally:
            await runtime.stop()

    app = FastAPI(
        title="hearkit local engine (PyAI Hear batch jobs compatible)",
        version=__version__,
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
    )
    app.state.runtime = runtime
    install_error_handlers(app)
    for router in (jobs.router, links.router, account.router, health.router):
        app.include_router(router)
    return app
