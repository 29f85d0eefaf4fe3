"""Billing's Products tab in Chromium: import products from the Tripletex sandbox and see the
summary and the lists (screenshots in test-artifacts/screenshots/)."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


def test_an_admin_activates_billing_and_imports_products(
    page,
    screenshot,
    world,
    connected,
) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/settings/apps/billing/")
    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    expect(page.locator("#billing-state")).to_contain_text("Not enabled")
    page.get_by_label("Accounting system").select_option("tripletex")
    screenshot("1-overview")
    page.get_by_role("button", name="Activate billing").click()

    expect(page.get_by_role("tab", name="Products")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_text("Nothing has been imported yet.")).to_be_visible()
    page.get_by_role("button", name="Import products").click()

    summary = page.locator(".import-summary")
    expect(summary).to_be_visible()
    expect(page.locator("#import-job")).to_have_attribute("data-status", "succeeded")
    expect(summary.locator("tr[data-summary=products]")).to_contain_text("30")
    expect(page.locator("#products-table caption")).to_contain_text("28 products")
    expect(page.locator("#vat-types-table caption")).to_contain_text("15 VAT types")
    screenshot("2-products-tab")

    page.get_by_label("Search products").fill("regnskap")
    page.get_by_role("button", name="Search").click()
    expect(page.locator("#products-table tbody tr").first).to_contain_text("egnskap")
    screenshot("3-search")
