"""Issued invoices reach the Merit emulator as one sales invoice each (`sendinvoice`), through
uku's outbox, the real adapter and real HTTP; exactly one after faults."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from django.test import TestCase
from django_scopes import scopes_disabled

from billing import invoices, services
from billing.invoices import LineInput
from billing.models import BillingProduct, ExportState, InvoiceExport, VatType
from clients.models import Client, ExternalLink
from tests.billing.conftest import run_jobs


class Emulator:
    def __init__(self, world: Any, server: Any) -> None:
        self.world, self.server, self.store = world, server, server.store
        self.company = self.store.firm("EE")
        with world.scope_a():
            services.activate_billing(company=world.firm_a, actor=world.owner, vendor="merit")

        def start() -> Any:
            with world.scope_a():
                return services.request_product_import(
                    company=world.firm_a, actor=world.admin, vendor="merit"
                )[0]

        job = run_jobs(start)
        assert job.status == "succeeded", job.error
        customer = next(iter(self.company.customers.values()))
        self.customer_id = customer["CustomerId"]
        with world.scope_a():
            self.client = Client.objects.create(company=world.firm_a, name=customer["Name"])
            ExternalLink.objects.create(
                company=world.firm_a, client=self.client, vendor="merit",
                remote_id=str(self.customer_id),
            )  # fmt: skip
            self.products = list(
                BillingProduct.objects.filter(
                    company=world.firm_a, vendor="merit", vat_type__isnull=False
                )
            )
            self.vat = {
                v.percentage: v for v in VatType.objects.filter(company=world.firm_a, active=True)
            }

    def invoices(self, number: str) -> list[dict[str, Any]]:
        self.company.ensure_history()
        return [i for i in self.company.invoices.values() if i["Header"]["InvoiceNo"] == number]

    def draft(self) -> Any:
        with self.world.scope_a():
            return invoices.create_draft(
                company=self.world.firm_a,
                actor=self.world.billing,
                client=self.client,
                currency="EUR",
                lines=[
                    LineInput(product=self.products[0], quantity=Decimal(2)),
                    LineInput(
                        description="Koolitus",
                        quantity=Decimal(3),
                        unit_price=Decimal("33.33"),
                        vat_type=self.vat[Decimal("9.00")],
                        discount_percent=Decimal(10),
                    ),
                ],
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
def emulator(world, merit) -> Emulator:
    """Firm A connected to the emulator's Estonian demo firm through the real services."""
    from integrations import services as integration_services

    creds = merit.store.demo_credentials("EE")
    with world.scope_a():
        integration_services.enable_integration(
            company=world.firm_a, actor=world.admin, vendor="merit"
        )
        integration_services.save_connection(
            company=world.firm_a,
            actor=world.admin,
            vendor="merit",
            environment="ee",
            credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
        )
    return Emulator(world, merit)


def test_the_sales_invoice_has_the_customer_rows_taxes_and_discount(emulator) -> None:
    invoice = emulator.issue(emulator.draft())
    export = emulator.export_of(invoice)
    assert export.state == ExportState.DONE, export.last_error
    (stored,) = emulator.invoices(invoice.number)
    assert export.remote_id == str(stored["Header"]["SIHId"])
    assert stored["Header"]["CustomerId"] == emulator.customer_id
    rows = stored["Lines"]
    assert [r["Quantity"] for r in rows] == [Decimal("2"), Decimal("3")]
    assert [r["DiscountPct"] for r in rows] == [Decimal("0"), Decimal("10")]
    assert rows[1]["TaxPct"] == Decimal("9")
    with emulator.world.scope_a():
        nets = [line.net_amount for line in invoice.lines.all()]
    assert [r["AmountExclVat"] for r in rows] == nets


@pytest.mark.parametrize("fault", ["lose_response", "drop", "server_error"])
def test_exactly_one_sales_invoice_after_an_unknown_outcome(emulator, fault) -> None:
    emulator.store.inject_fault(fault, endpoint="sendinvoice")
    invoice = emulator.issue(emulator.draft())
    export = emulator.export_of(invoice)
    assert export.state == ExportState.DONE, export.last_error
    assert len(emulator.invoices(invoice.number)) == 1


def test_exactly_one_sales_invoice_after_a_429_storm(emulator) -> None:
    emulator.store.inject_fault("rate_limit", endpoint="sendinvoice", times=4, retry_after=0)
    invoice = emulator.issue(emulator.draft())
    assert emulator.export_of(invoice).state == ExportState.DONE
    assert len(emulator.invoices(invoice.number)) == 1


def test_a_batch_of_exports_looks_up_taxes_and_items_once(emulator) -> None:
    """Issue 15: each export runs with its own adapter, yet the batch asks `gettaxes` and
    `getitems` once; each invoice then costs one `sendinvoice`."""
    drafts = [emulator.draft() for _ in range(4)]
    emulator.store.clear_requests()
    for draft in drafts:
        emulator.issue(draft)
    assert all(emulator.export_of(d).state == ExportState.DONE for d in drafts)
    counts = emulator.store.request_counts()
    assert counts == {"EE gettaxes": 1, "EE getitems": 1, "EE sendinvoice": 4}, counts
