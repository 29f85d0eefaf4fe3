"""The audit log against the Tripletex sandbox over real HTTP: the import confirm, links made and
replaced, and a canary credential through saving, replacing and removing the connection, which
no audit event, page, CSV or API answer may hold."""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.test import TestCase
from django.urls import reverse
from django_scopes import scopes_disabled

from clients import linking
from clients import services as client_services
from clients.models import Client
from integrations.models import SyncJob
from tests.clients.linking_helpers import customer, make_client
from uku.models import AuditEvent


def _events(action: str) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(action=action).order_by("created_at", "pk"))


@pytest.fixture
def connected(tx, saved_connection):
    saved_connection(token=tx.store.create_employee_token()["token"])
    return tx


def _run(start: Any) -> Any:
    with TestCase.captureOnCommitCallbacks(execute=True):
        job = start()
    job.refresh_from_db()
    return job


def test_an_import_confirm_is_recorded_once_with_what_it_imports(
    world, tx, saved_connection
) -> None:
    tx.store.reset("empty")
    saved_connection(token=tx.store.create_employee_token()["token"])
    tx.store.create_customer(name="Én AS")
    tx.store.create_customer(name="To AS")

    def preview() -> SyncJob:
        with world.scope_a():
            return client_services.start_customer_import(
                company=world.firm_a, actor=world.admin, vendor="tripletex"
            )[0]

    job = _run(preview)
    assert not _events("import.confirmed")  # a preview changes nothing in the firm

    def confirm_twice() -> SyncJob:
        with world.scope_a():
            first = client_services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=job, select="all"
            )[0]
            client_services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=job, select="all"
            )
        return first

    confirm = _run(confirm_twice)
    (event,) = _events("import.confirmed")
    assert event.actor == world.admin
    assert (event.object_type, event.object_id) == ("sync_job", str(confirm.public_id))
    assert event.details == {
        "vendor": "tripletex",
        "preview": str(job.public_id),
        "select": "all",
        "customers": 2,
    }
    with scopes_disabled():
        assert Client.objects.filter(company=world.firm_a).count() == 2


def test_a_link_made_and_replaced_is_recorded_but_the_same_link_again_is_not(
    world, connected
) -> None:
    bakery = make_client(world, "Fjellheim Bakeri")
    first = customer(connected, "Fjellheim Bakeri AS")
    other = next(
        row
        for row in connected.store.company_rows("customer", connected.store.firm_company_id)
        if row["id"] != first["id"]
    )
    with world.scope_a():
        for remote_id in (first["id"], first["id"], other["id"]):
            linking.link_client(
                company=world.firm_a,
                actor=world.accountant,
                client=bakery,
                vendor="tripletex",
                remote_id=str(remote_id),
            )
    made, replaced = _events("client.link_changed")
    assert made.actor == replaced.actor == world.accountant
    assert made.object_id == replaced.object_id == str(bakery.public_id)
    assert made.details["change"] == "linked" and made.details["remote_id"] == str(first["id"])
    assert replaced.details["change"] == "relinked"
    assert replaced.details["previous_remote_id"] == str(first["id"])
    assert replaced.details["remote_id"] == str(other["id"])


def test_a_canary_token_saved_replaced_and_removed_is_in_no_audit_event(
    world, tx, api_as, as_user
) -> None:
    first = tx.store.create_employee_token()["token"]
    second = tx.store.create_employee_token()["token"]
    api = api_as(world.owner)
    assert api.post("/api/v1/integrations/tripletex/enable").status_code == 200
    for token in (first, second):
        saved = api.put(
            "/api/v1/integrations/tripletex/connection",
            {"environment": "test", "employee_token": token, "token_expires_on": "2027-06-01"},
            format="json",
        )
        assert saved.status_code == 200, saved.json()
    assert api.delete("/api/v1/integrations/tripletex/connection").status_code == 204

    with scopes_disabled():
        recorded = list(AuditEvent.objects.filter(company=world.firm_a))
    actions = [e.action for e in recorded]
    for action in ("connection.saved", "connection.replaced", "connection.removed"):
        assert actions.count(action) == 1, actions
    saved_event = next(e for e in recorded if e.action == "connection.saved")
    assert saved_event.details["environment"] == "test"
    assert saved_event.details["remote_company"] == "Demo Regnskap AS"
    assert saved_event.ip == "127.0.0.1"

    # Every column of every event, as stored.
    with scopes_disabled():
        stored = json.dumps(list(AuditEvent.objects.values()), default=str, ensure_ascii=False)
    shown = [
        api.get("/api/v1/audit-events/", {"page_size": 500}).content.decode(),
        as_user(world.owner).get(reverse("audit_log")).content.decode(),
        as_user(world.owner).get(reverse("audit_log"), {"format": "csv"}).getvalue().decode(),
    ]
    for canary in (first, second):
        assert canary not in stored
        for text in shown:
            assert canary not in text
    assert "connection.replaced" in shown[0]
