"""Injected faults, Merit's response quirks and the request log."""

from __future__ import annotations

import json
import time
from typing import Any

import pytest
import requests

from integrations.merit.sandbox import SandboxServer

from .conftest import DAY, Merit
from .conftest import sample_invoice as _invoice


def _inject(control: Any, **fault: object) -> None:
    response = control("POST", "/faults", fault)
    assert response.status_code == 201, response.text


def test_it_injects_a_500_stack_trace_for_the_next_n_calls(merit: Merit, control) -> None:
    _inject(control, kind="server_error", endpoint="gettaxes", times=2)

    first, second, third = (merit.call("gettaxes") for _ in range(3))

    assert first.status_code == second.status_code == 500
    assert first.headers["Content-Type"].startswith("text/html")
    assert "Server Error in '/' Application." in first.text
    assert third.status_code == 200


@pytest.mark.parametrize(("retry_after", "header"), [(7, "7"), (None, None)])
def test_it_injects_a_429_with_or_without_retry_after(
    merit: Merit, control, retry_after: int | None, header: str | None
) -> None:
    _inject(control, kind="rate_limit", endpoint="getcustomers", retry_after=retry_after)

    response = merit.call("getcustomers")

    assert response.status_code == 429
    assert response.headers.get("Retry-After") == header
    assert response.headers["X-RateLimit-Remaining"] == "0"


def test_it_injects_an_html_503(merit: Merit, control) -> None:
    _inject(control, kind="unavailable", retry_after=30)

    response = merit.call("getitems")

    assert response.status_code == 503
    assert response.headers["Retry-After"] == "30"
    assert response.text.lstrip().startswith("<!DOCTYPE HTML")


def test_it_delays_then_answers_normally(merit: Merit, control) -> None:
    _inject(control, kind="delay", delay_seconds=0.4)

    started = time.monotonic()
    response = merit.call("gettaxes")

    assert response.status_code == 200
    assert time.monotonic() - started >= 0.4


def test_a_delay_longer_than_the_clients_timeout_is_a_timeout(merit: Merit, control) -> None:
    _inject(control, kind="delay", delay_seconds=1.0)

    with pytest.raises(requests.Timeout):
        requests.post(merit.server.url + "gettaxes", data="{}", timeout=0.3)


def test_a_dropped_connection_applies_nothing(merit: Merit, control) -> None:
    _inject(control, kind="drop", endpoint="sendinvoice")

    with pytest.raises(requests.ConnectionError):
        merit.call("sendinvoice", _invoice(merit))

    assert not any(i["InvoiceNo"] == "UKU-1" for i in merit.json("getinvoices", DAY))
    assert merit.call("sendinvoice", _invoice(merit)).status_code == 200


def test_a_lost_response_still_applies_the_write(merit: Merit, control) -> None:
    _inject(control, kind="lose_response", endpoint="sendinvoice")

    with pytest.raises(requests.ConnectionError):
        merit.call("sendinvoice", _invoice(merit))

    assert any(i["InvoiceNo"] == "UKU-1" for i in merit.json("getinvoices", DAY))
    resent = merit.call("sendinvoice", _invoice(merit))  # a blind resend is refused as a duplicate
    assert resent.status_code == 400


def test_it_can_answer_with_truncated_json(merit: Merit, control) -> None:
    _inject(control, kind="malformed_json", endpoint="getcustomers")

    response = merit.call("getcustomers")

    assert response.status_code == 200
    with pytest.raises(ValueError):
        response.json()


def test_it_can_answer_with_a_json_string_holding_the_json(merit: Merit, control) -> None:
    normal = merit.json("gettaxes")
    _inject(control, kind="json_string", endpoint="gettaxes")

    quirky = merit.call("gettaxes").json()

    assert isinstance(quirky, str)
    assert json.loads(quirky) == normal


def test_it_can_answer_200_with_a_stack_trace(merit: Merit, control) -> None:
    _inject(control, kind="stacktrace_200", endpoint="getitems")

    response = merit.call("getitems")

    assert response.status_code == 200
    assert "Exception Details" in response.text
    with pytest.raises(ValueError):
        response.json()


def test_it_can_refuse_a_correct_signature_once(merit: Merit, control) -> None:
    _inject(control, kind="wrong_signature")

    assert merit.call("gettaxes").text == "api-wrongsignature"
    assert merit.call("gettaxes").status_code == 200


def test_faults_match_country_endpoint_and_method(merit: Merit, control) -> None:
    _inject(control, kind="server_error", endpoint="GetTaxes", country="FI", method="GET")
    finland = merit.as_country("FI")

    assert merit.call("gettaxes", method="GET").status_code == 200
    assert finland.call("gettaxes").status_code == 200  # POST
    assert finland.call("getitems", method="GET").status_code == 200
    assert control("GET", "/faults").json()["faults"][0]["endpoint"] == "gettaxes"
    assert finland.call("gettaxes", method="GET").status_code == 500
    assert control("GET", "/faults").json()["faults"] == []


def test_faults_can_be_listed_and_cleared(merit: Merit, control) -> None:
    _inject(control, kind="server_error", times=5)

    assert len(control("GET", "/faults").json()["faults"]) == 1
    assert control("DELETE", "/faults").status_code == 204
    assert merit.call("gettaxes").status_code == 200


@pytest.mark.parametrize(
    "fault", [{"kind": "meteor"}, {"kind": "drop", "times": 0}, {"kind": "drop", "country": "SE"}]
)
def test_it_refuses_a_bad_fault(control, fault: dict[str, Any]) -> None:
    assert control("POST", "/faults", fault).status_code == 400


def test_it_counts_calls_per_instance_and_endpoint(merit: Merit, control) -> None:
    merit.call("gettaxes")
    merit.call("GetTaxes")
    merit.as_country("PL").call("getcustomers")
    _inject(control, kind="drop")
    with pytest.raises(requests.ConnectionError):
        merit.call("getitems")

    log = control("GET", "/requests").json()

    assert log["counts"] == {"EE gettaxes": 2, "PL getcustomers": 1, "EE getitems": 1}
    assert log["total"] == 4
    dropped = log["requests"][-1]
    assert dropped["fault"] == "drop" and dropped["status"] is None
    assert log["requests"][0]["status"] == 200 and log["requests"][0]["company_id"]
    assert control("DELETE", "/requests").status_code == 204
    assert merit.server.store.request_counts() == {}


def test_the_request_log_holds_no_credentials(merit: Merit, control) -> None:
    merit.call("getcustomers", {"Name": "Kase"})
    Merit(merit.server, "EE", merit.api_id, "wrong").call("gettaxes")

    text = json.dumps(control("GET", "/requests").json())

    assert merit.api_id not in text
    assert merit.api_key not in text
    assert "signature" not in text


def test_the_control_api_answers_unknown_operations_and_bad_bodies(
    sandbox: SandboxServer, control
) -> None:
    assert control("GET", "/nothing").status_code == 404
    assert control("PUT", "/faults").status_code == 405
    assert control("DELETE", "/credentials/not-an-id").status_code == 404
    response = requests.post(f"{sandbox.base_url}/_sandbox/faults", data="[", timeout=5)
    assert response.status_code == 400


def test_it_injects_a_401_with_an_empty_body_for_a_signed_call(merit: Merit, control) -> None:
    _inject(control, kind="unauthorized", endpoint="getcustomers")

    refused, then = merit.call("getcustomers"), merit.call("getcustomers")

    assert (refused.status_code, refused.content) == (401, b"")
    assert then.status_code == 200
