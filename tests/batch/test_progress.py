"""The progress bar's figures: audio hours, batch cost and the realtime comparison."""

from __future__ import annotations

import io

from rich.console import Console

from hearkit.batch.cost import estimate, format_usd, is_local_url
from hearkit.batch.progress import BatchProgress


def test_progress_counts_hours_and_both_costs() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, force_terminal=True, width=200)
    with BatchProgress(4, done=1, audio_seconds=1800.0, console=console) as bar:
        bar.completed(1800.0)  # one more half hour
        bar.completed(None)  # a job without billed units adds no audio
        bar.failed_one()
    assert bar.done == 3 and bar.failed == 1
    # 3600 s = 1 h: 60 min × $0.0015 = $0.09 batch, 60 min × $0.003 = $0.18 realtime.
    assert bar.stats == "audio 1.00 h · $0.0900 batch (realtime $0.1800) · 1 failed"
    assert "$0.0900 batch" in buffer.getvalue()


def test_progress_on_the_local_engine_shows_no_charge() -> None:
    buffer = io.StringIO()
    console = Console(file=buffer, width=200)
    with BatchProgress(2, audio_seconds=1800.0, enabled="lines", console=console, charged=False) as bar:
        bar.completed(1800.0)
    assert bar.stats == "audio 1.00 h · $0 (local engine)"
    assert "batch 1/2 · audio 1.00 h · $0 (local engine)" in buffer.getvalue()


def test_only_this_machine_counts_as_the_local_engine() -> None:
    assert is_local_url("http://127.0.0.1:8123") and is_local_url("http://localhost:8000/")
    assert is_local_url("http://[::1]:9000")
    assert not is_local_url("https://api.pyai.com") and not is_local_url("http://10.0.0.5:8000")


def test_estimate_and_money_format() -> None:
    est = estimate([600.0, None, 1200.0])
    assert (est.recordings, est.unknown_duration, est.audio_seconds) == (3, 1, 1800.0)
    assert est.batch_usd == 30 * 0.0015 and est.realtime_usd == 30 * 0.003
    assert est.savings_usd == est.realtime_usd - est.batch_usd
    assert format_usd(12345.678) == "$12,345.68" and format_usd(0.00154) == "$0.0015"
