"""``hearkit webhooks listen``'s app, served by uvicorn: verified events land in the batch folder."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx

from hearkit.batch.webhook_listener import WEBHOOK_STORE_NAME, webhook_app, webhook_store
from hearkit.webhooks import sign
from tests.servers import serve

SECRET = "whsec_test_batch"


def _event(job_id: str, kind: str = "completed") -> bytes:
    return json.dumps({"type": f"transcription.job.{kind}", "data": {"job_id": job_id}}).encode()


def test_signed_events_are_stored_once_and_forgeries_are_refused(tmp_path: Path) -> None:
    with serve(webhook_app(tmp_path, [SECRET, "whsec_old"])) as base, httpx.Client(base_url=base) as http:
        body = _event("job_a")
        ok = http.post("/webhooks/pyai", content=body, headers={"X-PyAI-Signature": sign(body, SECRET)})
        assert ok.status_code == 204
        again = http.post("/webhooks/pyai", content=body, headers={"X-PyAI-Signature": sign(body, SECRET)})
        assert again.status_code == 204  # redelivery: acknowledged, stored once
        rotated = _event("job_b", "failed")
        old_sig = {"X-PyAI-Signature": sign(rotated, "whsec_old")}
        old = http.post("/webhooks/pyai", content=rotated, headers=old_sig)
        assert old.status_code == 204

        forged = _event("job_forged")
        wrong = http.post(
            "/webhooks/pyai", content=forged, headers={"X-PyAI-Signature": sign(forged, "nope")}
        )
        assert wrong.status_code == 401
        missing = http.post("/webhooks/pyai", content=forged)
        assert missing.status_code == 401
        stale = sign(forged, SECRET, timestamp=int(time.time()) - 3600)
        assert (
            http.post("/webhooks/pyai", content=forged, headers={"X-PyAI-Signature": stale}).status_code
            == 401
        )
        tampered = body.replace(b"job_a", b"job_z")
        sig = sign(body, SECRET)
        assert (
            http.post("/webhooks/pyai", content=tampered, headers={"X-PyAI-Signature": sig}).status_code
            == 401
        )

        not_event = b'{"hello": "world"}'
        bad = http.post(
            "/webhooks/pyai", content=not_event, headers={"X-PyAI-Signature": sign(not_event, SECRET)}
        )
        assert bad.status_code == 400
        huge = b"x" * (2 * 1024 * 1024 + 1)
        assert (
            http.post("/webhooks/pyai", content=huge, headers={"X-PyAI-Signature": "t=1"}).status_code == 413
        )
    store = webhook_store(tmp_path)
    events = [(event.job_id, event.type) for event in store.events()]
    store.close()
    assert (tmp_path / WEBHOOK_STORE_NAME).is_file()
    assert events == [("job_a", "transcription.job.completed"), ("job_b", "transcription.job.failed")]


def test_listen_on_a_file_for_out_is_one_line(tmp_path: Path) -> None:
    """U8 finding 4: `hearkit webhooks listen --out <a file>` ended in a 40-line FileExistsError traceback."""
    from tests.batch.cli_run import run

    (tmp_path / "whsec.txt").write_text("whsec_test_secret\n")
    (tmp_path / "notes.txt").write_text("not a folder\n")
    done = run(
        ["webhooks", "listen", "--out", "notes.txt", "--port", "0", "--secret-file", "whsec.txt"], tmp_path
    )
    assert done.returncode == 2
    assert "notes.txt is a file" in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert (tmp_path / "notes.txt").read_text() == "not a folder\n"  # nothing lost
