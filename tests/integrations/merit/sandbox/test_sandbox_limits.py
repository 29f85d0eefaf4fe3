"""The 60-per-minute rate limit and the date-window maximums."""

from __future__ import annotations

import time

import pytest

from integrations.merit.sandbox import SandboxServer

from .conftest import Merit, demo_client


def test_it_allows_60_calls_a_minute_then_answers_429(merit: Merit) -> None:
    answers = [merit.call("gettaxes") for _ in range(60)]

    refused = merit.call("gettaxes")

    assert {a.status_code for a in answers} == {200}
    assert answers[0].headers["X-RateLimit-Limit"] == "60"
    assert answers[0].headers["X-RateLimit-Remaining"] == "59"
    assert answers[-1].headers["X-RateLimit-Remaining"] == "0"
    assert refused.status_code == 429
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["X-RateLimit-Remaining"] == "0"
    reset = int(refused.headers["X-RateLimit-Reset"])
    assert time.time() < reset <= time.time() + 61  # a unix timestamp: when the window ends


def test_the_limit_is_per_company_not_per_key_or_instance(sandbox: SandboxServer) -> None:
    sandbox.store.set_rate_limit(3, 60)
    merit = demo_client(sandbox)
    second_key = sandbox.store.create_credentials("EE")
    same_company = Merit(sandbox, "EE", second_key["api_id"], second_key["api_key"])

    assert [merit.call("gettaxes").status_code for _ in range(2)] == [200, 200]
    assert same_company.call("gettaxes").status_code == 200
    assert same_company.call("gettaxes").status_code == 429
    assert demo_client(sandbox, "FI").call("gettaxes").status_code == 200


def test_a_refused_call_does_not_use_up_the_next_window(sandbox: SandboxServer, control) -> None:
    assert control("POST", "/rate-limit", {"limit": 2, "period_seconds": 0.5}).status_code == 200
    merit = demo_client(sandbox)

    statuses = [merit.call("gettaxes").status_code for _ in range(4)]
    time.sleep(0.6)

    assert statuses == [200, 200, 429, 429]
    assert merit.call("gettaxes").status_code == 200


def test_calls_with_a_bad_signature_still_count(sandbox: SandboxServer) -> None:
    sandbox.store.set_rate_limit(2, 60)
    merit = demo_client(sandbox)
    forger = Merit(sandbox, "EE", merit.api_id, "not-the-key")

    assert forger.call("gettaxes").status_code == 401
    assert merit.call("gettaxes").status_code == 200
    assert merit.call("gettaxes").status_code == 429


LISTS_OF_3_MONTHS = ["getinvoices", "getpayments", "getpurchorders", "getglbatches"]


@pytest.mark.parametrize("endpoint", LISTS_OF_3_MONTHS)
def test_it_serves_a_window_of_up_to_3_months(reader: Merit, endpoint: str) -> None:
    rows = reader.json(endpoint, {"PeriodStart": "20250101", "PeriodEnd": "20250331"})

    assert rows


@pytest.mark.parametrize("endpoint", LISTS_OF_3_MONTHS)
@pytest.mark.parametrize(("start", "end"), [("20250101", "20250401"), ("20241130", "20250228")])
def test_it_refuses_a_window_longer_than_3_months(
    reader: Merit, endpoint: str, start: str, end: str
) -> None:
    response = reader.call(endpoint, {"PeriodStart": start, "PeriodEnd": end})

    assert response.status_code == 400
    assert response.json() == {"Message": "Period length max 3 months!"}


def test_it_serves_the_full_gl_list_for_31_days_and_refuses_32(reader: Merit) -> None:
    assert reader.json("GetGLBatchesFull", {"PeriodStart": "20250101", "PeriodEnd": "20250201"})

    response = reader.call("GetGLBatchesFull", {"PeriodStart": "20250101", "PeriodEnd": "20250202"})

    assert response.status_code == 400
    assert response.json() == {"Message": "Period length max 31 days!"}


def test_it_refuses_an_end_before_the_start(reader: Merit) -> None:
    response = reader.call("getinvoices", {"PeriodStart": "20250201", "PeriodEnd": "20250101"})

    assert response.status_code == 400
    assert "Message" in response.json()


@pytest.mark.parametrize("payload", [{"PeriodStart": "20250101"}, {"PeriodEnd": "20250131"}, {}])
def test_it_answers_404_when_a_required_period_field_is_missing(
    reader: Merit, payload: dict
) -> None:
    response = reader.call("getinvoices", payload)

    assert response.status_code == 404


@pytest.mark.parametrize("value", ["2025-01-01", "20251301", "yesterday"])
def test_it_answers_a_malformed_date_with_a_500_stack_trace(reader: Merit, value: str) -> None:
    response = reader.call("getpayments", {"PeriodStart": value, "PeriodEnd": "20250131"})

    assert response.status_code == 500
    assert response.headers["Content-Type"].startswith("text/html")
    assert "System.FormatException" in response.text


def test_a_set_latency_delays_every_answer_and_concurrent_calls_overlap(
    sandbox: SandboxServer,
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    sandbox.store.set_rate_limit(1000, 60)
    sandbox.store.set_latency(0.3)

    def timed(_n: int) -> float:
        started = time.monotonic()
        assert demo_client(sandbox).call("gettaxes").status_code == 200
        return time.monotonic() - started

    started = time.monotonic()
    with ThreadPoolExecutor(4) as pool:
        each = list(pool.map(timed, range(4)))
    together = time.monotonic() - started
    assert min(each) >= 0.3  # every answer waits the round trip
    assert together < 4 * 0.3  # outside the store's lock: the waits overlap, as a network's do
    sandbox.store.set_latency(0)
    assert timed(0) < 0.3
    with pytest.raises(Exception, match="seconds must be >= 0"):
        sandbox.store.set_latency(-1)
