"""Issue 14, section 1: faults of the process rather than the network (see
`tests.reliability.matrix.PROCESS_FAULTS` for where each one is proved).

- The database connection dropped mid-job, for every job and vendor: `pg_terminate_backend`
  from a side connection, fired by a hook on the sandbox while uku waits for the job's own call
  (the export: its write, which the vendor applies), or between two batches (the confirm). The
  job retries, ends done, and nothing is lost or written twice.
- The broker down when a job is queued: the job fails visibly instead of waiting forever, and
  the next request runs; an invoice export waits in its outbox row until the sweeper sends it.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, connections
from django.test import TestCase
from django_scopes import scopes_disabled
from kombu.exceptions import OperationalError

from clients import importing
from integrations import jobs
from integrations.http import VendorHttpClient
from integrations.merit.sandbox import start_sandbox as start_merit
from integrations.models import SyncJob
from integrations.tripletex.client import clear_session_cache
from integrations.tripletex.sandbox import start_sandbox as start_tripletex
from tests.reliability.jobs import JOBS, VENDORS, CustomerConfirm, CustomerPreview, Vendor
from tests.reliability.report import count


def _terminate(pid: int) -> None:
    """End backend `pid` from a connection of its own, as a database restart would."""
    side = connections.create_connection("default")
    try:
        with side.cursor() as cursor:
            cursor.execute("SELECT pg_terminate_backend(%s)", [pid])
    finally:
        side.close()


def _backend_pid() -> int:
    connection.ensure_connection()
    assert connection.connection is not None
    return int(connection.connection.info.backend_pid)


@pytest.fixture
def vendor_of(settings, monkeypatch):
    started: list[Any] = []

    def make(key: str) -> Vendor:
        server: Any
        if key == "tripletex":
            server = start_tripletex(seed="demo", environment="test")
            settings.TRIPLETEX_TEST_URL = server.url
            settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
        else:
            server = start_merit(seed="demo")
            for country, url in server.urls.items():
                setattr(settings, f"MERIT_{country}_URL", url)
        started.append(server)
        vendor = VENDORS[key](server)
        vendor.reset()
        return vendor

    monkeypatch.setattr(VendorHttpClient, "_backoff", lambda self, attempt: None)
    clear_session_cache()
    yield make
    for server in started:
        server.stop()
    clear_session_cache()


def _assert_clean(job: Any) -> tuple[int, int]:
    found = job.check()
    assert (found.lost, found.duplicated, found.half_written) == (0, 0, [])
    return found.lost, found.duplicated


def _matches(vendor: Vendor, target: str, args: tuple[Any, ...]) -> bool:
    """Whether a sandbox request (`take_fault`'s arguments) is the job's call `target`."""
    if vendor.key == "tripletex":
        method, path = target.split(" ", 1)
        return args[0].upper() == method and str(args[1]).rstrip("/").endswith(path)
    return str(args[-1]).strip("/").lower() == target.lower()


@pytest.mark.parametrize(
    ("vendor_key", "job_key"),
    [(vendor, job) for vendor in VENDORS for job in JOBS if job != "customer_confirm"],
    ids=[f"{vendor}-{job}" for vendor in VENDORS for job in JOBS if job != "customer_confirm"],
)
def test_the_database_dropped_mid_job(
    transactional_db, world, vendor_of, vendor_key: str, job_key: str
) -> None:
    """Every job x vendor: uku's database session is ended (`pg_terminate_backend`, as a
    database restart would) by the sandbox's thread while uku waits for the answer to the job's
    own call (`Vendor.targets`: for the export, the write, which the vendor then applies). The
    job ends done (retried on a new connection), nothing is lost or duplicated, nothing
    half-written, and a later run completes. The confirm calls no vendor: its cell drops the
    database between two batches (below)."""
    count("fault_cells")
    vendor = vendor_of(vendor_key)
    job = JOBS[job_key](world, vendor)
    job.setup()
    pid = _backend_pid()
    target = vendor.targets[job_key]
    take = vendor.store.take_fault
    fired: list[int] = []

    def hook(*args: Any, **kwargs: Any) -> Any:
        if not fired and _matches(vendor, target, args):
            fired.append(pid)
            _terminate(pid)
        return take(*args, **kwargs)

    vendor.store.take_fault = hook
    try:
        outcome = job.run()
    finally:
        vendor.store.take_fault = take
    assert fired, f"the hook never fired on {target}"
    assert outcome.state == "done", outcome
    if job_key == "customer_preview":
        assert job.last_job.attempts == 2, "the dropped connection was retried by the job"
    lost, duplicated = _assert_clean(job)
    again = job.run()
    assert again.state == "done", again
    more_lost, more_duplicated = _assert_clean(job)
    count("records_lost", lost + more_lost)
    count("orders_duplicated", duplicated + more_duplicated)
    count("fault_cells_passed")


@pytest.mark.parametrize("vendor_key", ["tripletex", "merit"])
def test_the_database_dropped_between_two_batches_of_a_confirm(
    transactional_db, world, vendor_of, monkeypatch, vendor_key: str
) -> None:
    count("fault_cells")
    vendor = vendor_of(vendor_key)
    job = CustomerConfirm(world, vendor)
    job.setup()
    monkeypatch.setattr(importing, "BATCH", 3)
    original = importing._apply_batch
    calls = {"n": 0}

    def second_batch_loses_the_database(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 2:
            _terminate(_backend_pid())
        return original(*args, **kwargs)

    monkeypatch.setattr(importing, "_apply_batch", second_batch_loses_the_database)
    outcome = job.run()
    assert calls["n"] > 2, "the confirm went on after the drop"
    assert outcome.state == "done", outcome
    assert job.confirm_job is not None and job.confirm_job.attempts == 2
    lost, duplicated = _assert_clean(job)
    count("records_lost", lost)
    count("orders_duplicated", duplicated)
    count("fault_cells_passed")


def test_a_broker_down_on_enqueue_fails_the_job_visibly_and_the_next_request_runs(
    world, vendor_of, monkeypatch
) -> None:
    count("fault_cells")
    vendor = vendor_of("tripletex")
    job = CustomerPreview(world, vendor)
    job.setup()

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(jobs.run_sync_job, "delay", refused)
    outcome = job.run()
    assert outcome.state == "failed" and "could not be queued" in outcome.error, outcome
    assert "6379" not in outcome.error  # the broker's address is not shown
    monkeypatch.undo()
    with scopes_disabled():
        assert not SyncJob.objects.filter(status__in=["queued", "running"]).exists()
    again = job.run()
    assert again.state == "done", again
    lost, duplicated = _assert_clean(job)
    count("records_lost", lost)
    count("orders_duplicated", duplicated)
    count("fault_cells_passed")


@pytest.mark.parametrize("vendor_key", ["tripletex", "merit"])
def test_a_broker_down_at_the_invoice_export_outbox_loses_nothing(
    world, vendor_of, monkeypatch, settings, vendor_key: str
) -> None:
    """Issuing an invoice while the broker refuses connections: the invoice is issued and its
    export row waits pending (the outbox), nothing is sent; once the broker is back, the
    sweeper resends the overdue row and the invoice is exported exactly once."""
    from billing import exports
    from billing.models import ExportState
    from billing.tasks import export_invoice
    from tests.reliability.jobs import InvoiceExportJob

    count("fault_cells")
    vendor = vendor_of(vendor_key)
    job = InvoiceExportJob(world, vendor)
    job.setup()

    def refused(*args: Any, **kwargs: Any) -> Any:
        raise OperationalError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")

    monkeypatch.setattr(export_invoice, "delay", refused)
    monkeypatch.setattr(export_invoice, "apply_async", refused)
    outcome = job.run()
    job.invoice.refresh_from_db()
    assert job.invoice.status != "draft" and job.invoice.number, "the invoice is issued"
    assert outcome.state == ExportState.PENDING, outcome
    assert vendor.remote_invoices(job.invoice.number) == 0
    monkeypatch.undo()
    settings.UKU_INVOICE_EXPORT_STALL_SECONDS = 0
    with TestCase.captureOnCommitCallbacks(execute=True):
        assert exports.sweep_exports() == 1
    export = job.export()
    assert export.state == ExportState.DONE, export.last_error
    lost, duplicated = _assert_clean(job)
    assert vendor.remote_invoices(job.invoice.number) == 1
    count("records_lost", lost)
    count("orders_duplicated", duplicated)
    count("fault_cells_passed")
