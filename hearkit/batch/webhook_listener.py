"""The webhook receiver of a batch (``hearkit webhooks listen``): the client's receiver, per batch folder.

It is :func:`hearkit.webhooks.webhook_receiver` (verify the ``X-PyAI-Signature`` over the raw
body before parsing, 401/400/413, store durably before the 204, de-duplicate by body hash)
with its store in the batch folder, ``DIR/webhooks.sqlite``. The batch runner, in the same or
another process, watches that store and wakes the waiter of each job an event names; the
waiter re-fetches the job, which is the authoritative state. Polling goes on at a slow pace,
so a job whose event never came still completes.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from starlette.applications import Starlette

from hearkit.webhooks import WebhookStore, webhook_receiver

__all__ = ["WEBHOOK_STORE_NAME", "webhook_app", "webhook_store"]

WEBHOOK_STORE_NAME = "webhooks.sqlite"


def webhook_store(out_dir: str | Path) -> WebhookStore:
    """The store of webhook events of the batch in ``out_dir``."""
    return WebhookStore(Path(out_dir) / WEBHOOK_STORE_NAME)


def webhook_app(out_dir: str | Path, secrets: str | Sequence[str] | None = None) -> Starlette:
    """The ASGI receiver (``POST /webhooks/pyai``) storing verified events for the batch in ``out_dir``.

    ``secrets``: the signing secret (several during rotation); None reads ``PYAI_WEBHOOK_SECRET``.
    """
    return webhook_receiver(secrets, webhook_store(out_dir))
