"""Servers the CLI starts (``hearkit serve``, ``hearkit webhooks listen``) on a port bound before
anything says "listening": a port in use is one line that names ``--port``, not a uvicorn error
printed after the command claimed to be up."""

from __future__ import annotations

import errno
import socket
from typing import Any

import typer

__all__ = ["bind_port", "is_loopback_host", "serve_on"]


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` (a name or address) is this machine only: ``localhost``, 127.0.0.0/8, ``::1``."""
    import ipaddress

    if host.strip().lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def bind_port(host: str, port: int) -> socket.socket:
    """A listening TCP socket on ``host:port``, or exit code 2 with what to do."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as exc:
        typer.echo(f"error: cannot listen on host {host!r}: {exc.strerror}; pass --host 127.0.0.1", err=True)
        raise typer.Exit(2) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        if exc.errno == errno.EADDRINUSE:
            why = "is in use (another hearkit serve or webhooks listen, or another program)"
        else:
            why = f"cannot be bound ({exc.strerror})"
        typer.echo(f"error: port {port} on {host} {why}: pass --port with a free port", err=True)
        raise typer.Exit(2) from None
    sock.set_inheritable(True)
    return sock


def serve_on(sock: socket.socket, app: Any, **options: Any) -> None:
    """Run ``app`` with uvicorn on the already bound ``sock`` (uvicorn's ``Config`` ``options``)."""
    import uvicorn

    host, port = sock.getsockname()[:2]
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, **options))
    server.run(sockets=[sock])
