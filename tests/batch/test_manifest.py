"""The SQLite manifest: states, stored requests, retry generations, durability across connections."""

from __future__ import annotations

from pathlib import Path

import pytest

from hearkit.batch.manifest import Manifest
from hearkit.batch.recordings import discover
from hearkit.batch.runner import idempotency_key, parse_units
from tests.batch import audio


def _manifest_with_three(tmp_path: Path) -> Manifest:
    for i in range(2):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 0.5, seed=i)
    (tmp_path / "in" / "notes.txt").write_text("not audio")
    manifest = Manifest(tmp_path / "out")
    assert manifest.add(discover(tmp_path / "in")) == 3
    return manifest


def test_add_is_idempotent_and_skips_carry_their_reason(tmp_path: Path) -> None:
    manifest = _manifest_with_three(tmp_path)
    assert manifest.add(discover(tmp_path / "in")) == 0
    assert manifest.counts() == {"pending": 2, "submitted": 0, "completed": 0, "failed": 0, "skipped": 1}
    (skipped,) = manifest.rows("skipped")
    assert skipped.source.endswith("notes.txt") and skipped.last_error


def test_state_survives_a_new_connection(tmp_path: Path) -> None:
    manifest = _manifest_with_three(tmp_path)
    first, second = manifest.rows("pending")
    manifest.prepare_submit(first.rec_id, "key-1", {"diarize": True})
    manifest.mark_sending(first.rec_id)
    manifest.mark_created(first.rec_id, "job_1")
    manifest.prepare_submit(second.rec_id, "key-2", {"diarize": True})
    manifest.mark_sending(second.rec_id)
    # No close(): a killed process never closes its connection.
    reopened = Manifest(tmp_path / "out")
    a, b = reopened.get(first.rec_id), reopened.get(second.rec_id)
    assert (a.status, a.job_id, a.attempts, a.idempotency_key) == ("submitted", "job_1", 1, "key-1")
    assert (b.status, b.job_id, b.attempts, b.request) == ("submitted", None, 1, {"diarize": True})


def test_the_first_stored_request_wins(tmp_path: Path) -> None:
    manifest = _manifest_with_three(tmp_path)
    row = manifest.rows("pending")[0]
    manifest.prepare_submit(row.rec_id, "key-1", {"diarize": True, "webhook_url": "https://a"})
    again = manifest.prepare_submit(row.rec_id, "key-2", {"diarize": True, "webhook_url": "https://b"})
    assert again.idempotency_key == "key-1"
    assert again.request == {"diarize": True, "webhook_url": "https://a"}


def test_retrying_failed_rows_changes_the_key_only_when_a_job_failed(tmp_path: Path) -> None:
    manifest = _manifest_with_three(tmp_path)
    job_failed, never_created = manifest.rows("pending")
    manifest.prepare_submit(job_failed.rec_id, "key-a", {})
    manifest.mark_created(job_failed.rec_id, "job_a")
    manifest.mark_failed(job_failed.rec_id, "job job_a failed: corrupt audio")
    manifest.prepare_submit(never_created.rec_id, "key-b", {})
    manifest.mark_failed(never_created.rec_id, "gave up after 8 attempts")
    assert manifest.requeue_failed() == 2
    a, b = manifest.get(job_failed.rec_id), manifest.get(never_created.rec_id)
    assert (a.status, a.generation, a.idempotency_key, a.job_id) == ("pending", 1, None, None)
    assert (b.status, b.generation, b.idempotency_key) == ("pending", 0, "key-b")


def test_idempotency_key_depends_on_content_options_and_generation_only() -> None:
    base = idempotency_key("a" * 64, {"diarize": True, "model": "m"})
    assert base == idempotency_key("a" * 64, {"model": "m", "diarize": True})
    assert len(base) <= 255
    assert base != idempotency_key("b" * 64, {"diarize": True, "model": "m"})
    assert base != idempotency_key("a" * 64, {"channel": True, "model": "m"})
    assert base != idempotency_key("a" * 64, {"diarize": True, "model": "m"}, generation=1)


def test_units_header_parsing() -> None:
    assert parse_units("audio_seconds=21.174") == 21.174
    assert parse_units("17.16") == 17.16
    assert parse_units("audio_seconds = 3") == 3.0
    assert parse_units("tokens=abc") is None
    assert parse_units(None) is None


def test_resume_reuses_content_hashes_until_a_file_changes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import hearkit.batch.manifest as manifest_module
    from hearkit.batch.api import _prepare
    from hearkit.batch.speakers import BatchSettings

    for i in range(3):
        audio.mono(tmp_path / "in" / f"c{i}.wav", 0.5, seed=i)
    hashed: list[str] = []
    real = manifest_module.hash_file

    def counting(path: Path) -> str:
        hashed.append(path.name)
        return real(path)

    monkeypatch.setattr(manifest_module, "hash_file", counting)
    manifest, *_ = _prepare(tmp_path / "in", tmp_path / "out", BatchSettings("auto", {}, None), False, False)
    manifest.close()
    assert sorted(hashed) == ["c0.wav", "c1.wav", "c2.wav"]
    hashed.clear()
    manifest, *_ = _prepare(tmp_path / "in", tmp_path / "out", BatchSettings("auto", {}, None), False, False)
    manifest.close()
    assert hashed == []
    audio.mono(tmp_path / "in" / "c1.wav", 0.7, seed=9)  # new content under the same name
    manifest, *_ = _prepare(tmp_path / "in", tmp_path / "out", BatchSettings("auto", {}, None), False, False)
    assert hashed == ["c1.wav"]
    assert manifest.counts()["pending"] == 4  # the new content is a new recording
    manifest.close()
