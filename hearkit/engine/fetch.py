"""SSRF-safe download of an ``audio_url``.

* Only ``https://`` URLs (also on every redirect hop, at most ``max_fetch_redirects`` hops);
  each hop goes through :func:`hearkit.engine.outbound.send_pinned`: URL checked, host resolved
  once, every address checked against the private-network policy, connection pinned to a
  checked address (no DNS rebinding).
* A total timeout (``fetch_timeout``) and a size cap (``max_fetch_bytes``) bound every fetch.
* ``ca_bundle`` names the certificate authorities to trust (tests point it at a ``trustme`` CA).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from urllib.parse import urljoin

import httpx

from hearkit.engine.outbound import FetchError, check_address, resolve_allowed, send_pinned, ssl_context
from hearkit.engine.settings import EngineSettings

__all__ = ["FetchError", "check_address", "fetch_audio", "resolve_allowed", "ssl_context"]


async def fetch_audio(url: str, dest: Path, settings: EngineSettings) -> int:
    """Download ``url`` to ``dest`` under the policy above; returns the number of bytes."""
    try:
        async with asyncio.timeout(settings.fetch_timeout):
            return await _fetch(url, dest, settings)
    except TimeoutError:
        _remove(dest)
        raise FetchError(f"fetching audio_url timed out after {settings.fetch_timeout:g} s") from None
    except httpx.HTTPError as exc:
        _remove(dest)
        raise FetchError(f"fetching audio_url failed: {type(exc).__name__}: {exc}") from None
    except BaseException:
        _remove(dest)
        raise


def _remove(path: Path) -> None:
    path.unlink(missing_ok=True)


async def _fetch(url: str, dest: Path, settings: EngineSettings) -> int:
    timeout = httpx.Timeout(settings.fetch_timeout)
    async with httpx.AsyncClient(
        verify=ssl_context(settings.ca_bundle), timeout=timeout, follow_redirects=False, trust_env=False
    ) as client:
        current = url
        for _ in range(settings.max_fetch_redirects + 1):
            try:
                response = await send_pinned(client, "GET", current, settings, field="audio_url", stream=True)
            except httpx.ConnectError as exc:
                raise FetchError(str(exc)) from None
            try:
                if response.is_redirect and "location" in response.headers:
                    current = urljoin(current, response.headers["location"])
                    continue
                if response.status_code != 200:
                    raise FetchError(
                        f"audio_url answered HTTP {response.status_code}; check that the URL is reachable"
                        " and not expired"
                    )
                return await _save(response, dest, settings.max_fetch_bytes)
            finally:
                await response.aclose()
        raise FetchError(f"audio_url redirected more than {settings.max_fetch_redirects} times")


async def _save(response: httpx.Response, dest: Path, cap: int) -> int:
    length = response.headers.get("content-length")
    if length is not None and length.isascii() and length.isdigit() and int(length) > cap:
        raise FetchError(f"audio_url is {int(length)} bytes; the limit is {cap} bytes")
    size = 0
    dest.parent.mkdir(parents=True, exist_ok=True)
    with dest.open("wb") as out:
        async for chunk in response.aiter_bytes():
            size += len(chunk)
            if size > cap:
                raise FetchError(f"audio_url is larger than the limit of {cap} bytes")
            out.write(chunk)
    return size
