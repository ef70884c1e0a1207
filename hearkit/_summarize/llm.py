"""Summaries through any OpenAI-compatible chat completions endpoint, map-reduce over long calls.

One request when the transcript fits the context budget; otherwise the turns are packed into
chunks that fit, each chunk is summarized (map), and the partial summaries are merged by the
model (reduce). Nothing is truncated: a turn longer than a whole chunk is split into numbered
parts, and a server that answers "context length exceeded" makes the chunks smaller.

Tokens are estimated as ``ceil(characters / LLMConfig.chars_per_token)`` (4 characters a token
is the usual figure for English; set it lower for a tokenizer that splits finer). The budget
for transcript text in one request is ``context_tokens - max_output_tokens - instructions``.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import math
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, Field, ValidationError

from hearkit._summarize.frame import CallTurns
from hearkit.errors import HearkitError
from hearkit.summary import ActionItem, CallSummary, SummaryItem
from hearkit.timecode import clock

if TYPE_CHECKING:  # openai is imported when a summary is asked of an endpoint (it is slow to import)
    import openai

__all__ = ["ENV_API_KEY", "ENV_BASE_URL", "ENV_MODEL", "LLMConfig", "SummarizeError", "llm_summary"]

ENV_BASE_URL = "HEARKIT_LLM_BASE_URL"
ENV_API_KEY = "HEARKIT_LLM_API_KEY"
ENV_MODEL = "HEARKIT_LLM_MODEL"
ENV_CONTEXT_TOKENS = "HEARKIT_LLM_CONTEXT_TOKENS"

ResponseFormat = Literal["json_schema", "json_object", "none"]
_WEAKER_FORMAT: dict[ResponseFormat, ResponseFormat] = {"json_schema": "json_object", "json_object": "none"}
_NO_KEY = "no-key"  # the openai client insists on a key; local servers ignore this one
_MIN_CHUNK_TOKENS = 64
_CONTEXT_ERROR = re.compile(
    r"context_length_exceeded|context length|context size|context window|too many tokens|"
    r"exceeds the (?:available )?context|prompt is too long",
    re.IGNORECASE,
)

log = logging.getLogger("hearkit.summarize")


class SummarizeError(HearkitError):
    """An LLM summary failed; the message says what happened and what to do.

    ``status_code`` is the last HTTP status seen (``None`` for timeouts and connection errors).
    """

    def __init__(self, message: str, *, status_code: int | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code


@dataclass(frozen=True)
class LLMConfig:
    """Where and how to ask an OpenAI-compatible chat endpoint for a summary.

    ``base_url`` includes the API prefix, e.g. ``http://127.0.0.1:8080/v1`` (requests go to
    ``{base_url}/chat/completions``). Plain ``http`` is accepted only for loopback and private
    addresses (transcripts are customer data); ``allow_insecure_http=True`` overrides that.
    ``context_tokens`` is the model's context window (prompt + answer) in tokens;
    ``max_output_tokens`` of it are kept for the answer. ``max_retries`` retries timeouts, 429
    (waiting ``Retry-After``) and 5xx with exponential backoff (the ``openai`` client's retries).
    The API key never appears in ``repr``, logs or error messages.
    """

    base_url: str
    model: str
    api_key: str | None = field(default=None, repr=False)
    timeout: float = 60.0
    max_retries: int = 3
    context_tokens: int = 8192
    max_output_tokens: int = 1024
    chars_per_token: float = 4.0
    temperature: float = 0.0
    response_format: ResponseFormat = "json_schema"
    allow_insecure_http: bool = False

    def __post_init__(self) -> None:
        _check_base_url(self.base_url, allow_insecure_http=self.allow_insecure_http)
        if not self.model:
            raise ValueError("LLMConfig.model is empty; name the model the endpoint serves")
        if self.context_tokens <= self.max_output_tokens:
            raise ValueError(
                f"context_tokens ({self.context_tokens}) must exceed "
                f"max_output_tokens ({self.max_output_tokens})"
            )
        if self.chars_per_token <= 0 or self.timeout <= 0 or self.max_retries < 0:
            raise ValueError("chars_per_token and timeout must be positive, max_retries zero or more")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> LLMConfig | None:
        """The config from ``HEARKIT_LLM_BASE_URL``/``_MODEL``/``_API_KEY`` (and ``_CONTEXT_TOKENS``).

        ``None`` when no base URL is set (the offline summary is used then).
        """
        env = os.environ if environ is None else environ
        base_url = env.get(ENV_BASE_URL, "").strip()
        if not base_url:
            return None
        model = env.get(ENV_MODEL, "").strip()
        if not model:
            raise ValueError(f"{ENV_BASE_URL} is set but {ENV_MODEL} is not; set it to the model to use")
        context = env.get(ENV_CONTEXT_TOKENS, "").strip()
        if context and not (context.isdigit() and int(context) > 0):
            raise ValueError(
                f"{ENV_CONTEXT_TOKENS} must be a whole number of tokens > 0 (the model's context window,"
                f" e.g. 8192), not {context!r}"
            )
        return cls(
            base_url=base_url,
            model=model,
            api_key=env.get(ENV_API_KEY) or None,
            context_tokens=int(context) if context else cls.context_tokens,
        )

    def estimate_tokens(self, text: str) -> int:
        """Estimated tokens of ``text``: ``ceil(len(text) / chars_per_token)``."""
        return math.ceil(len(text) / self.chars_per_token)


def _check_base_url(base_url: str, *, allow_insecure_http: bool) -> None:
    parts = urlsplit(base_url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme != "http" or not parts.hostname:
        raise ValueError(f"LLM base_url must be an http(s) URL such as https://host/v1, got {base_url!r}")
    if allow_insecure_http or parts.hostname == "localhost":
        return
    try:
        address = ipaddress.ip_address(parts.hostname)
    except ValueError:
        address = None
    if address is not None and (address.is_loopback or address.is_private):
        return
    raise ValueError(
        f"refusing to send call transcripts over plain http to {parts.hostname}: use https, or "
        f"LLMConfig(allow_insecure_http=True) if that network is trusted"
    )


# --- the answer the model is asked for -------------------------------------------------------


class _Item(BaseModel):
    text: str
    turns: list[int] = Field(default_factory=list)


class _Action(_Item):
    owner_role: str | None = None
    due: str | None = None


class _Answer(BaseModel):
    summary: list[_Item] = Field(default_factory=list)
    action_items: list[_Action] = Field(default_factory=list)
    next_steps: list[_Item] = Field(default_factory=list)
    objections: list[_Item] = Field(default_factory=list)


_NULLABLE_STRING = {"type": ["string", "null"]}
_ITEM_PROPERTIES: dict[str, Any] = {
    "text": {"type": "string"},
    "turns": {"type": "array", "items": {"type": "integer"}},
}
_ITEM_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text", "turns"],
    "properties": _ITEM_PROPERTIES,
}
_ACTION_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["text", "turns", "owner_role", "due"],
    "properties": {**_ITEM_PROPERTIES, "owner_role": _NULLABLE_STRING, "due": _NULLABLE_STRING},
}
ANSWER_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": False,
    "required": ["summary", "action_items", "next_steps", "objections"],
    "properties": {
        "summary": {"type": "array", "items": _ITEM_SCHEMA},
        "action_items": {"type": "array", "items": _ACTION_SCHEMA},
        "next_steps": {"type": "array", "items": _ITEM_SCHEMA},
        "objections": {"type": "array", "items": _ITEM_SCHEMA},
    },
}

_INSTRUCTIONS = """You summarize a recorded sales or support call for an analyst.
The transcript has one turn a line: [turn id] mm:ss role (speaker): text. The text comes from
speech recognition and may be lowercase and unpunctuated.
Answer with ONE JSON object and nothing else, matching this JSON schema:
{schema}
- summary: 2 to 5 sentences on what the call was about and how it ended.
- action_items: what a participant committed to do; owner_role is the role of who will do it
  ({roles}) or null; due is the due date or time as said (e.g. "by Friday") or null.
- next_steps: the agreed next steps.
- objections: concerns or objections the customer raised.
Every item lists in "turns" the ids of the transcript turns it rests on. Cite only turn ids that
appear in the transcript. Use empty lists when there is nothing to report."""

_REDUCE_INSTRUCTIONS = """You merge partial summaries of consecutive parts of one recorded call.
Each partial is a JSON object whose items cite transcript turn ids in "turns".
Answer with ONE JSON object and nothing else, matching this JSON schema:
{schema}
Keep every distinct action item, next step and objection; merge duplicates into one item that
cites the union of their turns. Write 2 to 5 summary sentences for the whole call. Keep the turn
ids of what you merge; never invent turn ids. owner_role is one of {roles} or null."""


# --- talking to the endpoint -----------------------------------------------------------------


class _ContextTooLongError(Exception):
    """The server said the request does not fit its context."""


@dataclass
class _Session:
    """One summary's conversation with the endpoint: client, learned limits, request count."""

    config: LLMConfig
    client: openai.OpenAI
    roles: str
    response_format: ResponseFormat
    requests: int = 0
    text_cap: int | None = None  # learned from a context-length refusal

    def ask(self, instructions: str, user: str) -> _Answer:
        """Ask once; on an answer that fails validation, ask again once with the error."""
        messages: list[dict[str, str]] = [
            {"role": "system", "content": instructions},
            {"role": "user", "content": user},
        ]
        content = self._complete(messages)
        try:
            return _parse_answer(content)
        except ValueError as first_error:
            log.info("LLM answer failed validation, asking again once: %s", _short(str(first_error), 200))
            messages += [
                {"role": "assistant", "content": content},
                {
                    "role": "user",
                    "content": f"That answer is not valid: {_short(str(first_error), 1500)}\n"
                    "Reply again with only the JSON object that matches the schema.",
                },
            ]
        content = self._complete(messages)
        try:
            return _parse_answer(content)
        except ValueError as second_error:
            raise SummarizeError(
                f"the model {self.config.model!r} at {self.config.base_url} answered with invalid JSON twice "
                f"(last: {_short(str(second_error), 300)}); use a model that follows JSON instructions, or "
                f"summarize(call, llm=None) for the offline summary"
            ) from None

    def _complete(self, messages: list[dict[str, str]]) -> str:
        import openai
        from openai.types.chat import ChatCompletion

        while True:
            kwargs: dict[str, Any] = {}
            if self.response_format == "json_schema":
                kwargs["response_format"] = {
                    "type": "json_schema",
                    "json_schema": {"name": "call_summary", "strict": True, "schema": ANSWER_SCHEMA},
                }
            elif self.response_format == "json_object":
                kwargs["response_format"] = {"type": "json_object"}
            self.requests += 1
            try:
                response = self.client.chat.completions.create(
                    model=self.config.model,
                    messages=messages,  # type: ignore[arg-type]
                    temperature=self.config.temperature,
                    max_tokens=self.config.max_output_tokens,
                    **kwargs,
                )
            except openai.BadRequestError as exc:
                if _is_context_error(exc):
                    raise _ContextTooLongError(str(exc.message)) from None
                weaker = _WEAKER_FORMAT.get(self.response_format)
                if weaker is not None and "response_format" in kwargs:
                    log.info("endpoint refused response_format=%s, trying %s", self.response_format, weaker)
                    self.response_format = weaker
                    continue
                raise self._error(exc) from None
            except openai.APIStatusError as exc:
                if exc.status_code == 413 or _is_context_error(exc):
                    raise _ContextTooLongError(str(exc.message)) from None
                raise self._error(exc) from None
            except openai.APIError as exc:
                raise self._error(exc) from None
            except ValueError as exc:  # a 200 whose JSON body is cut or broken (json.JSONDecodeError)
                raise self._not_a_completion(f"broken JSON ({_short(str(exc), 120)})") from None
            if not isinstance(response, ChatCompletion):
                # A proxy's error page or a captive portal: the openai client hands back the text.
                raise self._not_a_completion(f"{type(response).__name__} {_short(repr(response), 120)}")
            choices = response.choices or []
            return (choices[0].message.content or "") if choices else ""

    def _not_a_completion(self, what: str) -> SummarizeError:
        return SummarizeError(
            f"the LLM endpoint {self.config.base_url} (model {self.config.model!r}) answered 200 with"
            f" something that is not a chat completion: {what}; check that base_url is the"
            " OpenAI-compatible API root (e.g. http://host:8000/v1) and not a proxy or login page"
        )

    def _error(self, exc: openai.APIError) -> SummarizeError:
        import openai

        where = f"the LLM endpoint {self.config.base_url} (model {self.config.model!r})"
        tries = self.config.max_retries + 1
        if isinstance(exc, openai.APITimeoutError):
            return SummarizeError(
                f"{where} did not answer within {self.config.timeout:g} s, {tries} attempt(s); raise "
                f"LLMConfig.timeout or max_retries, or check the server's load"
            )
        if isinstance(exc, openai.APIConnectionError):
            return SummarizeError(
                f"could not connect to {where} after {tries} attempt(s): is the server running?"
            )
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        detail = _short(str(getattr(exc, "message", exc)), 300)
        if isinstance(exc, openai.RateLimitError):
            retry_after = exc.response.headers.get("retry-after")
            wait = f" (it asked to wait {retry_after} s)" if retry_after else ""
            return SummarizeError(
                f"{where} answered 429 rate limited, {tries} attempt(s) at most{wait}: {detail}; "
                f"wait and try again, or raise LLMConfig.max_retries",
                status_code=status,
            )
        if isinstance(exc, openai.AuthenticationError | openai.PermissionDeniedError):
            return SummarizeError(
                f"{where} refused the API key ({status}): "
                f"set {ENV_API_KEY} or LLMConfig.api_key to a valid key",
                status_code=status,
            )
        if isinstance(exc, openai.NotFoundError):
            return SummarizeError(
                f"{where} answered 404: check that base_url ends with the API prefix (e.g. /v1) and that the "
                f"model exists ({detail})",
                status_code=status,
            )
        if status is not None and status >= 500:
            return SummarizeError(
                f"{where} failed with server error {status} after {tries} attempt(s): {detail}; "
                "try again later",
                status_code=status,
            )
        return SummarizeError(f"{where} rejected the request ({status}): {detail}", status_code=status)


def _is_context_error(exc: openai.APIStatusError) -> bool:
    return exc.code == "context_length_exceeded" or bool(_CONTEXT_ERROR.search(str(exc.message)))


def _parse_answer(content: str) -> _Answer:
    """The model's answer as an :class:`_Answer`; ``ValueError`` (incl. pydantic's) when it is not one."""
    text = re.sub(r"<think>.*?</think>", "", content, flags=re.DOTALL).strip()
    fenced = re.search(r"```(?:json)?\s*(.*?)```", text, flags=re.DOTALL)
    if fenced:
        text = fenced.group(1).strip()
    begin, end = text.find("{"), text.rfind("}")
    if begin < 0 or end < begin:
        raise ValueError(f"the answer holds no JSON object: {_short(content, 200)!r}")
    try:
        return _Answer.model_validate_json(text[begin : end + 1])
    except ValidationError as exc:
        raise ValueError(str(exc)) from None


def _short(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


# --- transcript lines and chunks -------------------------------------------------------------


@dataclass(frozen=True)
class _Line:
    """One line of the transcript in a prompt: a turn, or a numbered part of a long turn."""

    turn: int
    text: str


def _lines(call: CallTurns) -> list[_Line]:
    return [
        _Line(row.turn, f"[{row.turn}] {clock(row.start)} {row.role} ({row.speaker}): {row.text}")
        for row in call.rows()
    ]


def _split_line(line: _Line, budget_chars: int) -> list[_Line]:
    """A line too long for one chunk, cut at word boundaries into parts labelled ``(part i/n)``."""
    head, _, body = line.text.partition(": ")
    words, pieces, current = body.split(), [], ""
    room = max(budget_chars - len(head) - 20, 20)
    for word in words:
        if current and len(current) + 1 + len(word) > room:
            pieces.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    pieces.append(current)
    return [
        _Line(turn=line.turn, text=f"{head} (part {i}/{len(pieces)}): {piece}")
        for i, piece in enumerate(pieces, start=1)
    ]


def _pack(lines: Sequence[_Line], budget_tokens: int, config: LLMConfig) -> list[list[_Line]]:
    """Lines packed in order into chunks of at most ``budget_tokens`` estimated tokens each."""
    budget_chars = int(budget_tokens * config.chars_per_token)
    chunks: list[list[_Line]] = []
    current: list[_Line] = []
    size = 0
    for line in lines:
        parts = [line] if len(line.text) + 1 <= budget_chars else _split_line(line, budget_chars)
        for part in parts:
            if current and size + len(part.text) + 1 > budget_chars:
                chunks.append(current)
                current, size = [], 0
            current.append(part)
            size += len(part.text) + 1
    if current:
        chunks.append(current)
    return chunks


def _chunk_text(chunk: Sequence[_Line]) -> str:
    return "\n".join(line.text for line in chunk)


# --- map-reduce --------------------------------------------------------------------------------


def llm_summary(call: CallTurns, config: LLMConfig) -> CallSummary:
    """Summarize ``call`` through the endpoint of ``config`` (see the module docstring)."""
    from hearkit._extras import require

    require("llm", "summaries by an LLM endpoint (HEARKIT_LLM_BASE_URL)")
    import openai

    roles = ", ".join(f'"{r}"' for r in call.roles if r != "unknown") or '"rep", "customer"'
    client = openai.OpenAI(
        base_url=config.base_url,
        api_key=config.api_key or _NO_KEY,
        timeout=config.timeout,
        max_retries=config.max_retries,
    )
    with client:
        session = _Session(config=config, client=client, roles=roles, response_format=config.response_format)
        if not call.rows():
            return CallSummary(call_id=call.call_id, method="llm", model=config.model, chunks=0)
        partials = _map(call, session)
        answer = partials[0] if len(partials) == 1 else _reduce(partials, session)
    log.info("summarized call %s: %d chunk(s), %d request(s)", call.call_id, len(partials), session.requests)
    return _to_summary(call, answer, config.model, chunks=len(partials))


def _budget(session: _Session, instructions: str) -> int:
    """Tokens of transcript (or partial summaries) one request may carry.

    The context window minus the instructions, the answer's ``max_output_tokens`` and a small
    margin for message framing; and no more than what the server last accepted (``text_cap``).
    """
    config = session.config
    room = config.context_tokens - config.estimate_tokens(instructions) - config.max_output_tokens - 64
    return room if session.text_cap is None else min(room, session.text_cap)


def _shrink(session: _Session, refused_tokens: int, reason: str) -> None:
    """After a context-length refusal of ``refused_tokens`` of text: half of that from now on."""
    smaller = refused_tokens // 2
    if smaller < _MIN_CHUNK_TOKENS:
        raise SummarizeError(
            f"the LLM endpoint {session.config.base_url} refused even {refused_tokens} tokens of "
            f"transcript as too long ({_short(reason, 200)}); use a model with a larger context"
        )
    log.info("context length exceeded at ~%d tokens of text; ~%d from now on", refused_tokens, smaller)
    session.text_cap = smaller


def _map(call: CallTurns, session: _Session) -> list[_Answer]:
    """Partial answers for the transcript, in chunks that fit (and shrink on a context error)."""
    config = session.config
    instructions = _INSTRUCTIONS.format(schema=json.dumps(ANSWER_SCHEMA), roles=session.roles)
    if _budget(session, instructions) < _MIN_CHUNK_TOKENS:
        raise SummarizeError(
            f"context_tokens={config.context_tokens} leaves no room for transcript after the instructions "
            f"and max_output_tokens={config.max_output_tokens}; raise context_tokens or lower "
            "max_output_tokens"
        )
    queue = _pack(_lines(call), _budget(session, instructions), config)
    answers: list[_Answer] = []
    while queue:
        chunk = queue.pop(0)
        text = _chunk_text(chunk)
        tokens = config.estimate_tokens(text)
        if tokens > _budget(session, instructions):
            queue[:0] = _pack(chunk, _budget(session, instructions), config)
            continue
        whole = not answers and not queue and session.text_cap is None
        header = (
            f"Call {call.call_id}."
            if whole
            else f"Call {call.call_id}, the part from turn {chunk[0].turn} to turn {chunk[-1].turn}; "
            f"summarize this part."
        )
        try:
            answers.append(session.ask(instructions, f"{header}\nTranscript:\n{text}"))
        except _ContextTooLongError as exc:
            _shrink(session, tokens, str(exc))
            queue.insert(0, chunk)
    return answers


def _reduce(partials: list[_Answer], session: _Session) -> _Answer:
    """Merge partial answers with the model, in groups that fit, until one is left.

    When not even two partials fit in one request, what is left is concatenated without the
    model: nothing is dropped.
    """
    config = session.config
    instructions = _REDUCE_INSTRUCTIONS.format(schema=json.dumps(ANSWER_SCHEMA), roles=session.roles)
    level = partials
    while len(level) > 1:
        texts = [part.model_dump_json() for part in level]
        budget = _budget(session, instructions)
        groups: list[list[int]] = [[]]
        size = 0
        for index, text in enumerate(texts):
            tokens = config.estimate_tokens(text) + 3
            if groups[-1] and size + tokens > budget:
                groups.append([])
                size = 0
            groups[-1].append(index)
            size += tokens
        if len(groups) == len(level):
            log.info("partial summaries too large to merge by the model; concatenating %d", len(level))
            return _concatenate(level)
        merged: list[_Answer] = []
        for position, group in enumerate(groups):
            if len(group) == 1:
                merged.append(level[group[0]])
                continue
            body = "\n".join(f"Part {n}: {texts[i]}" for n, i in enumerate(group, start=1))
            try:
                merged.append(session.ask(instructions, body))
            except _ContextTooLongError as exc:
                try:
                    _shrink(session, config.estimate_tokens(body), str(exc))
                except SummarizeError:
                    return _concatenate([*merged, *(level[i] for g in groups[position:] for i in g)])
                merged.extend(level[i] for g in groups[position:] for i in g)
                break
        level = merged
    return level[0]


def _concatenate(answers: Sequence[_Answer]) -> _Answer:
    return _Answer(
        summary=[item for a in answers for item in a.summary],
        action_items=[item for a in answers for item in a.action_items],
        next_steps=[item for a in answers for item in a.next_steps],
        objections=[item for a in answers for item in a.objections],
    )


def _to_summary(call: CallTurns, answer: _Answer, model: str, *, chunks: int) -> CallSummary:
    """Keep the items that cite at least one existing turn; count the others as dropped."""
    dropped = 0

    def cited(items: Sequence[_Item]) -> list[tuple[_Item, Any]]:
        nonlocal dropped
        kept = []
        for item in items:
            citations = call.citations(item.turns)
            if citations and item.text.strip():
                kept.append((item, citations))
            else:
                dropped += 1
        return kept

    # An owner is one of the call's roles (what the instructions ask for); another word ("boss") is
    # no role a metric, filter or relabel knows: the item is kept without an owner, and counted.
    roles = {r for r in call.roles if r != "unknown"} or {"rep", "customer"}
    unknown_owners = 0

    def owner(item: _Item) -> str | None:
        nonlocal unknown_owners
        said = item.owner_role.strip().lower() if isinstance(item, _Action) and item.owner_role else ""
        if said and said not in roles:
            unknown_owners += 1
            return None
        return said or None

    summary = [SummaryItem(text=i.text, citations=c) for i, c in cited(answer.summary)]
    actions = [
        ActionItem(
            text=i.text,
            citations=c,
            owner_role=owner(i),
            due=(i.due or None) if isinstance(i, _Action) else None,
        )
        for i, c in cited(answer.action_items)
    ]
    next_steps = [SummaryItem(text=i.text, citations=c) for i, c in cited(answer.next_steps)]
    objections = [SummaryItem(text=i.text, citations=c) for i, c in cited(answer.objections)]
    if dropped:
        log.info("dropped %d item(s) of call %s that cite no existing turn", dropped, call.call_id)
    return CallSummary(
        call_id=call.call_id,
        method="llm",
        model=model,
        summary=summary,
        action_items=actions,
        next_steps=next_steps,
        objections=objections,
        dropped_items=dropped,
        unknown_owners=unknown_owners,
        chunks=chunks,
    )
