"""A real Celery worker on Redis is killed with SIGKILL while an export's write has been applied
but not answered; after a restart the sweeper re-queues the row, and the new attempt finds the
invoice in the accounting system and adopts it: one remote object, no second write.

Fails on code that trusts the broker to redeliver, retries the write blindly, or never sweeps
rows stuck in flight."""

from __future__ import annotations

import time

import pytest
from django.db import transaction
from django_scopes import scopes_disabled

from billing import exports, invoices
from billing.models import ExportState, InvoiceExport
from tests.billing.invoicing import setup_books
from tests.integrations.test_worker_kill import REDIS, Worker, _database_url, _wait_for
from tests.reliability.report import count

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("worker-kill")]


@pytest.mark.redis
def test_a_worker_killed_mid_export_leaves_exactly_one_remote_invoice(
    world, tmp_path, monkeypatch
) -> None:
    import os
    import uuid

    from celery import Celery

    count("fault_cells")  # a cell of the fault matrix (issue 14): worker SIGKILL mid-export
    books = setup_books(world, tmp_path)
    books.store.add_faults("export", "hang")
    queue = f"kill-export-{uuid.uuid4().hex}"
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "tests.worker_settings",
        "UKU_TESTING": "0",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "UKU_VAR_DIR": str(tmp_path),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "CELERY_BROKER_URL": REDIS,
        "UKU_INVOICE_EXPORT_STALL_SECONDS": "2",
    }
    sender = Celery("sender", broker=REDIS, set_as_current=False)
    sender.conf.task_default_queue = queue
    # The export goes to the real worker, not to this process's eager Celery.
    monkeypatch.setattr(exports, "_send", lambda export_id, countdown=0: None)
    draft = books.draft()
    with world.scope_a(), transaction.atomic():
        invoices.issue_invoice(company=world.firm_a, actor=world.billing, invoice=draft)
    export = books.export_of(draft)

    def state() -> str:
        with scopes_disabled():
            return InvoiceExport.objects.get(pk=export.pk).state

    worker = Worker(env, tmp_path / "worker.log")
    try:
        worker.start()
        sender.send_task("billing.tasks.export_invoice", args=[export.pk])
        _wait_for("the write", lambda: len(books.store.objects) == 1, 90, worker.output)
        worker.kill()
        assert state() == ExportState.IN_FLIGHT

        worker.start()
        time.sleep(2.5)  # longer than the stall interval: the row is now abandoned
        sender.send_task("billing.tasks.sweep_invoice_exports")
        _wait_for(
            "the export to be adopted", lambda: state() == ExportState.DONE, 90, worker.output
        )
    finally:
        worker.stop()
        sender.close()

    done = books.export_of(draft)
    assert len(books.store.objects) == 1
    assert done.remote_id == books.store.objects[0]["id"]
    assert books.store.calls("export") == 1
    assert books.store.calls("find") >= 1
    assert done.attempts == 2
    assert "Traceback" not in worker.output(), worker.output()
    count("records_lost", 0 if done.remote_id else 1)
    count("orders_duplicated", len(books.store.objects) - 1)
    count("fault_cells_passed")
