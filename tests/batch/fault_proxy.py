"""A fault-injecting HTTP/1.1 reverse proxy on loopback, in front of a real engine.

For each request it draws one fault (independently, with the given probabilities):

* ``drop``: forward the request to the engine, get the engine's answer, then abort the client's
  TCP connection without a byte of response. For a create request this means the job *was*
  created and the client cannot know it: the case idempotency keys exist for.
* ``error_after``: forward, then answer 500 instead of the engine's answer (job created too).
* ``error``: answer 500 without forwarding.
* ``rate_limit``: answer 429 with ``Retry-After`` without forwarding.
* ``delay``: wait up to ``max_delay`` seconds before forwarding (every request).

It speaks HTTP with h11 on raw asyncio sockets (keep-alive included), so a dropped connection is a
real aborted TCP connection, and it runs on its own event loop in a thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import threading
from collections import Counter
from dataclasses import dataclass

import h11
import httpx

__all__ = ["FaultProxy", "Faults"]

_HOP_HEADERS = {b"host", b"content-length", b"transfer-encoding", b"connection", b"keep-alive"}


@dataclass
class Faults:
    """Probabilities of each fault per request (they are drawn in this order)."""

    drop: float = 0.0
    error_after: float = 0.0
    error: float = 0.0
    rate_limit: float = 0.0
    retry_after: str = "0.05"
    max_delay: float = 0.0
    only_post: bool = False


class FaultProxy:
    """``with FaultProxy(upstream, Faults(...)) as proxy:`` → ``proxy.base_url``; ``proxy.counts``."""

    def __init__(self, upstream: str, faults: Faults, *, seed: int = 0) -> None:
        self.upstream = upstream.rstrip("/")
        self.faults = faults
        self.counts: Counter[str] = Counter()
        self._random = random.Random(seed)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._server: asyncio.Server | None = None
        self._client: httpx.AsyncClient | None = None
        self.port = 0

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    async def _start(self) -> None:
        self._client = httpx.AsyncClient(base_url=self.upstream, timeout=60.0)
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        if self._client is not None:
            await self._client.aclose()

    def _draw(self, method: str) -> str:
        faults = self.faults
        if faults.only_post and method != "POST":
            return "pass"
        roll = self._random.random()
        for name, probability in (
            ("drop", faults.drop),
            ("error_after", faults.error_after),
            ("error", faults.error),
            ("rate_limit", faults.rate_limit),
        ):
            if roll < probability:
                return name
            roll -= probability
        return "pass"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = h11.Connection(h11.SERVER)
        try:
            while True:
                request, body = await _read_request(conn, reader)
                if request is None:
                    return
                fault = self._draw(request.method.decode())
                self.counts[fault] += 1
                if self.faults.max_delay:
                    await asyncio.sleep(self._random.random() * self.faults.max_delay)
                if fault == "error":
                    await _respond(
                        conn, writer, 500, b'{"error":{"message":"injected","code":"server_error"}}'
                    )
                elif fault == "rate_limit":
                    await _respond(
                        conn,
                        writer,
                        429,
                        b'{"error":{"message":"injected","code":"rate_limit_exceeded"}}',
                        [(b"retry-after", self.faults.retry_after.encode())],
                    )
                else:
                    status, headers, content = await self._forward(request, body)
                    if fault == "drop":
                        writer.transport.abort()
                        return
                    if fault == "error_after":
                        await _respond(
                            conn, writer, 500, b'{"error":{"message":"injected after","code":"x"}}'
                        )
                    else:
                        await _respond(conn, writer, status, content, headers)
                if conn.our_state is h11.MUST_CLOSE:
                    return
                conn.start_next_cycle()
        except (h11.RemoteProtocolError, ConnectionError, httpx.HTTPError):
            writer.transport.abort()
        finally:
            with contextlib.suppress(Exception):
                writer.close()

    async def _forward(
        self, request: h11.Request, body: bytes
    ) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
        assert self._client is not None
        headers = [(k, v) for k, v in request.headers if k.lower() not in _HOP_HEADERS]
        response = await self._client.request(
            request.method.decode(), request.target.decode(), headers=headers, content=body
        )
        out = [
            (k.encode(), v.encode())
            for k, v in response.headers.multi_items()
            if k.encode().lower() not in _HOP_HEADERS and k.lower() != "content-encoding"
        ]
        return response.status_code, out, response.content


async def _read_request(
    conn: h11.Connection, reader: asyncio.StreamReader
) -> tuple[h11.Request | None, bytes]:
    request: h11.Request | None = None
    body = bytearray()
    while True:
        event = conn.next_event()
        if event is h11.NEED_DATA:
            conn.receive_data(await reader.read(65536))
            continue
        if isinstance(event, h11.Request):
            request = event
        elif isinstance(event, h11.Data):
            body += event.data
        elif isinstance(event, h11.EndOfMessage):
            return request, bytes(body)
        elif isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
            return None, b""


async def _respond(
    conn: h11.Connection,
    writer: asyncio.StreamWriter,
    status: int,
    content: bytes,
    headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    headers = [h for h in headers or [] if h[0].lower() != b"content-type"] + [
        (b"content-type", _content_type(headers)),
        (b"content-length", str(len(content)).encode()),
    ]
    writer.write(conn.send(h11.Response(status_code=status, headers=headers)))
    writer.write(conn.send(h11.Data(data=content)))
    writer.write(conn.send(h11.EndOfMessage()))
    await writer.drain()


def _content_type(headers: list[tuple[bytes, bytes]] | None) -> bytes:
    for name, value in headers or []:
        if name.lower() == b"content-type":
            return value
    return b"application/json"
