"""Clients of the PyAI Hear batch transcription jobs API: :class:`PyAI` and :class:`AsyncPyAI`.

Both share one core (:mod:`hearkit._client._core`): request building, response handling,
the retry policy (GETs on connection errors, 429 and 5xx honouring ``Retry-After``; a POST only
with its ``Idempotency-Key``) and the polling flow. The two classes differ only in how they do
I/O.

>>> from hearkit.client import PyAI
>>> client = PyAI()                       # PYAI_API_KEY, else the embedded local engine
>>> job = client.jobs.transcribe("call.wav", channel=True, output_formats=["json", "srt"])
>>> result = client.jobs.result(job)
"""

from __future__ import annotations

from hearkit._client._async import AsyncJobs, AsyncPyAI
from hearkit._client._core import DEFAULT_BASE_URL, DEFAULT_TIMEOUT
from hearkit._client._sync import PyAI, SyncJobs
from hearkit.ledger import Ledger
from hearkit.retry import DEFAULT_MAX_RETRIES, PollPolicy, RetryPolicy

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "AsyncJobs",
    "AsyncPyAI",
    "Ledger",
    "PollPolicy",
    "PyAI",
    "RetryPolicy",
    "SyncJobs",
]
