"""Property: no request makes the engine answer 5xx, and it still serves a valid request afterwards.

Hypothesis throws random and adversarial requests at every route of the real app (the app
``create_app`` builds, over a real data dir and SQLite store) through Starlette's ASGI test
transport: JSON bodies (random documents, the create fields with values of every type, huge
integers, deep nesting, malformed URLs), multipart bodies (random fields, the list fields as
deep JSON, file parts), query strings (``limit``, ``cursor`` as base64 of random JSON,
``expires``/``signature``), headers (keys, content types, ``Idempotency-Key``) and methods.

The example counts keep the default run short (about 15 s on an idle machine); raise them with
``HYPOTHESIS_FUZZ_EXAMPLES=2000`` for a longer hunt.
"""

from __future__ import annotations

import base64
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlencode

import pytest
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from hearkit.engine.app import create_app
from hearkit.engine.settings import EngineSettings

EXAMPLES = int(os.environ.get("HYPOTHESIS_FUZZ_EXAMPLES", "100"))
FIELDS = [
    "audio_url",
    "webhook_url",
    "model",
    "channel",
    "diarize",
    "numerals",
    "output_formats",
    "vocabulary",
    "call_id",
    "smart_format",
    "label",
]
NASTY_URLS = [
    "https://[::1/a",
    "https://[zz]/a",
    "https://" + "a" * 64 + ".example/a.wav",
    "https://example.com/a\r\nx: 1",
    "https://example.com:99999999999999999999/a",
    "https://user:pw@[2002:7f00:1::]/a",
    "http://169.254.169.254/latest",
    "https://xn--/a",
    "https://\udcff.com/",
    "file:///etc/passwd",
    "//no-scheme/a",
    "https://%00/a",
    "https://" + "b." * 130 + "com/",
]
NASTY_TEXT = [
    "9" * 5000,
    "[" * 3000 + "]" * 3000,
    '{"a":' * 2000 + "1" + "}" * 2000,
    "\x00",
    "\udcff",
    "",
    " ",
    "-1",
    "1e999",
    "NaN",
]

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(2**200), max_value=2**200)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.sampled_from(NASTY_URLS + NASTY_TEXT)
)
_documents = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=20,
)


def _deep(kind: str, depth: int) -> str:
    return ("[" * depth + "]" * depth) if kind == "list" else ('{"a":' * depth + "0" + "}" * depth)


def _dumps(value: Any) -> str:
    try:
        return json.dumps(value, allow_nan=True)
    except (ValueError, RecursionError):
        return "null"


@st.composite
def json_bodies(draw: st.DrawFn) -> bytes:
    choice = draw(st.integers(0, 4))
    if choice == 0:
        return _dumps(draw(_documents)).encode("utf-8", "surrogatepass")
    if choice == 1:  # the create fields, with values of any type
        fields = draw(st.dictionaries(st.sampled_from(FIELDS), _documents, max_size=6))
        return _dumps(fields).encode("utf-8", "surrogatepass")
    if choice == 2:  # deep nesting in a known or unknown field
        field = draw(st.sampled_from([*FIELDS, "unknown"]))
        depth = draw(st.sampled_from([31, 33, 200, 900, 5000, 100_000]))
        nested = _deep(draw(st.sampled_from(["list", "dict"])), depth)
        return f'{{"audio_url": "https://example.com/a.wav", "{field}": {nested}}}'.encode()
    if choice == 3:  # a huge integer where a bool, list or string is expected
        field = draw(st.sampled_from([*FIELDS, "unknown"]))
        digits = "7" * draw(st.sampled_from([19, 20, 4300, 5000]))
        return f'{{"audio_url": "https://example.com/a.wav", "{field}": {digits}}}'.encode()
    return draw(st.binary(max_size=200))


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    boundary = draw(st.sampled_from(["b0undary", "x", "-" * 70]))
    parts = []
    for name in draw(st.lists(st.sampled_from([*FIELDS, "audio", "other", 'q"uote']), max_size=6)):
        value = draw(
            st.sampled_from(
                NASTY_URLS + NASTY_TEXT + [_deep("list", 5000), '["a", ["b"]]', "srt,vtt", "true"]
            )
            | st.text(max_size=30)
        )
        filename = draw(st.sampled_from([None, "a.wav", "", "../../etc/passwd"]))
        disposition = f'form-data; name="{name}"' + (
            f'; filename="{filename}"' if filename is not None else ""
        )
        parts.append(
            f"--{boundary}\r\ncontent-disposition: {disposition}\r\n\r\n".encode()
            + value.encode("utf-8", "surrogatepass")
            + b"\r\n"
        )
    tail = draw(st.sampled_from([f"--{boundary}--\r\n", "", "--" + boundary, "garbage"]))
    content_type = draw(
        st.sampled_from(
            [
                f"multipart/form-data; boundary={boundary}",
                "multipart/form-data",
                "multipart/form-data; boundary=",
            ]
        )
    )
    return b"".join(parts) + tail.encode(), content_type


def _cursor(value: Any) -> str:
    return base64.urlsafe_b64encode(_dumps(value).encode("utf-8", "surrogatepass")).decode().rstrip("=")


query_values = (
    st.text(max_size=30)
    | st.sampled_from(["9" * 5000, "-1", "0", "101", "1e3", "\x00", "", " 5", "٣"])
    | st.builds(_cursor, _documents)
    | st.builds(_cursor, st.lists(st.integers(min_value=-(2**80), max_value=2**80), min_size=2, max_size=2))
)
ROUTES = [
    "/v1/transcription/jobs",
    "/v1/transcription/jobs/{id}",
    "/v1/transcription/jobs/{id}/result",
    "/v1/transcription/jobs/{id}/formats/{fmt}",
    "/v1/me",
    "/v1/webhooks/signing-secret",
    "/v1/sandbox/keys",
    "/v1/health",
    "/openapi.json",
    "/{id}",
]
path_segments = st.text(max_size=40).map(lambda s: quote(s, safe="")) | st.sampled_from(
    ["job_x", "%00", "..", "a" * 5000]
)
header_text = st.text(alphabet=st.characters(min_codepoint=32, max_codepoint=126), max_size=300)


@pytest.fixture(scope="module")
def fuzz_api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, str]]:
    settings_ = EngineSettings(
        data_dir=tmp_path_factory.mktemp("fuzz"),
        transcriber="fake",
        rate_rps=1e9,
        rate_burst=10**9,
        max_upload_bytes=256 * 1024,
        sandbox_keys_per_minute=1e9,
    )
    app = create_app(settings_)
    key, _ = app.state.runtime.ensure_local_key()
    client = TestClient(app, raise_server_exceptions=False)  # no lifespan: the worker fetches nothing
    yield client, key
    client.close()
    app.state.runtime.store.close()


def _sendable(params: dict[str, str]) -> bool:
    """Whether an HTTP client can put ``params`` in a URL: httpx refuses a query over 65,536 characters
    before sending ("URL component 'query' too long"), so such a request never reaches the server."""
    return len(urlencode(params)) < 60_000


def _still_serving(client: TestClient, key: str) -> None:
    auth = {"authorization": f"Bearer {key}"}
    assert client.get("/v1/me", headers=auth).status_code == 200
    created = client.post(
        "/v1/transcription/jobs", headers=auth, files={"audio": ("a.wav", b"RIFF" + b"\0" * 64)}
    )
    assert created.status_code == 202, created.text
    assert client.get(f"/v1/transcription/jobs/{created.json()['job_id']}", headers=auth).status_code == 200


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    route=st.sampled_from(ROUTES),
    segment=path_segments,
    method=st.sampled_from(["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]),
    query=st.dictionaries(
        st.sampled_from(["limit", "cursor", "expires", "signature", "x"]), query_values, max_size=4
    ),
    auth=st.sampled_from(["valid", "none", "garbage", "x-api-key", "bearer-empty"]),
    idem=st.none() | header_text,
    body_kind=st.sampled_from(["json", "multipart", "none", "other"]),
    data=st.data(),
)
def test_no_request_gets_a_5xx_and_the_server_keeps_serving(
    fuzz_api: tuple[TestClient, str],
    route: str,
    segment: str,
    method: str,
    query: dict[str, str],
    auth: str,
    idem: str | None,
    body_kind: str,
    data: st.DataObject,
) -> None:
    client, key = fuzz_api
    path = route.replace("{id}", segment).replace(
        "{fmt}", data.draw(st.sampled_from(["srt", "vtt", "json", segment]))
    )
    headers: dict[str, str] = {
        "valid": {"authorization": f"Bearer {key}"},
        "none": {},
        "garbage": {"authorization": "Bearer pyai_test_" + "x" * 40},
        "x-api-key": {"x-api-key": key},
        "bearer-empty": {"authorization": "Bearer "},
    }[auth]
    if idem is not None:
        headers["idempotency-key"] = idem
    content: bytes | None = None
    if body_kind == "json":
        content = data.draw(json_bodies())
        headers["content-type"] = data.draw(
            st.sampled_from(
                ["application/json", "application/merge-patch+json", "application/json; charset=latin-1"]
            )
        )
    elif body_kind == "multipart":
        content, headers["content-type"] = data.draw(multipart_bodies())
    elif body_kind == "other":
        content = data.draw(st.binary(max_size=100))
        headers["content-type"] = data.draw(header_text)
    assume(_sendable(query))
    response = client.request(method, path, params=query, headers=headers, content=content)
    assert response.status_code < 500, (method, path, query, response.status_code, response.text[:500])
    _still_serving(client, key)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(multipart=st.booleans(), data=st.data())
def test_random_create_bodies_with_a_valid_key_never_get_a_5xx(
    fuzz_api: tuple[TestClient, str], multipart: bool, data: st.DataObject
) -> None:
    client, key = fuzz_api
    headers = {"authorization": f"Bearer {key}"}
    if multipart:
        content, headers["content-type"] = data.draw(multipart_bodies())
    else:
        content, headers["content-type"] = data.draw(json_bodies()), "application/json"
    response = client.post("/v1/transcription/jobs", content=content, headers=headers)
    assert response.status_code < 500, (content[:300], response.status_code, response.text[:500])
    _still_serving(client, key)


cursors = st.builds(
    _cursor, st.lists(st.integers(min_value=-(2**80), max_value=2**80), min_size=2, max_size=2)
) | st.builds(_cursor, _documents)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    limit=st.none() | st.sampled_from(["1", "100"]) | query_values,
    cursor=cursors | query_values,
    expires=st.sampled_from(["9" * 5000, "9" * 13, "1", "٣", "-1"]) | query_values,
    signature=st.sampled_from(["\x80", "é" * 64, "0" * 64]) | query_values,
    fmt=st.sampled_from(["srt", "vtt", "x"]),
)
def test_random_query_strings_and_cursors_never_get_a_5xx(
    fuzz_api: tuple[TestClient, str], limit: str | None, cursor: str, expires: str, signature: str, fmt: str
) -> None:
    client, key = fuzz_api
    auth = {"authorization": f"Bearer {key}"}
    listing = {"cursor": cursor} if limit is None else {"cursor": cursor, "limit": limit}
    assume(_sendable(listing) and _sendable({"expires": expires, "signature": signature}))
    responses = [
        client.get("/v1/transcription/jobs", params=listing, headers=auth),
        client.get(
            "/v1/transcription/jobs/job_x/result", params={"expires": expires, "signature": signature}
        ),
        client.get(
            f"/v1/transcription/jobs/job_x/formats/{fmt}", params={"expires": expires, "signature": signature}
        ),
    ]
    for response in responses:
        assert response.status_code < 500, (response.url, response.status_code, response.text[:500])
    _still_serving(client, key)


@settings(max_examples=max(10, EXAMPLES // 5), deadline=None, suppress_health_check=list(HealthCheck))
@given(body=json_bodies(), idem=header_text.filter(bool))
def test_idempotent_replays_of_random_bodies_never_fail_the_server(
    fuzz_api: tuple[TestClient, str], body: bytes, idem: str
) -> None:
    client, key = fuzz_api
    headers = {"authorization": f"Bearer {key}", "content-type": "application/json", "idempotency-key": idem}
    first = client.post("/v1/transcription/jobs", content=body, headers=headers)
    again = client.post("/v1/transcription/jobs", content=body, headers=headers)
    assert first.status_code < 500 and again.status_code < 500, (first.text[:300], again.text[:300])
    if first.status_code == 202:
        assert again.status_code in {202, 409}


def test_the_fuzzed_server_still_has_its_files_owner_only(fuzz_api: tuple[TestClient, str]) -> None:
    client, _ = fuzz_api
    data_dir: Path = client.app.state.runtime.settings.data_dir  # type: ignore[attr-defined]
    assert data_dir.stat().st_mode & 0o077 == 0
    assert (data_dir / "engine.sqlite3").stat().st_mode & 0o077 == 0
