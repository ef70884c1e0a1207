"""``GET /v1/health``: the server answers and its database is readable (no API key; says nothing else)."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.responses import JSONResponse, Response

from hearkit import __version__
from hearkit.engine.deps import RuntimeDep

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health")
async def health(runtime: RuntimeDep) -> Response:
    """``{"status": "ok", "version": …}`` while the store answers a query."""
    runtime.store.count_keys()
    return JSONResponse({"status": "ok", "version": __version__})
