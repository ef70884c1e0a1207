"""`hearkit batch --dask` on an install without the [dask] extra says so in one line, exit 2, before
the output folder is made (U5 finding 2: a 100-line traceback ending in "No module named
'distributed'", rc 1, with manifest.sqlite and legs/ left behind). The installed command in a
subprocess where dask and distributed cannot be found, as on a `hearkit[local]` install."""

from __future__ import annotations

import os
from pathlib import Path

from tests.batch import audio
from tests.batch.cli_run import run

# What a Python without those packages sees: find_spec finds nothing and an import fails.
HIDE = """
import importlib.util, sys
_GONE = ("dask", "distributed")
_find_spec = importlib.util.find_spec
def _hidden(name, package=None):
    return None if name.split(".")[0] in _GONE else _find_spec(name, package)
importlib.util.find_spec = _hidden
class _Gone:
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in _GONE:
            raise ModuleNotFoundError(f"No module named {name!r}", name=name)
        return None
sys.meta_path.insert(0, _Gone())
"""


def test_dask_without_its_extra_is_one_line_and_leaves_no_folder(tmp_path: Path) -> None:
    (tmp_path / "hide").mkdir()
    (tmp_path / "hide" / "sitecustomize.py").write_text(HIDE)
    audio.mono(tmp_path / "calls" / "a.wav", 1.0)
    env = {"PYTHONPATH": os.pathsep.join([str(tmp_path / "hide"), os.environ.get("PYTHONPATH", "")])}
    done = run(["batch", "calls", "--out", "out", "--dask", "local"], tmp_path, env_extra=env)
    assert done.returncode == 2, done.stdout + done.stderr
    assert done.stderr.strip() == (
        "error: hearkit batch --dask needs hearkit's [dask] extra: pip install 'hearkit[dask]' (from a "
        "checkout: pip install '.[dask]', from a wheel: 'hearkit-….whl[dask]')"
    )
    assert "Traceback" not in done.stdout + done.stderr
    assert not (tmp_path / "out").exists()
