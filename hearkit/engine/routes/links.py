"""The signed, expiring links (no API key): ``…/result`` and ``…/formats/{srt|vtt}`` of completed jobs."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, PlainTextResponse, Response

from hearkit.engine.deps import RuntimeDep
from hearkit.engine.problems import EngineError
from hearkit.engine.render import SUBTITLE_TYPES, units_header
from hearkit.engine.signing import verify_link
from hearkit.engine.store import JobRow
from hearkit.engine.subtitles import render_srt, render_vtt
from hearkit.schema import Result

__all__ = ["router"]

router = APIRouter(prefix="/v1/transcription/jobs/{job_id}", tags=["signed links"])


async def signed_job(job_id: str, request: Request, runtime: RuntimeDep) -> JobRow:
    """The completed job a valid signed link names (403 for a bad or expired link, else 404)."""
    reason = verify_link(
        runtime.url_secret,
        request.url.path,
        request.query_params.get("expires"),
        request.query_params.get("signature"),
    )
    if reason is not None:
        raise EngineError(403, "forbidden", f"{reason.capitalize()}: GET the job again for a fresh link.")
    job = runtime.store.get_job(job_id)
    if job is None or job.status != "completed" or job.result is None:
        raise EngineError(404, "not_found", f"No completed transcription job with id '{job_id[:100]}'.")
    return job


SignedJob = Annotated[JobRow, Depends(signed_job)]


@router.get("/result", response_model=Result)
async def get_result(job: SignedJob, request: Request, runtime: RuntimeDep) -> Response:
    """The offloaded result document (signed link, no API key)."""
    headers = units_header(job.audio_seconds) if job.audio_seconds else {}
    return JSONResponse(runtime.render.result_body(job, runtime.render.base_url(request)), headers=headers)


@router.get("/formats/{fmt}")
async def get_format(job: SignedJob, fmt: str) -> Response:
    """SRT or WebVTT subtitles of a completed job (signed link, no API key)."""
    if fmt not in SUBTITLE_TYPES:
        raise EngineError(404, "not_found", f"No format '{fmt[:20]}': use srt or vtt.")
    assert job.result is not None
    result = Result.model_validate_json(job.result)
    text = render_srt(result) if fmt == "srt" else render_vtt(result)
    return PlainTextResponse(text, media_type=SUBTITLE_TYPES[fmt])
