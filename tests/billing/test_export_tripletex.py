"""Issued invoices reach the Tripletex sandbox as one order each, through uku's own outbox, the
real adapter and real HTTP: the customer, the lines (products from the import), the VAT types
by code, the discount and the contact employee; and exactly one order after faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import TestCase
from django_scopes import scopes_disabled

from billing import exports, invoices
from billing.invoices import LineInput
from billing.models import BillingProduct, ExportState, InvoiceExport, VatType
from clients.models import Client, ExternalLink
from tests.billing.conftest import import_products


class Sandbox:
    def __init__(self, world: Any, server: Any) -> None:
        self.world, self.server, self.store = world, server, server.store
        self.firm = self.store.firm_company_id
        job = import_products(world)
        assert job.status == "succeeded", (job.status, job.error)
        customer = next(
            c for c in self.store.company_rows("customer", self.firm) if not c.get("isInactive")
        )
        self.customer_id = customer["id"]
        with world.scope_a():
            self.client = Client.objects.create(company=world.firm_a, name=customer["name"])
            ExternalLink.objects.create(
                company=world.firm_a, client=self.client, vendor="tripletex",
                remote_id=str(customer["id"]),
            )  # fmt: skip
            self.products = list(
                BillingProduct.objects.filter(company=world.firm_a, vendor="tripletex").order_by(
                    "number"
                )
            )
            self.vat = {v.number: v for v in VatType.objects.filter(company=world.firm_a)}
        admin = self.store.admin_employee_id
        self.employee = next(
            e for e in self.store.company_rows("employee", self.firm)
            if e["id"] != admin and e["_active"]
        )  # fmt: skip

    def orders(self, reference: str) -> list[dict[str, Any]]:
        return [
            o
            for o in self.store.company_rows("order", self.firm)
            if o.get("reference") == reference
        ]

    def lines_of(self, order: dict[str, Any]) -> list[dict[str, Any]]:
        return [self.store.get("orderLine", i) for i in order["orderLines"]]

    def draft(self, **fields: Any) -> Any:
        with self.world.scope_a():
            return invoices.create_draft(
                company=self.world.firm_a,
                actor=self.world.billing,
                client=self.client,
                lines=[
                    LineInput(product=self.products[0], quantity=Decimal("2.5")),
                    LineInput(product=self.products[1]),
                    LineInput(
                        description="Møtemat",
                        quantity=Decimal(3),
                        unit_price=Decimal("99.90"),
                        vat_type=self.vat["31"],
                        discount_percent=Decimal(10),
                    ),
                    LineInput(
                        description="Kurs", unit_price=Decimal("400"), vat_type=self.vat["33"]
                    ),
                ],
                **fields,
            )

    def issue(self, invoice: Any) -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True), self.world.scope_a():
            issued, _now = invoices.issue_invoice(
                company=self.world.firm_a, actor=self.world.billing, invoice=invoice
            )
        return issued

    def export_of(self, invoice: Any) -> InvoiceExport:
        with scopes_disabled():
            return InvoiceExport.objects.get(invoice=invoice)


@pytest.fixture
def sandbox(world, billing_on) -> Sandbox:
    return Sandbox(world, billing_on)


def test_the_order_has_the_customer_lines_vat_types_discount_and_employee(sandbox, world) -> None:
    membership = world.membership(world.accountant)
    with world.scope_a():
        membership.external_id = str(sandbox.employee["id"])
        membership.save()
    invoice = sandbox.issue(sandbox.draft(responsible=world.accountant, comment="Takk"))
    export = sandbox.export_of(invoice)
    assert export.state == ExportState.DONE, export.last_error
    (order,) = sandbox.orders(invoice.number)
    assert export.remote_id == str(order["id"]) and export.remote_number == str(order["number"])
    assert order["customer"] == sandbox.customer_id
    assert order["orderDate"] == order["deliveryDate"] == invoice.issue_date.isoformat()
    assert order["ourContactEmployee"] == sandbox.employee["id"]
    lines = sandbox.lines_of(order)
    first, second = sandbox.products[0], sandbox.products[1]
    assert [ln["product"] for ln in lines] == [
        int(first.remote_id),
        int(second.remote_id),
        None,
        None,
    ]
    assert [ln["description"] for ln in lines] == [first.name, second.name, "Møtemat", "Kurs"]
    assert [ln["count"] for ln in lines] == [2.5, 1, 3, 1]
    assert [ln["discount"] for ln in lines] == [0, 0, 10, 0]
    vat_ids = [sandbox.store.lookup("vatType", sandbox.firm, code) for code in (
        first.vat_type.number, second.vat_type.number, "31", "33")]  # fmt: skip
    assert [ln["vatType"] for ln in lines] == vat_ids
    with world.scope_a():
        nets = [line.net_amount for line in invoice.lines.all()]
    assert [
        Decimal(str(ln["amountExcludingVatCurrency"])).quantize(Decimal("0.01")) for ln in lines
    ] == nets
    assert export.warnings == []
    with world.scope_a():
        shown = exports.export_display(export)
    assert shown["text"].endswith(f"#{order['number']}")


def test_a_member_without_external_id_leaves_the_employee_out_with_a_warning(
    sandbox, world
) -> None:
    invoice = sandbox.issue(sandbox.draft(responsible=world.accountant))
    (order,) = sandbox.orders(invoice.number)
    assert order.get("ourContactEmployee") is None
    [warning] = sandbox.export_of(invoice).warnings  # one, not uku's and the adapter's both
    assert "External ID" in warning


@pytest.mark.parametrize("fault", ["lose_response", "drop", "server_error"])
def test_exactly_one_order_after_an_unknown_outcome(sandbox, fault) -> None:
    sandbox.store.inject_fault(fault, "/order", method="POST")
    invoice = sandbox.issue(sandbox.draft())
    export = sandbox.export_of(invoice)
    assert export.state == ExportState.DONE, export.last_error
    (order,) = sandbox.orders(invoice.number)
    assert export.remote_id == str(order["id"])
    posts = sandbox.store.request_counts()["POST /order"]
    # lose_response: the first write was applied and adopted (no second POST)
    assert posts == (1 if fault == "lose_response" else 2)


def test_exactly_one_order_after_a_429_storm(sandbox) -> None:
    sandbox.store.inject_fault("rate_limit", "/order", method="POST", times=4, retry_after=0)
    invoice = sandbox.issue(sandbox.draft())
    export = sandbox.export_of(invoice)
    assert export.state == ExportState.DONE, export.last_error
    assert len(sandbox.orders(invoice.number)) == 1


def test_a_double_issue_and_a_task_run_twice_make_one_order(sandbox) -> None:
    draft = sandbox.draft()
    sandbox.issue(draft)
    sandbox.issue(draft)
    export = sandbox.export_of(draft)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert exports.run_export(export.pk, eager=True) == "skipped"
    assert len(sandbox.orders(export.invoice.number)) == 1


def test_a_missing_bank_account_fails_with_the_fix_and_retry_then_exports(sandbox, world) -> None:
    import requests

    base = f"{sandbox.server.base_url}/_sandbox"
    requests.post(
        f"{base}/companies/{sandbox.firm}/bank-account",
        json={"bank_account_number": None},
        timeout=10,
    )
    invoice = sandbox.issue(sandbox.draft())
    export = sandbox.export_of(invoice)
    assert (export.state, export.error_fix) == (ExportState.FAILED, "bank_account")
    assert sandbox.orders(invoice.number) == []
    requests.post(
        f"{base}/companies/{sandbox.firm}/bank-account",
        json={"bank_account_number": "15030012345"},
        timeout=10,
    )
    with TestCase.captureOnCommitCallbacks(execute=True), world.scope_a():
        exports.retry_export(company=world.firm_a, actor=world.billing, invoice=invoice)
    assert sandbox.export_of(invoice).state == ExportState.DONE
    assert len(sandbox.orders(invoice.number)) == 1


# --- Invoice status (issue 13) -----------------------------------------------------------------


def _control(sandbox: Sandbox, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    import requests

    response = requests.post(
        f"{sandbox.server.base_url}/_sandbox{path}", json=body or {}, timeout=10
    )
    assert response.ok, response.text
    return response.json()


def test_statuses_come_back_from_tripletex_through_one_job(sandbox, world) -> None:
    from billing import statuses

    made = [sandbox.issue(sandbox.draft()) for _n in range(6)]
    remote = [sandbox.export_of(i).remote_id for i in made]
    _control(sandbox, f"/orders/{remote[0]}/invoice", {"state": "paid"})
    _control(
        sandbox, f"/orders/{remote[1]}/invoice", {"state": "partly_paid", "paid_amount": "1000"}
    )
    _control(sandbox, f"/orders/{remote[2]}/invoice", {"state": "reminder", "reminder_fee": "70"})
    _control(sandbox, f"/orders/{remote[3]}/invoice", {"state": "credited"})
    later = _control(
        sandbox, f"/orders/{remote[4]}/invoice", {"state": "unpaid", "number_later": True}
    )
    # made[5] stays an order: exported, not invoiced yet

    def refresh() -> Any:
        with TestCase.captureOnCommitCallbacks(execute=True), world.scope_a():
            job, _created = statuses.request_status_refresh(
                company=world.firm_a, actor=world.billing
            )
        job.refresh_from_db()
        return job

    job = refresh()
    assert job.status == "succeeded", job.error
    for invoice in made:
        invoice.refresh_from_db()
    assert [i.status for i in made] == ["paid", "unpaid", "paid", "credited", "unpaid", "issued"]
    assert made[1].outstanding_amount == made[1].gross_total - Decimal("1000")
    assert made[2].outstanding_amount == Decimal("0")  # the reminder fee does not count
    numbers = [sandbox.export_of(i).remote_invoice_number for i in made]
    assert all(numbers[:4]) and numbers[4] == "" and numbers[5] == ""
    assert sandbox.export_of(made[5]).remote_state == "not_invoiced"

    invoice_id = later.get("id") or later.get("invoice", {}).get("id")
    _control(sandbox, f"/invoices/{invoice_id}/assign-number")
    again = refresh()
    assert again.counts["updated"] >= 1
    assert sandbox.export_of(made[4]).remote_invoice_number != ""
    unchanged = refresh()
    assert unchanged.counts["updated"] == 0


def test_a_batch_of_exports_logs_in_and_looks_up_once(sandbox) -> None:
    """Issue 15: each export runs with its own adapter, yet the batch opens one session, lists
    the VAT types and checks the bank account once; each invoice then costs one POST /order."""
    drafts = [sandbox.draft() for _ in range(4)]
    sandbox.store.clear_requests()
    for draft in drafts:
        sandbox.issue(draft)
    assert all(sandbox.export_of(d).state == ExportState.DONE for d in drafts)
    counts = sandbox.store.request_counts()
    assert counts == {
        "PUT /token/session/:create": 1,
        "GET /ledger/vatType": 1,
        "GET /ledger/account": 1,
        "POST /order": 4,
    }, counts


def test_a_vat_code_missing_from_the_cached_table_is_looked_up_once_more(sandbox) -> None:
    """A cached VAT table may be older than the company's VAT types: before refusing a line,
    the export lists them once more (and then refuses if the code really is not there)."""
    from integrations.tripletex import invoices as tripletex_invoices

    first = sandbox.issue(sandbox.draft())
    assert sandbox.export_of(first).state == ExportState.DONE
    # The cached table forgets code 33, as if it had been read before the type existed.
    for table in tripletex_invoices._export_caches._values.values():
        for by_number in table[1].vat_types.values():
            by_number.pop("33", None)
    sandbox.store.clear_requests()
    second = sandbox.issue(sandbox.draft())
    assert sandbox.export_of(second).state == ExportState.DONE, sandbox.export_of(second).last_error
    assert sandbox.store.request_counts().get("GET /ledger/vatType") == 1
