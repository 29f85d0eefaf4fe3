"""Billing's invoicing settings: export on/off, default due days and VAT type, number series."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.urls import reverse

from billing.invoices import LineInput
from billing.models import BillingSettings
from tests.billing.invoicing import setup_books


@pytest.fixture
def books(world, tmp_path):
    return setup_books(world, tmp_path)


def test_the_settings_form_sets_the_series_defaults_and_export(books, world, as_user) -> None:
    client = as_user(world.admin)
    page = client.get(reverse("billing_settings")).content.decode()
    assert 'id="invoice-settings-form"' in page
    response = client.post(
        reverse("billing_invoice_settings"),
        {"default_due_days": "30", "default_vat_type": books.vat15.public_id,
         "number_prefix": "F-", "next_number": "1001", "status_check_hour": "5",
         "time_zone": "Europe/Tallinn"},
    )  # fmt: skip
    assert response.status_code == 302
    with world.scope_a():
        settings = BillingSettings.objects.get(company=world.firm_a)
    assert (settings.export_invoices, settings.default_due_days, settings.next_number) == (
        False, 30, 1001,
    )  # fmt: skip
    assert (settings.check_status_daily, settings.status_check_hour, settings.time_zone) == (
        False, 5, "Europe/Tallinn",
    )  # fmt: skip
    invoice = books.draft(
        LineInput(description="Uten mva-type", unit_price=Decimal("100")),
        issue_date=date(2026, 12, 1),
    )
    assert invoice.due_date == date(2026, 12, 1) + timedelta(days=30)
    with world.scope_a():
        assert invoice.lines.get().vat_type == books.vat15  # the default VAT type
    issued = books.issue(invoice)
    assert issued.number == "F-1001"
    assert books.store.objects == []  # export is off


def test_billing_staff_cannot_change_the_settings(books, world, as_user, api_as) -> None:
    assert as_user(world.billing).post(reverse("billing_invoice_settings"), {}).status_code == 403
    response = api_as(world.billing).patch(
        "/api/v1/billing/invoice-settings", {"next_number": 5}, format="json"
    )
    assert response.status_code == 403


def test_the_api_reads_and_changes_the_settings(books, world, api_as) -> None:
    api = api_as(world.admin)
    response = api.patch(
        "/api/v1/billing/invoice-settings",
        {
            "number_prefix": "2026-",
            "next_number": 7,
            "default_vat_type": str(books.vat12.public_id),
        },
        format="json",
    )
    assert response.status_code == 200, response.json()
    assert api.get("/api/v1/billing/invoice-settings").json() == {
        "export_invoices": True, "default_due_days": 14,
        "default_vat_type": str(books.vat12.public_id), "number_prefix": "2026-", "next_number": 7,
        "check_status_daily": True, "status_check_hour": 6, "time_zone": "Europe/Oslo",
    }  # fmt: skip
    refused = api.patch(
        "/api/v1/billing/invoice-settings", {"time_zone": "Mars/Base"}, format="json"
    )
    assert refused.status_code == 400 and "time_zone" in refused.json()["fields"]
    assert books.issue(books.draft()).number == "2026-7"
    assert books.issue(books.draft()).number == "2026-8"


def test_a_number_taken_by_hand_is_skipped(books, world) -> None:
    first = books.issue(books.draft())
    with world.scope_a():
        BillingSettings.objects.filter(company=world.firm_a).update(next_number=int(first.number))
    assert books.issue(books.draft()).number == str(int(first.number) + 1)
