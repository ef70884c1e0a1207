"""The engine's two error shapes, as the hosted API sends them.

* 400/404/409/413/5xx: RFC 7807 ``application/problem+json`` whose ``type`` ends with the code,
  with ``request_id`` in the body and ``x-pyai-request-id: req_<24 hex>`` in the headers.
* 401/402/403/429: the OpenAI-style envelope ``{"error": {message, type, code, param}}``, with
  ``x-request-id``; every 429 carries ``Retry-After`` (whole seconds).
"""

from __future__ import annotations

import math
from http import HTTPStatus

from starlette.responses import JSONResponse

from hearkit.engine.ids import new_request_id
from hearkit.schema import OpenAIErrorBody, OpenAIErrorDetail, ProblemDetails

__all__ = ["PROBLEM_BASE", "EngineError"]

PROBLEM_BASE = "https://api.pyai.com/problems/"
_ENVELOPE_STATUSES = {401, 402, 403, 429}
_ENVELOPE_TYPES = {
    401: "authentication_error",
    402: "billing_error",
    403: "permission_error",
    429: "rate_limit_error",
}


class EngineError(Exception):
    """An error response: raise it anywhere in a request, the app renders it."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        param: str | None = None,
        retry_after: float | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.param = param
        self.retry_after = retry_after
        self.headers = headers or {}

    def response(self, request_id: str | None = None) -> JSONResponse:
        """The error's response; ``request_id`` is the request's (a new one when not given)."""
        request_id = request_id or new_request_id()
        headers = {**self.headers, "x-pyai-request-id": request_id}
        if self.status == 429 or self.retry_after is not None:
            headers["retry-after"] = str(max(1, math.ceil(self.retry_after or 1)))
        if self.status in _ENVELOPE_STATUSES:
            headers["x-request-id"] = request_id
            body = OpenAIErrorBody(
                error=OpenAIErrorDetail(
                    message=self.message,
                    type=_ENVELOPE_TYPES[self.status],
                    code=self.code,
                    param=self.param,
                )
            )
            return JSONResponse(body.model_dump(mode="json"), status_code=self.status, headers=headers)
        problem = ProblemDetails(
            type=PROBLEM_BASE + self.code,
            title=HTTPStatus(self.status).phrase,
            status=self.status,
            detail=self.message,
            request_id=request_id,
        )
        return JSONResponse(
            problem.to_api(),
            status_code=self.status,
            headers=headers,
            media_type="application/problem+json",
        )
