"""The one loopback test server: any ASGI app served by a real uvicorn in a background thread.

``with serve(app) as base_url: ...`` for the common case; :class:`LoopbackServer` when a test needs
the port (to start a second server on it), TLS (``certfile``/``keyfile``) or to stop it by hand.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import uvicorn

__all__ = ["LoopbackServer", "serve"]


class LoopbackServer:
    """``app`` served on 127.0.0.1 (a free port unless ``port`` is given), started when constructed.

    ``lifespan`` is uvicorn's: ``"auto"`` runs the app's startup/shutdown when it has them.
    """

    def __init__(
        self,
        app: Any,
        *,
        certfile: Path | None = None,
        keyfile: Path | None = None,
        port: int = 0,
        lifespan: str = "auto",
        start_timeout: float = 20.0,
    ) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", port))
        self.port: int = self.sock.getsockname()[1]
        scheme = "https" if certfile else "http"
        self.base_url = f"{scheme}://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app,
            log_level="warning",
            access_log=False,
            lifespan=lifespan,
            ssl_certfile=str(certfile) if certfile else None,
            ssl_keyfile=str(keyfile) if keyfile else None,
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + start_timeout
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                self.sock.close()
                raise RuntimeError("the test server (uvicorn) did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(20)
        self.sock.close()

    def __enter__(self) -> LoopbackServer:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, value: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


@contextmanager
def serve(app: Any, **options: Any) -> Iterator[str]:
    """Serve ``app`` on loopback while the block runs; yields its base URL (``http://127.0.0.1:<port>``)."""
    with LoopbackServer(app, **options) as server:
        yield server.base_url
