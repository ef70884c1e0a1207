"""A call the recogniser cannot understand is said so (U5 finding 17: a Spanish call came back from
tiny.en as invented English, rep talk 0.10 for 0.52, trust only "medium").

The calls are spoken by espeak-ng from the scripts below (the ground truth: which language was
spoken); the rep on channel 0, the customer on channel 1, taking turns."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hearkit.engine.pipeline import WhisperTranscriber
from hearkit.engine.pipeline.decode import SAMPLE_RATE, DecodedAudio, decode_audio
from tests.pipeline.conftest import espeak

SPANISH = [
    ("es", "Buenos días, gracias por llamar al servicio técnico. ¿En qué puedo ayudarle hoy?"),
    ("es+f3", "Hola, tengo un problema con la factura de este mes, me cobraron dos veces el mismo servicio."),
    ("es", "Lo siento mucho. Voy a revisar su cuenta ahora mismo y le devolveremos el dinero esta semana."),
    ("es+f3", "Perfecto, muchas gracias por su ayuda. Espero el reembolso entonces, hasta luego."),
]
ENGLISH = [
    ("en-us", "Good morning, thanks for calling technical support. How can I help you today?"),
    ("en-us+f3", "Hi, I have a problem with this month's bill, I was charged twice for the same service."),
    ("en-us", "I am very sorry. I will check your account right now and we will refund you this week."),
    ("en-us+f3", "Perfect, thank you very much for your help. I will wait for the refund then, goodbye."),
]


def _call(tmp_path: Path, script: list[tuple[str, str]]) -> DecodedAudio:
    gap = np.zeros(int(0.6 * SAMPLE_RATE), dtype=np.float32)
    channels: list[list[np.ndarray]] = [[], []]
    for index, (voice, text) in enumerate(script):
        said = decode_audio(espeak(tmp_path / f"turn{index}.wav", text, voice)).samples[0]
        speaker = index % 2
        channels[speaker] += [said, gap]
        channels[1 - speaker] += [np.zeros_like(said), gap]
    return DecodedAudio(np.stack([np.concatenate(c) for c in channels]).astype(np.float32), SAMPLE_RATE, 2)


@pytest.mark.asr
def test_a_call_in_another_language_is_flagged_unreliable(
    tmp_path: Path, transcriber: WhisperTranscriber
) -> None:
    from hearkit.schema import JobCreateParams

    result = transcriber.transcribe_audio(_call(tmp_path, SPANISH), JobCreateParams(channel=True))
    assert result.quality is not None
    assert "speech_not_recognised" in [f.code for f in result.quality.flags], result.quality
    assert result.quality.trust == "low"


@pytest.mark.asr
def test_the_same_call_in_english_is_not(tmp_path: Path, transcriber: WhisperTranscriber) -> None:
    from hearkit.schema import JobCreateParams

    result = transcriber.transcribe_audio(_call(tmp_path, ENGLISH), JobCreateParams(channel=True))
    assert result.quality is not None
    assert "speech_not_recognised" not in [f.code for f in result.quality.flags], result.quality
    assert len(result.words) > 40
