"""Fixtures of the batch area: a clean environment."""

from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def clean_environ(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """No test sees the developer's PYAI_* or HEARKIT_* settings."""
    for name in (
        "PYAI_API_KEY",
        "PYAI_BASE_URL",
        "PYAI_WEBHOOK_SECRET",
        "HEARKIT_DATA_DIR",
        "HEARKIT_TRANSCRIBER",
    ):
        monkeypatch.delenv(name, raising=False)
    yield
