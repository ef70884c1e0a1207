"""Run the installed ``hearkit`` command as a user does: a subprocess against the embedded engine
(its own data dir under the test's folder) with the fake transcriber, where the words do not matter."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HEARKIT = Path(sys.executable).parent / "hearkit"


def run(args: list[str], tmp_path: Path, *, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}}
    env["HEARKIT_DATA_DIR"] = str(tmp_path / "engine")
    env["HEARKIT_TRANSCRIBER"] = "fake"
    env["COLUMNS"] = "200"
    return subprocess.run(
        [str(HEARKIT), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
    )


def flat(text: str) -> str:
    """Output with rich's wrapping and panel borders taken out."""
    return " ".join(text.replace("│", " ").split())
