"""The monthly fan-out and a reload on a real Celery worker (two processes) on Redis, against
the Tripletex sandbox over real HTTP: what the worker imports equals the sandbox's true counts."""

from __future__ import annotations

import os
import uuid
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from celery import Celery
from django_scopes import scopes_disabled

from integrations import services as integration_services
from integrations.models import SyncJob
from summarytasks import schedule, services
from summarytasks.models import ImportState, MonthlyImport, ReloadPart, SummaryTaskValue
from tests.integrations.test_worker_kill import REDIS, Worker, _database_url, _wait_for
from tests.summarytasks.test_tripletex import (
    VENDOR,
    link_clients,
    map_fields,
    truth,
)

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.xdist_group("summary-worker"),
    pytest.mark.redis,
]
KEYS = ["sale_entries", "bank_transactions"]


class TwoProcessWorker(Worker):
    """The same worker with two pool processes, so a reload's parts really run side by side."""

    def start(self) -> None:
        import subprocess
        import sys
        from pathlib import Path

        from tests.integrations.test_worker_kill import ROOT

        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [str(Path(sys.executable).parent / "celery"), "-A", "uku", "worker", "--pool",
             "prefork", "--concurrency", "2", "--without-gossip", "--without-mingle",
             "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip


def _rule_due(today: date) -> str:
    for rule in schedule.RULES:
        if schedule.due_period(today, rule, "NO") is not None:
            return rule
    pytest.skip(f"no import-day rule falls on {today}")


def _values(world: Any) -> dict[tuple[int, date, str], Decimal | None]:
    with scopes_disabled():
        return {
            (v.task.client_id, v.task.period, v.statistic_key): v.number
            for v in SummaryTaskValue.objects.filter(company=world.firm_a).select_related("task")
        }


def test_the_fan_out_and_a_reload_run_on_a_real_worker(
    world,
    saved_connection,
    sandbox,
    tmp_path,
) -> None:
    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    map_fields(world, KEYS)
    linked = link_clients(world, sandbox, 2)
    today = schedule.firm_today("NO")
    rule = _rule_due(today)
    with world.scope_a():
        services.save_summary_settings(
            company=world.firm_a, actor=world.admin, vendor=VENDOR, task_title="{month}",
            import_day=rule,
        )  # fmt: skip
    period = schedule.due_period(today, rule, "NO")
    assert period is not None
    queue = f"summary-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uku.settings",
        "UKU_TESTING": "0",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "UKU_VAR_DIR": str(tmp_path),
        "CELERY_BROKER_URL": REDIS,
        "REDIS_URL": REDIS,
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "TRIPLETEX_TEST_URL": sandbox.url,
        "TRIPLETEX_CONSUMER_TOKEN_TEST": sandbox.store.consumer_token,
        "UKU_JOB_HEARTBEAT_SECONDS": "0.5",
    }
    sender = Celery("sender", broker=REDIS)
    sender.conf.task_default_queue = queue
    worker = TwoProcessWorker(env, tmp_path / "worker.log")
    try:
        worker.start()
        sender.send_task("summarytasks.tasks.schedule_monthly_imports")

        def imported() -> bool:
            with scopes_disabled():
                return MonthlyImport.objects.filter(
                    company=world.firm_a, period=period, state=ImportState.DONE
                ).count() == len(linked)

        _wait_for("the monthly imports", imported, timeout=90, output=worker.output)
        values = _values(world)
        for client, company in linked:
            want = truth(sandbox, company, period)
            assert {k: values[(client.pk, period, k)] for k in KEYS} == {
                k: Decimal(want[k]) for k in KEYS
            }

        with world.scope_a():
            job, _created = integration_services.start_job(
                company=world.firm_a,
                actor=world.admin,
                vendor=VENDOR,
                kind=services.RELOAD_KIND,
            )
        sender.send_task("integrations.jobs.run_sync_job", args=[job.pk])

        def finished() -> bool:
            with scopes_disabled():
                return SyncJob.objects.get(pk=job.pk).status in ("succeeded", "failed")

        _wait_for("the reload", finished, timeout=180, output=worker.output)
    finally:
        worker.stop()
        sender.close()
    with scopes_disabled():
        job = SyncJob.objects.get(pk=job.pk)
        parts = ReloadPart.objects.filter(job=job)
        assert job.status == "succeeded", (job.error, worker.output())
        assert parts.count() == 12 * len(linked) and not parts.exclude(state="done").exists()
    assert (job.progress_done, job.progress_total) == (24, 24)
    values = _values(world)
    for client, company in linked:
        for month in schedule.reload_periods(today):
            want = truth(sandbox, company, month)
            assert {k: values[(client.pk, month, k)] for k in KEYS} == {
                k: Decimal(want[k]) for k in KEYS
            }, (company, month)
    assert "Traceback" not in worker.output(), worker.output()
