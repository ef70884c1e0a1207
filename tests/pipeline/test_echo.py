"""The rep's echo on the customer's channel is not the customer's talk (U2 finding 7).

A stereo phone recording often carries the rep's voice on the customer's channel 10-20 dB down
(hybrid echo on the line, a speakerphone). The calls here were recorded with each party apart, so the
echo is made in the test and the truth is outside hearkit:

* AWS contact-centre call 49 (``../shared/realdata/aws_lca_calls``, agent and caller legs; development
  data), 60-100 s, the cut the new-user trial used: channel 0 = the agent's leg, channel 1 = the
  caller's leg + g × the agent's leg (g = 0.1 / 0.2 / 0.3: -20 / -14 / -10 dB). Truth: each leg's own
  speech (``benchmarks/references.py``'s ``channel_truth``, an energy detector that is not hearkit's),
  and the mixing itself (which frames hold only the added echo);
* the sample calls (``sample_data``, made by ``scripts/make_sample_calls.py``, each party in its own
  Opus stream): their scripts' turns are the truth (the clean calls must keep their ratios and get no
  bleed flag), and call 06's planted backchannel and interruptions are real talk over the rep that must
  survive an echo.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from scipy.signal import butter, sosfilt

from benchmarks.references import channel_truth
from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.asr import RecognizedWord
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from hearkit.engine.pipeline.echo import drop_echo_words, drop_other_party, echo_frames
from hearkit.engine.pipeline.quality import BLEED_MAX, speaker_shares
from hearkit.engine.pipeline.vad import energy_activity, energy_regions, speech_regions, total_speech, union
from hearkit.record import analyze_call
from hearkit.schema import JobCreateParams, Result

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"
START, SECONDS = 60.0, 40.0
FRAME = 320  # 20 ms


def aws_legs(
    realdata: Path, call: str = "49", start: float = START
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    a, b = int(start * SAMPLE_RATE), int((start + SECONDS) * SAMPLE_RATE)
    agent, caller = (
        decode_audio(realdata / "aws_lca_calls" / f"Auto_Repairs_{call}_UTC_{leg}.wav").samples[0][a:b]
        for leg in ("agent", "caller")
    )
    return agent, caller


def with_echo(
    rep: npt.NDArray[np.float32], customer: npt.NDArray[np.float32], gain: float
) -> npt.NDArray[np.float32]:
    """Channel 0 the rep; channel 1 the customer plus the rep ``gain`` times (the echo)."""
    return np.stack([rep, customer + gain * rep]).astype(np.float32)


def frame_energy(x: npt.NDArray[np.float32]) -> npt.NDArray[np.float64]:
    n = len(x) // FRAME
    return np.mean(np.square(x[: n * FRAME].reshape(n, FRAME), dtype=np.float64), axis=1)


# --- the signal-level detection (no recognition) -------------------------------------------------


def test_echo_frames_are_where_only_the_added_echo_is(realdata: Path) -> None:
    rep, customer = aws_legs(realdata)
    echo = 0.1 * rep
    samples = with_echo(rep, customer, 0.1)
    masks = echo_frames(samples, [energy_activity(x) for x in samples])
    # From the mixing: frames where the echo is over -40 dBFS (the rep at -20 dBFS or louder) and
    # 10 dB over the customer's own signal, and frames where the customer's own signal is 10 dB over
    # the echo (the customer talking).
    echo_e, own_e = frame_energy(echo), frame_energy(customer)
    echo_only = (echo_e > 10 ** (-40 / 10)) & (echo_e > 10 * own_e)
    customer_talks = (own_e > 10 * echo_e) & (own_e > 10 ** (-45 / 10))
    assert echo_only.sum() > 100 and customer_talks.sum() > 100
    assert masks[1][echo_only].mean() > 0.8
    assert masks[1][customer_talks].mean() < 0.02
    assert masks[0].mean() < 0.01  # the rep's own channel holds no echo of the customer


def test_a_late_line_echo_is_found_too(realdata: Path) -> None:
    # a line's echo through a mobile or VoIP leg: band-passed to 300-3400 Hz and 160 ms late
    rep, customer = aws_legs(realdata)
    sos = butter(4, [300, 3400], btype="bandpass", fs=SAMPLE_RATE, output="sos")
    late = np.concatenate([np.zeros(int(0.16 * SAMPLE_RATE), np.float32), rep])[: len(rep)]
    echo = (0.2 * sosfilt(sos, late)).astype(np.float32)
    samples = np.stack([rep, customer + echo]).astype(np.float32)
    masks = echo_frames(samples, [energy_activity(x) for x in samples])
    echo_e, own_e = frame_energy(echo), frame_energy(customer)
    echo_only = (echo_e > 10 ** (-40 / 10)) & (echo_e > 10 * own_e)
    customer_talks = (own_e > 10 * echo_e) & (own_e > 10 ** (-45 / 10))
    assert masks[1][echo_only].mean() > 0.8  # measured 0.99
    assert masks[1][customer_talks].mean() < 0.02


def test_crosstalk_both_ways_is_found_on_both_channels(realdata: Path) -> None:
    # U5 finding 7: each leg at -12 dB in the other channel, no delay (crosstalk in a recorder).
    # Fitted on every frame, the two directions mixed (a path of 0.47 for a true 0.25 on the whole
    # call) and a quarter of the rep's solo frames on this cut were found as echo on the customer's.
    rep, customer = aws_legs(realdata, "40")
    samples = np.stack([rep + 0.25 * customer, customer + 0.25 * rep]).astype(np.float32)
    masks = echo_frames(samples, [energy_activity(x) for x in samples])
    rep_e, customer_e = frame_energy(rep), frame_energy(customer)
    loud = 10 ** (-40 / 10)
    rep_alone = (rep_e > loud) & (rep_e > 100 * customer_e)
    customer_alone = (customer_e > loud) & (customer_e > 100 * rep_e)
    assert rep_alone.sum() > 100 and customer_alone.sum() > 100
    assert masks[1][rep_alone].mean() > 0.8  # the rep's crosstalk on the customer's channel
    assert masks[0][customer_alone].mean() > 0.8  # and the customer's on the rep's
    assert masks[0][rep_alone].mean() < 0.02 and masks[1][customer_alone].mean() < 0.02


def test_no_echo_frames_on_the_clean_legs(realdata: Path) -> None:
    rep, customer = aws_legs(realdata)
    samples = with_echo(rep, customer, 0.0)
    masks = echo_frames(samples, [energy_activity(x) for x in samples])
    assert masks[0].mean() < 0.01 and masks[1].mean() < 0.01


def raw_regions(samples: npt.NDArray[np.float32]) -> list[list[tuple[int, int]]]:
    return [union(speech_regions(x), energy_regions(x, active=energy_activity(x))) for x in samples]


def test_the_echo_is_subtracted_from_the_customers_channel_and_a_clean_call_left_as_it_was(
    realdata: Path,
) -> None:
    rep, customer = aws_legs(realdata)
    samples = with_echo(rep, customer, 0.2)
    activity = [energy_activity(x) for x in samples]
    drop_other_party(samples, raw_regions(samples), activity)
    # what is left of the echo (channel 1 minus the customer's own leg) is >= 12 dB under the echo
    # added (measured: 17 dB; the analysis's band edge near 4 kHz is not modelled)
    left_over = float(np.mean(np.square(samples[1] - customer, dtype=np.float64)))
    added = float(np.mean(np.square(0.2 * rep, dtype=np.float64)))
    assert 10 * np.log10(left_over / added) < -12
    assert np.array_equal(samples[0], rep)  # the rep's channel held no echo: untouched

    clean = with_echo(rep, customer, 0.0)
    before = clean.copy()
    regions = raw_regions(clean)
    kept = drop_other_party(clean, regions, [energy_activity(x) for x in clean])
    assert np.array_equal(clean, before)
    assert kept == regions  # no region of the clean legs is dropped


def bleed_share(samples: npt.NDArray[np.float32]) -> float:
    """Seconds of a channel's speech regions dropped / seconds of its regions, the larger channel's
    (``Quality.bleed_share``'s definition)."""
    raw = raw_regions(samples)
    kept = drop_other_party(samples, raw, [energy_activity(x) for x in samples])
    return max(1 - total_speech(k) / total_speech(r) for k, r in zip(kept, raw, strict=True) if r)


def test_an_echo_on_a_call_where_the_rep_talks_little_still_raises_the_flag(realdata: Path) -> None:
    # AWS call 40's first 40 s: the rep holds ~20 % of the talk (the legs' truth), so the echo is ~20 %
    # of the customer's channel
    rep, customer = aws_legs(realdata, "40", 0.0)
    seconds = [sum(b - a for a, b, _ in channel_truth(leg, "leg")) for leg in (rep, customer)]
    assert seconds[0] / sum(seconds) < 0.25
    assert bleed_share(with_echo(rep, customer, 0.1)) > BLEED_MAX
    assert bleed_share(with_echo(rep, customer, 0.0)) < BLEED_MAX


def test_a_word_repeated_quietly_at_the_same_time_is_dropped_and_a_reply_over_it_kept() -> None:
    rng = np.random.default_rng(7)
    loud = rng.normal(0, 0.1, 3 * SAMPLE_RATE).astype(np.float32)
    samples = np.stack([loud, 0.05 * loud]).astype(np.float32)  # channel 1: channel 0 at -26 dB
    rep_word = RecognizedWord("Okay.", 1.0, 1.4, 0.9, 0)
    echo_word = RecognizedWord("okay", 1.1, 1.5, 0.6, 1)
    reply = RecognizedWord("yes", 1.1, 1.3, 0.9, 1)  # another word at the same time: a reply
    later = RecognizedWord("okay", 2.2, 2.5, 0.9, 1)  # the same word, said later: not a repeat
    kept = drop_echo_words([rep_word, echo_word, reply, later], samples)
    assert kept == [rep_word, reply, later]
    # the same word as loud on both channels (both said it at once) stays
    both = np.stack([loud, loud]).astype(np.float32)
    assert drop_echo_words([rep_word, echo_word], both) == [rep_word, echo_word]


# --- real recognition ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    result: Result
    rep_share: float
    metrics: dict[str, Any]


def transcribe(transcriber: WhisperTranscriber, samples: npt.NDArray[np.float32]) -> Outcome:
    result = transcriber.transcribe_audio(
        DecodedAudio(samples, SAMPLE_RATE, 2), JobCreateParams(channel=True)
    )
    metrics = analyze_call(result, summary=False).metrics
    return Outcome(result, speaker_shares(result.segments)["speaker_0"], dict(metrics))


@pytest.fixture(scope="module")
def aws49(realdata: Path) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]]:
    return aws_legs(realdata)


@pytest.fixture(scope="module")
def aws49_clean(
    aws49: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]], transcriber: WhisperTranscriber
) -> Outcome:
    return transcribe(transcriber, with_echo(*aws49, 0.0))


@pytest.mark.asr
@pytest.mark.parametrize("gain", [0.1, 0.2, 0.3], ids=["-20dB", "-14dB", "-10dB"])
def test_the_reps_echo_is_not_counted_as_the_customers_talk(
    gain: float,
    aws49: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    aws49_clean: Outcome,
    transcriber: WhisperTranscriber,
) -> None:
    rep, customer = aws49
    seconds = [sum(b - a for a, b, _ in channel_truth(leg, "leg")) for leg in (rep, customer)]
    truth = seconds[0] / sum(seconds)
    echoed = transcribe(transcriber, with_echo(rep, customer, gain))
    clean = aws49_clean
    # Before: rep share 0.37 at every level (truth 0.49, the clean cut 0.55), overtalk 17 s, 3 invented
    # customer interruptions, no flag, trust high.
    assert echoed.rep_share == pytest.approx(clean.rep_share, abs=0.04)
    assert echoed.rep_share == pytest.approx(truth, abs=0.10)
    assert echoed.metrics["talk_s_customer"] <= 1.1 * clean.metrics["talk_s_customer"] + 0.5
    assert echoed.metrics["overtalk_s"] <= clean.metrics["overtalk_s"] + 1.0
    assert echoed.metrics["interruptions_customer"] <= clean.metrics["interruptions_customer"]
    quality = echoed.result.quality
    assert quality is not None
    assert "strong_bleed" in [f.code for f in quality.flags]
    assert quality.trust != "high"
    assert quality.bleed_share is not None and quality.bleed_share > 0.2


@pytest.mark.asr
def test_crosstalk_both_ways_invents_no_overtalk_nor_words(
    aws49: tuple[npt.NDArray[np.float32], npt.NDArray[np.float32]],
    aws49_clean: Outcome,
    transcriber: WhisperTranscriber,
) -> None:
    # U5 finding 7, on the whole of AWS call 40 at -12 dB both ways: overtalk 13.4 s in 31
    # stretches, 4 + 2 interruptions, patience 0.64 s (clean 1.10), customer words +30, flagged
    # only as unattributed speech. Here call 49's cut against the same cut without crosstalk;
    # before the fix (bench_echo, 15:47 UTC): overtalk 11.7 s against 2.7, rep share 0.563 against
    # the legs' 0.485, no bleed flag.
    rep, customer = aws49
    crossed = transcribe(
        transcriber, np.stack([rep + 0.25 * customer, customer + 0.25 * rep]).astype(np.float32)
    )
    clean = aws49_clean.metrics
    assert crossed.metrics["overtalk_s"] <= clean["overtalk_s"] + 1.5, (crossed.metrics, clean)
    interruptions = [m["interruptions_rep"] + m["interruptions_customer"] for m in (crossed.metrics, clean)]
    assert interruptions[0] <= interruptions[1] + 1, (crossed.metrics, clean)
    for key in ("words_rep", "words_customer"):
        assert abs(crossed.metrics[key] - clean[key]) <= max(5, 0.1 * clean[key]), (
            key,
            crossed.metrics,
            clean,
        )
    seconds = [sum(b - a for a, b, _ in channel_truth(leg, "leg")) for leg in (rep, customer)]
    assert abs(crossed.rep_share - seconds[0] / sum(seconds)) <= 0.03
    assert crossed.result.quality is not None
    assert "strong_bleed" in [f.code for f in crossed.result.quality.flags]


def script_share(call: str, start: float, end: float) -> tuple[float, list[tuple[float, float]]]:
    """The script's rep share of talk inside ``[start, end]`` (union of turns, clipped), and the
    customer's turns there (shifted to the cut's clock)."""
    truth = json.loads((SAMPLES / f"{call}.truth.json").read_text())
    spans: dict[str, list[tuple[float, float]]] = {"rep": [], "customer": []}
    for turn in truth["turns"]:
        a, b = max(turn["start"], start), min(turn["end"], end)
        if b - a >= 0.3:  # not a sliver cut off at an end
            spans[turn["role"]].append((a - start, b - start))

    def total(items: list[tuple[float, float]]) -> float:
        reach, seconds = -1.0, 0.0
        for a, b in sorted(items):
            seconds += max(0.0, b - max(a, reach))
            reach = max(reach, b)
        return seconds

    rep, customer = total(spans["rep"]), total(spans["customer"])
    return rep / (rep + customer), spans["customer"]


def sample_cut(call: str, start: float) -> npt.NDArray[np.float32]:
    samples = decode_audio(SAMPLES / f"{call}.stereo.ogg").samples
    return samples[:, int(start * SAMPLE_RATE) : int((start + SECONDS) * SAMPLE_RATE)]


@pytest.mark.asr
@pytest.mark.parametrize(("call", "start"), [("call_01_discovery", 0.0), ("call_06_overtalk", 60.0)])
def test_clean_sample_calls_keep_their_scripted_ratio_and_get_no_bleed_flag(
    call: str, start: float, transcriber: WhisperTranscriber
) -> None:
    expected, _ = script_share(call, start, start + SECONDS)
    outcome = transcribe(transcriber, sample_cut(call, start))
    assert outcome.rep_share == pytest.approx(expected, abs=0.03)
    quality = outcome.result.quality
    assert quality is not None
    assert "strong_bleed" not in [f.code for f in quality.flags]
    assert quality.bleed_share is not None and quality.bleed_share < 0.05


@pytest.mark.asr
def test_real_talk_over_the_rep_survives_the_reps_echo(transcriber: WhisperTranscriber) -> None:
    # call 06, 60-100 s: the customer's "Mm hmm." inside a rep turn and two planted interruptions
    call, start = "call_06_overtalk", 60.0
    expected, customer_turns = script_share(call, start, start + SECONDS)
    clean = sample_cut(call, start)
    echoed = transcribe(transcriber, with_echo(clean[0], clean[1], 0.2))
    customer_words = [w for w in echoed.result.words if w.channel == 1]
    for a, b in customer_turns:  # every scripted customer turn still has a word of the customer
        assert any(w.start < b and w.end > a for w in customer_words), (a, b)
    assert echoed.rep_share == pytest.approx(expected, abs=0.04)
    assert echoed.metrics["interruptions_customer"] >= 1  # the planted one at 83.1 s


@pytest.mark.asr
def test_an_echo_under_line_noise_is_not_counted_as_the_customers_talk(
    transcriber: WhisperTranscriber,
) -> None:
    """U7 finding 7: the rep's echo 20 dB down, 30 ms late, under white line noise near -44 dBFS on the
    customer's channel. The noise hid the echo from the energy detector (the echo analysis looked only
    at frames voice-active by level) while the speech detector heard it: before, on call 03's first
    minute, the customer's talk 18.1 s -> 28.8 s and 33 -> 52 words. Truth: the script's turns."""
    call, seconds = "call_03_pricing", 60.0
    expected, _ = script_share(call, 0.0, seconds)
    clean = decode_audio(SAMPLES / f"{call}.stereo.ogg").samples[:, : int(seconds * SAMPLE_RATE)]
    lag = round(0.03 * SAMPLE_RATE)
    customer = clean[1].copy()
    customer[lag:] += 0.1 * clean[0][:-lag]
    customer += np.random.default_rng(7).normal(0.0, 0.006, len(customer)).astype(np.float32)
    noisy = transcribe(transcriber, np.stack([clean[0], customer]).astype(np.float32))
    quiet = transcribe(transcriber, clean)
    assert noisy.rep_share == pytest.approx(expected, abs=0.04)
    assert noisy.metrics["talk_s_customer"] <= 1.1 * quiet.metrics["talk_s_customer"] + 0.5
    assert noisy.metrics["words_customer"] <= 1.1 * quiet.metrics["words_customer"] + 2
