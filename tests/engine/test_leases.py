"""Many hearkit processes on one data dir: job leases, takeover of a dead owner's jobs, hand-back at exit.

The processes are real (``python`` subprocesses using the default embedded engine through
``PyAI()``, as a user's scripts do); the transcriber is the fake one with a delay, because which
process runs a job is the point here, not speech recognition. Every finished job enqueues one
webhook delivery in the same transaction as its result, so the ``deliveries`` table counts how
many times each job was *finished*: exactly once is the requirement.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from hearkit.engine.fake import FakeTranscriber
from hearkit.engine.ids import now_ms
from hearkit.engine.leases import Leases
from hearkit.engine.store import KeyRow, Store
from tests.engine.conftest import REPO, client_of, start_engine, wait_job

JOBS = "/v1/transcription/jobs"

# A user's script: the default engine (no key), some jobs, then wait for them or just end.
_SCRIPT = """
import json, sys, time
from hearkit.client import PyAI

audio, name, count, then = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
client = PyAI()
ids = [
    client.jobs.create(audio, call_id=f"{name}-{i}", webhook_url="http://127.0.0.1:9/hook").job_id
    for i in range(count)
]
print(json.dumps(ids), flush=True)
if then == "wait":
    for job_id in ids:
        client.jobs.wait(job_id, timeout=300)
else:  # end the script while jobs are running (some of them in this process)
    deadline = time.monotonic() + 60
    while not any(client.jobs.get(j).status == "running" for j in ids) and time.monotonic() < deadline:
        time.sleep(0.05)
    time.sleep(0.3)
print("done", flush=True)
"""


def _spawn(
    data_dir: Path, audio: Path, name: str, count: int, then: str, transcriber: str = "fake"
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "HEARKIT_DATA_DIR": str(data_dir),
        "HEARKIT_TRANSCRIBER": transcriber,
        "HEARKIT_FAKE_DELAY": "2.0",
        "HEARKIT_POLL_INTERVAL": "0.05",
        "HEARKIT_ALLOW_PRIVATE_URLS": "1",
        "PYTHONPATH": str(REPO),
    }
    return subprocess.Popen(
        [sys.executable, "-c", _SCRIPT, str(audio), name, str(count), then],
        env=env,
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _jobs(data_dir: Path) -> dict[str, sqlite3.Row]:
    with sqlite3.connect(data_dir / "engine.sqlite3") as db:
        db.row_factory = sqlite3.Row
        return {r["job_id"]: r for r in db.execute("SELECT job_id, status, owner, attempts FROM jobs")}


def _finishes(data_dir: Path) -> dict[str, int]:
    with sqlite3.connect(data_dir / "engine.sqlite3") as db:
        rows = db.execute("SELECT job_id, COUNT(*) FROM deliveries GROUP BY job_id").fetchall()
    return {job_id: n for job_id, n in rows}


def test_two_processes_one_killed_one_exiting_every_job_completes_once(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    data_dir = tmp_path / "engine"
    killed = _spawn(data_dir, audio["mono3"], "killed", 5, "wait")
    ids_killed = json.loads(killed.stdout.readline() if killed.stdout else "[]")
    leaving = _spawn(data_dir, audio["mono3"], "leaving", 5, "end")
    ids_leaving = json.loads(leaving.stdout.readline() if leaving.stdout else "[]")
    assert len(ids_killed) == len(ids_leaving) == 5

    # SIGKILL the first process while it owns a running job.
    deadline = time.monotonic() + 60
    owner_pid = f":{killed.pid}:"
    while not any(
        r["status"] == "running" and owner_pid in (r["owner"] or "") for r in _jobs(data_dir).values()
    ):
        assert time.monotonic() < deadline, "the first process never ran a job"
        time.sleep(0.02)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    _out, err = leaving.communicate(timeout=120)
    assert leaving.returncode == 0, err
    assert "Traceback" not in err

    # Whatever is left (the killed process's jobs, those handed back) runs in a third process.
    with start_engine(data_dir, poll_interval=0.05) as engine, client_of(engine) as http:
        done = [wait_job(http, job_id, timeout=120).json() for job_id in ids_killed + ids_leaving]
    assert [job["status"] for job in done] == ["completed"] * 10, [job.get("error") for job in done]
    assert {job["result"]["audio_seconds"] for job in done} == {3.0}
    assert _finishes(data_dir) == dict.fromkeys(ids_killed + ids_leaving, 1)
    log = (data_dir / "engine.log").read_text()
    assert "taking it over" in log  # the killed process's running job
    assert "handed" in log and "back to the queue" in log  # the process that ended mid-run
    assert "internal transcription error" not in log


def test_a_live_owners_job_is_not_taken_an_expired_lease_is(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    here = Leases(Store(path), lease_seconds=60)
    # A process on another machine (no pid check there): only its lease and heartbeat count.
    other = Leases(Store(path), lease_seconds=60, owner="another-host:boot:1234:abcd")
    outside = Store(path)  # jobs inserted here have no origin (as if handed back)
    key = KeyRow("key_1", "test", (), "org", "proj", 0, None, "active", None, None, 10.0, 10, None)
    for n in range(2):
        outside.insert_job(job_id=f"job_{n}", key=key, created_at=now_ms() + n, params={}, audio_path=None)

    first = other.claim_next()
    assert first is not None and first.job_id == "job_0"
    second = here.claim_next()
    assert second is not None and second.job_id == "job_1"  # job_0 is leased to the live owner
    assert here.claim_next() is None

    # The other owner stops renewing: once its lease has run out, job_0 is taken over.
    with outside.transaction() as db:
        db.execute("UPDATE jobs SET lease_until = ? WHERE job_id = 'job_0'", (now_ms() - 1,))
    taken = here.claim_next()
    assert taken is not None and taken.job_id == "job_0" and taken.attempts == 2
    # The former owner finishing late stores nothing: the job completes once, by its new owner.
    assert not other.finish(first, result_json="{}", audio_seconds=1.0, error=None, webhook_event=None)
    assert here.finish(taken, result_json="{}", audio_seconds=1.0, error=None, webhook_event=None)
    assert outside.get_job("job_0").status == "completed"  # type: ignore[union-attr]

    # Handing back does not count the interrupted attempt.
    assert here.hand_back() == ["job_1"]
    again = here.claim_next()
    assert again is not None and again.job_id == "job_1" and again.attempts == 1


def test_a_live_process_runs_the_jobs_it_created_first_and_others_only_after_it_left(tmp_path: Path) -> None:
    path = tmp_path / "engine.sqlite3"
    batch = Leases(Store(path), lease_seconds=60, owner="another-host:boot:1:batch")
    analyze = Leases(Store(path), lease_seconds=60, owner="another-host:boot:2:analyze")
    key = KeyRow("key_1", "test", (), "org", "proj", 0, None, "active", None, None, 10.0, 10, None)
    for n in range(3):  # the batch's queue, created through the batch process's engine
        batch.store.insert_job(
            job_id=f"batch_{n}", key=key, created_at=now_ms() + n, params={}, audio_path=None
        )
    analyze.store.insert_job(job_id="mine", key=key, created_at=now_ms() + 10, params={}, audio_path=None)

    claimed = analyze.claim_next()
    assert claimed is not None and claimed.job_id == "mine"  # not behind the batch's older jobs
    assert analyze.claim_next() is None  # the batch's queued jobs are the live batch's to run
    first = batch.claim_next()
    assert first is not None and first.job_id == "batch_0"
    batch.leave()  # the batch process exits: its running job and its queue become anybody's
    assert [analyze.claim_next().job_id for _ in range(3)] == ["batch_0", "batch_1", "batch_2"]  # type: ignore[union-attr]


def test_engine_stop_hands_running_jobs_back(tmp_path: Path, audio: dict[str, Path]) -> None:
    engine = start_engine(tmp_path, transcriber=FakeTranscriber(delay=5.0))
    with client_of(engine) as http:
        job_id = http.post(JOBS, files={"audio": audio["mono3"].read_bytes()}).json()["job_id"]
        deadline = time.monotonic() + 30
        while http.get(f"{JOBS}/{job_id}").json()["status"] != "running":
            assert time.monotonic() < deadline
            time.sleep(0.02)
    engine.stop()
    row = _jobs(tmp_path)[job_id]
    assert (row["status"], row["owner"], row["attempts"]) == ("queued", None, 0)
    with start_engine(tmp_path) as again, client_of(again) as http:
        assert wait_job(http, job_id).json()["status"] == "completed"


@pytest.mark.parametrize("lease", [0.0, -1.0])
def test_lease_must_be_positive(tmp_path: Path, lease: float) -> None:
    store = Store(tmp_path / "engine.sqlite3")
    with pytest.raises(ValueError, match="lease_seconds"):
        Leases(store, lease)
    store.close()


@pytest.mark.asr
def test_two_processes_with_real_asr_one_killed(tmp_path: Path, realdata: Path) -> None:
    """The same with faster-whisper in worker processes: the killed owner's job is redone elsewhere."""
    import re

    jfk = realdata / "whisper_jfk" / "jfk.flac"
    expected = set(
        re.findall(r"[a-z]+", (realdata / "whisper_jfk" / "jfk.reference.derived.txt").read_text().lower())
    )
    data_dir = tmp_path / "engine"
    killed = _spawn(data_dir, jfk, "killed", 2, "wait", transcriber="whisper")
    ids = json.loads(killed.stdout.readline() if killed.stdout else "[]")
    other = _spawn(data_dir, jfk, "other", 2, "wait", transcriber="whisper")
    ids += json.loads(other.stdout.readline() if other.stdout else "[]")
    deadline = time.monotonic() + 300
    owner_pid = f":{killed.pid}:"
    while not any(
        r["status"] == "running" and owner_pid in (r["owner"] or "") for r in _jobs(data_dir).values()
    ):
        assert time.monotonic() < deadline, "the first process never ran a job"
        time.sleep(0.05)
    killed.send_signal(signal.SIGKILL)
    killed.wait(10)
    _out, err = other.communicate(timeout=600)
    assert other.returncode == 0, err[-3000:]
    with (
        start_engine(data_dir, transcriber="whisper", poll_interval=0.05) as engine,
        client_of(engine) as http,
    ):
        done = [wait_job(http, job_id, timeout=600).json() for job_id in ids]
    assert [job["status"] for job in done] == ["completed"] * 4, [job.get("error") for job in done]
    for job in done:
        words = set(re.findall(r"[a-z]+", job["result"]["text"].lower()))
        assert len(words & expected) / len(expected) > 0.8
    assert _finishes(data_dir) == dict.fromkeys(ids, 1)


def test_two_engines_on_one_data_dir_deliver_each_webhook_once(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    import asyncio
    import threading

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import Response
    from starlette.routing import Route

    from tests.engine.conftest import ThreadedServer

    received: list[str] = []
    lock = threading.Lock()

    async def hook(request: Request) -> Response:
        body = await request.json()
        with lock:
            received.append(body["data"]["job_id"])
        await asyncio.sleep(1.0)  # a slow receiver: both engines see the delivery due meanwhile
        return Response(status_code=204)

    receiver = ThreadedServer(Starlette(routes=[Route("/hook", hook, methods=["POST"])]))
    url = f"http://127.0.0.1:{receiver.port}/hook"
    try:
        with (
            start_engine(tmp_path, webhook_retry_base=0.2) as one,
            start_engine(tmp_path, webhook_retry_base=0.2) as two,
            client_of(one) as http,
        ):
            ids = [
                http.post(
                    JOBS, files={"audio": audio["mono3"].read_bytes()}, data={"webhook_url": url}
                ).json()["job_id"]
                for _ in range(3)
            ]
            for job_id in ids:
                assert wait_job(http, job_id).json()["status"] == "completed"
            deadline = time.monotonic() + 30
            while len(set(received)) < 3 and time.monotonic() < deadline:
                time.sleep(0.05)
            time.sleep(2.0)  # time for a duplicate to arrive, if any
            assert two.running
    finally:
        receiver.stop()
    assert sorted(received) == sorted(ids)  # each job's event once, whichever engine sent it
