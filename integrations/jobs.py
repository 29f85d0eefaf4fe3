"""Running sync jobs in the background: one Celery task for every kind of job.

An app registers a kind with the function that does the work (`register_job_kind`), requests a job
with `request_job` (which joins a queued or running job of the same kind and scope), and the task
`run_sync_job` does the rest the same way for every kind:

- reloads the job by id and works inside the firm's scope; a job that is gone or already finished
  is left alone, so a duplicate delivery is harmless;
- builds the adapter for the firm's connection, logging every API call on the job;
- transient errors (timeouts, 5xx, 429) put the job back in the queue and retry with backoff and
  jitter, up to `MAX_RETRIES`; a permanent error fails the job, flags the connection and tells
  the firm's admins what to do;
- the requester is notified when the job ends, either way.

A runner is `fn(*, job: SyncJob, adapter: AccountingAdapter) -> dict` returning counts for the
summary. It reports progress with `report_progress` and must be idempotent: it may run again after
a retry, so it writes with upserts keyed by remote ids.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import shared_task
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from integrations import services
from integrations.base import AccountingAdapter, IntegrationError, RateLimited, get_vendor
from integrations.models import NotificationLevel, SyncJob, SyncJobStatus
from uku.models import Company, User

logger = logging.getLogger(__name__)
MAX_RETRIES = 5


@dataclass(frozen=True)
class JobKind:
    key: str
    runner_path: str
    label: Any  # lazy translatable text for History and notifications
    link: Callable[[SyncJob], str] | None = None  # where the "done" notification points


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    key: str, runner_path: str, label: Any, link: Callable[[SyncJob], str] | None = None
) -> None:
    """Declare a kind of sync job (call from an AppConfig.ready)."""
    JOB_KINDS[key] = JobKind(key, runner_path, label, link)


def job_label(kind: str) -> str:
    if kind == "connection_test":
        return _("Connection test")
    known = JOB_KINDS.get(kind)
    return str(known.label) if known else kind


def request_job(
    *,
    company: Company,
    actor: User | None,
    vendor: str,
    kind: str,
    scope_key: str = "",
    options: dict[str, Any] | None = None,
) -> tuple[SyncJob, bool]:
    """Queue a job (or join the one already queued or running). Returns (job, created).

    The task is sent after the transaction commits, so the worker always finds the row.
    """
    if kind not in JOB_KINDS:
        raise KeyError(f"unknown job kind {kind!r}")
    job, created = services.start_job(
        company=company, actor=actor, vendor=vendor, kind=kind, scope=scope_key, options=options
    )
    if created:
        transaction.on_commit(lambda: _send(job))
    return job, created


def _send(job: SyncJob) -> None:
    """Queue the task; if the broker refuses, fail the job visibly instead of leaving it queued."""
    try:
        run_sync_job.delay(job.pk)
    except Exception as exc:
        logger.exception("could not queue sync job %s", job.public_id)
        services.finish_job(
            job,
            error=IntegrationError(
                _("The job could not be queued (%(error)s). Try again in a minute.")
                % {"error": type(exc).__name__}
            ),
        )


def report_progress(job: SyncJob, done: int, total: int | None = None) -> None:
    """Record progress (one UPDATE); the UI's progress bar polls it."""
    job.progress_done = done
    fields: dict[str, Any] = {"progress_done": done}
    if total is not None:
        job.progress_total = total
        fields["progress_total"] = total
    SyncJob.objects.filter(pk=job.pk).update(**fields)


def _backoff(retries: int, error: IntegrationError) -> float:
    if isinstance(error, RateLimited):
        return max(1.0, error.retry_after) + random.uniform(0, 2)  # noqa: S311 - jitter
    return min(600.0, 10.0 * 2**retries) * random.uniform(0.8, 1.2)  # noqa: S311


@shared_task(
    bind=True, acks_late=True, max_retries=MAX_RETRIES, time_limit=3600, soft_time_limit=3500
)
def run_sync_job(self: Any, job_id: int) -> str:
    """Run one sync job by id. Safe to run twice: a finished or missing job is left alone."""
    with scopes_disabled():
        job = SyncJob.objects.select_related("company", "requested_by").filter(pk=job_id).first()
    if job is None or job.status not in (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING):
        return "skipped"
    kind = JOB_KINDS.get(job.kind)
    with scope(company=job.company):
        if kind is None:
            services.finish_job(job, error=IntegrationError(_("This kind of job is unknown.")))
            return "failed"
        connection = services.get_connection(job.company, job.vendor)
        # Claim the job: only one delivery runs it. A queued job is taken by a conditional
        # update; a running one only when its run is older than the task's time limit (its
        # worker died and the message was delivered again).
        now = timezone.now()
        lease_over = now - timedelta(seconds=self.time_limit or 3600)
        claimed = (
            SyncJob.objects.filter(pk=job.pk)
            .filter(
                Q(status=SyncJobStatus.QUEUED)
                | Q(status=SyncJobStatus.RUNNING, started_at__lt=lease_over)
            )
            .update(status=SyncJobStatus.RUNNING, started_at=now, error="")
        )
        if not claimed:
            return "skipped"
        job.refresh_from_db()
        adapter: AccountingAdapter | None = None
        try:
            adapter = services.adapter_for(connection, job)
            counts = import_string(kind.runner_path)(job=job, adapter=adapter)
        except IntegrationError as exc:
            if not exc.permanent and self.request.retries < self.max_retries:
                countdown = _backoff(self.request.retries, exc)
                SyncJob.objects.filter(pk=job.pk).update(
                    status=SyncJobStatus.QUEUED,
                    error=_("%(error)s Retrying in %(seconds)d seconds.")
                    % {"error": exc.message, "seconds": countdown},
                )
                raise self.retry(countdown=countdown, exc=exc) from None
            services.finish_job(job, error=exc)
            if exc.permanent:
                services.record_sync_failure(connection, exc)
            _notify_end(job)
            return "failed"
        except Exception as exc:
            services.finish_job(job, error=exc)
            _notify_end(job)
            raise
        finally:
            if adapter is not None:
                adapter.close()
        services.finish_job(job, counts=counts or {})
        services.record_sync_success(connection, job)
        _notify_end(job)
        return "succeeded"


def _notify_end(job: SyncJob) -> None:
    if job.requested_by is None:
        return
    kind = JOB_KINDS.get(job.kind)
    vendor = get_vendor(job.vendor).label
    if job.status == SyncJobStatus.SUCCEEDED:
        text = _("%(vendor)s: %(job)s finished.") % {"vendor": vendor, "job": job_label(job.kind)}
        level = NotificationLevel.SUCCESS
    else:
        text = _("%(vendor)s: %(job)s failed: %(error)s") % {
            "vendor": vendor,
            "job": job_label(job.kind),
            "error": job.error,
        }
        level = NotificationLevel.ERROR
    link = kind.link(job) if kind and kind.link else f"/settings/apps/{job.vendor}/?tab=history"
    services.notify(
        company=job.company,
        users=[job.requested_by],
        text=text,
        level=level,
        link=link,
        key=f"job-end:{job.pk}",
    )
