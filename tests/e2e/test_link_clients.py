"""One accountant's flow in Chromium: a client created by hand, linked through the Integration
column's picker (the column updates without a page reload), then two suggestions accepted in
bulk."""

from __future__ import annotations

import re

from django_scopes import scopes_disabled
from playwright.sync_api import expect

from clients.models import Client
from tests.clients.linking_helpers import customer, make_client
from tests.factories import PASSWORD


def test_an_accountant_creates_a_client_links_it_and_accepts_two_suggestions(
    page, screenshot, world, tx, saved_connection
) -> None:
    saved_connection(token=tx.store.create_employee_token()["token"])
    connected = tx
    make_client(
        world,
        "Nordlys Rør",
        organisation_number=customer(connected, "Nordlys Rørleggerservice AS")[
            "organizationNumber"
        ],
    )
    make_client(world, "Sjøbris", email="post@sjobris.no")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("member@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/clients/")
    page.get_by_role("link", name="New client").click()
    page.get_by_label("Name").fill("Fjellheim Bakeri")
    page.get_by_label("E-mail", exact=True).fill("hei@fjellheim-bakeri.no")
    screenshot("0-new-client")
    page.get_by_role("button", name="Create client").click()
    expect(page.get_by_role("alert")).to_contain_text("Client Fjellheim Bakeri created.")
    with scopes_disabled():
        bakery = Client.objects.get(company=world.firm_a, name="Fjellheim Bakeri")
    page.goto("/clients/")
    cell = page.locator(f"#integration-{bakery.public_id}")
    expect(cell).to_contain_text("Not linked")
    screenshot("1-client-list")

    page.evaluate("window.__notReloaded = true")
    cell.get_by_role("link", name="Link Fjellheim Bakeri").click()
    search = cell.get_by_label("Search Tripletex customers")
    expect(search).to_be_visible()
    search.press_sequentially("fjellheim", delay=30)
    choice = cell.get_by_label(re.compile(r"^Fjellheim Bakeri AS \(#"))
    expect(choice).to_be_visible()
    expect(cell.locator("input[name=remote_id]")).to_have_count(1)
    screenshot("2-picker")
    choice.check()
    cell.get_by_role("button", name="Save").click()
    expect(cell).to_contain_text(re.compile(r"Tripletex: Fjellheim Bakeri AS \(#\d+\)"))
    expect(cell).to_contain_text("Books: Fjellheim Bakeri AS")
    assert page.evaluate("window.__notReloaded") is True  # the cell changed, not the page
    screenshot("3-linked")

    page.get_by_role("link", name="Suggested links: Tripletex").click()
    rows = page.locator("#suggestions-form tbody tr")
    expect(rows).to_have_count(2)
    page.get_by_label("Nordlys Rør").check()
    page.get_by_label("Sjøbris").check()
    expect(page.locator("[data-bulk-count]")).to_have_text("2 selected")  # the bulk-action bar
    screenshot("4-suggestions")
    page.get_by_role("button", name="Accept selected").click()
    # Asked first, in the shared dialog, with the count.
    dialog = page.locator("#uku-confirm-dialog")
    expect(dialog).to_contain_text("Link the 2 selected clients to their suggested customers?")
    dialog.get_by_role("button", name="Accept selected").click()
    expect(page.get_by_text("2 clients linked.")).to_be_visible()
    expect(page.get_by_text("No suggestions")).to_be_visible()
    screenshot("5-accepted")

    page.goto("/clients/?link=linked")
    expect(page.locator("table tbody tr")).to_have_count(3)
    expect(page.get_by_role("link", name="Fjellheim Bakeri", exact=True)).to_be_visible()
    expect(page.locator("table")).to_contain_text("Tripletex: Sjøbris Kafé DA")
    screenshot("6-linked-clients")
