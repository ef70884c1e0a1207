"""`hearkit dashboard` serves the sample calls' dashboard with Voilà; a real Chromium changes a filter
there and the calls table and the talk-ratio chart follow, through the real kernel and widgets."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[2]
# Voilà's own "lab" page template links Font Awesome from jsDelivr; offline, those two loads fail.
VOILA_TEMPLATE_CDN = "https://cdn.jsdelivr.net/npm/@fortawesome/fontawesome-free"
# After drawing a figure, the jupyterlab-plotly mime renderer stores a PNG snapshot into the output
# model with `model.setData`, which Voilà's output models lack; the plot itself is drawn (asserted).
PLOTLY_SNAPSHOT_IN_VOILA = "r.setData is not a function"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, process: subprocess.Popen[bytes], timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert process.poll() is None, "hearkit dashboard exited early"
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"nothing listens on port {port} after {timeout} s")


def serve_dashboard(tmp_path: Path, *args: str, **env_extra: str) -> tuple[subprocess.Popen[bytes], int]:
    """``hearkit dashboard ARGS`` on a free port (no browser, no PyAI key, the engine's data in
    ``tmp_path``), its log in ``tmp_path/voila.log``; returns the server and its port once it listens."""
    port = free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}}
    env["HEARKIT_DATA_DIR"] = str(tmp_path / "engine")
    env.update(env_extra)
    hearkit = Path(sys.executable).parent / "hearkit"
    server = subprocess.Popen(
        [str(hearkit), "dashboard", *args, "--port", str(port), "--no-browser"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "voila.log").open("wb"),
    )
    try:
        wait_for_port(port, server)
    except BaseException:
        server.terminate()
        raise
    return server, port


def bar_calls(page: object) -> set[str]:
    """Call ids on the y axis of the talk-ratio chart, read from plotly.js's own graph data."""
    return set(
        page.evaluate(  # type: ignore[attr-defined]
            """() => {
                const plot = [...document.querySelectorAll('.js-plotly-plot')]
                    .find(p => (p.layout.title.text || '').startsWith('Talk ratio'));
                return plot.data.flatMap(t => t.y || []);
            }"""
        )
    )


@pytest.mark.browser
def test_filter_change_updates_table_and_chart_in_voila(tmp_path: Path, browser: Any) -> None:
    from hearkit.record import sample_dir

    index = json.loads((sample_dir() / "index.json").read_text())["calls"]
    reps = Counter(c["rep"] for c in index)
    rep, _ = min(reps.items(), key=lambda item: item[1])
    expected = {c["call_id"] for c in index if c["rep"] == rep}
    assert 0 < len(expected) < len(index)

    server, port = serve_dashboard(tmp_path)
    try:
        page = browser.new_page()
        errors: list[str] = []
        failed: list[str] = []
        page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.wait_for_selector(".hearkit-count", timeout=120_000)
        assert page.inner_text(".hearkit-count").startswith(f"{len(index)} of {len(index)} calls")
        page.wait_for_function(
            "[...document.querySelectorAll('.js-plotly-plot')]"
            ".some(p => p.layout && (p.layout.title.text || '').startsWith('Talk ratio'))",
            timeout=60_000,
        )
        assert bar_calls(page) == {c["call_id"] for c in index}

        rep_select = page.locator(".widget-select-multiple", has_text="Rep").locator("select")
        rep_select.select_option(rep)
        page.wait_for_function(
            f"document.querySelector('.hearkit-count').innerText.startsWith('{len(expected)} of')",
            timeout=60_000,
        )
        rows = page.eval_on_selector_all(
            ".hearkit-calls tr[data-call-id]", "rows => rows.map(r => r.dataset.callId)"
        )
        assert set(rows) == expected
        page.wait_for_function(
            "[...document.querySelectorAll('.js-plotly-plot')]"
            f".some(p => p.layout && (p.layout.title.text || '').startsWith('Talk ratio') "
            f"&& p.data[0].y.length === {len(expected)})",
            timeout=60_000,
        )
        assert bar_calls(page) == expected
        transcript = page.inner_text(".hearkit-transcript")
        assert transcript.strip(), "the call view shows the selected call's transcript"
        page.close()
        unexpected = [url for url in failed if not url.startswith(VOILA_TEMPLATE_CDN)]
        assert unexpected == []
        known = ("Failed to load resource", PLOTLY_SNAPSHOT_IN_VOILA)
        assert [e for e in errors if not e.startswith(known)] == []
        assert len([e for e in errors if e.startswith(known[0])]) == len(failed)
    finally:
        server.terminate()
        server.wait(timeout=30)


def _kernels(server: subprocess.Popen[bytes]) -> int:
    """The ipykernel processes the dashboard server has started and not shut down."""
    import psutil

    children = psutil.Process(server.pid).children(recursive=True)
    return sum(1 for child in children if "ipykernel" in " ".join(child.cmdline()))


@pytest.mark.browser
def test_a_page_the_reader_left_gives_its_kernel_back(tmp_path: Path, browser: Any) -> None:
    """U7 finding 14: every page load started a Voilà kernel that lived until the server stopped (4 loads,
    4 kernels). With HEARKIT_DASHBOARD_IDLE_S=4: a page still open keeps its kernel past that time, and
    once the reader leaves it is shut down."""
    server, port = serve_dashboard(tmp_path, HEARKIT_DASHBOARD_IDLE_S="4")
    try:
        page = browser.new_page()
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.wait_for_selector(".hearkit-count", timeout=120_000)
        assert _kernels(server) == 1
        time.sleep(10)  # over twice the idle time, the page open: its kernel stays
        assert _kernels(server) == 1
        page.close()
        deadline = time.monotonic() + 60
        while _kernels(server) and time.monotonic() < deadline:
            time.sleep(0.5)
        assert _kernels(server) == 0, (tmp_path / "voila.log").read_text()[-2000:]
    finally:
        server.terminate()
        server.wait(timeout=30)


@pytest.mark.parametrize("given", ["ten", "0", "-5", "1.5"])
def test_an_idle_time_that_is_not_whole_seconds_is_refused_before_voila_starts(
    tmp_path: Path, given: str
) -> None:
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}}
    env["HEARKIT_DATA_DIR"] = str(tmp_path / "engine")
    env["HEARKIT_DASHBOARD_IDLE_S"] = given
    hearkit = Path(sys.executable).parent / "hearkit"
    done = subprocess.run(
        [str(hearkit), "dashboard", "--port", str(free_port()), "--no-browser"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert f"HEARKIT_DASHBOARD_IDLE_S='{given}': give a whole number of seconds" in done.stderr
    assert "Traceback" not in done.stderr and "serving" not in done.stderr
