"""Settings of the local engine, each overridable by a ``HEARKIT_<NAME>`` environment variable.

Sizes are bytes, durations seconds. ``EngineSettings.from_env(**overrides)`` reads the
environment and applies explicit keyword overrides on top (overrides win).
"""

from __future__ import annotations

import dataclasses
import ipaddress
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["EngineSettings", "default_data_dir"]


def default_data_dir() -> Path:
    """``$HEARKIT_DATA_DIR`` or ``~/.cache/hearkit/engine``."""
    env = os.environ.get("HEARKIT_DATA_DIR")
    return Path(env) if env else Path.home() / ".cache" / "hearkit" / "engine"


@dataclass
class EngineSettings:
    """Everything the engine can be told. Field ``x`` reads env ``HEARKIT_X``."""

    data_dir: Path = dataclasses.field(default_factory=default_data_dir)
    #: ``whisper`` (default, faster-whisper pipeline), ``fake`` (fast, deterministic, for tests)
    #: or ``package.module:ClassName``.
    transcriber: str = "whisper"
    #: Transcriptions running at once (one worker process each for a named transcriber, each with
    #: cores / workers model threads; a process that crashes fails only its own job).
    #: ``HEARKIT_WORKERS=2`` put through more audio per hour on the 2-core machine at the same CPU
    #: seconds (benchmarks/bench_archive.py), but a single call then runs on one core: 1 is the
    #: default for one-call-at-a-time use.
    workers: int = 1
    #: ``auto`` (thread for ``fake`` or a given instance, process pool otherwise), ``thread``, ``process``.
    executor: str = "auto"
    #: Queued ``channel: true`` uploads a transcription slot takes at once, their speech packed into
    #: shared Whisper windows (``WhisperTranscriber.transcribe_pooled``; the ``whisper`` transcriber
    #: only). 1 (the default) turns it off: measured end to end (docs/pipeline.md, "Archive
    #: throughput"), 4 took 15 % less CPU on 30 s calls at the same WER but saved none on 50 s calls,
    #: and a pooled job's result waits for its whole pool. Set 4 for an archive of short calls.
    pool_calls: int = 1
    #: Allow audio_url/webhook_url on loopback, private and link-local addresses (local testing only).
    allow_private_urls: bool = False
    #: Comma-separated networks (CIDR) allowed even without ``allow_private_urls``, e.g. ``127.0.0.0/8``.
    allow_private_networks: str = ""
    #: PEM file of certificate authorities to trust for https audio_url fetches (default: system/certifi).
    ca_bundle: str | None = None
    fetch_timeout: float = 60.0
    max_fetch_bytes: int = 500 * 1024 * 1024
    max_fetch_redirects: int = 5
    max_upload_bytes: int = 500 * 1024 * 1024
    #: Create-request bytes being received at once, over all requests (at least ``max_upload_bytes``):
    #: bounds the disk that concurrent uploads hold before they are refused or stored; above it, 503.
    max_upload_bytes_in_flight: int = 1024 * 1024 * 1024
    max_audio_seconds: float = 4 * 3600.0
    #: A create body with no data for this long, or averaging under ``upload_min_bytes_per_second``
    #: once it has run this long, is answered 408 (a stalled link or a trickle holding the connection).
    upload_idle_seconds: float = 60.0
    upload_min_bytes_per_second: float = 1024.0
    #: Results whose JSON is larger than this are offloaded to a signed ``result_url``.
    result_inline_max_bytes: int = 256 * 1024
    #: Lifetime of signed ``result_url`` and ``formats`` links.
    signed_url_ttl: float = 3600.0
    #: Base of signed links; default: the base URL the request came in on.
    public_base_url: str | None = None
    #: Webhook deliveries are retried with exponential backoff for this long after the first try.
    webhook_retry_period: float = 24 * 3600.0
    webhook_retry_base: float = 1.0
    webhook_retry_max_interval: float = 600.0
    webhook_timeout: float = 10.0
    #: Overrides the generated webhook signing secret.
    webhook_secret: str | None = None
    #: Default per-key rate limit of new keys (requests/second, bucket size).
    rate_rps: float = 100.0
    rate_burst: int = 200
    #: Default daily audio cap of new test keys (seconds of audio per UTC day).
    test_daily_cap_seconds: float = 8 * 3600.0
    sandbox_enabled: bool = True
    sandbox_key_ttl_days: float = 7.0
    sandbox_keys_per_minute: float = 60.0
    sandbox_scopes: str = "hear:transcribe,transcribe:jobs"
    #: Seconds the worker sleeps when idle before looking for queued jobs again.
    poll_interval: float = 0.5
    #: Run queued jobs in this process. ``False`` serves the API only: ``hearkit jobs list/get/result``
    #: start the embedded engine that way, so a look at the jobs never picks up (and then hands back)
    #: work queued by another hearkit process on the same data dir.
    run_jobs: bool = True
    #: A job interrupted (server killed) more often than this fails instead of running again.
    max_attempts: int = 3
    #: A running job belongs to its process for this long unless renewed (every third of it); another
    #: process takes it over only after that, or at once when the owner's process is gone on this machine.
    lease_seconds: float = 60.0

    def allowed_networks(self) -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
        """``allow_private_networks`` parsed."""
        parts = [p.strip() for p in self.allow_private_networks.split(",") if p.strip()]
        return [ipaddress.ip_network(p, strict=False) for p in parts]

    @classmethod
    def from_env(cls, **overrides: Any) -> EngineSettings:
        """Settings from ``HEARKIT_*`` variables, then ``overrides`` (ignored when ``None``)."""
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = os.environ.get(f"HEARKIT_{field.name.upper()}")
            if raw is not None:
                values[field.name] = _parse(field.name, str(field.type), raw)
        unknown = set(overrides) - {f.name for f in dataclasses.fields(cls)}
        if unknown:
            raise TypeError(f"unknown engine setting(s): {', '.join(sorted(unknown))}")
        values.update({k: v for k, v in overrides.items() if v is not None})
        if "data_dir" in values:
            values["data_dir"] = Path(values["data_dir"]).expanduser()
        return cls(**values)


def _parse(name: str, type_name: str, raw: str) -> Any:
    try:
        if type_name == "bool":
            lowered = raw.strip().lower()
            if lowered not in {"1", "0", "true", "false", "yes", "no", "on", "off"}:
                raise ValueError(raw)
            return lowered in {"1", "true", "yes", "on"}
        if type_name == "int":
            return int(raw)
        if type_name == "float":
            return float(raw)
        if type_name == "Path":
            return Path(raw).expanduser()
    except ValueError:
        raise ValueError(f"HEARKIT_{name.upper()}={raw!r} is not a valid {type_name}") from None
    return raw
