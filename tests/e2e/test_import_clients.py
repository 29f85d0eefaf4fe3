"""Importing Tripletex customers in Chromium: Start import, select some, Confirm, summary, View clients."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import PASSWORD


def test_an_admin_imports_some_customers(page, screenshot, world, tx, saved_connection) -> None:
    saved_connection(token=tx.store.create_employee_token()["token"])
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/settings/apps/tripletex/?tab=import")
    screenshot("1-import-tab")
    page.get_by_role("button", name="Start import").click()

    table = page.locator("#import-confirm-form table")
    expect(table).to_be_visible()
    expect(page.get_by_text("already linked;")).to_be_visible()
    screenshot("2-preview")
    page.get_by_label("Show").select_option("inactive")
    expect(page).to_have_url(re.compile("show=inactive"))
    expect(table.locator("tbody tr").first).to_contain_text("Inactive")
    page.get_by_label("Show").select_option("new")
    expect(page).to_have_url(re.compile("show=new"))
    boxes = table.locator("tbody input[type=checkbox]")
    names = [table.locator("tbody tr").nth(i).locator("label").inner_text() for i in range(3)]
    for i in range(3):
        boxes.nth(i).check()
        # Each box is saved on the server at once; the count above and below the table follows.
        expect(page.locator("#import-selected-top")).to_contain_text(f"{i + 1} selected")
    expect(page.locator("#import-selected-bottom")).to_contain_text("3 selected")
    # The selection survives another filter (it is kept on the server, not in the page).
    page.get_by_label("Show").select_option("")
    expect(page).not_to_have_url(re.compile("show=new"))
    expect(page.locator("#import-selected-top")).to_contain_text("3 selected")
    screenshot("3-selected")
    page.get_by_role("button", name="Confirm selected").first.click()
    modal = page.locator("#import-modal-selected")
    expect(modal).to_be_visible()
    expect(modal).to_contain_text("This creates 3 new clients and updates 0 existing clients.")
    screenshot("3b-confirm-modal")
    modal.get_by_role("button", name="Import").click()

    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("3 created")
    expect(summary).not_to_contain_text("skipped")
    screenshot("4-summary")
    summary.get_by_role("link", name="View clients").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(3)
    for name in names:
        expect(page.get_by_role("link", name=name, exact=True)).to_be_visible()
    expect(rows.first).to_contain_text("Tripletex")
    screenshot("5-view-clients")
