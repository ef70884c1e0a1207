"""Run the installed ``hearkit`` command as a user does: a subprocess against the embedded engine
(its own data dir under the test's folder) with the fake transcriber, where the words do not matter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEARKIT = Path(sys.executable).parent / "hearkit"


def run(
    args: list[str], tmp_path: Path, *, timeout: float = 240, env_extra: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``env_extra``: e.g. ``PYAI_API_KEY``/``PYAI_BASE_URL`` of a server the test started."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}}
    env["HEARKIT_DATA_DIR"] = str(tmp_path / "engine")
    env["HEARKIT_TRANSCRIBER"] = "fake"
    env["COLUMNS"] = "200"
    env.update(env_extra or {})
    return subprocess.run(
        [str(HEARKIT), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
    )


def flat(text: str) -> str:
    """Output with rich's wrapping and panel borders taken out."""
    return " ".join(text.replace("│", " ").split())
