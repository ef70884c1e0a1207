"""Pydantic models of the PyAI Hear batch transcription jobs API.

One set of models serves both sides of the contract: :mod:`hearkit.client` validates what a
server sends, and :mod:`hearkit.engine` builds what it sends with the same classes.

Conventions taken from the contract (``reference/pyai-api.md``):

* Absent fields stay absent. Every model keeps track of which fields were set, and
  :meth:`ApiModel.to_api` dumps only those, so a field the server omitted is never echoed as
  ``null`` (``JobList.next_cursor`` is the one documented ``null``).
* Unknown fields are kept (``extra="allow"``): a newer server version never breaks the client.
* Speaker labels are opaque strings. The hosted API was seen using 1-based labels
  (``speaker_1``, ``speaker_2``) while the guide's prose says ``speaker_0``; nothing here
  parses them.
* Segment and word times are seconds (float); job timestamps are Unix milliseconds (int).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

__all__ = [
    "JOB_STATUSES",
    "SPEAKER_OPTIONS",
    "TERMINAL_STATUSES",
    "ApiModel",
    "Identity",
    "IdentityCredit",
    "IdentityLimits",
    "Job",
    "JobCreateParams",
    "JobList",
    "JobStatus",
    "OpenAIErrorBody",
    "OpenAIErrorDetail",
    "OutputFormat",
    "ProblemDetails",
    "Quality",
    "QualityFlag",
    "Result",
    "SandboxKey",
    "Segment",
    "SigningSecretStatus",
    "SpeakerEmbeddings",
    "WebhookEvent",
    "WebhookEventData",
    "Word",
    "speaker_options_problem",
    "trust_of",
]

JobStatus = Literal["queued", "running", "completed", "failed", "cancelled"]
JOB_STATUSES: tuple[JobStatus, ...] = ("queued", "running", "completed", "failed", "cancelled")
TERMINAL_STATUSES: frozenset[str] = frozenset({"completed", "failed", "cancelled"})
OutputFormat = Literal["json", "srt", "vtt"]
MAX_SPEAKER_OPTION = 6
"""Largest value of ``speakers_expected`` / ``min_speakers`` / ``max_speakers`` (the diarizer's limit)."""


class ApiModel(BaseModel):
    """Base of every wire model: keeps unknown fields, dumps only what was set."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    def to_api(self) -> dict[str, Any]:
        """The JSON-ready dict of this object, with absent fields omitted (not ``null``)."""
        return self.model_dump(mode="json", exclude_unset=True)


class Word(ApiModel):
    """One recognised word. Observed shape: ``{word, start, end[, channel, speaker]}``."""

    word: str
    start: float
    end: float
    speaker: str | None = None
    channel: int | None = None
    confidence: float | None = None


class Segment(ApiModel):
    """One segment of speech (a turn, when diarized). ``start``/``end`` are seconds.

    ``confidence`` (local engine): the recogniser's confidence in the segment's words, the
    geometric mean of their probabilities (= exp of the mean word log-probability); absent on a
    segment without words (speech the recogniser gave no word, e.g. a backchannel).
    """

    id: int
    start: float
    end: float
    text: str = ""
    speaker: str | None = None
    channel: int | None = None
    confidence: float | None = None


TrustLevel = Literal["high", "medium", "low"]


class QualityFlag(ApiModel):
    """One named reason to doubt part of a result, in plain words.

    ``code``: stable name (``phantom_speaker``, ``speaker_count_uncertain``, …); ``meaning``: one
    line for the analyst; ``severity``: ``info`` (worth knowing), ``warning`` (check before
    relying on it) or ``unreliable`` (do not use the metrics it ``affects``); ``affects``: the
    metrics it concerns (``speaker_count``, ``talk_ratio``, ``transcript``, ``roles``).
    """

    code: str
    meaning: str
    severity: Literal["info", "warning", "unreliable"] = "warning"
    affects: list[str] = Field(default_factory=list)


def trust_of(flags: Sequence[QualityFlag]) -> TrustLevel:
    """``low`` with an ``unreliable`` flag, ``medium`` with a ``warning``, else ``high``."""
    severities = {f.severity for f in flags}
    if "unreliable" in severities:
        return "low"
    if "warning" in severities:
        return "medium"
    return "high"


class Quality(ApiModel):
    """How far to trust a result (local engine; hosted results carry none: "not measured").

    Every measure is ``None`` when it was not measured on this call (e.g. cluster separation on
    a stereo call), which is not the same as zero. Definitions (denominators):

    * ``speaker_count_margin``: silhouette of the chosen count − best silhouette of any other
      count (mono); small = the audio hardly prefers this count.
    * ``speaker_count_audio``: the count the audio alone gave, before the job's options.
    * ``cluster_separation``: mean silhouette (cosine) of the chosen voice clusters, −1…1.
    * ``speaker_shares``: each speaker's talk time / all speakers' talk time (segments).
    * ``unattributed_speech``: seconds of detected voice (20 ms energy frames inside the speech
      regions) that no segment covers / seconds of detected voice.
    * ``channel_correlation``: Pearson correlation of the two channels' samples (stereo).
    * ``channel_similarity``: the largest absolute normalised cross-correlation of the two channels
      within ±10 ms (1.0: one signal on both, even shifted or inverted; stereo files found to be one).
    * ``bleed_share``: seconds of one channel's speech regions dropped as the other party's
      voice (a leak far quieter than the other channel, or its echo: the engine's
      ``pipeline.echo``) / seconds of its speech regions, the larger of the two channels (stereo).
    * ``word_confidence``: mean word probability; ``low_confidence_words``: words with
      probability < 0.5 / words.
    * ``repetition_redecoded``: Whisper windows (≤ 30 s of packed speech each) whose batched
      text looped (one n-gram said 4 or more times in a row) and were decoded again with the
      temperature fallback; a count of windows, not a share.
    * ``vocabulary_windows``: of a job sent with a ``vocabulary``, the Whisper windows whose
      prompted decode was kept because it heard one of the terms (every other window keeps the
      unprompted decode); ``None`` without a vocabulary. 0 = the transcript is the unprompted one.
    * ``voice_similarity``: cosine similarity of the voice prints (mean embedding of a speaker's
      windows) of the two speakers that sound most alike (mono, 2+ speakers); high = one voice
      may have been split in two.
    * ``speaker_embedding``: the voice embedding the diarizer ran (mono): ``campplus`` (CAM++, the
      local engine's default), ``resemblyzer`` or ``both`` (``HEARKIT_SPEAKER_EMBEDDING``); the
      voice measures below and the bars of their flags are on its scale.
    * ``mixed_voice``: the largest cluster's silhouette (cosine) when its own windows are split in
      two (mono); high = that "speaker" may hold two voices.
    * ``overlap_share``: seconds in which two or more speakers' segments run at once / seconds
      any segment covers (mono).
    * ``uncovered_voice``: seconds of energy-active voice anywhere in the file (20 ms frames 15 dB
      over its noise floor) that no segment covers / seconds of energy-active voice (mono); unlike
      ``unattributed_speech`` it also counts voice the speech detector missed.
    """

    trust: TrustLevel = "high"
    flags: list[QualityFlag] = Field(default_factory=list)
    method: Literal["channels", "diarization", "none"] = "none"
    speakers_found: int | None = None
    speaker_count_audio: int | None = None
    speaker_count_margin: float | None = None
    speaker_count_constrained_by: str | None = None
    cluster_separation: float | None = None
    speaker_shares: dict[str, float] | None = None
    unattributed_speech: float | None = None
    channel_correlation: float | None = None
    channel_similarity: float | None = None
    bleed_share: float | None = None
    word_confidence: float | None = None
    low_confidence_words: float | None = None
    repetition_redecoded: int | None = None
    vocabulary_windows: int | None = None
    voice_similarity: float | None = None
    speaker_embedding: str | None = None
    mixed_voice: float | None = None
    overlap_share: float | None = None
    uncovered_voice: float | None = None


class SpeakerEmbeddings(ApiModel):
    """The diarizer's voice evidence, kept with a result so speakers can be found again without
    ASR (:mod:`hearkit.engine.pipeline.rediarize`). A local-engine extension; the hosted API
    has no such field. ``starts``: each window's start (seconds), ``window_s`` its length;
    ``data``: base64 of the L2-normalised embeddings (windows × ``dim``) as int8, value × 127."""

    window_s: float
    dim: int
    starts: list[float] = Field(default_factory=list)
    data: str = ""


class Result(ApiModel):
    """The transcript of a completed job, inline in ``Job.result`` or behind ``Job.result_url``.

    ``audio_seconds`` is the billed quantity; ``formats`` maps an output format (``srt``,
    ``vtt``) to a signed URL. ``speaker_embeddings`` (local engine, diarized mono only) lets a
    stored result be re-diarized without transcribing again.
    """

    text: str = ""
    speakers: int | None = None
    audio_seconds: float | None = None
    segments: list[Segment] = Field(default_factory=list)
    words: list[Word] = Field(default_factory=list)
    formats: dict[str, str] | None = None
    quality: Quality | None = None
    speaker_embeddings: SpeakerEmbeddings | None = None


class Job(ApiModel):
    """A transcription job. ``created_at``/``updated_at`` are Unix milliseconds.

    ``result`` is present on completed jobs when small enough to inline; otherwise
    ``result_url`` is a signed, expiring URL of the same document. ``error`` is present on
    failed jobs.
    """

    job_id: str
    status: JobStatus
    created_at: int | None = None
    updated_at: int | None = None
    result: Result | None = None
    result_url: str | None = None
    error: str | None = None

    @property
    def is_terminal(self) -> bool:
        """True once the job can no longer change (completed, failed or cancelled)."""
        return self.status in TERMINAL_STATUSES


class JobList(ApiModel):
    """One page of ``GET /v1/transcription/jobs``. ``next_cursor`` is null on the last page."""

    object: Literal["list"] = "list"
    data: list[Job] = Field(default_factory=list)
    has_more: bool = False
    next_cursor: str | None = None

    def to_api(self) -> dict[str, Any]:
        """Like :meth:`ApiModel.to_api`, but always carries ``has_more`` and ``next_cursor``."""
        body = super().to_api()
        body["object"] = self.object
        body["has_more"] = self.has_more
        body["next_cursor"] = self.next_cursor
        body["data"] = [job.to_api() for job in self.data]
        return body


class JobCreateParams(ApiModel):
    """The body of ``POST /v1/transcription/jobs`` (JSON), or its form fields (multipart).

    The base fields are documented; ``smart_format`` to ``customer_name`` come from the
    official SDK. Unknown fields pass through (the hosted API ignores them).

    ``speakers_expected``, ``min_speakers``, ``max_speakers`` (local engine, mono diarization;
    AssemblyAI's and Google's names): the expected number of speakers, chosen unless the audio
    strongly says otherwise, and hard bounds on it (1…6).
    """

    audio_url: str | None = None
    model: str | None = None
    channel: bool | None = None
    diarize: bool | None = None
    numerals: bool | None = None
    output_formats: list[OutputFormat] | None = None
    webhook_url: str | None = None
    smart_format: bool | None = None
    dictation: bool | None = None
    drop_fillers: bool | None = None
    vocabulary: list[str] | None = None
    call_id: str | None = None
    pack_id: str | None = None
    call_direction: str | None = None
    customer_name: str | None = None
    speakers_expected: int | None = Field(default=None, ge=1, le=MAX_SPEAKER_OPTION)
    min_speakers: int | None = Field(default=None, ge=1, le=MAX_SPEAKER_OPTION)
    max_speakers: int | None = Field(default=None, ge=1, le=MAX_SPEAKER_OPTION)

    @model_validator(mode="after")
    def _speaker_bounds_ordered(self) -> JobCreateParams:
        low, high = self.min_speakers, self.max_speakers
        if low is not None and high is not None and low > high:
            raise ValueError(f"min_speakers ({low}) is above max_speakers ({high}); swap them or drop one")
        problem = speaker_options_problem(self.model_dump())
        if problem:
            raise ValueError(problem)
        return self


SPEAKER_OPTIONS = ("speakers_expected", "min_speakers", "max_speakers")


def speaker_options_problem(fields: Mapping[str, Any]) -> str | None:
    """Why job ``fields`` cannot take their speaker-count options, or ``None``: a count means
    something only when voices are separated (``diarize=true``, or ``channel=true``: a party per
    channel); without either, every word would come back on one speaker whatever the count said."""
    given = [name for name in SPEAKER_OPTIONS if fields.get(name) is not None]
    if not given or _truthy(fields.get("diarize")) or _truthy(fields.get("channel")):
        return None
    return (
        f"{'/'.join(given)} set the number of voices of a diarized call, but diarize is not true: "
        "add diarize=true for a mono call (or channel=true for one party per channel)"
    )


def _truthy(value: Any) -> bool:
    return value is True or (isinstance(value, str) and value.strip().lower() == "true")


class WebhookEventData(ApiModel):
    """The ``data`` of a webhook event; ``job_id`` is the only documented field."""

    job_id: str


class WebhookEvent(ApiModel):
    """A signed completion callback: ``transcription.job.completed`` or ``…failed``."""

    type: str
    data: WebhookEventData


class ProblemDetails(ApiModel):
    """RFC 7807 error body (400/404/409). The stable code is the last path segment of ``type``."""

    type: str = "about:blank"
    title: str | None = None
    status: int | None = None
    detail: str | None = None
    request_id: str | None = None

    @property
    def code(self) -> str:
        """The error code: the last ``/`` segment of ``type``."""
        return self.type.rstrip("/").rsplit("/", 1)[-1]


class OpenAIErrorDetail(ApiModel):
    """The inner object of the OpenAI-style error envelope."""

    message: str = ""
    type: str | None = None
    code: str | None = None
    param: str | None = None


class OpenAIErrorBody(ApiModel):
    """OpenAI-style error envelope (401/402/403/429): ``{"error": {...}}``."""

    error: OpenAIErrorDetail


class SigningSecretStatus(ApiModel):
    """``GET /v1/webhooks/signing-secret``."""

    object: Literal["webhook_signing_secret"] = "webhook_signing_secret"
    configured: bool = False
    last4: str | None = None


class IdentityLimits(ApiModel):
    """Limits of a key, as ``GET /v1/me`` reports them."""

    rps: float | None = None
    burst: int | None = None
    concurrency: int | None = None
    monthly_units: float | None = None
    daily_unit_cap: float | None = None


class IdentityCredit(ApiModel):
    """Prepaid credit of the org, as ``GET /v1/me`` reports it."""

    gated: bool = False
    available_cents: int | None = None


class Identity(ApiModel):
    """``GET /v1/me``: who the calling key is."""

    object: Literal["identity"] = "identity"
    key_id: str
    org_id: str | None = None
    project_id: str | None = None
    env: Literal["test", "live"] = "test"
    status: Literal["active", "revoked"] = "active"
    org_status: Literal["active", "suspended"] = "active"
    scopes: list[str] = Field(default_factory=list)
    expires_at: int | None = None
    plan: str | None = None
    limits: IdentityLimits | None = None
    credit: IdentityCredit | None = None
    key_budget_cents: int | None = None


class SandboxKey(ApiModel):
    """``POST /v1/sandbox/keys``: a freshly minted test key (shown once)."""

    object: Literal["sandbox.key"] = "sandbox.key"
    api_key: str
    environment: Literal["test"] = "test"
    expires_at: int | None = None
    base_url: str | None = None
    key_id: str | None = None
    org_id: str | None = None
    project_id: str | None = None
    scopes: list[str] = Field(default_factory=list)
    docs: str | None = None
    note: str | None = None
