"""Two-file calls: the rep's and the customer's recordings combined into one stereo upload.

Ground truth comes from outside the code: the real AWS contact-centre legs in
``../shared/realdata/aws_lca_calls`` (which party is on which file: SOURCES.md) and legs generated
here with known tones, rates and lengths.
"""

from __future__ import annotations

import csv
import json
import os
import struct
import subprocess
import sys
from pathlib import Path

import av
import numpy as np
import pytest

from hearkit.batch import run
from hearkit.batch.recordings import discover
from hearkit.legs import combine_legs, pair_legs
from tests.engine.conftest import start_engine

ROOT = Path(__file__).resolve().parents[2]


def _write(path: Path, samples: np.ndarray, rate: int, fmt: str, codec: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with av.open(str(path), "w", format="wav") as container:
        stream = container.add_stream(codec, rate=rate, layout="mono")
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format=fmt, layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def _tone(seconds: float, freq: float, rate: int) -> np.ndarray:
    return np.sin(2 * np.pi * freq * np.arange(round(seconds * rate)) / rate)


def _legs(folder: Path, name: str = "call_7") -> tuple[Path, Path]:
    """Rep: 3.0 s of 440 Hz, float32 at 16 kHz. Customer: 5.0 s of 300 Hz, 16-bit at 8 kHz."""
    rep = _write(
        folder / f"{name}_agent.wav",
        (0.5 * _tone(3.0, 440, 16_000)).astype(np.float32),
        16_000,
        "flt",
        "pcm_f32le",
    )
    customer = (0.3 * 32767 * _tone(5.0, 300, 8000)).astype(np.int16)
    return rep, _write(folder / f"{name}_caller.wav", customer, 8000, "s16", "pcm_s16le")


def _read(path: Path) -> tuple[np.ndarray, int]:
    """(samples × channels as float in -1..1, rate), decoded here with PyAV."""
    with av.open(str(path)) as container:
        stream = container.streams.audio[0]
        frames = [f.to_ndarray() for f in container.decode(stream)]
        rate, channels, name = stream.rate, stream.channels, stream.format.name
    data = np.concatenate(frames, axis=-1).reshape(-1, channels).astype(np.float64)
    return data / (2**31 if name.startswith("s32") else 2**15), int(rate)


def _peak_hz(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[int(np.argmax(spectrum))])


def test_real_aws_legs_combine_losslessly_with_the_agent_on_channel_0(realdata: Path, tmp_path: Path) -> None:
    folder = realdata / "aws_lca_calls"
    agent, caller = folder / "Auto_Repairs_40_UTC_agent.wav", folder / "Auto_Repairs_40_UTC_caller.wav"
    legs = combine_legs(agent, caller, tmp_path / "call.flac")
    stereo, rate = _read(legs.path)
    assert rate == 8000 and legs.duration_s == pytest.approx(245.38, abs=0.01)  # SOURCES.md
    assert np.array_equal(stereo[:, 0], _read(agent)[0][:, 0])  # sample for sample: no loss
    assert np.array_equal(stereo[:, 1], _read(caller)[0][:, 0])
    assert legs.path.stat().st_size < (agent.stat().st_size + caller.stat().st_size)


def test_legs_of_different_rates_and_lengths(tmp_path: Path) -> None:
    rep, customer = _legs(tmp_path)
    legs = combine_legs(rep, customer, tmp_path / "out.flac")
    stereo, rate = _read(legs.path)
    assert rate == 16_000 and len(stereo) == 5 * 16_000  # the higher rate; the longer leg's length
    assert (legs.rep_duration_s, legs.customer_duration_s) == (3.0, 5.0)
    # Channel 0 is the rep's 440 Hz tone, exact to 24 bits (a float leg), then silence (padding).
    assert np.abs(stereo[: 3 * 16_000, 0] - 0.5 * _tone(3.0, 440, 16_000)).max() < 1e-6
    assert np.abs(stereo[3 * 16_000 :, 0]).max() == 0.0
    # Channel 1 is the customer's 300 Hz tone, brought from 8 kHz to 16 kHz.
    assert _peak_hz(stereo[:, 1], rate) == pytest.approx(300, abs=1)
    assert np.sqrt(np.mean(stereo[16_000:-16_000, 1] ** 2)) == pytest.approx(0.3 / np.sqrt(2), rel=0.02)


@pytest.mark.parametrize("codec", ["pcm_s16le", "pcm_f32le"], ids=["16-bit", "float"])
def test_an_empty_leg_is_refused_not_combined_as_a_silent_party(tmp_path: Path, codec: str) -> None:
    """A caller leg of no samples was combined as 3 s of silence: a call where the customer never spoke."""
    rep, _ = _legs(tmp_path)
    empty = tmp_path / "x_caller.wav"  # a valid WAV header (PCM 16-bit or IEEE float), no frames
    tag, bits = (1, 16) if codec == "pcm_s16le" else (3, 32)
    fmt = struct.pack("<HHIIHH", tag, 1, 8000, 8000 * bits // 8, bits // 8, bits)
    empty.write_bytes(
        b"RIFF" + struct.pack("<I", 36) + b"WAVEfmt " + struct.pack("<I", 16) + fmt + b"data\0\0\0\0"
    )
    with pytest.raises(ValueError, match=r"x_caller\.wav: the audio contains no samples"):
        combine_legs(rep, empty, tmp_path / "out.flac")
    assert not (tmp_path / "out.flac").exists()


def test_a_leg_that_is_not_audio_is_named_in_the_error(tmp_path: Path) -> None:
    rep, _ = _legs(tmp_path)
    bad = tmp_path / "call_7_caller.wav"
    bad.write_text("not audio")
    with pytest.raises(ValueError, match=r"call_7_caller\.wav"):
        combine_legs(rep, bad, tmp_path / "out.flac")


def test_file_names_pair_legs() -> None:
    files = [
        Path(p)
        for p in (
            "a/x_agent.wav",
            "a/x_caller.wav",
            "a/y-rep.mp3",
            "a/y-customer.mp3",
            "a/z_agent.wav",
            "a/w.wav",
        )
    ]
    pairs, others = pair_legs(files)
    assert pairs == [("x", files[0], files[1]), ("y", files[2], files[3])]
    assert others == [files[4], files[5]]  # a leg without its partner stays one recording


def _batch_folder(tmp_path: Path) -> Path:
    calls = tmp_path / "calls"
    _legs(calls)
    stereo = np.stack([0.3 * _tone(4.0, 500, 8000), 0.3 * _tone(4.0, 800, 8000)], axis=1)
    with av.open(str(calls / "plain.wav"), "w", format="wav") as container:
        stream = container.add_stream("pcm_s16le", rate=8000, layout="stereo")
        frame = av.AudioFrame.from_ndarray(
            (stereo * 32767).astype(np.int16).reshape(1, -1), format="s16", layout="stereo"
        )
        frame.sample_rate = 8000
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            container.mux(packet)
    (calls / "broken.wav").write_bytes(b"RIFF nothing")
    return calls


def test_batch_of_a_folder_with_a_two_file_call(tmp_path: Path) -> None:
    calls = _batch_folder(tmp_path)
    with start_engine(tmp_path / "engine") as engine:
        report = run(
            calls,
            tmp_path / "out",
            api_key=engine.api_key,
            base_url=engine.base_url,
            progress=False,
            write_dataset=False,
        )
    assert report.counts["completed"] == 2 and report.counts["skipped"] == 1, report.skipped
    document = json.loads((tmp_path / "out" / "calls" / "call_7.json").read_text())
    assert document["hearkit"]["mode"] == "channel"
    assert document["hearkit"]["metadata"]["rep_file"].endswith("call_7_agent.wav")
    assert document["result"]["audio_seconds"] == 5.0  # the longer leg
    assert {s.get("channel") for s in document["result"]["segments"]} == {0, 1}


def test_batch_csv_manifest_with_rep_and_customer_columns(tmp_path: Path) -> None:
    rep, customer = _legs(tmp_path / "legs", name="leg")
    manifest = tmp_path / "calls.csv"
    with manifest.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["rep_path", "customer_path", "call_id", "title"])
        writer.writerow([f"legs/{rep.name}", str(customer), "renewal-1", "Renewal"])
    found = discover(manifest, legs_dir=tmp_path / "out" / "legs")
    assert len(found) == 1 and found[0].skip_reason is None
    assert found[0].call_id == "renewal-1" and found[0].mode == "channel"
    assert found[0].metadata["title"] == "Renewal"
    assert found[0].info is not None and found[0].info.duration_s == 5.0
    # Same legs, renamed: the same recording (identity is both legs' content).
    rep.rename(rep.with_name("renamed_agent.wav"))
    with manifest.open("w", newline="") as handle:
        csv.writer(handle).writerows(
            [["agent_path", "caller_path"], [str(rep.with_name("renamed_agent.wav")), str(customer)]]
        )
    assert discover(manifest, legs_dir=tmp_path / "out" / "legs")[0].rec_id == found[0].rec_id


def test_an_empty_folder_says_what_was_looked_for(tmp_path: Path) -> None:
    (tmp_path / "empty").mkdir()
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "readme.txt").write_text("no calls here")
    with pytest.raises(
        FileNotFoundError, match=r"no audio files found in .*empty \(looked for \*\.wav, \*\.flac"
    ):
        discover(tmp_path / "empty")
    with pytest.raises(FileNotFoundError, match="1 other file"):
        discover(tmp_path / "notes")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "hearkit.cli.main",
            "batch",
            str(tmp_path / "empty"),
            "--out",
            str(tmp_path / "out"),
        ],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
        env={**os.environ, "HEARKIT_DATA_DIR": str(tmp_path / "engine"), "HEARKIT_TRANSCRIBER": "fake"},
    )
    assert result.returncode == 2 and "Traceback" not in result.stdout + result.stderr
    said = " ".join(result.stdout.split())  # the console wraps long lines
    assert f"no audio files found in {tmp_path / 'empty'} (looked for *.wav, *.flac" in said


def _analyze_cli(tmp_path: Path, *args: str, transcriber: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))}
    env.update(
        HEARKIT_DATA_DIR=str(tmp_path / "engine"), HEARKIT_TRANSCRIBER=transcriber, PYTHONPATH=str(ROOT)
    )
    command = [sys.executable, "-m", "hearkit.cli.main", "analyze", *args, "--json"]
    return subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=env, timeout=900)


def test_analyze_rep_and_customer_files(tmp_path: Path) -> None:
    rep, customer = _legs(tmp_path)
    result = _analyze_cli(tmp_path, "--rep", str(rep), "--customer", str(customer), transcriber="fake")
    assert result.returncode == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["call_id"] == "call_7"
    assert record["audio_seconds"] == 5.0  # the longer leg
    assert {turn["role"] for turn in record["turns"]} == {"rep", "customer"}
    wrong = _analyze_cli(tmp_path, "--rep", str(rep), transcriber="fake")
    assert wrong.returncode == 2 and "needs both --rep" in wrong.stderr + wrong.stdout


def _voice_share(agent: np.ndarray, caller: np.ndarray, rate: int) -> float:
    """The agent's share of voiced 100 ms frames (energy above -40 dB of each leg's loudest frames)."""
    counts = []
    for leg in (agent, caller):
        frames = leg[: len(leg) // (rate // 10) * (rate // 10)].reshape(-1, rate // 10)
        rms = np.sqrt(np.mean(frames**2, axis=1))
        counts.append(int(np.sum(rms > np.percentile(rms, 95) * 0.01)))
    return counts[0] / (counts[0] + counts[1])


@pytest.mark.asr
def test_analyze_real_aws_call_from_its_two_files(realdata: Path, tmp_path: Path) -> None:
    folder = realdata / "aws_lca_calls"
    agent, rate = _read(folder / "Auto_Repairs_49_UTC_agent.wav")
    caller, _ = _read(folder / "Auto_Repairs_49_UTC_caller.wav")
    seconds = 45
    rep = _write(
        tmp_path / "c49_agent.wav",
        (agent[: seconds * rate, 0] * 32768).astype(np.int16),
        rate,
        "s16",
        "pcm_s16le",
    )
    customer = _write(
        tmp_path / "c49_caller.wav",
        (caller[: seconds * rate, 0] * 32768).astype(np.int16),
        rate,
        "s16",
        "pcm_s16le",
    )
    result = _analyze_cli(tmp_path, "--rep", str(rep), "--customer", str(customer), transcriber="whisper")
    assert result.returncode == 0, result.stderr[-3000:]
    record = json.loads(result.stdout)
    ratio = record["metrics"]["talk_ratio_rep"]
    reference = _voice_share(agent[: seconds * rate, 0], caller[: seconds * rate, 0], rate)
    assert ratio == pytest.approx(reference, abs=0.15), (ratio, reference)
    rep_turns = [t for t in record["turns"] if t["role"] == "rep"]
    assert rep_turns and all(t.get("channel") in (0, None) for t in rep_turns)


def _union_s(spans: list[tuple[float, float]]) -> float:
    total, last = 0.0, float("-inf")
    for start, end in sorted(spans):
        start = max(start, last)
        if end > start:
            total += end - start
            last = end
    return total


@pytest.mark.asr
def test_batch_and_report_of_a_real_two_file_call(tmp_path: Path) -> None:
    """A sample call cut to 36 s and split into its two legs (rep = channel 0 of the script), with a sidecar
    and a file that is not audio: ``hearkit batch`` → ``hearkit report``. The rep's talk ratio is checked
    against the call's script (``*.truth.json``: who speaks when)."""
    from hearkit.record import sample_dir

    start, end = 118.0, 153.9
    source = sample_dir() / "call_05_renewal.stereo.ogg"
    with av.open(str(source)) as container:
        resampler = av.AudioResampler(format="s16", layout="stereo", rate=16_000)
        pcm = np.concatenate(
            [o.to_ndarray().reshape(-1, 2) for f in container.decode(audio=0) for o in resampler.resample(f)]
        )[round(start * 16_000) : round(end * 16_000)]
    calls = tmp_path / "calls"
    _write(calls / "renewal_agent.wav", np.ascontiguousarray(pcm[:, 0]), 16_000, "s16", "pcm_s16le")
    _write(calls / "renewal_caller.wav", np.ascontiguousarray(pcm[:, 1]), 16_000, "s16", "pcm_s16le")
    (calls / "renewal.meta.json").write_text(json.dumps({"title": "Renewal, two legs", "rep": "Lee Park"}))
    (calls / "notes.wav").write_text("not audio")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYAI_", "HEARKIT_"))}
    env.update(HEARKIT_DATA_DIR=str(tmp_path / "engine"), PYTHONPATH=str(ROOT))
    out = tmp_path / "out"
    batch = subprocess.run(
        [sys.executable, "-m", "hearkit.cli.main", "batch", str(calls), "--out", str(out), "--no-progress"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=900,
    )
    assert batch.returncode == 0, batch.stdout + batch.stderr  # the bad file is skipped, not failed
    document = json.loads((out / "calls" / "renewal.json").read_text())
    assert document["hearkit"]["mode"] == "channel"
    assert document["result"]["audio_seconds"] == pytest.approx(end - start, abs=0.01)

    truth = json.loads((sample_dir() / "call_05_renewal.truth.json").read_text())
    talk = {
        role: _union_s(
            [(max(t["start"], start), min(t["end"], end)) for t in truth["turns"] if t["role"] == role]
        )
        for role in ("rep", "customer")
    }
    expected = talk["rep"] / (talk["rep"] + talk["customer"])
    from hearkit.record import CallSet

    calls_frame = CallSet.load(out / "dataset").calls.set_index("call_id")
    assert calls_frame.loc["renewal", "talk_ratio_rep"] == pytest.approx(expected, abs=0.05)
    assert calls_frame.loc["renewal", "title"] == "Renewal, two legs"

    report = subprocess.run(
        [sys.executable, "-m", "hearkit.cli.main", "report", str(out), "-o", str(tmp_path / "r.html")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )
    assert report.returncode == 0, report.stdout + report.stderr
    html = (tmp_path / "r.html").read_text()
    assert "Renewal, two legs" in html and "Lee Park" in html


def test_a_dry_run_of_two_file_calls_writes_nothing(tmp_path: Path) -> None:
    """A dry run left OUT/legs/call_7-<hash>.flac behind (the combined legs), and OUT with it."""
    from typer.testing import CliRunner

    from hearkit.cli.main import app

    _legs(tmp_path / "calls")
    before = sorted(p.name for p in (tmp_path / "calls").iterdir())
    out = tmp_path / "out"
    report = run(tmp_path / "calls", out, dry_run=True, progress=False)
    assert report.estimate.recordings == 1 and report.estimate.audio_seconds == 5.0  # the longer leg
    assert not out.exists()
    done = CliRunner().invoke(app, ["batch", str(tmp_path / "calls"), "--out", str(out), "--dry-run"])
    assert done.exit_code == 0, done.output
    assert not out.exists()
    out.mkdir()  # an existing OUT (a batch already there) gets nothing either
    run(tmp_path / "calls", out, dry_run=True, progress=False)
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in (tmp_path / "calls").iterdir()) == before
