"""The reload runner's threads: how many, and that they work every part with their own
database connections (a transactional test: the threads must see the committed parts)."""

from __future__ import annotations

from unittest import mock

import pytest
from django import db
from django.test import override_settings

from summarytasks import reload


def test_threads_come_from_the_setting_outside_an_atomic_block() -> None:
    with (
        override_settings(UKU_RELOAD_THREADS=3),
        mock.patch.object(db.connection, "in_atomic_block", False),
        mock.patch.object(db.connection, "vendor", "postgresql"),
    ):
        assert reload.reload_threads() == 3


def test_one_thread_on_sqlite_or_inside_an_atomic_block() -> None:
    with override_settings(UKU_RELOAD_THREADS=3):
        with (
            mock.patch.object(db.connection, "in_atomic_block", False),
            mock.patch.object(db.connection, "vendor", "sqlite"),
        ):
            assert reload.reload_threads() == 1
        with (
            mock.patch.object(db.connection, "in_atomic_block", True),
            mock.patch.object(db.connection, "vendor", "postgresql"),
        ):
            assert reload.reload_threads() == 1


@pytest.mark.django_db
def test_the_setting_defaults_to_four() -> None:
    from django.conf import settings

    assert settings.UKU_RELOAD_THREADS == 4


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("reload-threads")
def test_a_reload_runs_its_parts_in_threads_and_imports_the_true_counts(
    world, saved_connection, sandbox
) -> None:
    import threading
    from decimal import Decimal

    from django_scopes import scopes_disabled

    from integrations.models import SyncJobStatus
    from summarytasks import schedule
    from summarytasks.models import SummaryTaskValue
    from tests.summarytasks.test_tripletex import link_clients, map_fields, truth
    from tests.summarytasks.test_tripletex import reload as run_reload

    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    map_fields(world, ["sale_entries", "bank_transactions"])
    linked = link_clients(world, sandbox, 2)
    seen: set[str] = set()
    original = reload.run_part

    def noting(part, adapter):
        seen.add(threading.current_thread().name)
        return original(part, adapter)

    with override_settings(UKU_RELOAD_THREADS=3), mock.patch.object(reload, "run_part", noting):
        job = run_reload(world)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    assert job.counts["done"] == 24, job.counts
    assert len(seen) > 1 and all(name.startswith("reload") for name in seen), seen
    periods = schedule.reload_periods(schedule.firm_today(world.firm_a.country))
    with scopes_disabled():
        values = {
            (v.task.client_id, v.task.period, v.statistic_key): v.number
            for v in SummaryTaskValue.objects.filter(company=world.firm_a).select_related("task")
        }
    for client, company in linked:
        for period in periods:
            want = truth(sandbox, company, period)
            for key in ("sale_entries", "bank_transactions"):
                assert values[(client.pk, period, key)] == Decimal(want[key]), (company, period)


@pytest.mark.django_db(transaction=True)
@pytest.mark.xdist_group("reload-threads")
def test_a_reload_thread_writes_a_parts_calls_in_one_insert(
    world, saved_connection, sandbox
) -> None:
    """Every call is still in the job's log, but a reload thread writes a client-month's
    calls when it ends (one insert), not one row (one commit) as each call ends."""
    from django_scopes import scopes_disabled

    from integrations.models import SyncJobCall
    from tests.summarytasks.test_tripletex import link_clients, map_fields
    from tests.summarytasks.test_tripletex import reload as run_reload

    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    map_fields(world, ["sale_entries", "bank_transactions"])
    link_clients(world, sandbox, 2)
    sandbox.store.clear_requests()
    bulk = mock.Mock(wraps=SyncJobCall.objects.bulk_create)
    single = mock.Mock(wraps=SyncJobCall.save, autospec=True)
    with (
        override_settings(UKU_RELOAD_THREADS=3),
        mock.patch.object(SyncJobCall.objects, "bulk_create", bulk),
        mock.patch.object(SyncJobCall, "save", single),
    ):
        job = run_reload(world)
    assert job.counts["done"] == 24, job.counts
    with scopes_disabled():
        logged = SyncJobCall.objects.filter(job=job).count()
    assert logged == sum(sandbox.store.request_counts().values())
    assert 0 < bulk.call_count <= 24 + 3
    assert single.call_count < logged / 4  # only the runner's own calls, outside the threads
