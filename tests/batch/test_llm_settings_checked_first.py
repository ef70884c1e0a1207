"""A bad HEARKIT_LLM_* setting stops `hearkit batch` in one line that names it, before the batch makes
its output folder (U8 note 16: "invalid literal for int() with base 10: 'lots'", and a half-made folder
with manifest.sqlite, calls/ and .dataset.lock left behind)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.batch import audio
from tests.batch.cli_run import run


@pytest.mark.parametrize(
    ("env", "said"),
    [
        (
            {
                "HEARKIT_LLM_BASE_URL": "http://127.0.0.1:9/v1",
                "HEARKIT_LLM_MODEL": "m",
                "HEARKIT_LLM_CONTEXT_TOKENS": "lots",
            },
            "HEARKIT_LLM_CONTEXT_TOKENS must be a whole number of tokens > 0",
        ),
        ({"HEARKIT_LLM_BASE_URL": "http://127.0.0.1:9/v1"}, "HEARKIT_LLM_MODEL is not"),
    ],
    ids=["context-tokens", "no-model"],
)
def test_a_bad_llm_setting_stops_the_batch_before_its_folder_exists(
    tmp_path: Path, env: dict[str, str], said: str
) -> None:
    audio.many_mono(tmp_path / "in", 1, seconds=0.2)
    done = run(["batch", "in", "--out", "out", "--no-progress"], tmp_path, env_extra=env)
    assert done.returncode != 0
    assert said in done.stdout + done.stderr and "Traceback" not in done.stderr + done.stdout
    assert not (tmp_path / "out").exists()
