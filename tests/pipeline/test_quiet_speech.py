"""A very quiet recording is still heard by the speech detector (Silero stops hearing speech near
-70 dBFS; hearkit.engine.pipeline.vad raises a signal under QUIET_DBFS before it listens).
Truth: the detector's own regions on the recording at its recorded level (development data)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.asr import RECOGNITION_VOICE_DBFS, audible
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.quality import BLEED_MAX, quiet_leg_flags, quiet_recording_flag
from hearkit.engine.pipeline.vad import QUIET_VOICE_DBFS, speech_regions, total_speech, voice_peak_db
from hearkit.schema import JobCreateParams


def _covered(reference: list[tuple[int, int]], found: list[tuple[int, int]]) -> float:
    """Share of the reference regions' samples that ``found`` covers."""
    n = max([end for _, end in reference + found] + [1])
    ref, hyp = np.zeros(n, dtype=bool), np.zeros(n, dtype=bool)
    for start, end in reference:
        ref[start:end] = True
    for start, end in found:
        hyp[start:end] = True
    return float((ref & hyp).sum() / max(ref.sum(), 1))


@pytest.mark.parametrize("name", ["diarizen_ami_en2002a/EN2002a_30s.wav", "pyannote_ami_debug/dev01.wav"])
def test_a_recording_40_db_down_is_heard_as_at_its_level(realdata: Path, name: str) -> None:
    """Before: 0 % of either file's speech was heard 40 dB down (-82 / -81 dBFS RMS), 2 / 47 % 30 dB down."""
    samples = decode_audio(realdata / name).samples.mean(axis=0).astype(np.float32)
    at_level = speech_regions(samples)
    assert at_level  # the premise: speech is heard at the recorded level
    for down_db in (30, 40):
        quiet = (samples * np.float32(10 ** (-down_db / 20))).astype(np.float32)
        assert _covered(at_level, speech_regions(quiet)) >= 0.95, down_db


def test_a_recording_at_an_ordinary_level_is_left_as_it_is(realdata: Path) -> None:
    """pyannote's call (-33 dBFS) and 20 dB down: the same regions as the samples scaled are given."""
    call = decode_audio(realdata / "pyannote_sample" / "sample.wav")
    samples = call.samples.mean(axis=0).astype(np.float32)
    assert _covered(speech_regions(samples), speech_regions(samples * np.float32(0.1))) >= 0.95


def test_a_very_quiet_recording_says_so_and_an_ordinary_one_does_not() -> None:
    """The info flag names the level; a recording at an ordinary level (or digital silence) has none."""
    rng = np.random.default_rng(3)
    voice = (0.1 * rng.standard_normal(16_000)).astype(np.float32)  # -20 dBFS
    assert quiet_recording_flag(voice) is None
    assert quiet_recording_flag(np.zeros(16_000, dtype=np.float32)) is None
    flag = quiet_recording_flag((voice * np.float32(1e-3)).astype(np.float32))  # -80 dBFS
    assert flag is not None and flag.code == "quiet_recording" and flag.severity == "info"
    assert "-80 dBFS" in flag.meaning


def test_a_quiet_leg_of_a_stereo_call_is_flagged_and_ordinary_legs_are_not(realdata: Path) -> None:
    """A new-user check: AWS call 40's caller leg 30 dB down read 81.5 s of talk for 101.3 s at trust high
    (talk was timed on frames above -45 dBFS). It is now timed at its own level and says the leg is quiet;
    the legs as recorded and the sample calls carry no flag."""
    legs = [
        decode_audio(realdata / "aws_lca_calls" / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0]
        for leg in ("agent", "caller")
    ]
    n = min(len(x) for x in legs)
    call = np.stack([legs[0][:n], legs[1][:n]]).astype(np.float32)
    assert quiet_leg_flags(call) == []
    quiet = np.stack([call[0], call[1] * np.float32(10 ** (-30 / 20))]).astype(np.float32)
    flags = quiet_leg_flags(quiet)
    assert [(f.code, f.severity) for f in flags] == [("quiet_leg", "info")]
    assert "channel 1 (customer)" in flags[0].meaning
    samples = Path(__file__).resolve().parents[2] / "sample_data"
    for path in sorted(samples.glob("*.stereo.ogg")):
        assert quiet_leg_flags(decode_audio(path).samples) == [], path.name


@pytest.mark.asr
def test_a_quiet_leg_keeps_its_talk_time(realdata: Path, transcriber: WhisperTranscriber) -> None:
    """AWS call 40's first 60 s, the caller's leg as recorded and 30 dB down: the caller's talk time within
    5 % (before: 20 % short, talk timed on frames above -45 dBFS only)."""
    legs = [
        decode_audio(realdata / "aws_lca_calls" / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][
            : 60 * SAMPLE_RATE
        ]
        for leg in ("agent", "caller")
    ]

    def caller_talk(caller: np.ndarray) -> float:
        audio = DecodedAudio(np.stack([legs[0], caller]).astype(np.float32), SAMPLE_RATE, 2)
        result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
        return sum(s.end - s.start for s in result.segments if s.channel == 1)

    clean = caller_talk(legs[1])
    assert clean > 10  # the premise: the caller talks in this minute
    quiet = caller_talk((legs[1] * np.float32(10 ** (-30 / 20))).astype(np.float32))
    assert quiet == pytest.approx(clean, rel=0.05)


@pytest.mark.asr
def test_a_leg_40_db_down_is_a_party_not_silence(realdata: Path, transcriber: WhisperTranscriber) -> None:
    """A new-user check: AWS call 40's caller leg 40 dB down (under 1 % of the agent's level) read "the
    customer never spoke", talk ratio 1.0. The leg holds the caller's own speech while the agent is
    silent, so the call goes the stereo way: the caller's talk in the first 60 s within 10 % of the
    leg at its own level."""
    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_40_UTC_{leg}.wav").samples[0][: 60 * SAMPLE_RATE]
        for leg in ("agent", "caller")
    )

    def talk(right: np.ndarray) -> tuple[float, list[str]]:
        audio = DecodedAudio(np.stack([agent, right]).astype(np.float32), SAMPLE_RATE, 2)
        result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
        assert result.quality is not None
        return sum(s.end - s.start for s in result.segments if s.channel == 1), [
            f.code for f in result.quality.flags
        ]

    clean, _ = talk(caller)
    quiet, codes = talk((caller * np.float32(0.01)).astype(np.float32))
    assert quiet == pytest.approx(clean, rel=0.10)
    assert "one_party_silent" not in codes and "quiet_leg" in codes


def test_whisper_hears_a_quiet_leg_raised_and_an_ordinary_one_as_recorded(realdata: Path) -> None:
    """AWS call 40's caller leg 40 dB down is what Whisper hears raised to the ordinary voice level (the
    leg as recorded peaks near -19 dBFS); the leg at its recorded level is passed through unchanged."""
    leg = decode_audio(realdata / "aws_lca_calls" / "Auto_Repairs_40_UTC_caller.wav").samples[0]
    recorded = voice_peak_db(leg)
    assert recorded is not None and recorded > QUIET_VOICE_DBFS
    assert audible(leg) is leg
    quiet = (leg * np.float32(0.01)).astype(np.float32)
    kept = quiet.copy()
    heard = audible(quiet)
    peak = voice_peak_db(heard)
    assert peak is not None and abs(peak - RECOGNITION_VOICE_DBFS) < 0.5
    assert float(np.abs(heard).max()) <= 1.0
    assert np.array_equal(quiet, kept)  # a copy is raised: the recording's own samples stay as they are


@pytest.mark.asr
def test_a_quiet_leg_keeps_the_speech_it_says_over_the_other_party(
    realdata: Path, transcriber: WhisperTranscriber
) -> None:
    """AWS call 49's minute 2-3, where the caller talks over the agent, with the caller's leg 30 dB down: the
    bleed test compared the two legs' energies, so the caller's own overtalk read as the agent's leak and
    was cut (before: 17 words for 27, talk 4.0 s for 8.5 s, flagged ``strong_bleed``). The quiet leg is
    judged at the ordinary level now: its words within 15 % of the leg as recorded, no bleed flag."""
    folder = realdata / "aws_lca_calls"
    minute = slice(120 * SAMPLE_RATE, 180 * SAMPLE_RATE)
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_49_UTC_{leg}.wav").samples[0][minute]
        for leg in ("agent", "caller")
    )

    def caller_words(right: np.ndarray) -> tuple[int, list[str]]:
        audio = DecodedAudio(np.stack([agent, right]).astype(np.float32), SAMPLE_RATE, 2)
        result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
        assert result.quality is not None
        return sum(w.channel == 1 for w in result.words), [f.code for f in result.quality.flags]

    clean, _ = caller_words(caller)
    assert clean >= 20  # the premise: the caller speaks in this minute
    quiet, codes = caller_words((caller * np.float32(10 ** (-30 / 20))).astype(np.float32))
    assert quiet == pytest.approx(clean, rel=0.15)
    assert "strong_bleed" not in codes and "quiet_leg" in codes


def _under_line_noise(leg: np.ndarray, noise_dbfs: float, seed: int) -> np.ndarray:
    """``leg`` with white line noise at ``noise_dbfs`` RMS added (seeded: the same noise every run)."""
    noise = 10 ** (noise_dbfs / 20) * np.random.default_rng(seed).standard_normal(len(leg))
    return (leg + noise).astype(np.float32)


def test_a_quiet_leg_under_line_noise_is_still_a_quiet_leg(realdata: Path) -> None:
    """U7 finding 15: a leg 30 dB down (voice peaking near -42 dBFS) under line noise at -52 dBFS (its
    loudest syllables under 15 dB over the hiss) read no voice peak, so it lost its ``quiet_leg`` flag and
    was not raised for recognition. Its voice peak is now found over the noise, near the leg's own; line
    noise alone still has none (no flag, nothing raised)."""
    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_49_UTC_{leg}.wav").samples[0] for leg in ("agent", "caller")
    )
    n = min(len(agent), len(caller))
    quiet = (caller[:n] * np.float32(10 ** (-30 / 20))).astype(np.float32)
    own = voice_peak_db(quiet)
    assert own is not None and own < QUIET_VOICE_DBFS  # the premise: a quiet leg, flagged without noise
    call = np.stack([_under_line_noise(agent[:n], -52, 1), _under_line_noise(quiet, -52, 2)])
    peak = voice_peak_db(call[1])
    assert peak is not None and abs(peak - own) < 6.0
    flags = quiet_leg_flags(call)
    assert [(f.code, f.severity) for f in flags] == [("quiet_leg", "info")]
    assert "channel 1 (customer)" in flags[0].meaning
    assert "under 15 dB over the line noise" in flags[0].meaning  # its talk may read short: said
    assert "line noise" not in quiet_leg_flags(np.stack([agent[:n], quiet]))[0].meaning
    heard = voice_peak_db(audible(call[1]))
    assert heard is not None and abs(heard - RECOGNITION_VOICE_DBFS) < 1.0
    noise = _under_line_noise(np.zeros(n, dtype=np.float32), -52, 3)
    assert voice_peak_db(noise) is None and audible(noise) is noise
    assert quiet_leg_flags(np.stack([call[0], noise])) == []


def test_a_quiet_leg_under_line_noise_keeps_its_speech(
    realdata: Path, transcriber: WhisperTranscriber
) -> None:
    """AWS call 49 with line noise at -52 dBFS on both legs and the caller's leg 30 dB down: the leg was not
    raised (no voice peak), so the bleed test read the caller's speech over the agent as the agent's leak
    (before: 77.1 s of the caller's speech kept for 115.2 s on the leg as recorded, bleed 0.22, which the
    call flags ``strong_bleed``; 106 caller words for 224, no ``quiet_leg``). Now raised and judged as an
    ordinary leg: within 10 % of the leg as recorded, bleed under the flag's bar, ``quiet_leg``."""
    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_49_UTC_{leg}.wav").samples[0] for leg in ("agent", "caller")
    )
    n = min(len(agent), len(caller))
    agent, caller = agent[:n], caller[:n]

    def stereo_call(left: np.ndarray, right: np.ndarray) -> tuple[float, float, list[str]]:
        audio = DecodedAudio(np.stack([left, right]).astype(np.float32), SAMPLE_RATE, 2)
        call = transcriber._stereo_call(audio, None, numerals=False)
        return total_speech(call.regions[1]), call.bleed, [f.code for f in call.quiet_flags]

    clean, _, _ = stereo_call(agent, caller)
    quiet = (caller * np.float32(10 ** (-30 / 20))).astype(np.float32)
    kept, bleed, codes = stereo_call(_under_line_noise(agent, -52, 1), _under_line_noise(quiet, -52, 2))
    assert kept == pytest.approx(clean, rel=0.10)
    assert bleed <= BLEED_MAX and codes == ["quiet_leg"]


def test_a_stereo_call_measures_each_leg_once(
    realdata: Path, transcriber: WhisperTranscriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``duplicates``: a quiet leg's frame levels were measured three times (its flag, its activity, its
    raising: 6 passes over a call's samples, 4 on an ordinary call). Once a leg now, with the same flag,
    activity and raised samples as each measured on its own. The real function, counted."""
    from hearkit.engine.pipeline import vad

    folder = realdata / "aws_lca_calls"
    agent, caller = (
        decode_audio(folder / f"Auto_Repairs_49_UTC_{leg}.wav").samples[0][: 60 * SAMPLE_RATE]
        for leg in ("agent", "caller")
    )
    measured: list[int] = []
    frame_levels = vad.frame_levels

    def counted(samples: np.ndarray) -> np.ndarray:
        measured.append(len(samples))
        return frame_levels(samples)

    for right in (caller, (caller * np.float32(10 ** (-30 / 20))).astype(np.float32)):
        samples = np.stack([agent, right]).astype(np.float32)
        flags = quiet_leg_flags(samples)
        activity = [vad.leg_activity(x) for x in samples]
        heard = [audible(x) for x in samples]
        monkeypatch.setattr(vad, "frame_levels", counted)
        measured.clear()
        call = transcriber._stereo_call(DecodedAudio(samples, SAMPLE_RATE, 2), None, numerals=False)
        monkeypatch.setattr(vad, "frame_levels", frame_levels)
        assert measured == [len(agent), len(right)]
        assert call.quiet_flags == flags
        assert all(np.array_equal(a, b) for a, b in zip(call.activity, activity, strict=True))
        assert all(np.array_equal(a, b) for a, b in zip(call.audio.samples, heard, strict=True))
    assert [f.code for f in flags] == ["quiet_leg"]  # the premise: the second call's leg is quiet
