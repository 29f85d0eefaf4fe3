"""The import review in Chromium: a predicted conflict (two customers, one organisation number),
resolved inline, then Confirm all through its dialog; and cancelling a queued import."""

from __future__ import annotations

from playwright.sync_api import expect

from integrations import services as integration_services
from tests.clients.linking_helpers import make_client
from tests.factories import PASSWORD

NUMBER = "923609016"


def _log_in(page) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()


def _row(page, name: str):
    """The review's row of the customer called `name` (other rows may mention it)."""
    return page.locator(f"#import-confirm-form tr:has(label:text-is('{name}'))")


def test_an_admin_resolves_a_conflict_inline_and_confirms_all(
    page, screenshot, world, tx, saved_connection
) -> None:
    tx.store.reset("empty")
    saved_connection(token=tx.store.create_employee_token()["token"])
    make_client(world, "Fjord AS", organisation_number=NUMBER)
    tx.store.create_customer(name="Fjord AS avd A", organizationNumber=NUMBER)
    tx.store.create_customer(name="Fjord AS avd B", organizationNumber=NUMBER)
    tx.store.create_customer(name="Helt Ny AS")
    _log_in(page)
    page.goto("/settings/apps/tripletex/?tab=import")
    page.get_by_role("button", name="Start import").click()

    second = _row(page, "Fjord AS avd B")
    expect(second).to_contain_text("Conflict")
    expect(second).to_contain_text("The customer Fjord AS avd A in this import has the same")
    expect(
        second.get_by_role("button", name="Import as its own client without the number")
    ).to_be_visible()
    expect(page.get_by_text("1 conflict to resolve before it can be imported.")).to_be_visible()
    screenshot("1-conflict-predicted")
    second.get_by_role("button", name="Link to Fjord AS").click()

    first = _row(page, "Fjord AS avd A")
    expect(first).to_contain_text("Conflict")
    expect(_row(page, "Fjord AS avd B")).to_contain_text("Existing")
    first.get_by_role("button", name="Do not import").click()
    expect(_row(page, "Fjord AS avd A")).to_contain_text("Do not import")
    screenshot("2-resolved")

    page.get_by_role("button", name="Confirm all", exact=True).first.click()
    modal = page.locator("#import-modal-all")
    expect(modal).to_contain_text("This creates 1 new client and updates 1 existing client.")
    screenshot("3-confirm-all-dialog")
    modal.get_by_role("button", name="Import").click()
    summary = page.locator("#import-summary")
    expect(summary).to_contain_text("1 created")
    expect(summary).to_contain_text("0 customers not imported yet.")
    screenshot("4-summary")


def test_an_admin_cancels_a_queued_import(page, screenshot, world, tx, saved_connection) -> None:
    saved_connection(token=tx.store.create_employee_token()["token"])
    # Queued and never sent (no worker picks it up), as when the workers are busy.
    with world.scope_a():
        integration_services.start_job(
            company=world.firm_a,
            actor=world.admin,
            vendor="tripletex",
            kind="customer_import_preview",
        )
    _log_in(page)
    page.goto("/settings/apps/tripletex/?tab=import")
    screenshot("1-queued")
    page.get_by_role("button", name="Cancel reading customers").click()
    expect(page.get_by_text("The job is cancelled. What it had saved is kept.")).to_be_visible()
    expect(page.get_by_text("Reading customers was cancelled.")).to_be_visible()
    expect(page.get_by_role("button", name="Start import")).to_be_visible()
    screenshot("2-cancelled")
