"""``hearkit serve``: run the local PyAI-compatible engine, or mint an API key for it."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

_DATA_DIR_HELP = "Jobs, keys and results live here (default $HEARKIT_DATA_DIR or ~/.cache/hearkit/engine)."
_TRANSCRIBER_HELP = "'whisper' (default), 'fake' (fast, deterministic, for tests) or 'package.module:Class'."
_PRIVATE_HELP = "Allow audio_url/webhook_url on loopback and private networks (local testing only)."
_DEFAULT_SCOPES = "hear:transcribe,transcribe:jobs"
_CREDIT_HELP = "With --create-key --live: prepaid audio seconds (402 credit_exhausted after)."
_CAP_HELP = "With --create-key --test: audio seconds per UTC day (429 daily_cap_exceeded after)."
_INSECURE_HELP = "Serve plain HTTP on a non-loopback --host (keys, audio unencrypted: trusted networks only)."


def register(app: typer.Typer) -> None:
    """Add ``hearkit serve`` to the ``hearkit`` app."""

    @app.command()
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(help="TCP port.")] = 8787,
        data_dir: Annotated[Path | None, typer.Option(help=_DATA_DIR_HELP)] = None,
        transcriber: Annotated[str | None, typer.Option(help=_TRANSCRIBER_HELP)] = None,
        workers: Annotated[
            int | None, typer.Option(help="Transcriptions running at once (default 1).")
        ] = None,
        allow_private_urls: Annotated[bool, typer.Option(help=_PRIVATE_HELP)] = False,
        ca_bundle: Annotated[
            Path | None, typer.Option(help="PEM file of CAs to trust for audio_url.")
        ] = None,
        create_key: Annotated[
            bool, typer.Option("--create-key", help="Mint an API key, print it, exit.")
        ] = False,
        scopes: Annotated[str, typer.Option(help="With --create-key: comma-separated.")] = _DEFAULT_SCOPES,
        live: Annotated[bool, typer.Option("--live/--test", help="With --create-key: live or test.")] = False,
        credit_seconds: Annotated[float | None, typer.Option(help=_CREDIT_HELP)] = None,
        daily_cap_seconds: Annotated[float | None, typer.Option(help=_CAP_HELP)] = None,
        rps: Annotated[float | None, typer.Option(help="With --create-key: requests per second.")] = None,
        burst: Annotated[int | None, typer.Option(help="With --create-key: burst size.")] = None,
        show_webhook_secret: Annotated[
            bool, typer.Option("--show-webhook-secret", help="Print the webhook signing secret and exit.")
        ] = False,
        allow_insecure_http: Annotated[
            bool, typer.Option("--allow-insecure-http", help=_INSECURE_HELP)
        ] = False,
    ) -> None:
        """Run the local engine (the PyAI Hear batch jobs API on this machine), or --create-key."""
        from hearkit._extras import require
        from hearkit.cli.bound import bind_port, is_loopback_host, serve_on

        require("local", "hearkit serve (the local engine)")
        from hearkit.engine.app import JOBS_SCOPE, create_app
        from hearkit.engine.local import KEEP_ALIVE_SECONDS
        from hearkit.engine.settings import EngineSettings
        from hearkit.engine.store import Store

        settings = EngineSettings.from_env(
            data_dir=data_dir,
            transcriber=transcriber,
            workers=workers,
            allow_private_urls=allow_private_urls or None,
            ca_bundle=str(ca_bundle) if ca_bundle else None,
        )
        if show_webhook_secret:
            store = Store(settings.data_dir / "engine.sqlite3")
            typer.echo(settings.webhook_secret or store.secret("webhook_secret", "whsec_"))
            store.close()
            return
        if create_key:
            env = "live" if live else "test"
            if credit_seconds is not None and not live:
                raise typer.BadParameter(
                    "--credit-seconds applies to --live keys (test keys have a daily cap)"
                )
            scope_list = [s.strip() for s in scopes.split(",") if s.strip()]
            store = Store(settings.data_dir / "engine.sqlite3")
            api_key, key = store.create_key(
                env=env,
                scopes=scope_list,
                rps=rps if rps is not None else settings.rate_rps,
                burst=burst if burst is not None else settings.rate_burst,
                credit_seconds=credit_seconds,
                daily_cap_seconds=daily_cap_seconds if daily_cap_seconds is not None else None,
            )
            store.close()
            typer.echo(api_key)
            missing = "" if JOBS_SCOPE in scope_list else f" (no '{JOBS_SCOPE}': it cannot use the jobs API)"
            typer.echo(f"{key.key_id}: {env} key, scopes {','.join(scope_list)}{missing}", err=True)
            return
        app_ = create_app(settings)
        api_key, created = app_.state.runtime.ensure_local_key()
        if created:
            others = app_.state.runtime.store.count_keys() - 1
            kept = f"; the {others} key(s) made with --create-key work too" if others > 0 else ""
            typer.echo(
                f"Created the local API key (kept in {settings.data_dir / 'local_api_key'}, for hearkit"
                f" commands on this machine{kept}):",
                err=True,
            )
            typer.echo(api_key)
        if not is_loopback_host(host) and not allow_insecure_http:
            typer.echo(
                f"error: --host {host} would serve the jobs API (API keys, customer recordings) in plain HTTP"
                " beyond this machine. Keep --host 127.0.0.1 behind a TLS proxy (docs/engine.md), or pass"
                " --allow-insecure-http on a network you trust",
                err=True,
            )
            raise typer.Exit(2)
        if not is_loopback_host(host) and settings.sandbox_enabled:
            typer.echo(
                "note: anyone who can reach this port can mint a sandbox key (POST /v1/sandbox/keys) and"
                " transcribe with it; HEARKIT_SANDBOX_ENABLED=0 turns that off",
                err=True,
            )
        sock = bind_port(host, port)
        typer.echo(
            f"hearkit engine: http://{host}:{sock.getsockname()[1]} (data dir {settings.data_dir},"
            f" transcriber {settings.transcriber})",
            err=True,
        )
        serve_on(sock, app_, log_level="info", access_log=False, timeout_keep_alive=KEEP_ALIVE_SECONDS)
