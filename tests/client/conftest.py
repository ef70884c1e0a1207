"""Fixtures of the client area: documented result shapes and a real local engine."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hearkit.engine import LocalEngine

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load_fixture(name: str) -> dict[str, Any]:
    """A fresh copy of ``fixtures/<name>.json``."""
    return copy.deepcopy(json.loads((FIXTURES / f"{name}.json").read_text()))


@pytest.fixture
def stereo_job() -> dict[str, Any]:
    """Completed stereo job, ``channel: true``: speaker_1/speaker_2 on channels 0/1 (observed shape)."""
    return load_fixture("stereo_job")


@pytest.fixture
def mono_job() -> dict[str, Any]:
    """Completed mono job without diarization: segments and words carry no speaker/channel."""
    return load_fixture("mono_job")


@pytest.fixture
def offloaded_job() -> dict[str, Any]:
    """Completed job whose result is offloaded to a signed ``result_url``."""
    return load_fixture("offloaded_job")


@pytest.fixture(scope="session")
def local_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    """One real engine for the area (fake transcriber, loopback webhooks allowed).

    Its inline limit is tiny, so every result is offloaded to a signed ``result_url``.
    """
    data = tmp_path_factory.mktemp("engine")
    with LocalEngine(
        data,
        transcriber="fake",
        allow_private_urls=True,
        result_inline_max_bytes=512,
        poll_interval=0.05,
    ) as running:
        yield running
