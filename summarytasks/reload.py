"""*Reload data*: one visible sync job whose client-months run as separate Celery tasks.

The job's runner (`run_reload`, run by `integrations.jobs.run_sync_job`) plans one `ReloadPart`
per linked client and month (the last 12 whole months), sends one `reload_part` task per part so
that every worker helps, and then works through the parts itself as well, so the job finishes
even with a single worker. A part is claimed by a conditional UPDATE (one runner per part); a
part whose claimer died (claimed longer ago than the stall interval) is claimed again. Progress
is client-months done of the total; counts and failures are the sum of the parts; one part's
failure never stops the others. Every part writes with upserts, so running one twice is
harmless, and a resumed job only runs what is not finished.

All calls go through the firm's adapters, which share the vendor's rate-limit budget (keyed by
the credential), so parallel parts never exceed it.
"""

from __future__ import annotations

import logging
import random
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

from django import db
from django.conf import settings
from django.db.models import F, Q, Sum
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django_scopes import scope

from clients.models import Client, ExternalLink
from integrations.base import (
    AccountingAdapter,
    AuthError,
    BooksAccessLost,
    IntegrationError,
    RateLimited,
)
from integrations.jobs import report_progress
from integrations.models import SyncJob, stalled_before
from summarytasks import schedule, services
from summarytasks.models import FINISHED_PART_STATES, PartState, ReloadPart

logger = logging.getLogger(__name__)

MAX_PART_ATTEMPTS = 5
MAX_FAILURES_LISTED = 50


def _retry_seconds(attempt: int, error: IntegrationError) -> float:
    base = float(getattr(settings, "UKU_STATISTICS_RETRY_SECONDS", 10))
    if isinstance(error, RateLimited):
        return max(1.0, error.retry_after) + random.uniform(0, 1)  # noqa: S311 - jitter
    return min(600.0, base * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311


def plan(job: SyncJob) -> int:
    """Create the job's parts once (a resumed job keeps its plan): every active linked client
    (or the one client of `counts["client_id"]`) times the last 12 whole months, in the firm's
    time zone. Returns the number of parts."""
    existing = ReloadPart.objects.filter(job=job).count()
    if existing:
        return existing
    company = job.company
    links = ExternalLink.objects.filter(company=company, vendor=job.vendor, client__active=True)
    if client_id := job.counts.get("client_id"):
        links = ExternalLink.objects.filter(
            company=company, vendor=job.vendor, client__public_id=client_id
        )
    client_ids = list(links.values_list("client_id", flat=True))
    periods = schedule.reload_periods(schedule.firm_today(company.country))
    ReloadPart.objects.bulk_create(
        [
            ReloadPart(company=company, job=job, client_id=client_id, period=period)
            for client_id in client_ids
            for period in periods
        ],
        ignore_conflicts=True,
    )
    job.counts = {
        **job.counts,
        "first_period": periods[0].isoformat(),
        "last_period": periods[-1].isoformat(),
    }
    SyncJob.objects.filter(pk=job.pk).update(counts=job.counts)
    return ReloadPart.objects.filter(job=job).count()


def _claimable(job_id: int) -> Q:
    now = timezone.now()
    pending = Q(state=PartState.PENDING) & (Q(not_before__isnull=True) | Q(not_before__lte=now))
    abandoned = Q(state=PartState.RUNNING, claimed_at__lt=stalled_before())
    return Q(job_id=job_id) & (pending | abandoned)


def claim(part: ReloadPart) -> bool:
    """Take `part` for this run (a conditional UPDATE: one claimer wins). Its `attempts` is the
    lease every later write checks."""
    claimed = (
        ReloadPart.objects.filter(pk=part.pk)
        .filter(_claimable(part.job_id))
        .update(state=PartState.RUNNING, claimed_at=timezone.now(), attempts=F("attempts") + 1)
    )
    if claimed:
        part.refresh_from_db()
    return bool(claimed)


def _claim_next(job: SyncJob) -> ReloadPart | None:
    for part in ReloadPart.objects.filter(_claimable(job.pk)).order_by("period", "pk")[:20]:
        if claim(part):
            return part
    return None


def _end_part(part: ReloadPart, state: str, **fields: Any) -> bool:
    return bool(
        ReloadPart.objects.filter(
            pk=part.pk, state=PartState.RUNNING, attempts=part.attempts
        ).update(state=state, **fields)
    )


def run_part(part: ReloadPart, adapter: AccountingAdapter) -> str:
    """Reload one client-month (claimed by the caller). Never raises for the vendor's or the
    database's errors: the part ends done, skipped (not linked, no books access) or failed, or
    goes back to waiting with a backoff when the error is worth retrying."""
    client = Client.objects.get(pk=part.client_id)
    try:
        result = services.import_client_month(
            company=part.company,
            client=client,
            vendor=part.job.vendor,
            period=part.period,
            adapter=adapter,
            overwrite_typed=True,
        )
    except services.NotLinked as exc:
        _end_part(part, PartState.SKIPPED, error=exc.message, error_kind="not_linked")
        return PartState.SKIPPED
    except BooksAccessLost as exc:
        link = ExternalLink.objects.filter(client=client, vendor=part.job.vendor).first()
        if link is not None:
            services.mark_books_access_lost(link, exc)
        _end_part(part, PartState.SKIPPED, error=exc.message, error_kind="books_access")
        return PartState.SKIPPED
    except IntegrationError as exc:
        error = exc
    except db.Error as exc:
        if not db.connection.in_atomic_block:
            db.connection.close()
        error = IntegrationError(
            _("The database was briefly unavailable (%(error)s).") % {"error": type(exc).__name__},
            permanent=False,
        )
    except Exception:
        logger.exception("reload part %s failed", part.pk)
        _end_part(
            part, PartState.FAILED, error=_("An unexpected error stopped it. It has been logged.")
        )
        return PartState.FAILED
    else:
        _end_part(part, PartState.DONE, imported=result.imported, missing=result.missing, error="")
        return PartState.DONE
    if not error.permanent and part.attempts < MAX_PART_ATTEMPTS:
        seconds = _retry_seconds(part.attempts, error)
        ReloadPart.objects.filter(
            pk=part.pk, state=PartState.RUNNING, attempts=part.attempts
        ).update(
            state=PartState.PENDING,
            not_before=timezone.now() + timedelta(seconds=seconds),
            error=error.message,
        )
        return PartState.PENDING
    kind = "auth" if isinstance(error, AuthError) else "error"
    _end_part(part, PartState.FAILED, error=error.message, error_kind=kind)
    return PartState.FAILED


def _send_parts(job: SyncJob) -> None:
    from summarytasks.tasks import reload_part

    if reload_part.app.conf.task_always_eager:
        # A message would run at once, inline and serially: the runner's threads do the parts.
        return
    for part_id in ReloadPart.objects.filter(job=job, state=PartState.PENDING).values_list(
        "pk", flat=True
    ):
        try:
            reload_part.delay(part_id)
        except Exception:
            # The runner works through every part itself too; a lost message only costs time.
            logger.exception("could not queue reload part %s", part_id)
            return


def _stop_on_auth_failure(job: SyncJob) -> None:
    """The firm's credentials were refused: every other part would fail the same way. The
    waiting parts end, and the job fails with the vendor's message (flagging the connection)."""
    failed = ReloadPart.objects.filter(job=job, state=PartState.FAILED, error_kind="auth").first()
    if failed is None:
        return
    ReloadPart.objects.filter(job=job, state=PartState.PENDING).update(
        state=PartState.FAILED, error=failed.error, error_kind="auth"
    )
    raise AuthError(failed.error)


def summarise(job: SyncJob) -> dict[str, Any]:
    """The job's counts, from its parts."""
    parts = ReloadPart.objects.filter(job=job)
    by_state = dict(
        parts.values_list("state").annotate(n=db.models.Count("pk")).values_list("state", "n")
    )
    sums = parts.aggregate(imported=Sum("imported"), missing=Sum("missing"))
    failures = [
        {"client": name, "period": period.strftime("%Y-%m"), "error": error}
        for name, period, error in parts.filter(state=PartState.FAILED)
        .order_by("client__name", "period")
        .values_list("client__name", "period", "error")[:MAX_FAILURES_LISTED]
    ]
    skipped = [
        {"client": name, "error": error}
        for name, error in parts.filter(state=PartState.SKIPPED)
        .order_by("client__name")
        .values_list("client__name", "error")
        .distinct()[:MAX_FAILURES_LISTED]
    ]
    return {
        "client_months": parts.count(),
        "clients": parts.values("client_id").distinct().count(),
        "done": by_state.get(PartState.DONE, 0),
        "skipped": by_state.get(PartState.SKIPPED, 0),
        "failed": by_state.get(PartState.FAILED, 0),
        "values_imported": sums["imported"] or 0,
        "values_missing": sums["missing"] or 0,
        "failures": failures,
        "skips": skipped,
    }


def reload_threads() -> int:
    """How many client-months the runner reads at once (`UKU_RELOAD_THREADS`, default 4): the
    calls wait on the network, so a few threads overlap them; the vendor's rate-limit budget,
    shared by every thread and worker, bounds the rate. One on SQLite (one writer at a time) and
    inside an atomic block (the threads would not see its rows)."""
    if db.connection.vendor == "sqlite" or db.connection.in_atomic_block:
        return 1
    return max(1, int(getattr(settings, "UKU_RELOAD_THREADS", 4)))


def _work_in_threads(job: SyncJob, threads: int) -> None:
    """Work through the claimable parts with `threads` threads, each with its own adapter (one
    HTTP session each) and its own database connection, closed when it is done."""
    from integrations import services as integration_services

    connection = job.connection or integration_services.get_connection(job.company, job.vendor)
    failed = threading.Event()

    def work() -> None:
        adapter: AccountingAdapter | None = None
        # The part's calls are written in one insert when it ends, not one commit each.
        calls = integration_services.CallLog(job, buffered=True)
        try:
            with scope(company=job.company):
                adapter = integration_services.adapter_for(connection, job, calls)
                while not failed.is_set():
                    if ReloadPart.objects.filter(
                        job=job, state=PartState.FAILED, error_kind="auth"
                    ).exists():
                        failed.set()
                        return
                    part = _claim_next(job)
                    if part is None:
                        return
                    part.job = job
                    try:
                        run_part(part, adapter)
                    finally:
                        calls.flush()
        finally:
            if adapter is not None:
                adapter.release()
            calls.flush()
            db.connection.close()

    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="reload") as pool:
        for future in [pool.submit(work) for _n in range(threads)]:
            future.result()


def run_reload(*, job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    """The reload job's runner (see the module docstring). Returns its counts."""
    total = plan(job)
    finished = ReloadPart.objects.filter(job=job, state__in=FINISHED_PART_STATES)
    report_progress(job, finished.count(), total)
    _send_parts(job)
    threads = reload_threads()
    if threads > 1:
        _work_in_threads(job, threads)
        report_progress(job, finished.count())
    poll = float(getattr(settings, "UKU_STATISTICS_POLL_SECONDS", 1.0))
    while True:
        _stop_on_auth_failure(job)
        part = _claim_next(job)
        if part is not None:
            part.job = job
            run_part(part, adapter)
            report_progress(job, finished.count())
            continue
        done = finished.count()
        report_progress(job, done)
        if done >= total:
            break
        # Other workers hold the remaining parts (or they wait out a retry's backoff).
        time.sleep(poll)
    return summarise(job)


def describe_counts(job: SyncJob) -> str:
    """The end-of-job notification's summary: counts and the first failures."""
    counts = job.counts or {}
    text = ngettext(
        "%(n)d client-month reloaded",
        "%(n)d client-months reloaded",
        counts.get("client_months", 0),
    ) % {"n": counts.get("client_months", 0)}
    text += ": " + _("%(done)d done, %(skipped)d skipped, %(failed)d failed.") % {
        "done": counts.get("done", 0),
        "skipped": counts.get("skipped", 0),
        "failed": counts.get("failed", 0),
    }
    failures = counts.get("failures") or []
    if failures:
        text += " " + "; ".join(f"{f['client']} {f['period']}: {f['error']}" for f in failures[:3])
    return text
