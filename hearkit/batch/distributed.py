"""More than one machine: local-engine transcription and metrics on a Dask distributed cluster.

Transcription (:func:`run_on_dask`): each pending recording becomes one task that transcribes the
whole recording on a worker with the local engine's transcriber (``whisper``: the faster-whisper
pipeline; ``fake``: the deterministic test transcriber). The audio bytes travel with the task,
so workers need no shared filesystem. Each worker builds its transcriber once and keeps it (the
model loads once per worker process; threads of one process share it). Results stream back as
tasks finish, into the same manifest and the same per-call JSON as API jobs, so the dataset, the
resume logic and the reports do not care where a transcript came from. A recording's "job id"
is ``local_`` + the first 24 hex digits of its content hash: one recording, one job.

Metrics (:func:`scorecards_by_partition`, :func:`talk_time`): over a Parquet dataset too big for
one pandas frame, dask.dataframe reads it partition by partition. ``scorecards`` of
:mod:`hearkit.metrics` runs on each partition (a call never spans two partitions; the dataset is
shuffled by ``call_id`` first when it would), and ``talk_time`` is a plain groupby that gives
the same numbers on a pandas or a dask frame.
"""

from __future__ import annotations

import importlib
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd

from hearkit.batch.manifest import Manifest, ManifestRow
from hearkit.batch.progress import BatchProgress
from hearkit.batch.runner import write_json
from hearkit.batch.speakers import request_options
from hearkit.frames import CALL_ID
from hearkit.schema import JobCreateParams, Result

__all__ = [
    "cluster_client",
    "local_job_id",
    "run_on_dask",
    "scorecards_by_partition",
    "talk_time",
    "transcribe_on_worker",
]

_TRANSCRIBERS: dict[str, Any] = {}
_TRANSCRIBERS_LOCK = threading.Lock()
_LOCAL_WORKERS = 0  # worker threads of the local cluster in this process (0: none started here)
LOADS: dict[str, int] = {}
"""How many times this process built each transcriber (tests check: once per worker process)."""


def local_job_id(rec_id: str) -> str:
    """The job id of a recording transcribed on the cluster: ``local_`` + 24 hex of its hash."""
    return f"local_{rec_id[:24]}"


def _make_transcriber(name: str) -> Any:
    if name == "fake":
        from hearkit.engine.fake import FakeTranscriber

        return FakeTranscriber()
    if name == "whisper":
        from hearkit.engine.pipeline import WhisperTranscriber

        if _LOCAL_WORKERS and "HEARKIT_ASR_REPLICAS" not in os.environ:
            # The local cluster's worker threads share this process's model: one replica each,
            # so they do not wait for each other, with the cores split between them.
            threads = max(1, (os.cpu_count() or 1) // _LOCAL_WORKERS)
            return WhisperTranscriber(cpu_threads=threads, replicas=_LOCAL_WORKERS)
        return WhisperTranscriber()
    raise ValueError(f"unknown transcriber {name!r}: use 'whisper' or 'fake'")


def _transcriber(name: str) -> Any:
    with _TRANSCRIBERS_LOCK:
        if name not in _TRANSCRIBERS:
            _TRANSCRIBERS[name] = _make_transcriber(name)
            LOADS[name] = LOADS.get(name, 0) + 1
        return _TRANSCRIBERS[name]


def transcribe_on_worker(
    audio: bytes, suffix: str, options: dict[str, Any], transcriber: str
) -> dict[str, Any]:
    """The task run on a worker: ``{"result": <Result dict>}`` or ``{"error": <message>}``."""
    from hearkit.engine.transcriber import AudioError

    engine = _transcriber(transcriber)
    with tempfile.TemporaryDirectory(prefix="hearkit-dask-") as tmp:
        path = Path(tmp) / f"audio{suffix}"
        path.write_bytes(audio)
        try:
            result: Result = engine.transcribe(path, JobCreateParams(**options))
        except AudioError as exc:
            return {"error": str(exc)}
    return {"result": result.to_api(), "pid": os.getpid()}


@contextmanager
def cluster_client(scheduler: str, *, n_workers: int = 2) -> Iterator[Any]:
    """A ``distributed.Client`` on ``scheduler``, or on a new LocalCluster for ``"local"``.

    The local cluster runs ``n_workers`` workers of one thread each in this process
    (``processes=False``): transcription releases the GIL, and nothing is pickled to a subprocess.
    Its scheduler's HTTP endpoints (health, metrics; no dashboard) take a free loopback port:
    left to its default they bind port 8787 on every interface, the port ``hearkit serve`` uses
    by default.
    """
    from hearkit._extras import require

    require("dask", "hearkit batch --dask")
    # distributed is untyped: go through Any.
    dist: Any = importlib.import_module("distributed")
    Client, LocalCluster = dist.Client, dist.LocalCluster
    if scheduler == "local":
        global _LOCAL_WORKERS
        _LOCAL_WORKERS = n_workers
        with (
            LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=False,
                dashboard_address=None,
                scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
                silence_logs=40,
            ) as cluster,
            Client(cluster) as client,
        ):
            yield client
    else:
        with Client(scheduler) as client:
            yield client


def run_on_dask(
    manifest: Manifest,
    rows: list[ManifestRow],
    *,
    scheduler: str,
    transcriber: str | None = None,
    progress: BatchProgress | None = None,
    options: dict[str, Any] | None = None,
    speakers_expected: int | None = None,
    n_workers: int = 2,
    window: int | None = None,
) -> None:
    """Transcribe ``rows`` on the cluster; each finished task is written and marked at once.

    At most ``window`` tasks (default: two per worker thread) are in flight, so the audio of a
    large archive is not all in memory at once.
    """
    as_completed: Any = importlib.import_module("distributed").as_completed
    name = transcriber or os.environ.get("HEARKIT_TRANSCRIBER") or "whisper"
    remote_rows = [row for row in rows if row.kind == "url"]
    for row in remote_rows:
        manifest.mark_failed(row.rec_id, "remote audio_url recordings need the jobs API, not --dask")
        if progress is not None:
            progress.failed_one()
    todo = [row for row in rows if row.kind == "file"]
    if not todo:
        return
    with cluster_client(scheduler, n_workers=n_workers) as client:
        threads = sum(client.nthreads().values()) or 1
        limit = window or 2 * threads
        pending = iter(todo)
        by_key: dict[str, ManifestRow] = {}
        futures = as_completed()

        def submit_next() -> bool:
            row = next(pending, None)
            if row is None:
                return False
            wanted = request_options(options or {}, row.mode, speakers_expected)
            # A recording sent before (a resumed run) keeps its stored request.
            request = manifest.prepare_submit(row.rec_id, local_job_id(row.rec_id), wanted).request or wanted
            manifest.mark_sending(row.rec_id)
            manifest.mark_created(row.rec_id, local_job_id(row.rec_id))
            audio = Path(row.source).read_bytes()
            future = client.submit(
                transcribe_on_worker,
                audio,
                Path(row.source).suffix,
                request,
                name,
                key=f"transcribe-{row.rec_id[:32]}-{time.monotonic_ns()}",
                pure=False,
            )
            by_key[future.key] = row
            futures.add(future)
            return True

        for _ in range(limit):
            if not submit_next():
                break
        for future in futures:
            row = by_key.pop(future.key)
            _settle(manifest, row, future, progress)
            future.release()
            submit_next()


def _settle(manifest: Manifest, row: ManifestRow, future: Any, progress: BatchProgress | None) -> None:
    job_id = local_job_id(row.rec_id)
    try:
        outcome = future.result()
    except Exception as exc:  # a worker died or the task raised: the error is the row's reason
        manifest.mark_failed(row.rec_id, f"{job_id}: {type(exc).__name__}: {exc}")
        if progress is not None:
            progress.failed_one()
        return
    if "error" in outcome:
        manifest.mark_failed(row.rec_id, f"{job_id}: {outcome['error']}")
        if progress is not None:
            progress.failed_one()
        return
    result = Result.model_validate(outcome["result"])
    now = int(time.time() * 1000)
    document = {
        "job_id": job_id,
        "status": "completed",
        "created_at": now,
        "updated_at": now,
        "result": result.to_api(),
        "hearkit": {
            "call_id": row.call_id,
            "rec_id": row.rec_id,
            "source": row.source,
            "mode": row.mode,
            "layout": row.layout,
            "idempotency_key": job_id,
            "metadata": row.metadata,
            "engine": "dask",
        },
    }
    path = manifest.out_dir / "calls" / f"{row.call_id}.json"
    write_json(path, document)
    manifest.mark_completed(
        row.rec_id,
        result_path=str(path.relative_to(manifest.out_dir)),
        audio_seconds=result.audio_seconds,
        billed_seconds=None,
    )
    if progress is not None:
        progress.completed(result.audio_seconds)


# metrics --------------------------------------------------------------------------------------


def talk_time(turns: Any) -> Any:
    """Talk time per call and speaker, with each speaker's share of the call's talk time.

    ``talk_s`` = sum of the speaker's turn durations (``duration_s``); ``talk_share`` =
    ``talk_s`` / the call's total ``talk_s`` (all speakers; overlap counts for each speaker);
    ``turns`` = number of turns; ``longest_turn_s`` = the longest single turn. Works on a pandas
    or a dask DataFrame (then call ``.compute()``); the result is sorted by call and speaker.
    """
    grouped = turns.groupby([CALL_ID, "speaker"])["duration_s"]
    per_speaker = grouped.agg(["sum", "count", "max"]).rename(
        columns={"sum": "talk_s", "count": "turns", "max": "longest_turn_s"}
    )
    per_speaker = per_speaker.reset_index()
    totals = per_speaker.groupby(CALL_ID)["talk_s"].sum().rename("call_talk_s").reset_index()
    merged = per_speaker.merge(totals, on=CALL_ID)
    merged["talk_share"] = merged["talk_s"] / merged["call_talk_s"]
    return merged


def _turns_parquet(path: str | Path) -> str | Path:
    """The turns Parquet of ``path``: a saved calls folder's ``turns.parquet``; a missing local path is
    a one-line FileNotFoundError (dask wrapped it in "An error occurred while calling the read_parquet
    method ..."); anything else (a Parquet file or folder, a glob, a URL) as given."""
    from hearkit.locate import CALLSET_FILES, callset_folder, is_batch_output

    text = str(path)
    if "://" in text or any(c in text for c in "*?["):
        return path
    local = Path(text).expanduser()
    if not local.exists():
        raise FileNotFoundError(
            f"{local} does not exist: give a turns Parquet file or folder, or a folder of saved calls"
            " (hearkit batch --out, CallSet.save)"
        )
    if local.is_dir() and (is_batch_output(local) or (local / CALLSET_FILES[-1]).is_file()):
        return callset_folder(local) / "turns.parquet"
    return path


def scorecards_by_partition(
    turns_path: str | Path,
    scorecards: Callable[[pd.DataFrame], pd.DataFrame] | None = None,
    *,
    client: Any = None,
) -> pd.DataFrame:
    """Per-call scorecards of a (large) turns Parquet dataset, computed partition by partition.

    ``turns_path``: a turns Parquet file or folder of them, or a folder of saved calls (``hearkit
    batch --out`` folder, its dataset/, a ``CallSet.save()`` folder), whose ``turns.parquet`` is
    read (all of its Parquet files were, the calls frame first: "the turns frame lacks start,
    end"). ``scorecards`` defaults to :func:`hearkit.metrics.scorecards`. Each partition must hold
    whole calls; when one call spans partitions, the frame is shuffled by ``call_id`` first.
    """
    import dask.dataframe as dd

    turns_path = _turns_parquet(turns_path)
    if scorecards is None:
        from hearkit.metrics import scorecards as default_scorecards

        scorecards = default_scorecards
    func = scorecards
    frame = dd.read_parquet(str(turns_path))
    call_sets = frame[CALL_ID].map_partitions(lambda s: pd.Series([frozenset(s.unique())])).compute()
    seen: set[Any] = set()
    overlapping = False
    for calls in call_sets:
        if seen & calls:
            overlapping = True
            break
        seen |= calls
    if overlapping:
        frame = frame.shuffle(CALL_ID)
    meta = func(frame._meta)
    cards = frame.map_partitions(func, meta=meta)
    computed: pd.DataFrame = cards.compute() if client is None else client.compute(cards).result()
    return computed
