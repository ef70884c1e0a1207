"""Discovery, content hashing and audio inspection of batch sources."""

from __future__ import annotations

import hashlib
import unicodedata
from pathlib import Path

import pytest

from hearkit.batch.recordings import choose_mode, discover, hash_file, inspect_audio
from hearkit.metadata import read_sidecar
from tests.batch import audio


def test_layouts_and_durations_match_the_generator(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "stereo.wav", 3.0)
    audio.mono(tmp_path / "mono.wav", 1.5)
    audio.dual_mono(tmp_path / "dual.wav", 2.0)
    audio.one_silent(tmp_path / "silent.wav", 2.5)
    found = {Path(r.source).name: r for r in discover(tmp_path, mode="auto")}
    expected = {
        "stereo.wav": (2, 3.0, "stereo", "channel"),
        "mono.wav": (1, 1.5, "mono", "diarize"),
        "dual.wav": (2, 2.0, "dual_mono", "diarize"),
        "silent.wav": (2, 2.5, "one_silent", "channel"),
    }
    for name, (channels, seconds, layout, mode) in expected.items():
        rec = found[name]
        assert rec.skip_reason is None
        assert rec.info is not None
        assert rec.info.channels == channels
        assert rec.info.duration_s == pytest.approx(seconds, abs=0.01)
        assert rec.info.layout == layout
        assert rec.mode == mode


def test_forced_modes_override_inspection(tmp_path: Path) -> None:
    audio.dual_mono(tmp_path / "dual.wav", 1.0)
    audio.stereo(tmp_path / "stereo.wav", 1.0)
    assert {r.mode for r in discover(tmp_path, mode="stereo")} == {"channel"}
    assert {r.mode for r in discover(tmp_path, mode="mono")} == {"diarize"}
    info = inspect_audio(tmp_path / "stereo.wav", analyze_stereo=False)
    assert info.layout == "unknown"
    assert choose_mode(info, "auto") == "diarize"


def test_content_hash_is_sha256_of_the_bytes_and_names_do_not_matter(tmp_path: Path) -> None:
    first = audio.mono(tmp_path / "a" / "x.wav", 1.0)
    copy = tmp_path / "b" / "renamed.wav"
    copy.parent.mkdir()
    copy.write_bytes(first.read_bytes())
    assert hash_file(first) == hashlib.sha256(first.read_bytes()).hexdigest()
    recs = discover(tmp_path)
    assert len(recs) == 2
    assert recs[0].rec_id == recs[1].rec_id
    assert recs[0].skip_reason is None
    assert recs[1].skip_reason is not None and "duplicate" in recs[1].skip_reason


def test_non_audio_and_broken_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    audio.mono(tmp_path / "good.wav", 1.0)
    (tmp_path / "notes.txt").write_text("meeting notes, not audio")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "fake.mp3").write_bytes(b"\x00" * 3000)
    (tmp_path / ".hidden.wav").write_text("ignored: hidden files are not recordings")
    found = {Path(r.source).name: r for r in discover(tmp_path)}
    assert set(found) == {"good.wav", "notes.txt", "empty.wav", "fake.mp3"}
    assert found["good.wav"].skip_reason is None
    for name in ("notes.txt", "empty.wav", "fake.mp3"):
        reason = found[name].skip_reason
        assert reason, name
        assert "audio" in reason or "decod" in reason


def test_other_files_in_a_folder_are_named_as_not_audio_in_plain_words(tmp_path: Path) -> None:
    """A new-user trial's folder held a CSV, listed as a broken recording whose reason read
    '[Errno 1094995529] Invalid data found…' (an FFmpeg error tag), while the empty-folder error
    said only *.wav, *.mp3… are looked for."""
    audio.mono(tmp_path / "good.wav", 1.0)
    (tmp_path / "http.csv").write_text("audio_url,title\nhttps://example.com/a.wav,A\n")
    (tmp_path / "notaudio.wav").write_bytes(b"RIFF not really a wave file" * 40)
    found = {Path(r.source).name: r.skip_reason or "" for r in discover(tmp_path)}
    assert found["good.wav"] == ""
    for reason in (found["http.csv"], found["notaudio.wav"]):
        assert "Errno" not in reason and "1094995529" not in reason
        assert str(tmp_path) not in reason.split("hearkit batch")[0]  # the table names the file already
    assert found["http.csv"].startswith("not an audio file (hearkit looks for *.wav,")
    assert f"hearkit batch {tmp_path / 'http.csv'} --out DIR" in found["http.csv"]
    assert found["notaudio.wav"] == "not a readable audio file (invalid data found when processing input)"
    with pytest.raises(FileNotFoundError) as empty:
        discover(_only(tmp_path / "other", "http.csv"))
    looked = found["http.csv"].split("looks for ")[1].split(")")[0]
    assert f"looked for {looked}," in str(empty.value)  # one list of extensions in both messages


def _only(folder: Path, name: str) -> Path:
    folder.mkdir()
    (folder / name).write_text("audio_url\n")
    return folder


def test_glob_and_output_folder_exclusion(tmp_path: Path) -> None:
    audio.mono(tmp_path / "in" / "one.wav", 0.5, seed=1)
    audio.mono(tmp_path / "in" / "deep" / "two.wav", 0.5, seed=2)
    audio.mono(tmp_path / "in" / "out" / "three.wav", 0.5, seed=3)
    (tmp_path / "in" / "skip.ogg").write_bytes(b"")
    found = discover(str(tmp_path / "in" / "**" / "*.wav"), exclude=tmp_path / "in" / "out")
    assert sorted(r.call_id for r in found) == ["one", "two"]
    with pytest.raises(FileNotFoundError, match="matches no files"):
        discover(str(tmp_path / "nothing" / "*.wav"))
    with pytest.raises(FileNotFoundError, match="not a folder"):
        discover(tmp_path / "missing-folder")


def test_csv_manifest_with_paths_urls_and_metadata(tmp_path: Path) -> None:
    audio.stereo(tmp_path / "audio" / "a.wav", 1.0)
    csv = tmp_path / "calls.csv"
    csv.write_text(
        "call_id,path,audio_url,rep,customer,duration_s,channels\n"
        "acme-1,audio/a.wav,,Dana,Acme,,\n"
        "remote-1,,https://example.com/r/1.ogg,Lee,Globex,61.5,2\n"
        "insecure,,http://example.com/r/2.ogg,Lee,Initech,30,\n"
        "gone,audio/missing.wav,,,,,\n"
        "nothing,,,,,,\n"
    )
    found = {r.call_id: r for r in discover(csv)}
    assert found["acme-1"].metadata == {"rep": "Dana", "customer": "Acme"}
    assert found["acme-1"].mode == "channel"
    remote = found["remote-1"]
    assert remote.kind == "url" and remote.skip_reason is None
    assert remote.info is not None and remote.info.duration_s == 61.5
    assert remote.mode == "channel"
    assert "https" in (found["insecure"].skip_reason or "")
    assert found["gone"].skip_reason == "file not found"
    assert "neither" in (found["nothing"].skip_reason or "")


def test_csv_without_a_source_column_says_what_it_needs(tmp_path: Path) -> None:
    csv = tmp_path / "bad.csv"
    csv.write_text("name,date\nx,2024-01-01\n")
    with pytest.raises(ValueError, match=r"'path'.*'audio_url'"):
        discover(csv)


def test_call_ids_stay_unique(tmp_path: Path) -> None:
    audio.mono(tmp_path / "a" / "call.wav", 0.5, seed=1)
    audio.mono(tmp_path / "b" / "call.wav", 0.5, seed=2)
    ids = [r.call_id for r in discover(tmp_path)]
    assert len(set(ids)) == 2
    assert ids[0] == "call" and ids[1].startswith("call-")


def test_call_ids_keep_letters_of_any_script(tmp_path: Path) -> None:
    """'Ünïcödé 通话 #1.wav' was the call 'n_c_d_1' (only ASCII letters were kept)."""
    audio.mono(tmp_path / "Ünïcödé 通话 #1.wav", 0.5, seed=1)
    audio.mono(tmp_path / unicodedata.normalize("NFD", "Zoë.wav"), 0.5, seed=2)  # as macOS names files
    audio.mono(tmp_path / "a/b" / "x' <y>.wav", 0.5, seed=3)
    assert sorted(r.call_id for r in discover(tmp_path)) == ["Zoë", "x_y", "Ünïcödé_通话_1"]


def test_a_csv_call_id_on_two_recordings_is_refused_before_anything_is_sent(tmp_path: Path) -> None:
    """The second was renamed 'dup-<hash>' without a word, so it no longer joined to the user's key."""
    audio.mono(tmp_path / "a.wav", 0.5, seed=1)
    audio.mono(tmp_path / "b.wav", 0.5, seed=2)
    csv = tmp_path / "calls.csv"
    csv.write_text("call_id,path\ndup,a.wav\ndup,b.wav\n")
    with pytest.raises(
        ValueError, match=r"call_id 'dup' is given to two different recordings \(.*a\.wav and .*b\.wav\)"
    ):
        discover(csv)
    csv.write_text(
        "call_id,path\ndup,a.wav\ndup,a.wav\nother,b.wav\n"
    )  # the same recording twice: a duplicate
    found = discover(csv)
    assert [r.call_id for r in found if r.skip_reason is None] == ["dup", "other"]


def test_a_symlinked_recording_is_named_by_the_link_and_takes_the_sidecar_beside_it(tmp_path: Path) -> None:
    stored = audio.mono(tmp_path / "archive" / "sample.wav", 1.0)
    calls = tmp_path / "calls"
    calls.mkdir()
    (calls / "linked.wav").symlink_to(stored)
    (calls / "linked.meta.json").write_text('{"title": "Linked call", "rep": "Ana"}', encoding="utf-8")
    for source in (calls, str(calls / "*.wav")):
        [rec] = discover(source)
        assert rec.skip_reason is None
        assert rec.call_id == "linked"
        assert rec.source == str(calls / "linked.wav")  # the dataset reads the sidecar beside it
        assert read_sidecar(rec.source) == {"title": "Linked call", "rep": "Ana"}


@pytest.mark.parametrize("separator", [";", "\t"], ids=["semicolon", "tab"])
def test_a_csv_separated_by_semicolons_or_tabs_is_read(tmp_path: Path, separator: str) -> None:
    """Excel writes ';' where the comma is the decimal mark: the header was one column 'path;rep'."""
    audio.mono(tmp_path / "a.wav", 0.5, seed=1)
    csv = tmp_path / "calls.csv"
    csv.write_text(
        separator.join(["path", "rep", "score"]) + "\n" + separator.join(["a.wav", "Ana", "0,5"]) + "\n"
    )
    (found,) = discover(csv)
    assert found.skip_reason is None and found.metadata == {"rep": "Ana", "score": "0,5"}


def test_a_csv_that_is_not_utf8_says_so_and_what_to_do(tmp_path: Path) -> None:
    """It was "'utf-8' codec can't decode byte 0xe9 in position 18: invalid continuation byte"."""
    audio.mono(tmp_path / "a.wav", 0.5, seed=1)
    csv = tmp_path / "calls.csv"
    csv.write_bytes("path,rep\na.wav,José\n".encode("latin-1"))
    with pytest.raises(
        ValueError, match=r"calls\.csv: not UTF-8 text \(byte 0xe9 on line 2.*save it as UTF-8"
    ):
        discover(csv)
    csv.write_text("path,rep\na.wav,José\n", encoding="utf-8-sig")  # with Excel's byte order mark
    assert discover(csv)[0].metadata == {"rep": "José"}


def _export(source: Path, target: Path, codec: str) -> Path:
    """``source`` written again with PyAV as ``codec`` in ``target``'s container: a re-export."""
    from typing import Any

    import av

    with av.open(str(source)) as inp, av.open(str(target), "w") as out:
        stream = inp.streams.audio[0]
        encoder: Any = out.add_stream(codec, rate=stream.rate, layout=stream.layout.name)  # type: ignore[call-overload]
        for frame in inp.decode(stream):
            frame.pts = None
            out.mux(encoder.encode(frame))
        out.mux(encoder.encode(None))
    return target


def test_a_recording_re_exported_is_a_duplicate_of_the_first_copy(tmp_path: Path, realdata: Path) -> None:
    """U7 finding 16: a call and the same recording re-exported (other bytes, other container) were both
    transcribed. AWS call 40's legs (20 s each, as a stereo WAV), the same audio as FLAC and as a WAV
    written again with PyAV (other header bytes): one call sent, the two copies skipped naming it; the
    legs the other way round (the same length, other audio) are another call."""
    from hearkit.engine.pipeline.decode import decode_audio

    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][: 20 * 16_000]
        for leg in ("agent", "caller")
    )
    calls = tmp_path / "calls"
    first = audio.write_wav(calls / "a_call.wav", [agent, caller], rate=16_000)
    _export(first, calls / "b_call_export.flac", "flac")
    _export(first, calls / "c_call_again.wav", "pcm_s16le")
    audio.write_wav(calls / "d_swapped.wav", [caller, agent], rate=16_000)
    assert len({hash_file(p) for p in calls.iterdir()}) == 4  # four files of other bytes
    found = {Path(r.source).name: r for r in discover(calls)}
    assert found["a_call.wav"].skip_reason is None and found["d_swapped.wav"].skip_reason is None
    for copy in ("b_call_export.flac", "c_call_again.wav"):
        reason = found[copy].skip_reason
        assert reason is not None and reason.startswith(f"duplicate of {first} (the same audio"), reason

    import hearkit.batch

    report = hearkit.batch.run(calls, tmp_path / "out", dry_run=True, progress=False)
    assert sorted(Path(d.source).name for d in report.duplicates) == [
        "b_call_export.flac",
        "c_call_again.wav",
    ]
