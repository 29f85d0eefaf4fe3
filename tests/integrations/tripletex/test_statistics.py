"""Work statistics read from Tripletex client companies over real HTTP against the sandbox: the
values equal the sandbox's true counts, each source costs one paged pass, and every refusal
says what it is."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.utils import translation

from integrations.base import (
    BooksAccessLost,
    Capability,
    ConfigError,
    StatisticsTarget,
    TransientError,
    get_vendor,
)
from integrations.tripletex import statistics
from integrations.tripletex.adapter import TripletexAdapter
from integrations.tripletex.sandbox import SandboxServer, start_sandbox
from integrations.tripletex.sandbox.bookkeeping import BUSY_CLIENT
from integrations.tripletex.sandbox.endpoints import add_voucher

TODAY = date(2025, 6, 16)
BUSY_MONTH = date(2025, 5, 1)  # the busy client's last full month: more than 1,000 vouchers
ALL_KEYS = [s.key for s in statistics.STATISTICS]


@pytest.fixture
def tripletex_sandbox() -> Iterator[SandboxServer]:
    """The demo sandbox with its clock pinned, so the seeded months are known."""
    server = start_sandbox(port=0, seed="demo", environment="test", today=TODAY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def connection(tripletex_settings, tripletex_sandbox: SandboxServer) -> Iterator[TripletexAdapter]:
    """The firm's adapter on an accountant's token (which may act only inside clients)."""
    token = tripletex_sandbox.store.create_employee_token(accountant=True)["token"]
    adapter = TripletexAdapter(credentials={"employee_token": token}, environment="test")
    yield adapter
    adapter.close()


def clients(server: SandboxServer) -> list[int]:
    return server.store.company_clients(server.store.firm_company_id)


def target(company: int) -> StatisticsTarget:
    return StatisticsTarget(customer_id="1", books_company_id=str(company))


def truth(server: SandboxServer, company: int, period: date) -> dict[str, int]:
    """The sandbox's own count, over its control API."""
    response = requests.get(
        f"{server.base_url}/_sandbox/statistics",
        params={"company": str(company), "period": f"{period:%Y-%m}"},
        # The first count of a company generates its history: slow on a loaded machine.
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["statistics"]


def values(result: dict[str, Any]) -> dict[str, Decimal | None]:
    return {key: value.value for key, value in result.items()}


def calls(server: SandboxServer) -> dict[str, int]:
    return dict(server.store.request_counts())


def requests_to(server: SandboxServer, template: str) -> list[dict[str, Any]]:
    return [r for r in server.store.request_log()["requests"] if r["path_template"] == template]


def test_it_declares_at_least_twelve_statistics_with_the_four_common_ones() -> None:
    info = get_vendor("tripletex")
    keys = [s.key for s in info.statistics]

    assert info.can(Capability.STATISTICS) and len(keys) >= 12 and len(set(keys)) == len(keys)
    assert [s.key for s in info.statistics if s.common] == [
        "sale_entries",
        "purchase_entries",
        "bank_transactions",
        "documents",
    ]
    assert {s.source for s in info.statistics} == {
        "/ledger/voucher",
        "/invoice",
        "/supplierInvoice",
        "/ledger/posting",
        "/bank/statement",
    }
    assert all(str(s.label) and str(s.definition) for s in info.statistics)
    with translation.override("nb"):
        labels = {s.key: str(s.label) for s in info.statistics}
    assert labels["sale_entries"] == "Salgsbilag"
    assert labels["bank_transactions"] == "Banktransaksjoner"


def test_it_counts_every_statistic_as_the_sandbox_does_in_every_client(
    tripletex_sandbox, connection
) -> None:
    for company in clients(tripletex_sandbox):
        for period in (BUSY_MONTH, date(2024, 12, 1), date(2023, 8, 1)):
            got = values(connection.read_statistics(target(company), period, ALL_KEYS))
            want = truth(tripletex_sandbox, company, period)
            assert got == {key: Decimal(want[key]) for key in ALL_KEYS}, (company, period)


def test_it_counts_a_month_of_more_than_a_thousand_vouchers_in_one_pass_per_source(
    tripletex_sandbox, connection
) -> None:
    store = tripletex_sandbox.store
    busy = clients(tripletex_sandbox)[BUSY_CLIENT]
    want = truth(tripletex_sandbox, busy, BUSY_MONTH)
    store.clear_requests()

    got = values(connection.read_statistics(target(busy), BUSY_MONTH, ALL_KEYS))

    assert want["all_vouchers"] > 1000 and want["postings"] > 2000
    assert got == {key: Decimal(want[key]) for key in ALL_KEYS}
    overlapping = [
        s
        for s in store.company_rows("bankStatement", busy)
        if s["fromDate"] < "2025-06-01" and s["toDate"] >= "2025-05-01"
    ]
    assert calls(tripletex_sandbox) == {
        "PUT /token/session/:create": 1,
        "GET /ledger/voucherType": 1,  # voucher type ids, resolved by name once per company
        "GET /ledger/voucher": want["all_vouchers"] // 1000 + 1,
        "GET /ledger/posting": want["postings"] // 1000 + 1,
        "GET /invoice": 1,
        "GET /supplierInvoice": 1,
        "GET /bank/statement": 1,
        "GET /bank/statement/transaction": len(overlapping),
    }
    vouchers = requests_to(tripletex_sandbox, "/ledger/voucher")
    assert [r["query"]["from"] for r in vouchers] == ["0", "1000"]
    assert {r["query"]["count"] for r in vouchers} == {"1000"}
    assert vouchers[0]["query"]["dateFrom"] == "2025-05-01"
    assert vouchers[0]["query"]["dateTo"] == "2025-06-01"  # exclusive: the month is half-open
    assert vouchers[0]["query"]["fields"] == (
        "id,date,voucherType(id),document(id),attachment(id),ediDocument(id)"
    )
    assert "typeId" not in vouchers[0]["query"]  # one pass serves every voucher statistic
    assert all(r["company_id"] == busy for r in store.request_log()["requests"][1:])


def test_it_reads_only_the_sources_of_the_statistics_asked_for(
    tripletex_sandbox, connection
) -> None:
    store = tripletex_sandbox.store
    company = clients(tripletex_sandbox)[2]
    want = truth(tripletex_sandbox, company, BUSY_MONTH)
    store.clear_requests()

    banked = connection.read_statistics(target(company), BUSY_MONTH, ["bank_transactions"])

    assert values(banked) == {"bank_transactions": Decimal(want["bank_transactions"])}
    assert set(calls(tripletex_sandbox)) == {
        "PUT /token/session/:create",
        "GET /bank/statement",
        "GET /bank/statement/transaction",
    }
    store.clear_requests()

    sales = connection.read_statistics(
        target(company), BUSY_MONTH, ["sale_entries", "payroll_vouchers"]
    )

    assert values(sales) == {
        "sale_entries": Decimal(want["sale_entries"]),
        "payroll_vouchers": Decimal(want["payroll_vouchers"]),
    }
    assert calls(tripletex_sandbox) == {"GET /ledger/voucherType": 1, "GET /ledger/voucher": 1}
    (voucher_call,) = requests_to(tripletex_sandbox, "/ledger/voucher")
    type_ids = {
        store.lookup("voucherType", company, "Utgående faktura"),
        store.lookup("voucherType", company, "Lønnsbilag"),
    }
    # Only typed vouchers asked for: Tripletex filters them, and no document fields are read.
    assert set(map(int, voucher_call["query"]["typeId"].split(","))) == type_ids
    assert voucher_call["query"]["fields"] == "id,date,voucherType(id)"


def test_it_resolves_voucher_types_by_name_in_each_company_once(
    tripletex_sandbox, connection
) -> None:
    store = tripletex_sandbox.store
    first, second = clients(tripletex_sandbox)[:2]
    ids = {store.lookup("voucherType", c, "Utgående faktura") for c in (first, second)}

    for period in (BUSY_MONTH, date(2025, 4, 1)):
        for company in (first, second):
            got = connection.read_statistics(target(company), period, ["sale_entries"])
            assert (
                got["sale_entries"].value
                == truth(tripletex_sandbox, company, period)["sale_entries"]
            )

    assert len(ids) == 2  # the same type has another id in each company
    assert calls(tripletex_sandbox)["GET /ledger/voucherType"] == 2  # once per company
    sent = {int(r["query"]["typeId"]) for r in requests_to(tripletex_sandbox, "/ledger/voucher")}
    assert sent == ids


def test_it_counts_bank_transactions_of_statements_that_start_before_the_month(
    tripletex_sandbox, connection
) -> None:
    store = tripletex_sandbox.store
    company = clients(tripletex_sandbox)[3]
    statements = store.company_rows("bankStatement", company)
    early = [s for s in statements if s["fromDate"] == "2025-04-15"]
    rows = store.company_rows("bankTransaction", company)
    in_may = [
        t for t in rows if t["bankStatement"] == early[0]["id"] and "2025-05" in t["postedDate"]
    ]
    in_april = [
        t for t in rows if t["bankStatement"] == early[0]["id"] and "2025-04" in t["postedDate"]
    ]

    got = connection.read_statistics(target(company), BUSY_MONTH, ["bank_transactions"])

    assert early and in_may and in_april  # a statement across the month boundary
    want = truth(tripletex_sandbox, company, BUSY_MONTH)["bank_transactions"]
    assert got["bank_transactions"].value == want
    april = connection.read_statistics(target(company), date(2025, 4, 1), ["bank_transactions"])
    assert (
        april["bank_transactions"].value
        == truth(tripletex_sandbox, company, date(2025, 4, 1))["bank_transactions"]
    )


def test_it_keeps_the_month_half_open(tripletex_sandbox, connection) -> None:
    store = tripletex_sandbox.store
    company = clients(tripletex_sandbox)[4]
    before = connection.read_statistics(target(company), date(2025, 4, 1), ["all_vouchers"])
    with store.lock:
        store.materialize(company)
        add_voucher(store, company, date(2025, 4, 30), "", "Siste dag", [(6800, 1.0, {})])
        add_voucher(store, company, date(2025, 5, 1), "", "Første dag", [(6800, 1.0, {})])
    after = connection.read_statistics(target(company), date(2025, 4, 1), ["all_vouchers"])

    assert after["all_vouchers"].value == before["all_vouchers"].value + 1


def test_it_raises_books_access_lost_without_renewing_the_session(
    tripletex_sandbox, connection
) -> None:
    store = tripletex_sandbox.store
    lost, kept = clients(tripletex_sandbox)[:2]
    store.set_login_access(lost, False)

    with pytest.raises(BooksAccessLost) as raised:
        connection.read_statistics(target(lost), BUSY_MONTH, ALL_KEYS)

    assert raised.value.books_company_id == str(lost) and raised.value.permanent
    assert calls(tripletex_sandbox)["PUT /token/session/:create"] == 1
    got = connection.read_statistics(target(kept), BUSY_MONTH, ["postings"])
    assert got["postings"].value == truth(tripletex_sandbox, kept, BUSY_MONTH)["postings"]
    assert calls(tripletex_sandbox)["PUT /token/session/:create"] == 1  # no session loop


def test_it_raises_books_access_lost_for_a_client_without_a_books_company(
    tripletex_sandbox, connection
) -> None:
    with pytest.raises(BooksAccessLost) as raised:
        connection.read_statistics(StatisticsTarget(customer_id="7"), BUSY_MONTH, ["postings"])

    assert "Integration column" in raised.value.message
    assert calls(tripletex_sandbox) == {}


def test_it_leaves_a_refused_source_missing_with_its_reason_and_counts_the_others(
    tripletex_sandbox, connection
) -> None:
    company = clients(tripletex_sandbox)[0]
    want = truth(tripletex_sandbox, company, BUSY_MONTH)
    tripletex_sandbox.store.inject_fault("forbidden", "/bank/statement", times=5)

    got = connection.read_statistics(target(company), BUSY_MONTH, ALL_KEYS)

    assert got["bank_transactions"].value is None
    assert "/bank/statement" in got["bank_transactions"].missing_reason
    assert all(got[k].value == want[k] for k in ALL_KEYS if k != "bank_transactions")
    assert all(not got[k].missing_reason for k in ALL_KEYS if k != "bank_transactions")


def test_it_says_missing_when_a_company_has_no_voucher_type_of_that_name(
    tripletex_sandbox, connection
) -> None:
    store = tripletex_sandbox.store
    company = clients(tripletex_sandbox)[0]
    store.materialize(company)
    store.get("voucherType", store.lookup("voucherType", company, "Reiseregning"))["name"] = "Reise"

    got = connection.read_statistics(
        target(company), BUSY_MONTH, ["travel_expenses", "all_vouchers"]
    )

    assert got["travel_expenses"].value is None
    assert "Reiseregning" in got["travel_expenses"].missing_reason
    assert (
        got["all_vouchers"].value == truth(tripletex_sandbox, company, BUSY_MONTH)["all_vouchers"]
    )


def test_it_raises_a_transient_error_for_a_malformed_answer(tripletex_sandbox, connection) -> None:
    company = clients(tripletex_sandbox)[0]
    tripletex_sandbox.store.inject_fault("malformed_json", "/invoice", times=10)

    with pytest.raises(TransientError) as raised:
        connection.read_statistics(target(company), BUSY_MONTH, ["credit_notes"])

    assert not raised.value.permanent


def test_it_raises_a_transient_error_for_rows_of_the_wrong_shape(
    tripletex_settings, tripletex_sandbox, connection, monkeypatch
) -> None:
    company = clients(tripletex_sandbox)[0]
    tripletex_sandbox.store.materialize(company)
    for row in tripletex_sandbox.store.company_rows("invoice", company):
        row["isCreditNote"] = "no"

    with pytest.raises(TransientError):
        connection.read_statistics(target(company), BUSY_MONTH, ["credit_notes"])


def test_it_waits_out_a_429_and_still_reads_one_pass(tripletex_settings, tripletex_sandbox) -> None:
    store = tripletex_sandbox.store
    company = clients(tripletex_sandbox)[BUSY_CLIENT]
    want = truth(tripletex_sandbox, company, BUSY_MONTH)
    token = store.create_employee_token(accountant=True)["token"]
    sleeps: list[float] = []
    adapter = TripletexAdapter(
        credentials={"employee_token": token},
        environment="test",
        client_options={"sleep": sleeps.append, "backoff_base": 0.01},
    )
    store.inject_fault("rate_limit", "/ledger/voucher", times=1, retry_after=2)

    got = adapter.read_statistics(target(company), BUSY_MONTH, ["all_vouchers"])

    assert got["all_vouchers"].value == want["all_vouchers"]
    assert any(1.5 <= s <= 2.5 for s in sleeps)  # waited as long as Tripletex asked
    assert calls(tripletex_sandbox)["GET /ledger/voucher"] == want["all_vouchers"] // 1000 + 2


def test_it_refuses_an_unknown_statistic_before_any_call(tripletex_sandbox, connection) -> None:
    with pytest.raises(ConfigError) as raised:
        connection.read_statistics(target(clients(tripletex_sandbox)[0]), BUSY_MONTH, ["hours"])

    assert "hours" in raised.value.message
    assert calls(tripletex_sandbox) == {}


def test_it_raises_books_access_lost_when_the_company_answers_401(
    tripletex_sandbox, connection
) -> None:
    company = clients(tripletex_sandbox)[0]
    tripletex_sandbox.store.inject_fault("unauthorized", "/ledger/posting", times=10)

    with pytest.raises(BooksAccessLost) as raised:
        connection.read_statistics(target(company), BUSY_MONTH, ["postings"])

    assert raised.value.books_company_id == str(company)
    # The session was checked once as the firm (it works), never re-created.
    assert calls(tripletex_sandbox)["PUT /token/session/:create"] == 1
    assert calls(tripletex_sandbox)["GET /ledger/posting"] == 1
