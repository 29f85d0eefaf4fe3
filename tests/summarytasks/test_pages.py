"""The Settings tab (settings, Configure data fields with New custom field, Reload data), the
month view and each client's tasks, with the troubleshooting states they show."""

from __future__ import annotations

import csv
import io

import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext

from clients.models import Client
from summarytasks import services
from summarytasks.models import CustomTaskField, FieldMapping, SummarySettings, SummaryTask
from tests.summarytasks.conftest import VENDOR, books, run_jobs
from tests.summarytasks.test_import import MARCH, _import

TAB = f"/settings/apps/{VENDOR}/?tab=settings"


def test_the_settings_tab_shows_what_is_missing(world, as_user, stat_connection):
    page = as_user(world.admin).get(TAB).content.decode()
    assert 'id="state-no-clients"' in page
    assert 'id="state-no-fields"' in page
    assert "Show more" in page and "Travel expenses" in page
    assert "Monthly" in page  # recurrence, shown


@time_machine.travel("2024-03-10T10:00:00Z", tick=False)
def test_the_settings_tab_says_when_the_next_import_is(world, as_user, linked, mapped):
    linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    page = as_user(world.admin).get(TAB).content.decode()
    assert 'id="state-no-clients"' not in page and 'id="state-no-fields"' not in page
    assert "Next import on 27 March 2024 (March 2024), for 1 linked client." in page


def test_the_settings_are_saved_from_the_tab(world, as_user, stat_connection):
    response = as_user(world.admin).post(
        f"/settings/apps/{VENDOR}/summary/settings/",
        {"task_title": "{client} {month}", "topic": "Bookkeeping", "import_day": "12"},
    )
    assert response.status_code == 302
    with world.scope_a():
        saved = SummarySettings.objects.get(company=world.firm_a, vendor=VENDOR)
    assert saved.topic is not None
    assert (saved.task_title, saved.topic.name, saved.import_day) == (
        "{client} {month}",
        "Bookkeeping",
        "12",
    )
    refused = as_user(world.admin).post(
        f"/settings/apps/{VENDOR}/summary/settings/",
        {"task_title": "x", "import_day": "29"},
        follow=True,
    )
    assert "a day from 1 to 28" in refused.content.decode()


def test_members_cannot_open_the_settings_tab(world, as_user, stat_connection):
    assert as_user(world.accountant).get(TAB).status_code == 403
    response = as_user(world.accountant).post(
        f"/settings/apps/{VENDOR}/summary/fields/", {"map:sale_entries": ""}
    )
    assert response.status_code == 403


def test_new_custom_field_inside_the_dropdown_creates_and_selects_it(
    world, as_user, stat_connection
):
    admin = as_user(world.admin)
    with world.scope_a():
        existing = services.create_task_field(
            company=world.firm_a, actor=world.admin, name="Bank lines"
        )
    response = admin.post(
        f"/settings/apps/{VENDOR}/summary/fields/new/",
        {
            "new_for": "sale_entries",
            "map:sale_entries": "__new__",
            "new_name:sale_entries": "Sales count",
            "new_type:sale_entries": "whole_number",
            "map:bank_transactions": str(existing.public_id),
        },
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    with world.scope_a():
        created = CustomTaskField.objects.get(company=world.firm_a, name="Sales count")
        assert not FieldMapping.objects.exists()  # nothing saved until Save
    page = response.content.decode()
    assert f'<option value="{created.public_id}" selected>Sales count' in page
    assert f'<option value="{existing.public_id}" selected>Bank lines' in page  # kept
    taken = admin.post(
        f"/settings/apps/{VENDOR}/summary/fields/new/",
        {"new_for": "documents", "new_name:documents": "sales COUNT"},
        HTTP_HX_REQUEST="true",
    )
    assert taken.status_code == 422 and "already a field called" in taken.content.decode()
    saved = admin.post(
        f"/settings/apps/{VENDOR}/summary/fields/",
        {"map:sale_entries": str(created.public_id), "map:bank_transactions": ""},
    )
    assert saved.status_code == 302
    with world.scope_a():
        assert services.field_mapping(world.firm_a, VENDOR) == {"sale_entries": created}


def test_save_without_a_script_creates_the_new_field(world, as_user, stat_connection):
    as_user(world.admin).post(
        f"/settings/apps/{VENDOR}/summary/fields/",
        {"map:documents": "__new__", "new_name:documents": "Docs", "new_type:documents": "decimal"},
    )
    with world.scope_a():
        mapping = services.field_mapping(world.firm_a, VENDOR)
    assert mapping["documents"].name == "Docs" and mapping["documents"].type == "decimal"


def test_one_field_cannot_hold_two_statistics(world, as_user, stat_connection):
    with world.scope_a():
        field = services.create_task_field(company=world.firm_a, actor=world.admin, name="F")
    response = as_user(world.admin).post(
        f"/settings/apps/{VENDOR}/summary/fields/",
        {"map:sale_entries": str(field.public_id), "map:documents": str(field.public_id)},
    )
    assert response.status_code == 422
    assert "Each field can hold one statistic" in response.content.decode()


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_reload_data_from_the_tab_shows_its_progress_and_counts(world, as_user, linked, mapped):
    linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    admin = as_user(world.admin)
    response = run_jobs(lambda: admin.post(f"/settings/apps/{VENDOR}/summary/reload/"))
    assert response.status_code == 302
    page = admin.get(TAB).content.decode()
    assert "Reload data?" in page  # the confirmation
    assert "12 client-months (2024-01-01 to 2024-12-01): 12 reloaded, 0 skipped, 0 failed." in page


@time_machine.travel("2024-04-02T10:00:00Z", tick=False)
def test_the_month_view_lists_clients_values_and_totals(world, as_user, linked, mapped):
    a = linked("Fjord Bakeri AS", "c1")
    b = linked("Nord Fisk AS", "c2")
    with world.scope_a():
        Client.objects.create(company=world.firm_a, name="Ulenket AS")
        services.create_task_field(
            company=world.firm_a, actor=world.admin, name="Notes", type="text"
        )
    mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=4)
    books("c2", MARCH, sale_entries=6)
    _import(world, a)
    _import(world, b)
    page = as_user(world.accountant).get("/summary-tasks/?period=2024-03").content.decode()
    assert "Summary tasks, March 2024" in page
    assert 'data-client="Fjord Bakeri AS"' in page and 'data-client="Ulenket AS"' in page
    assert (
        '<tr class="fw-semibold" id="month-totals"><th scope="row">Total</th><td></td><td></td><td class="text-end"></td><td class="text-end">10</td>'
        in page
    )
    # "Notes" is not mapped and empty: the view says why.
    assert "This field is not mapped" in page
    linked_only = as_user(world.accountant).get("/summary-tasks/?period=2024-03&linked=no")
    assert 'data-client="Fjord Bakeri AS"' not in linked_only.content.decode()
    assert 'data-client="Ulenket AS"' in linked_only.content.decode()
    with world.scope_a():
        sales = CustomTaskField.objects.get(company=world.firm_a, name="Sales")
    by_sales = as_user(world.accountant).get(
        f"/summary-tasks/?period=2024-03&sort=-field:{sales.public_id}"
    )
    body = by_sales.content.decode()
    assert body.index("Nord Fisk AS") < body.index("Fjord Bakeri AS") < body.index("Ulenket AS")


@time_machine.travel("2024-04-02T10:00:00Z", tick=False)
def test_the_month_view_exports_csv(world, as_user, linked, mapped):
    a = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=4)
    _import(world, a)
    response = as_user(world.accountant).get("/summary-tasks/?period=2024-03&format=csv")
    assert response["Content-Type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Client", "Organisation number", "Status", "Assignee", "Topic", "Sales"]
    assert rows[1] == ["Fjord Bakeri AS", "", "Open", "", "", "4"]


@time_machine.travel("2024-04-02T10:00:00Z", tick=False)
def test_the_month_view_makes_the_same_number_of_queries_for_more_clients(
    world, as_user, linked, mapped
):
    mapped(sale_entries="Sales", documents="Docs")
    viewer = as_user(world.accountant)

    def queries() -> int:
        with CaptureQueriesContext(connection) as captured:
            assert viewer.get("/summary-tasks/?period=2024-03").status_code == 200
        return len(captured)

    for n in range(2):
        _import(world, linked(f"Klient {n} AS", f"c{n}"))
    few = queries()
    for n in range(2, 8):
        _import(world, linked(f"Klient {n} AS", f"c{n}"))
    assert queries() == few


def test_a_clients_page_shows_values_their_source_and_marks_done(world, as_user, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    fields = mapped(sale_entries="Sales", documents="Docs")
    books("c1", MARCH, sale_entries=4)
    task = _import(world, client).task
    member = as_user(world.accountant)
    url = f"/clients/{client.public_id}/summary-tasks/"
    page = member.get(url).content.decode()
    assert "Statbooks · Sale entries · imported" in page
    member.post(
        f"/summary-tasks/{task.public_id}/value/",
        {"field": str(fields["documents"].public_id), "value": "7"},
    )
    page = member.get(url).content.decode()
    assert "Typed by" in page and "kept until a reload" in page
    member.post(f"/summary-tasks/{task.public_id}/", {"status": "done"})
    task.refresh_from_db()
    assert task.status == "done"
    refused = member.post(
        f"/summary-tasks/{task.public_id}/value/",
        {"field": str(fields["sale_entries"].public_id), "value": "1.5"},
        follow=True,
    )
    assert "Enter a whole number." in refused.content.decode()


def test_billing_staff_read_tasks_but_cannot_mark_them_done(world, as_user, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    task = _import(world, client).task
    billing = as_user(world.billing)
    page = billing.get(f"/clients/{client.public_id}/summary-tasks/").content.decode()
    assert "Mark done" not in page
    assert billing.post(f"/summary-tasks/{task.public_id}/", {"status": "done"}).status_code == 403
    with world.scope_a():
        assert SummaryTask.objects.get(pk=task.pk).status == "open"


def test_the_nav_and_the_client_page_lead_to_summary_tasks(world, as_user, linked):
    client = linked("Fjord Bakeri AS", "c1")
    home = as_user(world.accountant).get(f"/clients/{client.public_id}/").content.decode()
    assert 'id="nav-summary-tasks"' in home
    assert f'href="/clients/{client.public_id}/summary-tasks/"' in home
    assert "summary/reload" not in home  # reloading is for owners and admins
    admin_page = as_user(world.admin).get(f"/clients/{client.public_id}/").content.decode()
    assert f'action="/settings/apps/{VENDOR}/summary/reload/"' in admin_page


def test_the_pages_speak_norwegian(world, as_user, linked):
    client = linked("Fjord Bakeri AS", "c1")
    admin = as_user(world.admin)
    admin.post("/i18n/setlang/", {"language": "nb", "next": "/"})
    tab = admin.get(TAB).content.decode()
    assert "Konfigurer datafelt" in tab and "Last inn data på nytt" in tab
    month = admin.get("/summary-tasks/").content.decode()
    assert "Oppsummeringsoppgaver, " in month and "Eksporter CSV" in month
    tasks = admin.get(f"/clients/{client.public_id}/summary-tasks/").content.decode()
    assert "Oppsummeringsoppgaver for Fjord Bakeri AS" in tasks


def test_after_a_relink_the_integration_column_offers_reload_data(world, linked, rf):
    from django.template.loader import render_to_string

    client = linked("Fjord Bakeri AS", "c1")
    request = rf.get("/clients/")
    with world.scope_a():
        cell = render_to_string(
            "clients/_integration_cell.html",
            {"client": client, "saved": "Linked.", "is_company_admin": True},
            request=request,
        )
        quiet = render_to_string(
            "clients/_integration_cell.html",
            {"client": client, "is_company_admin": True},
            request=request,
        )
    assert f'action="/settings/apps/{VENDOR}/summary/reload/"' in cell
    assert f'name="client" value="{client.public_id}"' in cell
    assert "summary/reload" not in quiet


def test_the_month_totals_are_formatted_the_languages_way(world, as_user) -> None:
    from datetime import date
    from decimal import Decimal

    from summarytasks.models import SummaryTaskValue

    period = date(2024, 3, 1)
    with world.scope_a():
        turnover = services.create_task_field(
            company=world.firm_a, actor=world.admin, name="Turnover", type="money"
        )
        vouchers = services.create_task_field(
            company=world.firm_a, actor=world.admin, name="Vouchers", type="whole_number"
        )
        for i, name in enumerate(["Fjord AS", "Nord AS"]):
            client = Client.objects.create(company=world.firm_a, name=name)
            task = SummaryTask.objects.create(
                company=world.firm_a, client=client, period=period, title="Avstemming"
            )
            for field, number in ((turnover, Decimal("600000.25")), (vouchers, 600 + i * 1000)):
                SummaryTaskValue.objects.create(
                    company=world.firm_a, task=task, field=field, number=number
                )
    client = as_user(world.accountant)
    page = client.get("/summary-tasks/?period=2024-03").content.decode()
    totals = page[page.index('id="month-totals"') :]
    assert "NOK\xa01,200,000.50" in totals and "2,200" in totals
    client.post("/i18n/setlang/", {"language": "nb", "next": "/"})
    page = client.get("/summary-tasks/?period=2024-03").content.decode()
    totals = page[page.index('id="month-totals"') :]
    assert "kr\xa01\xa0200\xa0000,50" in totals and "2\xa0200" in totals


def test_a_mapping_to_something_that_is_not_a_field_of_the_firm_is_refused(
    world, as_user, stat_connection
):
    """A forged or stale choice (not a UUID, or no field of this firm) is a row error, not a 500
    and not a silent unmapping."""
    with world.scope_a():
        field = services.create_task_field(company=world.firm_a, actor=world.admin, name="F")
    admin = as_user(world.admin)
    admin.post(f"/settings/apps/{VENDOR}/summary/fields/", {"map:documents": str(field.public_id)})
    for choice in ["not-a-uuid", "00000000-0000-0000-0000-000000000000"]:
        response = admin.post(f"/settings/apps/{VENDOR}/summary/fields/", {"map:documents": choice})
        assert response.status_code == 422, choice
        assert "Choose one of the firm&#x27;s custom fields." in response.content.decode()
    with world.scope_a():
        assert services.field_mapping(world.firm_a, VENDOR) == {"documents": field}


def test_typing_a_value_into_a_field_id_that_is_not_a_uuid_is_a_404(world, as_user, linked):
    client = linked("Fjord Bakeri AS", "c1")
    task = _import(world, client).task
    response = as_user(world.accountant).post(
        f"/summary-tasks/{task.public_id}/value/", {"field": "not-a-uuid", "value": "7"}
    )
    assert response.status_code == 404
