"""``LocalEngine``: the engine's HTTP server in a background thread of this process.

    with LocalEngine(tmp_dir, transcriber="fake") as engine:
        client = hearkit.client.PyAI(engine.api_key, base_url=engine.base_url)

It is the same FastAPI app as ``hearkit serve``, run by uvicorn on a free loopback port, so
clients talk real HTTP to it. ``LocalEngine.default()`` is the process-wide instance the client
starts when no ``PYAI_API_KEY`` is set (data dir ``$HEARKIT_DATA_DIR`` or
``~/.cache/hearkit/engine``; transcriber ``$HEARKIT_TRANSCRIBER`` or ``whisper``).
"""

from __future__ import annotations

import atexit
import contextlib
import multiprocessing
import os
import socket
import threading
import time
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar

import uvicorn

from hearkit.engine.app import Runtime, create_app
from hearkit.engine.leases import cancel_job
from hearkit.engine.settings import EngineSettings
from hearkit.engine.transcriber import Transcriber

__all__ = ["KEEP_ALIVE_SECONDS", "LocalEngine"]

#: Idle keep-alive connections are closed after this long: longer than clients keep them (httpx: 5 s),
#: so a client never reuses a connection the server is closing at that moment (a spurious ReadError).
KEEP_ALIVE_SECONDS = 75


class LocalEngine:
    """A started-on-demand local engine; ``.base_url`` and ``.api_key`` are what a client needs."""

    _default: ClassVar[LocalEngine | None] = None
    _default_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(
        self,
        data_dir: str | Path | None = None,
        *,
        transcriber: str | Transcriber | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        allow_private_urls: bool = False,
        **settings: Any,
    ) -> None:
        name = transcriber if isinstance(transcriber, str) else None
        self._transcriber = None if isinstance(transcriber, str) else transcriber
        self.settings = EngineSettings.from_env(
            data_dir=data_dir,
            transcriber=name,
            allow_private_urls=allow_private_urls or None,
            **settings,
        )
        self.host = host
        self.port = port
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None
        self._socket: socket.socket | None = None
        self.runtime: Runtime | None = None
        self.api_key: str = ""

    @property
    def base_url(self) -> str:
        """``http://<host>:<port>`` (clients add ``/v1/...``)."""
        if self._server is None:
            raise RuntimeError("the engine is not started: call start() or use it as a context manager")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir

    @property
    def webhook_secret(self) -> str:
        """The secret webhooks from this engine are signed with (give it to your receiver)."""
        if self.runtime is None:
            raise RuntimeError("the engine is not started")
        return self.runtime.webhook_secret

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self, timeout: float = 30.0) -> LocalEngine:
        """Start serving (idempotent); returns ``self`` once the server accepts connections."""
        if self.running:
            return self
        app = create_app(self.settings, self._transcriber)
        self.runtime = app.state.runtime
        assert self.runtime is not None
        self.api_key, _ = self.runtime.ensure_local_key()
        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        # proto=IPPROTO_TCP: asyncio sets TCP_NODELAY on accepted sockets only then (else +40 ms/request).
        sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self.port))
        self.port = sock.getsockname()[1]
        config = uvicorn.Config(
            app, log_level="warning", access_log=False, lifespan="on", timeout_keep_alive=KEEP_ALIVE_SECONDS
        )
        server = uvicorn.Server(config)
        thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="hearkit-engine", daemon=True
        )
        self._server, self._thread, self._socket = server, thread, sock
        thread.start()
        deadline = time.monotonic() + timeout
        while not server.started:
            if not thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"the local engine did not start (data dir {self.settings.data_dir})")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving; this process's running jobs go back to the queue (queued ones stay queued)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
        if self._socket is not None:
            self._socket.close()
        if self.runtime is not None:
            self.runtime.store.close()
        self._server = self._thread = self._socket = None

    def cancel(self, job_id: str, reason: str) -> bool:
        """End a queued or running job as ``cancelled`` (``reason`` is its error) and delete its audio.

        For the program that submitted the job and gives up on it (``hearkit analyze`` on Ctrl-C), so
        the job is not handed back for another hearkit process to run. ``False``: it was over already.
        """
        if self.runtime is None:
            raise RuntimeError("the engine is not started")
        audio = cancel_job(self.runtime.store, job_id, reason)
        if audio:
            Path(audio).unlink(missing_ok=True)
        return audio is not None

    def __enter__(self) -> LocalEngine:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    @classmethod
    def default(cls) -> LocalEngine:
        """The process-wide engine (started on first use, stopped at interpreter exit).

        At exit it stops before Python shuts its executors down, so the jobs it was running go
        back to the queue (for another hearkit process, or the next start) instead of failing.
        """
        if getattr(multiprocessing.current_process(), "_inheriting", False):
            # A spawned worker process is importing a script that starts hearkit at import time: end
            # this worker quietly; the parent engine sees its pool break, runs on threads and says so.
            os._exit(3)
        with cls._default_lock:
            if cls._default is None or not cls._default.running:
                engine = cls().start()
                _stop_at_exit(engine)
                cls._default = engine
            return cls._default


def _stop_at_exit(engine: LocalEngine) -> None:
    """Stop ``engine`` when the main thread ends, before ``concurrent.futures`` refuses new work.

    ``threading._register_atexit`` hooks run before the interpreter's executors shut down (and in
    reverse order of registration, so after the executors' own hooks were registered ours runs
    first); plain ``atexit`` runs too late for that. ``atexit`` stays as the fallback.
    """
    register = getattr(threading, "_register_atexit", None)
    if register is not None:
        with contextlib.suppress(RuntimeError):  # "can't register atexit after shutdown"
            register(engine.stop)
    atexit.register(engine.stop)
