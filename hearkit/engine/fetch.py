"""SSRF-safe download of an ``audio_url``, and the address policy shared with webhook delivery.

* Only ``https://`` URLs (also on every redirect hop, at most ``max_fetch_redirects`` hops).
* The host is resolved once per hop and every address it resolves to is checked: loopback,
  private (RFC 1918, ULA), link-local (which includes the 169.254.169.254 cloud metadata
  service), shared CGNAT space (100.64/10, e.g. Alibaba's metadata 100.100.100.200),
  multicast, reserved and unspecified addresses are refused, unless the engine was started
  with ``allow_private_urls`` (local testing); ``allow_private_networks`` (CIDRs) opens only
  chosen networks, e.g. ``127.0.0.0/8`` for tests.
* The connection goes to the address that was checked (the URL's host is kept for the
  ``Host`` header and for TLS SNI and certificate verification), so DNS rebinding between the
  check and the connect cannot redirect the fetch.
* A total timeout (``fetch_timeout``) and a size cap (``max_fetch_bytes``) bound every fetch.
* ``ca_bundle`` names the certificate authorities to trust (tests point it at a ``trustme`` CA).
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import httpx

from hearkit.engine.settings import EngineSettings

__all__ = ["FetchError", "check_address", "fetch_audio", "resolve_allowed", "ssl_context"]

_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA_V6 = ipaddress.ip_network("fd00:ec2::/32")


class FetchError(Exception):
    """The audio could not be fetched; the message is shown as the job's ``error``."""


def check_address(ip: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``ip`` may not be fetched from (``None`` when it is a public address)."""
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:
        return "link-local (cloud metadata)"
    if ip in _CGNAT or (isinstance(ip, ipaddress.IPv6Address) and ip in _METADATA_V6):
        return "cloud metadata / shared"
    if ip.is_private:
        return "private"
    if ip.is_multicast or ip.is_reserved or ip.is_unspecified:
        return "non-routable"
    return None


async def resolve_allowed(host: str, port: int, settings: EngineSettings) -> list[str]:
    """The addresses of ``host`` (IPv4 first), after checking every one of them."""
    try:
        literal = ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except socket.gaierror as exc:
            raise FetchError(f"cannot resolve host {host!r}: {exc.strerror}") from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        addresses.sort(key=lambda a: ":" in a)
    if not settings.allow_private_urls:
        allowed = settings.allowed_networks()
        for address in addresses:
            ip = ipaddress.ip_address(address)
            reason = check_address(ip)
            if reason is not None and not any(ip in net for net in allowed if net.version == ip.version):
                raise FetchError(
                    f"refusing to connect to {host} ({address}): {reason} addresses are not allowed;"
                    " use a publicly reachable https URL"
                )
    return addresses


def ssl_context(ca_bundle: str | None) -> ssl.SSLContext | bool:
    """TLS verification settings: the given CA bundle, or the default trust store."""
    if ca_bundle:
        return ssl.create_default_context(cafile=ca_bundle)
    return True


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
            parts = urlsplit(current)
            if parts.scheme != "https" or not parts.hostname:
                raise FetchError(
                    f"audio_url must be an https:// URL (got {parts.scheme or 'no'} scheme): {current}"
                )
            port = parts.port or 443
            addresses = await resolve_allowed(parts.hostname, port, settings)
            response = await _connect(client, current, parts.hostname, addresses)
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


async def _connect(
    client: httpx.AsyncClient, url: str, hostname: str, addresses: list[str]
) -> httpx.Response:
    """GET ``url`` through the first of ``addresses`` that accepts a connection."""
    target = httpx.URL(url)
    last_error: Exception | None = None
    for address in addresses:
        pinned = target.copy_with(host=address)
        request = client.build_request(
            "GET",
            pinned,
            headers={"host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": hostname},
        )
        try:
            return await client.send(request, stream=True)
        except httpx.ConnectError as exc:
            last_error = exc
        except httpx.HTTPError as exc:
            raise FetchError(f"fetching audio_url failed: {type(exc).__name__}: {exc}") from None
    raise FetchError(f"could not connect to {hostname}: {last_error}")


async def _save(response: httpx.Response, dest: Path, cap: int) -> int:
    length = response.headers.get("content-length")
    if length is not None and length.isdigit() and int(length) > cap:
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
