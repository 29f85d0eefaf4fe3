"""P3: the invoice status refresh of `OPEN_INVOICES` open exported invoices, for each vendor.

The sandbox holds that many open invoices of the firm (Tripletex: orders invoiced in its store;
Merit: invoices exported through uku's adapter), and the refresh reads their status with one
`invoice_statuses`, as the status job does. Calls come from the sandbox's request log; the
floor is ceil(open invoices / page size) plus authentication (Merit has no paging: one call per
3-month window of the range, and no session).
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from benchmarks.harness import Result, Sizes, Target, new_firm, section, stopwatch

OPEN_INVOICES = 2500


def _connected_adapter(vendor: str, environment: str, credentials: dict[str, str]) -> Any:
    from django_scopes import scope

    from integrations import services
    from integrations.models import IntegrationConnection

    company, owner = new_firm(f"Bench status {vendor}")
    with scope(company=company):
        services.enable_integration(company=company, actor=owner, vendor=vendor)
        services.save_connection(
            company=company,
            actor=owner,
            vendor=vendor,
            environment=environment,
            credentials=credentials,
        )
        connection = IntegrationConnection.objects.get(
            company=company, vendor=vendor, client__isnull=True
        )
        return services.adapter_for(connection)


def _tripletex(count: int) -> dict[str, Any]:
    from django.conf import settings

    from integrations.base import ExportedRef
    from integrations.tripletex.invoices import PAGE_SIZE
    from integrations.tripletex.sandbox import start_sandbox
    from integrations.tripletex.sandbox.endpoints import create_order, invoice_order

    server = start_sandbox(seed="demo")
    store = server.store
    store.set_rate_limit(1_000_000, 60)
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = store.consumer_token
    try:
        firm = store.firm_company_id
        customer = store.company_rows("customer", firm)[0]["id"]
        product = store.company_rows("product", firm)[0]["id"]
        today = datetime.now(ZoneInfo("Europe/Oslo")).date()
        refs = []
        for n in range(count):
            day = today - timedelta(days=n % 20)
            order = create_order(
                store,
                firm,
                {
                    "customer": {"id": customer},
                    "orderDate": day.isoformat(),
                    "deliveryDate": day.isoformat(),
                    "reference": f"UKU-BENCH-{n}",
                    "orderLines": [{"product": {"id": product}, "count": 1}],
                },
                None,
            )
            invoice_order(store, firm, order["id"], day, False, None)
            refs.append(ExportedRef(remote_id=str(order["id"]), issue_date=day))
        token = store.create_employee_token()["token"]
        adapter = _connected_adapter("tripletex", "test", {"employee_token": token})
        store.clear_requests()
        try:
            with stopwatch() as elapsed:
                statuses = adapter.invoice_statuses(refs)
        finally:
            adapter.close()
        counts = store.request_counts()
    finally:
        server.stop()
    auth = sum(v for k, v in counts.items() if "/token/session" in k)
    return {
        "counts": counts,
        "found": len(statuses),
        "auth": auth,
        "min": math.ceil(count / PAGE_SIZE) + auth,
        "min_detail": f"ceil({count} / {PAGE_SIZE}) + {auth} authentication",
        "seconds": elapsed[0],
    }


def _merit(count: int) -> dict[str, Any]:
    from django.conf import settings

    from integrations.base import ExportedRef, InvoiceLineOut, InvoiceOut
    from integrations.merit.client import split_window
    from integrations.merit.invoices import row_amounts
    from integrations.merit.sandbox import start_sandbox

    server = start_sandbox(seed="demo")
    store = server.store
    store.set_rate_limit(1_000_000, 60)
    settings.MERIT_EE_URL = server.urls["EE"]
    try:
        creds = store.demo_credentials("EE")
        adapter = _connected_adapter(
            "merit", "ee", {"api_id": creds["api_id"], "api_key": creds["api_key"]}
        )
        company = store.firm("EE")
        tax = next(t for t in company.taxes if not t["NonActive"] and t["TaxPct"] == Decimal(24))
        customer = next(iter(company.customers.values()))["CustomerId"]
        today = datetime.now(ZoneInfo("Europe/Tallinn")).date()
        line = InvoiceLineOut(
            description="Raamatupidamisteenus",
            quantity=Decimal("1"),
            unit_price=Decimal("150.00"),
            discount_percent=Decimal("0"),
            net_amount=Decimal("150.00"),
            vat_amount=Decimal("36.00"),
            vat_percentage=Decimal("24"),
            vat_code=tax["Code"],
            vat_type_id=tax["Id"],
        )
        net, vat = row_amounts(line)
        refs = []
        try:
            for n in range(count):
                day = today - timedelta(days=n % 20)
                invoice = InvoiceOut(
                    reference=f"UKU-BENCH-{n}",
                    customer_id=customer,
                    issue_date=day,
                    due_date=day + timedelta(days=14),
                    currency="EUR",
                    lines=(line,),
                    net_total=net,
                    vat_total=vat,
                    gross_total=net + vat,
                    comment="",
                )
                exported = adapter.export_invoice(invoice)
                refs.append(ExportedRef(remote_id=exported.remote_id, issue_date=day))
            store.clear_requests()
            with stopwatch() as elapsed:
                statuses = adapter.invoice_statuses(refs)
        finally:
            adapter.close()
        counts = store.request_counts()
    finally:
        server.stop()
    windows = len(list(split_window(min(r.issue_date for r in refs), today, months=3)))
    return {
        "counts": counts,
        "found": len(statuses),
        "auth": 0,
        "min": windows,
        "min_detail": f"{windows} 3-month window(s) of getinvoices, no paging, no session",
        "seconds": elapsed[0],
    }


def measure(vendor: str, sizes: Sizes) -> Result:
    count = OPEN_INVOICES if not sizes.quick else 300
    got = (_tripletex if vendor == "tripletex" else _merit)(count)
    calls = sum(got["counts"].values())
    figures = {
        "open_invoices": count,
        "statuses_read": got["found"],
        "api_calls": calls,
        "min_api_calls": got["min"],
        "auth_calls": got["auth"],
        "calls": got["counts"],
        "seconds": round(got["seconds"], 3),
    }
    targets = [
        Target("every open invoice's status read", got["found"] == count, f"{got['found']}"),
        Target(
            "api_calls <= min_api_calls",
            calls <= got["min"],
            f"{calls} <= {got['min']} ({got['min_detail']})",
        ),
    ]
    return Result(key="", figures=figures, targets=targets)


@section("p3_status_refresh")
def tripletex_status(sizes: Sizes) -> Result:
    return measure("tripletex", sizes)


@section("merit.p3_status_refresh")
def merit_status(sizes: Sizes) -> Result:
    return measure("merit", sizes)
