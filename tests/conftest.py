"""Fixtures shared by every test area.

``clean_environ`` (automatic): no test sees the developer's ``PYAI_*`` or ``HEARKIT_*`` settings, so a
key in the shell never sends a test to the hosted API and a data dir never leaks between runs.

``browser``: one headless Debian Chromium driven by Playwright's sync API, per test module. It is
module-scoped on purpose: two sync Playwright sessions alive at once make the second one fail
("Sync API inside the asyncio loop"), so each module closes its browser before the next opens one.

``realdata``: the folder of third-party recordings and annotations, ``../shared/realdata`` beside the
project, read in place and never copied. Every test that reads it takes this fixture (directly or
through another fixture). When the folder is absent (a user's clone) those tests are skipped with one
line saying where the data would be; under CI (``CI=true``) or ``HEARKIT_REQUIRE_REALDATA=1`` its
absence is an error, so real-data tests can never silently stop running there. The run ends with one
line counting the real-data tests that ran and those skipped for lack of data.

Compiled bytecode is kept for the run (:func:`keep_bytecode`): with ``PYTHONDONTWRITEBYTECODE`` set, every
``hearkit`` subprocess, worker process and kernel the tests start compiled pandas, scipy, plotly and
hearkit from source again, about half of each command's CPU time.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

REALDATA = (Path(__file__).resolve().parents[1].parent / "shared" / "realdata").resolve()
REALDATA_SKIP = f"real data absent: no folder {REALDATA} (../shared/realdata beside the project)"

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


def realdata_required() -> bool:
    """Whether a missing ../shared/realdata is an error (CI, or asked for) rather than a skip."""
    return os.environ.get("CI", "").lower() == "true" or os.environ.get("HEARKIT_REQUIRE_REALDATA") == "1"


@pytest.fixture(scope="session")
def realdata() -> Path:
    """The ../shared/realdata folder; skips the test when absent, fails it under CI."""
    if not REALDATA.is_dir():
        if realdata_required():
            pytest.fail(f"{REALDATA_SKIP}; CI=true or HEARKIT_REQUIRE_REALDATA=1 requires it", pytrace=False)
        pytest.skip(REALDATA_SKIP)
    return REALDATA


class RealdataCounter:
    """Counts the selected tests that use ``realdata`` and how each ended, for the closing line.

    Collection marks them ``realdata`` (with pytest-xdist it runs in the workers); the reports,
    which reach the controlling process, carry the mark in their keywords."""

    def __init__(self) -> None:
        self.outcomes: dict[str, str] = {}

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if "realdata" in getattr(item, "fixturenames", ()):
                item.add_marker(pytest.mark.realdata)

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        if "realdata" not in report.keywords:
            return
        if report.skipped and report.when == "setup":
            reason = str(report.longrepr[2]) if isinstance(report.longrepr, tuple) else ""
            self.outcomes[report.nodeid] = "no data" if REALDATA_SKIP in reason else "skipped"
        elif report.failed:
            self.outcomes[report.nodeid] = "failed"
        elif report.when == "call":
            self.outcomes[report.nodeid] = "skipped" if report.skipped else "passed"

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.outcomes:
            return
        counts = list(self.outcomes.values())
        passed, failed, other = counts.count("passed"), counts.count("failed"), counts.count("skipped")
        terminalreporter.write_line(
            f"real data: {passed + failed} real-data tests ran ({passed} passed, {failed} failed), "
            f"{counts.count('no data')} skipped for lack of data in {REALDATA}"
            + (f", {other} skipped for other reasons" if other else "")
        )


def keep_bytecode(config: pytest.Config) -> None:
    """When the environment says ``PYTHONDONTWRITEBYTECODE``, keep the run's bytecode in pytest's cache.

    That setting made every Python process the tests start (``hearkit`` commands, the engine's worker
    processes, notebook kernels, the xdist workers themselves) compile each module it imports from
    source: 4.2 of the 8.4 CPU seconds of a one-file ``hearkit batch`` went to ``compile``. Here the
    bytecode goes to ``.pytest_cache/d/pycache`` (``PYTHONPYCACHEPREFIX``), so nothing is written
    beside the sources, as the setting wants, and each module is compiled once per run or less. What
    any test checks is unchanged: the same code runs, from cached bytecode. Runs in the controlling
    process before pytest-xdist starts its workers, which inherit the environment.
    """
    cache = getattr(config, "cache", None)
    if not os.environ.get("PYTHONDONTWRITEBYTECODE") or cache is None:
        return
    prefix = os.environ.get("PYTHONPYCACHEPREFIX") or str(cache.mkdir("pycache"))
    if not hasattr(config, "workerinput"):
        # Bytecode of the throwaway virtual environments and scripts under the temp folder is never
        # read again by a later run: drop it so the folder does not grow run after run.
        temp = Path(tempfile.gettempdir())
        shutil.rmtree(Path(prefix) / temp.relative_to(temp.anchor), ignore_errors=True)
    del os.environ["PYTHONDONTWRITEBYTECODE"]
    os.environ["PYTHONPYCACHEPREFIX"] = prefix
    sys.dont_write_bytecode = False
    sys.pycache_prefix = prefix


def pytest_configure(config: pytest.Config) -> None:
    keep_bytecode(config)
    config.addinivalue_line("markers", "realdata: reads ../shared/realdata (set from the fixture)")
    config.pluginmanager.register(RealdataCounter(), "hearkit-realdata-counter")
