"""Webhook delivery: a durable outbox in SQLite, signed POSTs, exponential-backoff retries.

A job that ends with a ``webhook_url`` gets a ``deliveries`` row in the same transaction that
ends it, so no event is lost by a crash; pending deliveries are picked up again after a restart.
Each attempt POSTs the event JSON signed with ``X-PyAI-Signature`` (:func:`hearkit.webhook_signature.sign`)
and is logged in ``delivery_attempts``. Any 2xx is success. Otherwise the next attempt waits
``webhook_retry_base * 2**(attempt-1)`` seconds (at most ``webhook_retry_max_interval``) until
``webhook_retry_period`` has passed since the delivery was created, then the delivery is
``failed``. The POST goes through :func:`hearkit.engine.outbound.send_pinned`, the helper of
audio fetches: the host's addresses are checked (no private networks unless allowed) and the
connection is pinned to a checked one (no DNS rebinding). A refused URL or address fails the
delivery at once, since retrying cannot help.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

import httpx

from hearkit.engine.ids import now_ms
from hearkit.engine.outbound import FetchError, send_pinned, ssl_context, url_schemes
from hearkit.engine.settings import EngineSettings
from hearkit.engine.store import DeliveryRow, Store
from hearkit.webhook_signature import sign

__all__ = ["WebhookDeliverer", "retry_delay"]

log = logging.getLogger("hearkit.engine")


def retry_delay(settings: EngineSettings, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    return float(min(settings.webhook_retry_max_interval, settings.webhook_retry_base * 2 ** (attempt - 1)))


class WebhookDeliverer:
    """Delivers due webhooks until cancelled."""

    def __init__(self, store: Store, settings: EngineSettings, secret: str) -> None:
        self.store = store
        self.settings = settings
        self.secret = secret
        self._wake = asyncio.Event()

    def wake(self) -> None:
        self._wake.set()

    async def run(self) -> None:
        async with httpx.AsyncClient(
            verify=ssl_context(self.settings.ca_bundle),
            timeout=self.settings.webhook_timeout,
            follow_redirects=False,
            trust_env=False,
        ) as client:
            while True:
                self._wake.clear()
                try:
                    due = self.store.due_deliveries(now_ms())
                    if due:
                        await asyncio.gather(*(self._deliver(client, d) for d in due))
                        continue
                    next_at = self.store.next_delivery_time()
                except Exception:  # e.g. a locked or full disk: keep delivering later
                    log.exception("webhook delivery loop")
                    next_at = None
                wait = self.settings.poll_interval * 4
                if next_at is not None:
                    wait = min(wait, max(0.0, (next_at - now_ms()) / 1000))
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)

    async def _deliver(self, client: httpx.AsyncClient, delivery: DeliveryRow) -> None:
        started = time.monotonic()
        status_code: int | None = None
        error: str | None = None
        permanent = False
        try:
            body = delivery.payload.encode()
            response = await send_pinned(
                client,
                "POST",
                delivery.url,
                self.settings,
                field="webhook_url",
                schemes=url_schemes(self.settings),
                content=body,
                headers={
                    "content-type": "application/json",
                    "x-pyai-signature": sign(body, self.secret),
                    "x-pyai-delivery": str(delivery.delivery_id),
                    "user-agent": "hearkit-engine-webhooks",
                },
            )
            status_code = response.status_code
            if not response.is_success:
                error = f"HTTP {status_code}"
        except FetchError as exc:
            error, permanent = str(exc), True
        except httpx.HTTPError as exc:
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # a bug must not stop other deliveries
            log.exception("webhook delivery %s", delivery.delivery_id)
            error = f"{type(exc).__name__}: {exc}"
        duration_ms = int((time.monotonic() - started) * 1000)
        attempt = delivery.attempts + 1
        finished = now_ms()
        if error is None:
            new_status, next_at = "delivered", finished
        else:
            next_at = finished + int(retry_delay(self.settings, attempt) * 1000)
            expired = next_at - delivery.created_at > self.settings.webhook_retry_period * 1000
            new_status = "failed" if permanent or expired else "pending"
        self.store.record_attempt(
            delivery,
            status_code=status_code,
            error=error,
            duration_ms=duration_ms,
            new_status=new_status,
            next_attempt_at=next_at,
            at=finished,
        )
