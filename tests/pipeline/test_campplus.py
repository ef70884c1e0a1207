"""CAM++ in numpy (``hearkit.engine.pipeline.campplus``).

The fbank front end is checked against Kaldi's own feature code (``kaldi-native-fbank``, recorded
once by ``make_fbank_reference.py`` on the real phone call); the shipped float16 weights against the
original float32 state dict's embeddings of the same call (recorded once by
``make_campplus_reference.py``); the state-dict reader against bad input. The model tests' truth:
who speaks when, from the sample calls' scripts and the AMI RTTM. The longer ones (3 s windows of
two sample calls, a minute of AMI) carry the ``campplus`` marker, out of the default run:
``pytest -m campplus tests/pipeline/test_campplus.py``.
"""

from __future__ import annotations

import json
import pickle
import zipfile
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from hearkit.engine.pipeline import campplus
from hearkit.engine.pipeline.campplus import CampPlus, fbank, load_state_dict, weights_path
from hearkit.engine.pipeline.decode import decode_audio

REFERENCE = Path(__file__).resolve().parent / "data" / "fbank_reference.npz"
EMBEDDING_REFERENCE = Path(__file__).resolve().parent / "data" / "campplus_reference.npz"
SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def test_fbank_matches_kaldi(realdata: Path) -> None:
    call = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0]
    with np.load(REFERENCE) as data:
        for i, (start, end) in enumerate(data["excerpts"]):
            ours = fbank(call[int(start * 16000) : int(end * 16000)])
            theirs = data[f"fbank_{i}"]
            assert ours.shape == theirs.shape == (98, 80)
            np.testing.assert_allclose(ours, theirs, atol=2e-3)


def test_fbank_of_a_short_clip_is_one_frame() -> None:
    assert fbank(np.zeros(100, dtype=np.float32)).shape == (1, 80)


def _checkpoint(tmp_path: Path, payload: bytes) -> Path:
    path = tmp_path / "model.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("archive/data.pkl", payload)
    return path


def test_state_dict_with_foreign_code_is_refused(tmp_path: Path) -> None:
    class Evil:
        def __reduce__(self) -> tuple[object, tuple[str]]:
            return (print, ("ran code from the file",))

    with pytest.raises(pickle.UnpicklingError, match=r"unexpected builtins\.print"):
        load_state_dict(_checkpoint(tmp_path, pickle.dumps({"x": Evil()})))


def test_state_dict_reader_rejects_a_file_that_is_no_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "notes.pt"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hello")
    with pytest.raises(ValueError, match="not a PyTorch zip checkpoint"):
        load_state_dict(path)


def test_missing_override_says_what_to_do(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv(campplus.WEIGHTS_ENV, str(tmp_path / "absent.pt"))
    campplus.default_campplus.cache_clear()
    with pytest.raises(FileNotFoundError, match=f"unset {campplus.WEIGHTS_ENV} to use the weights shipped"):
        campplus.default_campplus()
    campplus.default_campplus.cache_clear()


def test_shipped_weights_are_the_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(campplus.WEIGHTS_ENV, raising=False)
    assert weights_path() == campplus.SHIPPED_WEIGHTS
    assert campplus.SHIPPED_WEIGHTS.parent.joinpath("NOTICE.campplus").is_file()
    assert campplus.SHIPPED_WEIGHTS.parent.joinpath("LICENSE.campplus").is_file()


# -- the model ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def model() -> CampPlus:
    return CampPlus(campplus.SHIPPED_WEIGHTS)


def test_float16_weights_embed_as_the_float32_original(model: CampPlus, realdata: Path) -> None:
    """The shipped float16 weights against the original float32 state dict's embeddings of eight
    1.6 s windows of the development phone call (recorded by make_campplus_reference.py)."""
    signal = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0]
    with np.load(EMBEDDING_REFERENCE) as data:
        starts, reference = data["starts"], data["embeddings"]
    n = int(1.6 * 16000)
    ours = model.embed(np.stack([fbank(signal[int(s * 16000) : int(s * 16000) + n]) for s in starts]))
    cosines = np.sum(ours * reference, axis=1)
    assert cosines.min() >= 0.999
    # and the windows differ from each other: the check above is not met by any two unit vectors
    assert (reference @ reference.T)[np.triu_indices(len(reference), 1)].min() < 0.9


def test_sliding_mean_removes_a_channel_offset() -> None:
    """A constant per-band offset (a channel's colouring) disappears; each frame loses the mean of the
    CMN_FRAMES centred on it, fewer at the edges."""
    rng = np.random.default_rng(1)
    speech = rng.standard_normal((500, 80)).astype(np.float32)
    offset = np.linspace(-3, 3, 80, dtype=np.float32)
    np.testing.assert_allclose(
        campplus.sliding_mean_normalise(speech + offset), campplus.sliding_mean_normalise(speech), atol=1e-4
    )
    width = campplus.CMN_FRAMES
    normalised = campplus.sliding_mean_normalise(speech)
    for i in (0, 30, 250, 499):
        window = speech[max(0, i - width // 2) : i - width // 2 + width]
        np.testing.assert_allclose(normalised[i], speech[i] - window.mean(axis=0), atol=1e-4)


def test_shared_front_end_equals_one_pass(model: CampPlus) -> None:
    """embed_windows runs the front end in chunks over the frames the windows use: each column as in
    one pass over the whole span (the chunks carry enough context either side)."""
    rng = np.random.default_rng(2)
    features = rng.standard_normal((430, 80)).astype(np.float32)
    used = np.ones(430, dtype=bool)
    used[250:270] = False  # a gap no window covers
    with threadpool_limits(limits=1, user_api="blas"):
        chunked = model._front_frames(features, 0, used)
        whole = model._front(features)
    np.testing.assert_allclose(chunked[:, used], whole[:, used], atol=2e-3, rtol=1e-3)
    assert not chunked[:, ~used].any()


@pytest.mark.campplus
def test_shared_windows_separate_the_phone_call(model: CampPlus, realdata: Path) -> None:
    """embed_windows (the diarizer's path) on pyannote's phone call: 1.6 s windows every 0.75 s where
    the RTTM has one person alone; each window's nearest other window is mostly the same person."""
    folder = realdata / "pyannote_sample"
    signal = decode_audio(folder / "sample.wav").samples[0]
    spans: dict[str, list[tuple[float, float]]] = {}
    for line in (folder / "sample.rttm").read_text().splitlines():
        parts = line.split()
        start, length = float(parts[3]), float(parts[4])
        spans.setdefault(parts[7], []).append((start, start + length))
    features = fbank(signal)
    windows, labels = [], []
    for speaker, ss in _alone(spans).items():
        for a, b in ss:
            for t in np.arange(a, b - 1.6, 0.75):
                windows.append(np.arange(round(t * 100), round(t * 100) + 160))
                labels.append(speaker)
    vectors = model.embed_windows(features, windows)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argmax(similarity, axis=1)
    assert len(set(labels)) == 2
    assert np.mean([labels[i] == labels[j] for i, j in enumerate(nearest)]) > 0.85


def _alone(spans: dict[str, list[tuple[float, float]]]) -> dict[str, list[tuple[float, float]]]:
    """Each speaker's stretches with nobody else speaking (10 ms grid)."""
    end = max(b for ss in spans.values() for _, b in ss)
    names = list(spans)
    active = np.zeros((round(end * 100) + 1, len(names)), dtype=bool)
    for k, name in enumerate(names):
        for a, b in spans[name]:
            active[round(a * 100) : round(b * 100), k] = True
    out: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for k, name in enumerate(names):
        mine = active[:, k] & (active.sum(axis=1) == 1)
        edges = np.flatnonzero(np.diff(np.concatenate([[0], mine.astype(np.int8), [0]])))
        out[name] = [(a / 100, b / 100) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    return out


def _windows(signal: np.ndarray, spans: list[tuple[float, float]], seconds: float) -> list[np.ndarray]:
    n = int(seconds * 16000)
    out = []
    for start, end in spans:
        t = start + 0.1
        while t + seconds <= end - 0.1:
            out.append(signal[int(t * 16000) : int(t * 16000) + n])
            t += seconds
    return out


@pytest.mark.campplus
@pytest.mark.parametrize("call", ["call_02_demo", "call_04_support"])
def test_same_speaker_closer_than_the_other_party(model: CampPlus, call: str) -> None:
    """Each party's 3 s windows (cut where the script has that party alone, from the mono mix) lie
    closer to each other than to the other party's."""
    truth = json.loads((SAMPLES / f"{call}.truth.json").read_text())
    signal = decode_audio(SAMPLES / f"{call}.mono.ogg").samples[0]
    turns = {
        role: [(t["start"], t["end"]) for t in truth["turns"] if t["role"] == role]
        for role in ("rep", "customer")
    }
    rep = model.embed_audio(_windows(signal, turns["rep"], 3.0)[:12])
    customer = model.embed_audio(_windows(signal, turns["customer"], 3.0)[:12])
    same = np.concatenate(
        [
            (rep @ rep.T)[np.triu_indices(len(rep), 1)],
            (customer @ customer.T)[np.triu_indices(len(customer), 1)],
        ]
    )
    different = (rep @ customer.T).ravel()
    assert np.median(same) > np.median(different) + 0.15
    assert np.mean(same > np.percentile(different, 95)) > 0.9


@pytest.mark.campplus
def test_meeting_voices_separate(model: CampPlus, realdata: Path) -> None:
    """AMI "seriously" (60 s, 4 people): 1.6 s windows where the RTTM has one person alone; every
    window's nearest other window belongs to the same person in most cases."""
    folder = realdata / "pyannote_ami_seriously"
    signal = decode_audio(folder / "mixture.wav").samples[0]
    spans: dict[str, list[tuple[float, float]]] = {}
    for line in (folder / "mixture.rttm").read_text().splitlines():
        parts = line.split()
        start, length = float(parts[3]), float(parts[4])
        spans.setdefault(parts[7], []).append((start, start + length))
    alone = _alone(spans)
    windows, labels = [], []
    for speaker, ss in alone.items():
        found = _windows(signal, ss, 1.6)
        windows += found
        labels += [speaker] * len(found)
    vectors = model.embed_audio(windows)
    similarity = vectors @ vectors.T
    np.fill_diagonal(similarity, -np.inf)
    nearest = np.argmax(similarity, axis=1)
    agree = np.mean([labels[i] == labels[j] for i, j in enumerate(nearest)])
    assert len(set(labels)) >= 3
    assert agree > 0.85


def test_unknown_embedding_setting_is_named(monkeypatch: pytest.MonkeyPatch, realdata: Path) -> None:
    from hearkit.engine.pipeline.diarize import EMBEDDING_ENV, diarize

    signal = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0][: 10 * 16000]
    monkeypatch.setenv(EMBEDDING_ENV, "wespeaker")
    with pytest.raises(ValueError, match="use resemblyzer, campplus or both"):
        diarize(signal, [])


@pytest.mark.parametrize(
    ("setting", "kind", "width", "hop"),
    [
        (None, "resemblyzer", 256, 0.75),
        ("campplus", "campplus", 193, 1.5),
        ("resemblyzer", "resemblyzer", 256, 0.75),
    ],
)
def test_the_quality_block_names_the_voice_embedding_that_ran(
    monkeypatch: pytest.MonkeyPatch, realdata: Path, setting: str | None, kind: str, width: int, hop: float
) -> None:
    """Resemblyzer runs by default (256 dimensions, a window every 0.75 s);
    HEARKIT_SPEAKER_EMBEDDING=campplus selects CAM++ (192 and the calibration component, every 1.5 s);
    the quality block says which ran, and its flags use that embedding's bars."""
    from hearkit.engine.pipeline.diarize import EMBEDDING_ENV, SpeakerConstraints, diarize
    from hearkit.engine.pipeline.quality import BARS, mono_quality
    from hearkit.engine.pipeline.vad import energy_activity, speech_regions
    from hearkit.schema import Result, Segment

    if setting is None:
        monkeypatch.delenv(EMBEDDING_ENV, raising=False)
    else:
        monkeypatch.setenv(EMBEDDING_ENV, setting)
    signal = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0][: 30 * 16000]
    regions = speech_regions(signal)
    found = diarize(signal, regions, SpeakerConstraints(expected=2))
    assert found is not None
    assert found.embedding == kind and found.embeddings.shape[1] == width
    steps = np.diff([a for a, _ in found.window_times])
    assert np.median(steps[steps > 0]) == pytest.approx(hop, abs=0.011)
    segments = [Segment(id=i, start=t.start, end=t.end, speaker=t.speaker) for i, t in enumerate(found.turns)]
    result = Result(segments=segments, speakers=len({t.speaker for t in found.turns}))
    quality = mono_quality(result, found, SpeakerConstraints(expected=2), energy_activity(signal), regions)
    assert quality.speaker_embedding == kind
    assert quality.to_api()["speaker_embedding"] == kind
    margin = quality.speaker_count_margin
    uncertain = "speaker_count_uncertain" in {f.code for f in quality.flags}
    held = quality.speaker_count_constrained_by is not None
    assert margin is not None and uncertain == (margin < BARS[kind].margin and not held)


def test_campplus_keeps_the_turn_change_where_the_segmentation_puts_it(
    monkeypatch: pytest.MonkeyPatch, realdata: Path
) -> None:
    """pyannote's phone call under CAM++ (a voice window every 1.5 s): its RTTM gives speaker90 10.57-14.70 s
    ("This is Diane in New Jersey") and speaker91 from 14.49 s. The one voice window over 13.56-15.16 s holds
    both voices, mostly the second; when its similarity counted for the frames before the change, Diane's
    last 0.6 s (13.67-14.29) went to Sheila. Those frames must stay with the speaker of 11.2-13.5 s."""
    from hearkit.engine.pipeline.diarize import EMBEDDING_ENV, SpeakerConstraints, diarize

    monkeypatch.setenv(EMBEDDING_ENV, "campplus")
    signal = decode_audio(realdata / "pyannote_sample" / "sample.wav").samples[0]
    found = diarize(signal, [], SpeakerConstraints(expected=2))
    assert found is not None and found.embedding == "campplus"

    def speakers_at(t: float) -> set[str]:
        return {turn.speaker for turn in found.turns if turn.start <= t < turn.end}

    diane = {frozenset(speakers_at(t)) for t in np.arange(11.2, 14.25, 0.05)}
    sheila = {frozenset(speakers_at(t)) for t in np.arange(14.8, 17.5, 0.05)}
    assert len(diane) == 1 and len(sheila) == 1
    (diane_set,), (sheila_set,) = diane, sheila
    assert len(diane_set) == 1 and len(sheila_set) == 1 and diane_set != sheila_set
