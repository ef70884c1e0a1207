"""Signed, expiring links (``result_url`` and ``formats``) to documents on this server.

A link is ``<base><path>?expires=<unix s>&signature=<hex>`` where the signature is
HMAC-SHA256(url secret of the data dir, ``"<path>\\n<expires>"``). Anyone holding the link can
GET it until it expires, without an API key (as the hosted API's signed URLs).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from urllib.parse import urlencode

__all__ = ["sign_link", "verify_link"]

_HEX_DIGEST = re.compile(r"[0-9a-f]{64}")


def _digest(secret: str, path: str, expires: int) -> str:
    return hmac.new(secret.encode(), f"{path}\n{expires}".encode(), hashlib.sha256).hexdigest()


def sign_link(secret: str, base_url: str, path: str, ttl: float, *, now: float | None = None) -> str:
    """The absolute signed URL of ``path`` (which starts with ``/``), valid for ``ttl`` seconds."""
    expires = int((time.time() if now is None else now) + ttl)
    query = urlencode({"expires": expires, "signature": _digest(secret, path, expires)})
    return f"{base_url.rstrip('/')}{path}?{query}"


def verify_link(secret: str, path: str, expires: str | None, signature: str | None) -> str | None:
    """``None`` when the link is valid; otherwise why it is not (for the error message)."""
    if not expires or not expires.isascii() or not expires.isdigit() or len(expires) > 12:
        return "the link is not signed"
    if not signature or _HEX_DIGEST.fullmatch(signature) is None:
        return "the link is not signed"
    if not hmac.compare_digest(_digest(secret, path, int(expires)), signature):
        return "the link signature is invalid"
    if int(expires) < time.time():
        return "the link has expired"
    return None
