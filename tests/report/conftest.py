"""Fixtures of the report tests: call frames and one headless Chromium for the module."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.report.frames import Frames, hostile_frames, truth_frames

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="session")
def sample() -> Frames:
    return truth_frames()


@pytest.fixture(scope="session")
def hostile() -> Frames:
    return hostile_frames()


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
