"""Injected faults, rate limiting and the request log."""

from __future__ import annotations

import time

import pytest
import requests

from integrations.tripletex.sandbox import SandboxServer

from .conftest import TODAY, Api


def _inject(control, **fault: object) -> None:
    response = control("POST", "/faults", fault)
    assert response.status_code == 201, response.text


@pytest.mark.parametrize(
    ("kind", "status", "code"),
    [
        ("server_error", 500, 1000),
        ("unavailable", 503, 0),
        ("unauthorized", 401, 3000),
    ],
)
def test_it_injects_error_faults_for_the_next_n_requests(
    api: Api, control, kind: str, status: int, code: int
) -> None:
    _inject(control, method="GET", path="/customer", times=2, kind=kind)

    first, second, third = (api.get("/customer", count=1) for _ in range(3))

    assert first.status_code == second.status_code == status
    assert first.json()["code"] == code
    assert first.headers["x-tlx-request-id"] == first.json()["requestId"]
    assert third.status_code == 200


def test_it_matches_faults_by_method_and_exact_or_prefix_path(api: Api, control) -> None:
    customer = api.values("/customer", count=1, fields="id")[0]["id"]
    _inject(control, method="GET", path="/customer", kind="server_error")
    _inject(control, method="POST", path="/customer", match="prefix", kind="server_error")

    assert api.get(f"/customer/{customer}").status_code == 200  # exact match only
    assert api.get("/customer", count=1).status_code == 500
    assert control("GET", "/faults").json()["faults"][0]["method"] == "POST"
    _inject(control, path="/customer", match="prefix", kind="server_error")
    assert api.get(f"/customer/{customer}").status_code == 500


def test_it_injects_a_rate_limit_fault(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", kind="rate_limit", retry_after=7)

    response = api.get("/customer", count=1)

    assert response.status_code == 429
    assert response.headers["Retry-After"] == "7"
    assert response.headers["X-Rate-Limit-Reset"] == "7"
    assert response.headers["X-Rate-Limit-Remaining"] == "0"


def test_it_delays_then_answers_normally(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", kind="delay", delay_seconds=0.3)

    started = time.monotonic()
    response = api.get("/customer", count=1)

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.3


def test_it_drops_the_connection_without_a_response(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", kind="drop")

    with pytest.raises(requests.ConnectionError):
        api.get("/customer", count=1)
    assert api.get("/customer", count=1).status_code == 200


def test_it_sends_malformed_json(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", kind="malformed_json")

    response = api.get("/customer", count=1)

    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_it_applies_the_write_but_loses_the_response(
    api: Api, control, sandbox: SandboxServer
) -> None:
    customer = api.values("/customer", count=1, fields="id")[0]["id"]
    _inject(control, method="POST", path="/order", kind="lose_response")
    body = {
        "customer": {"id": customer},
        "orderDate": TODAY.isoformat(),
        "deliveryDate": TODAY.isoformat(),
        "reference": "uku-lost-1",
    }

    with pytest.raises(requests.ConnectionError):
        api.post("/order", body)

    found = api.values(
        "/order",
        orderDateFrom=TODAY.isoformat(),
        orderDateTo="2025-06-17",
        customerId=customer,
        fields="id,reference",
    )
    assert [order["reference"] for order in found] == ["uku-lost-1"]


def test_it_clears_faults(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", times=5, kind="server_error")

    assert control("DELETE", "/faults").status_code == 204
    assert api.get("/customer", count=1).status_code == 200


def test_it_sends_rate_limit_headers_and_answers_429_over_the_limit(api: Api, control) -> None:
    control("POST", "/rate-limit", {"limit": 3, "period_seconds": 30})

    responses = [api.get("/customer", count=1) for _ in range(4)]

    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert [r.headers["X-Rate-Limit-Remaining"] for r in responses] == ["2", "1", "0", "0"]
    assert all(r.headers["X-Rate-Limit-Limit"] == "3" for r in responses)
    assert 0 < int(responses[-1].headers["X-Rate-Limit-Reset"]) <= 30
    assert responses[-1].headers["Retry-After"] == responses[-1].headers["X-Rate-Limit-Reset"]


def test_it_counts_rate_limits_per_consumer_and_employee_token(
    api: Api, control, sandbox: SandboxServer
) -> None:
    from .conftest import create_session

    control("POST", "/rate-limit", {"limit": 2, "period_seconds": 30})
    api.get("/customer", count=1)
    api.get("/customer", count=1)
    other = Api(sandbox, create_session(sandbox).json()["value"]["token"])

    assert api.get("/customer", count=1).status_code == 429
    assert other.get("/customer", count=1).status_code == 200


def test_it_restarts_the_rate_limit_window(api: Api, sandbox: SandboxServer) -> None:
    sandbox.store.set_rate_limit(1, 0.3)

    assert api.get("/customer", count=1).status_code == 200
    assert api.get("/customer", count=1).status_code == 429
    time.sleep(0.35)
    assert api.get("/customer", count=1).status_code == 200


def test_it_logs_requests_with_path_templates(api: Api, control, sandbox: SandboxServer) -> None:
    control("DELETE", "/requests")
    customer = api.values("/customer", count=1, fields="id")[0]["id"]
    api.get(f"/customer/{customer}")
    api.get(f"/customer/{customer}")
    api.get("/token/session/>whoAmI")
    control("GET", "/faults")

    log = control("GET", "/requests").json()

    assert log["total"] == 4
    assert log["counts"] == {
        "GET /customer": 1,
        "GET /customer/{id}": 2,
        "GET /token/session/>whoAmI": 1,
    }
    entry = log["requests"][1]
    assert entry["path"] == f"/customer/{customer}"
    assert entry["path_template"] == "/customer/{id}"
    assert entry["status"] == 200
    assert entry["company_id"] == sandbox.store.firm_company_id
    assert set(entry) >= {"method", "path", "path_template", "query", "status", "company_id", "at"}
    assert sandbox.store.request_counts() == log["counts"]


def test_it_never_logs_tokens(api: Api, control, sandbox: SandboxServer) -> None:
    from .conftest import create_session

    token = sandbox.store.create_employee_token()["token"]
    session = create_session(sandbox, token).json()["value"]["token"]
    Api(sandbox, session).request("DELETE", f"/token/session/{session}")

    text = control("GET", "/requests").text

    assert token not in text
    assert session not in text
    assert api.token not in text
    assert "PUT /token/session/:create" in control("GET", "/requests").json()["counts"]


def test_a_rate_limit_fault_without_retry_after_says_only_the_reset(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", kind="rate_limit", retry_after=None)

    response = api.get("/customer", count=1)

    assert response.status_code == 429
    assert "Retry-After" not in response.headers
    assert int(response.headers["X-Rate-Limit-Reset"]) >= 1
    assert response.headers["X-Rate-Limit-Remaining"] == "0"


def test_it_injects_an_html_503_without_the_envelope(api: Api, control) -> None:
    _inject(control, method="GET", path="/customer", kind="unavailable_html", retry_after=None)

    response = api.get("/customer", count=1)

    assert response.status_code == 503
    assert response.headers["Content-Type"].startswith("text/html")
    assert response.text.startswith("<!DOCTYPE html>") and "Retry-After" not in response.headers
    assert api.get("/customer", count=1).status_code == 200


def test_a_set_latency_delays_every_answer_and_concurrent_calls_overlap(
    api: Api, sandbox: SandboxServer
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    assert api.get("/token/session/>whoAmI").status_code == 200
    sandbox.store.set_latency(0.3)

    def timed(_n: int) -> float:
        own = Api(sandbox, api.token)  # one session per thread
        started = time.monotonic()
        assert own.get("/token/session/>whoAmI").status_code == 200
        return time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        each = list(pool.map(timed, range(4)))
    together = time.monotonic() - started
    assert min(each) >= 0.3  # every answer waits the round trip
    assert together < 4 * 0.3  # outside the store's lock: the waits overlap, as a network's do
    sandbox.store.set_latency(0)
    started = time.monotonic()
    assert api.get("/token/session/>whoAmI").status_code == 200
    assert time.monotonic() - started < 0.3
    with pytest.raises(Exception, match="seconds must be >= 0"):
        sandbox.store.set_latency(-1)
