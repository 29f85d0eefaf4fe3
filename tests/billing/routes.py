"""Billing's routes that take an object id, for the tenant-isolation matrix (tests/isolation.py)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.isolation import register


def _product(world: Any) -> dict[str, Any]:
    from billing.models import BillingProduct

    with world.scope_a():
        product = BillingProduct.objects.create(
            company=world.firm_a,
            name="Årsoppgjør",
            unit_price=Decimal("4500"),
            vendor="tripletex",
            remote_id="9001",
        )
    return {"public_id": product.public_id}


def _vat_type(world: Any) -> dict[str, Any]:
    from billing.models import VatType

    with world.scope_a():
        vat = VatType.objects.create(
            company=world.firm_a,
            number="3",
            name="Utgående avgift, høy sats",
            percentage=Decimal("25"),
            vendor="tripletex",
            remote_id="9002",
        )
    return {"public_id": vat.public_id}


def _import_job(world: Any) -> dict[str, Any]:
    from integrations import services as integration_services

    with world.scope_a():
        job, _created = integration_services.start_job(
            company=world.firm_a, actor=world.owner, vendor="tripletex", kind="product_import"
        )
    return {"public_id": job.public_id}


register("billing-product-detail", "get", _product, api=True)
register("billing-vat-type-detail", "get", _vat_type, api=True)
register("billing_import_job", "get", _import_job)


def _draft_invoice(world: Any) -> Any:
    from billing import invoices
    from billing.invoices import LineInput
    from clients.models import Client

    with world.scope_a():
        client = Client.objects.create(company=world.firm_a, name="Isolert AS")
        return invoices.create_draft(
            company=world.firm_a,
            actor=world.owner,
            client=client,
            lines=[LineInput(description="Regnskap", unit_price=Decimal("100"))],
        )


def _invoice(world: Any) -> dict[str, Any]:
    return {"public_id": _draft_invoice(world).public_id}


def _api_invoice(world: Any) -> dict[str, Any]:
    return {"id": _draft_invoice(world).public_id}


def _line(world: Any) -> dict[str, Any]:
    invoice = _draft_invoice(world)
    with world.scope_a():
        line = invoice.lines.get()
    return {"public_id": invoice.public_id, "line_id": line.public_id}


for _name, _method in (
    ("invoice_detail", "get"),
    ("invoice_print", "get"),
    ("invoice_pdf", "get"),
    ("invoice_edit", "post"),
    ("invoice_issue", "post"),
    ("invoice_retry", "post"),
    ("invoice_delete", "post"),
    ("invoice_line_add", "post"),
):
    register(_name, _method, _invoice)
for _name in ("invoice_line_edit", "invoice_line_remove", "invoice_line_move"):
    register(_name, "post", _line)
register("billing-invoice-detail", "get", _api_invoice, api=True)
register("billing-invoice-detail", "patch", _api_invoice, api=True, data=lambda w: {"comment": "x"})
register("billing-invoice-detail", "delete", _api_invoice, api=True)
register("billing-invoice-issue", "post", _api_invoice, api=True)
register("billing-invoice-export", "post", _api_invoice, api=True)


def _status_job(world: Any) -> dict[str, Any]:
    from integrations import services as integration_services

    with world.scope_a():
        job, _created = integration_services.start_job(
            company=world.firm_a, actor=world.owner, vendor="tripletex", kind="invoice_status"
        )
    return {"public_id": job.public_id}


register("invoice_status_job", "get", _status_job)
for _name in ("invoice_detail", "invoice_print", "invoice_pdf"):
    register(_name, "post", _invoice)
register("billing_import_job", "post", _import_job)
register("invoice_status_job", "post", _status_job)
