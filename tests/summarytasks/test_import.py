"""Importing one client-month, the monthly fan-out, and reloads, against Statbooks."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
import time_machine
from django.core.exceptions import PermissionDenied
from django_scopes import scopes_disabled

from clients.models import BooksState, Client, ExternalLink
from integrations import services as integration_services
from integrations.models import ConnectionStatus, Notification, SyncJob, SyncJobStatus
from summarytasks import services, tasks
from summarytasks.models import (
    ImportState,
    MonthlyImport,
    ReloadPart,
    SummaryTask,
    SummaryTaskValue,
)
from tests.statbooks import adapter as statbooks
from tests.summarytasks.conftest import VENDOR, books, run_jobs
from uku.celery import app as celery_app

MARCH = date(2024, 3, 1)


def scopes_off_link_ids() -> list[int]:
    with scopes_disabled():
        return list(ExternalLink.objects.filter(vendor=VENDOR).values_list("client_id", flat=True))


def _connection(world):
    found = services.connected(world.firm_a, VENDOR)
    assert found is not None
    return found


def _import(world, client, period=MARCH, **kwargs):
    with world.scope_a():
        connection = _connection(world)
        adapter = integration_services.adapter_for(connection)
        return services.import_client_month(
            company=world.firm_a,
            client=client,
            vendor=VENDOR,
            period=period,
            adapter=adapter,
            **kwargs,
        )


def _values(world, client, period=MARCH):
    with world.scope_a():
        return {
            v.field.name: v
            for v in SummaryTaskValue.objects.filter(
                task__client=client, task__period=period
            ).select_related("field")
        }


def test_an_import_run_twice_gives_one_task_and_the_same_values(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales", bank_transactions="Bank")
    books("c1", MARCH, sale_entries=41, bank_transactions=7)
    first = _import(world, client)
    values = {k: (v.number, v.imported_at) for k, v in _values(world, client).items()}
    second = _import(world, client)
    with world.scope_a():
        assert SummaryTask.objects.filter(client=client).count() == 1
        assert SummaryTaskValue.objects.filter(task__client=client).count() == 2
    assert first.task.pk == second.task.pk
    again = _values(world, client)
    assert {k: v.number for k, v in again.items()} == {"Sales": 41, "Bank": 7}
    assert {k: v[0] for k, v in values.items()} == {"Sales": 41, "Bank": 7}
    assert again["Sales"].source_vendor == VENDOR
    assert again["Sales"].statistic_key == "sale_entries"


def test_an_unmapped_statistic_is_not_imported_and_its_source_not_read(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales", documents="Documents")
    books("c1", MARCH, sale_entries=3, documents=2, bank_transactions=99, travel_expenses=4)
    _import(world, client)
    assert set(_values(world, client)) == {"Sales", "Documents"}
    # Two statistics of one source: one pass over it; /bank and /travel were never read.
    assert statbooks.READS == [("c1", MARCH, "/voucher")]


def test_a_missing_statistic_is_kept_as_missing_with_its_reason(world, linked, mapped, api_as):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales", bank_transactions="Bank")
    books("c1", MARCH, sale_entries=5)
    statbooks.REFUSED["/bank"] = "Statbooks refused /bank: the access does not include bank."
    _import(world, client)
    values = _values(world, client)
    assert values["Bank"].number is None and values["Bank"].missing
    assert values["Bank"].missing_reason.startswith("Statbooks refused /bank")
    assert values["Sales"].number == 5
    listed = api_as(world.accountant).get(
        f"/api/v1/summary-tasks/?period=2024-03&client={client.public_id}"
    )
    assert listed.status_code == 200, listed.content
    (task,) = listed.json()["results"]
    bank = next(v for v in task["values"] if v["field_name"] == "Bank")
    assert bank["value"] is None
    assert bank["missing_reason"].startswith("Statbooks refused /bank")


def test_the_month_view_shows_a_missing_value_with_its_reason(world, linked, mapped, as_user):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(bank_transactions="Bank")
    statbooks.REFUSED["/bank"] = "Statbooks refused /bank."
    _import(world, client)
    page = as_user(world.accountant).get("/summary-tasks/?period=2024-03").content.decode()
    assert 'title="Statbooks refused /bank.">missing' in page


def test_a_value_typed_by_hand_is_kept_by_the_monthly_import(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    fields = mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=10)
    result = _import(world, client)
    with world.scope_a():
        services.set_task_value(
            company=world.firm_a,
            actor=world.accountant,
            task=result.task,
            field=fields["sale_entries"],
            raw="12",
        )
    books("c1", MARCH, sale_entries=11)
    again = _import(world, client)
    assert again.kept == 1
    value = _values(world, client)["Sales"]
    assert value.number == 12 and value.typed_by_hand and value.typed_by == world.accountant


def test_billing_staff_cannot_type_values(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    fields = mapped(sale_entries="Sales")
    result = _import(world, client)
    with world.scope_a(), pytest.raises(PermissionDenied):
        services.set_task_value(
            company=world.firm_a,
            actor=world.billing,
            task=result.task,
            field=fields["sale_entries"],
            raw="1",
        )


def test_the_task_title_fills_in_month_and_client(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a():
        services.save_summary_settings(
            company=world.firm_a,
            actor=world.admin,
            vendor=VENDOR,
            task_title="Close {month} for {client} {x}",
            topic="Monthly close",
            import_day="5",
        )
    task = _import(world, client).task
    assert task.title == "Close March 2024 for Fjord Bakeri AS {x}"
    assert task.topic is not None and task.topic.name == "Monthly close"


# --- The monthly fan-out --------------------------------------------------------------------------


@time_machine.travel("2024-03-27T08:00:00Z", tick=False)
def test_the_fan_out_imports_each_linked_client_once_on_the_import_day(world, linked, mapped):
    a = linked("Fjord Bakeri AS", "c1")
    b = linked("Nord Fisk AS", "c2")
    with world.scope_a():
        unlinked = Client.objects.create(company=world.firm_a, name="Ulenket AS")
    mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=4)
    books("c2", MARCH, sale_entries=6)
    first = run_jobs(tasks.schedule_monthly_imports)
    assert first == {"enqueued": 2, "unlinked": 1}
    with world.scope_a():
        states = dict(MonthlyImport.objects.values_list("client_id", "state"))
        assert states == {a.pk: ImportState.DONE, b.pk: ImportState.DONE}
        assert not SummaryTask.objects.filter(client=unlinked).exists()
    # The next hour finds nothing left to do.
    assert run_jobs(tasks.schedule_monthly_imports) == {"enqueued": 0, "unlinked": 1}
    assert _values(world, b)["Sales"].number == 6


@time_machine.travel("2024-03-27T08:00:00Z", tick=False)
def test_the_fan_out_queues_a_firms_clients_through_one_broker_connection(
    world, linked, mapped, monkeypatch
):
    """Issue 15: a firm of thousands of clients is queued in one pass: every message goes
    through the same producer, not a connection checkout each."""
    for n in range(3):
        linked(f"Kunde {n} AS", f"c{n}")
    mapped(sale_entries="Sales")
    sent: list[tuple[tuple, object]] = []
    monkeypatch.setattr(
        tasks.import_client_statistics,
        "apply_async",
        lambda args, producer=None, **_kw: sent.append((tuple(args), producer)),
    )
    run_jobs(tasks.schedule_monthly_imports)
    assert sorted(args[1] for args, _p in sent) == sorted(scopes_off_link_ids())
    producers = {id(p) for _args, p in sent}
    assert len(sent) == 3 and len(producers) == 1 and sent[0][1] is not None


@time_machine.travel("2024-03-27T08:00:00Z", tick=False)
def test_the_fan_out_messages_are_those_celery_would_make(world, linked, mapped):
    """The fan-out hands Celery each message's display form (`argsrepr`) ready made, to save
    its per-message `saferepr`: the messages on the broker are the same as without (the
    arguments, and the display form Celery itself would have made of them)."""
    from celery.signals import before_task_publish
    from celery.utils.saferepr import saferepr

    for n in range(3):
        linked(f"Kunde {n} AS", f"c{n}")
    mapped(sale_entries="Sales")
    seen: list[tuple[tuple, dict]] = []

    def spy(sender=None, body=None, headers=None, **_kw):
        seen.append((tuple(body[0]), dict(headers or {})))

    conf = celery_app.conf
    eager, broker = conf.task_always_eager, conf.broker_url
    conf.task_always_eager, conf.broker_url = False, "memory://"  # on a broker, not run inline
    before_task_publish.connect(spy, weak=False)
    try:
        run_jobs(tasks.schedule_monthly_imports)
    finally:
        before_task_publish.disconnect(spy)
        conf.task_always_eager, conf.broker_url = eager, broker
    assert sorted(args[1] for args, _h in seen) == sorted(scopes_off_link_ids())
    for args, headers in seen:
        assert args == (world.firm_a.pk, args[1], VENDOR, "2024-03-01")
        assert headers["argsrepr"] == saferepr(args) and headers["kwargsrepr"] == saferepr({})
        assert headers["task"] == tasks.import_client_statistics.name


@time_machine.travel("2024-03-28T08:00:00Z", tick=False)
def test_the_fan_out_does_nothing_once_the_due_month_is_imported(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a():
        MonthlyImport.objects.create(
            company=world.firm_a, client=client, vendor=VENDOR, period=MARCH, state="done"
        )
    assert run_jobs(tasks.schedule_monthly_imports) == {"enqueued": 0, "unlinked": 0}
    assert statbooks.READS == []


def test_a_missed_import_day_is_caught_up_by_the_next_run(world, linked, mapped, time_machine):
    """The beat did not run on 27 March 2024 (the last work day before Easter): the next run,
    on any day up to April's import day, still imports March for the clients not imported, once;
    on April's import day April is due and March is not enqueued again."""
    a = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=4)
    time_machine.move_to("2024-03-28T09:00:00Z", tick=False)  # Maundy Thursday, the day after
    assert run_jobs(tasks.schedule_monthly_imports) == {"enqueued": 1, "unlinked": 0}
    assert _values(world, a)["Sales"].number == 4
    assert run_jobs(tasks.schedule_monthly_imports)["enqueued"] == 0  # idempotent
    # A client linked after the day is caught up too, a week into April.
    b = linked("Nord Fisk AS", "c2")
    books("c2", MARCH, sale_entries=6)
    time_machine.move_to("2024-04-08T09:00:00Z", tick=False)
    assert run_jobs(tasks.schedule_monthly_imports) == {"enqueued": 1, "unlinked": 0}
    assert _values(world, b)["Sales"].number == 6
    with world.scope_a():
        assert SummaryTask.objects.filter(client__in=[a, b], period=MARCH).count() == 2
    # April's import day (Tuesday 30 April): April is due now, March stays done.
    statbooks.READS.clear()
    time_machine.move_to("2024-04-30T09:00:00Z", tick=False)
    assert run_jobs(tasks.schedule_monthly_imports) == {"enqueued": 2, "unlinked": 0}
    with world.scope_a():
        periods = set(MonthlyImport.objects.values_list("period", flat=True))
    assert periods == {MARCH, date(2024, 4, 1)}


def test_a_missed_day_n_import_is_caught_up_until_the_next_months_day(
    world, linked, mapped, time_machine
):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=3)
    with world.scope_a():
        services.save_summary_settings(
            company=world.firm_a,
            actor=world.admin,
            vendor=VENDOR,
            task_title="{month}",
            import_day="5",
        )
    # Before 5 April nothing new is due for March (February's day has passed: it is caught up).
    time_machine.move_to("2024-04-04T09:00:00Z", tick=False)
    with world.scope_a():
        due = tasks.due_imports(world.firm_a)
    assert [d["period"] for d in due] == [date(2024, 2, 1)]
    # 5 April was missed; on the 20th March is imported.
    time_machine.move_to("2024-04-20T09:00:00Z", tick=False)
    assert run_jobs(tasks.schedule_monthly_imports) == {"enqueued": 1, "unlinked": 0}
    assert _values(world, client)["Sales"].number == 3
    assert run_jobs(tasks.schedule_monthly_imports)["enqueued"] == 0


@time_machine.travel("2024-03-27T08:00:00Z", tick=False)
def test_a_client_without_books_access_is_reported_not_failed(world, linked, mapped):
    a = linked("Fjord Bakeri AS", "c1")
    b = linked("Nord Fisk AS", "c2")
    mapped(sale_entries="Sales")
    statbooks.NO_BOOKS.add("c1")
    books("c2", MARCH, sale_entries=6)
    run_jobs(tasks.schedule_monthly_imports)
    with world.scope_a():
        skipped = MonthlyImport.objects.get(client=a)
        assert skipped.state == ImportState.SKIPPED
        assert "cannot open the books" in skipped.reason
        # The link shows it (clients.linking.mark_books_access_lost once issue 10 is merged).
        assert ExternalLink.objects.get(client=a).books_state in (
            BooksState.NO_ACCESS,
            "access_lost",
        )
        assert MonthlyImport.objects.get(client=b).state == ImportState.DONE
        connection = _connection(world)
        assert connection is not None and connection.status == ConnectionStatus.CONNECTED


@time_machine.travel("2024-03-27T08:00:00Z", tick=False)
def test_a_transient_error_is_retried(world, linked, mapped, monkeypatch):
    a = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    books("c1", MARCH, sale_entries=9)
    statbooks.FLAKY["c1"] = 2
    # Eager Celery applies each retry at once when errors do not propagate.
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    result = tasks.import_client_statistics.apply(
        args=(world.firm_a.pk, a.pk, VENDOR, MARCH.isoformat()), throw=False
    )
    assert result.get() == "imported"
    assert statbooks.FLAKY["c1"] == 0
    with world.scope_a():
        assert MonthlyImport.objects.get(client=a).state == ImportState.DONE
    assert _values(world, a)["Sales"].number == 9


@time_machine.travel("2024-03-27T08:00:00Z", tick=False)
def test_a_permanent_error_stops_and_flags_the_connection_once(world, linked, mapped):
    a = linked("Fjord Bakeri AS", "c1")
    b = linked("Nord Fisk AS", "c2")
    mapped(sale_entries="Sales")
    with world.scope_a():
        connection = _connection(world)
        credential = connection.credentials.get()
        from integrations import crypto

        credential.secret_encrypted = crypto.encrypt('{"api_key": "revoked"}')
        credential.save()
    run_jobs(tasks.schedule_monthly_imports)
    with world.scope_a():
        assert set(MonthlyImport.objects.values_list("state", flat=True)) == {ImportState.FAILED}
        assert MonthlyImport.objects.filter(client__in=[a, b]).count() == 2
        connection.refresh_from_db()
        assert connection.status == ConnectionStatus.ERROR
        # Owner and admin told once, not once per client.
        assert Notification.objects.filter(text__contains="refused the API key").count() == 2


# --- Reload --------------------------------------------------------------------------------------


def _reload(world, client=None, actor=None):
    def start():
        with world.scope_a():
            return services.reload_work_statistics(
                company=world.firm_a, actor=actor or world.admin, vendor=VENDOR, client=client
            )

    job, _created = run_jobs(start)
    return job


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_a_reload_overwrites_mapped_values_only_and_covers_twelve_months(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    fields = mapped(sale_entries="Sales")
    with world.scope_a():
        notes = services.create_task_field(
            company=world.firm_a, actor=world.admin, name="Notes", type="text"
        )
    for month in range(1, 13):
        books("c1", date(2024, month, 1), sale_entries=month * 10)
    books("c1", date(2023, 12, 1), sale_entries=999)  # 13 months back: not reloaded
    books("c1", date(2025, 1, 1), sale_entries=555)  # the current month: not over
    task = _import(world, client, period=date(2024, 5, 1)).task
    with world.scope_a():
        for field, raw in ((fields["sale_entries"], "1"), (notes, "kept by hand")):
            services.set_task_value(
                company=world.firm_a, actor=world.accountant, task=task, field=field, raw=raw
            )
    job = _reload(world)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    assert job.progress_done == job.progress_total == 12
    assert job.counts["client_months"] == 12 and job.counts["done"] == 12
    with world.scope_a():
        periods = sorted(SummaryTask.objects.filter(client=client).values_list("period", flat=True))
    assert periods == [date(2024, m, 1) for m in range(1, 13)]
    may = _values(world, client, date(2024, 5, 1))
    assert may["Sales"].number == 50 and not may["Sales"].typed_by_hand  # mapped: overwritten
    assert may["Notes"].text == "kept by hand" and may["Notes"].typed_by_hand  # unmapped: kept
    assert {p for _c, p, _s in statbooks.READS} == {date(2024, m, 1) for m in range(1, 13)}
    with world.scope_a():
        note = Notification.objects.get(recipient=world.admin, key=f"job-end:{job.pk}")
    assert "12 client-months reloaded: 12 done, 0 skipped, 0 failed." in note.text


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_one_clients_failure_never_stops_the_others(world, linked, mapped):
    linked("Fjord Bakeri AS", "c1")
    b = linked("Nord Fisk AS", "c2")
    mapped(sale_entries="Sales")
    statbooks.NO_BOOKS.add("c1")
    statbooks.FLAKY["c2"] = 1  # one timeout, retried
    books("c2", date(2024, 6, 1), sale_entries=8)
    job = _reload(world)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    assert job.counts["client_months"] == 24
    assert job.counts["done"] == 12 and job.counts["skipped"] == 12
    assert job.counts["skips"] == [
        {"client": "Fjord Bakeri AS", "error": "Statbooks cannot open the books."}
    ]
    assert _values(world, b, date(2024, 6, 1))["Sales"].number == 8


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_a_relinked_client_gets_the_new_customers_data_after_reload(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "old")
    mapped(sale_entries="Sales")
    books("old", date(2024, 12, 1), sale_entries=1)
    books("new", date(2024, 12, 1), sale_entries=77)
    _reload(world, client)
    assert _values(world, client, date(2024, 12, 1))["Sales"].number == 1
    with world.scope_a():
        ExternalLink.objects.filter(client=client).update(remote_id="new")
    job = _reload(world, client)
    assert job.status == SyncJobStatus.SUCCEEDED
    assert _values(world, client, date(2024, 12, 1))["Sales"].number == 77


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_asking_again_while_a_reload_runs_joins_it(world, linked, mapped):
    linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a():
        job, created = services.reload_work_statistics(
            company=world.firm_a, actor=world.admin, vendor=VENDOR
        )
        again, created_again = services.reload_work_statistics(
            company=world.firm_a, actor=world.owner, vendor=VENDOR
        )
    assert created and not created_again and again.pk == job.pk


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_a_resumed_reload_runs_only_what_is_left(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a():
        job, _created = services.reload_work_statistics(
            company=world.firm_a, actor=world.admin, vendor=VENDOR
        )
        from summarytasks import reload

        reload.plan(job)
        ReloadPart.objects.filter(job=job, period__lt=date(2024, 12, 1)).update(state="done")
    from integrations.jobs import run_sync_job

    with scopes_disabled():
        run_sync_job.delay(job.pk)
    job.refresh_from_db()
    assert job.status == SyncJobStatus.SUCCEEDED
    assert [p for _c, p, _s in statbooks.READS] == [date(2024, 12, 1)]
    del client


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_refused_credentials_fail_the_reload_and_flag_the_connection(world, linked, mapped):
    linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a():
        from integrations import crypto

        credential = _connection(world).credentials.get()
        credential.secret_encrypted = crypto.encrypt('{"api_key": "revoked"}')
        credential.save()
    job = _reload(world)
    assert job.status == SyncJobStatus.FAILED
    assert "refused the API key" in job.error
    with world.scope_a():
        assert _connection(world).status == ConnectionStatus.ERROR
        assert not ReloadPart.objects.filter(job=job, state__in=["pending", "running"]).exists()


def test_only_owners_and_admins_reload(world, linked, mapped):
    linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a(), pytest.raises(PermissionDenied):
        services.reload_work_statistics(company=world.firm_a, actor=world.accountant, vendor=VENDOR)


def test_a_reload_needs_a_mapped_field(world, linked, stat_connection):
    linked("Fjord Bakeri AS", "c1")
    from integrations.base import ConfigError

    with world.scope_a(), pytest.raises(ConfigError, match="No data fields are mapped"):
        services.reload_work_statistics(company=world.firm_a, actor=world.admin, vendor=VENDOR)


def test_values_convert_to_the_field_type(world, linked, mapped):
    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    with world.scope_a():
        text = services.create_task_field(
            company=world.firm_a, actor=world.admin, name="As text", type="text"
        )
        day = services.create_task_field(
            company=world.firm_a, actor=world.admin, name="A date", type="date"
        )
        services.save_field_mapping(
            company=world.firm_a,
            actor=world.admin,
            vendor=VENDOR,
            mapping={"bank_transactions": text, "documents": day},
        )
    books("c1", MARCH, bank_transactions=12, documents=3)
    _import(world, client)
    values = _values(world, client)
    assert values["As text"].text == "12"
    assert values["A date"].missing and "date field" in values["A date"].missing_reason
    assert values["Sales"].value == Decimal(0)
    with scopes_disabled():
        assert SyncJob.objects.count() == 0  # a monthly import is no visible job


def test_a_client_with_summary_tasks_cannot_be_deleted(world, linked, mapped):
    from clients.services import client_dependents

    client = linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    _import(world, client)
    with world.scope_a():
        assert "1 summary task" in client_dependents(client)


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_a_part_whose_worker_died_is_run_again(world, linked, mapped, settings):
    from datetime import timedelta

    from django.utils import timezone

    from summarytasks import reload

    linked("Fjord Bakeri AS", "c1")
    mapped(sale_entries="Sales")
    books("c1", date(2024, 7, 1), sale_entries=5)
    with world.scope_a():
        job, _created = services.reload_work_statistics(
            company=world.firm_a, actor=world.admin, vendor=VENDOR
        )
        reload.plan(job)
        parts = ReloadPart.objects.filter(job=job)
        parts.exclude(period=date(2024, 7, 1)).update(state="done")
        # Claimed by a worker that was killed before it finished: silent for longer than the
        # stall interval.
        parts.filter(period=date(2024, 7, 1)).update(
            state="running",
            attempts=1,
            claimed_at=timezone.now() - timedelta(seconds=settings.UKU_JOB_STALL_SECONDS + 1),
        )
        fresh = parts.get(period=date(2024, 7, 1))
        assert reload.claim(fresh) and fresh.attempts == 2
        # A live claim is not taken over.
        assert not reload.claim(parts.get(period=date(2024, 7, 1)))


@time_machine.travel("2025-01-15T10:00:00Z", tick=False)
def test_reload_data_for_one_client_from_its_page(world, linked, mapped, as_user):
    a = linked("Fjord Bakeri AS", "c1")
    linked("Nord Fisk AS", "c2")
    mapped(sale_entries="Sales")
    admin = as_user(world.admin)
    response = run_jobs(
        lambda: admin.post(f"/settings/apps/{VENDOR}/summary/reload/", {"client": str(a.public_id)})
    )
    assert response.status_code == 302
    assert response["Location"] == f"/clients/{a.public_id}/summary-tasks/"
    with world.scope_a():
        job = SyncJob.objects.get(kind=services.RELOAD_KIND)
        assert job.scope == f"client:{a.public_id}" and job.counts["client_months"] == 12
        assert {c for c, _p, _s in statbooks.READS} == {"c1"}
    page = admin.get(f"/clients/{a.public_id}/summary-tasks/").content.decode()
    assert "12 client-months" in page
