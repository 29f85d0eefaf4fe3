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
