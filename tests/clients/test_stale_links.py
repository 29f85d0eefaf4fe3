"""Stale links and lost books access (issue 10): a linked customer deleted or deactivated in
the accounting system, found by the next full customer read or by checking one link; books
access lost for one client, which never flags the firm's connection."""

from __future__ import annotations

from django.test import TestCase
from django_scopes import scopes_disabled

from clients import linking
from clients.models import BooksState, Client, ExternalLink
from integrations import jobs
from integrations import services as integration_services
from integrations.base import BooksAccessLost
from integrations.models import ConnectionStatus, IntegrationConnection, Notification, SyncJob
from tests.clients.linking_helpers import customer, make_client, revoke_all_login_access
from tests.clients.test_import import confirm, preview, remote


def _link_of(name: str) -> ExternalLink:
    with scopes_disabled():
        return ExternalLink.objects.select_related("client").get(client__name=name)


def _delete_customer(store, customer_id: int) -> None:
    # The control API has no delete; the row goes the way a deleted customer does.
    with store.lock:
        del store.rows["customer"][int(customer_id)]


def test_a_full_read_marks_links_to_deleted_and_inactive_customers_stale(
    world, empty_tx, as_user
) -> None:
    store = empty_tx.store
    gone = remote(store, "Borte AS")
    sleeping = remote(store, "Sovende AS")
    remote(store, "Levende AS")
    confirm(world, preview(world), select="all")
    _delete_customer(store, gone["id"])
    store.deactivate_customer(sleeping["id"])

    job = preview(world, full=True)

    assert job.counts["stale_links"] == 2
    assert "deleted in Tripletex" in _link_of("Borte AS").stale_reason
    assert "inactive in Tripletex" in _link_of("Sovende AS").stale_reason
    assert not _link_of("Levende AS").is_stale
    page = as_user(world.accountant).get("/clients/?link=attention").content.decode()
    assert "Borte AS" in page and "Sovende AS" in page and "Levende AS" not in page
    assert page.count(">Relink<") == 2 and page.count(">Unlink<") == 2
    # Active again: the next read clears the mark (and keeps the deleted one).
    store.update_customer(sleeping["id"], isInactive=False)
    preview(world, full=True)
    assert not _link_of("Sovende AS").is_stale and _link_of("Borte AS").is_stale


def test_an_incremental_read_does_not_take_unread_customers_for_deleted(world, empty_tx) -> None:
    store = empty_tx.store
    remote(store, "Uendret AS", at="2020-01-01T10:00:00")
    confirm(world, preview(world), select="all")
    job = preview(world)  # only customers changed since the last import
    assert job.counts["changed_since"] and job.counts["stale_links"] == 0
    assert not _link_of("Uendret AS").is_stale


def test_checking_one_link_reads_the_customer_and_a_relink_clears_the_mark(
    world, api_as, connected
) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    found = customer(connected, "Fjellheim Bakeri AS")
    api = api_as(world.accountant)
    url = f"/api/v1/clients/{bakery.public_id}/integration-link"
    assert api.put(url, {"vendor": "tripletex", "remote_id": str(found["id"])}).status_code == 200
    connected.store.deactivate_customer(found["id"])

    checked = api.post(f"{url}/check", {"vendor": "tripletex"}, format="json")

    assert checked.status_code == 200, checked.json()
    assert "inactive in Tripletex" in checked.json()["stale"]["reason"]
    listed = api.get("/api/v1/clients/?link=attention").json()["results"]
    assert [c["name"] for c in listed] == ["Fjellheim Bakeri"]
    connected.store.update_customer(found["id"], isInactive=False)
    assert (
        api.put(url, {"vendor": "tripletex", "remote_id": str(found["id"])}).json()["stale"] is None
    )
    unlinked = make_client(world, "Ikke lenket")
    answer = api.post(
        f"/api/v1/clients/{unlinked.public_id}/integration-link/check",
        {"vendor": "tripletex"},
        format="json",
    )
    assert answer.status_code == 400 and "not linked" in answer.json()["fields"]["vendor"][0]


def test_a_check_finds_books_access_lost_and_the_column_says_so(world, as_user, connected) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    with world.scope_a():
        linking.link_client(
            company=world.firm_a,
            actor=world.accountant,
            client=bakery,
            vendor="tripletex",
            remote_id=customer(connected, "Fjellheim Bakeri AS")["id"],
        )
    revoke_all_login_access(connected)
    page = as_user(world.accountant)
    cell = page.post(
        f"/clients/{bakery.public_id}/integration/check/",
        {"vendor": "tripletex"},
        HTTP_HX_REQUEST="true",
    ).content.decode()
    link = _link_of("Fjellheim Bakeri")
    assert link.books_state == BooksState.ACCESS_LOST and link.books_error_at is not None
    assert "can no longer open Fjellheim Bakeri AS" in cell and "Books access lost" in cell
    with scopes_disabled():
        assert IntegrationConnection.objects.get(company=world.firm_a).status == "connected"


def test_mark_books_access_lost_is_idempotent_and_keeps_the_first_time(world, api_as) -> None:
    bakery = make_client(world, "Bakeri")
    with scopes_disabled():
        link = ExternalLink.objects.create(
            company=world.firm_a,
            client=bakery,
            vendor="tripletex",
            remote_id="7",
            books_company_id="42",
            books_state=BooksState.LINKED,
        )
    error = BooksAccessLost("No access to company 42.", books_company_id="42")
    with world.scope_a():
        linking.mark_books_access_lost(link, error)
        first = ExternalLink.objects.get(pk=link.pk).books_error_at
        linking.mark_books_access_lost(ExternalLink.objects.get(pk=link.pk), error)
        again = ExternalLink.objects.get(pk=link.pk)
    assert again.books_error_at == first and again.books_company_id == "42"
    assert (again.books_state, again.books_error) == ("access_lost", "No access to company 42.")
    body = api_as(world.accountant).get(f"/api/v1/clients/{bakery.public_id}/").json()
    assert body["links"][0]["books"]["state"] == "access_lost"
    assert body["links"][0]["books"]["error"] == "No access to company 42."


def lose_books(*, job, adapter):
    raise BooksAccessLost("Tripletex refused company 42.", books_company_id="42")


def test_a_job_failing_with_books_access_lost_leaves_the_firms_connection_alone(
    world, connected
) -> None:
    jobs.register_job_kind("test_books_lost", "tests.clients.test_stale_links.lose_books", "Test")
    try:
        with TestCase.captureOnCommitCallbacks(execute=True), world.scope_a():
            job, _created = jobs.request_job(
                company=world.firm_a, actor=world.admin, vendor="tripletex", kind="test_books_lost"
            )
        job.refresh_from_db()
    finally:
        jobs.JOB_KINDS.pop("test_books_lost")
    assert job.status == "failed" and "company 42" in job.error
    with scopes_disabled():
        connection = IntegrationConnection.objects.get(company=world.firm_a)
        notes = list(Notification.objects.values_list("text", flat=True))
    assert connection.status == ConnectionStatus.CONNECTED and connection.last_error == ""
    assert not [text for text in notes if "sync failed" in text]


def test_other_permanent_errors_still_flag_the_connection(world, connected) -> None:
    """The control: the same path with a revoked token flags the connection."""
    with world.scope_a():
        connection = IntegrationConnection.objects.get(company=world.firm_a)
        token = integration_services.adapter_for(connection).credentials["employee_token"]
    connected.store.revoke_employee_token(token)
    job = preview(world)
    assert job.status == "failed"
    with scopes_disabled():
        assert IntegrationConnection.objects.get(company=world.firm_a).status == "error"
        assert SyncJob.objects.filter(status="failed").count() == 1
        assert Client.objects.count() == 0
