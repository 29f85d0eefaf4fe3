"""The audit log: every state-changing service records its event, in its transaction, without a
secret; the page and `GET /api/v1/audit-events/` show it to owners and admins of the firm only,
with filters, paging and a CSV of the filtered list."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from django.test import TestCase
from django.urls import reverse
from django_scopes import scopes_disabled

from billing import exports, statuses
from billing.invoices import LineInput
from billing.models import ExportState, InvoiceExport
from clients import linking
from clients.models import Client, ExternalLink
from integrations import services as integration_services
from summarytasks import services as summary_services
from summarytasks.models import FieldType
from tests.billing.invoicing import setup_books
from tests.fakebooks.adapter import GOOD_KEY
from tests.summarytasks.conftest import VENDOR as STAT_VENDOR
from tests.summarytasks.conftest import stat_connection  # noqa: F401 - a fixture used by name
from uku import audit, services
from uku.models import AuditEvent, Role

OSLO = ZoneInfo("Europe/Oslo")


def events(**filters: Any) -> list[AuditEvent]:
    with scopes_disabled():
        return list(AuditEvent.objects.filter(**filters).order_by("created_at", "pk"))


def only(action: str) -> AuditEvent:
    found = events(action=action)
    assert len(found) == 1, (action, [e.action for e in events()])
    return found[0]


# --- One test per recorded action --------------------------------------------------------------


@dataclass
class Done:
    """What an action's event must say: who acted (None: the system) and about which object."""

    actor: Any
    object_type: str
    object_id: str


def _save_fakebooks(world: Any, key: str = GOOD_KEY) -> None:
    with world.scope_a():
        integration_services.save_connection(
            company=world.firm_a,
            actor=world.admin,
            vendor="fakebooks",
            environment="ee",
            credentials={"api_id": "A-1", "api_key": key},
        )


def do_integration_enabled(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        integration_services.enable_integration(
            company=world.firm_a, actor=world.admin, vendor="fakebooks"
        )
        # Enabling what is on already changes nothing: no second event.
        integration_services.enable_integration(
            company=world.firm_a, actor=world.admin, vendor="fakebooks"
        )
    return Done(world.admin, "integration", "fakebooks")


def do_integration_disabled(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        integration_services.enable_integration(
            company=world.firm_a, actor=world.admin, vendor="fakebooks"
        )
        integration_services.disable_integration(
            company=world.firm_a, actor=world.owner, vendor="fakebooks"
        )
        integration_services.disable_integration(
            company=world.firm_a, actor=world.owner, vendor="fakebooks"
        )
    return Done(world.owner, "integration", "fakebooks")


def do_connection_saved(world: Any, ctx: Any) -> Done:
    _save_fakebooks(world)
    return Done(world.admin, "integration", "fakebooks")


def do_connection_replaced(world: Any, ctx: Any) -> Done:
    _save_fakebooks(world)
    _save_fakebooks(world)
    return Done(world.admin, "integration", "fakebooks")


def do_connection_removed(world: Any, ctx: Any) -> Done:
    _save_fakebooks(world)
    with world.scope_a():
        integration_services.disconnect(company=world.firm_a, actor=world.owner, vendor="fakebooks")
        # Nothing left to remove: no second event.
        integration_services.disconnect(company=world.firm_a, actor=world.owner, vendor="fakebooks")
    return Done(world.owner, "integration", "fakebooks")


def do_client_link_changed(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        client = Client.objects.create(company=world.firm_a, name="Havbris AS")
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor="fakebooks", remote_id="C-9"
        )
        assert linking.unlink_client(
            company=world.firm_a, actor=world.accountant, client=client, vendor="fakebooks"
        )
        linking.unlink_client(
            company=world.firm_a, actor=world.accountant, client=client, vendor="fakebooks"
        )
    return Done(world.accountant, "client", str(client.public_id))


def do_summary_settings_saved(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        summary_services.save_summary_settings(
            company=world.firm_a,
            actor=world.admin,
            vendor=STAT_VENDOR,
            task_title="Avstemming {month}",
            topic="Månedsslutt",
        )
    return Done(world.admin, "integration", STAT_VENDOR)


def _map_sales(world: Any) -> None:
    with world.scope_a():
        field = summary_services.create_task_field(
            company=world.firm_a, actor=world.admin, name="Salg", type=FieldType.WHOLE_NUMBER
        )
        summary_services.save_field_mapping(
            company=world.firm_a,
            actor=world.admin,
            vendor=STAT_VENDOR,
            mapping={"sale_entries": field},
        )
        # The same mapping again changes nothing: no second event.
        summary_services.save_field_mapping(
            company=world.firm_a,
            actor=world.admin,
            vendor=STAT_VENDOR,
            mapping={"sale_entries": field},
        )


def do_summary_mapping_saved(world: Any, ctx: Any) -> Done:
    _map_sales(world)
    return Done(world.admin, "integration", STAT_VENDOR)


def do_summary_reload_requested(world: Any, ctx: Any) -> Done:
    ctx.request.getfixturevalue("stat_connection")
    _map_sales(world)
    with world.scope_a():
        first, created = summary_services.reload_work_statistics(
            company=world.firm_a, actor=world.owner, vendor=STAT_VENDOR
        )
        # A second click joins the queued job: nothing new happened.
        again, joined_new = summary_services.reload_work_statistics(
            company=world.firm_a, actor=world.owner, vendor=STAT_VENDOR
        )
    assert created and not joined_new and again.pk == first.pk
    return Done(world.owner, "integration", STAT_VENDOR)


def _issued(world: Any, ctx: Any) -> Any:
    books = setup_books(world, ctx.tmp_path)
    invoice = books.draft(LineInput(product=books.fee))
    return books, books.issue(invoice)


def do_invoice_issued(world: Any, ctx: Any) -> Done:
    books, invoice = _issued(world, ctx)
    books.issue(invoice)  # issuing again is a no-op
    return Done(world.billing, "invoice", str(invoice.public_id))


def do_invoice_exported(world: Any, ctx: Any) -> Done:
    books, invoice = _issued(world, ctx)
    assert books.export_of(invoice).state == ExportState.DONE
    return Done(None, "invoice", str(invoice.public_id))


def do_invoice_export_retried(world: Any, ctx: Any) -> Done:
    _books, invoice = _issued(world, ctx)
    with scopes_disabled():
        InvoiceExport.objects.filter(invoice=invoice).update(state=ExportState.FAILED)
    with TestCase.captureOnCommitCallbacks(execute=False), world.scope_a():
        exports.retry_export(company=world.firm_a, actor=world.admin, invoice=invoice)
        # Now queued: a second click changes nothing.
        exports.retry_export(company=world.firm_a, actor=world.admin, invoice=invoice)
    return Done(world.admin, "invoice", str(invoice.public_id))


def do_invoice_status_refreshed(world: Any, ctx: Any) -> Done:
    _issued(world, ctx)
    with TestCase.captureOnCommitCallbacks(execute=False), world.scope_a():
        job, created = statuses.request_status_refresh(company=world.firm_a, actor=world.billing)
        statuses.request_status_refresh(company=world.firm_a, actor=world.billing)  # joins it
    assert created
    return Done(world.billing, "sync_job", str(job.public_id))


def do_member_invited(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        issued = services.invite_member(
            company=world.firm_a, actor=world.admin, email="ny@fjord.no", role=Role.MEMBER
        )
    return Done(world.admin, "invitation", str(issued.invitation.public_id))


def do_member_role_changed(world: Any, ctx: Any) -> Done:
    membership = world.membership(world.accountant)
    with world.scope_a():
        services.update_membership(
            company=world.firm_a, actor=world.owner, membership=membership, role=Role.BILLING
        )
        # Only the External ID changes: no role event.
        services.update_membership(
            company=world.firm_a, actor=world.owner, membership=membership, external_id="77"
        )
    return Done(world.owner, "membership", str(membership.public_id))


def do_member_removed(world: Any, ctx: Any) -> Done:
    membership = world.membership(world.accountant)
    with world.scope_a():
        services.remove_member(company=world.firm_a, actor=world.admin, membership=membership)
    return Done(world.admin, "membership", str(membership.public_id))


def do_api_token_created(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        token, _raw = services.create_api_token(company=world.firm_a, actor=world.admin, name="ci")
    return Done(world.admin, "api_token", str(token.public_id))


def do_api_token_revoked(world: Any, ctx: Any) -> Done:
    with world.scope_a():
        token, _raw = services.create_api_token(company=world.firm_a, actor=world.admin, name="ci")
        services.revoke_api_token(company=world.firm_a, actor=world.admin, token=token)
        services.revoke_api_token(company=world.firm_a, actor=world.admin, token=token)
    return Done(world.admin, "api_token", str(token.public_id))


def do_auth_login_failed(world: Any, ctx: Any) -> Done:
    ctx.client.post(reverse("login"), {"username": "Admin@Fjord.no", "password": "not-it"})
    return Done(world.admin, "user", str(world.membership(world.admin).public_id))


def do_auth_locked_out(world: Any, ctx: Any) -> Done:
    for _ in range(ctx.settings.AXES_FAILURE_LIMIT + 3):  # attempts during the lock-out too
        ctx.client.post(reverse("login"), {"username": "admin@fjord.no", "password": "not-it"})
    return Done(world.admin, "user", str(world.membership(world.admin).public_id))


# Those whose flows need the Tripletex sandbox are in test_audit_tripletex.py.
SANDBOX_ACTIONS = {"import.confirmed"}
ACTION_CASES: dict[str, Callable[[Any, Any], Done]] = {
    action: globals()["do_" + action.replace(".", "_")]
    for action in audit.ACTIONS
    if action not in SANDBOX_ACTIONS
}


@dataclass
class Ctx:
    request: Any
    tmp_path: Path
    client: Any
    settings: Any


@pytest.mark.parametrize("action", list(ACTION_CASES))
def test_each_action_is_recorded_once_with_its_actor_and_object(
    action: str, world, request, tmp_path, client, settings
) -> None:
    done = ACTION_CASES[action](world, Ctx(request, tmp_path, client, settings))
    event = only(action)
    assert event.company_id == world.firm_a.pk
    assert event.actor == done.actor
    assert event.actor_label == (done.actor.email if done.actor else "")
    assert (event.object_type, event.object_id) == (done.object_type, done.object_id)
    assert event.object_label
    assert not events(company=world.firm_b)


def test_every_action_key_has_a_case() -> None:
    """A new action key without a test of its recording fails here."""
    assert set(ACTION_CASES) | SANDBOX_ACTIONS == set(audit.ACTIONS)


def test_the_events_say_what_changed(world, tmp_path) -> None:
    membership = world.membership(world.accountant)
    with world.scope_a():
        services.update_membership(
            company=world.firm_a, actor=world.owner, membership=membership, role=Role.ADMIN
        )
    assert only("member.role_changed").details == {"old": "member", "new": "admin"}
    assert only("member.role_changed").object_label == "member@fjord.no"
    _, invoice = _issued(world, type("C", (), {"tmp_path": tmp_path})())
    issued = only("invoice.issued")
    assert issued.details["number"] == invoice.number and issued.details["export_queued"] is True
    assert issued.details["gross_total"] == str(Decimal("5625.00"))
    exported = only("invoice.exported")
    assert exported.actor is None and exported.details["vendor"] == "fakeinvoices"
    assert exported.details["adopted"] is False


def test_a_change_that_fails_leaves_no_event(world) -> None:
    with pytest.raises(Exception, match="refused"):
        _save_fakebooks(world, key="wrong-key-000000")
    with pytest.raises(ValidationError), world.scope_a():
        services.remove_member(
            company=world.firm_a, actor=world.owner, membership=world.membership(world.owner)
        )
    assert not events(action="connection.saved")
    assert not events(action="member.removed")


def test_the_event_is_rolled_back_with_its_change(world) -> None:
    """Same transaction: when the change is undone, so is its event (and the other way round)."""
    from django.db import transaction

    with pytest.raises(RuntimeError), world.scope_a(), transaction.atomic():
        services.create_api_token(company=world.firm_a, actor=world.admin, name="gone")
        assert events(action="api_token.created")
        raise RuntimeError
    assert not events(action="api_token.created")


def test_a_failed_login_of_an_unknown_address_is_in_no_firm(world, client) -> None:
    client.post(reverse("login"), {"username": "ghost@nowhere.no", "password": "x"})
    assert not events(action="auth.login_failed")


def test_a_failed_login_is_recorded_in_every_firm_of_the_account_with_the_address(
    world, client
) -> None:
    from tests.factories import MembershipFactory

    MembershipFactory.create(company=world.firm_b, user=world.admin, role=Role.MEMBER)
    client.post(
        reverse("login"),
        {"username": "admin@fjord.no", "password": "wrong"},
        REMOTE_ADDR="10.1.2.3",
    )
    found = events(action="auth.login_failed")
    assert {e.company_id for e in found} == {world.firm_a.pk, world.firm_b.pk}
    assert {e.ip for e in found} == {"10.1.2.3"}
    assert all(e.details == {"reason": "wrong_password"} for e in found)
    assert all("wrong" not in json.dumps(e.details).replace("wrong_password", "") for e in found)


def test_a_lock_out_is_recorded_once_while_it_lasts_and_again_after(
    world, client, settings, time_machine
) -> None:
    time_machine.move_to(datetime(2026, 3, 2, 9, 0, tzinfo=OSLO), tick=False)
    for _ in range(settings.AXES_FAILURE_LIMIT + 2):
        client.post(reverse("login"), {"username": "admin@fjord.no", "password": "nope"})
    assert len(events(action="auth.locked_out")) == 1
    assert len(events(action="auth.login_failed")) == settings.AXES_FAILURE_LIMIT
    time_machine.move_to(datetime(2026, 3, 2, 10, 0, tzinfo=OSLO), tick=False)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": "admin@fjord.no", "password": "nope"})
    assert len(events(action="auth.locked_out")) == 2


def test_an_event_made_in_a_request_carries_its_address_and_one_made_elsewhere_none(
    world, api_as
) -> None:
    api = api_as(world.owner)  # the fixture's token is made outside any request
    assert only("api_token.created").ip is None
    response = api.post("/api/v1/invitations/", {"email": "x@fjord.no", "role": "member"})
    assert response.status_code == 201
    assert only("member.invited").ip == "127.0.0.1"


def test_events_are_never_changed(world) -> None:
    with world.scope_a():
        event = audit.record(company=world.firm_a, actor=world.owner, action="member.invited")
        event.action = "member.removed"
        with pytest.raises(ValueError, match="never changed"):
            event.save()


def test_an_unknown_action_or_object_type_is_refused(world) -> None:
    with world.scope_a(), pytest.raises(ValueError):
        audit.record(company=world.firm_a, actor=None, action="member.invitd")
    with world.scope_a(), pytest.raises(ValueError):
        audit.record(
            company=world.firm_a, actor=None, action="member.invited", object_type="memberr"
        )


def test_record_for_names_a_row_by_its_kind_id_and_text(world, django_assert_num_queries) -> None:
    membership = world.membership(world.accountant)
    assert membership.user.email == "member@fjord.no"  # loaded first, as the services have it
    with world.scope_a(), django_assert_num_queries(1):  # the insert only: no read of the firm
        event = audit.record_for(
            membership,
            company=world.firm_a,
            actor=world.owner,
            action="member.role_changed",
            details={"old": "member", "new": "billing"},
        )
    assert (event.company_id, event.actor, event.object_type) == (
        world.firm_a.pk,
        world.owner,
        "membership",
    )
    assert (event.object_id, event.object_label) == (str(membership.public_id), "member@fjord.no")
    assert event.details == {"old": "member", "new": "billing"}


def test_record_for_refuses_another_firms_row_and_writes_nothing(world) -> None:
    theirs = world.membership(world.outsider, world.firm_b)
    with world.scope_a(), pytest.raises(ValueError, match="not the firm's"):
        audit.record_for(theirs, company=world.firm_a, actor=world.owner, action="member.removed")
    assert not events()


def test_record_for_refuses_a_model_without_an_object_type(world) -> None:
    with world.scope_a(), pytest.raises(ValueError, match="no audit object type"):
        audit.record_for(
            world.firm_a, company=world.firm_a, actor=world.owner, action="member.invited"
        )
    assert not events()


def test_every_model_record_for_knows_is_a_model_with_a_known_object_type() -> None:
    for model, (object_type, _label) in audit.OBJECT_MODELS.items():
        assert apps.get_model(model)._meta.get_field("company")
        assert object_type in audit.OBJECT_TYPES


# --- No secret gets in ---------------------------------------------------------------------------


def test_details_drop_credential_keys_and_mask_tokens_at_every_level(world) -> None:
    raw = "uku_" + "a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8s9T0"
    with world.scope_a():
        event = audit.record(
            company=world.firm_a,
            actor=world.owner,
            action="connection.saved",
            object_label=f"label {raw}",
            details={
                "environment": "test",
                "employee_token": "canary-1",
                "api_key": "canary-2",
                "nested": {"password": "canary-3", "Authorization": "canary-4", "ok": 1},
                "list": [{"client_secret": "canary-5"}, "note " + raw],
            },
        )
    stored = json.dumps(event.details) + event.object_label
    for canary in ("canary-1", "canary-2", "canary-3", "canary-4", "canary-5", raw):
        assert canary not in stored
    assert event.details["environment"] == "test"
    assert event.details["nested"] == {"ok": 1}


# --- Who sees it --------------------------------------------------------------------------------


def _some_events(world: Any) -> None:
    with world.scope_a():
        audit.record(
            company=world.firm_a,
            actor=world.owner,
            action="member.invited",
            object_type="invitation",
            object_id="inv-1",
            object_label="ny@fjord.no",
        )


@pytest.mark.parametrize("role", ["owner", "admin"])
def test_owners_and_admins_see_the_page_and_the_api(role, world, as_user, api_as) -> None:
    _some_events(world)
    user = getattr(world, role)
    page = as_user(user).get(reverse("audit_log"))
    assert page.status_code == 200
    assert "ny@fjord.no" in page.content.decode()
    assert 'id="nav-audit-log"' in page.content.decode()
    listed = api_as(user).get("/api/v1/audit-events/", {"action": "member.invited"})
    assert listed.status_code == 200
    assert [e["object"]["label"] for e in listed.json()["results"]] == ["ny@fjord.no"]


@pytest.mark.parametrize("role", ["accountant", "billing"])
def test_members_and_billing_staff_get_403_on_page_csv_and_api(
    role, world, as_user, api_as
) -> None:
    _some_events(world)
    user = getattr(world, role)
    web = as_user(user)
    assert web.get(reverse("audit_log")).status_code == 403
    assert web.get(reverse("audit_log"), {"format": "csv"}).status_code == 403
    assert 'id="nav-audit-log"' not in web.get(reverse("home")).content.decode()
    response = api_as(user).get("/api/v1/audit-events/")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_another_firm_sees_none_of_the_firms_events(world, as_user, api_as) -> None:
    _some_events(world)
    with world.scope_a():
        events_a = list(AuditEvent.objects.filter(company=world.firm_a))
    assert events_a
    api = api_as(world.outsider)
    listed = api.get("/api/v1/audit-events/").json()["results"]
    ids = {str(e.public_id) for e in events_a}
    assert not ids & {e["id"] for e in listed}
    assert api.get("/api/v1/audit-events/", {"object_id": "inv-1"}).json()["count"] == 0
    web = as_user(world.outsider)
    assert "ny@fjord.no" not in web.get(reverse("audit_log")).content.decode()
    assert "ny@fjord.no" not in web.get(reverse("audit_log"), {"format": "csv"}).getvalue().decode()


# --- Filters, paging and the CSV --------------------------------------------------------------


@pytest.fixture
def log(world, time_machine) -> None:
    """Five events over three days by the owner, the admin and the system."""
    rows = [
        (datetime(2026, 3, 1, 9, 0), world.owner, "member.invited", "invitation", "inv-1", "ny@a.no"),
        (datetime(2026, 3, 1, 23, 30), world.admin, "api_token.created", "api_token", "t-1", "ci"),
        (datetime(2026, 3, 2, 0, 30), None, "invoice.exported", "invoice", "i-1", "2026-001"),
        (datetime(2026, 3, 2, 12, 0), world.admin, "invoice.issued", "invoice", "i-1", "2026-001"),
        (datetime(2026, 3, 3, 8, 0), world.owner, "member.removed", "membership", "m-1", "x@a.no"),
    ]  # fmt: skip
    for when, actor, action, type_, id_, label in rows:
        time_machine.move_to(when.replace(tzinfo=OSLO), tick=False)
        with world.scope_a():
            audit.record(
                company=world.firm_a,
                actor=actor,
                action=action,
                object_type=type_,
                object_id=id_,
                object_label=label,
            )


def _api_actions(api: Any, **params: str) -> list[str]:
    response = api.get("/api/v1/audit-events/", params)
    assert response["Content-Type"] == "application/json"
    assert response.status_code == 200, response.json()
    return [e["action"] for e in response.json()["results"]]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, ["member.removed", "invoice.issued", "invoice.exported", "api_token.created", "member.invited"]),
        ({"actor": "ADMIN@fjord"}, ["invoice.issued", "api_token.created"]),
        ({"actor": "system"}, ["invoice.exported"]),
        ({"action": "invoice."}, ["invoice.issued", "invoice.exported"]),
        ({"action": "member.removed"}, ["member.removed"]),
        ({"object_type": "invoice"}, ["invoice.issued", "invoice.exported"]),
        ({"object_id": "t-1"}, ["api_token.created"]),
        # Days in Oslo: 23:30 on the 1st is the 1st, 00:30 on the 2nd is the 2nd.
        ({"date_from": "2026-03-02"}, ["member.removed", "invoice.issued", "invoice.exported"]),
        ({"date_to": "2026-03-01"}, ["api_token.created", "member.invited"]),
        ({"date_from": "2026-03-02", "date_to": "2026-03-02"}, ["invoice.issued", "invoice.exported"]),
        ({"actor": "admin", "action": "invoice.", "object_id": "i-1"}, ["invoice.issued"]),
    ],
)  # fmt: skip
def test_the_api_filters(params, expected, world, log, as_user) -> None:
    # Logged in by session (a token made for the test would be an event of its own).
    assert _api_actions(as_user(world.owner), **params) == expected


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"date_from": "2026-13-01"}, "date_from"),
        ({"date_from": "2026-03-03", "date_to": "2026-03-01"}, "date_to"),
        ({"object_type": "spaceship"}, "object_type"),
        ({"action": "member.exploded"}, "action"),
    ],
)
def test_the_api_refuses_a_bad_filter_in_the_error_shape(params, field, world, api_as) -> None:
    response = api_as(world.owner).get("/api/v1/audit-events/", params)
    assert response.status_code == 400
    assert response.json()["code"] == "invalid" and field in response.json()["fields"]


def test_the_api_pages(world, api_as) -> None:
    api = api_as(world.owner)
    with world.scope_a():
        for n in range(7):
            audit.record(
                company=world.firm_a, actor=world.owner, action="member.invited", object_id=str(n)
            )
    first = api.get("/api/v1/audit-events/", {"action": "member.invited", "page_size": 5}).json()
    assert first["count"] == 7 and len(first["results"]) == 5 and first["next"]
    assert [e["object"]["id"] for e in first["results"]] == ["6", "5", "4", "3", "2"]
    second = api.get(first["next"]).json()
    assert [e["object"]["id"] for e in second["results"]] == ["1", "0"]
    assert set(second["results"][0]) == {
        "id", "created_at", "actor", "action", "action_label", "object", "details", "ip",
    }  # fmt: skip


def test_the_page_filters(world, log, as_user) -> None:
    web = as_user(world.admin)
    page = web.get(reverse("audit_log"), {"actor": "system"}).content.decode()
    assert 'data-action="invoice.exported"' in page
    assert 'data-action="invoice.issued"' not in page
    page = web.get(
        reverse("audit_log"), {"object": "2026-001", "date_from": "2026-03-02"}
    ).content.decode()
    assert page.count("data-action=") == 2
    page = web.get(reverse("audit_log"), {"object_type": "membership"}).content.decode()
    assert page.count("data-action=") == 1 and "x@a.no" in page
    page = web.get(
        reverse("audit_log"), {"date_from": "2026-03-03", "date_to": "2026-03-01"}
    ).content.decode()
    assert "The end date is before the start date." in page
    assert page.count("data-action=") == 0


def test_the_page_pages(world, as_user) -> None:
    with world.scope_a():
        for n in range(55):
            audit.record(
                company=world.firm_a, actor=world.owner, action="member.invited", object_id=str(n)
            )
    web = as_user(world.admin)
    first = web.get(reverse("audit_log"), {"action": "member.invited"}).content.decode()
    assert first.count("data-action=") == 50 and "Page 1 of 2" in first
    assert "action=member.invited&amp;page=2" in first
    second = web.get(reverse("audit_log"), {"action": "member.invited", "page": 2})
    assert second.content.decode().count("data-action=") == 5


def test_the_csv_has_every_filtered_event_not_one_page(world, as_user) -> None:
    with world.scope_a():
        for n in range(1203):
            audit.record(
                company=world.firm_a,
                actor=world.owner if n % 2 else None,
                action="invoice.issued",
                object_type="invoice",
                object_id=f"i-{n}",
                object_label='=HYPERLINK("x")' if n == 0 else f"2026-{n:04d}",
                details={"number": n},
            )
        audit.record(company=world.firm_a, actor=world.owner, action="member.invited")
    response = as_user(world.admin).get(
        reverse("audit_log"), {"action": "invoice.issued", "format": "csv"}
    )
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(response.getvalue().decode())))
    assert rows[0][:4] == ["Time", "Actor", "Action", "Action key"]
    body = rows[1:]
    assert len(body) == 1203
    assert len({row[5] for row in body}) == 1203  # no event twice across the chunks
    assert {row[3] for row in body} == {"invoice.issued"}
    assert {row[1] for row in body} == {"owner@fjord.no", "System"}
    assert body[-1][6] == '\'=HYPERLINK("x")'  # oldest last; a formula is defused
    assert body[0][7] == "number: 1202"


def test_the_page_is_in_norwegian(world, log, as_user) -> None:
    web = as_user(world.admin)
    web.cookies.load({"django_language": "nb"})
    page = web.get(reverse("audit_log"), HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Revisjonslogg" in page
    assert "Faktura utstedt" in page and "Systemet" in page


def test_the_schema_documents_the_audit_operation_and_each_parameter(db, client) -> None:
    schema = client.get("/api/schema/?format=json").json()
    operation = schema["paths"]["/api/v1/audit-events/"]["get"]
    params = {p["name"]: p for p in operation["parameters"]}
    assert set(params) >= {
        "actor", "action", "object_type", "object_id", "date_from", "date_to", "page", "page_size",
    }  # fmt: skip
    assert all(p.get("description") for p in params.values())
    assert params["date_from"]["schema"]["format"] == "date"
    assert {"200", "400", "401", "403"} <= set(operation["responses"])
    assert "/api/v1/audit-events/{id}/" not in schema["paths"]


def test_an_event_outlives_its_actors_account(world) -> None:
    with world.scope_a():
        token, _raw = services.create_api_token(
            company=world.firm_a, actor=world.accountant, name="ci"
        )
    world.accountant.delete()
    event = only("api_token.created")
    assert event.actor is None and event.actor_label == "member@fjord.no"
    assert event.object_id == str(token.public_id)


@pytest.mark.parametrize(("language", "shown"), [("nb", "01.11.2026"), ("en", "01/11/2026")])
def test_the_date_filters_follow_the_language(world, log, as_user, language, shown) -> None:
    web = as_user(world.admin)
    web.cookies.load({"django_language": language})
    page = web.get(
        reverse("audit_log"), {"date_from": shown}, HTTP_ACCEPT_LANGUAGE=language
    ).content.decode()
    # A native date picker follows the browser's locale, not the page's language.
    assert 'type="date"' not in page
    date_from = page.split('id="id_date_from"')[0].rsplit("<input", 1)[1]
    assert f'value="{shown}"' in date_from and "is-invalid" not in date_from
