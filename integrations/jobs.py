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

import functools
import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q, QuerySet, Value
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scope, scopes_disabled

from integrations import services
from integrations.base import (
    AccountingAdapter,
    BooksAccessLost,
    Capability,
    IntegrationError,
    RateLimited,
    TransientError,
    get_vendor,
)
from integrations.models import (
    ACTIVE_JOB_STATUSES,
    NotificationLevel,
    SyncJob,
    SyncJobStatus,
    stalled_before,
)
from uku.i18n import every_language
from uku.models import Company, User
from uku.permissions import ADMIN_ROLES, require

logger = logging.getLogger(__name__)
MAX_RETRIES = 5


@dataclass(frozen=True)
class JobKind:
    key: str
    runner_path: str
    label: Any  # lazy translatable text for History and notifications
    # The page where the job's work is used (the Import tab, the invoice list), linked from the
    # job's page; the "done" notification points at the job's page (`result_link`).
    link: Callable[[SyncJob], str] | None = None
    capability: Capability | None = None  # what the vendor must be able to do to run it
    # Dotted path of fn(job) -> str: the counts in words, added to the "finished" notification.
    summary: str = ""


JOB_KINDS: dict[str, JobKind] = {}


def register_job_kind(
    key: str,
    runner_path: str,
    label: Any,
    link: Callable[[SyncJob], str] | None = None,
    capability: Capability | None = None,
    summary: str = "",
) -> None:
    """Declare a kind of sync job (call from an AppConfig.ready). A job of a kind that needs
    `capability` is refused, with `CapabilityMissing`, for a vendor without it. `summary`, a
    dotted path of fn(job) -> str, puts the job's counts into its "finished" notification."""
    JOB_KINDS[key] = JobKind(key, runner_path, label, link, capability, summary)


# The counts a job's runner returns, in the order a person reads them, with their words. A key
# missing from a job's counts, or zero, is not mentioned.
def _count_words(key: str, n: int) -> str:
    words = {
        "total": lambda: ngettext("%(n)d read", "%(n)d read", n),
        "new": lambda: ngettext("%(n)d new", "%(n)d new", n),
        "existing": lambda: ngettext("%(n)d existing", "%(n)d existing", n),
        "linked": lambda: ngettext("%(n)d already linked", "%(n)d already linked", n),
        "conflict": lambda: ngettext("%(n)d conflict", "%(n)d conflicts", n),
        "inactive": lambda: ngettext("%(n)d inactive", "%(n)d inactive", n),
        "created": lambda: ngettext("%(n)d created", "%(n)d created", n),
        "updated": lambda: ngettext("%(n)d updated", "%(n)d updated", n),
        "deactivated": lambda: ngettext("%(n)d deactivated", "%(n)d deactivated", n),
        "unchanged": lambda: ngettext("%(n)d unchanged", "%(n)d unchanged", n),
        "done": lambda: ngettext("%(n)d done", "%(n)d done", n),
        "skipped": lambda: ngettext("%(n)d skipped", "%(n)d skipped", n),
        "not_found": lambda: ngettext("%(n)d not found", "%(n)d not found", n),
        "failed": lambda: ngettext("%(n)d failed", "%(n)d failed", n),
    }
    return words[key]() % {"n": n}


COUNT_KEYS = (
    "total",
    "new",
    "existing",
    "linked",
    "conflict",
    "inactive",
    "created",
    "updated",
    "deactivated",
    "unchanged",
    "done",
    "skipped",
    "not_found",
    "failed",
)


def format_counts(counts: dict[str, Any]) -> str:
    """A runner's flat counts in words: "220 created, 1 failed". Keys other than the common
    ones (`COUNT_KEYS`) and zero counts are left out; "" when nothing is left."""
    parts = []
    for key in COUNT_KEYS:
        value = counts.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            parts.append(_count_words(key, value))
    return ", ".join(parts)


def describe_result(job: SyncJob) -> str:
    """What a finished job did, in words, for History and its notification: the kind's own
    `summary` when it declares one, else its flat counts (`format_counts`); the remote company's
    name for a connection test; "" for a job with nothing to say (still running, or failed
    before counting anything)."""
    kind = JOB_KINDS.get(job.kind)
    counts = job.counts if isinstance(job.counts, dict) else {}
    if kind and kind.summary and job.status == SyncJobStatus.SUCCEEDED:
        return str(import_string(kind.summary)(job))
    if job.kind == "connection_test" and counts.get("company"):
        return str(counts["company"])
    return format_counts(counts)


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

    A stalled job is not joined, since its worker is gone and it would wait forever: it is resumed
    and then joined. The task is sent after the transaction commits, so the worker always finds
    the row.
    """
    if kind not in JOB_KINDS:
        raise KeyError(f"unknown job kind {kind!r}")
    if (needed := JOB_KINDS[kind].capability) is not None:
        get_vendor(vendor).require(needed)
    job, created = services.start_job(
        company=company, actor=actor, vendor=vendor, kind=kind, scope=scope_key, options=options
    )
    if created:
        transaction.on_commit(lambda: _send(job))
    elif job.is_stalled and not resume_job(job):
        # It had been resumed too often and is now failed: this request starts a fresh one.
        return request_job(
            company=company,
            actor=actor,
            vendor=vendor,
            kind=kind,
            scope_key=scope_key,
            options=options,
        )
    elif job.status == SyncJobStatus.QUEUED and (job.wake_at or job.created_at) < stalled_before():
        # Long past due and not picked up: its message may be lost. Another one is harmless
        # (only one delivery can claim the job).
        transaction.on_commit(lambda: _send(job))
    return job, created


def _send(job: SyncJob) -> None:
    """Queue the task; if the broker refuses, fail the job visibly instead of leaving it queued."""
    try:
        run_sync_job.delay(job.pk)
    except Exception as exc:
        logger.exception("could not queue sync job %s", job.public_id)
        # An on-commit callback may run after the request's scope has ended: the job is known
        # by its id, so no scope is needed (a ScopeError here left the job queued for ever).
        with scopes_disabled():
            services.finish_job(
                job,
                error=IntegrationError(
                    _("The job could not be queued (%(error)s). Try again in a minute.")
                    % {"error": type(exc).__name__}
                ),
            )


class LeaseLost(Exception):
    """This run no longer owns its job: it was taken over (it looked stalled) or ended by
    someone else. The run stops without writing anything more; it is not a failure."""


class JobCancelled(LeaseLost):
    """A person cancelled the job while this run worked on it: the run stops at its next
    progress report, exactly like a lost lease (a batch in progress is rolled back)."""


def _owned(job: SyncJob) -> QuerySet[SyncJob]:
    """The job's row if this run still holds it: running, under the claim (`attempts`) it took."""
    return SyncJob.objects.filter(pk=job.pk, status=SyncJobStatus.RUNNING, attempts=job.attempts)


def report_progress(job: SyncJob, done: int, total: int | None = None) -> None:
    """Record progress (one UPDATE, which is also a heartbeat); the UI's progress bar polls it.

    Raises `LeaseLost` when the job was taken over meanwhile, so a runner that was only slow
    (not dead) stops at its next batch instead of working next to its successor; inside a
    batch's transaction, that also rolls the batch back.
    """
    job.progress_done = done
    fields: dict[str, Any] = {"progress_done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        job.progress_total = total
        fields["progress_total"] = total
    if job.status == SyncJobStatus.RUNNING and job.attempts:
        if not _owned(job).update(**fields):
            # One more query, only on the way out: say why the run stops.
            if SyncJob.objects.filter(pk=job.pk, status=SyncJobStatus.CANCELLED).exists():
                raise JobCancelled(job.pk)
            raise LeaseLost(job.pk)
    else:  # not run through `run_sync_job` (a direct call in a script or test)
        SyncJob.objects.filter(pk=job.pk).update(**fields)


def _backoff(retries: int, error: IntegrationError) -> float:
    if isinstance(error, RateLimited):
        return max(1.0, error.retry_after) + random.uniform(0, 2)  # noqa: S311 - jitter
    return min(600.0, 10.0 * 2**retries) * random.uniform(0.8, 1.2)  # noqa: S311


class Heartbeat:
    """Proves, while a runner works, that its worker is alive: a thread moves the job's
    `heartbeat_at` forward every `UKU_JOB_HEARTBEAT_SECONDS`, as long as this run holds the
    job (`attempts`).

    A thread rather than a write per batch, because a runner can be silent for a long time
    without being dead (a slow page from the vendor, a wait for the shared rate-limit budget),
    and a killed worker must be told from a slow one within the short stall interval. The
    thread has its own database connection and closes it when it stops; no error stops it.
    """

    def __init__(self, job: SyncJob) -> None:
        self.job_id, self.attempts = job.pk, job.attempts
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job.pk}", daemon=True)

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        interval = settings.UKU_JOB_HEARTBEAT_SECONDS
        try:
            while not self._stop.wait(interval):
                try:
                    with scopes_disabled():
                        SyncJob.objects.filter(
                            pk=self.job_id, status=SyncJobStatus.RUNNING, attempts=self.attempts
                        ).update(heartbeat_at=timezone.now())
                except Exception:
                    # A missed beat is harmless (the next one comes soon); a database that stays
                    # down makes the job stalled, and it is resumed once the database is back.
                    logger.warning("heartbeat of sync job %s not written", self.job_id)
                    db.connection.close()
        finally:
            db.connection.close()


def _stalled(stale: datetime) -> Q:
    """Running, and not heard from since `stale`: its worker is gone."""
    return Q(status=SyncJobStatus.RUNNING, heartbeat_at__lt=stale) | Q(
        status=SyncJobStatus.RUNNING, heartbeat_at__isnull=True, started_at__lt=stale
    )


# A retry's message may arrive a moment before its `wake_at` (clocks of two hosts).
WAKE_TOLERANCE = timedelta(seconds=5)


def _claim(job: SyncJob, *, eager: bool = False) -> bool:
    """Take the job for this delivery: a conditional UPDATE, so only one delivery runs it.

    A queued job is free once it is due (`wake_at`: a message that comes early, a duplicate
    sent while a retry waits out its backoff, is skipped; the retry's own message follows); a
    running one only when it is stalled. The claim increments `attempts`, which is this run's
    lease: every later write of the run checks it. An `eager` run (no broker, so no ETA to wait
    for) is always due.
    """
    now = timezone.now()
    queued = Q(status=SyncJobStatus.QUEUED)
    if not eager:
        queued &= Q(wake_at__isnull=True) | Q(wake_at__lte=now + WAKE_TOLERANCE)
    claimed = (
        SyncJob.objects.filter(pk=job.pk)
        .filter(queued | _stalled(stalled_before()))
        .update(
            status=SyncJobStatus.RUNNING,
            started_at=Coalesce("started_at", Value(now)),
            heartbeat_at=now,
            wake_at=None,
            attempts=F("attempts") + 1,
            error="",
        )
    )
    if claimed:
        job.refresh_from_db()
    return bool(claimed)


def _database_error(exc: db.Error) -> IntegrationError:
    """A lost or locked database is transient: the job is retried, never failed for it."""
    if not db.connection.in_atomic_block:
        db.connection.close()  # a broken connection is reopened on the next query
    return TransientError(
        _("The database was briefly unavailable (%(error)s).") % {"error": type(exc).__name__}
    )


def _quietly(what: str, job: SyncJob, fn: Callable[[], object]) -> None:
    """Cleanup after a job has ended: its failure is logged, never allowed to undo the end."""
    try:
        fn()
    except Exception:
        logger.exception("%s after sync job %s failed", what, job.public_id)


@shared_task(bind=True, acks_late=True, max_retries=None, time_limit=3600, soft_time_limit=3500)
def run_sync_job(self: Any, job_id: int) -> str:
    """Run one sync job by id. Safe to run twice: a finished, missing, live or not-yet-due job
    is left alone, and a stalled one is taken over and resumed (runners skip what is already
    committed). Transient errors are retried while the job has had at most `MAX_RETRIES`
    attempts (counted on the job, not per message, so duplicate messages add none)."""
    with scopes_disabled():
        job = (
            SyncJob.objects.select_related("company", "requested_by", "connection")
            .filter(pk=job_id)
            .first()
        )
    if job is None or job.status not in (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING):
        return "skipped"
    kind = JOB_KINDS.get(job.kind)
    with scope(company=job.company):
        if kind is None:
            services.finish_job(job, error=IntegrationError(_("This kind of job is unknown.")))
            return "failed"
        if not _claim(job, eager=bool(self.request.is_eager)):
            return "skipped"
        connection = job.connection or services.get_connection(job.company, job.vendor)
        adapter: AccountingAdapter | None = None
        error: IntegrationError | None = None
        try:
            with Heartbeat(job):
                adapter = services.adapter_for(connection, job)
                counts = import_string(kind.runner_path)(job=job, adapter=adapter)
        except JobCancelled:
            logger.info("sync job %s was cancelled; this run stops", job.public_id)
            _quietly("closing the adapter", job, lambda: adapter.close() if adapter else None)
            return "cancelled"
        except LeaseLost:
            logger.warning("sync job %s was taken over; this run stops", job.public_id)
            _quietly("closing the adapter", job, lambda: adapter.close() if adapter else None)
            return "taken over"
        except SoftTimeLimitExceeded:
            # Not a failure: the run used its time. Hand the job to a fresh run, which
            # continues after the last committed batch.
            _quietly("closing the adapter", job, lambda: adapter.close() if adapter else None)
            if _owned(job).update(status=SyncJobStatus.QUEUED, heartbeat_at=None, wake_at=None):
                raise self.retry(countdown=0) from None
            return "taken over"
        except IntegrationError as exc:
            error = exc
        except db.Error as exc:
            error = _database_error(exc)
        except Exception as exc:
            services.finish_job(job, error=exc)
            _end(job, adapter)
            raise
        if error is not None and not error.permanent and job.attempts <= MAX_RETRIES:
            countdown = _backoff(job.attempts - 1, error)
            _quietly("closing the adapter", job, lambda: adapter.close() if adapter else None)
            requeued = _owned(job).update(
                status=SyncJobStatus.QUEUED,
                heartbeat_at=None,
                wake_at=timezone.now() + timedelta(seconds=countdown),
                error=_("%(error)s Retrying in %(seconds)d seconds.")
                % {"error": error.message, "seconds": countdown},
            )
            if not requeued:
                return "taken over"
            if self.request.is_eager:
                # Eager mode (tests; no broker) has nothing to wait out the countdown, and with
                # eager propagation Celery's Retry escapes `delay()`, which left the job queued
                # with nobody to run it (a preview "not ready yet" after one slow call). Run the
                # retry now, as Celery itself does for eager tasks whose errors do not propagate;
                # `attempts` still bounds how often. An eager `delay()` runs its task under
                # Celery's "no joining inside a task" guard, so the (already finished) eager
                # result is read without it; otherwise the retry itself raised and the job
                # ended "could not be queued".
                retried = run_sync_job.apply(args=(job_id,), throw=True)
                return str(retried.get(disable_sync_subtasks=False))
            raise self.retry(countdown=countdown, exc=error) from None
        # The job's end is written first: nothing that follows (closing the adapter, flagging the
        # connection, notifying) can leave it "running".
        if error is not None:
            if not services.finish_job(job, error=error):
                return "taken over"
            # Lost access to ONE client's books says nothing about the firm's credentials: the
            # job fails (only that client's work), the connection stays as it is and nobody is
            # asked for a new token.
            if error.permanent and not isinstance(error, BooksAccessLost):
                _quietly(
                    "flagging the connection",
                    job,
                    lambda: services.record_sync_failure(connection, error),
                )
            _end(job, adapter)
            return "failed"
        if not services.finish_job(job, counts=counts or {}):
            return "taken over"
        _quietly("recording success", job, lambda: services.record_sync_success(connection, job))
        _end(job, adapter)
        return "succeeded"


def _end(job: SyncJob, adapter: AccountingAdapter | None) -> None:
    if adapter is not None:
        _quietly("closing the adapter", job, adapter.close)
    _quietly("notifying", job, lambda: _notify_end(job))


def resume_job(job: SyncJob) -> bool:
    """Wake a stalled job again: count the resume and send a new message, which takes the job
    over through `_claim`. A job resumed `UKU_JOB_MAX_RESUMES` times is failed instead, with a
    message that says so (something in it keeps killing its worker).

    Both are conditional on the job still being stalled, so a job that a delivery took over
    meanwhile is left alone. Returns True when a message was sent. Safe to call twice: extra
    messages find the job claimed and are skipped.
    """
    still_stalled = SyncJob.objects.filter(Q(pk=job.pk) & _stalled(stalled_before()))
    if job.kind not in JOB_KINDS:
        # Jobs run inside a web request (connection tests) cannot be resumed: their request is
        # gone. End them so they block nothing.
        still_stalled.update(
            status=SyncJobStatus.FAILED,
            finished_at=timezone.now(),
            error=_("The job was interrupted. Start it again."),
        )
        return False
    if job.resumes >= settings.UKU_JOB_MAX_RESUMES:
        ended = still_stalled.update(
            status=SyncJobStatus.FAILED,
            finished_at=timezone.now(),
            error=_(
                "The job stopped %(count)d times without finishing, so it was not resumed "
                "again. What it had saved is kept; start it again, or contact support if it "
                "keeps stopping."
            )
            % {"count": job.resumes + 1},
        )
        if ended:
            job.refresh_from_db()
            _quietly("notifying", job, lambda: _notify_end(job))
        return False
    if not still_stalled.update(resumes=F("resumes") + 1):
        return False
    job.refresh_from_db()
    transaction.on_commit(lambda: _send(job))
    return True


def resume(*, job: SyncJob, actor: User) -> bool:
    """A person's *Resume*: resume `job` now if it is stalled. Owners and admins may resume any
    job of the firm, others the jobs they started. Returns True when it was resumed; a job that
    is not stalled is left alone (it is alive, or already ended)."""
    if job.requested_by_id != actor.pk:
        require(
            job.company,
            actor,
            roles=ADMIN_ROLES,
            message=_("Only owners, admins and the person who started it can resume a job."),
        )
    job.refresh_from_db()
    return job.is_stalled and resume_job(job)


# Kinds a person may cancel (`register_cancellable`): jobs whose runner stops cleanly at a
# progress report and leaves consistent data behind (each batch commits whole).
CANCELLABLE_KINDS: set[str] = set()


def register_cancellable(kind: str) -> None:
    """Let people cancel queued, retrying or running jobs of `kind` (call from an
    AppConfig.ready, after `register_job_kind`). Only for runners whose work is committed in
    whole batches, so stopping between two reports leaves nothing half-done."""
    CANCELLABLE_KINDS.add(kind)


def is_cancellable(job: SyncJob) -> bool:
    """Whether `cancel` would stop `job`: a cancellable kind, queued (also waiting for a retry)
    or running."""
    return job.kind in CANCELLABLE_KINDS and job.status in (
        SyncJobStatus.QUEUED,
        SyncJobStatus.RUNNING,
    )


def cancel(*, job: SyncJob, actor: User) -> bool:
    """A person's *Cancel*: end `job` as cancelled if it is still queued or running. Owners and
    admins may cancel any job of the firm, others the jobs they started.

    A conditional UPDATE, so it races safely with the job's own end: True when this call
    cancelled it, False when it had ended (or is not of a cancellable kind). A cancelled job is
    never claimed again (`_claim` takes only queued or stalled running jobs), its pending
    messages are skipped, and a runner working on it stops at its next `report_progress`
    (`JobCancelled`). Idempotent: cancelling twice cancels once. Nobody is notified: the person
    cancelling sees it happen."""
    if job.requested_by_id != actor.pk:
        require(
            job.company,
            actor,
            roles=ADMIN_ROLES,
            message=_("Only owners, admins and the person who started it can cancel a job."),
        )
    if job.kind not in CANCELLABLE_KINDS:
        return False
    who = actor.get_full_name() or actor.email
    cancelled = SyncJob.objects.filter(pk=job.pk, status__in=ACTIVE_JOB_STATUSES).update(
        status=SyncJobStatus.CANCELLED,
        finished_at=timezone.now(),
        heartbeat_at=None,
        wake_at=None,
        error=_("Cancelled by %(name)s.") % {"name": who},
    )
    job.refresh_from_db()
    return bool(cancelled)


def stalled_jobs() -> QuerySet[SyncJob]:
    """Every job that needs waking (across firms): running ones whose heartbeat stopped, and
    queued ones nobody picked up long after they were due (their message was lost, as the
    filesystem broker loses a message taken by a worker that is then killed). A job run inside
    a web request (a connection test) has no heartbeat: it counts only once far older than any
    request lives."""
    stale = stalled_before()
    # A queued job may wait behind busy workers; only one far past due counts as lost.
    long_ago = timezone.now() - 10 * timedelta(seconds=settings.UKU_JOB_STALL_SECONDS)
    in_request = ~Q(kind__in=list(JOB_KINDS))
    return SyncJob.objects.filter(
        (_stalled(stale) & ~in_request)
        | (in_request & Q(status=SyncJobStatus.RUNNING, started_at__lt=long_ago))
        | Q(status=SyncJobStatus.QUEUED, wake_at__lt=long_ago)
        | Q(status=SyncJobStatus.QUEUED, wake_at__isnull=True, created_at__lt=long_ago)
    )


def resume_stalled() -> int:
    """Resume every stalled job (the sweeper's work). Returns how many were woken. One job's
    error is logged and does not stop the others."""
    woken = 0
    with scopes_disabled():
        jobs = list(stalled_jobs().select_related("company", "requested_by"))
    for job in jobs:
        try:
            with scope(company=job.company):
                if job.status == SyncJobStatus.QUEUED:
                    # A lost message is not the job's fault: send it again without counting a
                    # resume.
                    SyncJob.objects.filter(pk=job.pk, status=SyncJobStatus.QUEUED).update(
                        wake_at=timezone.now()
                    )
                    transaction.on_commit(functools.partial(_send, job))
                    woken += 1
                elif resume_job(job):
                    woken += 1
        except Exception:
            logger.exception("could not resume sync job %s", job.public_id)
    return woken


def _notify_end(job: SyncJob) -> None:
    """Tell the person who started `job` how it ended, with the outcome in words and a link to
    that job's result. Once per job and person (the key): a person who watched the job finish
    on screen has a read one already (`services.mark_job_seen`), so nothing new turns up."""
    if job.requested_by is None:
        return
    vendor = get_vendor(job.vendor).label
    failed = job.counts.get("failed") if isinstance(job.counts, dict) else None
    if job.status != SyncJobStatus.SUCCEEDED:
        level = NotificationLevel.ERROR
    elif isinstance(failed, int) and failed > 0:
        level = NotificationLevel.WARNING
    else:
        level = NotificationLevel.SUCCESS

    def render() -> str:
        outcome = describe_result(job)
        if job.status == SyncJobStatus.SUCCEEDED:
            text = _("%(vendor)s: %(job)s finished.") % {
                "vendor": vendor,
                "job": job_label(job.kind),
            }
            return f"{text} {outcome}" if outcome else text
        text = _("%(vendor)s: %(job)s failed: %(error)s") % {
            "vendor": vendor,
            "job": job_label(job.kind),
            "error": job.error_shown,
        }
        return f"{text} ({outcome})" if outcome else text

    # In every language: the person reads it later, in their own.
    text = every_language(render)
    services.notify(
        company=job.company,
        users=[job.requested_by],
        text=text,
        level=level,
        link=result_link(job),
        key=services.job_notification_key(job),
    )


def result_link(job: SyncJob) -> str:
    """Where a person sees `job`'s result: the job's own page in History (counts, retries,
    failed calls, and a link on to the kind's page, `place_link`)."""
    return reverse("integration_job", args=[job.vendor, job.public_id])


def place_link(job: SyncJob) -> str:
    """The page where a job of this kind is used (the Import tab, the invoice list), or ""."""
    kind = JOB_KINDS.get(job.kind)
    return kind.link(job) if kind and kind.link else ""
