"""Issue 14, section 1: every job x every vendor x every network fault, from one table.

Each cell prepares firm A fault-free, injects the fault through the sandbox's control API on
the call the job depends on (`Vendor.targets`), runs the job through uku's real services and
tasks, and asserts:

- the job ends done, or (401) visibly failed with a way to retry;
- no record lost and no remote object duplicated (uku's rows against the sandbox's truth);
- no value half-written (each value equals the sandbox's);
- the connection's error indicator (Connected after a transient fault, Error with the vendor's
  message after a 401) and every link's (no link needs attention);
- the notifications: none of level error after a transient fault (and the requester told the
  job finished); the owner and admins told after a 401;
- a later run with the fault cleared completes and changes nothing twice.

Transient faults are injected `TRANSIENT_TIMES` times, as often as the HTTP client tries a call,
so the job's own retry (not only the client's) is what recovers. A cell that does not apply is in
`NOT_APPLICABLE` with why; `make reliability` prints that list.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django_scopes import scopes_disabled

from integrations.http import VendorHttpClient
from integrations.merit.sandbox import start_sandbox as start_merit
from integrations.models import ConnectionStatus, IntegrationConnection, Notification
from integrations.tripletex.client import clear_session_cache
from integrations.tripletex.sandbox import start_sandbox as start_tripletex
from tests.reliability.jobs import JOBS, VENDORS, Job, Vendor
from tests.reliability.matrix import FAULTS, NOT_APPLICABLE, PERMANENT
from tests.reliability.report import count

TRANSIENT_TIMES = 3  # = TRIPLETEX_MAX_ATTEMPTS = MERIT_MAX_ATTEMPTS below
READ_TIMEOUT = 1.0  # the `read_timeout` fault delays its answer beyond this (jobs.py)


# (vendor, job) whose 401 is a refusal of ONE client's books, not of the firm's credentials:
# Tripletex reads a client's statistics inside the client's company (proxy login), and a 401
# there means the firm's access to that client is gone; Merit reads them with the client's own
# credentials. The link says so; the firm's connection stays.
BOOKS_401 = {
    (vendor, job) for vendor in ("tripletex", "merit") for job in ("statistics_import", "reload")
}


def full_matrix() -> bool:
    """`make reliability` runs every cell; `make test` (its time budget) runs each job x fault
    on one vendor, alternating, so each vendor still meets every job and every fault.
    `UKU_FAULT_MATRIX=full` asks for every cell anywhere."""
    return bool(os.environ.get("UKU_RELIABILITY_PARTS")) or (
        os.environ.get("UKU_FAULT_MATRIX") == "full"
    )


def cells() -> Iterator[Any]:
    full = full_matrix()
    for v, vendor in enumerate(VENDORS):
        for j, job in enumerate(JOBS):
            for f, fault in enumerate(FAULTS):
                if (job, fault) in NOT_APPLICABLE or (not full and (v + j + f) % 2):
                    continue
                yield pytest.param(vendor, job, fault, id=f"{vendor}-{job}-{fault}")


@pytest.fixture(scope="module")
def servers() -> Iterator[dict[str, Any]]:
    """One sandbox of each vendor for the whole module, reset before every cell."""
    running: dict[str, Any] = {
        "tripletex": start_tripletex(seed="demo", environment="test"),
        "merit": start_merit(seed="demo"),
    }
    yield running
    for server in running.values():
        server.stop()


@pytest.fixture
def vendor_of(servers, settings, monkeypatch):
    tx, merit = servers["tripletex"], servers["merit"]
    settings.TRIPLETEX_TEST_URL = tx.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = tx.store.consumer_token
    for country, url in merit.urls.items():
        setattr(settings, f"MERIT_{country}_URL", url)
    settings.TRIPLETEX_MAX_ATTEMPTS = settings.MERIT_MAX_ATTEMPTS = TRANSIENT_TIMES
    settings.TRIPLETEX_CONNECT_TIMEOUT = settings.MERIT_CONNECT_TIMEOUT = 2.0
    settings.TRIPLETEX_READ_TIMEOUT = settings.MERIT_READ_TIMEOUT = READ_TIMEOUT
    settings.UKU_STATISTICS_RETRY_SECONDS = 0
    settings.UKU_STATISTICS_POLL_SECONDS = 0.01
    # The client's own backoff between attempts is tested in tests/integrations/test_http.py;
    # here it only costs time.
    monkeypatch.setattr(VendorHttpClient, "_backoff", lambda self, attempt: time.sleep(0.01))
    clear_session_cache()

    def make(key: str) -> Vendor:
        vendor = VENDORS[key](servers[key])
        vendor.reset()
        return vendor

    yield make
    for server in servers.values():
        server.store.clear_faults()
    clear_session_cache()


def _connection(world: Any, vendor: str) -> IntegrationConnection:
    with scopes_disabled():
        return IntegrationConnection.objects.get(
            company=world.firm_a, vendor=vendor, client__isnull=True
        )


def _notes(world: Any, level: str = "") -> list[Notification]:
    with scopes_disabled():
        notes = Notification.objects.filter(company=world.firm_a)
        if level:
            notes = notes.filter(level=level)
        return list(notes.select_related("recipient"))


def _assert_clean(job: Job, when: str, done: bool = True) -> tuple[int, int]:
    """Nothing lost (when the job says it is done: a failed job has not read everything yet),
    nothing duplicated, nothing half-written (always)."""
    found = job.check()
    if not done:
        found.lost = 0
    assert found.lost == 0, f"{when}: {found.lost} records lost"
    assert found.duplicated == 0, f"{when}: {found.duplicated} duplicated"
    assert found.half_written == [], f"{when}: half-written {found.half_written[:3]}"
    return found.lost, found.duplicated


def _assert_links_fine(job: Job) -> None:
    bad = [(link.remote_id, link.books_state, link.stale_at) for link in job.links()]
    assert not [b for b, link in zip(bad, job.links(), strict=True) if link.needs_attention], bad


@pytest.mark.parametrize(("vendor_key", "job_key", "fault"), list(cells()))
def test_fault_cell(world, vendor_of, vendor_key: str, job_key: str, fault: str) -> None:
    count("fault_cells")
    vendor = vendor_of(vendor_key)
    job = JOBS[job_key](world, vendor)
    job.setup()
    with scopes_disabled():
        Notification.objects.filter(company=world.firm_a).delete()
    target = vendor.targets[job_key]
    permanent = fault in PERMANENT
    vendor.inject(fault, target, times=100 if permanent else TRANSIENT_TIMES)

    outcome = job.run()

    connection = _connection(world, vendor.key)
    books = permanent and (vendor_key, job_key) in BOOKS_401
    if books:
        assert outcome.state in ("done", "skipped"), outcome
        assert [link.books_state for link in job.links()] == ["access_lost"]
        assert (connection.status, connection.last_error) == (ConnectionStatus.CONNECTED, "")
    elif permanent:
        assert outcome.state == "failed", outcome
        assert outcome.error, "a failed job must say why"
        assert connection.status == ConnectionStatus.ERROR, connection.status
        assert connection.last_error
        told = {n.recipient_id for n in _notes(world, "error")}
        assert {world.owner.pk, world.admin.pk} <= told, told
    else:
        assert outcome.state == "done", outcome
        assert (connection.status, connection.last_error) == (ConnectionStatus.CONNECTED, "")
        assert _notes(world, "error") == []
        if getattr(job, "last_job", None) is not None and job.key not in ("invoice_export",):
            assert [n.recipient_id for n in _notes(world, "success")] == [job.requester.pk]
    lost, duplicated = _assert_clean(job, "after the fault", done=not permanent)
    if not books:
        _assert_links_fine(job)

    # The fault cleared (as after a person fixed the token): a later run completes.
    vendor.clear()
    again = job.run()
    assert again.state == "done", again
    more_lost, more_duplicated = _assert_clean(job, "after the later run")
    if not books:  # a link whose access was lost keeps saying so until it is checked again
        _assert_links_fine(job)
    connection.refresh_from_db()
    assert connection.status == ConnectionStatus.CONNECTED, connection.last_error

    count("records_lost", lost + more_lost)
    count("orders_duplicated", duplicated + more_duplicated)
    count("fault_cells_passed")
