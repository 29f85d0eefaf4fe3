"""History and notifications (issue 16): every job's result in words with its retries and
failed calls, filters and paging, one start time, notifications that carry the outcome and
link to the job, and none left unread for a job the person watched finish."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.urls import reverse
from django.utils import formats, timezone, translation
from django_scopes import scopes_disabled

from integrations import jobs, services
from integrations.base import TransientError
from integrations.models import Notification, SyncJob, SyncJobCall, SyncJobStatus

KIND = "test_history"
RUNS: list[int] = []


def flaky_runner(*, job: SyncJob, adapter: Any) -> dict[str, Any]:
    """Fails its first run on a 503 (as the seam records it), then imports 220 and fails 1."""
    RUNS.append(job.pk)
    if len(RUNS) == 1:
        SyncJobCall.objects.create(
            company=job.company, job=job, method="GET", path="/customer", status=503
        )
        raise TransientError("The accounting system is busy.")
    SyncJobCall.objects.create(
        company=job.company, job=job, method="GET", path="/customer", status=None
    )
    SyncJobCall.objects.create(
        company=job.company, job=job, method="GET", path="/customer", status=200
    )
    return {"created": 220, "failed": 1, "unchanged": 0}


@pytest.fixture
def kind(saved_connection):
    saved_connection()
    RUNS.clear()
    jobs.register_job_kind(KIND, f"{__name__}.flaky_runner", "History test")
    yield KIND
    jobs.JOB_KINDS.pop(KIND, None)


def _run(world, actor) -> SyncJob:
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=actor, vendor="tripletex", kind=KIND
        )
    jobs.run_sync_job.apply(args=[job.pk]).get()
    job.refresh_from_db()
    return job


def _history(client, **params: str) -> str:
    query = "&".join(f"{k}={v}" for k, v in {"tab": "history", **params}.items())
    return client.get(
        f"{reverse('integration_detail', args=['tripletex'])}?{query}"
    ).content.decode()


def test_history_shows_the_result_with_counts_retries_and_failed_calls(
    world, kind, as_user
) -> None:
    job = _run(world, world.admin)
    assert job.status == SyncJobStatus.SUCCEEDED and len(RUNS) == 2
    page = _history(as_user(world.admin))
    row = page[page.index(f'data-job="{job.public_id}"') :].split("</tr>")[0]
    assert "220 created, 1 failed" in row
    assert "1 retry" in row and "2 failed calls" in row  # the 503 and the call with no answer
    assert 'data-status="succeeded_with_failures"' in row and "Succeeded with failures" in row


def test_an_imports_result_is_its_counts(world, saved_connection, as_user) -> None:
    saved_connection()
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a,
            actor=world.admin,
            vendor="tripletex",
            kind="customer_import_preview",
        )
        services.finish_job(job, counts={"total": 3, "new": 2, "existing": 1, "conflict": 0})
    page = _history(as_user(world.admin))
    assert "3 read, 2 new, 1 existing" in page
    assert "conflict" not in page.split(f'data-job="{job.public_id}"')[1].split("</tr>")[0]


def test_the_notification_carries_the_outcome_and_links_to_the_job(world, kind) -> None:
    job = _run(world, world.admin)
    with scopes_disabled():
        note = Notification.objects.get(recipient=world.admin)
    assert "History test finished. 220 created, 1 failed" in note.text
    assert note.link == reverse("integration_job", args=["tripletex", job.public_id])
    assert note.level == "warning"  # something failed: not painted as a plain success


def test_a_job_watched_to_its_end_leaves_no_unread_notification(world, kind, as_user) -> None:
    """The poll that sees the job finish comes before the worker's notification: the worker's
    is then skipped; and after it: it is marked read."""
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind=KIND
        )
        services.finish_job(job, counts={"created": 5})
    poll = as_user(world.admin).get(
        reverse("integration_job", args=["tripletex", job.public_id]), HTTP_HX_REQUEST="true"
    )
    assert poll.status_code == 200
    job.refresh_from_db()
    with world.scope_a():
        jobs._notify_end(job)  # the worker's notification, after the poll
        notes = list(Notification.objects.filter(recipient=world.admin))
    assert len(notes) == 1 and notes[0].read_at is not None and "5 created" in notes[0].text

    watched_late = _run(world, world.admin)  # notified first, then the poll sees it
    with world.scope_a():
        assert Notification.objects.filter(recipient=world.admin, read_at__isnull=True).count() == 1
    as_user(world.admin).get(
        reverse("integration_job", args=["tripletex", watched_late.public_id]),
        HTTP_HX_REQUEST="true",
    )
    with world.scope_a():
        assert not Notification.objects.filter(recipient=world.admin, read_at__isnull=True).exists()


def test_opening_a_finished_job_later_does_not_mark_it_read(world, kind, as_user) -> None:
    job = _run(world, world.admin)
    as_user(world.admin).get(reverse("integration_job", args=["tripletex", job.public_id]))
    with world.scope_a():
        assert Notification.objects.filter(recipient=world.admin, read_at__isnull=True).exists()


def test_history_filters_by_kind_status_and_date_and_pages_keep_them(
    world, saved_connection, as_user
) -> None:
    saved_connection()
    with world.scope_a():
        for n in range(27):
            job, _ = services.start_job(
                company=world.firm_a,
                actor=world.admin,
                vendor="tripletex",
                kind="product_import",
                scope=str(n),
            )
            services.finish_job(job, counts={})
        failed, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="vat_type_import"
        )
        services.finish_job(failed, error=TransientError("Busy."))
        old, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="vat_type_import"
        )
        services.finish_job(old, counts={})
        SyncJob.objects.filter(pk=old.pk).update(
            created_at=timezone.now() - timedelta(days=40),
            started_at=timezone.now() - timedelta(days=40),
        )
    client = as_user(world.admin)
    only_failed = _history(client, status="failed")
    assert only_failed.count("data-job=") == 1 and str(failed.public_id) in only_failed
    vat = _history(client, kind="vat_type_import")
    assert vat.count("data-job=") == 2
    recent = (timezone.localdate() - timedelta(days=7)).isoformat()
    recent_vat = _history(client, kind="vat_type_import", date_from=recent)
    assert recent_vat.count("data-job=") == 1 and str(old.public_id) not in recent_vat
    products = _history(client, kind="product_import")
    assert products.count("data-job=") == 25 and "Page 1 of 2" in products
    assert "?tab=history&amp;kind=product_import&amp;page=2" in products
    nothing = _history(client, kind="product_import", status="cancelled")
    assert "No job matches these filters." in nothing and "Clear filters" in nothing


def test_list_and_detail_show_the_same_start_time(world, saved_connection, as_user) -> None:
    saved_connection()
    requested = timezone.now() - timedelta(hours=3)
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
        services.finish_job(job, counts={})
        SyncJob.objects.filter(pk=job.pk).update(
            created_at=requested, started_at=requested + timedelta(minutes=7)
        )
        job.refresh_from_db()
    client = as_user(world.admin)
    shown = formats.date_format(timezone.localtime(job.start_time), "SHORT_DATETIME_FORMAT")
    requested_shown = formats.date_format(timezone.localtime(requested), "SHORT_DATETIME_FORMAT")
    listed = _history(client).split(f'data-job="{job.public_id}"')[1].split("</td>")[0]
    detail = client.get(reverse("integration_job", args=["tripletex", job.public_id])).content
    started = detail.decode().split('id="job-started">')[1].split("</dd>")[0]
    assert shown != requested_shown  # the start, not the request, on both
    assert shown in listed and started == shown


def test_a_member_opens_their_own_jobs_page_and_no_one_elses(world, saved_connection, as_user):
    saved_connection()
    with world.scope_a():
        own, _ = services.start_job(
            company=world.firm_a, actor=world.billing, vendor="tripletex", kind="invoice_status"
        )
        other, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
    client = as_user(world.billing)
    assert (
        client.get(reverse("integration_job", args=["tripletex", own.public_id])).status_code == 200
    )
    assert (
        client.get(reverse("integration_job", args=["tripletex", other.public_id])).status_code
        == 403
    )


def test_the_bell_opens_the_latest_notifications_and_unread_is_not_green(world, kind, as_user):
    job = _run(world, world.admin)
    client = as_user(world.admin)
    page = client.get(reverse("home")).content.decode()
    assert 'hx-get="/notifications/menu/"' in page and 'aria-controls="notification-menu"' in page
    menu = client.get(reverse("notifications_menu"), HTTP_HX_REQUEST="true").content.decode()
    assert "220 created, 1 failed" in menu and 'data-status="unread"' in menu
    assert "list-group-item-success" not in menu
    listing = client.get(reverse("notifications")).content.decode()
    assert "list-group-item-success" not in listing and "status-info" in listing
    assert reverse("integration_job", args=["tripletex", job.public_id]) not in menu  # a POST link
    with scopes_disabled():
        other = world.outsider
    assert "220 created" not in as_user(other).get(reverse("notifications_menu")).content.decode()


@pytest.mark.parametrize(
    ("language", "typed", "shown"),
    [
        ("nb", "01.11.2026", "01.11.2026"),
        ("en", "01/11/2026", "01/11/2026"),
        ("nb", "2026-11-01", "2026-11-01"),  # a link or script may send ISO
    ],
)
def test_the_date_filter_is_typed_and_shown_the_way_the_language_writes_dates(
    world, saved_connection, as_user, language, typed, shown
) -> None:
    saved_connection()
    with world.scope_a():
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
        services.finish_job(job, counts={})
    client = as_user(world.admin)
    client.cookies.load({"django_language": language})
    page = client.get(
        reverse("integration_detail", args=["tripletex"]),
        {"tab": "history", "date_from": typed},
        HTTP_ACCEPT_LANGUAGE=language,
    ).content.decode()
    date_from = (
        page.split('name="date_from"')[0].rsplit("<input", 1)[1]
        + page.split('name="date_from"')[1].split(">")[0]
    )
    # A native date picker follows the browser's locale (mm/dd/yyyy in an English browser), not
    # the page's language.
    assert 'type="date"' not in page
    assert f'value="{shown}"' in date_from
    assert "is-invalid" not in date_from


def expired_token_runner(*, job: SyncJob, adapter: Any) -> dict[str, Any]:
    """Fails as a Tripletex token that expired would, in the worker's (default) language."""
    from integrations.base import AuthError
    from integrations.tripletex.errors import say

    raise AuthError(say("token_expired"))


def test_a_job_error_is_shown_in_the_readers_language(world, saved_connection, as_user) -> None:
    saved_connection()
    jobs.register_job_kind("expired_test", f"{__name__}.expired_token_runner", "Expiry test")
    try:
        with world.scope_a():
            job, _ = services.start_job(
                company=world.firm_a, actor=world.admin, vendor="tripletex", kind="expired_test"
            )
        jobs.run_sync_job.apply(args=[job.pk]).get()  # the worker speaks the default language
    finally:
        jobs.JOB_KINDS.pop("expired_test", None)
    job.refresh_from_db()
    assert job.status == SyncJobStatus.FAILED
    assert job.error.startswith("The Tripletex employee token has expired.")
    norwegian = "Ansatt-tokenet fra Tripletex har utløpt."
    client = as_user(world.admin)
    client.cookies.load({"django_language": "nb"})
    nb = {"HTTP_ACCEPT_LANGUAGE": "nb"}
    listed = client.get(
        reverse("integration_detail", args=["tripletex"]), {"tab": "history"}, **nb
    ).content.decode()
    detail = client.get(reverse("integration_job", args=["tripletex", job.public_id]), **nb)
    overview = client.get(reverse("integration_detail", args=["tripletex"]), **nb)
    assert norwegian in listed and "has expired" not in listed
    assert norwegian in detail.content.decode()
    assert norwegian in overview.content.decode()  # the connection's error headline
    with scopes_disabled():
        note = Notification.objects.get(recipient=world.admin, link__contains=str(job.public_id))
    with translation.override("nb"):
        assert norwegian in note.text_shown
    assert "has expired" in note.text
    client.cookies.load({"django_language": "en"})
    english = client.get(reverse("integration_job", args=["tripletex", job.public_id]))
    assert "The Tripletex employee token has expired." in english.content.decode()
