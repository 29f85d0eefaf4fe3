"""MeritAdapter's invoice export (`sendinvoice` with Merit's rounding rule) and paid status
(`getinvoices`), over real HTTP against the Merit emulator."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import requests
import time_machine

from integrations.base import (
    CallRecord,
    ConfigError,
    ExportedRef,
    InvoiceLineOut,
    InvoiceOut,
    TransientError,
)
from integrations.merit.adapter import MeritAdapter
from integrations.merit.client import split_window
from integrations.merit.invoices import SERVICE_ITEM_CODE, row_amounts

TALLINN = ZoneInfo("Europe/Tallinn")


class World:
    """The Estonian demo firm in the emulator, as the tests need it."""

    def __init__(self, server: Any) -> None:
        self.server = server
        self.store = server.store
        self.company = self.store.firm("EE")

    def customer(self, index: int = 0) -> dict[str, Any]:
        return list(self.company.customers.values())[index]

    def tax(self, code: str | None = None, pct: str | None = None) -> dict[str, Any]:
        return next(
            t
            for t in self.company.taxes
            if not t["NonActive"]
            and (code is None or t["Code"] == code)
            and (pct is None or t["TaxPct"] == Decimal(pct))
        )

    def inactive_tax(self) -> dict[str, Any]:
        return next(t for t in self.company.taxes if t["NonActive"])

    def item(self) -> dict[str, Any]:
        return next(i for i in self.company.items if i["TypeCode"] == 2)

    def invoices(self, number: str) -> list[dict[str, Any]]:
        self.company.ensure_history()
        return [i for i in self.company.invoices.values() if i["Header"]["InvoiceNo"] == number]

    def control(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        response = requests.post(
            f"{self.server.base_url}/_sandbox{path}", json=body or {}, timeout=10
        )
        assert response.ok, response.text
        return response.json()

    def counts(self) -> dict[str, int]:
        return self.store.request_counts()


@pytest.fixture
def world(merit) -> World:
    return World(merit)


@pytest.fixture
def adapter(merit):
    creds = merit.store.demo_credentials("EE")
    calls: list[CallRecord] = []
    made = MeritAdapter(
        credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
        environment="ee",
        rate_limit_key="merit-invoices-test",
        on_call=calls.append,
        client_options={"sleep": lambda _s: None},
    )
    made.calls = calls  # type: ignore[attr-defined]
    yield made
    made.close()


def line(world: World, **overrides: Any) -> InvoiceLineOut:
    tax = world.tax(pct="24")
    values: dict[str, Any] = {
        "description": "Raamatupidamisteenus november",
        "quantity": Decimal("2"),
        "unit_price": Decimal("150.00"),
        "discount_percent": Decimal("0"),
        "net_amount": Decimal("300.00"),
        "vat_amount": Decimal("72.00"),
        "vat_percentage": Decimal("24"),
        "vat_code": tax["Code"],
        "vat_type_id": tax["Id"],
    }
    values.update(overrides)
    return InvoiceLineOut(**values)


def invoice_out(world: World, **overrides: Any) -> InvoiceOut:
    today = datetime.now(TALLINN).date()
    lines = overrides.pop("lines") if "lines" in overrides else (line(world),)
    net = sum((row_amounts(ln)[0] for ln in lines), Decimal(0))
    vat = sum((row_amounts(ln)[1] for ln in lines), Decimal(0))
    values: dict[str, Any] = {
        "reference": "UKU-2026-0042",
        "customer_id": world.customer()["CustomerId"],
        "issue_date": today,
        "due_date": today + timedelta(days=14),
        "currency": "EUR",
        "lines": tuple(lines),
        "net_total": net,
        "vat_total": vat,
        "gross_total": net + vat,
        "comment": "Aitäh!",
    }
    values.update(overrides)
    return InvoiceOut(**values)


# --- Export ------------------------------------------------------------------------------------


def test_it_sends_one_sales_invoice_with_its_rows_taxes_and_totals(adapter, world: World) -> None:
    item = world.item()
    low = world.tax(pct="9")
    invoice = invoice_out(
        world,
        lines=(
            line(world, product_id=item["ItemId"]),
            line(
                world,
                description="Koolitus",
                quantity=Decimal("3"),
                unit_price=Decimal("33.33"),
                discount_percent=Decimal("10"),
                vat_percentage=Decimal("9"),
                vat_code=low["Code"],
                vat_type_id="",
            ),
        ),
    )

    exported = adapter.export_invoice(invoice)

    (stored,) = world.invoices("UKU-2026-0042")
    header = stored["Header"]
    assert exported.remote_id == header["SIHId"]
    assert exported.remote_number == "UKU-2026-0042"
    assert exported.warnings == ()
    assert header["CustomerId"] == world.customer()["CustomerId"]
    assert header["DocumentDate"] == f"{invoice.issue_date.isoformat()}T00:00:00"
    assert header["DueDate"] == f"{invoice.due_date.isoformat()}T00:00:00"
    assert header["HComment"] == "Aitäh!"
    rows = stored["Lines"]
    assert [r["ArticleCode"] for r in rows] == [item["Code"], SERVICE_ITEM_CODE]
    assert [r["Quantity"] for r in rows] == [Decimal("2"), Decimal("3")]
    assert [r["Price"] for r in rows] == [Decimal("150"), Decimal("33.33")]
    assert [r["DiscountPct"] for r in rows] == [Decimal("0"), Decimal("10")]
    assert [r["TaxPct"] for r in rows] == [Decimal("24"), Decimal("9")]
    assert [r["AmountExclVat"] for r in rows] == [Decimal("300.00"), Decimal("89.99")]
    assert (header["TotalAmount"], header["TaxAmount"]) == (Decimal("389.99"), Decimal("80.10"))
    assert [c.path for c in adapter.calls] == ["/gettaxes", "/getitems", "/sendinvoice"]


def test_it_rounds_each_row_before_summing_as_merit_requires(adapter, world: World) -> None:
    # Ten rows of 0.02 at 24 %: each row's VAT rounds to 0.00, so the invoice's VAT is 0.00;
    # rounding the sum instead (0.048 -> 0.05) is refused with "TAX AMOUNTS DOES NOT SUM UP".
    rows = tuple(
        line(world, description=f"Rida {i}", quantity=Decimal("1"), unit_price=Decimal("0.02"))
        for i in range(10)
    )
    invoice = invoice_out(world, lines=rows, gross_total=Decimal("0.25"))

    exported = adapter.export_invoice(invoice)

    (stored,) = world.invoices("UKU-2026-0042")
    assert (stored["Header"]["TotalAmount"], stored["Header"]["TaxAmount"]) == (
        Decimal("0.20"),
        Decimal("0.00"),
    )
    assert len(exported.warnings) == 1 and "0.20" in exported.warnings[0]


def test_a_second_export_on_the_same_adapter_is_one_call(adapter, world: World) -> None:
    adapter.export_invoice(invoice_out(world))
    before = len(adapter.calls)

    adapter.export_invoice(invoice_out(world, reference="UKU-2026-0043"))

    assert [c.path for c in adapter.calls[before:]] == ["/sendinvoice"]


def _refusal(adapter, invoice: InvoiceOut) -> ConfigError:
    with pytest.raises(ConfigError) as raised:
        adapter.export_invoice(invoice)
    return raised.value


def test_a_customer_merit_does_not_know_asks_to_link_the_client(adapter, world: World) -> None:
    unknown = _refusal(
        adapter, invoice_out(world, customer_id="0b7f3a2e-1111-4222-8333-944455566677")
    )
    not_a_guid = _refusal(adapter, invoice_out(world, customer_id="17"))

    assert unknown.details["fix"] == not_a_guid.details["fix"] == "link"
    assert "Link the client" in unknown.message
    assert world.invoices("UKU-2026-0042") == []


def test_a_tax_rate_merit_cannot_use_asks_for_another_vat_type(adapter, world: World) -> None:
    inactive = world.inactive_tax()
    unknown = _refusal(
        adapter,
        invoice_out(world, lines=(line(world, vat_type_id="", vat_code="NOPE"),)),
    )
    gone = _refusal(
        adapter,
        invoice_out(
            world,
            lines=(
                line(
                    world,
                    vat_type_id=inactive["Id"],
                    vat_code=inactive["Code"],
                    vat_percentage=inactive["TaxPct"],
                ),
            ),
        ),
    )
    rate = _refusal(adapter, invoice_out(world, lines=(line(world, vat_percentage=Decimal("22")),)))

    assert unknown.details["fix"] == gone.details["fix"] == rate.details["fix"] == "vat_type"
    assert "24 % in Merit" in rate.message
    assert world.counts().get("EE sendinvoice", 0) == 0


def test_an_invoice_without_lines_is_refused_before_sending(adapter, world: World) -> None:
    refused = _refusal(adapter, invoice_out(world, lines=()))

    assert refused.details["fix"] == "validation"
    assert world.counts() == {}


@pytest.mark.parametrize("kind", ["lose_response", "drop", "server_error", "stacktrace_200"])
def test_an_ambiguous_failure_is_never_resent_and_says_the_outcome_is_unknown(
    adapter, world: World, kind: str
) -> None:
    invoice = invoice_out(world)
    world.store.inject_fault(kind, endpoint="sendinvoice")

    with pytest.raises(TransientError) as raised:
        adapter.export_invoice(invoice)

    assert raised.value.details["outcome"] == "unknown"
    assert world.counts()["EE sendinvoice"] == 1
    found = adapter.find_exported_invoice(invoice)
    stored = world.invoices("UKU-2026-0042")
    if kind == "lose_response":
        assert found is not None and found.remote_id == stored[0]["Header"]["SIHId"]
    else:
        assert stored == [] and found is None


def test_exporting_again_after_a_lost_answer_adopts_the_invoice_merit_has(
    adapter, world: World
) -> None:
    invoice = invoice_out(world)
    world.store.inject_fault("lose_response", endpoint="sendinvoice")
    with pytest.raises(TransientError):
        adapter.export_invoice(invoice)

    again = adapter.export_invoice(invoice)

    (stored,) = world.invoices("UKU-2026-0042")
    assert again.remote_id == stored["Header"]["SIHId"]
    assert "linked to it" in again.warnings[-1]


def test_a_number_merit_has_for_another_customer_is_refused(adapter, world: World) -> None:
    adapter.export_invoice(invoice_out(world, customer_id=world.customer(1)["CustomerId"]))

    refused = _refusal(adapter, invoice_out(world))

    assert refused.details["fix"] == "validation"
    assert "another customer" in refused.message


def test_a_429_on_the_write_is_waited_out_and_sent_again(adapter, world: World) -> None:
    world.store.inject_fault("rate_limit", endpoint="sendinvoice", retry_after=1)

    exported = adapter.export_invoice(invoice_out(world))

    assert [i["Header"]["SIHId"] for i in world.invoices("UKU-2026-0042")] == [exported.remote_id]
    assert world.counts()["EE sendinvoice"] == 2


def test_find_exported_invoice_matches_number_and_customer(adapter, world: World) -> None:
    invoice = invoice_out(world)
    assert adapter.find_exported_invoice(invoice) is None
    adapter.export_invoice(invoice_out(world, reference="UKU-2026-0042-X"))
    assert adapter.find_exported_invoice(invoice) is None

    exported = adapter.export_invoice(invoice)

    found = adapter.find_exported_invoice(invoice)
    assert found is not None and found.remote_id == exported.remote_id


# --- Status ------------------------------------------------------------------------------------


def _export(adapter, world: World, reference: str, **overrides: Any) -> ExportedRef:
    invoice = invoice_out(world, reference=reference, **overrides)
    exported = adapter.export_invoice(invoice)
    return ExportedRef(remote_id=exported.remote_id, issue_date=invoice.issue_date)


def test_it_reads_paid_partly_paid_unpaid_and_credited(adapter, world: World) -> None:
    refs = {s: _export(adapter, world, f"UKU-{s}") for s in ("unpaid", "partly", "paid", "cred")}
    world.control(f"/invoices/{refs['partly'].remote_id}/payments", {"amount": "100.00"})
    world.control(f"/invoices/{refs['paid'].remote_id}/payments")
    world.control(f"/invoices/{refs['cred'].remote_id}/credit")
    world.store.clear_requests()

    statuses = adapter.invoice_statuses(list(refs.values()))

    got = {s: statuses[ref.remote_id] for s, ref in refs.items()}
    assert {s: v.state for s, v in got.items()} == {
        "unpaid": "unpaid",
        "partly": "unpaid",
        "paid": "paid",
        "cred": "credited",
    }
    assert got["unpaid"].outstanding == Decimal("372.00")
    assert got["partly"].outstanding == Decimal("272.00")
    assert got["paid"].outstanding == got["cred"].outstanding == Decimal("0.00")
    assert got["paid"].invoice_number == "UKU-paid"
    assert got["paid"].invoice_id == refs["paid"].remote_id
    # 'paid' and 'cred' are the same customer's and amount: getinvoice tells them apart
    assert world.counts() == {"EE getinvoices": 1, "EE getinvoice": 2}


def test_a_credit_invoice_cancels_one_export_only(adapter, world: World) -> None:
    first = _export(adapter, world, "UKU-a")
    second = _export(adapter, world, "UKU-b")  # same customer, same total
    other = _export(adapter, world, "UKU-c", customer_id=world.customer(1)["CustomerId"])
    world.control(f"/invoices/{first.remote_id}/credit")
    world.control(f"/invoices/{other.remote_id}/payments")
    world.store.clear_requests()

    statuses = adapter.invoice_statuses([first, second, other])

    assert statuses[first.remote_id].state == "credited"
    assert statuses[second.remote_id].state == "unpaid"
    assert statuses[other.remote_id].state == "paid"
    assert world.counts() == {"EE getinvoices": 1}  # no tie, no getinvoice


def test_a_credit_dated_today_in_tallinn_is_read_before_utc_reaches_that_day(merit) -> None:
    world = World(merit)
    creds = merit.store.demo_credentials("EE")
    # 22:30 UTC on 16 June 2025 is 01:30 on 17 June in Tallinn
    with time_machine.travel(datetime(2025, 6, 16, 22, 30, tzinfo=ZoneInfo("UTC")), tick=True):
        adapter = MeritAdapter(
            credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
            environment="ee",
            rate_limit_key="merit-midnight-test",
            client_options={"sleep": lambda _s: None},
        )
        try:
            issued = date(2025, 6, 14)
            ref = _export(adapter, world, "UKU-midnight", issue_date=issued, due_date=issued)
            world.control(f"/invoices/{ref.remote_id}/credit", {"date": "2025-06-17"})

            assert adapter.invoice_statuses([ref])[ref.remote_id].state == "credited"
        finally:
            adapter.close()


def test_old_exports_are_read_in_three_month_windows_and_unknown_ones_are_absent(
    adapter, world: World
) -> None:
    today = datetime.now(TALLINN).date()
    old = today - timedelta(days=200)
    ref = _export(adapter, world, "UKU-old", issue_date=old, due_date=old + timedelta(days=14))
    gone = ExportedRef(remote_id="0b7f3a2e-1111-4222-8333-944455566677", issue_date=today)
    world.store.clear_requests()

    statuses = adapter.invoice_statuses([ref, gone, ExportedRef("not-a-guid", today)])

    assert set(statuses) == {ref.remote_id}
    assert world.counts()["EE getinvoices"] == len(split_window(old, today, months=3))
    assert adapter.invoice_statuses([]) == {}


def test_a_malformed_list_is_retried_then_a_transient_error(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-m")
    world.store.inject_fault("malformed_json", endpoint="getinvoices")

    assert adapter.invoice_statuses([ref])[ref.remote_id].state == "unpaid"

    world.store.inject_fault("stacktrace_200", endpoint="getinvoices", times=5)
    with pytest.raises(TransientError):
        adapter.invoice_statuses([ref])


def test_a_429_on_the_list_is_waited_out(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-429")
    world.control(f"/invoices/{ref.remote_id}/payments")
    world.store.inject_fault("rate_limit", endpoint="getinvoices", retry_after=1)

    assert adapter.invoice_statuses([ref])[ref.remote_id].state == "paid"
    assert world.counts()["EE getinvoices"] == 2


def test_the_emulator_refuses_to_credit_twice(adapter, world: World) -> None:
    ref = _export(adapter, world, "UKU-twice")
    world.control(f"/invoices/{ref.remote_id}/credit")

    again = requests.post(
        f"{world.server.base_url}/_sandbox/invoices/{ref.remote_id}/credit", json={}, timeout=5
    )

    assert again.status_code == 400
