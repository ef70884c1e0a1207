"""How the engine answers errors: request ids, the error shapes, and unexpected exceptions.

:class:`RequestIdMiddleware` gives each request an id (``req_<24 hex>``, in ``request.state``)
that every error response carries (``x-pyai-request-id`` and the problem body's ``request_id``).
An exception no handler knows is logged with its traceback to the engine log
(``<data_dir>/engine.log``) under that id, with the method and path only (never the query
string, which holds link signatures, nor headers, which hold keys), and answered 500
``internal_error`` whose body names the id: the id finds the traceback. The connection stays
usable (nothing is re-raised to the server).
"""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hearkit.engine.ids import new_request_id
from hearkit.engine.problems import EngineError

__all__ = ["RequestIdMiddleware", "install_error_handlers", "request_id"]

log = logging.getLogger("hearkit.engine")


def request_id(request: Request) -> str:
    """The id :class:`RequestIdMiddleware` gave this request (a new one outside it)."""
    state = request.scope.get("state") or {}
    return str(state.get("request_id") or new_request_id())


class RequestIdMiddleware:
    """Pure ASGI: assigns the request id and turns an unexpected exception into a logged 500."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = new_request_id()
        scope.setdefault("state", {})["request_id"] = rid
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            log.error(
                "unexpected error, request %s: %s %s",
                rid,
                scope.get("method"),
                scope.get("path"),
                exc_info=exc,
            )
            if started:  # the response is half sent: only closing the connection can tell the client
                raise
            error = EngineError(
                500,
                "internal_error",
                f"Internal server error ({type(exc).__name__}); request id {rid} identifies it in the"
                " engine log (engine.log in the data dir).",
            )
            await error.response(rid)(scope, receive, send)


def install_error_handlers(app: FastAPI) -> None:
    """Render :class:`EngineError`, validation and routing errors in the API's shapes."""

    async def engine_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, EngineError)
        return exc.response(request_id(request))

    async def validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        problems = [f"'{'.'.join(str(p) for p in e['loc'])}': {e['msg']}" for e in exc.errors()[:10]]
        return EngineError(400, "invalid_request", "; ".join(problems)).response(request_id(request))

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "invalid_request")
        status = exc.status_code if exc.status_code in {404, 405} else 400
        return EngineError(status, code, str(exc.detail)).response(request_id(request))

    app.add_exception_handler(EngineError, engine_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_middleware(RequestIdMiddleware)
