"""`hearkit --help` and `hearkit version` start without the analysis stack: importing the command line
imported pandas, numpy, pyarrow, pydantic and httpx (1.5 s of imports, 0.75 CPU s for `--help` with
compiled bytecode and 2.2 without); each command imports what it needs when it runs."""

from __future__ import annotations

import json
import subprocess
import sys

from hearkit.cli.options import SPEAKERS_MAX
from hearkit.schema import MAX_SPEAKER_OPTION

HEAVY = ("pandas", "numpy", "pyarrow", "plotly", "pydantic", "httpx", "scipy", "faster_whisper", "av")


def _loaded_after(code: str) -> set[str]:
    probe = code + "\nimport json, sys\nprint(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=120, check=True
    )
    return set(json.loads(done.stdout.strip().splitlines()[-1]))


def test_importing_the_command_line_loads_no_heavy_module() -> None:
    loaded = _loaded_after("import hearkit.cli.main")
    assert "typer" in loaded  # the probe sees what the import loaded
    assert loaded.isdisjoint(HEAVY), sorted(loaded & set(HEAVY))


def test_help_builds_every_command_without_heavy_modules() -> None:
    # typer reads every command's signature to write the help: a type named only for the type checker
    # would fail here, and a module imported to build an option would show in sys.modules.
    code = (
        "import sys\nfrom hearkit.cli.main import app\nfrom typer.testing import CliRunner\n"
        "for args in (['--help'], ['analyze', '--help'], ['batch', '--help'], ['remap', '--help'],"
        " ['jobs', 'result', '--help'], ['version']):\n"
        "    out = CliRunner().invoke(app, args)\n"
        "    assert out.exit_code == 0, (args, out.output)\n"
    )
    loaded = _loaded_after(code)
    # typer itself (0.29) coerces a command's parameters through pydantic: only that one is allowed
    assert loaded.isdisjoint(set(HEAVY) - {"pydantic"}), sorted(loaded & set(HEAVY))


def test_the_speaker_limit_of_the_options_is_the_wire_models() -> None:
    assert SPEAKERS_MAX == MAX_SPEAKER_OPTION
