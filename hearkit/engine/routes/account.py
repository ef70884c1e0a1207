"""Keys and identity: ``GET /v1/me``, ``GET /v1/webhooks/signing-secret``, ``POST /v1/sandbox/keys``."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request
from starlette.responses import JSONResponse, Response

from hearkit import _boundedjson
from hearkit.engine.deps import AnyKey, RuntimeDep
from hearkit.engine.ids import now_ms, random_base62
from hearkit.engine.problems import EngineError
from hearkit.schema import Identity, IdentityCredit, IdentityLimits, SandboxKey, SigningSecretStatus

__all__ = ["router"]

router = APIRouter(prefix="/v1")

#: Batch price per audio second in cents ($0.0015/min), to show live credit as cents in /v1/me.
_CENTS_PER_SECOND = 0.15 / 60
_MAX_SANDBOX_BODY = 64 * 1024


@router.get("/me", response_model=Identity, tags=["identity"])
async def me(key: AnyKey, runtime: RuntimeDep) -> Response:
    """Who the calling key is, its limits and remaining credit."""
    credit = IdentityCredit(gated=key.env == "live" and key.credit_seconds is not None)
    if credit.gated and key.credit_seconds is not None:
        remaining = max(0.0, key.credit_seconds - runtime.store.billed_seconds(key.key_id))
        credit.available_cents = int(remaining * _CENTS_PER_SECOND)
        credit.available_audio_seconds = round(remaining, 3)  # type: ignore[attr-defined]
    identity = Identity(
        object="identity",
        key_id=key.key_id,
        org_id=key.org_id,
        project_id=key.project_id,
        env="live" if key.env == "live" else "test",
        status="active",
        org_status="active",
        scopes=list(key.scopes),
        expires_at=key.expires_at,
        plan="local",
        limits=IdentityLimits(
            rps=key.rps,
            burst=key.burst,
            concurrency=runtime.settings.workers,
            daily_unit_cap=key.daily_cap_seconds,
        ),
        credit=credit,
    )
    return JSONResponse(identity.to_api())


@router.get("/webhooks/signing-secret", response_model=SigningSecretStatus, tags=["webhooks"])
async def signing_secret(_key: AnyKey, runtime: RuntimeDep) -> Response:
    """Whether a webhook signing secret is configured, and its last 4 characters."""
    status = SigningSecretStatus(
        object="webhook_signing_secret", configured=True, last4=runtime.webhook_secret[-4:]
    )
    return JSONResponse(status.to_api())


async def _sandbox_label(request: Request) -> Any:
    raw = b""
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > _MAX_SANDBOX_BODY:
            raise EngineError(
                413,
                "payload_too_large",
                f"The body is larger than {_MAX_SANDBOX_BODY} bytes.",
                headers={"connection": "close"},
            )
    if not raw.strip():
        return None
    try:
        data = _boundedjson.loads(raw)
    except _boundedjson.JSONBoundsError:
        raise EngineError(400, "invalid_request", "The request body is not valid JSON.") from None
    label = data.get("label") if isinstance(data, dict) else None
    if label is not None and (not isinstance(label, str) or len(label) > 64):
        raise EngineError(
            400, "invalid_request", "field 'label': must be a string of at most 64 characters", param="label"
        )
    return label


@router.post("/sandbox/keys", status_code=201, response_model=SandboxKey, tags=["sandbox"])
async def sandbox_key(request: Request, runtime: RuntimeDep) -> Response:
    """Mint a test key (no auth; rate-limited per client address). Each gets its own project."""
    settings = runtime.settings
    if not settings.sandbox_enabled:
        raise EngineError(404, "not_found", "Sandbox key minting is disabled on this server.")
    client = request.client.host if request.client else "unknown"
    wait = runtime.limiter.acquire(
        f"sandbox:{client}",
        settings.sandbox_keys_per_minute / 60,
        max(1, int(settings.sandbox_keys_per_minute)),
    )
    if wait is not None:
        raise EngineError(
            429, "rate_limit_exceeded", "Too many sandbox keys minted; retry later.", retry_after=wait
        )
    label = await _sandbox_label(request)
    scopes = [s.strip() for s in settings.sandbox_scopes.split(",") if s.strip()]
    expires_at = now_ms() + int(settings.sandbox_key_ttl_days * 86_400_000)
    api_key, key = runtime.store.create_key(
        env="test",
        scopes=scopes,
        rps=settings.rate_rps,
        burst=settings.rate_burst,
        project_id="proj_" + random_base62(16),
        daily_cap_seconds=settings.test_daily_cap_seconds,
        expires_at=expires_at,
        label=label,
    )
    minted = SandboxKey(
        object="sandbox.key",
        api_key=api_key,
        environment="test",
        expires_at=expires_at,
        base_url=runtime.render.base_url(request),
        key_id=key.key_id,
        org_id=key.org_id,
        project_id=key.project_id,
        scopes=scopes,
        note="hearkit local engine test key: shown once, stored hashed.",
    )
    return JSONResponse(minted.to_api(), status_code=201)
