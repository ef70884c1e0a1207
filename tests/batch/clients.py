"""The async client the batch tests drive: the real ``hearkit.client.AsyncPyAI``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from hearkit.batch import BatchReport, arun
from hearkit.batch.runner import RunnerSettings
from hearkit.client import AsyncPyAI


def async_client(base_url: str, api_key: str) -> AsyncPyAI:
    """A client that leaves every retry to the batch runner (so the manifest counts them)."""
    return AsyncPyAI(api_key=api_key, base_url=base_url, max_retries=0)


def run_batch(
    base_url: str, api_key: str, source: Path, out: Path, settings: RunnerSettings, **options: Any
) -> BatchReport:
    """``hearkit.batch.arun`` of ``source`` into ``out`` through :func:`async_client`, without the
    progress bar or the dataset (``options`` go to ``arun``)."""

    async def batch() -> BatchReport:
        client = async_client(base_url, api_key)
        try:
            return await arun(
                source, out, client=client, progress=False, write_dataset=False, settings=settings, **options
            )
        finally:
            await client.close()

    return asyncio.run(batch())
