"""The README's tour, pasted as users paste it: a plain script without a main guard, ``python -``, a notebook.

The tour's code block is read from README.md (so the test follows the docs), ``call.wav`` is a
20-second stereo excerpt of a sample call cut here with PyAV, and the embedded engine is the real
one (faster-whisper) on a temporary data dir. A spawned worker process cannot start from the first
two forms, so the engine must transcribe on a thread and say so once; the notebook kernel can use
worker processes, so it must not warn.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from tests.engine.conftest import REPO, SAMPLE_DATA

_CHECK = '\nprint("TOUR-OK", job.status, round(job.result.audio_seconds, 1), len(record.turns) > 0)\n'
_WARNING = "transcribing on threads of this process instead of worker processes"


def _tour() -> str:
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    section = readme.split("## A tour", 1)[1]
    match = re.search(r"```python\n(.*?)```", section, re.S)
    assert match is not None, "README has no python block under 'A tour'"
    return match.group(1)


def _excerpt(target: Path, seconds: float = 20.0) -> Path:
    import av

    source = SAMPLE_DATA / "call_03_pricing.stereo.ogg"
    with av.open(str(source)) as container:
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=16_000)
        chunks = []
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                chunks.append(out.to_ndarray().reshape(-1, 2))
            if sum(len(c) for c in chunks) >= seconds * 16_000:
                break
    samples = np.concatenate(chunks)[: int(seconds * 16_000)]
    import wave

    with wave.open(str(target), "wb") as out:
        out.setnchannels(2)
        out.setsampwidth(2)
        out.setframerate(16_000)
        out.writeframes(samples.astype("<i2").tobytes())
    return target


@pytest.fixture()
def tour_dir(tmp_path: Path) -> Path:
    _excerpt(tmp_path / "call.wav")
    (tmp_path / "tour.py").write_text(_tour() + _CHECK, encoding="utf-8")
    return tmp_path


def _env(tmp_path: Path) -> dict[str, str]:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))},
        "HEARKIT_DATA_DIR": str(tmp_path / "engine"),
        "PLOTLY_RENDERER": "json",  # `.show()` prints the figure instead of opening a browser
        "PYTHONPATH": str(REPO),
    }


def _assert_tour_ran(result: subprocess.CompletedProcess[str], *, warned: bool) -> None:
    assert result.returncode == 0, result.stderr[-3000:]
    assert "Traceback" not in result.stderr
    ok = [line for line in result.stdout.splitlines() if line.startswith("TOUR-OK")]
    assert ok == ["TOUR-OK completed 20.0 True"], result.stdout[-2000:]
    assert (result.stderr.count(_WARNING) == 1) is warned, result.stderr[-3000:]


@pytest.mark.asr
def test_the_tour_as_a_plain_script_without_main_guard(tour_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "tour.py"],
        cwd=tour_dir,
        env=_env(tour_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    _assert_tour_ran(result, warned=True)
    assert (tour_dir / "calls.html").stat().st_size > 100_000


@pytest.mark.asr
def test_the_tour_piped_into_python_stdin(tour_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-"],
        input=(tour_dir / "tour.py").read_text(),
        cwd=tour_dir,
        env=_env(tour_dir),
        capture_output=True,
        text=True,
        timeout=600,
    )
    _assert_tour_ran(result, warned=True)


@pytest.mark.asr
def test_the_tour_in_a_notebook_kernel(tour_dir: Path) -> None:
    import nbformat
    from nbclient import NotebookClient

    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(_tour() + _CHECK)]
    saved = dict(os.environ)
    os.environ.update(_env(tour_dir))
    try:
        NotebookClient(
            notebook, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tour_dir)}}
        ).execute()
    finally:
        os.environ.clear()
        os.environ.update(saved)
    outputs = notebook.cells[0].outputs
    text = "".join(o.get("text", "") for o in outputs if o.get("output_type") == "stream")
    errors = [o for o in outputs if o.get("output_type") == "error"]
    assert not errors, errors
    assert "TOUR-OK completed 20.0 True" in text
    assert _WARNING not in text  # a kernel re-imports nothing: worker processes are used


_GUARDED_BUT_EAGER = """
from pathlib import Path
from hearkit.client import PyAI

# Transcribes at import time, above the guard: a spawned worker process would do it again.
with PyAI() as client:
    job = client.jobs.transcribe(Path("call.wav"), diarize=True)
print("EAGER-OK", job.status, job.result.audio_seconds)

if __name__ == "__main__":
    print("main")
"""


def test_a_script_with_a_guard_but_work_above_it_falls_back_to_threads(
    tmp_path: Path, audio: dict[str, Path]
) -> None:
    (tmp_path / "call.wav").write_bytes(audio["mono3"].read_bytes())
    (tmp_path / "eager.py").write_text(_GUARDED_BUT_EAGER)
    env = _env(tmp_path)
    # A named transcriber runs in worker processes; the fake one keeps the test quick.
    env["HEARKIT_TRANSCRIBER"] = "hearkit.engine.fake:FakeTranscriber"
    result = subprocess.run(
        [sys.executable, "eager.py"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines() == ["EAGER-OK completed 3.0", "main"], result.stdout
    assert result.stderr.count(_WARNING) == 1, result.stderr[-3000:]
    assert "a worker process could not start" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("source", "problem"),
    [
        ('print("hi")\n', "has no `if __name__"),
        ('if __name__ == "__main__":\n    main()\n', None),
        ("if '__main__' == __name__:\n    main()\n", None),
        (None, "(e.g. `python -`)"),  # no file: read from standard input
    ],
)
def test_process_pool_problem_reads_the_main_module(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, source: str | None, problem: str | None
) -> None:
    import types

    from hearkit.engine.executors import process_pool_problem

    main = types.ModuleType("__main__")
    if source is None:
        main.__file__ = "<stdin>"
    else:
        (tmp_path / "script.py").write_text(source)
        main.__file__ = str(tmp_path / "script.py")
    main.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", main)
    found = process_pool_problem()
    assert (found is None) if problem is None else (found is not None and problem in found)


def test_process_pool_problem_of_an_interactive_session_and_of_python_m(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import importlib.machinery
    import types

    from hearkit.engine.executors import process_pool_problem

    interactive = types.ModuleType("__main__")  # REPL, `python -c`, a Jupyter/Voila kernel: no file
    interactive.__spec__ = None
    monkeypatch.setitem(sys.modules, "__main__", interactive)
    assert process_pool_problem() is None

    module = tmp_path / "tool.py"
    module.write_text("print('runs at import')\n")
    by_name = types.ModuleType("__main__")  # `python -m tool`: imported again by name
    by_name.__spec__ = importlib.machinery.ModuleSpec("tool", None, origin=str(module))
    monkeypatch.setitem(sys.modules, "__main__", by_name)
    assert "has no `if __name__" in (process_pool_problem() or "")
