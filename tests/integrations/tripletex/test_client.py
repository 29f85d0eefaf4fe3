"""TripletexClient over real HTTP against the sandbox (sessions, retries, rate limits, paging,
errors, secrecy), plus a few `responses` unit tests for what the sandbox cannot provoke."""

from __future__ import annotations

import io
import logging
import math
import time
import traceback
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import responses
import time_machine
from urllib3.exceptions import MaxRetryError, NewConnectionError

from integrations.base import (
    AuthError,
    BooksAccessLost,
    CallRecord,
    ConfigError,
    IntegrationError,
    RateLimited,
    TransientError,
)
from integrations.ratelimit import get_budget
from integrations.tripletex.client import (
    TripletexClient,
    TripletexForbidden,
    TripletexRequestError,
    clear_session_cache,
    encode_path,
    path_template,
    session_expiration_date,
)
from integrations.tripletex.sandbox import SandboxServer
from uku.logging import RedactSecretsFilter

CREATE = "PUT /token/session/:create"


class Sleeps(list):
    """A fake `sleep` that records how long it was asked to wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def calls() -> list[CallRecord]:
    return []


@pytest.fixture
def token(tripletex_sandbox: SandboxServer) -> str:
    return tripletex_sandbox.store.create_employee_token()["token"]


@pytest.fixture
def make_client(tripletex_settings, token, sleeps, calls):
    def make(employee_token: str | None = None, **kwargs: Any) -> TripletexClient:
        options: dict[str, Any] = {"on_call": calls.append, "sleep": sleeps, "backoff_base": 0.01}
        return TripletexClient(
            employee_token=employee_token or token, environment="test", **{**options, **kwargs}
        )

    return make


def counts(server: SandboxServer) -> dict[str, int]:
    return server.store.request_counts()


def settled_counts(server: SandboxServer, key: str, expected: int) -> dict[str, int]:
    """The request counts once `key` reached `expected`: a delayed request is logged only when
    the sandbox finishes it, after the client has given up waiting."""
    deadline = time.monotonic() + 3
    while counts(server).get(key, 0) < expected and time.monotonic() < deadline:
        time.sleep(0.02)
    return counts(server)


def firm_customer_id(server: SandboxServer) -> int:
    store = server.store
    return next(c["id"] for c in store.company_rows("customer", store.firm_company_id))


def order_body(server: SandboxServer) -> dict[str, Any]:
    today = server.store.today().isoformat()
    customer = {"id": firm_customer_id(server)}
    return {"customer": customer, "orderDate": today, "deliveryDate": today}


def firm_orders(server: SandboxServer) -> int:
    return len(server.store.company_rows("order", server.store.firm_company_id))


# --- Sessions -------------------------------------------------------------------------------------


def test_it_creates_one_session_and_reuses_it(tripletex_sandbox, make_client) -> None:
    client = make_client()
    who = client.get("/token/session/>whoAmI", fields="companyId")
    client.get_raw("/customer", {"count": 1})
    make_client().get(f"/company/{who['companyId']}")  # another client, same token: same session
    assert counts(tripletex_sandbox)[CREATE] == 1
    assert counts(tripletex_sandbox)["GET /customer"] == 1


def test_it_recreates_the_session_once_on_a_401(tripletex_sandbox, make_client) -> None:
    client = make_client()
    client.get_raw("/customer", {"count": 1})
    tripletex_sandbox.store.inject_fault("unauthorized", "/customer", times=1)
    assert client.get_raw("/customer", {"count": 1})["values"]
    assert counts(tripletex_sandbox)[CREATE] == 2


def test_it_raises_auth_error_when_the_401_persists(tripletex_sandbox, make_client) -> None:
    tripletex_sandbox.store.inject_fault("unauthorized", "/customer", times=5)
    with pytest.raises(AuthError) as raised:
        make_client().get_raw("/customer")
    assert counts(tripletex_sandbox)[CREATE] == 2  # once at first, once after the 401
    assert counts(tripletex_sandbox)["GET /customer"] == 2
    assert raised.value.details["code"] == 3000
    assert raised.value.details["request_id"]


def _session_rows(server: SandboxServer) -> list[dict[str, Any]]:
    return list(server.store.rows["sessionToken"].values())


def test_it_renews_a_session_that_died_at_midnight_once(tripletex_sandbox, make_client) -> None:
    client = make_client()
    client.get_raw("/customer", {"count": 1})
    # The session reached 00:00 (Oslo) at the start of its expirationDate: Tripletex ends it.
    for session in _session_rows(tripletex_sandbox):
        session["expirationDate"] = tripletex_sandbox.store.today().isoformat()

    assert client.get_raw("/customer", {"count": 1})["values"]
    assert client.get_raw("/customer", {"count": 1})["values"]  # the new session is reused
    assert counts(tripletex_sandbox)[CREATE] == 2


def test_it_stops_after_one_renewal_when_every_new_session_is_born_dead(
    tripletex_sandbox, make_client
) -> None:
    # The sandbox's "today" is uku's "tomorrow": every session uku asks for expires today.
    tripletex_sandbox.store.advance_days(1)
    with pytest.raises(AuthError):
        make_client().get_raw("/customer", {"count": 1})
    assert counts(tripletex_sandbox)[CREATE] == 2  # once at first, once after the 401
    assert counts(tripletex_sandbox)["GET /customer"] == 2


def test_it_asks_for_a_session_that_outlives_the_renewal_margin_near_midnight(
    tripletex_sandbox, make_client
) -> None:
    oslo = ZoneInfo("Europe/Oslo")
    with time_machine.travel(datetime(2026, 3, 9, 23, 55, tzinfo=oslo), tick=False):
        client = make_client()
        client.get_raw("/customer", {"count": 1})
        client.get_raw("/customer", {"count": 1})
        expirations = {s["expirationDate"] for s in _session_rows(tripletex_sandbox)}
    assert counts(tripletex_sandbox)[CREATE] == 1
    assert expirations == {"2026-03-11"}
    assert session_expiration_date(datetime(2026, 3, 9, 12, 0, tzinfo=oslo)) == date(2026, 3, 10)
    # Oslo, not UTC: 23:30 UTC on 9 March is already 10 March in Oslo.
    assert session_expiration_date(datetime(2026, 3, 9, 23, 30, tzinfo=UTC)) == date(2026, 3, 11)


def test_it_acts_in_a_client_company_through_for_company(tripletex_sandbox, make_client) -> None:
    client = make_client()
    client_company = tripletex_sandbox.store.info()["client_company_ids"][0]
    who = client.for_company(client_company).get("/token/session/>whoAmI")
    assert who["companyId"] == client_company and who["employeeIsProxy"] is True
    assert client.get("/token/session/>whoAmI")["companyId"] != client_company
    assert counts(tripletex_sandbox)[CREATE] == 1


def test_it_says_the_token_lacks_access_on_a_403(tripletex_sandbox, make_client) -> None:
    accountant = tripletex_sandbox.store.create_employee_token(accountant=True)["token"]
    with pytest.raises(TripletexForbidden) as raised:
        make_client(accountant).get_raw("/customer")  # the firm's own data, username 0
    assert isinstance(raised.value, AuthError)
    assert "access" in raised.value.message and "entitlement" in raised.value.message
    assert raised.value.details["code"] == 9000


def _stranger(server: SandboxServer) -> int:
    return next(
        c["id"] for c in server.store.rows["company"].values() if c["name"].startswith("Konk")
    )


def test_it_raises_books_access_lost_for_a_client_company_it_cannot_log_into(
    tripletex_sandbox, make_client
) -> None:
    client = make_client()
    stranger = _stranger(tripletex_sandbox)
    with pytest.raises(BooksAccessLost) as raised:
        client.for_company(stranger).get("/token/session/>whoAmI")
    error = raised.value
    assert not isinstance(error, AuthError) and error.permanent
    assert error.books_company_id == str(stranger) == error.details["books_company_id"]
    assert error.details["code"] == 9000
    assert str(stranger) in error.message and "not affected" in error.message
    assert client.get("/token/session/>whoAmI")["employeeIsProxy"] is False  # the firm works
    assert counts(tripletex_sandbox)[CREATE] == 1


def test_it_reads_a_401_in_a_client_company_as_lost_access_without_new_sessions(
    tripletex_sandbox, make_client
) -> None:
    client = make_client()
    books = client.for_company(tripletex_sandbox.store.info()["client_company_ids"][0])
    books.get("/token/session/>whoAmI")
    tripletex_sandbox.store.inject_fault("unauthorized", "/ledger/voucherType", times=10)
    for _attempt in range(3):
        with pytest.raises(BooksAccessLost):
            books.get_raw("/ledger/voucherType")
    assert counts(tripletex_sandbox)[CREATE] == 1  # the session was fine: never re-created
    assert counts(tripletex_sandbox)["GET /ledger/voucherType"] == 3
    assert client.get_raw("/customer", {"count": 1})["values"]  # the firm's calls still work


def test_it_renews_a_dead_session_once_when_acting_in_a_client_company(
    tripletex_sandbox, make_client
) -> None:
    client = make_client()
    books = client.for_company(tripletex_sandbox.store.info()["client_company_ids"][0])
    books.get("/token/session/>whoAmI")
    for session in _session_rows(tripletex_sandbox):
        session["expirationDate"] = tripletex_sandbox.store.today().isoformat()

    assert books.get_raw("/ledger/voucherType")["values"]
    assert counts(tripletex_sandbox)[CREATE] == 2


def test_it_raises_books_access_lost_once_access_is_revoked(tripletex_sandbox, make_client) -> None:
    client = make_client()
    store = tripletex_sandbox.store
    lost, kept = store.info()["client_company_ids"][:2]
    assert client.for_company(lost).get_raw("/ledger/voucherType")["values"]
    store.set_login_access(lost, False)

    with pytest.raises(BooksAccessLost) as raised:
        client.for_company(lost).get_raw("/ledger/voucherType")
    assert raised.value.books_company_id == str(lost)
    assert client.for_company(kept).get_raw("/ledger/voucherType")["values"]
    assert counts(tripletex_sandbox)[CREATE] == 1


def test_it_deletes_its_session_on_close(tripletex_sandbox, make_client) -> None:
    client = make_client()
    client.get("/token/session/>whoAmI")
    client.close()
    client.close()  # safe twice
    assert counts(tripletex_sandbox)["DELETE /token/session/{token}"] == 1
    assert all(s["_deleted"] for s in tripletex_sandbox.store.rows["sessionToken"].values())
    make_client().get("/token/session/>whoAmI")  # the deleted session is not reused
    assert counts(tripletex_sandbox)[CREATE] == 2


def test_it_refuses_to_run_without_the_platform_consumer_token(tripletex_settings) -> None:
    tripletex_settings.TRIPLETEX_CONSUMER_TOKEN_TEST = ""
    with pytest.raises(ConfigError, match="not configured for the Tripletex Test environment"):
        TripletexClient(employee_token="test-abcdefghijklmnopqrstuvwxyz", environment="test")


def test_it_blames_the_platform_for_an_invalid_consumer_token(
    tripletex_settings, make_client
) -> None:
    tripletex_settings.TRIPLETEX_CONSUMER_TOKEN_TEST = "test-not-our-consumer-token"
    with pytest.raises(ConfigError) as raised:
        make_client().get("/token/session/>whoAmI")
    assert not isinstance(raised.value, AuthError)
    assert "uku's configuration" in raised.value.message
    assert raised.value.details["code"] == 18000


# --- Rate limits ---------------------------------------------------------------------------------


def test_it_waits_out_a_429_and_retries(tripletex_sandbox, make_client, sleeps) -> None:
    tripletex_sandbox.store.inject_fault("rate_limit", "/customer", times=1, retry_after=1)
    assert make_client().get_raw("/customer", {"count": 1})["values"]
    assert len(sleeps) == 1 and 0.5 < sleeps[0] <= 1.0
    assert counts(tripletex_sandbox)["GET /customer"] == 2


def test_it_raises_rate_limited_when_the_429_persists(tripletex_sandbox, make_client) -> None:
    tripletex_sandbox.store.inject_fault("rate_limit", "/customer", times=10, retry_after=1)
    with pytest.raises(RateLimited) as raised:
        make_client().get_raw("/customer")
    assert raised.value.retry_after == 1
    assert counts(tripletex_sandbox)["GET /customer"] == 3  # TRIPLETEX_MAX_ATTEMPTS


def test_it_shares_a_long_wait_with_every_worker_instead_of_sleeping(
    tripletex_sandbox, make_client, sleeps
) -> None:
    tripletex_sandbox.store.inject_fault("rate_limit", "/customer", times=1, retry_after=120)
    with pytest.raises(RateLimited) as raised:
        make_client().get_raw("/customer")
    assert math.isclose(raised.value.retry_after, 120, abs_tol=1) and sleeps == []
    # Another worker with the same token does not even try while the block lasts.
    with pytest.raises(RateLimited):
        make_client().get_raw("/customer")
    assert counts(tripletex_sandbox)["GET /customer"] == 1


def test_it_keeps_the_rate_limit_headers_in_the_shared_budget(
    tripletex_sandbox, make_client
) -> None:
    client = make_client()
    client.get_raw("/customer", {"count": 1})
    state = get_budget().state(client._rate_key)
    assert state.limit == 10_000 and state.remaining == 10_000 - 2
    assert "test-" not in client._rate_key


# --- Transient failures ---------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["server_error", "unavailable", "drop", "malformed_json"])
def test_it_retries_a_read_after_a_transient_failure(
    tripletex_sandbox, make_client, sleeps, kind
) -> None:
    tripletex_sandbox.store.inject_fault(kind, "/customer", times=1)
    assert make_client().get_raw("/customer", {"count": 2})["values"]
    assert counts(tripletex_sandbox)["GET /customer"] == 2 and len(sleeps) == 1


@pytest.mark.parametrize("kind", ["server_error", "unavailable", "drop", "malformed_json"])
def test_it_gives_up_on_a_read_with_transient_error(
    tripletex_sandbox, make_client, sleeps, calls, kind
) -> None:
    tripletex_sandbox.store.inject_fault(kind, "/customer", times=10)
    with pytest.raises(TransientError) as raised:
        make_client().get_raw("/customer")
    assert raised.value.permanent is False and "try again later" in raised.value.message
    assert counts(tripletex_sandbox)["GET /customer"] == 3
    assert len(sleeps) == 2 and sleeps[1] > sleeps[0]  # exponential backoff
    assert 0.01 <= sleeps[0] <= 0.015 and 0.02 <= sleeps[1] <= 0.03  # plus up to 50% jitter
    assert [c.path for c in calls].count("/customer") == 3


def test_it_retries_a_read_that_times_out(tripletex_sandbox, tripletex_settings, make_client):
    tripletex_settings.TRIPLETEX_READ_TIMEOUT = 0.2
    store = tripletex_sandbox.store
    store.inject_fault("delay", "/customer", times=1, delay_seconds=0.5)
    assert make_client().get_raw("/customer", {"count": 1})["values"]
    store.inject_fault("delay", "/customer", times=3, delay_seconds=0.5)
    with pytest.raises(TransientError, match="did not answer in time"):
        make_client().get_raw("/customer", {"count": 1})
    assert settled_counts(tripletex_sandbox, "GET /customer", 5)["GET /customer"] == 5


def test_it_does_not_resend_a_write_whose_answer_was_lost(tripletex_sandbox, make_client) -> None:
    before = firm_orders(tripletex_sandbox)
    tripletex_sandbox.store.inject_fault("lose_response", "/order", method="POST", times=1)
    with pytest.raises(TransientError) as raised:
        make_client().post("/order", json=order_body(tripletex_sandbox))
    assert raised.value.details["write"] is True and "may or may not" in raised.value.message
    assert counts(tripletex_sandbox)["POST /order"] == 1
    assert firm_orders(tripletex_sandbox) == before + 1  # applied once, not twice


@pytest.mark.parametrize("kind", ["server_error", "drop"])
def test_it_does_not_resend_a_write_after_an_ambiguous_failure(
    tripletex_sandbox, make_client, kind
) -> None:
    tripletex_sandbox.store.inject_fault(kind, "/order", method="POST", times=1)
    with pytest.raises(TransientError):
        make_client().post("/order", json=order_body(tripletex_sandbox))
    assert counts(tripletex_sandbox)["POST /order"] == 1


def test_it_does_not_resend_a_write_that_timed_out(
    tripletex_sandbox, tripletex_settings, make_client
) -> None:
    tripletex_settings.TRIPLETEX_READ_TIMEOUT = 0.2
    tripletex_sandbox.store.inject_fault(
        "delay", "/order", method="POST", times=1, delay_seconds=0.5
    )
    with pytest.raises(TransientError):
        make_client().post("/order", json=order_body(tripletex_sandbox))
    assert settled_counts(tripletex_sandbox, "POST /order", 1)["POST /order"] == 1


@pytest.mark.parametrize("kind", ["unavailable", "rate_limit"])
def test_it_resends_a_write_refused_with_503_or_429(tripletex_sandbox, make_client, kind) -> None:
    before = firm_orders(tripletex_sandbox)
    tripletex_sandbox.store.inject_fault(kind, "/order", method="POST", times=1, retry_after=1)
    order = make_client().post("/order", json=order_body(tripletex_sandbox))
    assert order["id"] and firm_orders(tripletex_sandbox) == before + 1
    assert counts(tripletex_sandbox)["POST /order"] == 2


# --- Paging, fields, paths ----------------------------------------------------------------------


def test_it_streams_pages_until_a_short_page(settings, sleeps) -> None:
    from integrations.tripletex.sandbox import start_sandbox

    server = start_sandbox(port=0, seed="empty", customers=25)
    try:
        settings.TRIPLETEX_TEST_URL = server.url
        settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
        token = server.store.create_employee_token()["token"]
        client = TripletexClient(employee_token=token, environment="test", sleep=sleeps)
        active = [c for c in server.store.rows["customer"].values() if not c["isInactive"]]
        assert len(active) == 24  # the seed makes one of the 25 inactive, hidden by default
        pages = client.iter_pages("/customer", fields="id,name", page_size=10)
        first = next(pages)
        assert len(first) == 10 and server.store.request_counts()["GET /customer"] == 1
        rest = list(pages)
        assert [len(p) for p in rest] == [10, 4]
        assert server.store.request_counts() == {CREATE: 1, "GET /customer": math.ceil(24 / 10)}
        queries = [r["query"] for r in server.store.request_log()["requests"][1:]]
        assert [q["from"] for q in queries] == ["0", "10", "20"]
        assert all(q["fields"] == "id,name" and q["count"] == "10" for q in queries)
        values = list(client.iter_values("/customer", fields=["id", "name"], page_size=10))
        assert len({v["id"] for v in values}) == 24 and set(values[0]) == {"id", "name"}
    finally:
        server.stop()


def test_it_encodes_the_aggregate_marker_in_paths() -> None:
    assert encode_path("/token/session/>whoAmI") == "/token/session/%3EwhoAmI"
    assert encode_path("/token/session/%3EwhoAmI") == "/token/session/%3EwhoAmI"
    assert encode_path("/order/12/:invoice") == "/order/12/:invoice"
    assert path_template("/order/12/orderline/345") == "/order/{id}/orderline/{id}"
    assert path_template("/token/session/%3EwhoAmI") == "/token/session/>whoAmI"


# --- Validation errors and call records --------------------------------------------------------------


def test_it_reports_validation_errors_with_tripletex_diagnostics(
    tripletex_sandbox, make_client, calls
) -> None:
    with pytest.raises(TripletexRequestError) as raised:
        make_client().post("/order", json={"orderDate": "2025-01-01"})
    error = raised.value
    assert error.permanent and isinstance(error, ConfigError)
    assert error.status == 422 and error.code == 18000
    assert {"field": "customer", "message": "Cannot be null."} in error.validation_messages
    assert "customer: Cannot be null." in error.message
    log = tripletex_sandbox.store.request_log()["requests"]
    assert error.details["code"] == 18000
    assert "customer" in error.details["developer_message"]
    assert error.details["request_id"] and error.details["path"] == "/order"
    failed = calls[-1]
    assert (failed.method, failed.path, failed.status, failed.error_code) == (
        "POST",
        "/order",
        422,
        "18000",
    )
    assert failed.request_id == error.details["request_id"] and failed.developer_message
    assert log[-1]["path_template"] == "/order"


def test_it_explains_a_failure_by_message_and_validations_when_developer_message_is_null(
    tripletex_sandbox, make_client, calls
) -> None:
    with pytest.raises(TripletexRequestError) as raised:
        make_client().get_raw("/invoice", {"fields": "id"})  # no invoiceDateFrom/To

    expected = "Validation failed; invoiceDateFrom: Kan ikke være null.; invoiceDateTo: Kan ikke være null."
    assert tripletex_sandbox.store.request_log()["requests"][-1]["status"] == 422
    assert calls[-1].developer_message == expected  # the sync job's call history
    assert calls[-1].error_code == "15000"
    assert raised.value.details["developer_message"] == expected  # "Test connection" shows it
    assert raised.value.details["message"] == "Validation failed"


def test_it_explains_a_bare_developer_message_with_the_validation_messages(
    tripletex_sandbox, make_client, calls
) -> None:
    with pytest.raises(TripletexRequestError):
        make_client().post("/order", json={"orderDate": "2025-01-01"})
    assert "customer: Cannot be null." in calls[-1].developer_message
    assert calls[-1].developer_message.endswith("(VALIDATION_ERROR)")


def test_it_records_every_call_with_a_path_template(tripletex_sandbox, make_client, calls) -> None:
    client = make_client()
    company = client.get("/token/session/>whoAmI")["companyId"]
    client.get(f"/company/{company}", fields="id,name")
    assert [(c.method, c.path, c.status) for c in calls] == [
        ("PUT", "/token/session/:create", 200),
        ("GET", "/token/session/>whoAmI", 200),
        ("GET", "/company/{id}", 200),
    ]
    assert all(c.request_id and c.duration_ms >= 0 for c in calls)


# --- Secrets ---------------------------------------------------------------------------------------


def test_it_never_lets_a_token_escape(tripletex_sandbox, tripletex_settings, caplog) -> None:
    """Across every failure kind: not in messages, repr, details, tracebacks, call records or any
    log output (captured with no redaction filter, urllib3 included)."""
    store = tripletex_sandbox.store
    canary = store.create_employee_token()["token"]
    tripletex_settings.TRIPLETEX_READ_TIMEOUT = 0.2
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(name)s %(message)s"))
    root, urllib3_logger = logging.getLogger(), logging.getLogger("urllib3")
    levels, handlers = (root.level, urllib3_logger.level), root.handlers[:]
    # uku's console handler redacts the (shared) record in place; take it out so what reaches
    # `handler` and caplog is exactly what the code logged.
    root.handlers = [handler] + [
        h for h in handlers if not any(isinstance(f, RedactSecretsFilter) for f in h.filters)
    ]
    root.setLevel(logging.DEBUG)
    urllib3_logger.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    texts: list[str] = []
    records: list[CallRecord] = []

    def client() -> TripletexClient:
        made = TripletexClient(
            employee_token=f"  {canary}\n",
            environment="test",
            on_call=records.append,
            sleep=lambda s: None,
            backoff_base=0.001,
        )
        texts.append(repr(made))
        return made

    def attempt(call: Any) -> None:
        try:
            call()
        except IntegrationError as exc:
            texts.extend([str(exc), repr(exc), repr(exc.details), repr(vars(exc))])
            texts.append("".join(traceback.format_exception(exc)))
            assert exc.__cause__ is None and exc.__context__ is None

    try:
        tx = client()
        for kind in (
            "server_error", "unavailable", "drop", "malformed_json", "unauthorized",
            "rate_limit", "delay",
        ):  # fmt: skip
            store.inject_fault(kind, "/customer", times=10, retry_after=1, delay_seconds=0.4)
            attempt(lambda: tx.get_raw("/customer"))
            store.clear_faults()
        store.inject_fault("lose_response", "/order", method="POST")
        attempt(lambda: tx.post("/order", json=order_body(tripletex_sandbox)))
        attempt(lambda: tx.post("/order", json={}))
        attempt(lambda: tx.for_company(1).get("/token/session/>whoAmI"))
        tx.close()
        for kind in ("drop", "server_error", "delay", "malformed_json"):
            clear_session_cache()
            store.inject_fault(kind, "/token/session/:create", times=10, delay_seconds=0.4)
            attempt(lambda: client().get("/token/session/>whoAmI"))
            store.clear_faults()
        store.revoke_employee_token(canary)
        clear_session_cache()
        attempt(lambda: client().get("/token/session/>whoAmI"))
    finally:
        root.handlers = handlers
        root.setLevel(levels[0])
        urllib3_logger.setLevel(levels[1])
    sessions = [s["token"] for s in store.rows["sessionToken"].values()]
    assert sessions and records and len(texts) > 20
    haystack = "\n".join([*texts, *map(repr, records), stream.getvalue(), caplog.text])
    assert "urllib3" in stream.getvalue()  # urllib3 did log its request lines...
    for secret in [canary, canary[5:30], store.consumer_token, *sessions]:
        assert secret not in haystack  # ...without a token


# --- responses: what the sandbox cannot provoke ---------------------------------------------------

BASE = "https://tripletex.example/v2"


@pytest.fixture
def mocked(settings):
    settings.TRIPLETEX_PRODUCTION_URL = BASE
    settings.TRIPLETEX_CONSUMER_TOKEN_PRODUCTION = "consumer-token-production-123"
    settings.TRIPLETEX_MAX_ATTEMPTS = 3
    with responses.RequestsMock() as mock:
        mock.put(
            f"{BASE}/token/session/:create",
            json={"value": {"token": "session-token-abcdef", "expirationDate": "2099-01-01"}},
        )
        yield mock


def mocked_client(sleeps: Sleeps) -> TripletexClient:
    return TripletexClient(
        employee_token="prod-employee-token-1234567890",
        environment="production",
        sleep=sleeps,
        backoff_base=0.01,
    )


def test_it_sends_the_aggregate_path_encoded_with_basic_auth(mocked, sleeps) -> None:
    mocked.get(f"{BASE}/token/session/%3EwhoAmI", json={"value": {"companyId": 7}})
    assert mocked_client(sleeps).get("/token/session/>whoAmI") == {"companyId": 7}
    sent = mocked.calls[1].request
    assert "%3EwhoAmI" in sent.url
    assert sent.headers["Authorization"] == requests.auth._basic_auth_str(
        "0", "session-token-abcdef"
    )
    create = mocked.calls[0].request.url
    assert "expirationDate=" in create and "consumerToken=consumer-token-production-123" in create


def test_it_honours_x_rate_limit_reset_when_a_429_has_no_retry_after(mocked, sleeps) -> None:
    mocked.get(f"{BASE}/customer", status=429, headers={"X-Rate-Limit-Reset": "2"}, json={})
    mocked.get(f"{BASE}/customer", json={"values": []})
    assert mocked_client(sleeps).get_raw("/customer") == {"values": []}
    assert len(sleeps) == 1 and 1.5 < sleeps[0] <= 2


def test_it_resends_a_write_when_the_connection_was_never_made(mocked, sleeps) -> None:
    # urllib3 types the pool and the connection, which building these errors never uses.
    never_connected = MaxRetryError(
        None,  # type: ignore[arg-type]
        "/v2/order",
        NewConnectionError(None, "refused"),  # type: ignore[arg-type]
    )
    refused = requests.ConnectionError(never_connected)
    mocked.post(f"{BASE}/order", body=refused)
    mocked.post(f"{BASE}/order", json={"value": {"id": 5}}, status=201)
    assert mocked_client(sleeps).post("/order", json={}) == {"id": 5}


def test_it_uses_the_request_id_header_when_the_body_has_none(mocked, sleeps) -> None:
    mocked.get(
        f"{BASE}/customer/9", status=404, json={"status": 404, "code": 6000, "message": "Not found"},
        headers={"x-tlx-request-id": "req-42"},
    )  # fmt: skip
    with pytest.raises(TripletexRequestError) as raised:
        mocked_client(sleeps).get("/customer/9")
    assert raised.value.status == 404 and raised.value.details["request_id"] == "req-42"
    assert raised.value.details["path"] == "/customer/{id}" and "Not found" in str(raised.value)


def test_it_pages_on_even_when_full_result_size_says_otherwise(mocked, sleeps) -> None:
    page = {"fullResultSize": 2, "count": 2}  # deprecated and inexact: must not stop the pager
    mocked.get(f"{BASE}/customer", json={**page, "from": 0, "values": [{"id": 1}, {"id": 2}]})
    mocked.get(f"{BASE}/customer", json={**page, "from": 2, "values": [{"id": 3}]})
    ids = [v["id"] for v in mocked_client(sleeps).iter_values("/customer", page_size=2)]
    assert ids == [1, 2, 3]
    assert [c.request.params["from"] for c in mocked.calls[1:]] == ["0", "2"]


def test_it_keeps_a_developer_message_that_says_something(mocked, sleeps) -> None:
    mocked.get(
        f"{BASE}/customer",
        status=422,
        json={
            "status": 422,
            "code": 18000,
            "message": "Validering feilet.",
            "developerMessage": "customer.name: must not be blank",
            "validationMessages": None,
        },
    )
    records: list[CallRecord] = []
    client = TripletexClient(
        employee_token="prod-employee-token-1234567890",
        environment="production",
        sleep=sleeps,
        on_call=records.append,
    )
    with pytest.raises(TripletexRequestError) as raised:
        client.get_raw("/customer")
    assert records[-1].developer_message == "customer.name: must not be blank"
    assert raised.value.details["developer_message"] == "customer.name: must not be blank"
    assert raised.value.details["message"] == "Validering feilet."
