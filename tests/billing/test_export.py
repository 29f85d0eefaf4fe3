"""Issuing queues one export, and every way an export can go wrong still ends with exactly one
invoice in the accounting system (the fake vendor of tests/fakeinvoices, which can apply a write
and lose the answer)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django_scopes import scopes_disabled

from billing import exports
from billing.models import ExportState, InvoiceEvent, InvoiceExport
from tests.billing.invoicing import VENDOR, setup_books


@pytest.fixture
def books(world, tmp_path):
    return setup_books(world, tmp_path)


def test_it_exports_an_issued_invoice_once_with_its_lines(books, world) -> None:
    world.membership(world.billing).__class__.objects  # noqa: B018
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    assert export.state == ExportState.DONE
    [remote] = books.store.objects
    assert (remote["reference"], remote["customer_id"]) == (invoice.number, "C-77")
    assert export.remote_id == remote["id"] and export.remote_number == remote["number"]
    assert [line["description"] for line in remote["lines"]] == [
        "Månedlig regnskapsføring",
        "Rådgivning per time",
    ]
    assert remote["lines"][1]["net"] == "3126.25"
    assert remote["gross"] == str(invoice.gross_total)


def test_it_makes_one_remote_object_after_a_double_issue(books) -> None:
    draft = books.draft()
    first = books.issue(draft)
    second = books.issue(draft)
    assert first.number == second.number
    with scopes_disabled():
        assert InvoiceExport.objects.filter(invoice=draft).count() == 1
    assert len(books.store.objects) == 1


def test_it_makes_one_remote_object_when_the_task_runs_twice(books) -> None:
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    assert books.run(export) == "skipped"
    assert books.run(export) == "skipped"
    assert len(books.store.objects) == 1
    assert books.store.calls("export") == 1


@pytest.mark.parametrize("fault", ["lost_response", "dropped", "html_503"])
def test_it_adopts_the_object_a_write_made_when_the_answer_was_lost(books, fault) -> None:
    books.store.add_faults("export", fault)
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    # The retry looked the invoice up first and adopted it instead of creating a second one.
    assert export.state == ExportState.DONE, export.last_error
    assert len(books.store.objects) == 1
    assert books.store.calls("export") == 1 and books.store.calls("find") == 1
    assert export.remote_id == books.store.objects[0]["id"]
    with scopes_disabled():
        assert InvoiceEvent.objects.filter(invoice=invoice, text__contains="interrupted").exists()


def test_it_does_not_look_up_before_retrying_a_refusal_that_wrote_nothing(books) -> None:
    books.store.add_faults("export", "429", "429", "timeout_before")
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    assert export.state == ExportState.DONE
    assert export.attempts == 4
    assert books.store.calls("find") == 0
    assert len(books.store.objects) == 1


def test_a_429_storm_ends_in_a_visible_failure_and_retry_then_exports_once(books, world) -> None:
    books.store.add_faults("export", *["429"] * 6)
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    assert export.state == ExportState.FAILED
    assert "Gave up after 6 attempts" in export.last_error
    assert books.store.objects == []
    with world.scope_a():
        exports.retry_export(company=world.firm_a, actor=world.billing, invoice=invoice)
    export.refresh_from_db()
    assert export.state == ExportState.PENDING
    assert books.run(export) == "done"
    assert len(books.store.objects) == 1


def test_it_adopts_after_a_lost_answer_even_when_the_lookup_first_times_out(books) -> None:
    books.store.add_faults("export", "lost_response")
    books.store.add_faults("find", "timeout_before")
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    assert export.state == ExportState.DONE
    assert books.store.calls("find") == 2
    assert len(books.store.objects) == 1


@pytest.mark.parametrize(
    ("fault", "fix"),
    [("vat_type", "vat_type"), ("bank_account", "bank_account"), ("validation", "validation")],
)
def test_a_permanent_refusal_fails_at_once_with_the_fix(books, world, fault, fix) -> None:
    books.store.add_faults("export", fault)
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    assert (export.state, export.error_fix, export.attempts) == (ExportState.FAILED, fix, 1)
    with world.scope_a():
        shown = exports.export_display(export)
    assert shown["action"] == "retry" and shown["text"].startswith("Failed: ")
    assert shown["fix_url"]


def test_an_unlinked_client_waits_and_retry_after_linking_exports(books, world) -> None:
    from clients.models import Client, ExternalLink

    with world.scope_a():
        other = Client.objects.create(company=world.firm_a, name="Uten Lenke AS")
    invoice = books.issue(books.draft(client=other))
    export = books.export_of(invoice)
    assert export.state == ExportState.WAITING
    with world.scope_a():
        shown = exports.export_display(export)
        assert shown["text"] == "Waiting: client not linked" and shown["action"] == "link"
        ExternalLink.objects.create(
            company=world.firm_a, client=other, vendor=VENDOR, remote_id="C-9"
        )
        exports.retry_export(company=world.firm_a, actor=world.billing, invoice=invoice)
    assert books.run(books.export_of(invoice)) == "done"
    assert [o["customer_id"] for o in books.store.objects] == ["C-9"]


def test_the_contact_employee_is_the_responsible_members_external_id(books, world) -> None:
    membership = world.membership(world.accountant)
    with world.scope_a():
        membership.external_id = "E-42"
        membership.save()
    invoice = books.issue(books.draft(responsible=world.accountant))
    assert books.store.objects[0]["employee"] == "E-42"
    assert books.export_of(invoice).warnings == []


def test_a_member_without_external_id_is_left_out_with_a_warning(books, world) -> None:
    invoice = books.issue(books.draft(responsible=world.accountant))
    assert books.store.objects[0]["employee"] == ""
    [warning] = books.export_of(invoice).warnings
    assert "has no External ID" in warning


def test_the_sweeper_requeues_an_export_stuck_in_flight_and_it_adopts(books, settings) -> None:
    from datetime import timedelta

    from django.utils import timezone

    books.store.add_faults("export", "lost_response")
    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    # Pretend the worker died mid-call: in flight, outcome unknown, long ago.
    with scopes_disabled():
        InvoiceExport.objects.filter(pk=export.pk).update(
            state=ExportState.IN_FLIGHT,
            outcome_unknown=True,
            claimed_at=timezone.now()
            - timedelta(seconds=settings.UKU_INVOICE_EXPORT_STALL_SECONDS + 1),
            remote_id="",
        )
    from django.test import TestCase

    with TestCase.captureOnCommitCallbacks(execute=True):
        assert exports.sweep_exports() == 1
    export.refresh_from_db()
    assert export.state == ExportState.DONE
    assert len(books.store.objects) == 1


def test_the_sweeper_leaves_a_live_export_alone(books) -> None:
    from django.utils import timezone

    invoice = books.issue(books.draft())
    export = books.export_of(invoice)
    with scopes_disabled():
        InvoiceExport.objects.filter(pk=export.pk).update(
            state=ExportState.IN_FLIGHT, claimed_at=timezone.now()
        )
    assert exports.sweep_exports() == 0


def test_two_workers_claim_one_row_once(books) -> None:
    """The claim is a locked, conditional update: the second claimant gets nothing."""
    from billing.exports import _claim

    with scopes_disabled():
        invoice = books.draft()
    books.store.add_faults("export", "429")
    issued = books.issue(invoice)
    export = books.export_of(issued)
    assert export.state == ExportState.DONE
    with scopes_disabled():
        InvoiceExport.objects.filter(pk=export.pk).update(state=ExportState.PENDING)
        assert _claim(export.pk, eager=True) is not None
        assert _claim(export.pk, eager=True) is None


def test_no_export_when_billing_does_not_export(books, world) -> None:
    from billing.models import BillingSettings

    with world.scope_a():
        BillingSettings.objects.filter(company=world.firm_a).update(export_invoices=False)
    invoice = books.issue(books.draft())
    with scopes_disabled():
        assert not InvoiceExport.objects.filter(invoice=invoice).exists()
    assert invoice.gross_total > Decimal(0)
