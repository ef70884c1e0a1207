"""What one running engine app owns: data dir, store, secrets, rate limiter, worker and deliverer.

The data dir is created owner-only (0700) and its files 0600 (the database holds the signing
secrets of links and webhooks; ``local_api_key`` holds a key). Unexpected errors and job
failures are logged with tracebacks to ``<data_dir>/engine.log`` (:mod:`hearkit.engine.logs`).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from hearkit._sqlite import private_dir, private_file
from hearkit.engine.bodies import UploadBudget
from hearkit.engine.delivery import WebhookDeliverer
from hearkit.engine.leases import housekeeping
from hearkit.engine.logs import configure_engine_log
from hearkit.engine.ratelimit import RateLimiter
from hearkit.engine.render import Renderer
from hearkit.engine.settings import EngineSettings
from hearkit.engine.store import Store
from hearkit.engine.transcriber import Transcriber
from hearkit.engine.worker import Worker

__all__ = ["JOBS_SCOPE", "LOCAL_KEY_FILE", "Runtime"]

log = logging.getLogger("hearkit.engine")

JOBS_SCOPE = "transcribe:jobs"
LOCAL_KEY_FILE = "local_api_key"


class Runtime:
    """Lifecycle of one app: opens the store, starts and stops the worker and the webhook deliverer."""

    def __init__(self, settings: EngineSettings, transcriber: Transcriber | None = None) -> None:
        self.settings = settings
        private_dir(settings.data_dir)
        #: ``<data_dir>/engine.log``: tracebacks of unexpected errors (by request id) and of failed jobs.
        self.log_path = configure_engine_log(settings.data_dir)
        self.store = Store(settings.data_dir / "engine.sqlite3")
        self.audio_dir = settings.data_dir / "audio"
        self.tmp_dir = settings.data_dir / "tmp"
        self.url_secret = self.store.secret("url_secret")
        # Same secret as `hearkit serve --show-webhook-secret` prints.
        self.webhook_secret = settings.webhook_secret or self.store.secret("webhook_secret", "whsec_")
        self.render = Renderer(settings, self.url_secret)
        self.limiter = RateLimiter()
        self.uploads = UploadBudget(max(settings.max_upload_bytes_in_flight, settings.max_upload_bytes))
        self.transcriber: Transcriber | str = transcriber if transcriber is not None else settings.transcriber
        self.worker: Worker | None = None
        self.deliverer: WebhookDeliverer | None = None
        self._tasks: list[asyncio.Task[None]] = []

    def ensure_local_key(self) -> tuple[str, bool]:
        """The data dir's local key (``<data_dir>/local_api_key``), minted on first use.

        Returns (key, created). The file is the only place the plaintext is kept (mode 0600).
        """
        path = self.settings.data_dir / LOCAL_KEY_FILE
        if path.exists():
            existing = path.read_text().strip()
            key = self.store.key_by_secret(existing)
            if key is not None and key.status == "active":
                return existing, False
        api_key, _ = self.store.create_key(
            env="test",
            scopes=["hear:transcribe", JOBS_SCOPE],
            rps=self.settings.rate_rps,
            burst=self.settings.rate_burst,
            label="local",
        )
        private_file(path).write_text(api_key + "\n")
        return api_key, True

    async def start(self) -> None:
        private_dir(self.tmp_dir)
        private_dir(self.audio_dir)
        # Other processes may use this data dir now: their jobs and uploads stay (see engine.leases).
        housekeeping(self.store, self.audio_dir, self.tmp_dir)
        self.deliverer = WebhookDeliverer(self.store, self.settings, self.webhook_secret)
        self._tasks = [asyncio.create_task(self.deliverer.run(), name="hearkit-webhooks")]
        if self.settings.run_jobs:
            self.worker = Worker(self.store, self.settings, self.transcriber, on_finished=self._job_finished)
            self._tasks.append(asyncio.create_task(self.worker.run(), name="hearkit-worker"))

    def _job_finished(self, _job_id: str) -> None:
        if self.deliverer is not None:
            self.deliverer.wake()

    def wake(self, *, deliveries: bool = False) -> None:
        """A job was stored: let the worker (and the deliverer, for a job failed at once) look."""
        if self.worker is not None:
            self.worker.wake()
        if deliveries and self.deliverer is not None:
            self.deliverer.wake()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        if self.worker is not None:
            self.worker.shutdown()
