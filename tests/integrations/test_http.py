"""The shared HTTP seam (`integrations.http.VendorHttpClient`) over real HTTP.

A tiny stdlib server in a thread plays the vendor, answering from a script per request, and a
Merit-style test vendor stands on the seam: HMAC-signed query strings with a fresh timestamp per
attempt, reads sent as POST, answers that may be a JSON string holding JSON, a rate-limit reset
given as a unix timestamp. The budget is an in-memory `RateLimitBudget` with a fake clock, so
nothing here sleeps for real and no database is needed.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import hmac
import io
import itertools
import json
import logging
import socket
import threading
import time
import traceback
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests

from integrations.base import (
    CallRecord,
    ConfigError,
    IntegrationError,
    RateLimited,
    TransientError,
)
from integrations.http import HttpCall, HttpResponse, RateLimitInfo, VendorHttpClient
from integrations.ratelimit import BudgetState, RateLimitBudget
from uku.logging import RedactSecretsFilter, register_secret

# --- The vendor: a scripted local server ----------------------------------------------------------


@dataclass
class Reply:
    """One scripted answer. `drop` reads the request and closes the connection without a word
    (the request arrived, the answer is lost); `delay` sleeps before answering."""

    status: int = 200
    body: Any = None  # JSON-encoded unless bytes
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    delay: float = 0.0


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    content_type: str = ""


class Vendor:
    """The script and what the server received, shared with the handler threads."""

    def __init__(self) -> None:
        self.replies: dict[tuple[str, str], deque[Reply]] = {}
        self.seen: list[Seen] = []
        self.lock = threading.Lock()
        self.url = ""

    def script(self, method: str, path: str, *replies: Reply) -> None:
        with self.lock:
            self.replies.setdefault((method, path), deque()).extend(replies)

    def next_reply(self, method: str, path: str) -> Reply:
        with self.lock:
            queue = self.replies.get((method, path))
            return queue.popleft() if queue else Reply(200, {"ok": True})

    def count(self, method: str, path: str) -> int:
        return sum(1 for s in self.seen if (s.method, s.path) == (method, path))


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    vendor: Vendor

    def _answer(self) -> None:
        parts = urlsplit(self.path)
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        with self.vendor.lock:
            content_type = self.headers.get("Content-Type", "")
            self.vendor.seen.append(Seen(self.command, parts.path, query, body, content_type))
        reply = self.vendor.next_reply(self.command, parts.path)
        if reply.drop:
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return
        if reply.delay:
            time.sleep(reply.delay)
        if isinstance(reply.body, bytes):
            payload = reply.body
        else:
            payload = b"" if reply.body is None else json.dumps(reply.body).encode()
        try:
            self.send_response(reply.status)
            for name, value in reply.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)
        except OSError:  # the client gave up waiting (a timeout test)
            self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = _answer

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that timed out is expected here, not a failure of the server


@pytest.fixture
def vendor() -> Iterator[Vendor]:
    state = Vendor()
    handler = type("Handler", (_Handler,), {"vendor": state})
    server = _Server(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    state.url = f"http://127.0.0.1:{server.server_address[1]}/api/v1"
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()


# --- The budget: shared state in memory, a fake clock ----------------------------------------------


class MemoryBudget(RateLimitBudget):
    """A `RateLimitBudget` in a dict, on a clock that moves only when the budget sleeps."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []
        self.states: dict[str, BudgetState] = {}
        super().__init__(clock=lambda: self.now, sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def state(self, key: str) -> BudgetState:
        return self.states.get(key, BudgetState())

    def update(
        self, key: str, limit: int | None, remaining: int | None, reset_seconds: float | None
    ) -> None:
        state = self.state(key)
        self.states[key] = dataclasses.replace(
            state,
            limit=state.limit if limit is None else limit,
            remaining=state.remaining if remaining is None else remaining,
            reset_at=state.reset_at if reset_seconds is None else self.now + reset_seconds,
        )

    def block(self, key: str, seconds: float) -> None:
        state = self.state(key)
        until = self.now + seconds
        if state.blocked_until is None or until > state.blocked_until:
            self.states[key] = dataclasses.replace(state, blocked_until=until)


# --- The test vendor on the seam --------------------------------------------------------------------

API_ID = "demo-api-id-0c3e2f7a"
API_KEY = "demo-api-key-canary-9f8e7d6c5b4a"  # the canary: must never appear anywhere


def signature(api_id: str, api_key: str, timestamp: str, body: bytes) -> str:
    """Merit's scheme: base64(HMAC-SHA256(key as typed, api id + timestamp + body))."""
    data = api_id.encode() + timestamp.encode() + body
    return base64.b64encode(hmac.new(api_key.encode(), data, hashlib.sha256).digest()).decode()


class DemoClient(VendorHttpClient):
    """About what a Merit Aktiva client needs on top of the seam."""

    vendor = "Demo"

    def __init__(self, base_url: str, *, api_key: str = API_KEY, **options: Any) -> None:
        register_secret(API_ID)
        register_secret(api_key)
        self._api_key = api_key
        self._stamps = itertools.count(20240624205900)  # a fresh "now" on every call to it
        self.signed: list[tuple[int, str]] = []  # (attempt, timestamp) per authenticate call
        self.calls: list[HttpCall] = []
        super().__init__(base_url=base_url, rate_key="demo:test-budget", **options)

    def authenticate(self, call: HttpCall) -> None:
        # Each attempt starts from the caller's call, never from the last attempt's signed one.
        assert "signature" not in call.params
        stamp = str(next(self._stamps))
        call.params.update(
            ApiId=API_ID,
            timestamp=stamp,
            signature=signature(API_ID, self._api_key, stamp, call.body or b""),
        )
        self.signed.append((call.attempt, stamp))
        self.calls.append(call)

    def renew_authentication(self, call: HttpCall, response: HttpResponse) -> bool:
        # A stale timestamp: one more try with a fresh signature.
        return response.status == 401 and response.text == "api-wrongsignature"

    def parse_response(self, raw: requests.Response) -> HttpResponse:
        parsed = super().parse_response(raw)
        if isinstance(parsed.data, str):  # a JSON string holding JSON
            try:
                return dataclasses.replace(parsed, data=json.loads(parsed.data))
            except ValueError:
                return dataclasses.replace(parsed, data=None, malformed=True)
        return parsed

    def rate_limit_info(self, response: HttpResponse) -> RateLimitInfo | None:
        info = super().rate_limit_info(response)
        if info is None or info.reset_seconds is None:
            return info
        # The reset is a unix timestamp, not seconds from now.
        return dataclasses.replace(info, reset_seconds=info.reset_seconds - self._budget.clock())

    def error_for(self, call: HttpCall, response: HttpResponse) -> IntegrationError:
        reason = self.scrub(response.error.get("Message") or response.text)
        return ConfigError(
            f"Demo refused {call.template}: {reason}", details={"path": call.template}
        )

    def secrets(self) -> Iterable[str | None]:
        return (API_ID, self._api_key)


@pytest.fixture
def budget() -> MemoryBudget:
    return MemoryBudget()


@pytest.fixture
def backoffs() -> list[float]:
    return []


@pytest.fixture
def records() -> list[CallRecord]:
    return []


@pytest.fixture
def make_client(
    vendor: Vendor, budget: MemoryBudget, backoffs: list[float], records: list[CallRecord]
) -> Callable[..., DemoClient]:
    def make(**options: Any) -> DemoClient:
        defaults: dict[str, Any] = {
            "budget": budget,
            "sleep": backoffs.append,
            "on_call": records.append,
            "timeout": (1.0, 2.0),
            "max_attempts": 3,
            "max_inline_wait": 10.0,
            "backoff_base": 0.01,
        }
        return DemoClient(vendor.url, **{**defaults, **options})

    return make


def signatures_hold(seen: Iterable[Seen]) -> bool:
    return all(
        s.query["signature"] == signature(API_ID, API_KEY, s.query["timestamp"], s.body)
        for s in seen
    )


# --- Reads are retried, writes are not resent -------------------------------------------------------


def test_it_retries_a_read_after_a_503_then_succeeds(vendor, make_client, backoffs) -> None:
    vendor.script("GET", "/api/v1/items", Reply(503), Reply(200, {"items": [1]}))
    response = make_client().request("GET", "/items")
    assert response.status == 200 and response.data == {"items": [1]}
    assert vendor.count("GET", "/api/v1/items") == 2 and len(backoffs) == 1


def test_it_gives_up_on_a_read_after_max_attempts_with_growing_backoff(
    vendor, make_client, backoffs
) -> None:
    vendor.script("GET", "/api/v1/items", *[Reply(500)] * 5)
    with pytest.raises(TransientError) as raised:
        make_client().request("GET", "/items")
    assert vendor.count("GET", "/api/v1/items") == 3
    assert raised.value.details["write"] is False and raised.value.details["status"] == 500
    assert "try again later" in raised.value.message
    assert len(backoffs) == 2 and backoffs[1] > backoffs[0]


def test_it_does_not_resend_a_write_whose_response_was_lost(vendor, make_client) -> None:
    vendor.script("POST", "/api/v1/sendinvoice", Reply(drop=True), Reply(200, {"ok": True}))
    with pytest.raises(TransientError) as raised:
        make_client().request("POST", "/sendinvoice", json={"InvoiceNo": "1"})
    assert vendor.count("POST", "/api/v1/sendinvoice") == 1  # it arrived, and only once
    assert raised.value.details["write"] is True and raised.value.details["kind"] == "connection"
    assert "may or may not have been saved" in raised.value.message


def test_it_does_not_resend_a_write_that_timed_out(vendor, make_client) -> None:
    vendor.script("POST", "/api/v1/sendinvoice", Reply(delay=0.6), Reply(200, {}))
    with pytest.raises(TransientError) as raised:
        make_client(timeout=(1.0, 0.2)).request("POST", "/sendinvoice", json={})
    assert raised.value.details == {
        "method": "POST", "path": "/sendinvoice", "kind": "timeout", "write": True,
    }  # fmt: skip
    time.sleep(0.5)  # let the slow answer finish: a resend would have arrived by now
    assert vendor.count("POST", "/api/v1/sendinvoice") == 1


def test_it_does_not_resend_a_write_after_a_500_but_does_after_a_503(vendor, make_client) -> None:
    vendor.script("POST", "/api/v1/a", Reply(500), Reply(200, {}))
    with pytest.raises(TransientError) as raised:
        make_client().request("POST", "/a", json={})
    assert vendor.count("POST", "/api/v1/a") == 1 and raised.value.details["write"] is True
    vendor.script("POST", "/api/v1/b", Reply(503), Reply(200, {"done": 1}))
    assert make_client().request("POST", "/b", json={}).data == {"done": 1}  # 503: not done
    assert vendor.count("POST", "/api/v1/b") == 2


def test_it_retries_a_read_sent_as_post_when_the_vendor_says_it_is_idempotent(
    vendor, make_client
) -> None:
    vendor.script("POST", "/api/v1/gettaxes", Reply(drop=True), Reply(200, [{"Id": "t"}]))
    response = make_client().request("POST", "/gettaxes", json={}, idempotent=True)
    assert response.data == [{"Id": "t"}] and vendor.count("POST", "/api/v1/gettaxes") == 2


def test_it_sends_json_once_serialised_and_keeps_a_callers_content_type(
    vendor, make_client
) -> None:
    client = make_client()
    client.request("POST", "/a", json={"Navn": "Ærlig"}, idempotent=True)
    client.request("POST", "/b", json=[1], headers={"content-type": "application/vnd+json"})
    first, second = vendor.seen
    assert json.loads(first.body) == {"Navn": "Ærlig"} and second.body == b"[1]"
    assert (first.content_type, second.content_type) == (
        "application/json",
        "application/vnd+json",
    )


# --- Signing, parsing, mapping ---------------------------------------------------------------------


def test_it_signs_every_attempt_afresh(vendor, make_client) -> None:
    vendor.script("POST", "/api/v1/getitems", Reply(503), Reply(502), Reply(200, []))
    client = make_client()
    client.request("POST", "/getitems", json={"Name": "Kliendinimi"}, idempotent=True)
    assert [attempt for attempt, _stamp in client.signed] == [1, 2, 3]
    seen = vendor.seen
    assert len({s.query["timestamp"] for s in seen}) == 3  # a fresh timestamp each time
    assert len({s.query["signature"] for s in seen}) == 3
    assert all(set(s.query) == {"ApiId", "timestamp", "signature"} for s in seen)  # none piled up
    assert signatures_hold(seen)  # over the very bytes that were sent
    assert json.loads(seen[0].body) == {"Name": "Kliendinimi"}


def test_it_re_signs_once_when_the_vendor_refuses_the_signature(vendor, make_client) -> None:
    refused = Reply(401, b"api-wrongsignature")
    vendor.script("POST", "/api/v1/getitems", refused, Reply(200, []))
    client = make_client(max_attempts=1)  # the renewal does not count as an attempt
    assert client.request("POST", "/getitems", json={}, idempotent=True).data == []
    vendor.script("POST", "/api/v1/getitems", refused, refused, refused)
    with pytest.raises(ConfigError, match="api-wrongsignature"):
        client.request("POST", "/getitems", json={}, idempotent=True)
    assert vendor.count("POST", "/api/v1/getitems") == 4  # 2 + 2: renewed once per call


def test_it_unwraps_an_answer_that_is_a_json_string_holding_json(vendor, make_client) -> None:
    vendor.script("POST", "/api/v1/gettaxes", Reply(200, json.dumps([{"Code": "22"}])))
    assert make_client().request("POST", "/gettaxes", json={}, idempotent=True).data == [
        {"Code": "22"}
    ]


def test_it_turns_a_malformed_answer_into_a_transient_error(vendor, make_client) -> None:
    trace = b"System.NullReferenceException: Object reference not set\n   at Merit.Api..."
    vendor.script("POST", "/api/v1/gettaxes", *[Reply(200, trace)] * 3)
    with pytest.raises(TransientError) as raised:
        make_client().request("POST", "/gettaxes", json={}, idempotent=True)
    assert raised.value.details["kind"] == "malformed" and raised.value.details["write"] is False
    assert vendor.count("POST", "/api/v1/gettaxes") == 3  # a read: retried
    vendor.script("POST", "/api/v1/sendinvoice", Reply(200, trace), Reply(200, {}))
    with pytest.raises(TransientError) as raised:
        make_client().request("POST", "/sendinvoice", json={})
    assert raised.value.details["write"] is True and "may or may not" in raised.value.message
    assert vendor.count("POST", "/api/v1/sendinvoice") == 1  # a write: not resent


def test_it_maps_a_refusal_through_the_vendors_error_hook(vendor, make_client) -> None:
    vendor.script("POST", "/api/v1/sendinvoice", Reply(400, {"Message": "Rows missing"}))
    with pytest.raises(ConfigError) as raised:
        make_client().request("POST", "/sendinvoice", json={})
    assert raised.value.message == "Demo refused /sendinvoice: Rows missing"
    assert vendor.count("POST", "/api/v1/sendinvoice") == 1


# --- Rate limits -------------------------------------------------------------------------------------


def test_it_honours_a_429_retry_after_through_the_shared_budget(
    vendor, make_client, budget, backoffs
) -> None:
    vendor.script("GET", "/api/v1/items", Reply(429, headers={"Retry-After": "3"}), Reply(200, {}))
    assert make_client().request("GET", "/items").status == 200
    assert budget.sleeps == [3.0] and backoffs == []  # the budget's wait, not a private sleep
    assert budget.state("demo:test-budget").blocked_until == pytest.approx(budget.now)


def test_it_raises_rate_limited_when_the_wait_is_longer_than_the_inline_wait(
    vendor, make_client, budget
) -> None:
    vendor.script("GET", "/api/v1/items", Reply(429, headers={"Retry-After": "30"}))
    with pytest.raises(RateLimited) as raised:
        make_client(max_inline_wait=10).request("GET", "/items")
    assert raised.value.retry_after == 30 and budget.sleeps == []
    # Another client on the same credential does not even send while the block lasts.
    with pytest.raises(RateLimited):
        make_client().request("GET", "/items")
    assert vendor.count("GET", "/api/v1/items") == 1


def test_it_feeds_the_vendors_rate_limit_headers_to_the_budget(vendor, make_client, budget) -> None:
    reset_at = budget.now + 5
    headers = {"X-RateLimit-Limit": "60", "X-RateLimit-Remaining": "0",
               "X-RateLimit-Reset": str(int(reset_at))}  # fmt: skip
    vendor.script("GET", "/api/v1/items", Reply(200, {}, headers))
    client = make_client()
    client.request("GET", "/items")
    state = budget.state("demo:test-budget")
    assert (state.limit, state.remaining, state.reset_at) == (60, 0, pytest.approx(reset_at))
    client.request("GET", "/items")  # the period is used up: wait for its reset first
    assert budget.sleeps == [pytest.approx(5)]


def test_it_waits_for_the_period_reset_when_a_429_names_no_retry_after(
    vendor, make_client, budget
) -> None:
    reset = {"X-RateLimit-Reset": str(int(budget.now + 4))}  # a timestamp, as Merit sends it
    vendor.script("GET", "/api/v1/items", Reply(429, headers=reset), Reply(200, {}))
    assert make_client().request("GET", "/items").status == 200
    assert budget.sleeps == [pytest.approx(4)]


# --- Call records -----------------------------------------------------------------------------------


def test_it_records_one_call_per_attempt_with_the_path_template(
    vendor, make_client, records
) -> None:
    vendor.script("GET", "/api/v1/customer/123/contact/45", Reply(503), Reply(drop=True))
    make_client().request("GET", "/customer/123/contact/45", params={"from": 0})
    assert [(r.method, r.path, r.status) for r in records] == [
        ("GET", "/customer/{id}/contact/{id}", 503),
        ("GET", "/customer/{id}/contact/{id}", None),  # no answer: no status
        ("GET", "/customer/{id}/contact/{id}", 200),
    ]
    assert all(r.duration_ms >= 0 for r in records)


def test_a_broken_call_recorder_does_not_break_the_call(vendor, make_client) -> None:
    def broken(record: CallRecord) -> None:
        raise RuntimeError("the call log is down")

    assert make_client(on_call=broken).request("GET", "/items").status == 200


# --- Secrets -----------------------------------------------------------------------------------------


def test_it_never_lets_a_url_or_secret_escape(vendor, make_client, records, caplog) -> None:
    """Across every failure kind: no URL, query string or secret in any exception (message,
    repr, details, traceback) or call record, and no secret or query string in any log line,
    urllib3's DEBUG request lines included, captured with uku's redaction filter out of the way."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root, urllib3_logger = logging.getLogger(), logging.getLogger("urllib3")
    levels, handlers = (root.level, urllib3_logger.level), root.handlers[:]
    root.handlers = [handler] + [
        h for h in handlers if not any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    ]
    root.setLevel(logging.DEBUG)
    urllib3_logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    errors: list[str] = []
    client = make_client(timeout=(1.0, 0.2))
    faults = {
        "lost": Reply(drop=True), "slow": Reply(delay=0.4), "down": Reply(500),
        "busy": Reply(503), "garbled": Reply(200, b"<html>Stack trace"),
        "refused": Reply(400, {"Message": f"bad ApiId {API_ID} key {API_KEY}"}),
        "limited": Reply(429, headers={"Retry-After": "60"}),
    }  # fmt: skip
    try:
        for name, reply in faults.items():
            for method, idempotent in (("POST", True), ("POST", False)):
                vendor.script(method, f"/api/v1/{name}", *[reply] * 3)
                try:
                    client.request(method, f"/{name}", json={"k": 1}, idempotent=idempotent)
                except IntegrationError as exc:
                    assert exc.__cause__ is None and exc.__context__ is None
                    errors += [str(exc), repr(exc), repr(exc.details), repr(vars(exc))]
                    errors.append("".join(traceback.format_exception(exc)))
                vendor.replies.clear()
    finally:
        root.handlers = handlers
        root.setLevel(levels[0])
        urllib3_logger.setLevel(levels[1])
    logs = stream.getvalue() + caplog.text
    signatures = [s.query["signature"] for s in vendor.seen]
    assert len(errors) == 5 * 2 * len(faults)  # every read and every write failed
    assert "urllib3" in logs and "/api/v1/down?[REDACTED]" in logs  # it logged, redacted
    exceptions = "\n".join([*errors, *map(repr, records)])
    for text in (vendor.url, "127.0.0.1", "ApiId=", "timestamp=", API_ID, API_KEY, *signatures):
        assert text not in exceptions
    for text in ("ApiId=", "timestamp=", "signature=", API_ID, API_KEY, *signatures):
        assert text not in logs
    assert "[REDACTED]" in exceptions  # the vendor's echo of our credentials was masked


def test_a_call_shows_no_credential_in_its_repr(vendor, make_client) -> None:
    client = make_client()
    client.send("POST", f"/session/{API_KEY}", template="/session/{key}", params={"q": API_ID})
    (call,) = client.calls
    assert call.params["signature"] and call.path.endswith(API_KEY)
    assert API_KEY not in repr(call) and API_ID not in repr(call)
    assert "/session/{key}" in repr(call) and "signature" not in repr(call)
