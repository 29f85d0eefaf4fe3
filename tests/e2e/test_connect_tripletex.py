"""The whole Connect flow in Chromium, as a firm admin, against the Tripletex sandbox."""

from __future__ import annotations

from datetime import timedelta

from playwright.sync_api import expect

from tests.factories import PASSWORD


def test_an_admin_connects_tripletex(page, screenshot, world, tx) -> None:
    token = tx.store.create_employee_token(expires_on=tx.store.today() + timedelta(days=10))[
        "token"
    ]
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.get_by_role("link", name="Settings & Apps").click()
    card = page.locator(".integration-card[data-vendor=tripletex]")
    expect(card).to_contain_text("Not enabled")
    screenshot("1-settings-and-apps")
    card.get_by_role("link", name="Tripletex").click()

    expect(page.get_by_role("tab", name="Overview")).to_have_attribute("aria-selected", "true")
    expect(page.get_by_role("cell", name="VAT types", exact=True)).to_be_visible()
    screenshot("2-overview")
    page.get_by_role("button", name="Enable").click()

    expect(page.get_by_role("tab", name="Connect")).to_have_attribute("aria-selected", "true")
    page.get_by_label("Employee token").fill(token)
    page.get_by_label("Test", exact=True).check()
    page.get_by_label("Token expires on").fill((tx.store.today() + timedelta(days=10)).isoformat())
    screenshot("3-connect-form")
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-ok")).to_contain_text("Demo Regnskap AS")
    screenshot("4-test-connection-ok")

    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("alert").first).to_contain_text("Connected to “Demo Regnskap AS”")
    expect(page.locator("#saved-token")).to_contain_text(f"ending in {token[-4:]}")
    expect(page.locator("#saved-token")).to_contain_text("expires in 10 days")
    assert token not in page.content()
    screenshot("5-connected")

    page.get_by_role("tab", name="History").click()
    expect(page.get_by_role("cell", name="Connection test").first).to_be_visible()
    screenshot("6-history")
    page.get_by_role("link", name="Details").first.click()
    expect(page.get_by_text("/token/session/>whoAmI").first).to_be_visible()
    screenshot("7-api-calls")

    page.get_by_role("link", name="Settings & Apps").first.click()
    expect(card).to_contain_text("Connected to “Demo Regnskap AS” (Test)")
    expect(card).to_contain_text("The token expires in 10 days.")
    screenshot("8-card-connected")


def test_a_bad_token_shows_the_specific_error(page, screenshot, world, tx) -> None:
    expired = tx.store.create_employee_token(expires_on=tx.store.today() - timedelta(days=1))[
        "token"
    ]
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("owner@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/settings/apps/tripletex/")
    page.get_by_role("button", name="Enable").click()
    page.get_by_label("Employee token").fill(expired)
    page.get_by_label("Test", exact=True).check()
    page.get_by_role("button", name="Test connection").click()
    expect(page.locator("#test-error")).to_contain_text("expired")
    screenshot("test-connection-expired")
    # Save with the same token: refused, the reason shows next to the field, the token stays.
    page.get_by_label("Token expires on").fill((tx.store.today() + timedelta(days=30)).isoformat())
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#id_employee_token_error")).to_contain_text("expired")
    expect(page.get_by_label("Employee token")).to_have_value(expired)
    assert expired not in page.content()  # the value is in the input, never in the HTML sent
    expect(page.locator("#test-spinner")).to_be_hidden()
    screenshot("save-refused")
