"""One's own calls end to end with the real parts: ``hearkit batch`` over a small folder (two short real
recordings cut from the sample calls with sidecar metadata, and a file that is not audio) through the
embedded engine (PyAV, faster-whisper), then ``hearkit report OUT`` opened in headless Chromium, then
``hearkit dashboard OUT`` served by Voilà and opened in Chromium: it shows those calls, not the samples,
and no code.

Ground truth comes from outside the code: the sample calls' scripts (``*.truth.json``: which turn holds
which planted action item, its owner and its time), and the sidecar files the test writes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import wave
from pathlib import Path
from typing import Any

import av
import numpy as np
import pytest

from hearkit.record import CallSet, sample_dir
from tests.dashboard.test_voila import VOILA_TEMPLATE_CDN, free_port, wait_for_port

RATE = 16000
HEARKIT = Path(sys.executable).parent / "hearkit"
# (call id, sample call, cut from s, cut to s): each cut holds the rep's and the customer's planted
# action items at the end of the sample call ("I'll send you both quotes…", "I will set up a call…").
CUTS = [("pricing", "call_03_pricing", 114.4, 132.6), ("renewal", "call_05_renewal", 138.0, 153.9)]
SIDECARS = {
    "pricing": {
        "title": "Pricing follow-up with Northwind",
        "rep": "Sam Ortiz",
        "customer": "Northwind Ltd",
        "date": "2026-11-02",
        "team": "Mid-market",
    },
    "renewal": {
        "title": "Renewal terms, Contoso",
        "rep": "Lee Park",
        "customer": "Contoso",
        "date": "2026-11-03",
        "team": "Mid-market",
    },
}


def cut_stereo(source: Path, start: float, end: float, target: Path) -> None:
    """``source`` from ``start`` to ``end`` seconds as 16 kHz stereo 16-bit WAV (decoded with PyAV)."""
    resampler = av.AudioResampler(format="s16", layout="stereo", rate=RATE)
    chunks = []
    with av.open(str(source)) as container:
        for frame in container.decode(audio=0):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, 2))
    pcm = np.concatenate(chunks)[round(start * RATE) : round(end * RATE)]
    with wave.open(str(target), "wb") as handle:
        handle.setnchannels(2)
        handle.setsampwidth(2)
        handle.setframerate(RATE)
        handle.writeframes(pcm.astype("<i2").tobytes())


def planted(sample: str, start: float, end: float) -> list[dict[str, Any]]:
    """The planted action items inside the cut: owner role and the turn's span in the cut's time."""
    truth = json.loads((sample_dir() / f"{sample}.truth.json").read_text())
    spans = {t["turn"]: (t["start"] - start, t["end"] - start) for t in truth["turns"]}
    return [
        {"owner": item["owner_role"], "span": spans[item["turn"]], "text": item["text"]}
        for item in truth["action_items"]
        if start <= spans[item["turn"]][0] + start and spans[item["turn"]][1] + start <= end
    ]


def hearkit(*args: str, env: dict[str, str], timeout: float = 600) -> subprocess.CompletedProcess[str]:
    command = [str(HEARKIT), *args]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.mark.asr
@pytest.mark.browser
def test_batch_report_and_dashboard_of_ones_own_calls(tmp_path: Path, browser: Any) -> None:
    src = tmp_path / "my calls"
    src.mkdir()
    expected: dict[str, list[dict[str, Any]]] = {}
    for call_id, sample, start, end in CUTS:
        cut_stereo(sample_dir() / f"{sample}.stereo.ogg", start, end, src / f"{call_id}.wav")
        (src / f"{call_id}.meta.json").write_text(json.dumps(SIDECARS[call_id]), encoding="utf-8")
        expected[call_id] = planted(sample, start, end)
        assert len(expected[call_id]) == 2, "each cut holds a rep and a customer action item"
    (src / "voicemail.wav").write_bytes(b"RIFF\x00\x00\x00\x00WAVEnot really audio")
    out = tmp_path / "out"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))}
    env["HEARKIT_DATA_DIR"] = str(tmp_path / "engine")

    batch = hearkit("batch", str(src), "--out", str(out), "--concurrency", "2", env=env)
    assert batch.returncode == 0, batch.stdout + batch.stderr
    assert "voicemail" in batch.stdout, "the bad file is reported as skipped, with its name"

    # CallSet.load(OUT) reads the batch folder as it is: metadata and summaries are there.
    calls = CallSet.load(out)
    assert sorted(calls.call_ids) == ["pricing", "renewal"]
    frame = calls.calls.set_index("call_id")
    for call_id, meta in SIDECARS.items():
        assert frame.loc[call_id, list(meta)].tolist() == list(meta.values())
        summary = calls.summaries[call_id]
        assert summary.method == "extractive" and summary.summary
        for item in expected[call_id]:
            low, high = item["span"]
            found = [
                a for a in summary.action_items if a.citations and low - 1.5 <= a.citations[0].start < high
            ]
            # The planted item is found, owned by the planted role (the turn may hold more commitments).
            assert found and {a.owner_role for a in found} == {item["owner"]}, (item, summary.action_items)

    # hearkit report OUT: the HTML shows the metadata and the summaries, in a real browser.
    page_path = tmp_path / "report.html"
    report = hearkit("report", str(out), "-o", str(page_path), env=env)
    assert report.returncode == 0, report.stdout + report.stderr
    page = browser.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(page_path.as_uri())
    for call_id, meta in SIDECARS.items():
        details = page.locator("details.call", has_text=meta["title"])
        assert details.count() == 1
        details.locator("summary").first.click()
        heading = details.locator("summary").first.inner_text()
        for value in (meta["rep"], meta["customer"], meta["team"], meta["date"], call_id):
            assert value in heading
        text = details.inner_text()
        assert "Action items" in text and "Summary" in text
        for item in expected[call_id]:
            assert item["owner"] in text
    assert errors == []
    page.close()

    # hearkit dashboard OUT: Voilà serves these two calls, not the seven samples, and no code.
    port = free_port()
    server = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "hearkit"),
            "dashboard",
            str(out),
            "--port",
            str(port),
            "--no-browser",
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "voila.log").open("wb"),
    )
    try:
        wait_for_port(port, server)
        page = browser.new_page()
        failed: list[str] = []
        page.on("requestfailed", lambda r: failed.append(r.url))
        page.goto(f"http://127.0.0.1:{port}/", timeout=120_000)
        page.wait_for_selector(".hearkit-count", timeout=120_000)
        assert page.inner_text(".hearkit-count").startswith("2 of 2 calls")
        rows = page.eval_on_selector_all(
            ".hearkit-calls tr[data-call-id]", "rows => rows.map(r => r.dataset.callId)"
        )
        assert sorted(rows) == ["pricing", "renewal"]
        page.wait_for_selector(".hearkit-call-meta", timeout=60_000)
        meta_line = page.inner_text(".hearkit-call-meta")
        assert "Mid-market" in meta_line and any(m["title"] in meta_line for m in SIDECARS.values())
        body = page.inner_text("body")
        for code in ("import ", "CallSet.load", "display(", "pio.renderers"):
            assert code not in body, f"code shown to readers: {code!r}"
        assert page.locator(".jp-CodeMirrorEditor, .cm-editor, .jp-InputArea-editor, pre code").count() == 0
        inputs = page.locator(".jp-InputArea")
        assert inputs.count() == page.locator(".jp-InputArea .jp-RenderedMarkdown").count() == 1, (
            "the only cell input shown is the title (Markdown)"
        )
        assert "hearkit dashboard" in inputs.inner_text()
        assert [u for u in failed if not u.startswith(VOILA_TEMPLATE_CDN)] == []
        page.close()
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_dashboard_and_report_refuse_a_folder_without_calls_in_one_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))}
    for command in (["report", str(tmp_path), "-o", str(tmp_path / "r.html")], ["dashboard", str(tmp_path)]):
        result = hearkit(*command, env=env, timeout=120)
        assert result.returncode == 2
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and "holds no saved calls; expected a `hearkit batch --out` folder" in lines[0]
