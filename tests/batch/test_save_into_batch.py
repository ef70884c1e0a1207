"""A user's ``CallSet.save()`` into a ``hearkit batch --out`` folder can no longer hide the batch's calls.

New-user trial U2, finding 5: ``CallSet.load(OUT).with_roles({...}).save(OUT)`` wrote calls.parquet,
… at the top of the batch folder; after the batch grew by a recording, ``CallSet.load(OUT)`` and
``hearkit report OUT`` read that stale save (3 calls, the new one missing, no warning) and the batch's
own dataset/ never had the role fix. Now ``save()`` refuses a batch folder (and its dataset/) and says
what to do; ``hearkit.batch.with_roles`` keeps the fix in the batch, where every later run replays it;
and a save left at the top of a batch folder by an older hearkit is never read in place of the
dataset: a warning says which one was read and how to read the other.

The sequence is the finding's, with real ``hearkit`` processes (batch, report, remap) against a real
engine on loopback (its deterministic fake transcriber: 2.5 s slots alternating channel 0 and 1, so a
stereo call of D seconds has known per-channel talk). Recordings are generated here (known lengths);
two-file calls are ``X_agent.wav`` + ``X_caller.wav`` (rep = agent = channel 0).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

import hearkit.batch
from hearkit.cli.main import app
from hearkit.engine import LocalEngine
from hearkit.frames import CALL_ID
from hearkit.locate import CALLSET_FILES, SavedCallsWarning
from hearkit.record import CallSet
from tests.batch import audio
from tests.engine.conftest import start_engine

ROOT = Path(__file__).resolve().parents[2]
SLOT = 2.5  # the fake transcriber's slot: slot i is channel i % 2


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalEngine]:
    server = start_engine(tmp_path_factory.mktemp("engine"))
    yield server
    server.stop()


@dataclass(frozen=True)
class Ran:
    returncode: int
    stdout: str
    stderr: str


def _hearkit(engine: LocalEngine, *args: str, process: bool = True) -> Ran:
    """``hearkit ARGS`` against ``engine`` (key and URL in its environment, not its arguments): a real
    process, or (``process=False``, to set a scene quickly) the same app in this process."""
    if not process:
        env = {"PYAI_API_KEY": engine.api_key, "PYAI_BASE_URL": engine.base_url}
        result = CliRunner().invoke(app, list(args), env=env)
        return Ran(result.exit_code, result.stdout, result.stderr)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))}
    env.update(PYAI_API_KEY=engine.api_key, PYAI_BASE_URL=engine.base_url, PYTHONPATH=str(ROOT))
    command = [sys.executable, "-m", "hearkit.cli.main", *args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    return Ran(done.returncode, done.stdout, done.stderr)


def _legs(folder: Path, name: str, seconds: float, *, seed: int) -> None:
    audio.mono(folder / f"{name}_agent.wav", seconds, seed=seed)
    audio.mono(folder / f"{name}_caller.wav", seconds, seed=seed + 50)


def _rep_share(seconds: float) -> float:
    """Channel 0's share of a stereo call's talk under the fake transcriber's slots (the generator's
    length and the transcriber's documented rule, not hearkit's metrics)."""
    starts = [i * SLOT for i in range(int(-(-seconds // SLOT)))]
    talk = [min(seconds, s + SLOT) - s for s in starts]
    return sum(talk[0::2]) / sum(talk)


def _roles(calls: CallSet, call: str) -> dict[str, str]:
    mine = calls.turns[calls.turns[CALL_ID] == call]
    return dict(zip(mine["speaker"].astype(str), mine["role"].astype(str), strict=False))


def _load_quietly(folder: Path) -> CallSet:
    """``CallSet.load`` that fails the test on any SavedCallsWarning."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", SavedCallsWarning)
        return CallSet.load(folder)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def _batch(tmp_path: Path, engine: LocalEngine, *, process: bool = False) -> tuple[Path, Path]:
    """The finding's folder: calls 40 and 49 as two-file calls, plus an agent leg without its partner."""
    calls, out = tmp_path / "legs2", tmp_path / "runs" / "legs2"
    _legs(calls, "call40", 7.0, seed=1)
    _legs(calls, "call49", 6.0, seed=2)
    audio.mono(calls / "lonely_agent.wav", 3.0, seed=3)
    first = _hearkit(engine, "batch", str(calls), "--out", str(out), "--no-progress", process=process)
    assert first.returncode == 0, first.stdout + first.stderr
    return calls, out


def test_the_findings_sequence_keeps_the_fix_and_the_new_call(tmp_path: Path, engine: LocalEngine) -> None:
    calls_dir, out = _batch(tmp_path, engine, process=True)
    calls = CallSet.load(out)
    assert sorted(calls.call_ids) == ["call40", "call49", "lonely_agent"]
    rep = calls.calls.set_index(CALL_ID).loc["call49", "talk_ratio_rep"]
    assert rep == pytest.approx(_rep_share(6.0), abs=1e-3)  # 3.5 s of 6: channel 0 is the agent
    before = _roles(calls, "call49")
    swap = {s: "customer" if r == "rep" else "rep" for s, r in before.items()}
    assert sorted(swap.values()) == ["customer", "rep"]
    dataset_before = _snapshot(out / "dataset")

    # "save my fix back": refused, saying what to do; nothing written anywhere in the batch
    with pytest.raises(ValueError, match="batch") as refused:
        calls.with_roles({"call49": swap}).save(out)
    message = str(refused.value)
    assert f".save({str(out) + '-edited'!r})" in message  # where to save instead
    assert "hearkit.batch.with_roles" in message and f"hearkit remap {out}" in message
    with pytest.raises(ValueError, match="dataset/ of a `hearkit batch` output folder"):
        calls.with_roles({"call49": swap}).save(out / "dataset")
    with pytest.raises(ValueError, match="batch"):
        CallSet.load_sample().save(out)
    assert not [name for name in CALLSET_FILES if (out / name).exists()]
    assert _snapshot(out / "dataset") == dataset_before

    # the way the message gives: the fix goes into the batch, at once
    fixed = hearkit.batch.with_roles(out, {"call49": swap})
    assert _roles(fixed, "call49") == swap
    assert _roles(_load_quietly(out), "call49") == swap

    # a new recording, and the batch resumed: the new call and the fix are both there
    audio.stereo(calls_dir / "newcall.wav", 4.0, seed=9)
    again = _hearkit(engine, "batch", str(calls_dir), "--out", str(out), "--no-progress")
    assert again.returncode == 0, again.stdout + again.stderr
    after = _load_quietly(out)
    assert sorted(after.call_ids) == ["call40", "call49", "lonely_agent", "newcall"]
    assert _roles(after, "call49") == swap
    frame = after.calls.set_index(CALL_ID)
    assert frame.loc["call49", "talk_ratio_rep"] == pytest.approx(1 - _rep_share(6.0), abs=1e-3)
    assert frame.loc["newcall", "talk_ratio_rep"] == pytest.approx(_rep_share(4.0), abs=1e-3)
    assert frame.loc["call40", "talk_ratio_rep"] == pytest.approx(_rep_share(7.0), abs=1e-3)
    assert set(after.turns.loc[after.turns[CALL_ID] == "call49", "role_source"].astype(str)) == {"user"}

    report = _hearkit(engine, "report", str(out), "-o", str(tmp_path / "legs2.html"))
    assert report.returncode == 0, report.stdout + report.stderr
    assert "4 calls" in report.stdout and "warning" not in report.stderr


def test_a_save_left_in_a_batch_folder_is_never_read_in_place_of_its_dataset(
    tmp_path: Path, engine: LocalEngine
) -> None:
    """What an older hearkit's ``CallSet.load_sample().save(OUT)`` left: the sample's files at the top."""
    _, out = _batch(tmp_path, engine)
    elsewhere = CallSet.load_sample().save(tmp_path / "sample")
    for name in CALLSET_FILES:
        shutil.copy(elsewhere / name, out / name)
    batch_calls = ["call40", "call49", "lonely_agent"]

    with pytest.warns(SavedCallsWarning) as caught:
        read = CallSet.load(out)
    assert sorted(read.call_ids) == batch_calls
    note = str(caught[0].message)
    assert note.startswith(f"read the batch's dataset/ of {out} (3 calls")
    assert "(7 calls" in note  # the other set, described
    assert caught[0].filename == __file__  # points at the caller's line

    report = _hearkit(engine, "report", str(out), "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0, report.stdout + report.stderr
    assert "3 calls" in report.stdout
    assert f"warning: read the batch's dataset/ of {out}" in report.stderr

    # remap works on the batch's dataset and leaves the other files alone
    speakers = _roles(read, "call49")
    customer = next(s for s, r in speakers.items() if r == "customer")
    remap = _hearkit(engine, "remap", str(out), "--call", "call49", "--rep", customer, process=False)
    assert remap.returncode == 0, remap.stdout + remap.stderr
    assert "warning: read the batch's dataset/" in remap.stderr
    assert (out / "calls.parquet").read_bytes() == (elsewhere / "calls.parquet").read_bytes()
    with pytest.warns(SavedCallsWarning):
        assert _roles(CallSet.load(out), "call49")[customer] == "rep"

    # the command the warning gives moves the save out, where it reads as what it is
    command = note.split("move them to a folder of their own: ", 1)[1].split(". To keep", 1)[0]
    moved = subprocess.run(["bash", "-c", command], capture_output=True, text=True, timeout=30)
    assert moved.returncode == 0, moved.stderr
    assert len(_load_quietly(Path(f"{out}-saved"))) == 7
    assert sorted(_load_quietly(out).call_ids) == batch_calls


def test_a_dataset_behind_its_batch_is_read_with_a_warning(tmp_path: Path, engine: LocalEngine) -> None:
    """A run stopped after completing a recording but before rebuilding dataset/ (here: the dataset of
    the run before put back, which is what such a stop leaves on disk)."""
    calls_dir, out = _batch(tmp_path, engine)
    shutil.copytree(out / "dataset", tmp_path / "old-dataset")
    audio.stereo(calls_dir / "newcall.wav", 4.0, seed=9)
    again = _hearkit(engine, "batch", str(calls_dir), "--out", str(out), "--no-progress", process=False)
    assert again.returncode == 0, again.stdout + again.stderr
    shutil.rmtree(out / "dataset")
    shutil.copytree(tmp_path / "old-dataset", out / "dataset")

    for folder in (out, out / "dataset"):
        with pytest.warns(
            SavedCallsWarning, match=r"lacks 1 call\(s\) the batch completed since .*\(newcall\)"
        ):
            assert "newcall" not in CallSet.load(folder).call_ids
    report = _hearkit(engine, "report", str(out), "-o", str(tmp_path / "r.html"))
    assert report.returncode == 0 and "3 calls" in report.stdout
    assert f"if none is, the last one stopped before that: run `hearkit batch --out {out}` to rebuild it" in (
        " ".join(report.stderr.split())
    )

    resumed = _hearkit(engine, "batch", "--out", str(out), "--no-progress", process=False)
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert "newcall" in _load_quietly(out).call_ids


def test_a_batch_refuses_an_out_folder_holding_saved_calls(tmp_path: Path, engine: LocalEngine) -> None:
    audio.stereo(tmp_path / "calls" / "a.wav", 3.0)
    saved = CallSet.load_sample().save(tmp_path / "mine")
    before = sorted(p.name for p in saved.iterdir())
    result = _hearkit(
        engine, "batch", str(tmp_path / "calls"), "--out", str(saved), "--no-progress", process=False
    )
    assert result.returncode == 2, result.stdout + result.stderr
    said = " ".join((result.stdout + result.stderr).split())
    assert f"{saved} holds calls saved with CallSet.save()" in said
    assert "give the batch an --out folder of its own" in said
    assert sorted(p.name for p in saved.iterdir()) == before  # no manifest left behind
    assert len(_load_quietly(saved)) == 7


def test_batch_edits_refuse_unknown_calls_speakers_and_folders(tmp_path: Path, engine: LocalEngine) -> None:
    _, out = _batch(tmp_path, engine)
    stored = out / "calls" / "call49.json"
    json_before, dataset_before = stored.read_bytes(), _snapshot(out / "dataset")
    with pytest.raises(KeyError, match="no call 'call_49' in the batch"):
        hearkit.batch.with_roles(out, {"call_49": {"speaker_1": "rep"}})
    with pytest.raises(KeyError, match="has no speaker 'speaker_9'"):
        hearkit.batch.with_roles(out, {"call40": {"speaker_1": "rep"}, "call49": {"speaker_9": "rep"}})
    with pytest.raises(ValueError, match="no roles given"):
        hearkit.batch.with_roles(out, {})
    with pytest.raises(TypeError, match="list of speaker labels"):
        hearkit.batch.merge_speakers(out, "call49", "speaker_1")
    assert stored.read_bytes() == json_before and _snapshot(out / "dataset") == dataset_before
    assert (out / "calls" / "call40.json").read_text().count("relabel") == 0  # the first change not kept

    saved = CallSet.load_sample().save(tmp_path / "mine")
    with pytest.raises(ValueError, match="not a `hearkit batch --out` folder"):
        hearkit.batch.with_roles(saved, {"call_01_discovery": {"speaker_0": "rep"}})

    # a merge is kept through a rebuild like a role fix
    speakers = sorted(_roles(CallSet.load(out), "call40"))
    merged = hearkit.batch.merge_speakers(out, "call40", speakers)
    assert sorted(_roles(merged, "call40")) == [speakers[0]]
    again = _hearkit(engine, "batch", "--out", str(out), "--no-progress", process=False)
    assert again.returncode == 0, again.stdout + again.stderr
    rebuilt = _load_quietly(out)
    assert sorted(_roles(rebuilt, "call40")) == [speakers[0]]
    assert isinstance(rebuilt.calls, pd.DataFrame) and len(rebuilt) == 3


def test_a_fix_waits_for_a_rebuild_in_progress_and_neither_is_lost(
    tmp_path: Path, engine: LocalEngine
) -> None:
    """A notebook fixing a role while a long batch rebuilt its dataset wrote the same staging folder
    (one crashed, or one swapped in a dataset without the other's calls). Both now take the dataset's lock."""
    import threading

    from hearkit.batch.results import dataset_lock

    _, out = _batch(tmp_path, engine)
    speakers = _roles(CallSet.load(out), "call49")
    swap = {s: "customer" if r == "rep" else "rep" for s, r in speakers.items()}
    before = _snapshot(out / "dataset")
    done: list[CallSet] = []
    with dataset_lock(out):  # what a rebuild holds while it analyses every call
        worker = threading.Thread(target=lambda: done.append(hearkit.batch.with_roles(out, {"call49": swap})))
        worker.start()
        worker.join(timeout=1.0)
        assert worker.is_alive() and not done  # waiting, nothing written
        assert _snapshot(out / "dataset") == before
        assert "relabel" not in (out / "calls" / "call49.json").read_text()
    worker.join(timeout=60)
    assert done and _roles(done[0], "call49") == swap
    assert _roles(_load_quietly(out), "call49") == swap
