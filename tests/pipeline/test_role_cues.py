"""Which stereo channel sounds like the rep: cues in the opening turns (text written here, roles known)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.quality import _rep_channel
from hearkit.schema import JobCreateParams, Result, Segment

SAMPLES = Path(__file__).resolve().parents[2] / "sample_data"


def _call(*lines: tuple[int, str]) -> list[Segment]:
    return [
        Segment(
            id=i, start=4.0 * i, end=4.0 * i + 3.5, text=text, channel=channel, speaker=f"speaker_{channel}"
        )
        for i, (channel, text) in enumerate(lines)
    ]


def test_a_caller_who_opens_and_later_gives_a_name_is_not_the_rep() -> None:
    # The SpokenWOZ shape: the caller opens, asks for the service, and gives a name when asked.
    call = _call(
        (0, "Hello, is that customer service?"),
        (1, "Yes, well, can I help you?"),
        (0, "I'm looking for a train to Cambridge."),
        (1, "Which day would you like to travel?"),
        (0, "On Saturday."),
        (1, "And your name, please?"),
        (0, "Of course, my name is Yang."),
    )
    assert _rep_channel(call)[0] == 1


def test_a_rep_who_greets_is_the_rep_on_either_channel() -> None:
    lines = [
        "Thanks for calling Acme support, my name is Sam, how can I help?",
        "Hi Sam, I'm calling about my invoice.",
        "Sure, what is the invoice number?",
        "It's one two three.",
    ]
    for rep in (0, 1):
        call = _call(*[(rep if n % 2 == 0 else 1 - rep, text) for n, text in enumerate(lines)])
        assert _rep_channel(call)[0] == rep


def test_no_cues_fall_back_to_the_opener_who_asks_more() -> None:
    call = _call((1, "Did you get the deck?"), (0, "Yes."), (1, "Any questions on pricing?"), (0, "Not yet."))
    assert _rep_channel(call)[0] == 1
    assert _rep_channel(_call((0, "Hello."), (1, "Hello."))) == (None, "")


@pytest.mark.asr
def test_the_real_spokenwoz_call_with_the_caller_on_channel_0_is_flagged(
    realdata: Path, transcriber: WhisperTranscriber
) -> None:
    """SpokenWOZ MUL1011 (SOURCES.md: L = user, R = agent), first 40 s: the rep is on channel 1."""
    from hearkit.engine.pipeline.decode import DecodedAudio, decode_audio

    samples = decode_audio(realdata / "spokenwoz_speechbrain" / "MUL1011.opus").samples
    head = np.ascontiguousarray(samples[:, : 40 * 16_000])
    audio = DecodedAudio(samples=head, source_rate=16_000, source_channels=2)
    result = transcriber.transcribe_audio(audio, JobCreateParams(channel=True))
    assert result.quality is not None
    assert "roles_maybe_swapped" in {f.code for f in result.quality.flags}


# U7 finding 12: the rep on channel 1, no self-introduction, the customer asking the pricing questions.
# What Whisper wrote of the trial's call (the rep's lines are the script's rep turns).
NO_INTRO = [
    (1, "Before we dive in, can you tell me a bit about how your team handles customer calls right now?"),
    (0, "Sure, we have about 20 reps and we mostly take notes by hand in the CRM."),
    (1, "Our platform records every call, transcribes it and gives each rep a scorecard after the call."),
    (0, "How does the pricing work? Is it per seat or per team?"),
    (1, "In terms of pricing, the professional plan is $49 per seat per month, billed annually."),
    (0, "We looked at Gong last year but the budget was too tight."),
    (1, "Compared to Gong, we are about 30% cheaper per seat."),
    (0, "Okay, that sounds interesting. Send me the proposal."),
    (1, "I will send you a proposal with the numbers by Friday."),
]


def test_a_rep_who_makes_the_offer_is_the_rep_without_an_introduction() -> None:
    """No greeting and no caller cue; the opener (channel 1) asks 1 question against 2: before, nothing
    told and the call was left at channel 0 = rep, trust high (rep talk ratio 0.37 for 0.63)."""
    assert _rep_channel(_call(*NO_INTRO))[0] == 1
    swapped = _call(*[(1 - channel, text) for channel, text in NO_INTRO])
    assert _rep_channel(swapped)[0] == 0


def test_the_sample_calls_reps_on_channel_0_are_not_doubted() -> None:
    """The seven sample calls (their scripts put the rep on channel 0), as transcribed and stored: customers
    quote prices and promise things too (call 03), and none of them reads as the rep."""
    stereo = [p for p in sorted(SAMPLES.glob("call_0*.result.json")) if ".mono." not in p.name]
    assert len(stereo) == 7
    for path in stereo:
        result = Result.model_validate_json(path.read_text())
        assert {s.channel for s in result.segments} == {0, 1}
        assert _rep_channel(result.segments)[0] in (0, None), path.name
