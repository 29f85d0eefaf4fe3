"""An invoice in Chromium: a draft from the client page with two lines from products imported
from the Tripletex sandbox, issued, exported as one order, and its PDF downloaded
(screenshots in test-artifacts/screenshots/)."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from billing.models import BillingProduct
from clients.models import Client, ExternalLink
from tests.billing.conftest import import_products
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_billing_staff_issue_an_invoice_and_see_it_exported(
    page, screenshot, world, billing_on, tmp_path
) -> None:
    store = billing_on.store
    job = import_products(world)
    assert job.status == "succeeded", (job.status, job.error)
    customer = next(
        c for c in store.company_rows("customer", store.firm_company_id) if not c.get("isInactive")
    )
    with world.scope_a():
        client = Client.objects.create(company=world.firm_a, name=customer["name"])
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor="tripletex", remote_id=str(customer["id"])
        )
    with world.scope_a():
        products = list(
            BillingProduct.objects.filter(company=world.firm_a, active=True, vendor="tripletex")
            .exclude(vat_type=None)
            .order_by("number")[:2]
        )
    assert len(products) == 2

    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("billing@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto(f"/clients/{client.public_id}/")
    page.locator("#client-new-invoice").click()
    page.get_by_role("button", name="Create draft").click()
    expect(page.get_by_role("heading", name="Draft invoice")).to_be_visible()

    form = page.locator("#add-line-form")
    for product in products:
        form.get_by_label("Product").select_option(value=str(product.public_id))
        # Picking the product filled in its description and price (htmx).
        expect(form.get_by_label("Description")).to_have_value(product.name)
        form.get_by_role("button", name="Add line").click()
        expect(page.locator("#lines-table tbody")).to_contain_text(product.name)
    expect(page.locator("#lines-table tbody tr")).to_have_count(2)
    screenshot("1-draft")

    page.get_by_role("button", name="Issue").click()
    expect(page.locator("#invoice-status")).to_have_text("Issued")
    # uku's first number in the firm's series is 1; the order carries it as its reference.
    orders = [
        o for o in store.company_rows("order", store.firm_company_id) if o.get("reference") == "1"
    ]
    assert len(orders) == 1
    expect(page.locator("#export-text")).to_have_text(
        re.compile(rf"^Exported as order #{orders[0]['number']}$")
    )
    screenshot("2-exported")

    with page.expect_download() as download:
        page.locator("#pdf-link").click()
    path = tmp_path / "invoice.pdf"
    download.value.save_as(path)
    assert path.read_bytes().startswith(b"%PDF")
    page.goto(page.url + "print/")
    expect(page.get_by_role("heading", name=re.compile("Invoice "))).to_be_visible()
    screenshot("3-print-view")


def test_billing_staff_update_the_status_of_two_invoices(
    page, screenshot, world, billing_on
) -> None:
    import requests

    from tests.billing.test_export_tripletex import Sandbox

    sandbox = Sandbox(world, billing_on)
    paid, unpaid = sandbox.issue(sandbox.draft()), sandbox.issue(sandbox.draft())
    base = f"{billing_on.base_url}/_sandbox/orders"
    for invoice, body in (
        (paid, {"state": "paid"}),
        (unpaid, {"state": "partly_paid", "paid_amount": "1000"}),
    ):
        remote = sandbox.export_of(invoice).remote_id
        assert requests.post(f"{base}/{remote}/invoice", json=body, timeout=10).ok

    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("billing@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/invoices/")
    page.get_by_label(f"Select invoice {paid.number}").check()
    page.get_by_label(f"Select invoice {unpaid.number}").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")
    screenshot("1-selected")
    page.get_by_role("button", name="Update status from Tripletex").click()
    dialog = page.locator("#uku-confirm-dialog")
    expect(dialog).to_contain_text("Read the status of the selected invoices from Tripletex")
    dialog.get_by_role("button", name="Update status from Tripletex").click()
    expect(page.locator("#status-job")).to_contain_text("2 updated, 0 unchanged, 0 not found")
    page.get_by_role("link", name="Reload the list").click()
    rows = page.locator("#invoice-table tbody tr")
    expect(rows.filter(has=page.get_by_text(f"(uku {paid.number})"))).to_contain_text("Paid")
    unpaid.refresh_from_db()
    outstanding = f"NOK\xa0{unpaid.outstanding_amount:,.2f} outstanding"
    expect(rows.filter(has=page.get_by_text(f"(uku {unpaid.number})"))).to_contain_text(outstanding)
    screenshot("2-paid-and-unpaid")
