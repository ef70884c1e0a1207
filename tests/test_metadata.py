"""Sidecar metadata files: ``call.wav`` + ``call.meta.json``; bad ones say which file and what to fix."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearkit.metadata import MetadataError, is_sidecar, read_sidecar, sidecar_path


def test_the_sidecar_replaces_the_audio_extension(tmp_path: Path) -> None:
    assert sidecar_path(tmp_path / "call.wav") == tmp_path / "call.meta.json"
    assert sidecar_path(tmp_path / "call.stereo.ogg") == tmp_path / "call.stereo.meta.json"
    assert sidecar_path(tmp_path / "noext") == tmp_path / "noext.meta.json"
    assert is_sidecar("x/CALL.Meta.JSON") and not is_sidecar("x/call.json")


def test_fields_become_text_and_null_fields_are_left_out(tmp_path: Path) -> None:
    assert read_sidecar(tmp_path / "none.wav") == {}
    (tmp_path / "a.meta.json").write_text(
        '{"Title": "Acme renewal", "rep": "Ana", "team": "EMEA", "seats": 40, "won": true, '
        '"customer": null, "notes": "  "}',
        encoding="utf-8",
    )
    assert read_sidecar(tmp_path / "a.wav") == {
        "title": "Acme renewal",
        "rep": "Ana",
        "team": "EMEA",
        "seats": "40",
        "won": "true",
    }


@pytest.mark.parametrize(
    ("content", "says"),
    [
        ('{"title": "x",', "not valid JSON (line 1"),
        ('["title", "x"]', "expected one JSON object"),
        ('{"tags": ["a", "b"]}', "'tags' must be a string, a number or a boolean, not a list"),
        ('{"call_id": "other"}', "'call_id' cannot be set in a sidecar"),
    ],
)
def test_bad_sidecars_name_the_file_and_the_fix(tmp_path: Path, content: str, says: str) -> None:
    (tmp_path / "c.meta.json").write_text(content, encoding="utf-8")
    with pytest.raises(MetadataError) as caught:
        read_sidecar(tmp_path / "c.wav")
    message = str(caught.value)
    assert message.startswith(str(tmp_path / "c.meta.json")) and says in message and "\n" not in message


def test_a_sidecar_that_is_not_text_is_refused(tmp_path: Path) -> None:
    (tmp_path / "c.meta.json").write_bytes(b"\xff\xfe\x00{")
    with pytest.raises(MetadataError, match="not UTF-8 text"):
        read_sidecar(tmp_path / "c.wav")
