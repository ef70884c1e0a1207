#!/usr/bin/env python3
"""The two set-up commands of the README, needing nothing but Python 3.11+ and pip.

    python3 tasks.py demo    # install hearkit and run the main job (`hearkit demo`)
    python3 tasks.py test    # install everything the tests need; ruff, mypy, pytest

Each bootstraps uv (from PyPI) when it is missing, syncs the locked environment in `.venv`
and runs the command there. Extra arguments after `test` go to pytest.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent
TOOLS = ROOT / ".tools"
# uv must use this machine's Python: its own Python downloads come from GitHub.
ENV = {**os.environ, "UV_PYTHON_DOWNLOADS": "never"}
# Debian packages the tests need: a browser for the HTML/dashboard tests.
TEST_DEBIAN_PACKAGES = {"chromium": "chromium"}


def run(*cmd: str | Path) -> None:
    print("+", " ".join(str(c) for c in cmd), flush=True)
    completed = subprocess.run([str(c) for c in cmd], cwd=ROOT, env=ENV)
    if completed.returncode != 0:
        sys.exit(completed.returncode)


def find_uv() -> str:
    found = shutil.which("uv") or (TOOLS / "bin" / "uv")
    if Path(found).exists():
        return str(found)
    print("uv not found: installing it from PyPI into .tools/", flush=True)
    subprocess.run([sys.executable, "-m", "venv", str(TOOLS)], check=True)
    subprocess.run([str(TOOLS / "bin" / "pip"), "install", "-q", "uv"], check=True)
    return str(TOOLS / "bin" / "uv")


def sync(uv: str) -> None:
    run(uv, "sync", "--locked", "--all-extras", "--python", sys.executable)


def ensure_debian_packages() -> None:
    missing = [pkg for exe, pkg in TEST_DEBIAN_PACKAGES.items() if shutil.which(exe) is None]
    if not missing:
        return
    apt = shutil.which("apt-get")
    if apt is None or os.geteuid() != 0:
        sys.exit(
            f"missing system packages {missing}: install them "
            f"(e.g. `sudo apt-get install {' '.join(missing)}`) and run this command again"
        )
    run(apt, "update", "-qq")
    run(apt, "install", "-y", "-qq", "--no-install-recommends", *missing)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"demo", "test"}:
        sys.exit(__doc__)
    uv = find_uv()
    sync(uv)
    if argv[0] == "demo":
        run(uv, "run", "--no-sync", "hearkit", "demo", *argv[1:])
        return
    ensure_debian_packages()
    run(uv, "run", "--no-sync", "ruff", "check", "hearkit", "tests", "benchmarks", "scripts", "notebooks")
    run(uv, "run", "--no-sync", "ruff", "format", "--check", "hearkit", "tests", "benchmarks", "scripts")
    run(uv, "run", "--no-sync", "mypy")
    run(uv, "run", "--no-sync", "pytest", *argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
