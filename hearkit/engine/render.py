"""The wire form of stored jobs: ``Job`` bodies, result documents, signed links, the units header."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from hearkit.engine.settings import EngineSettings
from hearkit.engine.signing import sign_link
from hearkit.engine.store import JobRow
from hearkit.schema import Job

__all__ = ["SUBTITLE_TYPES", "Renderer", "units_header"]

#: The ``formats/{fmt}`` documents and their media types.
SUBTITLE_TYPES = {"srt": "application/x-subrip; charset=utf-8", "vtt": "text/vtt; charset=utf-8"}


def units_header(audio_seconds: float) -> dict[str, str]:
    """``x-pyai-units: audio_seconds=<n>``: ``n`` is ``result.audio_seconds`` exactly (shortest repr)."""
    return {"x-pyai-units": f"audio_seconds={audio_seconds!r}"}


class Renderer:
    """Renders jobs for one server: its settings (inline size, link lifetime) and its URL secret."""

    def __init__(self, settings: EngineSettings, url_secret: str) -> None:
        self.settings = settings
        self.url_secret = url_secret

    def base_url(self, request: Request) -> str:
        return self.settings.public_base_url or str(request.base_url).rstrip("/")

    def link(self, base_url: str, path: str) -> str:
        return sign_link(self.url_secret, base_url, path, self.settings.signed_url_ttl)

    def job_body(self, job: JobRow, base_url: str) -> dict[str, Any]:
        """The wire ``Job``: ``result`` inline when small, else a signed ``result_url``.

        The stored result is already a dumped :class:`Result` (the worker wrote ``Result.to_api()``),
        so only the envelope goes through the model here: polls of long calls stay cheap.
        """
        envelope: dict[str, Any] = {
            "job_id": job.job_id,
            "status": job.status,
            "created_at": job.created_at,
            "updated_at": job.updated_at,
        }
        inline = None
        if job.status == "completed" and job.result is not None:
            if len(job.result) > self.settings.result_inline_max_bytes:
                envelope["result_url"] = self.link(base_url, f"/v1/transcription/jobs/{job.job_id}/result")
            else:
                inline = self.result_body(job, base_url)
        if job.error is not None:
            envelope["error"] = job.error
        body = Job.model_validate(envelope).to_api()
        if inline is not None:
            body["result"] = inline
        return body

    def result_body(self, job: JobRow, base_url: str) -> dict[str, Any]:
        assert job.result is not None
        result: dict[str, Any] = json.loads(job.result)
        formats = {
            fmt: self.link(base_url, f"/v1/transcription/jobs/{job.job_id}/formats/{fmt}")
            for fmt in job.params.get("output_formats") or []
            if fmt in SUBTITLE_TYPES
        }
        if formats:
            result["formats"] = formats
        return result
