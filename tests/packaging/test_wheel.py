"""The wheel as a user installs it: built with ``uv build``, installed into fresh virtual environments
without network (the locked versions, from uv's cache), used from a folder that is not the checkout.

- core (``pip install hearkit``): the sample calls load, ``hearkit report sample`` writes the report,
  ``hearkit notebooks`` copies the notebooks out, and the commands that need an extra (``demo``,
  ``dashboard``, ``PyAI()`` without a key) say in one line which one to install. In the default run.
- ``[local]``: ``hearkit demo --limit 1 --save OUT`` transcribes a sample call with the embedded engine
  and ``hearkit report OUT`` reads what it saved. Slower (real ASR and a second environment): marked
  ``wheel`` and left out of the default run; run it with ``python3 tasks.py test -m wheel``.

The expected values come from the checkout (``sample_data/index.json``, ``notebooks/``), never from
the installed package under test.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
INDEX = json.loads((ROOT / "sample_data" / "index.json").read_text(encoding="utf-8"))["calls"]
SAMPLE_AUDIO = ROOT / "sample_data" / f"{INDEX[0]['call_id']}.stereo.ogg"


def find_uv() -> str:
    found = os.environ.get("UV") or shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).is_file():
        pytest.fail("uv not found (python3 tasks.py test installs it in .tools/)")
    return found


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def checked(done: subprocess.CompletedProcess[str]) -> subprocess.CompletedProcess[str]:
    assert done.returncode == 0, f"{done.args} exited {done.returncode}:\n{done.stdout}\n{done.stderr}"
    return done


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    checked(run([find_uv(), "build", "--wheel", "--offline", "-q", "-o", str(out)], cwd=ROOT))
    (built,) = out.glob("hearkit-*.whl")
    return built


@pytest.fixture(scope="module")
def make_venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Callable[[list[str]], Path]:
    """A fresh venv with the locked dependencies of ``extras`` (offline, uv cache) and the wheel."""

    def make(extras: list[str]) -> Path:
        venv = tmp_path_factory.mktemp("venv-" + ("-".join(extras) or "core"))
        uv = find_uv()
        env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
        env["UV_PROJECT_ENVIRONMENT"] = str(venv)
        sync = [uv, "sync", "--frozen", "--offline", "--no-dev", "--no-install-project", "-q"]
        extra_args = [arg for extra in extras for arg in ("--extra", extra)]
        checked(run([*sync, *extra_args, "--python", sys.executable], cwd=ROOT, env=env))
        python = str(venv / "bin" / "python")
        install = [uv, "pip", "install", "--offline", "--no-deps", "-q", "--python", python, str(wheel)]
        checked(run(install, cwd=ROOT))
        # The wheel's own metadata is satisfied by what is installed (no dependency missing from it).
        checked(run([uv, "pip", "check", "-q", "--python", python], cwd=ROOT))
        return venv

    return make


def user_env(venv: Path, home: Path) -> dict[str, str]:
    """A user's shell with the venv activated: nothing of the checkout on the path, own data dir."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV", "UV_"))}
    env.update(
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
        VIRTUAL_ENV=str(venv),
        HEARKIT_DATA_DIR=str(home / "engine"),
        NO_COLOR="1",
        COLUMNS="200",
    )
    return env


@pytest.fixture(scope="module")
def core(make_venv: Callable[[list[str]], Path]) -> Path:
    return make_venv([])


def test_core_install_loads_the_sample_and_reports_from_any_folder(core: Path, tmp_path: Path) -> None:
    env = user_env(core, tmp_path)
    probe = (
        "import importlib.util, json, hearkit\n"
        "from hearkit.record import CallSet\n"
        "calls = CallSet.load_sample()\n"
        "print(json.dumps({'file': hearkit.__file__, 'titles': sorted(calls.calls['title']),\n"
        "  'absent': [m for m in ('av', 'fastapi', 'faster_whisper', 'ipywidgets', 'dask', 'openai')\n"
        "             if importlib.util.find_spec(m) is None]}))\n"
    )
    seen = json.loads(checked(run([str(core / "bin" / "python"), "-c", probe], cwd=tmp_path, env=env)).stdout)
    assert Path(seen["file"]).is_relative_to(core), "the installed package was imported, not the checkout"
    assert seen["titles"] == sorted(e["title"] for e in INDEX)
    assert seen["absent"] == ["av", "fastapi", "faster_whisper", "ipywidgets", "dask", "openai"]

    checked(run(["hearkit", "report", "sample", "-o", "sample.html"], cwd=tmp_path, env=env))
    html = (tmp_path / "sample.html").read_text(encoding="utf-8")
    assert all(e["title"] in html for e in INDEX)

    checked(run(["hearkit", "notebooks", "nb"], cwd=tmp_path, env=env))
    shipped = sorted(p.name for p in (ROOT / "notebooks").iterdir() if p.suffix in {".py", ".ipynb"})
    assert sorted(p.name for p in (tmp_path / "nb").iterdir()) == shipped
    for name in shipped:
        assert (tmp_path / "nb" / name).read_bytes() == (ROOT / "notebooks" / name).read_bytes()
    again = run(["hearkit", "notebooks", "nb"], cwd=tmp_path, env=env)
    assert again.returncode != 0 and "--force" in again.stderr


@pytest.mark.parametrize(
    ("cmd", "extra"),
    [
        (["hearkit", "demo", "--limit", "1"], "local"),
        (["hearkit", "serve"], "local"),
        (["hearkit", "analyze", str(SAMPLE_AUDIO)], "local"),
        (["hearkit", "batch", str(SAMPLE_AUDIO), "--out", "out"], "local"),
        (["hearkit", "dashboard", "--no-browser"], "notebook"),
        (["python", "-c", "from hearkit.client import PyAI\nPyAI().jobs.list()"], "local"),
        (
            [
                "python",
                "-c",
                "from hearkit.record import CallSet\nCallSet.load_sample().play('call_03_pricing', 84.7)",
            ],
            "notebook",
        ),
    ],
)
def test_core_install_names_the_missing_extra(core: Path, tmp_path: Path, cmd: list[str], extra: str) -> None:
    done = run(cmd, cwd=tmp_path, env=user_env(core, tmp_path))
    assert done.returncode != 0
    assert f"pip install 'hearkit[{extra}]'" in done.stderr
    if cmd[0] == "hearkit":  # the command says it in one line, no traceback
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


@pytest.mark.wheel
@pytest.mark.asr
def test_local_install_runs_the_demo_and_reports_its_calls(
    make_venv: Callable[[list[str]], Path], tmp_path: Path
) -> None:
    local = make_venv(["local"])
    env = user_env(local, tmp_path)
    done = checked(
        run(["hearkit", "demo", "--limit", "1", "--save", "out", "-o", "demo.html"], cwd=tmp_path, env=env)
    )
    first = INDEX[0]
    assert first["call_id"] in done.stdout
    checked(run(["hearkit", "report", "out", "-o", "report.html"], cwd=tmp_path, env=env))
    html = (tmp_path / "report.html").read_text(encoding="utf-8")
    assert first["title"] in html and INDEX[1]["title"] not in html
    probe = "from hearkit.record import CallSet\nprint(list(CallSet.load('out').calls['call_id']))"
    loaded = checked(run([str(local / "bin" / "python"), "-c", probe], cwd=tmp_path, env=env))
    assert loaded.stdout.strip() == repr([first["call_id"]])
