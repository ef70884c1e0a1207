"""Every request the engine makes to a URL it was given (``audio_url``, ``webhook_url``) goes through here.

* :func:`check_url`: the URL is parsed and bounded before anything else (at most
  :data:`MAX_URL_CHARS` characters, no whitespace or control characters, an ``https`` scheme
  (``http`` too for ``allow_private_urls`` test servers), a host whose labels are 1-63
  characters and that IDNA-encodes, a valid port). The API calls it at the edge (400); the
  fetch and the delivery call it again, so a row stored by an older version cannot crash them.
* :func:`check_address`: loopback, private (RFC 1918, ULA), link-local (which includes the
  169.254.169.254 cloud metadata service), shared CGNAT space (100.64/10, e.g. Alibaba's
  metadata 100.100.100.200), multicast, reserved and unspecified addresses are refused, and so
  are IPv6 addresses that carry an IPv4 address inside (``::ffff:a.b.c.d``, ``::a.b.c.d``,
  NAT64 ``64:ff9b::/96`` and ``64:ff9b:1::/48`` whose IPv4 part is refused (the rest of
  NAT64 stays refused as reserved, as Python's ``ipaddress`` classes it), and every 6to4
  ``2002::/16`` and Teredo ``2001::/32`` address, tunnels a relay may deliver anywhere).
  ``allow_private_urls`` (local testing) turns the policy off; ``allow_private_networks``
  (CIDRs) opens only chosen networks, e.g. ``127.0.0.0/8`` for tests.
* :func:`send_pinned`: the host is resolved once, every address it resolves to is checked, and
  the connection goes to a checked address (the URL's host is kept for the ``Host`` header, TLS
  SNI and certificate verification), so DNS rebinding between the check and the connect cannot
  steer the request elsewhere.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
from collections.abc import Mapping
from urllib.parse import SplitResult, urlsplit

import httpx

from hearkit.engine.settings import EngineSettings

__all__ = [
    "MAX_URL_CHARS",
    "FetchError",
    "check_address",
    "check_url",
    "resolve_allowed",
    "send_pinned",
    "ssl_context",
]

MAX_URL_CHARS = 4096
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_METADATA_V6 = ipaddress.ip_network("fd00:ec2::/32")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")
_TEREDO = ipaddress.ip_network("2001::/32")
_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address


class FetchError(Exception):
    """A URL the engine was given cannot be used or reached; the message says why (job/delivery error)."""


def check_url(url: str, *, field: str, schemes: frozenset[str] = frozenset({"https"})) -> SplitResult:
    """``url`` split, after the checks in the module docstring; :class:`FetchError` says what is wrong."""
    if len(url) > MAX_URL_CHARS:
        raise FetchError(f"{field} is longer than {MAX_URL_CHARS} characters")
    if any(ch.isspace() or ord(ch) < 32 or ord(ch) == 127 for ch in url):
        raise FetchError(f"{field} contains whitespace or control characters: percent-encode them")
    try:
        parts = urlsplit(url)
        port = parts.port
        hostname = parts.hostname
    except ValueError as exc:
        raise FetchError(f"{field} is not a valid URL ({exc})") from None
    if parts.scheme not in schemes:
        wanted = " or ".join(f"{s}://" for s in sorted(schemes))
        raise FetchError(f"{field} must be an absolute {wanted} URL (got {parts.scheme or 'no'} scheme)")
    if not hostname:
        raise FetchError(f"{field} has no host")
    if port == 0:
        raise FetchError(f"{field} has port 0")
    if _literal_ip(hostname) is None:
        try:
            encoded = hostname.encode("idna")
        except UnicodeError:
            raise FetchError(
                f"{field} host is not a valid host name (each label 1-63 characters, letters, digits, '-')"
            ) from None
        if len(encoded) > 253 or any(not 1 <= len(label) <= 63 for label in encoded.rstrip(b".").split(b".")):
            raise FetchError(f"{field} host is not a valid host name (each label 1-63 characters)")
    return parts


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def check_address(ip: IPAddress) -> str | None:
    """Why ``ip`` may not be connected to (``None`` when it is a public address)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip in _SIX_TO_FOUR:
            return "6to4 (IPv4 tunnelled in IPv6)"
        if ip in _TEREDO:
            return "Teredo (IPv4 tunnelled in IPv6)"
        embedded = _embedded_ipv4(ip)
        if embedded is not None and (reason := check_address(embedded)) is not None:
            return f"{reason} (IPv4 inside an IPv6 address)"
        if ip.ipv4_mapped is not None:
            return None
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
    literal = _literal_ip(host)
    if literal is not None:
        addresses = [str(literal)]
    else:
        try:
            infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (socket.gaierror, UnicodeError) as exc:
            raise FetchError(
                f"cannot resolve host {host!r}: {getattr(exc, 'strerror', None) or exc}"
            ) from None
        addresses = list(dict.fromkeys(str(info[4][0]) for info in infos))
        addresses.sort(key=lambda a: ":" in a)
    if not settings.allow_private_urls:
        allowed = settings.allowed_networks()
        for address in addresses:
            ip = ipaddress.ip_address(address.split("%")[0])
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


def url_schemes(settings: EngineSettings) -> frozenset[str]:
    """``https`` only, plus ``http`` when ``allow_private_urls`` (local test servers)."""
    return frozenset({"https", "http"}) if settings.allow_private_urls else frozenset({"https"})


async def send_pinned(
    client: httpx.AsyncClient,
    method: str,
    url: str,
    settings: EngineSettings,
    *,
    field: str,
    schemes: frozenset[str] = frozenset({"https"}),
    content: bytes | None = None,
    headers: Mapping[str, str] | None = None,
    stream: bool = False,
) -> httpx.Response:
    """Send ``method url`` through the first checked address of its host that accepts a connection.

    ``client`` must not follow redirects (each hop is a new URL for the caller to check).
    """
    parts = check_url(url, field=field, schemes=schemes)
    hostname = parts.hostname or ""
    addresses = await resolve_allowed(
        hostname, parts.port or (443 if parts.scheme == "https" else 80), settings
    )
    target = httpx.URL(url)
    last_error: Exception | None = None
    for address in addresses:
        request = client.build_request(
            method,
            target.copy_with(host=address),
            content=content,
            headers={**(headers or {}), "host": target.netloc.decode("ascii")},
            extensions={"sni_hostname": hostname},
        )
        try:
            return await client.send(request, stream=stream)
        except httpx.ConnectError as exc:
            last_error = exc
    raise httpx.ConnectError(f"could not connect to {hostname} at {', '.join(addresses)}: {last_error}")
