"""Fixtures shared by every test area.

``clean_environ`` (automatic): no test sees the developer's ``PYAI_*`` or ``HEARKIT_*`` settings, so a
key in the shell never sends a test to the hosted API and a data dir never leaks between runs.

``browser``: one headless Debian Chromium driven by Playwright's sync API, per test module. It is
module-scoped on purpose: two sync Playwright sessions alive at once make the second one fail
("Sync API inside the asyncio loop"), so each module closes its browser before the next opens one.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


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


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
