"""Summary tasks in Chromium against the Tripletex sandbox: an admin configures the Settings tab
with a New custom field, runs Reload data, watches the progress bar finish, and reads the
imported values in the month view."""

from __future__ import annotations

import threading
import time
from typing import Any

from django import db
from playwright.sync_api import expect

from integrations import jobs
from summarytasks import reload as reload_module
from summarytasks import schedule
from tests.factories import PASSWORD
from tests.summarytasks.test_tripletex import link_clients, truth


def _run_in_background(monkeypatch) -> None:
    """Jobs run in a thread after the request, as a worker would run them (the test settings
    run tasks eagerly, inside the request, which would leave no progress to watch). Each part
    takes a moment, so the bar is seen moving."""

    def send(job: Any) -> None:
        def run() -> None:
            try:
                jobs.run_sync_job.apply(args=[job.pk])
            finally:
                db.connections.close_all()

        threading.Thread(target=run, daemon=True).start()

    original = reload_module.run_part

    def slow_part(part: Any, adapter: Any) -> str:
        time.sleep(0.25)
        return original(part, adapter)

    monkeypatch.setattr(jobs, "_send", send)
    monkeypatch.setattr(reload_module, "run_part", slow_part)


def test_an_admin_maps_a_new_field_reloads_and_reads_the_month(
    page, screenshot, world, tx, saved_connection, monkeypatch
) -> None:
    sandbox = tx
    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    ((client, company),) = link_clients(world, sandbox, 1)
    _run_in_background(monkeypatch)
    page.goto("/accounts/login/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()

    page.goto("/settings/apps/tripletex/?tab=settings")
    expect(page.locator("#state-no-fields")).to_be_visible()
    page.get_by_label("Task title").fill("{client}: bookkeeping {month}")
    page.get_by_label("Topic").fill("Monthly close")
    page.get_by_label("Import data").select_option("5")
    screenshot("1-settings")
    page.get_by_role("button", name="Save settings").click()
    expect(page.get_by_text("Summary task settings saved.")).to_be_visible()

    sales = page.locator("#map-sale_entries")
    sales.select_option("__new__")
    new_name = page.locator("#new-name-sale_entries")
    expect(new_name).to_be_visible()
    new_name.fill("Sale entries (count)")
    screenshot("2-new-custom-field")
    page.locator("#new-sale_entries").get_by_role("button", name="Create field").click()
    expect(page.locator("#map-sale_entries option:checked")).to_have_text(
        "Sale entries (count) (Whole number)"
    )
    expect(page.locator("#new-sale_entries")).to_be_hidden()
    page.get_by_role("button", name="Show more").click()
    expect(page.locator("#more-statistics")).to_be_visible()
    screenshot("3-field-selected")
    page.locator("#mapping-save").click()
    expect(page.get_by_text("Data fields saved.")).to_be_visible()
    expect(page.locator("#state-no-fields")).to_have_count(0)
    expect(page.locator("#state-next-import")).to_contain_text("Next import on")

    page.get_by_role("button", name="Reload data").click()
    dialog = page.get_by_role("dialog", name="Reload data?")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("last 12 months")
    screenshot("4-confirm")
    dialog.get_by_role("button", name="Reload the last 12 months").click()
    bar = page.locator(".job-progress progress")
    expect(bar).to_be_visible()
    screenshot("5-progress")
    expect(page.locator(".job-progress .status")).to_have_text("Succeeded", timeout=60_000)
    screenshot("6-finished")

    month = schedule.previous_month(schedule.month_start(schedule.firm_today("NO")))
    page.get_by_role("link", name="Summary tasks").click()
    expect(page.get_by_role("heading", name=f"Summary tasks, {month:%B %Y}")).to_be_visible()
    row = page.locator(f'tr[data-client="{client.name}"]')
    want = truth(sandbox, company, month)["sale_entries"]
    expect(row.locator("td").nth(2)).to_have_text(str(want))
    screenshot("7-month-view")
    page.get_by_role("link", name=client.name).click()
    expect(page.locator(".summary-task").first).to_contain_text("Monthly close")
    screenshot("8-client-tasks")
