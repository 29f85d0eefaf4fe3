"""Importing Tripletex customers as clients, against the sandbox over real HTTP."""

from __future__ import annotations

import pytest
from django.test import TestCase
from django_scopes import scopes_disabled

from clients import services
from clients.models import Client, CustomerImportRow, ExternalLink
from integrations.models import SyncJob


def run_jobs(fn):
    """Run `fn` and then the Celery tasks it queued on commit (eager in tests)."""
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = fn()
    job.refresh_from_db()
    return job


def preview(world, full: bool = False) -> SyncJob:
    def start():
        with world.scope_a():
            return services.start_customer_import(
                company=world.firm_a, actor=world.admin, full=full, vendor="tripletex"
            )[0]

    return run_jobs(start)


def confirm(world, job: SyncJob, **selection) -> SyncJob:
    def start():
        with world.scope_a():
            return services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=job, **selection
            )[0]

    return run_jobs(start)


def rows(job: SyncJob) -> dict[str, CustomerImportRow]:
    with scopes_disabled():
        return {r.remote_id: r for r in CustomerImportRow.objects.filter(job=job)}


def test_it_previews_every_customer_as_new_in_an_empty_firm(world, connected) -> None:
    job = preview(world)
    assert job.status == "succeeded", job.error
    store = connected.store
    total = len(store.company_rows("customer", store.firm_company_id))
    assert job.counts["total"] == total and job.counts["new"] == total
    assert job.counts["inactive"] > 0


def test_it_imports_all_new_and_a_second_import_creates_nothing(world, connected) -> None:
    job = preview(world)
    done = confirm(world, job, select="all_new")
    assert done.status == "succeeded", done.error
    with scopes_disabled():
        clients = Client.objects.filter(company=world.firm_a).count()
        links = ExternalLink.objects.filter(company=world.firm_a).count()
    assert done.counts["created"] + done.counts["failed"] == job.counts["total"]
    assert clients == links == done.counts["created"]
    again = preview(world, full=True)
    assert again.counts["linked"] == clients
    assert again.counts["new"] == done.counts["failed"]


def remote(store, name: str, **fields):
    return store.create_customer(name=name, **fields)


def client(world, **fields) -> Client:
    with world.scope_a():
        made = Client(company=world.firm_a, **fields)
        made.save()
    return made


def test_it_matches_on_orgnr_then_email_then_name_with_phone(world, empty_tx) -> None:
    store = empty_tx.store
    by_orgnr = client(world, name="Gammelt Navn AS", organisation_number="923609016")
    by_email = client(world, name="Annet", email="post@fjordbakeri.no")
    by_name = client(world, name="Ærlig Øl og Åpen Bakst AS", phone="91234567")
    r1 = remote(store, "Nytt Navn AS", organizationNumber="923 609 016")  # typed with spaces
    r2 = remote(store, "Fjord Bakeri AS", email="POST@fjordbakeri.no")
    r3 = remote(store, "ærlig øl og åpen bakst", phoneNumber="+47 912 34 567")
    r4 = remote(store, "Helt Ny Kunde AS", email="ny@kunde.no")
    found = rows(preview(world))
    assert (found[str(r1["id"])].client, found[str(r1["id"])].match_rule) == (by_orgnr, "orgnr")
    assert (found[str(r2["id"])].client, found[str(r2["id"])].match_rule) == (by_email, "email")
    assert (found[str(r3["id"])].client, found[str(r3["id"])].match_rule) == (by_name, "name_phone")
    assert found[str(r4["id"])].classification == "new" and found[str(r4["id"])].client is None
    assert found[str(r1["id"])].changes["name"] == ["Gammelt Navn AS", "Nytt Navn AS"]


def test_it_imports_contact_details_invoice_email_and_the_responsible_accountant(
    world, empty_tx
) -> None:
    store = empty_tx.store
    manager = store.admin_employee_id
    membership = world.membership(world.accountant)
    membership.external_id = str(manager)
    membership.save()
    made = remote(
        store,
        "Bøe & Sønn Rørlegger AS",
        organizationNumber="923609016",
        email="post@boe.no",
        invoiceEmail="faktura@boe.no",
        phoneNumber="22 33 44 55",
        accountManager={"id": manager},
        postalAddress=store.insert(
            "address",
            store.firm_company_id,
            {"addressLine1": "Storgata 1", "postalCode": "0155", "city": "Oslo"},
        )["id"],
    )
    job = preview(world)
    done = confirm(world, job, remote_ids=[str(made["id"])])
    assert done.counts["created"] == 1, done.counts
    with scopes_disabled():
        imported = Client.objects.get(company=world.firm_a)
        link = ExternalLink.objects.get(client=imported)
    assert imported.name == "Bøe & Sønn Rørlegger AS"
    assert (imported.organisation_number, imported.invoice_email) == ("923609016", "faktura@boe.no")
    assert (imported.city, imported.postal_code, imported.address_line) == (
        "Oslo",
        "0155",
        "Storgata 1",
    )
    assert imported.responsible == world.accountant
    assert (link.vendor, link.remote_id, link.linked_by) == (
        "tripletex",
        str(made["id"]),
        world.admin,
    )
    assert imported.last_import == done


def test_it_shows_inactive_customers_and_imports_them_as_inactive(world, empty_tx) -> None:
    gone = remote(empty_tx.store, "Nedlagt AS", isInactive=True)
    job = preview(world)
    assert job.counts["inactive"] == 1 and rows(job)[str(gone["id"])].inactive
    confirm(world, job, select="all")
    with scopes_disabled():
        assert Client.objects.get(company=world.firm_a).active is False


def test_it_imports_only_the_selection_and_updates_existing_clients(world, empty_tx) -> None:
    store = empty_tx.store
    existing = client(world, name="Gammel AS", email="a@a.no")
    remote(store, "Ny AS", email="a@a.no", invoiceEmail="f@a.no")
    other = remote(store, "Annen AS")
    job = preview(world)
    done = confirm(world, job, select="all_new")
    # The customer not selected is not "skipped": it is simply not imported yet.
    assert (done.counts["created"], done.counts["updated"], done.counts["not_imported"]) == (
        1,
        0,
        1,
    )
    assert "skipped" not in done.counts
    done = confirm(world, job, select="all")
    # This confirm's own rows only, not the total of both.
    assert (done.counts["created"], done.counts["updated"], done.counts["not_imported"]) == (
        0,
        1,
        0,
    )
    existing.refresh_from_db()
    assert (existing.name, existing.invoice_email) == ("Ny AS", "f@a.no")
    with scopes_disabled():
        assert Client.objects.filter(company=world.firm_a).count() == 2
        assert ExternalLink.objects.filter(remote_id=str(other["id"])).count() == 1


def test_a_double_confirm_creates_nothing_twice(world, empty_tx) -> None:
    remote(empty_tx.store, "Én AS")
    job = preview(world)

    def twice():
        with world.scope_a():
            first = services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=job, select="all"
            )[0]
            second = services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=job, select="all"
            )[0]
        assert first.pk == second.pk
        return first

    run_jobs(twice)
    with pytest.raises(Exception, match="Select at least one"), world.scope_a():
        services.confirm_customer_import(
            company=world.firm_a, actor=world.admin, preview=job, select="all"
        )
    with scopes_disabled():
        assert Client.objects.filter(company=world.firm_a).count() == 1


def test_a_reimport_asks_only_for_customers_changed_since_the_last_import(world, empty_tx) -> None:
    store = empty_tx.store
    remote(store, "Første AS", at="2020-01-01T10:00:00")
    confirm(world, preview(world), select="all")
    store.clear_requests()
    remote(store, "Andre AS")
    job = preview(world)
    assert job.counts["total"] == 1 and job.counts["changed_since"]
    assert all(
        "changedSince" in r["query"]
        for r in store.request_log()["requests"]
        if r["path"] == "/customer"
    )


def test_a_token_revoked_mid_import_fails_visibly_and_a_rerun_completes(
    world, empty_tx, monkeypatch, saved_connection
) -> None:
    from integrations.tripletex import adapter as tripletex_adapter

    store = empty_tx.store
    for n in range(120):
        remote(store, f"Kunde {n:03d} AS")
    monkeypatch.setattr(tripletex_adapter, "PAGE_SIZE", 50)
    original = tripletex_adapter.TripletexAdapter.iter_customers

    def revoke_after_first_page(self, **kwargs):
        for number, page in enumerate(original(self, **kwargs)):
            yield page
            if number == 0:
                store.revoke_employee_token(empty_tx.token)

    monkeypatch.setattr(
        tripletex_adapter.TripletexAdapter, "iter_customers", revoke_after_first_page
    )
    failed = preview(world, full=True)
    assert failed.status == "failed" and "Tripletex" in failed.error
    with scopes_disabled():
        assert not Client.objects.exists() and not ExternalLink.objects.exists()
        from integrations.models import IntegrationConnection, Notification

        assert IntegrationConnection.objects.get(company=world.firm_a).status == "error"
        assert Notification.objects.filter(recipient=world.admin, level="error").exists()
    monkeypatch.setattr(tripletex_adapter.TripletexAdapter, "iter_customers", original)
    saved_connection(token=store.create_employee_token()["token"])
    again = preview(world, full=True)
    assert again.status == "succeeded" and again.counts["total"] == 120
    assert confirm(world, again, select="all").counts["created"] == 120


@pytest.mark.parametrize("kind", ["rate_limit", "server_error", "unavailable"])
def test_429_and_5xx_while_paging_are_retried(world, empty_tx, monkeypatch, kind) -> None:
    from integrations.tripletex import adapter as tripletex_adapter

    store = empty_tx.store
    for n in range(120):
        remote(store, f"Kunde {n:03d} AS")
    monkeypatch.setattr(tripletex_adapter, "PAGE_SIZE", 50)
    store.inject_fault(kind, "/customer", method="GET", times=1, retry_after=1)
    job = preview(world, full=True)
    assert job.status == "succeeded", job.error
    assert job.counts["total"] == 120


def test_ten_thousand_customers_take_full_pages_and_constant_sql_per_page(
    world, tx, saved_connection, django_assert_max_num_queries
) -> None:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from clients.importing import classify, clean_remote
    from integrations.base import RemoteCustomer

    store = tx.store
    store.reset("demo", customers=10_000)
    saved_connection(token=store.create_employee_token()["token"])
    store.clear_requests()
    job = preview(world, full=True)
    assert job.status == "succeeded", job.error
    customers = store.company_rows("customer", store.firm_company_id)
    inactive = sum(1 for c in customers if c.get("isInactive"))
    active = len(customers) - inactive
    expected_pages = (active // 1000 + 1) + (inactive // 1000 + 1)  # a short page ends each pass
    counts = store.request_counts()
    assert counts["GET /customer"] == expected_pages
    assert counts["PUT /token/session/:create"] == 1
    assert set(counts) <= {
        "GET /customer",
        "PUT /token/session/:create",
        "DELETE /token/session/{token}",
    }
    assert job.counts["total"] == len(customers)

    def statements(size: int) -> int:
        page = [
            clean_remote(RemoteCustomer(id=f"x{n}", name=f"Ny {n}", email=f"{n}@x.no"))
            for n in range(size)
        ]
        with world.scope_a(), CaptureQueriesContext(connection) as captured:
            classify(world.firm_a, job, page)
        return len(captured)

    assert statements(10) == statements(1000)


def test_a_full_import_is_full_even_when_the_job_runs_at_once(
    transactional_db, world, empty_tx
) -> None:
    # Autocommit: on_commit fires at once, so the job finishes inside the request, as it may
    # with a fast worker. Options written after queueing would be lost (or overwrite results).
    remote(empty_tx.store, "Første AS", at="2020-01-01T10:00:00")
    confirm(world, preview(world), select="all")
    job = preview(world, full=True)
    assert job.counts["full"] is True and job.counts["changed_since"] is None
    assert job.counts["total"] == 1 and job.counts["linked"] == 1


def test_two_customers_matching_one_client_link_once_and_the_other_fails_clearly(
    world, empty_tx
) -> None:
    store = empty_tx.store
    shared = client(world, name="Eksisterende", email="post@felles.no")
    remote(store, "Avd Nord AS", email="post@felles.no")
    remote(store, "Avd Sør AS", email="post@felles.no")
    done = confirm(world, preview(world), select="all")
    assert done.status == "succeeded", done.error
    assert (done.counts["updated"], done.counts["failed"]) == (1, 1)
    assert "already linked" in done.counts["failures"][0]["error"]
    with scopes_disabled():
        assert ExternalLink.objects.filter(client=shared).count() == 1


def test_an_update_never_takes_another_clients_organisation_number(world, empty_tx) -> None:
    # Tripletex allows one organisation number on several customers (departments, say).
    store = empty_tx.store
    target = client(world, name="X", email="a@a.no")
    remote(store, "Ny AS", organizationNumber="923609016")
    other = remote(store, "Annen AS", email="a@a.no", organizationNumber="923609016")
    job = preview(world)
    # Predicted in the preview, not discovered by a failing confirm.
    conflict = rows(job)[str(other["id"])]
    assert (conflict.classification, conflict.conflict) == ("conflict", "duplicate")
    assert conflict.conflict_with == "Ny AS" and job.counts["conflict"] == 1
    done = confirm(world, job, select="all")
    assert done.status == "succeeded", done.error
    assert (done.counts["created"], done.counts["failed"], done.counts["not_imported"]) == (1, 0, 1)
    target.refresh_from_db()
    assert target.organisation_number == ""
    with scopes_disabled():
        assert Client.objects.get(organisation_number="923609016").name == "Ny AS"


def test_customers_left_out_are_offered_again_by_the_next_import(world, empty_tx) -> None:
    store = empty_tx.store
    client(world, name="Gammel", email="g@g.no")
    remote(store, "Ny AS")
    remote(store, "Gammel AS", email="g@g.no")
    first = preview(world)
    confirm(world, first, select="all_new")  # the existing match is left out
    again = preview(world)
    assert again.counts["changed_since"] is None
    assert again.counts["existing"] == 1 and again.counts["linked"] == 1


def test_processed_rows_point_at_their_client(world, empty_tx) -> None:
    made = remote(empty_tx.store, "Ny AS")
    job = preview(world)
    confirm(world, job, select="all")
    row = rows(job)[str(made["id"])]
    with scopes_disabled():
        assert row.client == Client.objects.get(links__remote_id=str(made["id"]))


def test_a_batch_writes_its_outcomes_with_the_same_statement_whatever_its_size(
    world, empty_tx
) -> None:
    # One statement and eight parameters per batch (arrays on PostgreSQL), not four per row:
    # binding and planning thousands of placeholders was most of the outcome write's time.
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("the arrays are PostgreSQL's")
    written: list[tuple[str, int]] = []

    def spy(execute, sql, params, many, context):
        if sql.startswith('UPDATE "clients_customerimportrow" SET outcome'):
            written.append((sql, len(params)))
        return execute(sql, params, many, context)

    def outcome_statement(names: list[str]) -> tuple[str, int]:
        for name in names:
            remote(empty_tx.store, name)
        job = preview(world)
        written.clear()
        with connection.execute_wrapper(spy):
            done = confirm(world, job, select="all_new")
        assert done.status == "succeeded", done.error
        assert done.counts["created"] == len(names)
        assert len(written) == 1
        return written[0]

    one = outcome_statement(["Én AS"])
    many = outcome_statement([f"Kunde {n} AS" for n in range(25)])
    assert one == many and one[1] == 8
    with scopes_disabled():
        made = CustomerImportRow.objects.filter(outcome="created")
        assert made.count() == 26 and not made.filter(client__isnull=True).exists()
        assert not made.filter(selected=True).exists()
