"""TripletexAdapter's invoice export and invoice status, over real HTTP against the sandbox.

The export is one order with its lines embedded (fact sheet 6.5) carrying uku's number in
`reference`; a write whose outcome is unknown is never resent, and `find_exported_invoice`
finds it. Status comes from `GET /invoice` lists matched through `orders(id)` (6.6)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine
from django.utils import translation

from integrations.base import (
    CallRecord,
    ConfigError,
    ExportedRef,
    InvoiceLineOut,
    InvoiceOut,
    RateLimited,
    TransientError,
    get_vendor,
)
from integrations.tripletex.adapter import TripletexAdapter
from integrations.tripletex.invoices import PAGE_SIZE
from integrations.tripletex.sandbox import SandboxServer
from integrations.tripletex.sandbox.endpoints import create_order, invoice_order

OSLO = ZoneInfo("Europe/Oslo")


@pytest.fixture
def token(tripletex_sandbox: SandboxServer) -> str:
    return tripletex_sandbox.store.create_employee_token()["token"]


@pytest.fixture
def adapter(tripletex_settings, token: str):
    calls: list[CallRecord] = []
    made = TripletexAdapter(
        credentials={"employee_token": token},
        environment="test",
        on_call=calls.append,
        client_options={"sleep": lambda _s: None},
    )
    made.calls = calls  # type: ignore[attr-defined]
    yield made
    made.close()


class World:
    """The firm's company in the sandbox, as the tests need it."""

    def __init__(self, server: SandboxServer) -> None:
        self.server = server
        self.store = server.store
        self.firm = self.store.firm_company_id

    def customer(self, index: int = 0) -> dict[str, Any]:
        active = [
            c for c in self.store.company_rows("customer", self.firm) if not c.get("isInactive")
        ]
        return active[index]

    def product(self, index: int = 0) -> dict[str, Any]:
        return self.store.company_rows("product", self.firm)[index]

    def vat_id(self, number: str) -> int:
        vat = self.store.lookup("vatType", self.firm, number)
        assert vat is not None
        return vat

    def employee(self, active: bool = True) -> dict[str, Any]:
        admin = self.store.admin_employee_id
        return next(
            e
            for e in self.store.company_rows("employee", self.firm)
            if e["id"] != admin and e["_active"] is active
        )

    def row(self, kind: str, row_id: int) -> dict[str, Any]:
        found = self.store.get(kind, row_id)
        assert found is not None
        return found

    def orders(self, reference: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.store.company_rows("order", self.firm)
            if o.get("reference") == reference
        ]

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.server.base_url}/_sandbox{path}", json=body or {}, timeout=10
        )
        assert response.ok, response.text
        return response.json()

    def fault(self, kind: str, path: str = "/order", method: str = "POST", **extra: Any) -> None:
        self.store.inject_fault(kind, path, method=method, **extra)

    def counts(self) -> dict[str, int]:
        return self.store.request_counts()


@pytest.fixture
def world(tripletex_sandbox: SandboxServer) -> World:
    return World(tripletex_sandbox)


def line(**overrides: Any) -> InvoiceLineOut:
    values: dict[str, Any] = {
        "description": "Regnskapsføring november",
        "quantity": Decimal("2"),
        "unit_price": Decimal("1250.50"),
        "discount_percent": Decimal("0"),
        "net_amount": Decimal("2501.00"),
        "vat_amount": Decimal("625.25"),
        "vat_percentage": Decimal("25"),
        "vat_code": "3",
    }
    values.update(overrides)
    return InvoiceLineOut(**values)


def invoice_out(world: World, **overrides: Any) -> InvoiceOut:
    today = datetime.now(OSLO).date()
    values: dict[str, Any] = {
        "reference": "UKU-2026-0042",
        "customer_id": str(world.customer()["id"]),
        "issue_date": today,
        "due_date": today + timedelta(days=14),
        "currency": "NOK",
        "lines": (line(),),
        "net_total": Decimal("2501.00"),
        "vat_total": Decimal("625.25"),
        "gross_total": Decimal("3126.25"),
        "contact_employee_id": str(world.employee()["id"]),
        "comment": "Takk for samarbeidet",
    }
    values.update(overrides)
    return InvoiceOut(**values)


# --- Export ------------------------------------------------------------------------------------


def test_the_invoice_page_names_the_export_an_order() -> None:
    info = get_vendor("tripletex")
    with translation.override("nb"):
        norwegian = str(info.exported_as) % {"number": "123"}

    assert str(info.exported_as) % {"number": "123"} == "Exported as order #123"
    assert norwegian == "Eksportert som ordre #123"


def test_it_exports_an_invoice_as_one_order_with_customer_lines_vat_discount_and_employee(
    adapter, world: World
) -> None:
    product = world.product()
    employee = world.employee()
    invoice = invoice_out(
        world,
        contact_employee_id=str(employee["id"]),
        lines=(
            line(product_id=str(product["id"]), vat_type_id="999999"),
            line(
                description="Møtemat",
                quantity=Decimal("3"),
                unit_price=Decimal("99.90"),
                discount_percent=Decimal("10"),
                vat_percentage=Decimal("15"),
                vat_code="31",
            ),
            line(
                description="Kurs",
                quantity=Decimal("1"),
                unit_price=Decimal("400"),
                vat_percentage=Decimal("12"),
                vat_code="33",
            ),
        ),
    )

    exported = adapter.export_invoice(invoice)

    (order,) = world.orders("UKU-2026-0042")
    assert exported.remote_id == str(order["id"])
    assert exported.remote_number == order["number"]
    assert exported.warnings == ()
    assert order["customer"] == world.customer()["id"]
    assert order["orderDate"] == order["deliveryDate"] == invoice.issue_date.isoformat()
    assert order["ourContactEmployee"] == employee["id"]
    assert (order["invoicesDueIn"], order["invoicesDueInType"]) == (14, "DAYS")
    assert order["invoiceComment"] == "Takk for samarbeidet"
    lines = [world.row("orderLine", i) for i in order["orderLines"]]
    assert [ln["product"] for ln in lines] == [product["id"], None, None]
    assert [ln["description"] for ln in lines] == ["Regnskapsføring november", "Møtemat", "Kurs"]
    assert [ln["count"] for ln in lines] == [2, 3, 1]
    assert [ln["unitPriceExcludingVatCurrency"] for ln in lines] == [1250.5, 99.9, 400]
    assert [ln["discount"] for ln in lines] == [0, 10, 0]
    # resolved by number in this company, not the imported id (999999 does not exist)
    assert [ln["vatType"] for ln in lines] == [world.vat_id(c) for c in ("3", "31", "33")]
    assert [ln["amountExcludingVatCurrency"] for ln in lines] == [2501.0, 269.73, 400.0]
    assert [c.path for c in adapter.calls] == [
        "/token/session/:create",
        "/ledger/vatType",
        "/ledger/account",
        "/order",
    ]
    vat_call = next(r for r in world.store.request_log()["requests"] if "vatType" in r["path"])
    assert vat_call["query"]["typeOfVat"] == "OUTGOING"
    assert vat_call["query"]["vatDate"] == invoice.issue_date.isoformat()


def test_a_second_export_on_the_same_adapter_is_one_call(adapter, world: World) -> None:
    adapter.export_invoice(invoice_out(world))
    before = len(adapter.calls)

    adapter.export_invoice(invoice_out(world, reference="UKU-2026-0043"))

    assert [c.path for c in adapter.calls[before:]] == ["/order"]


def test_it_leaves_out_a_blank_contact_employee_with_a_warning(adapter, world: World) -> None:
    exported = adapter.export_invoice(invoice_out(world, contact_employee_id=""))

    (order,) = world.orders("UKU-2026-0042")
    assert order.get("ourContactEmployee") is None
    assert len(exported.warnings) == 1
    assert "External ID" in exported.warnings[0]


@pytest.mark.parametrize("which", ["unknown", "deactivated", "not a number"])
def test_it_leaves_out_an_employee_tripletex_refuses_and_makes_one_order(
    adapter, world: World, which: str
) -> None:
    employee_id = {
        "unknown": "987654",
        "deactivated": "",
        "not a number": "kari@firma.no",
    }[which]
    if which == "deactivated":
        employee = world.employee()
        world.store.deactivate_employee(employee["id"])
        employee_id = str(employee["id"])

    exported = adapter.export_invoice(invoice_out(world, contact_employee_id=employee_id))

    (order,) = world.orders("UKU-2026-0042")
    assert exported.remote_id == str(order["id"])
    assert order.get("ourContactEmployee") is None
    assert len(exported.warnings) == 1
    assert employee_id[:20] in exported.warnings[0]


def _refusal(adapter, invoice: InvoiceOut) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        adapter.export_invoice(invoice)
    return raised.value


def test_a_customer_tripletex_does_not_know_asks_to_link_the_client(adapter, world: World) -> None:
    unknown = _refusal(adapter, invoice_out(world, customer_id="424242"))
    not_an_id = _refusal(adapter, invoice_out(world, customer_id="c-17"))

    assert unknown.details["fix"] == not_an_id.details["fix"] == "link"
    assert "Link the client" in unknown.message
    assert unknown.details["status"] == 422
    assert world.orders("UKU-2026-0042") == []


def test_a_vat_code_the_company_cannot_use_asks_for_another_vat_type(adapter, world: World) -> None:
    unknown = _refusal(adapter, invoice_out(world, lines=(line(vat_code="1"),)))
    blank = _refusal(adapter, invoice_out(world, lines=(line(vat_code=""),)))
    rate = _refusal(adapter, invoice_out(world, lines=(line(vat_percentage=Decimal("15")),)))

    assert unknown.details["fix"] == blank.details["fix"] == rate.details["fix"] == "vat_type"
    assert "VAT code 1" in unknown.message
    assert "25 % in Tripletex" in rate.message and "15 %" in rate.message
    assert world.orders("UKU-2026-0042") == []
    assert world.counts().get("POST /order", 0) == 0


def test_a_company_not_registered_for_vat_says_so(adapter, world: World) -> None:
    world.control(f"/companies/{world.firm}/vat-registration", {"registered": False})

    refused = _refusal(adapter, invoice_out(world))

    assert refused.details["fix"] == "vat_registration"
    assert "not registered for VAT" in refused.message
    assert world.counts().get("POST /order", 0) == 0


def test_a_missing_bank_account_number_asks_for_it_before_anything_is_written(
    adapter, world: World
) -> None:
    world.control(f"/companies/{world.firm}/bank-account", {"bank_account_number": None})

    refused = _refusal(adapter, invoice_out(world))

    assert refused.details["fix"] == "bank_account"
    assert "1920" in refused.message
    assert world.counts().get("POST /order", 0) == 0
    world.control(f"/companies/{world.firm}/bank-account", {"bank_account_number": "15030000001"})
    assert adapter.export_invoice(invoice_out(world)).remote_id


def test_a_vat_code_refused_on_the_write_itself_asks_for_another_vat_type(
    adapter, world: World
) -> None:
    adapter.export_invoice(invoice_out(world))  # the usable codes are now known to the adapter
    world.control(f"/companies/{world.firm}/vat-registration", {"registered": False})

    refused = _refusal(adapter, invoice_out(world, reference="UKU-2026-0043"))

    assert refused.details["fix"] == "vat_type"
    assert "Ugyldig mva-kode." in refused.message
    assert refused.details["code"] == 18000
    assert world.orders("UKU-2026-0043") == []


def test_a_token_that_may_not_read_the_ledger_still_exports(adapter, world: World) -> None:
    world.fault("forbidden", path="/ledger/account", method="GET")

    exported = adapter.export_invoice(invoice_out(world))

    assert [o["id"] for o in world.orders("UKU-2026-0042")] == [int(exported.remote_id)]


def test_a_clerk_reads_the_refusal_in_norwegian(adapter, world: World) -> None:
    world.control(f"/companies/{world.firm}/bank-account", {"bank_account_number": None})

    with translation.override("nb"):
        refused = _refusal(adapter, invoice_out(world))

    assert "bankkontonummer" in refused.message
    assert "1920" in refused.message


def test_other_refusals_quote_tripletex_and_ask_for_a_correction(adapter, world: World) -> None:
    discount = _refusal(adapter, invoice_out(world, lines=(line(discount_percent=Decimal("150")),)))
    currency = _refusal(adapter, invoice_out(world, currency="EUR"))
    empty = _refusal(adapter, invoice_out(world, lines=()))

    assert (
        discount.details["fix"] == currency.details["fix"] == empty.details["fix"] == "validation"
    )
    assert "discount" in discount.message
    assert "EUR" in currency.message
    assert "no lines" in empty.message
    assert world.orders("UKU-2026-0042") == []


@pytest.mark.parametrize("kind", ["lose_response", "drop", "server_error", "malformed_json"])
def test_an_ambiguous_failure_is_never_resent_and_says_the_outcome_is_unknown(
    adapter, world: World, kind: str
) -> None:
    invoice = invoice_out(world)
    world.fault(kind)

    with pytest.raises(TransientError) as raised:
        adapter.export_invoice(invoice)

    assert raised.value.details["outcome"] == "unknown"
    assert world.counts()["POST /order"] == 1
    found = adapter.find_exported_invoice(invoice)
    created = world.orders("UKU-2026-0042")
    if kind == "lose_response":  # the write was applied, only the answer was lost
        assert len(created) == 1
        assert found is not None and found.remote_id == str(created[0]["id"])
        assert found.remote_number == created[0]["number"]
    else:
        assert created == [] and found is None


def test_a_429_or_503_on_the_write_means_not_done_and_is_sent_again(adapter, world: World) -> None:
    world.fault("rate_limit", retry_after=0)
    world.fault("unavailable")

    exported = adapter.export_invoice(invoice_out(world))

    assert [o["id"] for o in world.orders("UKU-2026-0042")] == [int(exported.remote_id)]
    assert world.counts()["POST /order"] == 3


def test_a_429_that_persists_is_rate_limited_and_creates_nothing(adapter, world: World) -> None:
    world.fault("rate_limit", times=10, retry_after=0)

    with pytest.raises(RateLimited) as raised:
        adapter.export_invoice(invoice_out(world))

    assert raised.value.details.get("outcome") != "unknown"
    assert world.orders("UKU-2026-0042") == []


def test_find_exported_invoice_matches_the_reference_of_the_customer_only(
    adapter, world: World
) -> None:
    invoice = invoice_out(world)
    assert adapter.find_exported_invoice(invoice) is None
    other = invoice_out(world, customer_id=str(world.customer(1)["id"]))
    adapter.export_invoice(other)  # the same reference, another customer
    adapter.export_invoice(invoice_out(world, reference="UKU-2026-0042-B"))

    assert adapter.find_exported_invoice(invoice) is None
    exported = adapter.export_invoice(invoice)
    found = adapter.find_exported_invoice(replace(invoice, issue_date=invoice.issue_date))

    assert found is not None and found.remote_id == exported.remote_id
    request = world.store.request_log()["requests"][-1]
    assert request["path"] == "/order"
    assert request["query"]["fields"] == "id,number,reference"
    assert request["query"]["customerId"] == invoice.customer_id


def test_find_exported_invoice_picks_the_oldest_of_duplicates_with_a_warning(
    adapter, world: World
) -> None:
    invoice = invoice_out(world)
    first = adapter.export_invoice(invoice)
    adapter.export_invoice(invoice)

    found = adapter.find_exported_invoice(invoice)

    assert found is not None and found.remote_id == first.remote_id
    assert "2 orders" in found.warnings[0]


# --- Status ------------------------------------------------------------------------------------


def _export(adapter, world: World, reference: str, **overrides: Any) -> ExportedRef:
    invoice = invoice_out(world, reference=reference, **overrides)
    exported = adapter.export_invoice(invoice)
    return ExportedRef(remote_id=exported.remote_id, issue_date=invoice.issue_date)


def test_it_reads_paid_partly_paid_reminder_credited_and_not_invoiced_in_one_pass(
    adapter, world: World
) -> None:
    refs = {
        state: _export(adapter, world, f"UKU-{state}")
        for state in ("unpaid", "partly_paid", "paid", "reminder", "credited", "open")
    }
    made = {
        state: world.control(f"/orders/{ref.remote_id}/invoice", {"state": state})
        for state, ref in refs.items()
        if state != "open"
    }
    world.store.clear_requests()

    statuses = adapter.invoice_statuses(list(refs.values()))

    by_state = {state: statuses[ref.remote_id] for state, ref in refs.items()}
    assert {s: v.state for s, v in by_state.items()} == {
        "unpaid": "unpaid",
        "partly_paid": "unpaid",
        "paid": "paid",
        "reminder": "paid",  # a reminder fee left does not make a paid invoice unpaid
        "credited": "credited",
        "open": "not_invoiced",
    }
    assert by_state["unpaid"].outstanding == Decimal("3126.25")
    assert by_state["partly_paid"].outstanding == Decimal("1563.13")
    assert by_state["paid"].outstanding == by_state["reminder"].outstanding == Decimal("0.00")
    for state, view in made.items():
        assert by_state[state].invoice_id == str(view["id"])
        assert by_state[state].invoice_number == str(view["invoiceNumber"])
    assert by_state["open"].invoice_id == "" and by_state["open"].outstanding is None
    counts = world.counts()
    assert counts == {"GET /invoice": 1, "GET /order": 1}
    listed = world.store.request_log()["requests"][0]
    assert listed["query"]["count"] == str(PAGE_SIZE)
    assert listed["query"]["fields"] == (
        "id,invoiceNumber,amountOutstanding,isCredited,isCreditNote,creditedInvoice,orders(id)"
    )


def test_an_invoice_number_assigned_later_is_read_once_it_is_there(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-later")
    invoice = world.control(
        f"/orders/{ref.remote_id}/invoice", {"state": "unpaid", "number_later": True}
    )

    before = adapter.invoice_statuses([ref])[ref.remote_id]
    world.control(f"/invoices/{invoice['id']}/assign-number")
    after = adapter.invoice_statuses([ref])[ref.remote_id]

    assert (before.state, before.invoice_id, before.invoice_number) == (
        "unpaid",
        str(invoice["id"]),
        "",
    )
    assert after.invoice_number == str(world.row("invoice", invoice["id"])["invoiceNumber"])
    assert after.invoice_number != ""


def test_an_order_tripletex_no_longer_has_is_absent(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-kept")
    gone = ExportedRef(remote_id="987654321", issue_date=ref.issue_date)

    statuses = adapter.invoice_statuses([ref, gone, ExportedRef("not-an-id", ref.issue_date)])

    assert set(statuses) == {ref.remote_id}
    assert adapter.invoice_statuses([]) == {}


def test_a_kept_invoice_id_dated_outside_the_range_is_looked_up_by_id(
    adapter, world: World
) -> None:
    ref = _export(adapter, world, "UKU-backdated")
    back = (ref.issue_date - timedelta(days=60)).isoformat()
    invoice = world.control(
        f"/orders/{ref.remote_id}/invoice", {"state": "paid", "invoice_date": back}
    )
    world.store.clear_requests()

    unknown_id = adapter.invoice_statuses([ref])
    kept = adapter.invoice_statuses([replace(ref, remote_invoice_id=str(invoice["id"]))])

    assert unknown_id[ref.remote_id].state == "not_invoiced"
    assert kept[ref.remote_id].state == "paid"
    last = world.store.request_log()["requests"][-1]
    assert last["query"]["id"] == str(invoice["id"])


def test_an_invoice_dated_today_in_oslo_is_read_before_utc_reaches_that_day(
    tripletex_sandbox: SandboxServer, tripletex_settings, token: str
) -> None:
    world = World(tripletex_sandbox)
    # 23:30 UTC on 16 June 2025 is 01:30 on 17 June in Oslo
    with time_machine.travel(datetime(2025, 6, 16, 23, 30, tzinfo=ZoneInfo("UTC")), tick=True):
        adapter = TripletexAdapter(credentials={"employee_token": token}, environment="test")
        try:
            oslo_day = date(2025, 6, 17)
            ref = _export(adapter, world, "UKU-midnight", issue_date=oslo_day - timedelta(days=3))
            world.control(
                f"/orders/{ref.remote_id}/invoice",
                {"state": "unpaid", "invoice_date": oslo_day.isoformat()},
            )

            status = adapter.invoice_statuses([ref])[ref.remote_id]

            assert status.state == "unpaid"
            listed = next(
                r for r in world.store.request_log()["requests"] if r["path"] == "/invoice"
            )
            assert listed["query"]["invoiceDateTo"] == "2025-06-18"
            assert listed["query"]["invoiceDateFrom"] == "2025-06-07"
        finally:
            adapter.close()


def test_2500_open_invoices_are_read_in_at_most_ceil_n_over_page_size_plus_one_calls(
    adapter, world: World
) -> None:
    store = world.store
    customer = world.customer()["id"]
    vat = world.vat_id("3")
    today = datetime.now(OSLO).date()
    refs = []
    for i in range(2500):
        day = today - timedelta(days=i % 20)
        order = create_order(
            store,
            world.firm,
            {
                "customer": {"id": customer},
                "orderDate": day.isoformat(),
                "deliveryDate": day.isoformat(),
                "reference": f"UKU-{i}",
                "orderLines": [
                    {
                        "description": "Fast honorar",
                        "count": 1,
                        "unitPriceExcludingVatCurrency": 100 + i,
                        "vatType": {"id": vat},
                    }
                ],
            },
            None,
        )
        invoice_order(store, world.firm, order["id"], day, False, None)
        refs.append(ExportedRef(remote_id=str(order["id"]), issue_date=day))
    store.clear_requests()

    statuses = adapter.invoice_statuses(refs)

    assert len(statuses) == 2500
    assert {s.state for s in statuses.values()} == {"unpaid"}
    assert statuses[refs[7].remote_id].outstanding == Decimal("133.75")
    list_calls = sum(n for call, n in world.counts().items() if call.startswith("GET /"))
    assert world.counts()["GET /invoice"] >= 3  # several pages
    assert list_calls <= math.ceil(2500 / PAGE_SIZE) + 1


def test_a_malformed_invoice_list_is_retried_then_a_transient_error(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-m")
    world.control(f"/orders/{ref.remote_id}/invoice", {"state": "paid"})
    world.fault("malformed_json", path="/invoice", method="GET")

    assert adapter.invoice_statuses([ref])[ref.remote_id].state == "paid"

    world.fault("malformed_json", path="/invoice", method="GET", times=5)
    with pytest.raises(TransientError):
        adapter.invoice_statuses([ref])


def test_an_invoice_without_an_outstanding_amount_is_a_malformed_answer_not_paid(
    adapter, world: World
) -> None:
    ref = _export(adapter, world, "UKU-null")
    invoice = world.control(f"/orders/{ref.remote_id}/invoice", {"state": "unpaid"})
    world.row("invoice", invoice["id"])["amountOutstanding"] = None

    with pytest.raises(TransientError) as raised:
        adapter.invoice_statuses([ref])

    assert raised.value.details["kind"] == "malformed"


def test_a_429_on_the_invoice_list_waits_and_reads_on(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-429")
    world.control(f"/orders/{ref.remote_id}/invoice", {"state": "partly_paid"})
    world.fault("rate_limit", path="/invoice", method="GET", retry_after=0)

    status = adapter.invoice_statuses([ref])[ref.remote_id]

    assert (status.state, status.outstanding) == ("unpaid", Decimal("1563.13"))
    assert world.counts()["GET /invoice"] == 2


def test_no_token_or_session_appears_in_export_and_status_errors_records_or_logs(
    adapter, world: World, token: str, caplog
) -> None:
    caplog.set_level("DEBUG")
    seen: list[str] = []
    world.fault("lose_response")
    for invoice in (
        invoice_out(world),
        invoice_out(world, customer_id="424242"),
        invoice_out(world, lines=(line(vat_code="1"),)),
    ):
        with pytest.raises((TransientError, ConfigError)) as raised:
            adapter.export_invoice(invoice)
        seen += [raised.value.message, repr(raised.value.details)]
    world.fault("malformed_json", path="/invoice", method="GET", times=5)
    with pytest.raises(TransientError) as failed:
        adapter.invoice_statuses([ExportedRef("1", date.today())])
    seen += [failed.value.message, repr(failed.value.details)]
    seen += [repr(call) for call in adapter.calls]
    sessions = [row["token"] for row in world.store.rows.get("sessionToken", {}).values()]

    text = "\n".join([*seen, caplog.text])
    assert sessions
    for secret in (token, *sessions, world.store.consumer_token):
        assert secret not in text
