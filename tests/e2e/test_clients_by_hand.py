"""An accountant creates a client by hand and edits it, in Chromium: New client, a refused
number, Create, Edit every field, Archive and Restore."""

from __future__ import annotations

import re

from playwright.sync_api import expect

from tests.factories import PASSWORD


def test_an_accountant_creates_a_client_by_hand_and_edits_it(page, screenshot, world) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("member@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.goto("/clients/")
    screenshot("1-empty-list")
    page.get_by_role("link", name="New client").click()
    expect(page.get_by_role("heading", name="New client")).to_be_visible()

    page.get_by_label("Name").fill("Tallinna Pagar OÜ")
    page.get_by_label("Registry country").select_option("EE")
    page.get_by_label("Organisation number").fill("12345679")
    page.get_by_label("Customer number").fill("2001")
    page.get_by_label("Responsible accountant").select_option(
        label=f"{world.accountant.name} (member@fjord.no)"
    )
    page.get_by_label("E-mail", exact=True).fill("info@pagar.ee")
    page.get_by_label("Phone").fill("+372 5123 4567")
    page.get_by_label("Invoice e-mail").fill("arve@pagar.ee")
    page.get_by_label("Address").fill("Pikk 1")
    page.get_by_label("Postal code").fill("10123")
    page.get_by_label("City").fill("Tallinn")
    screenshot("2-new-client-form")
    page.get_by_role("button", name="Create client").click()

    number = page.get_by_label("Organisation number")
    expect(number).to_have_attribute("aria-invalid", "true")
    expect(page.locator("#id_organisation_number_error")).to_contain_text(
        "not a valid Estonian registry code"
    )
    expect(page.get_by_label("City")).to_have_value("Tallinn")  # nothing typed is lost
    screenshot("3-number-refused")
    number.fill("1234 5678")
    page.get_by_role("button", name="Create client").click()

    expect(page).to_have_url(re.compile(r"/clients/[0-9a-f-]{36}/$"))
    expect(page.get_by_role("alert")).to_contain_text("Client Tallinna Pagar OÜ created.")
    expect(page.get_by_role("heading", name="Tallinna Pagar OÜ")).to_be_visible()
    edit = page.get_by_role("form", name="Edit client")
    expect(edit.get_by_label("Organisation number")).to_have_value("12345678")
    expect(edit.get_by_label("Responsible accountant")).to_have_value(str(world.accountant.pk))
    screenshot("4-client-page")

    edit.get_by_label("Name").fill("Tallinna Pagar AS")
    edit.get_by_label("City").fill("Tartu")
    edit.get_by_label("Responsible accountant").select_option(
        label=f"{world.admin.name} (admin@fjord.no)"
    )
    edit.get_by_role("button", name="Save changes").click()
    expect(page.get_by_role("alert")).to_contain_text("Client details saved.")
    expect(page.get_by_role("heading", name="Tallinna Pagar AS")).to_be_visible()
    expect(page.get_by_role("form", name="Edit client").get_by_label("City")).to_have_value("Tartu")
    screenshot("5-edited")

    page.get_by_role("button", name="Archive client").click()
    expect(page.get_by_role("alert")).to_contain_text("is archived")
    expect(page.get_by_role("button", name="Restore client")).to_be_visible()
    screenshot("6-archived")
    page.get_by_role("link", name="Clients", exact=True).first.click()
    expect(page.get_by_text("0 clients")).to_be_visible()
    page.get_by_label("Status").select_option("false")
    expect(page).to_have_url(re.compile("active=false"))
    row = page.locator("table tbody tr").first
    expect(row).to_contain_text("Tallinna Pagar AS")
    expect(row).to_contain_text("Archived")
    expect(row).to_contain_text(world.admin.name)
    screenshot("7-archived-filter")
    row.get_by_role("link", name="Tallinna Pagar AS").click()
    page.get_by_role("button", name="Restore client").click()
    expect(page.get_by_role("alert")).to_contain_text("restored to the client list")
    page.goto("/clients/")
    expect(page.get_by_role("link", name="Tallinna Pagar AS")).to_be_visible()
    screenshot("8-restored-list")


def test_an_admin_deletes_only_a_client_nothing_depends_on(page, screenshot, world) -> None:
    from clients.models import Client, ExternalLink

    with world.scope_a():
        linked = Client.objects.create(company=world.firm_a, name="Fjord Bakeri AS")
        ExternalLink.objects.create(
            company=world.firm_a,
            client=linked,
            vendor="tripletex",
            remote_id="77",
            remote_name="Fjord Bakeri AS",
            remote_number="10042",
        )
        Client.objects.create(company=world.firm_a, name="Feilregistrert AS")
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/clients/")
    page.get_by_role("link", name="Fjord Bakeri AS").click()
    expect(page.locator("#client-links")).to_contain_text("Tripletex customer Fjord Bakeri AS")
    page.get_by_role("link", name="Delete client…").click()
    expect(page.get_by_role("heading", name="Fjord Bakeri AS cannot be deleted")).to_be_visible()
    refusal = page.get_by_role("alert")
    expect(refusal).to_contain_text("Other records depend on this client")
    expect(refusal).to_contain_text("It is linked to the Tripletex customer Fjord Bakeri AS")
    expect(page.get_by_role("button", name="Delete client for good")).to_have_count(0)
    screenshot("1-delete-refused")

    page.goto("/clients/")
    page.get_by_role("link", name="Feilregistrert AS").click()
    page.get_by_role("link", name="Delete client…").click()
    expect(page.get_by_role("heading", name="Delete Feilregistrert AS?")).to_be_visible()
    screenshot("2-delete-confirm")
    page.get_by_role("button", name="Delete client for good").click()
    expect(page).to_have_url("/clients/")
    expect(page.get_by_role("alert")).to_contain_text("Client Feilregistrert AS deleted.")
    expect(page.get_by_role("link", name="Feilregistrert AS")).to_have_count(0)
    screenshot("3-deleted")
