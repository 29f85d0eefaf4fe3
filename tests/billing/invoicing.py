"""Helpers for the invoice tests: firm A with billing on the fake invoice vendor
(tests/fakeinvoices), a linked client, VAT types of 25, 15 and 12 % and two products."""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.test import TestCase
from django.utils import timezone
from django_scopes import scopes_disabled

from billing import exports, invoices, services
from billing.invoices import LineInput
from billing.models import BillingProduct, Invoice, InvoiceExport, VatType
from clients.models import Client, ExternalLink
from integrations import crypto
from integrations.models import ConnectionStatus, IntegrationConnection, IntegrationCredential
from tests.fakeinvoices.adapter import GOOD_KEY
from tests.fakeinvoices.store import FakeStore

VENDOR = "fakeinvoices"


@dataclass
class Books:
    world: Any
    store: FakeStore
    client: Client
    vat25: VatType
    vat15: VatType
    vat12: VatType
    fee: BillingProduct
    hours: BillingProduct

    def draft(self, *lines: LineInput, client: Client | None = None, **fields: Any) -> Invoice:
        with self.world.scope_a():
            return invoices.create_draft(
                company=self.world.firm_a,
                actor=self.world.billing,
                client=client or self.client,
                lines=lines
                or (
                    LineInput(product=self.fee),
                    LineInput(product=self.hours, quantity=Decimal("2.5")),
                ),
                **fields,
            )

    def issue(self, invoice: Invoice, actor: Any = None) -> Invoice:
        """Issue and run the export it queues on commit (eagerly, as a worker would)."""
        with TestCase.captureOnCommitCallbacks(execute=True), self.world.scope_a():
            issued, _now = invoices.issue_invoice(
                company=self.world.firm_a, actor=actor or self.world.billing, invoice=invoice
            )
        return issued

    def export_of(self, invoice: Invoice) -> InvoiceExport:
        with scopes_disabled():
            return InvoiceExport.objects.get(invoice=invoice)

    def run(self, export: InvoiceExport) -> str:
        with TestCase.captureOnCommitCallbacks(execute=True):
            return exports.run_export(export.pk, eager=True)


def setup_books(world: Any, tmp_path: Path) -> Books:
    store = FakeStore(tmp_path / "fake-invoices.json")
    with world.scope_a():
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor=VENDOR)
        connection = IntegrationConnection.objects.create(
            company=world.firm_a,
            vendor=VENDOR,
            enabled=True,
            environment="production",
            status=ConnectionStatus.CONNECTED,
        )
        IntegrationCredential.objects.create(
            connection=connection,
            company=world.firm_a,
            environment="production",
            secret_encrypted=crypto.encrypt(
                json.dumps({"api_key": GOOD_KEY, "store": str(store.path)})
            ),
            last4=GOOD_KEY[-4:],
            set_by=world.admin,
            set_at=timezone.now(),
        )
        client = Client.objects.create(company=world.firm_a, name="Havbris AS")
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor=VENDOR, remote_id="C-77"
        )
        vat25 = VatType.objects.create(
            company=world.firm_a, number="3", name="Høy sats", percentage=Decimal("25"),
            vendor=VENDOR, remote_id="V3",
        )  # fmt: skip
        vat15 = VatType.objects.create(
            company=world.firm_a, number="31", name="Middels sats", percentage=Decimal("15"),
            vendor=VENDOR, remote_id="V31",
        )  # fmt: skip
        vat12 = VatType.objects.create(
            company=world.firm_a, number="33", name="Lav sats", percentage=Decimal("12"),
            vendor=VENDOR, remote_id="V33",
        )  # fmt: skip
        fee = BillingProduct.objects.create(
            company=world.firm_a, name="Månedlig regnskapsføring", unit_price=Decimal("4500"),
            vat_type=vat25, vendor=VENDOR, remote_id="P1",
        )  # fmt: skip
        hours = BillingProduct.objects.create(
            company=world.firm_a, name="Rådgivning per time", unit_price=Decimal("1250.50"),
            vat_type=vat25, vendor=VENDOR, remote_id="P2",
        )  # fmt: skip
    return Books(world, store, client, vat25, vat15, vat12, fee, hours)
