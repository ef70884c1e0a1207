#!/usr/bin/env python3
"""The two set-up commands of the README, needing nothing but Python 3.11+ and pip.

    python3 tasks.py demo    # install hearkit and run the main job (`hearkit demo`)
    python3 tasks.py test    # install everything the tests need; ruff, mypy, pytest

`test` first checks the Debian packages of TEST_DEBIAN_PACKAGES (the one list; `.ci/run` only runs this
command): as root it installs the missing ones, otherwise it stops with the `apt-get install` line to run.

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
# The one list of what the tests need from the system (`.ci/run` gets it by running `tasks.py test`):
# program on PATH -> Debian package. Chromium renders the report, notebook exports and Voila dashboard;
# espeak-ng speaks test sentences whose script is the ground truth. Audio fixtures are encoded with PyAV,
# so no ffmpeg or sox.
TEST_DEBIAN_PACKAGES = {"chromium": "chromium", "espeak-ng": "espeak-ng"}
REALDATA = ROOT.parent / "shared" / "realdata"


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


def ensure_debian_packages() -> list[str]:
    """Install the missing test packages as root; otherwise stop with the command to run. Says what it did."""
    missing = [pkg for exe, pkg in TEST_DEBIAN_PACKAGES.items() if shutil.which(exe) is None]
    lines = [f"  {exe}: found at {shutil.which(exe)}" for exe in TEST_DEBIAN_PACKAGES if shutil.which(exe)]
    if not missing:
        return lines
    apt = shutil.which("apt-get")
    install = f"apt-get install -y --no-install-recommends {' '.join(missing)}"
    if apt is None:
        sys.exit(f"the tests need the programs of these Debian packages, missing here: {' '.join(missing)}")
    if os.geteuid() != 0:
        sys.exit(
            f"the tests need Debian packages that are missing: {' '.join(missing)}. Run as root, then this "
            f"command again:\n  apt-get update && {install}"
        )
    apt_env = {**ENV, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in ([apt, "update", "-qq"], [apt, "install", "-y", "-qq", "--no-install-recommends", *missing]):
        print("+", " ".join(cmd), flush=True)
        if subprocess.run(cmd, env=apt_env).returncode != 0:
            sys.exit(f"could not install {' '.join(missing)}: run `apt-get update && {install}` as root")
    still = [pkg for exe, pkg in TEST_DEBIAN_PACKAGES.items() if shutil.which(exe) is None]
    if still:
        sys.exit(f"installed {' '.join(missing)} but still missing: {' '.join(still)}")
    return lines + [f"  {pkg}: installed now ({shutil.which(pkg) or pkg})" for pkg in missing]


def describe_environment(system: list[str]) -> None:
    """What the test run found and installed, printed before the tests start."""
    realdata = REALDATA.resolve()
    if realdata.is_dir():
        data = f"found at {realdata}"
    else:
        ci = os.environ.get("CI", "").lower() == "true" or os.environ.get("HEARKIT_REQUIRE_REALDATA") == "1"
        data = f"absent (no {realdata}): its tests {'FAIL (CI)' if ci else 'are skipped and counted'}"
    print("system packages the tests need:", *system, sep="\n", flush=True)
    print(f"third-party real data (../shared/realdata): {data}", flush=True)


def main(argv: list[str]) -> None:
    if not argv or argv[0] not in {"demo", "test"}:
        sys.exit(__doc__)
    system = ensure_debian_packages() if argv[0] == "test" else []
    uv = find_uv()
    sync(uv)
    if argv[0] == "demo":
        run(uv, "run", "--no-sync", "hearkit", "demo", *argv[1:])
        return
    describe_environment(system)
    run(uv, "run", "--no-sync", "ruff", "check", "hearkit", "tests", "benchmarks", "scripts", "notebooks")
    run(uv, "run", "--no-sync", "ruff", "format", "--check", "hearkit", "tests", "benchmarks", "scripts")
    run(uv, "run", "--no-sync", "mypy")
    run(uv, "run", "--no-sync", "pytest", *argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
