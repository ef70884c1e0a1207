"""Speaker count with a margin, the job's speaker options, and the per-call quality block.

The count rule is checked on hand-made score tables (what each count's silhouette was), the
options through the request model, and the quality block on real recordings read in place from
../shared/realdata (development data only) with ASR left out: the diarizer runs on the file's
speech regions and words are not needed for the flags checked here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pydantic
import pytest

from hearkit.engine.pipeline.decode import decode_audio
from hearkit.engine.pipeline.diarize import (
    MIN_SILHOUETTE,
    STRONG_MARGIN,
    SpeakerConstraints,
    choose_count,
    diarize,
)
from hearkit.engine.pipeline.quality import (
    MINOR_SHARE,
    mono_quality,
    segment_confidence,
    speaker_shares,
    trust_of,
    unattributed_share,
)
from hearkit.engine.pipeline.transcriber import WhisperTranscriber
from hearkit.engine.pipeline.vad import energy_activity, speech_regions
from hearkit.schema import JobCreateParams, QualityFlag, Result, Segment


def test_count_is_the_best_score_and_its_margin_is_reported() -> None:
    count = choose_count({2: 0.40, 3: 0.31})
    assert (count.chosen, count.audio_count, count.constrained_by) == (2, 2, None)
    assert count.margin == pytest.approx(0.09)


def test_one_speaker_when_no_split_clears_the_bar() -> None:
    count = choose_count({2: MIN_SILHOUETTE - 0.02})
    assert count.chosen == 1
    assert count.margin == pytest.approx(0.02)


def test_too_little_speech_to_split_has_no_margin() -> None:
    count = choose_count({})
    assert (count.chosen, count.margin) == (1, None)


def test_expected_count_holds_unless_the_audio_strongly_says_otherwise() -> None:
    two_party = SpeakerConstraints(expected=2)
    # A phantom third voice scoring a little better is held at 2, and the result says so.
    held = choose_count({2: 0.30, 3: 0.30 + STRONG_MARGIN / 2}, two_party)
    assert (held.chosen, held.audio_count, held.constrained_by) == (2, 3, "speakers_expected")
    assert held.margin is not None and held.margin < 0
    # Much stronger evidence of three voices wins over the expectation.
    strong = choose_count({2: 0.20, 3: 0.20 + STRONG_MARGIN + 0.05}, two_party)
    assert strong.chosen == 3


def test_min_and_max_speakers_are_hard_bounds() -> None:
    scores = {2: 0.2, 3: 0.5, 4: 0.3}
    assert choose_count(scores, SpeakerConstraints(maximum=2)).chosen == 2
    assert choose_count(scores, SpeakerConstraints(minimum=4)).chosen == 4
    bounded = choose_count(scores, SpeakerConstraints(maximum=2))
    assert bounded.constrained_by == "max_speakers"
    # A bound the clustering cannot reach: the nearest count it produced.
    assert choose_count({2: 0.3}, SpeakerConstraints(minimum=3)).chosen == 2


def test_speaker_options_are_validated_with_a_clear_message() -> None:
    params = JobCreateParams(diarize=True, speakers_expected=2, min_speakers=1, max_speakers=3)
    assert params.to_api()["speakers_expected"] == 2
    with pytest.raises(pydantic.ValidationError, match=r"min_speakers \(3\) is above max_speakers \(2\)"):
        JobCreateParams(min_speakers=3, max_speakers=2)
    with pytest.raises(pydantic.ValidationError, match="greater than or equal to 1"):
        JobCreateParams(speakers_expected=0)
    with pytest.raises(pydantic.ValidationError, match="less than or equal to 6"):
        JobCreateParams(max_speakers=40)


def test_a_hosted_result_without_quality_still_parses() -> None:
    result = Result.model_validate(
        {"text": "hi", "segments": [{"id": 0, "start": 0, "end": 1, "text": "hi"}]}
    )
    assert result.quality is None
    assert "quality" not in result.to_api()


def test_segment_confidence_is_the_geometric_mean_of_word_probabilities() -> None:
    assert segment_confidence([0.9, 0.4]) == pytest.approx(0.6, abs=1e-3)
    assert segment_confidence([]) is None


def test_trust_follows_the_worst_flag() -> None:
    info = QualityFlag(code="a", meaning="x", severity="info")
    warning = QualityFlag(code="b", meaning="x", severity="warning")
    unreliable = QualityFlag(code="c", meaning="x", severity="unreliable")
    assert trust_of([]) == "high"
    assert trust_of([info]) == "high"
    assert trust_of([info, warning]) == "medium"
    assert trust_of([warning, unreliable]) == "low"


def test_shares_and_unattributed_speech() -> None:
    segments = [
        Segment(id=0, start=0.0, end=3.0, speaker="a"),
        Segment(id=1, start=2.0, end=4.0, speaker="a"),  # overlaps its own: counted once
        Segment(id=2, start=4.0, end=5.0, speaker="b"),
    ]
    assert speaker_shares(segments) == {"a": 0.8, "b": 0.2}
    active = np.ones(400, dtype=bool)  # 8 s of voice at 20 ms frames
    regions = [(0, 8 * 16_000)]
    # 5 of the 8 voiced seconds are in segments: 3/8 are nobody's.
    assert unattributed_share(active, regions, segments) == pytest.approx(3 / 8)
    assert unattributed_share(np.zeros(400, dtype=bool), regions, segments) is None


def _quality_of(path: Path, constraints: SpeakerConstraints) -> tuple[Result, object]:
    """Diarize a real file without ASR: segments are the diarizer's turns (words not needed)."""
    audio = decode_audio(path)
    signal = audio.samples[0]
    regions = speech_regions(signal)
    found = diarize(signal, regions, constraints)
    assert found is not None
    segments = [Segment(id=i, start=t.start, end=t.end, speaker=t.speaker) for i, t in enumerate(found.turns)]
    result = Result(segments=segments, speakers=len({t.speaker for t in found.turns}))
    return result, mono_quality(result, found, constraints, energy_activity(signal), regions)


def test_a_clean_two_party_phone_call_is_trusted(realdata: Path) -> None:
    """pyannote's sample (a real 2-party phone call, RTTM: 2 speakers): 2 found, no flag."""
    result, quality = _quality_of(realdata / "pyannote_sample" / "sample.wav", SpeakerConstraints(expected=2))
    assert result.speakers == 2
    assert quality.trust == "high", quality.flags  # type: ignore[attr-defined]
    assert quality.speaker_count_margin is not None and quality.speaker_count_margin > 0  # type: ignore[attr-defined]
    assert quality.cluster_separation is not None  # type: ignore[attr-defined]
    assert quality.channel_correlation is None  # not measured on mono  # type: ignore[attr-defined]


def test_a_meeting_the_diarizer_gets_wrong_is_flagged(realdata: Path) -> None:
    """AMI dev00 (RTTM: 2 speakers) comes out wrong, and the block must say so. Resemblyzer (the
    default) splits it into 3 voices; CAM++ (HEARKIT_SPEAKER_EMBEDDING=campplus) finds the 2, but
    gives them talk shares more than 5 points off the RTTM's: wrong as the benchmark counts it
    (bench_diarization: count off, or a share > 5 pp off)."""
    result, quality = _quality_of(realdata / "pyannote_ami_debug" / "dev00.wav", SpeakerConstraints())
    spans: dict[str, list[tuple[float, float]]] = {}
    for line in (realdata / "pyannote_ami_debug" / "debug.development.rttm").read_text().splitlines():
        field = line.split()
        if field[1] == "dev00":
            start = float(field[3])
            spans.setdefault(field[7], []).append((start, start + float(field[4])))
    truth = speaker_shares(
        [
            Segment(id=i, start=a, end=b, speaker=k)
            for i, (k, (a, b)) in enumerate((k, span) for k, group in spans.items() for span in group)
        ]
    )
    found = speaker_shares([s for s in result.segments if s.speaker is not None])
    off = (
        len(found) != len(truth)
        or max(abs(a - b) for a, b in zip(sorted(found.values()), sorted(truth.values()), strict=True)) > 0.05
    )
    assert off  # the case this test is about
    codes = {f.code for f in quality.flags}  # type: ignore[attr-defined]
    assert codes & {"speaker_count_uncertain", "phantom_speaker", "weak_separation"}
    assert quality.trust != "high"  # type: ignore[attr-defined]


def test_a_phantom_speaker_share_is_named(realdata: Path) -> None:
    result = Result(
        segments=[
            Segment(id=0, start=0, end=10, speaker="speaker_0"),
            Segment(id=1, start=10, end=19.6, speaker="speaker_1"),
            Segment(id=2, start=19.6, end=20, speaker="speaker_2"),
        ],
        speakers=3,
    )
    from hearkit.engine.pipeline.quality import share_flags

    flags = share_flags(speaker_shares(result.segments), None)
    assert [f.code for f in flags] == ["phantom_speaker"]
    assert "speaker_2 2%" in flags[0].meaning
    assert MINOR_SHARE > 0.02


@pytest.mark.asr
def test_stereo_file_that_is_really_mono_is_flagged(transcriber: WhisperTranscriber, realdata: Path) -> None:
    """JFK (2 practically identical channels) sent with channel=true: diarized as the one voice it
    is, and an info flag saying the channels were one signal (U3 finding 19's other half: a
    really-mono channel job was one speaker whatever the audio held)."""
    audio = decode_audio(realdata / "whisper_jfk" / "jfk.flac")
    result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
    assert result.speakers == 1
    assert result.quality is not None
    assert "stereo_really_mono" in [f.code for f in result.quality.flags]
    assert result.quality.method != "channels"
    assert result.quality.channel_correlation is not None and result.quality.channel_correlation > 0.98
    assert result.quality.channel_similarity is not None and result.quality.channel_similarity > 0.98
    # ASR confidence per word and per segment, from Whisper's probabilities.
    assert all(w.confidence is not None and 0 < w.confidence <= 1 for w in result.words)
    assert all(s.confidence is not None for s in result.segments if s.text)
    assert result.quality.word_confidence is not None and result.quality.word_confidence > 0.7


@pytest.mark.asr
def test_roles_that_look_swapped_are_flagged(transcriber: WhisperTranscriber) -> None:
    """Sample call 1 (script: the rep on channel 0 opens and asks the questions), first 60 s,
    as recorded and with its channels swapped: only the swapped file carries the flag."""
    from hearkit.engine.pipeline.decode import DecodedAudio

    samples = decode_audio(
        Path(__file__).resolve().parents[2] / "sample_data" / "call_01_discovery.stereo.ogg"
    ).samples
    head = samples[:, : 60 * 16_000]
    codes = []
    for order in ((0, 1), (1, 0)):
        audio = DecodedAudio(
            samples=np.ascontiguousarray(head[list(order)]), source_rate=16_000, source_channels=2
        )
        result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
        assert result.quality is not None and result.quality.method == "channels"
        codes.append({f.code for f in result.quality.flags})
    assert "roles_maybe_swapped" not in codes[0]
    assert "roles_maybe_swapped" in codes[1]


def test_mono_mix_talk_shares_agree_with_the_stereo_truth() -> None:
    """The mono mix of sample call 2 (first 90 s), diarized with the two-party default, against the
    talk shares of its stereo channels (the generating script's turns, one party per channel)."""
    import json

    samples = Path(__file__).resolve().parents[2] / "sample_data"
    truth = json.loads((samples / "call_02_demo.truth.json").read_text())
    limit = 90.0
    true_time: dict[str, float] = {}
    for turn in truth["turns"]:
        if turn["start"] < limit:
            key = f"channel {turn['channel']}"
            true_time[key] = true_time.get(key, 0.0) + min(turn["end"], limit) - turn["start"]
    audio = decode_audio(samples / "call_02_demo.mono.ogg")
    signal = audio.samples[0][: int(limit * 16_000)]
    regions = speech_regions(signal)
    found = diarize(signal, regions, SpeakerConstraints(expected=2))
    assert found is not None and found.count.chosen == 2
    segments = [Segment(id=i, start=t.start, end=t.end, speaker=t.speaker) for i, t in enumerate(found.turns)]
    shares = sorted(speaker_shares(segments).values())
    whole = sum(true_time.values())
    expected = sorted(v / whole for v in true_time.values())
    assert shares == pytest.approx(expected, abs=0.05)  # within 5 percentage points


@pytest.mark.asr
def test_real_phone_call_end_to_end_two_speakers_and_shares(
    transcriber: WhisperTranscriber, realdata: Path
) -> None:
    """pyannote's real 2-party phone call through the whole mono path as ``hearkit analyze --mono``
    sends it: 2 speakers, talk shares within 5 pp of the RTTM's, a trusted quality block."""
    rttm = [line.split() for line in (realdata / "pyannote_sample" / "sample.rttm").read_text().splitlines()]
    spans = [
        Segment(id=i, start=float(p[3]), end=float(p[3]) + float(p[4]), speaker=p[7])
        for i, p in enumerate(rttm)
    ]
    audio = decode_audio(realdata / "pyannote_sample" / "sample.wav")
    result = transcriber.transcribe_audio(audio, JobCreateParams(diarize=True, speakers_expected=2))
    assert result.speakers == 2
    assert result.quality is not None and result.quality.trust == "high", result.quality
    found = sorted(speaker_shares(result.segments).values())
    assert found == pytest.approx(sorted(speaker_shares(spans).values()), abs=0.05)
    assert all(s.confidence is not None for s in result.segments if s.text)


def test_enough_speech_without_a_voice_split_is_not_called_too_little_speech() -> None:
    """The trial's case: 218 s of speech, no count could be scored, and the flag said "only 218 s
    of speech found: too little". Too little speech and no comparable voices are two flags."""
    from hearkit.engine.pipeline.diarize import Diarization, SpeakerCount

    segments = [Segment(id=0, start=0.0, end=200.0, speaker="speaker_0")]
    result = Result(segments=segments, speakers=1)
    unsplit = Diarization(
        turns=[],
        count=SpeakerCount(chosen=1, audio_count=1, scores={1: 0.1}, margin=None, constrained_by=None),
        separation=None,
        embeddings=np.zeros((0, 256), dtype=np.float32),
        window_times=[],
        labels=np.zeros(0, dtype=np.int64),
        names={},
    )
    active = np.ones(10_000, dtype=bool)
    long_call = mono_quality(result, unsplit, SpeakerConstraints(), active, [(0, 200 * 16_000)])
    codes = [f.code for f in long_call.flags]
    assert "no_voice_split" in codes and "little_speech" not in codes
    short = mono_quality(result, unsplit, SpeakerConstraints(), active, [(0, 5 * 16_000)])
    assert "little_speech" in [f.code for f in short.flags]
    assert "no_voice_split" not in [f.code for f in short.flags]


@pytest.mark.asr
@pytest.mark.parametrize(
    ("asked", "code"), [(3, None), (5, "fewer_voices_than_asked"), (2, "more_voices_than_asked")]
)
def test_a_count_the_audio_does_not_give_is_said(
    realdata: Path, transcriber: WhisperTranscriber, asked: int, code: str | None
) -> None:
    """U7 finding 1: a 3-person meeting sent with speakers_expected 3 came back as 2 speakers at trust
    high, no flag. Picovoice's file holds 3 speakers (its annotation: one turn each): asked for 5, the
    shortfall is a warning; asked for 2, the audio's clear third voice is said (info); for 3, nothing."""
    folder = realdata / "picovoice_falcon"
    truth = json.loads((folder / "test_data.json").read_text())["tests"]["diarization_tests"][0]
    speakers = len({s["speaker_tag"] for s in truth["segments"]})
    assert speakers == 3
    result = transcriber.transcribe(
        folder / "test.wav", JobCreateParams(diarize=True, speakers_expected=asked)
    )
    assert result.speakers == speakers and result.quality is not None
    codes = {f.code for f in result.quality.flags} & {"fewer_voices_than_asked", "more_voices_than_asked"}
    assert codes == ({code} if code else set())
