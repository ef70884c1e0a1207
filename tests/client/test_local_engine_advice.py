"""Against hearkit's own engine, a refused key or spent credit gets advice that works there (U3
finding 22: `hearkit serve`'s 401 said "Create a new key in the PyAI console" and its 402 "add credit
in the PyAI console … The organisation is out of prepaid credit" beside "Add credit: hearkit serve
--create-key", which makes a new key). A real engine on loopback, the hearkit client over HTTP."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hearkit.client import PyAI
from hearkit.engine import LocalEngine
from hearkit.errors import AuthenticationError, CreditExhaustedError, error_from_response
from tests.batch import audio

HOSTED_WORDS = ("PyAI console", "organisation", "PyAI support")


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    with LocalEngine(tmp_path_factory.mktemp("engine"), transcriber="fake", poll_interval=0.05) as running:
        yield running


def test_a_key_the_engine_does_not_know(engine: LocalEngine) -> None:
    with (
        PyAI(api_key="pyai_test_" + "x" * 32, base_url=engine.base_url) as client,
        pytest.raises(AuthenticationError) as caught,
    ):
        client.jobs.list()
    said = str(caught.value)
    assert "hearkit serve --create-key --data-dir DIR" in said
    assert not any(words in said for words in HOSTED_WORDS), said


def test_spent_credit_says_to_make_and_use_a_key_with_more(engine: LocalEngine, tmp_path: Path) -> None:
    assert engine.runtime is not None
    key, _ = engine.runtime.store.create_key(
        env="live", scopes=["hear:transcribe", "transcribe:jobs"], rps=100.0, burst=100,
        project_id="proj_credit", credit_seconds=1.0,
    )  # fmt: skip
    call = audio.mono(tmp_path / "call.wav", 2.0)  # 2 s billed against 1 s of credit
    with PyAI(api_key=key, base_url=engine.base_url) as client:
        client.jobs.transcribe(call)
        with pytest.raises(CreditExhaustedError) as caught:
            client.jobs.transcribe(call)
    said = str(caught.value)
    assert "Credit belongs to a key: create another with `hearkit serve --create-key --live" in said
    assert "set PYAI_API_KEY to it and run again" in said and "Add credit" not in said
    assert not any(words in said for words in HOSTED_WORDS), said


def test_the_hosted_api_keeps_its_own_advice() -> None:
    body = b'{"error": {"code": "credit_exhausted", "message": "Out of credit."}}'
    hosted = str(error_from_response(402, httpx.Headers(), body))
    assert "add credit in the PyAI console" in hosted
    assert "hearkit serve" not in hosted
