"""Legs named with a space are paired (U5 finding 11: "call2 Agent.wav" + "call2 Caller.wav" were sent as
two mono "two-party" calls, both one_voice, no talk ratio; "_", "-" and "." were paired). The names are
the ones exports give; the pairs expected are the ones this test names."""

from __future__ import annotations

from pathlib import Path

from hearkit.batch.recordings import discover
from hearkit.legs import pair_legs
from tests.batch import audio


def test_a_space_separates_the_role_word() -> None:
    files = [
        Path(p)
        for p in (
            "a/call2 Agent.wav",
            "a/call2 Caller.wav",
            "a/Call 1234  rep.mp3",
            "a/Call 1234 customer.mp3",
        )
    ]
    pairs, others = pair_legs(files)
    assert pairs == [("Call 1234", files[2], files[3]), ("call2", files[0], files[1])]
    assert others == []
    lone = [Path("a/Support rep.wav"), Path("a/notes agenda.wav")]
    assert pair_legs(lone) == ([], lone)  # a leg without its partner stays one recording


def test_a_batch_folder_combines_them(tmp_path: Path) -> None:
    audio.mono(tmp_path / "legs" / "call2 Agent.wav", 1.0, seed=1)
    audio.mono(tmp_path / "legs" / "call2 Caller.wav", 1.0, seed=2)
    (found,) = discover(tmp_path / "legs", legs_dir=tmp_path / "out" / "legs")
    assert found.call_id == "call2" and found.skip_reason is None
    assert found.mode == "channel" and found.info is not None and found.info.channels == 2


def test_a_duplicate_two_file_call_is_named_by_its_legs(tmp_path: Path) -> None:
    """U5's re-check: the same two legs under two names were listed by the batch's combined FLACs
    (a dry run's in a temporary folder already gone), and the dry run put them under "skipped"."""
    from tests.batch.cli_run import flat, run

    legs = tmp_path / "legs"
    audio.mono(legs / "call2 Agent.wav", 1.0, seed=1)
    audio.mono(legs / "call2 Caller.wav", 1.0, seed=2)
    for role in ("Agent", "Caller"):  # the same recordings again, as call3
        (legs / f"call3-{role.upper()}.WAV").write_bytes((legs / f"call2 {role}.wav").read_bytes())
    for extra in (["--dry-run"], []):
        done = run(["batch", "legs", "--out", "out", "--no-progress", *extra], tmp_path)
        assert done.returncode == 0, done.stdout + done.stderr
        said = flat(done.stdout)
        assert "1 duplicates, not sent" in said and ".flac" not in said, said
        assert "skipped" not in said.replace("0 skipped", "")
    import hearkit.batch

    report = hearkit.batch.run(legs, tmp_path / "out", dry_run=True, progress=False)
    (duplicate,) = report.duplicates
    assert duplicate.source == f"{legs / 'call3-AGENT.WAV'} + {legs / 'call3-CALLER.WAV'}"
    assert (
        duplicate.error
        == f"duplicate of {legs / 'call2 Agent.wav'} + {legs / 'call2 Caller.wav'} (same content)"
    )
