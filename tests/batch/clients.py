"""The async client the batch tests drive: the real ``hearkit.client.AsyncPyAI``."""

from __future__ import annotations

from hearkit.client import AsyncPyAI


def async_client(base_url: str, api_key: str) -> AsyncPyAI:
    """A client that leaves every retry to the batch runner (so the manifest counts them)."""
    return AsyncPyAI(api_key=api_key, base_url=base_url, max_retries=0)
