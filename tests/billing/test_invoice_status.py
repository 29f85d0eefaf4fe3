"""Invoice status and numbers read back from the accounting system (the fake vendor of
tests/fakeinvoices): paid, partly paid, credited, not invoiced yet, numbers assigned later,
history, running twice, the daily schedule in the firm's time zone, and a firm whose token
expired while the others run."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from django.test import TestCase
from django.urls import reverse
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from billing import statuses
from billing.models import BillingSettings, Invoice, InvoiceEvent
from integrations.models import ConnectionStatus, SyncJob
from tests.billing.invoicing import setup_books


@pytest.fixture
def books(world, tmp_path):
    return setup_books(world, tmp_path)


def _refresh(world, ids=None):
    with TestCase.captureOnCommitCallbacks(execute=True), world.scope_a():
        job, _created = statuses.request_status_refresh(
            company=world.firm_a, actor=world.billing, ids=ids
        )
    job.refresh_from_db()
    return job


def _issued(books, count):
    made = [books.issue(books.draft()) for _n in range(count)]
    return made, [books.export_of(i).remote_id for i in made]


def test_it_reads_paid_partly_paid_credited_and_not_invoiced(books, world) -> None:
    (paid, partly, credited, waiting), remote = _issued(books, 4)
    books.store.set_status(remote[0], state="paid", invoice_number="10001", outstanding="0")
    books.store.set_status(remote[1], state="unpaid", invoice_number="10002", outstanding="1200.50")
    books.store.set_status(remote[2], state="credited", invoice_number="10003", outstanding="0")
    job = _refresh(world)
    assert job.status == "succeeded", job.error
    assert (job.counts["updated"], job.counts["unchanged"], job.counts["not_found"]) == (4, 0, 0)
    assert books.store.calls("statuses") == 1  # one call for every invoice
    for invoice in (paid, partly, credited, waiting):
        invoice.refresh_from_db()
    assert [i.status for i in (paid, partly, credited, waiting)] == [
        "paid",
        "unpaid",
        "credited",
        "issued",
    ]
    assert partly.outstanding_amount == Decimal("1200.50")
    assert books.export_of(partly).remote_invoice_number == "10002"
    assert books.export_of(waiting).remote_state == "not_invoiced"
    with scopes_disabled():
        history = list(InvoiceEvent.objects.filter(invoice=partly, source="manual"))
    assert {e.kind for e in history} == {"status", "number", "outstanding"}


def test_running_twice_changes_nothing(books, world) -> None:
    _invoices, remote = _issued(books, 2)
    books.store.set_status(remote[0], state="paid", invoice_number="10001", outstanding="0")
    _refresh(world)
    with scopes_disabled():
        events = InvoiceEvent.objects.count()
    again = _refresh(world)
    # The paid invoice is no longer open; the other is unchanged.
    assert (again.counts["updated"], again.counts["unchanged"]) == (0, 1)
    with scopes_disabled():
        assert InvoiceEvent.objects.count() == events


def test_a_number_assigned_later_becomes_the_number_shown(books, world, as_user) -> None:
    (invoice,), remote = _issued(books, 1)
    books.store.set_status(remote[0], state="unpaid", outstanding="100")
    _refresh(world)
    assert books.export_of(invoice).remote_invoice_number == ""
    books.store.set_status(remote[0], state="unpaid", invoice_number="20555", outstanding="100")
    assert _refresh(world).counts["updated"] == 1
    page = as_user(world.billing).get(reverse("invoice_list")).content.decode()
    assert ">20555</a>" in page and f"(uku {invoice.number})" in page
    detail = as_user(world.billing).get(reverse("invoice_detail", args=[invoice.public_id]))
    assert "NOK\xa0100.00 outstanding" in detail.content.decode()


def test_a_manual_update_of_selected_invoices_counts_not_found(books, world) -> None:
    (one, two, three), remote = _issued(books, 3)
    books.store.set_status(remote[0], state="paid", outstanding="0")
    with books.store.state() as data:  # the vendor lost the third
        data["objects"] = [o for o in data["objects"] if o["id"] != remote[2]]
    job = _refresh(world, ids=[str(one.public_id), str(three.public_id)])
    assert (job.counts["updated"], job.counts["unchanged"], job.counts["not_found"]) == (1, 0, 1)
    two.refresh_from_db()
    assert two.status == "issued" and books.export_of(two).status_checked_at is None


def test_the_page_updates_two_selected_invoices(books, world, as_user) -> None:
    (one, two), remote = _issued(books, 2)
    books.store.set_status(remote[0], state="paid", invoice_number="30001", outstanding="0")
    books.store.set_status(remote[1], state="unpaid", invoice_number="30002", outstanding="99.90")
    client = as_user(world.billing)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = client.post(
            reverse("invoice_refresh_status"), {"selected": [one.public_id, two.public_id]}
        )
    assert response.status_code == 302 and "?job=" in response.url
    page = client.get(response.url).content.decode()
    assert "2 updated, 0 unchanged, 0 not found" in page
    assert "Paid" in page and "NOK\xa099.90 outstanding" in page


def test_the_api_starts_a_refresh_and_refuses_another_firms_id(books, world, api_as) -> None:
    (invoice,), remote = _issued(books, 1)
    books.store.set_status(remote[0], state="paid", outstanding="0")
    api = api_as(world.billing)
    with TestCase.captureOnCommitCallbacks(execute=True):
        response = api.post(
            "/api/v1/billing/invoices/refresh-status",
            {"ids": [str(invoice.public_id)]},
            format="json",
        )
    assert response.status_code == 202 and response.json()["kind"] == "invoice_status"
    detail = api.get(f"/api/v1/billing/invoices/{invoice.public_id}/").json()
    assert detail["status"] == "paid" and detail["outstanding_amount"] == "0.00"
    assert any(e["kind"] == "status" and e["source"] == "manual" for e in detail["history"])
    with scope(company=world.firm_b):
        from clients.models import Client

        other_client = Client.objects.create(company=world.firm_b, name="B AS")
        other = Invoice.objects.create(
            company=world.firm_b, client=other_client, issue_date=timezone.localdate(),
            due_date=timezone.localdate(),
        )  # fmt: skip
    refused = api.post(
        "/api/v1/billing/invoices/refresh-status", {"ids": [str(other.public_id)]}, format="json"
    )
    assert refused.status_code == 400 and "ids" in refused.json()["fields"]


@pytest.mark.parametrize(
    ("zone", "utc", "due"),
    [
        ("Europe/Oslo", datetime(2026, 12, 2, 4, 59, tzinfo=UTC), False),  # 05:59 in Oslo
        ("Europe/Oslo", datetime(2026, 12, 2, 5, 0, tzinfo=UTC), True),  # 06:00 in Oslo
        ("Europe/Tallinn", datetime(2026, 12, 2, 3, 59, tzinfo=UTC), False),  # 05:59 in Tallinn
        ("Europe/Tallinn", datetime(2026, 12, 2, 4, 0, tzinfo=UTC), True),
        ("Europe/Oslo", datetime(2026, 6, 2, 4, 0, tzinfo=UTC), True),  # summer time: 06:00
    ],
)
def test_the_daily_check_is_due_at_the_firms_hour_in_its_time_zone(
    books, world, zone, utc, due
) -> None:
    with world.scope_a():
        BillingSettings.objects.filter(company=world.firm_a).update(time_zone=zone)
    assert bool(statuses.due_daily_checks(utc)) is due


def test_the_daily_check_runs_once_per_local_day(books, world) -> None:
    (invoice,), remote = _issued(books, 1)
    books.store.set_status(remote[0], state="paid", outstanding="0")
    at = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert statuses.start_daily_checks(at) == 1
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert statuses.start_daily_checks(at) == 0
    invoice.refresh_from_db()
    assert invoice.status == "paid"
    with scopes_disabled():
        [job] = SyncJob.objects.filter(kind="invoice_status")
        assert job.scope == "daily:2026-12-02" and job.counts["source"] == "daily"
        assert InvoiceEvent.objects.filter(invoice=invoice, source="daily", kind="status").exists()
    with world.scope_a():
        BillingSettings.objects.filter(company=world.firm_a).update(check_status_daily=False)
    assert statuses.due_daily_checks(datetime(2026, 12, 3, 6, 0, tzinfo=UTC)) == []


def test_an_expired_token_in_one_firm_is_reported_while_the_other_runs(
    books, world, tmp_path
) -> None:
    from billing import services
    from integrations import crypto
    from integrations.models import IntegrationConnection, IntegrationCredential
    from tests.fakeinvoices.store import FakeStore

    (invoice,), remote = _issued(books, 1)
    books.store.set_status(remote[0], state="paid", outstanding="0")
    store_b = FakeStore(tmp_path / "firm-b.json")
    store_b.add_faults("statuses", "auth")
    with scope(company=world.firm_b):
        services.activate_billing(company=world.firm_b, actor=world.outsider, vendor="fakeinvoices")
        connection = IntegrationConnection.objects.create(
            company=world.firm_b, vendor="fakeinvoices", enabled=True, environment="production",
            status=ConnectionStatus.CONNECTED,
        )  # fmt: skip
        IntegrationCredential.objects.create(
            connection=connection, company=world.firm_b, environment="production",
            secret_encrypted=crypto.encrypt(json.dumps({"api_key": "x", "store": str(store_b.path)})),
            last4="xxxx", set_at=timezone.now(),
        )  # fmt: skip
    # Firm B has an exported invoice too, so its job calls the vendor.
    with scope(company=world.firm_b):
        from billing.models import ExportState, InvoiceExport
        from clients.models import Client

        client_b = Client.objects.create(company=world.firm_b, name="B AS")
        invoice_b = Invoice.objects.create(
            company=world.firm_b, client=client_b, number="B1", status="issued",
            issue_date=timezone.localdate(), due_date=timezone.localdate(),
        )  # fmt: skip
        InvoiceExport.objects.create(
            company=world.firm_b, invoice=invoice_b, vendor="fakeinvoices",
            state=ExportState.DONE, remote_id="1",
        )  # fmt: skip
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert statuses.start_daily_checks(datetime(2026, 12, 2, 6, 0, tzinfo=UTC)) == 2
    with scopes_disabled():
        job_b = SyncJob.objects.get(company=world.firm_b, kind="invoice_status")
        job_a = SyncJob.objects.get(company=world.firm_a, kind="invoice_status")
        connection.refresh_from_db()
    assert job_b.status == "failed" and "expired" in job_b.error
    assert connection.status == ConnectionStatus.ERROR
    from integrations.models import Notification

    with scopes_disabled():  # firm B's owner is told; firm A's people are not
        told = set(
            Notification.objects.filter(level="error").values_list("recipient__email", flat=True)
        )
    assert "owner@bergen.no" in told and not any(e.endswith("@fjord.no") for e in told)
    assert job_a.status == "succeeded"
    invoice.refresh_from_db()
    assert invoice.status == "paid"
