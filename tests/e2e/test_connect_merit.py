"""Merit Aktiva in Chromium, as a firm admin, against the Merit emulator: enable, connect
Estonia with the emulator's demo credentials, test, save, and import its customers."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD


def test_an_admin_connects_merit_estonia_and_imports_customers(
    page, screenshot, world, merit
) -> None:
    creds = merit.store.demo_credentials("EE")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Settings & Apps").click()
    card = page.locator(".integration-card[data-vendor=merit]")
    expect(card).to_contain_text("Not enabled")
    screenshot("1-settings-and-apps")
    card.get_by_role("link", name="Merit Aktiva").click()

    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("cell", name="VAT types (Merit tax rates)")).to_be_visible()
    screenshot("2-overview")
    page.get_by_role("button", name="Enable").click()

    expect(page.get_by_role("tab", name="Connect")).to_have_attribute("aria-selected", "true")
    page.get_by_label("API ID").fill(f" {creds['api_id']} ")  # pasted with spaces: stripped
    page.get_by_label("API key").fill(creds["api_key"])
    page.get_by_label("Estonia").check()
    expect(page.get_by_label("Token expires on")).to_have_count(0)  # Merit keys do not expire
    screenshot("3-connect-form")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-ok")).to_contain_text("the company of this API ID (9 tax rates)")
    screenshot("4-test-connection-ok")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Connected to")
    saved = page.locator("#saved-token")
    expect(saved).to_contain_text(creds["api_id"])
    expect(saved).to_contain_text(f"ending in {creds['api_key'][-4:]}")
    expect(saved).to_contain_text("Estonia")
    assert creds["api_key"] not in page.content()
    screenshot("5-connected")

    page.get_by_role("tab", name="Import").click()
    page.get_by_role("button", name="Start import").click()
    table = page.locator("#import-confirm-form table")
    expect(table).to_be_visible()
    expect(page.get_by_text("Customers in Merit Aktiva become clients in uku")).to_be_visible()
    expect(page.get_by_text("Tripletex")).to_have_count(0)
    screenshot("6-import-preview")
    page.get_by_role("button", name="Confirm all new").first.click()
    modal = page.locator("#import-modal-all_new")
    expect(modal).to_contain_text("This creates 200 new clients")
    modal.get_by_role("button", name="Import").click()
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("200 created")
    screenshot("7-import-summary")
    summary.get_by_role("link", name="View clients").click()
    expect(page.locator("table tbody tr").first).to_contain_text("Merit")
    screenshot("8-clients")

    page.goto("/settings/apps/merit/?tab=history")
    expect(page.get_by_role("cell", name="Connection test").first).to_be_visible()
    screenshot("9-history")
    assert creds["api_key"] not in page.content()


def test_credentials_of_another_country_say_which_country(page, screenshot, world, merit) -> None:
    creds = merit.store.demo_credentials("EE")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("owner@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/settings/apps/merit/")
    page.get_by_role("button", name="Enable").click()
    page.get_by_label("API ID").fill(creds["api_id"])
    page.get_by_label("API key").fill(creds["api_key"])
    page.get_by_label("Finland").check()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-error")).to_contain_text("belongs to Merit in Estonia, not Finland")
    screenshot("wrong-country")
