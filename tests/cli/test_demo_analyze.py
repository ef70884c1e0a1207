"""`hearkit demo` and `hearkit analyze` as a user runs them (subprocesses of the installed command)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import av
import pytest
from typer.testing import CliRunner

from hearkit.cli.main import app

REPO = Path(__file__).resolve().parents[2]
HEARKIT = Path(sys.executable).parent / "hearkit"


def run(
    args: list[str], tmp_path: Path, *, fake: bool = True, timeout: float = 240
) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYAI_API_KEY", "PYAI_BASE_URL"}}
    env["HEARKIT_DATA_DIR"] = str(tmp_path / "engine")
    env["COLUMNS"] = "200"
    if fake:
        env["HEARKIT_TRANSCRIBER"] = "fake"
    else:
        env.pop("HEARKIT_TRANSCRIBER", None)
    return subprocess.run(
        [str(HEARKIT), *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=timeout
    )


def flat(text: str) -> str:
    """CLI output without rich's panel borders and line wrapping."""
    return " ".join(re.sub(r"[│╭╮╰╯─]", " ", text).split())


def first_seconds(source: Path, target: Path, seconds: float) -> Path:
    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        audio = inp.streams.audio[0]
        stream = out.add_stream("pcm_s16le", rate=audio.rate, layout=audio.layout.name)
        for frame in inp.decode(audio):
            if frame.time is not None and frame.time >= seconds:
                break
            out.mux(stream.encode(frame))
        out.mux(stream.encode(None))
    return target


def test_demo_runs_the_path_and_writes_the_report(tmp_path: Path) -> None:
    index = json.loads((REPO / "sample_data" / "index.json").read_text())["calls"]
    done = run(["demo", "--limit", "2", "--sample-dir", str(REPO / "sample_data")], tmp_path)
    assert done.returncode == 0, done.stderr + done.stdout
    report = tmp_path / "hearkit-report.html"
    assert report.is_file()
    assert str(report) in done.stdout.replace("\n", "")
    html = report.read_text(encoding="utf-8")
    for call in index[:2]:
        assert call["call_id"] in done.stdout
        assert call["call_id"] in html
    assert index[2]["call_id"] not in done.stdout
    assert "transcribed 2 calls" in done.stdout


def test_demo_refuses_an_unknown_call() -> None:
    done = CliRunner().invoke(app, ["demo", "--call", "call_99", "--sample-dir", str(REPO / "sample_data")])
    assert done.exit_code == 2
    assert "unknown call(s) ['call_99']" in flat(done.output)


def test_demo_without_sample_data_says_where_it_looked(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["demo", "--sample-dir", str(tmp_path)])
    assert done.exit_code == 2
    assert "--sample-dir" in flat(done.output)


def test_analyze_refuses_a_missing_file(tmp_path: Path) -> None:
    done = CliRunner().invoke(app, ["analyze", str(tmp_path / "nope.wav")])
    assert done.exit_code == 2
    assert "does not exist" in flat(done.output)


def test_analyze_refuses_a_file_that_is_not_audio(tmp_path: Path) -> None:
    notes = tmp_path / "notes.wav"
    notes.write_text("not audio at all")
    done = CliRunner().invoke(app, ["analyze", str(notes)])
    assert done.exit_code == 2
    assert "not a readable audio file" in flat(done.output)


def test_analyze_stereo_of_a_one_channel_file_is_refused_before_sending(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A new-user check (U7 finding 17): `--stereo` on a mono file uploaded it and made a job, which
    then failed ("the file has 1 channel"). The file's channels are known here: nothing is sent."""
    monkeypatch.setenv("PYAI_API_KEY", "sk_test_nothing_listens")
    monkeypatch.setenv("PYAI_BASE_URL", "http://127.0.0.1:9")  # the discard port: a request would fail
    wav = first_seconds(REPO / "sample_data" / "call_01_discovery.mono.ogg", tmp_path / "call.wav", 2.0)
    done = CliRunner().invoke(app, ["analyze", str(wav), "--stereo"])
    said = flat(done.output)
    assert done.exit_code == 2, said
    assert "has 1 channel" in said and "--mono" in said
    assert "transcribing" not in said and "could not reach" not in said


def test_analyze_refuses_a_plain_http_url(tmp_path: Path) -> None:
    done = run(["analyze", "http://example.com/call.wav"], tmp_path)
    assert done.returncode == 2
    said = flat(done.stdout + done.stderr)
    assert "give an https URL" in said
    assert "allow_insecure_audio_url" not in said  # a Python argument, not a command-line option


def test_analyze_refuses_a_plain_http_api_off_this_machine(tmp_path: Path) -> None:
    """U2 finding 6: a listener at a non-loopback http base URL received the key and the recording."""
    wav = first_seconds(REPO / "sample_data" / "call_01_discovery.mono.ogg", tmp_path / "call.wav", 2.0)
    env = {k: v for k, v in os.environ.items() if k != "HEARKIT_ALLOW_INSECURE_BASE_URL"}
    env |= {"PYAI_API_KEY": "sk_live_SECRET123", "PYAI_BASE_URL": "http://192.0.2.2:8799"}
    done = subprocess.run(
        [str(HEARKIT), "analyze", str(wav)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    said = flat(done.stdout + done.stderr)
    assert done.returncode == 1, said
    assert "clear text" in said and "HEARKIT_ALLOW_INSECURE_BASE_URL=1" in said
    assert "could not reach" not in said  # refused before any connection was tried
    assert "Traceback" not in said and "sk_live_SECRET123" not in said


@pytest.mark.asr
def test_analyze_json_of_a_real_clip(tmp_path: Path) -> None:
    """The first 20 s of the pricing call through the real pipeline: the record says what was said."""
    truth = json.loads((REPO / "sample_data" / "call_03_pricing.truth.json").read_text())
    clip = first_seconds(REPO / "sample_data" / "call_03_pricing.stereo.ogg", tmp_path / "clip.wav", 20)
    done = run(["analyze", str(clip), "--json", "--call-id", "clip"], tmp_path, fake=False)
    assert done.returncode == 0, done.stderr
    assert "leaked semaphore" not in done.stderr  # the idle worker process ends cleanly at exit
    record = json.loads(done.stdout)
    assert record["call_id"] == "clip"
    said = {w.strip(".,?!").lower() for t in truth["turns"] if t["end"] <= 20 for w in t["text"].split()}
    heard = json.dumps(record).lower()
    long_words = {w for w in said if len(w) > 4}
    assert len({w for w in long_words if w in heard}) >= 0.6 * len(long_words)


def test_analyze_says_stereo_roles_come_from_the_channel_convention(tmp_path: Path) -> None:
    """A stereo file's roles are the convention (channel 0 = rep), not something the user said;
    with --rep/--customer the user did say it."""
    from tests.batch import audio

    stereo = audio.stereo(tmp_path / "call.wav", 3.0)
    done = run(["analyze", str(stereo), "--json"], tmp_path)
    assert done.returncode == 0, done.stderr
    record = json.loads(done.stdout)
    assert str(record["job_id"]).startswith("job_")  # the header read "job None"
    turns = record["turns"]
    assert turns and {t["role_source"] for t in turns} == {"channel_convention"}

    audio.mono(tmp_path / "a.wav", 3.0, seed=1)
    audio.mono(tmp_path / "b.wav", 3.0, seed=5)
    legs = run(["analyze", "--rep", "a.wav", "--customer", "b.wav", "--json"], tmp_path)
    assert legs.returncode == 0, legs.stderr
    assert {t["role_source"] for t in json.loads(legs.stdout)["turns"]} == {"explicit"}


def test_analyze_of_a_folder_points_to_batch(tmp_path: Path) -> None:
    (tmp_path / "calls").mkdir()
    done = CliRunner().invoke(app, ["analyze", str(tmp_path / "calls")])
    assert done.exit_code == 2
    assert "hearkit batch" in flat(done.output)


def test_analyze_save_keeps_the_call_for_the_report(tmp_path: Path) -> None:
    """`hearkit analyze --save DIR`: the call the command printed, saved as `hearkit report DIR` and
    CallSet.load read it; a folder that holds calls already is refused before transcribing."""
    from hearkit.record import CallSet
    from tests.batch import audio

    stereo = audio.stereo(tmp_path / "call.wav", 3.0)
    done = run(["analyze", str(stereo), "--json", "--save", "kept"], tmp_path)
    assert done.returncode == 0, done.stderr
    printed = json.loads(done.stdout)  # stdout holds only the JSON; the saved line goes to stderr
    assert "call saved in" in flat(done.stderr)
    saved = CallSet.load(tmp_path / "kept")
    assert saved.call_ids == ["call"] == [printed["call_id"]]
    record = saved.record("call")
    assert record.job_id == printed["job_id"] and record.talk_ratio == printed["talk_ratio"]
    assert [t.text for t in record.turns] == [t["text"] for t in printed["turns"]]
    report = CliRunner().invoke(app, ["report", str(tmp_path / "kept"), "-o", str(tmp_path / "r.html")])
    assert report.exit_code == 0, report.output
    assert "1 calls" in report.output and (tmp_path / "r.html").is_file()

    again = CliRunner().invoke(app, ["analyze", str(stereo), "--save", str(tmp_path / "kept")])
    assert again.exit_code == 2
    assert "already holds saved calls" in flat(again.output) and "overwrites nothing" in flat(again.output)
    assert "transcribing" not in again.output
    (tmp_path / "afile").write_text("x")
    refused = CliRunner().invoke(app, ["analyze", str(stereo), "--save", str(tmp_path / "afile")])
    assert refused.exit_code == 2 and "is a file" in flat(refused.output)


@pytest.mark.parametrize("command", ["demo", "analyze"])
@pytest.mark.parametrize("spelling", ["--new-job", "--new-jobs"])
def test_both_spellings_of_new_job_are_taken(command: str, spelling: str, tmp_path: Path) -> None:
    """demo's option is --new-jobs and analyze's --new-job (a new-user check typed the other one)."""
    target = (
        ["--call", "call_99", "--sample-dir", str(REPO / "sample_data")]
        if command == "demo"
        else [str(tmp_path / "missing.wav")]
    )
    done = CliRunner().invoke(app, [command, spelling, *target])
    assert "No such option" not in flat(done.output)
    assert done.exit_code == 2, done.output  # refused for the call or the file, after the option was read
