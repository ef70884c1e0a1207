"""Fixtures of the report tests: call frames and one headless Chromium for the module."""

from __future__ import annotations

import pytest

from tests.report.frames import Frames, hostile_frames, truth_frames


@pytest.fixture(scope="session")
def sample() -> Frames:
    return truth_frames()


@pytest.fixture(scope="session")
def hostile() -> Frames:
    return hostile_frames()
