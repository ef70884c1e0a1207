"""The ``realdata`` fixture of tests/conftest.py, run by a real pytest in a throwaway project laid out like
this one (its conftest copied in), with and without a ``shared/realdata`` folder beside it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CONFTEST = Path(__file__).resolve().parent / "conftest.py"
TESTS = """
from pathlib import Path

def test_reads_real_data(realdata: Path) -> None:
    assert (realdata / "clip.txt").read_text() == "spoken words"

def test_needs_nothing() -> None:
    assert True
"""


def run_project(
    tmp_path: Path, *, with_data: bool, workers: int = 0, **env: str
) -> subprocess.CompletedProcess[str]:
    project = tmp_path / "project"
    (project / "tests").mkdir(parents=True)
    shutil.copyfile(CONFTEST, project / "tests" / "conftest.py")
    (project / "tests" / "test_it.py").write_text(TESTS)
    if with_data:
        (tmp_path / "shared" / "realdata").mkdir(parents=True)
        (tmp_path / "shared" / "realdata" / "clip.txt").write_text("spoken words")
    clean = {k: v for k, v in os.environ.items() if k not in {"CI", "HEARKIT_REQUIRE_REALDATA"}}
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-ra", "-p", "no:cacheprovider", "-n", str(workers), "tests"],
        cwd=project,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_absent_data_skips_with_one_line_saying_where_and_counts_it(tmp_path: Path) -> None:
    done = run_project(tmp_path, with_data=False)
    assert done.returncode == 0, done.stdout
    where = tmp_path.resolve() / "shared" / "realdata"
    assert f"SKIPPED [1] tests/test_it.py:4: real data absent: no folder {where}" in done.stdout
    assert (
        f"real data: 0 real-data tests ran (0 passed, 0 failed), 1 skipped for lack of data in {where}"
        in done.stdout
    )
    assert "1 passed, 1 skipped" in done.stdout


@pytest.mark.parametrize("env", [{"CI": "true"}, {"HEARKIT_REQUIRE_REALDATA": "1"}])
def test_absent_data_fails_under_ci(tmp_path: Path, env: dict[str, str]) -> None:
    done = run_project(tmp_path, with_data=False, **env)
    assert done.returncode == 1, done.stdout
    assert "1 passed, 1 error" in done.stdout
    assert "CI=true or HEARKIT_REQUIRE_REALDATA=1 requires it" in done.stdout


@pytest.mark.parametrize("workers", [0, 2])
def test_present_data_runs_and_is_counted(tmp_path: Path, workers: int) -> None:
    """Counted in one process and across pytest-xdist workers (the project's default run)."""
    done = run_project(tmp_path, with_data=True, workers=workers, CI="true")
    assert done.returncode == 0, done.stdout
    assert "real data: 1 real-data tests ran (1 passed, 0 failed), 0 skipped for lack of data" in done.stdout
    assert "2 passed" in done.stdout
