"""``/v1/transcription/jobs``: create (JSON or multipart), get one, list newest first."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Header, Query, Request
from starlette.responses import JSONResponse, Response

from hearkit.engine.bodies import (
    Submission,
    check_sources,
    decode_cursor,
    encode_cursor,
    parse_limit,
    read_submission,
)
from hearkit.engine.deps import Billing, JobsKey, RuntimeDep
from hearkit.engine.ids import new_job_id, now_ms
from hearkit.engine.problems import EngineError
from hearkit.engine.render import units_header
from hearkit.engine.runtime import Runtime
from hearkit.engine.store import KeyRow
from hearkit.engine.worker import webhook_event
from hearkit.schema import Job, JobCreateParams, JobList

__all__ = ["router"]

router = APIRouter(prefix="/v1/transcription/jobs", tags=["transcription jobs"])

_CREATE_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {"schema": JobCreateParams.model_json_schema()},
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "properties": {"audio": {"type": "string", "format": "binary"}},
                    "required": ["audio"],
                    "additionalProperties": True,
                }
            },
        },
    },
    "responses": {
        "202": {
            "description": "Job accepted",
            "content": {"application/json": {"schema": Job.model_json_schema()}},
        }
    },
}


async def idempotency_key(
    idempotency_key: Annotated[str | None, Header(alias="Idempotency-Key")] = None,
) -> str | None:
    """The ``Idempotency-Key`` header, 1 to 255 characters when present."""
    if idempotency_key is not None and not 1 <= len(idempotency_key) <= 255:
        raise EngineError(
            400,
            "invalid_request",
            "header 'Idempotency-Key': must be 1 to 255 characters",
            param="Idempotency-Key",
        )
    return idempotency_key


@router.post("", status_code=202, openapi_extra=_CREATE_OPENAPI)
async def create_job(
    request: Request,
    key: JobsKey,
    idem_key: Annotated[str | None, Depends(idempotency_key)],
    runtime: RuntimeDep,
    billing: Billing,
) -> Response:
    """Create a transcription job from an https ``audio_url`` (JSON) or an upload (multipart)."""
    job_id = new_job_id()
    submission = await read_submission(request, runtime.settings, runtime.audio_dir / job_id, runtime.uploads)
    try:
        return _accept(runtime, key, idem_key, job_id, submission, billing)
    except BaseException:
        if submission.upload is not None:
            submission.upload.unlink(missing_ok=True)
        raise


def _accept(
    runtime: Runtime,
    key: KeyRow,
    idem_key: str | None,
    job_id: str,
    submission: Submission,
    billing: Billing,
) -> Response:
    failure = check_sources(submission.params, submission.upload is not None, runtime.settings)
    if idem_key is not None:
        previous = runtime.store.find_idempotency(key.key_id, idem_key)
        if previous is not None:
            return _replay(previous.body_hash, previous.response, submission)
    created_at = now_ms()
    status = "queued" if failure is None else "failed"
    accepted: dict[str, Any] = {"job_id": job_id, "status": status, "created_at": created_at}
    accepted["updated_at"] = created_at
    if failure is not None:
        accepted["error"] = failure
    accepted = Job.model_validate(accepted).to_api()
    billing(key)
    stored_params = submission.stored_params()
    claimed = runtime.store.insert_job(
        job_id=job_id,
        key=key,
        created_at=created_at,
        params=stored_params,
        audio_path=str(submission.upload) if submission.upload else None,
        status=status,
        error=failure,
        webhook_event=webhook_event(job_id, stored_params, "failed") if failure else None,
        idempotency=(idem_key, submission.body_hash, accepted) if idem_key is not None else None,
    )
    if claimed is not None:  # a concurrent request with the same key was stored first
        return _replay(claimed.body_hash, claimed.response, submission)
    runtime.wake(deliveries=failure is not None)
    return JSONResponse(accepted, status_code=202)


def _replay(body_hash: str, response: dict[str, Any], submission: Submission) -> Response:
    if submission.upload is not None:
        submission.upload.unlink(missing_ok=True)
    if body_hash != submission.body_hash:
        raise EngineError(
            409, "idempotency_conflict", "Idempotency-Key was reused with a different request body."
        )
    return JSONResponse(response, status_code=202, headers={"idempotent-replayed": "true"})


@router.get("/{job_id}", response_model=Job)
async def get_job(job_id: str, request: Request, key: JobsKey, runtime: RuntimeDep) -> Response:
    """One job; completed jobs carry ``x-pyai-units: audio_seconds=<n>``."""
    job = runtime.store.get_job(job_id, key.project_id)
    if job is None:
        raise EngineError(404, "not_found", f"No transcription job with id '{job_id[:100]}'.")
    headers = units_header(job.audio_seconds) if job.status == "completed" and job.audio_seconds else {}
    return JSONResponse(runtime.render.job_body(job, runtime.render.base_url(request)), headers=headers)


@router.get("", response_model=JobList)
async def list_jobs(
    request: Request,
    key: JobsKey,
    runtime: RuntimeDep,
    limit: Annotated[str | None, Query(description="1-100, default 20")] = None,
    cursor: Annotated[str | None, Query(description="next_cursor of the previous page")] = None,
) -> Response:
    """Jobs newest first; ``limit`` 1–100 (default 20); ``cursor`` = previous ``next_cursor``."""
    size = parse_limit(limit)
    before = decode_cursor(cursor) if cursor else None
    rows = runtime.store.list_jobs(key.project_id, size + 1, before)
    has_more = len(rows) > size
    rows = rows[:size]
    base = runtime.render.base_url(request)
    page = JobList(has_more=has_more, next_cursor=encode_cursor(rows[-1]) if has_more else None).to_api()
    page["data"] = [runtime.render.job_body(r, base) for r in rows]
    return JSONResponse(page)
