"""Jobs that cannot get lost: heartbeats, stalled jobs taken over and resumed, an end that never
depends on cleanup, and database errors that are retried (issue 8, items 2-4).

The kill-a-real-worker proof is in `test_worker_kill.py`; these pin each rule on its own.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import OperationalError
from django.utils import timezone
from django_scopes import scopes_disabled

from integrations import jobs, services
from integrations.models import SyncJob
from uku.celery import app as celery_app

KIND = "test_recovery"
CALLS: list[int] = []


def counting_runner(*, job: SyncJob, adapter: Any) -> dict[str, Any]:
    CALLS.append(job.pk)
    return {"ran": len(CALLS)}


def locked_once_runner(*, job: SyncJob, adapter: Any) -> dict[str, Any]:
    CALLS.append(job.pk)
    if len(CALLS) == 1:
        raise OperationalError("database is locked")
    return {"ran": len(CALLS)}


@pytest.fixture
def kind(saved_connection):
    """A registered job kind whose runner only counts its runs."""
    saved_connection()
    CALLS.clear()

    def register(runner: str = "counting_runner") -> str:
        jobs.register_job_kind(KIND, f"{__name__}.{runner}", "Recovery test")
        return KIND

    yield register
    jobs.JOB_KINDS.pop(KIND, None)


def _stall(job: SyncJob, seconds: float = 3600) -> None:
    """Make the job look like its worker died `seconds` ago, mid-run."""
    long_ago = timezone.now() - timedelta(seconds=seconds)
    with scopes_disabled():
        SyncJob.objects.filter(pk=job.pk).update(
            status="running", started_at=long_ago, heartbeat_at=long_ago, progress_done=500
        )


def test_a_delivery_takes_over_a_stalled_job_and_runs_it(world, kind) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job)
    assert jobs.run_sync_job.apply(args=[job.pk]).get() == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded" and [job.pk] == CALLS and job.attempts == 1


def test_a_delivery_leaves_a_live_running_job_alone(world, kind) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job, seconds=1)  # heard from a second ago: alive
    assert jobs.run_sync_job.apply(args=[job.pk]).get() == "skipped"
    assert CALLS == []


def test_progress_is_a_heartbeat(world, kind) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job)
    job.refresh_from_db()
    assert job.is_stalled
    with world.scope_a():
        jobs.report_progress(job, 600)
    job.refresh_from_db()
    assert not job.is_stalled and job.progress_done == 600


@pytest.mark.django_db(transaction=True)
def test_the_heartbeat_thread_keeps_a_silent_job_alive(world, kind, settings) -> None:
    """A runner may be silent (a slow vendor page) without being dead: the thread beats for it."""
    import time

    settings.UKU_JOB_HEARTBEAT_SECONDS = 0.05
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job)
    job.refresh_from_db()
    with jobs.Heartbeat(job):
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if not job.is_stalled:
                break
            time.sleep(0.05)
    assert not job.is_stalled


def test_a_new_request_resumes_a_stalled_job_instead_of_joining_it(
    world, kind, django_capture_on_commit_callbacks
) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job)
    with world.scope_a(), django_capture_on_commit_callbacks(execute=True):
        again, created = jobs.request_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=KIND
        )
    job.refresh_from_db()
    assert not created and again.pk == job.pk
    assert job.status == "succeeded" and job.resumes == 1 and [job.pk] == CALLS


def test_a_job_that_keeps_stalling_fails_with_its_reason_and_a_new_request_starts_afresh(
    world, kind, settings, django_capture_on_commit_callbacks
) -> None:
    settings.UKU_JOB_MAX_RESUMES = 2
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=kind()
        )
    _stall(job)
    with scopes_disabled():
        SyncJob.objects.filter(pk=job.pk).update(resumes=2)
    with world.scope_a(), django_capture_on_commit_callbacks(execute=True):
        fresh, created = jobs.request_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=KIND
        )
    job.refresh_from_db()
    assert job.status == "failed" and "stopped 3 times" in job.error
    assert created and fresh.pk != job.pk and [fresh.pk] == CALLS


def test_the_sweeper_resumes_stalled_jobs_resends_lost_ones_and_ends_interrupted_tests(
    world, kind, django_capture_on_commit_callbacks
) -> None:
    with world.scope_a():
        stalled, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind(), scope="a"
        )
        lost, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=KIND, scope="b"
        )
        alive, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=KIND, scope="c"
        )
        waiting, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=KIND, scope="d"
        )
        interrupted = SyncJob.objects.create(
            company=world.firm_a, vendor="tripletex", kind="connection_test", scope="x"
        )
    _stall(stalled)
    _stall(interrupted)
    _stall(alive, seconds=1)
    with scopes_disabled():
        SyncJob.objects.filter(pk=lost.pk).update(created_at=timezone.now() - timedelta(hours=1))
        # Its retry is due in a minute: waiting, not lost.
        SyncJob.objects.filter(pk=waiting.pk).update(wake_at=timezone.now() + timedelta(minutes=1))

    with django_capture_on_commit_callbacks(execute=True):
        assert jobs.resume_stalled() == 2

    for job in (stalled, lost, alive, waiting, interrupted):
        job.refresh_from_db()
    assert (stalled.status, stalled.resumes) == ("succeeded", 1)
    assert (lost.status, lost.resumes) == ("succeeded", 0)
    assert alive.status == "running" and waiting.status == "queued"
    assert interrupted.status == "failed" and "interrupted" in interrupted.error
    assert sorted(CALLS) == sorted([stalled.pk, lost.pk])


def test_a_job_ends_even_when_its_cleanup_fails(world, kind, monkeypatch) -> None:
    from django.db import DatabaseError

    from integrations.tripletex.adapter import TripletexAdapter

    def broken(*_args: Any, **_kwargs: Any) -> None:
        raise DatabaseError("rate-limit write failed")

    monkeypatch.setattr(TripletexAdapter, "close", broken)
    monkeypatch.setattr(services, "record_sync_success", broken)
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=kind()
        )
    assert jobs.run_sync_job.apply(args=[job.pk]).get() == "succeeded"
    job.refresh_from_db()
    assert job.status == "succeeded" and job.finished_at is not None


def test_a_locked_database_is_retried_not_failed(world, kind, monkeypatch) -> None:
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    monkeypatch.setattr(jobs, "_backoff", lambda retries, error: 0)
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a,
            actor=world.admin,
            vendor="tripletex",
            kind=kind("locked_once_runner"),
        )
    jobs.run_sync_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded", job.error
    assert [job.pk, job.pk] == CALLS and job.attempts == 2


def test_a_stalled_job_shows_it_and_offers_resume(world, kind, as_user) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=kind()
        )
    _stall(job)
    client = as_user(world.admin)
    page = client.get(f"/settings/apps/tripletex/history/{job.public_id}/", HTTP_HX_REQUEST="true")
    html = page.content.decode()
    assert "Stalled, resuming" in html and "Resume now" in html and "<progress" not in html

    answer = client.post(f"/settings/apps/tripletex/history/{job.public_id}/resume/")
    assert answer.status_code == 302
    job.refresh_from_db()
    assert job.resumes == 1


def test_the_api_resumes_a_stalled_job_and_refuses_a_live_one(world, kind, api_as) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=kind()
        )
    api = api_as(world.admin)
    url = f"/api/v1/sync-jobs/{job.public_id}/resume/"
    refused = api.post(url)
    assert refused.status_code == 409 and refused.json()["code"] == "job_not_stalled"
    _stall(job)
    assert api.get(f"/api/v1/sync-jobs/{job.public_id}/").json()["stalled"] is True
    answer = api.post(url)
    assert answer.status_code == 200 and answer.json()["resumes"] == 1


def test_another_firms_job_cannot_be_resumed(world, kind, as_user, api_as) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job)
    outsider = world.outsider
    assert (
        as_user(outsider)
        .post(f"/settings/apps/tripletex/history/{job.public_id}/resume/")
        .status_code
        == 404
    )
    assert api_as(outsider).post(f"/api/v1/sync-jobs/{job.public_id}/resume/").status_code == 404
    job.refresh_from_db()
    assert job.resumes == 0


def _take_over(job: SyncJob) -> SyncJob:
    """Another delivery claims the (stalled) job; returns its view of the row."""
    successor = SyncJob.objects.get(pk=job.pk)
    assert jobs._claim(successor)
    return successor


def test_a_run_that_lost_its_job_cannot_end_or_move_it(world, kind) -> None:
    """A slow (not dead) worker whose job was taken over stops at its next write."""
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
        assert jobs._claim(job)
    _stall(job)
    job.refresh_from_db()
    with scopes_disabled():
        successor = _take_over(job)
    with world.scope_a():
        with pytest.raises(jobs.LeaseLost):
            jobs.report_progress(job, 10)
        assert services.finish_job(job, error=RuntimeError("late")) is False
        assert services.finish_job(successor, counts={"ok": 1}) is True
    job.refresh_from_db()
    assert job.status == "succeeded" and job.counts["ok"] == 1


def test_the_sweeper_leaves_alone_a_job_taken_over_since_it_looked(world, kind, settings) -> None:
    settings.UKU_JOB_MAX_RESUMES = 1
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    _stall(job)
    with scopes_disabled():
        SyncJob.objects.filter(pk=job.pk).update(resumes=1)
        snapshot = SyncJob.objects.get(pk=job.pk)  # what the sweeper read
        _take_over(snapshot.__class__.objects.get(pk=job.pk))
    with world.scope_a():
        assert jobs.resume_job(snapshot) is False
    job.refresh_from_db()
    assert job.status == "running" and job.resumes == 1


def test_a_second_confirm_resumes_a_stalled_confirm(
    world, saved_connection, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from clients import importing
    from clients import services as client_services
    from clients.models import CustomerImportRow, ImportClassification
    from integrations.base import RemoteCustomer

    saved_connection()
    sent: list[int] = []
    monkeypatch.setattr(jobs, "_send", lambda job: sent.append(job.pk))
    with world.scope_a():
        preview = SyncJob.objects.create(
            company=world.firm_a, vendor="tripletex", kind=importing.PREVIEW, status="succeeded"
        )
        CustomerImportRow.objects.create(
            company=world.firm_a,
            job=preview,
            vendor="tripletex",
            remote_id="1",
            name="Kunde AS",
            data=importing.clean_remote(RemoteCustomer(id="1", name="Kunde AS")),
            classification=ImportClassification.NEW,
        )
        with django_capture_on_commit_callbacks(execute=True):
            first, _ = client_services.confirm_customer_import(
                company=world.firm_a, actor=world.admin, preview=preview, select="all"
            )
    _stall(first)
    with world.scope_a(), django_capture_on_commit_callbacks(execute=True):
        again, created = client_services.confirm_customer_import(
            company=world.firm_a, actor=world.admin, preview=preview, select="all"
        )
    first.refresh_from_db()
    assert not created and again.pk == first.pk and first.resumes == 1
    assert sent == [first.pk, first.pk]  # queued once, then sent again to resume


def soft_limit_once_runner(*, job: SyncJob, adapter: Any) -> dict[str, Any]:
    from celery.exceptions import SoftTimeLimitExceeded

    CALLS.append(job.pk)
    if len(CALLS) == 1:
        raise SoftTimeLimitExceeded()
    return {"ran": len(CALLS)}


def test_a_run_out_of_time_hands_the_job_to_a_fresh_run(world, kind, monkeypatch) -> None:
    monkeypatch.setitem(celery_app.conf, "task_eager_propagates", False)
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a,
            actor=None,
            vendor="tripletex",
            kind=kind("soft_limit_once_runner"),
        )
    jobs.run_sync_job.apply(args=[job.pk])
    job.refresh_from_db()
    assert job.status == "succeeded" and [job.pk, job.pk] == CALLS and job.attempts == 2


def test_a_message_that_comes_before_the_retry_is_due_is_skipped(world, kind) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=None, vendor="tripletex", kind=kind()
        )
    with scopes_disabled():
        SyncJob.objects.filter(pk=job.pk).update(wake_at=timezone.now() + timedelta(minutes=5))
        job.refresh_from_db()
        assert jobs._claim(job) is False
        SyncJob.objects.filter(pk=job.pk).update(wake_at=timezone.now())
        assert jobs._claim(job) is True


def test_the_sweeper_leaves_a_connection_test_still_in_its_request(world, kind) -> None:
    with world.scope_a():
        testing = SyncJob.objects.create(
            company=world.firm_a, vendor="tripletex", kind="connection_test", scope="y"
        )
    _stall(testing, seconds=120)  # older than the stall interval, younger than any dead request
    assert jobs.resume_stalled() == 0
    testing.refresh_from_db()
    assert testing.status == "running"


def test_the_api_lets_the_requester_resume_as_the_page_does(world, kind, api_as) -> None:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.billing, vendor="tripletex", kind=kind()
        )
    _stall(job)
    url = f"/api/v1/sync-jobs/{job.public_id}/resume/"
    refused = api_as(world.accountant).post(url)
    assert refused.status_code == 403
    answer = api_as(world.billing).post(url)
    assert answer.status_code == 200 and answer.json()["resumes"] == 1
