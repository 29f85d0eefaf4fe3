"""Issue 14, section 1: faults of the process rather than the network (see
`tests.reliability.matrix.PROCESS_FAULTS` for where each one is proved).

- The database connection dropped mid-job: `pg_terminate_backend` from a side connection,
  fired by a hook on the sandbox while the job reads a page (the preview) or between two
  batches (the confirm). The job retries, ends done, and nothing is lost or written twice.
- The broker down when a job is queued: the job fails visibly instead of waiting forever, and
  the next request runs.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.db import connection, connections
from django_scopes import scopes_disabled
from kombu.exceptions import OperationalError

from clients import importing
from integrations import jobs
from integrations.http import VendorHttpClient
from integrations.merit.sandbox import start_sandbox as start_merit
from integrations.models import SyncJob
from integrations.tripletex.client import clear_session_cache
from integrations.tripletex.sandbox import start_sandbox as start_tripletex
from tests.reliability.jobs import VENDORS, CustomerConfirm, CustomerPreview, Vendor
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


@pytest.mark.parametrize("vendor_key", ["tripletex", "merit"])
def test_the_database_dropped_while_a_preview_reads_a_page(
    transactional_db, world, vendor_of, vendor_key: str
) -> None:
    count("fault_cells")
    vendor = vendor_of(vendor_key)
    job = CustomerPreview(world, vendor)
    job.setup()
    pid = _backend_pid()
    take = vendor.store.take_fault
    fired: list[int] = []

    def hook(*args: Any, **kwargs: Any) -> Any:
        # The sandbox's thread ends uku's database session while uku waits for this answer.
        if not fired and "customer" in " ".join(map(str, args)).lower():
            fired.append(pid)
            _terminate(pid)
        return take(*args, **kwargs)

    vendor.store.take_fault = hook
    try:
        outcome = job.run()
    finally:
        vendor.store.take_fault = take
    assert fired, "the hook never fired"
    assert outcome.state == "done", outcome
    assert job.last_job.attempts == 2, "the dropped connection was retried by the job"
    lost, duplicated = _assert_clean(job)
    count("records_lost", lost)
    count("orders_duplicated", duplicated)
    count("fault_cells_passed")


def test_the_database_dropped_between_two_batches_of_a_confirm(
    transactional_db, world, vendor_of, monkeypatch
) -> None:
    count("fault_cells")
    vendor = vendor_of("tripletex")
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
