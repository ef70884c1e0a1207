"""An in-memory stand-in for the hosted PyAI jobs API, for ``httpx.MockTransport`` tests.

It answers in the documented shapes (202 queued job, Job, list pages, problem+json and the
OpenAI envelope), records every request, and can be scripted to fail: ``fail(path, status,
...)`` queues error responses (or transport errors) served before the normal answer.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import httpx

API = "https://api.pyai.com"


@dataclass
class Scripted:
    status: int = 0
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    error: Exception | None = None


class FakeAPI:
    def __init__(self, api_key: str = "pyai_test_key") -> None:
        self.api_key = api_key
        self.requests: list[httpx.Request] = []
        self.jobs: dict[str, dict[str, Any]] = {}
        self.statuses: dict[str, deque[str]] = {}
        self.units: dict[str, str] = {}
        self.scripts: dict[str, deque[Scripted]] = {}
        self.idempotency: dict[str, tuple[bytes, dict[str, Any]]] = {}
        self.signed: dict[str, tuple[int, Any, dict[str, str]]] = {}
        self.pages: dict[str | None, dict[str, Any]] = {}

    # --- scripting ---------------------------------------------------------------------------
    def fail(
        self,
        path: str,
        status: int = 0,
        body: Any = None,
        headers: dict[str, str] | None = None,
        error: Exception | None = None,
        times: int = 1,
    ) -> None:
        for _ in range(times):
            self.scripts.setdefault(path, deque()).append(Scripted(status, body, headers or {}, error))

    def add_job(
        self, job: dict[str, Any], statuses: list[str] | None = None, units: str | None = None
    ) -> None:
        self.jobs[job["job_id"]] = job
        if statuses:
            self.statuses[job["job_id"]] = deque(statuses)
        if units is not None:
            self.units[job["job_id"]] = units

    def sign(self, url: str, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        self.signed[url] = (status, body, headers or {})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handle)

    # --- answering ---------------------------------------------------------------------------
    def handle(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        url = str(request.url)
        if url in self.signed:
            status, body, headers = self.signed[url]
            if isinstance(body, str):
                return httpx.Response(status, text=body, headers=headers)
            return httpx.Response(status, json=body, headers=headers)
        path = request.url.path
        queue = self.scripts.get(path)
        if queue:
            scripted = queue.popleft()
            if scripted.error is not None:
                raise scripted.error
            return httpx.Response(scripted.status, json=scripted.body, headers=scripted.headers)
        if request.headers.get("authorization") != f"Bearer {self.api_key}":
            return envelope(401, "unauthorized", "Invalid API key.")
        if path == "/v1/transcription/jobs" and request.method == "POST":
            return self.create(request)
        if path == "/v1/transcription/jobs" and request.method == "GET":
            cursor = request.url.params.get("cursor")
            return httpx.Response(200, json=self.pages[cursor])
        if path.startswith("/v1/transcription/jobs/"):
            job_id = path.rsplit("/", 1)[1]
            if job_id not in self.jobs:
                return problem(404, "not_found", f"No transcription job with id '{job_id}'.")
            job = self.jobs[job_id]
            pending = self.statuses.get(job_id)
            if pending:
                job["status"] = pending.popleft()
            headers = {}
            if job["status"] == "completed" and job_id in self.units:
                headers["x-pyai-units"] = self.units[job_id]
            return httpx.Response(200, json=job, headers=headers)
        return problem(404, "not_found", "No such route.")

    def create(self, request: httpx.Request) -> httpx.Response:
        key = request.headers.get("idempotency-key")
        if key in self.idempotency:
            body, job = self.idempotency[key]
            if body != request.content and not request.headers["content-type"].startswith("multipart"):
                return problem(
                    409, "idempotency_conflict", "Idempotency-Key was reused with a different request body."
                )
            return httpx.Response(202, json=job)
        job_id = f"job_{len(self.jobs):024d}"
        job = {"job_id": job_id, "status": "queued", "created_at": 1786599793725, "updated_at": 1786599793725}
        self.jobs[job_id] = dict(job)
        if key:
            self.idempotency[key] = (request.content, job)
        return httpx.Response(202, json=job)


def envelope(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> httpx.Response:
    body = {"error": {"message": message, "type": "invalid_request_error", "code": code, "param": None}}
    return httpx.Response(status, json=body, headers={"x-request-id": "8d1c-uuid", **(headers or {})})


def problem(status: int, code: str, detail: str) -> httpx.Response:
    body = {
        "type": f"https://api.pyai.com/problems/{code}",
        "title": "Error",
        "status": status,
        "detail": detail,
        "request_id": "req_000000000000000000000001",
    }
    return httpx.Response(
        status,
        json=body,
        headers={
            "content-type": "application/problem+json",
            "x-pyai-request-id": "req_000000000000000000000001",
        },
    )


def multipart_fields(
    request: httpx.Request,
) -> tuple[dict[str, list[str]], dict[str, tuple[str, bytes, str]]]:
    """Form fields and files of a multipart request, parsed with the stdlib email parser."""
    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(head + request.content)
    fields: dict[str, list[str]] = {}
    files: dict[str, tuple[str, bytes, str]] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        filename = part.get_filename()
        payload = part.get_payload(decode=True)
        if filename is not None:
            files[name] = (filename, payload, part.get_content_type())
        else:
            fields.setdefault(name, []).append(payload.decode())
    return fields, files


def json_body(request: httpx.Request) -> Any:
    return json.loads(request.content)
