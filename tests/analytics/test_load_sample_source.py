"""CallSet.load_sample names its sources when given another (a typo'd source was read as the mono
results with the stereo roles, and failed on the roles map with words about channel numbers)."""

from __future__ import annotations

import pytest

from hearkit.record import CallSet


def test_an_unknown_sample_source_is_named() -> None:
    """load_sample('stored') read the mono results with the stereo roles and failed on a roles map."""
    with pytest.raises(ValueError, match=r"source must be 'stereo', 'mono' or 'truth', not 'stored'"):
        CallSet.load_sample("stored")  # type: ignore[arg-type]


def test_loading_the_samples_never_asks_an_llm(monkeypatch: pytest.MonkeyPatch) -> None:
    """U8 note 6: with HEARKIT_LLM_BASE_URL set, every load_sample() sent the 7 sample transcripts to
    the LLM (and failed on an install without the [llm] extra)."""
    import socket

    with socket.socket() as listener:  # an endpoint that would hang any request sent to it
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        monkeypatch.setenv("HEARKIT_LLM_BASE_URL", f"http://127.0.0.1:{listener.getsockname()[1]}/v1")
        monkeypatch.setenv("HEARKIT_LLM_MODEL", "any")
        calls = CallSet.load_sample()
        listener.settimeout(0.1)
        with pytest.raises(TimeoutError):
            listener.accept()  # nobody connected
    assert len(calls.summaries) == 7
    assert {s.method for s in calls.summaries.values()} == {"extractive"}
