"""Background work of summary tasks: the hourly fan-out of the monthly import, the import of one
client-month, and one part of a *Reload data* job. Thin: each takes ids, reloads, and calls the
services inside the firm's scope; each is safe to run twice."""

from __future__ import annotations

import logging
from datetime import date
from functools import partial
from typing import Any

from celery import shared_task
from django import db
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from clients.models import Client, ExternalLink
from integrations import services as integration_services
from integrations.base import (
    BooksAccessLost,
    Capability,
    IntegrationError,
    TransientError,
    iter_vendors,
)
from integrations.models import ConnectionStatus, SyncJobStatus
from summarytasks import reload, schedule, services
from summarytasks.models import FieldMapping, ImportState, MonthlyImport, ReloadPart
from uku.models import Company

logger = logging.getLogger(__name__)
MAX_RETRIES = 5


def due_imports(company: Company, today: date | None = None) -> list[dict[str, Any]]:
    """For each vendor of the firm: the latest month whose import day has come (today, or an
    earlier day the beat missed: see `schedule.last_due_period`), the linked clients not yet
    imported for it, and the active clients that are not linked (reported, never failed).
    Runs inside the firm's scope; reads only."""
    today = today or schedule.firm_today(company.country)
    found: list[dict[str, Any]] = []
    for info in iter_vendors(Capability.STATISTICS):
        if services.connected(company, info.key) is None:
            continue
        if not FieldMapping.objects.filter(company=company, vendor=info.key).exists():
            continue
        rule = services.summary_settings(company, info.key).import_day
        period = schedule.last_due_period(today, rule, company.country)
        done = MonthlyImport.objects.filter(company=company, vendor=info.key, period=period)
        links = ExternalLink.objects.filter(
            company=company, vendor=info.key, client__active=True
        ).exclude(client_id__in=done.values("client_id"))
        unlinked = (
            Client.objects.filter(company=company, active=True)
            .exclude(links__vendor=info.key)
            .count()
        )
        found.append(
            {
                "vendor": info.key,
                "period": period,
                "client_ids": list(links.values_list("client_id", flat=True)),
                "unlinked": unlinked,
            }
        )
    return found


@shared_task(acks_late=True, time_limit=600, soft_time_limit=550, expires=50 * 60)
def schedule_monthly_imports() -> dict[str, int]:
    """Hourly: per firm and vendor, enqueue one import per linked client not yet imported for
    the latest month whose import day has come (in the firm's time zone). On the import day
    that is the month just due; when the beat missed that day, the next run, any day up to the
    next month's import day, enqueues what is still missing. Only fans out (a client with a
    recorded import is never enqueued again); one firm's error is logged and does not stop the
    others."""
    with scopes_disabled():
        companies = list(Company.objects.all())
    enqueued = unlinked = 0
    for company in companies:
        try:
            with scope(company=company):
                for due in due_imports(company):
                    unlinked += due["unlinked"]
                    if due["unlinked"]:
                        logger.info(
                            "firm %s: %d clients not linked to %s, not imported",
                            company.public_id,
                            due["unlinked"],
                            due["vendor"],
                        )
                    batch = [
                        (company.pk, client_id, due["vendor"], due["period"].isoformat())
                        for client_id in due["client_ids"]
                    ]
                    if batch:
                        transaction.on_commit(partial(_send_imports, batch))
                    enqueued += len(batch)
        except Exception:
            logger.exception("monthly import fan-out failed for firm %s", company.public_id)
    return {"enqueued": enqueued, "unlinked": unlinked}


def _send_imports(batch: list[tuple[int, int, str, str]]) -> None:
    """Queue one import per client-month through one broker connection: a firm of thousands
    of clients is queued in about a second instead of a connection checkout per message.

    The arguments' display form (`argsrepr`, shown by monitors) is given as `repr(args)`,
    which is what Celery's `saferepr` makes of four short ids and dates anyway: working it out
    per message was a third of the enqueue time of a 1,000-client firm."""
    with import_client_statistics.app.producer_or_acquire() as producer:
        for args in batch:
            import_client_statistics.apply_async(
                args, producer=producer, argsrepr=repr(args), kwargsrepr="{}"
            )


def _record(company: Company, client: Client, vendor: str, period: date, state: str, reason: str):
    MonthlyImport.objects.update_or_create(
        client=client,
        vendor=vendor,
        period=period,
        defaults={"company": company, "state": state, "reason": reason[:2000]},
    )


@shared_task(
    bind=True, acks_late=True, max_retries=MAX_RETRIES, time_limit=600, soft_time_limit=550
)
def import_client_statistics(
    self: Any, company_id: int, client_id: int, vendor: str, period_iso: str
) -> str:
    """Import one client's statistics for one month (the scheduled import). Upserts, so a
    second delivery writes the same task and values. Transient errors retry with backoff and
    jitter; a permanent one ends it failed and flags the connection (admins are told once);
    an unlinked client or one without books access is recorded as skipped."""
    with scopes_disabled():
        company = Company.objects.filter(pk=company_id).first()
        client = Client.objects.filter(pk=client_id, company_id=company_id).first()
    if company is None or client is None:
        return "gone"
    period = date.fromisoformat(period_iso)
    with scope(company=company):
        connection = services.connected(company, vendor)
        if connection is None:
            _record(company, client, vendor, period, ImportState.SKIPPED, _("Not connected."))
            return "skipped"
        started = timezone.now()
        try:
            adapter = integration_services.adapter_for(connection)
            services.import_client_month(
                company=company, client=client, vendor=vendor, period=period, adapter=adapter
            )
        except services.NotLinked as exc:
            _record(company, client, vendor, period, ImportState.SKIPPED, exc.message)
            return "skipped"
        except BooksAccessLost as exc:
            link = ExternalLink.objects.filter(client=client, vendor=vendor).first()
            if link is not None:
                services.mark_books_access_lost(link, exc)
            _record(company, client, vendor, period, ImportState.SKIPPED, exc.message)
            return "skipped"
        except (db.OperationalError, db.InterfaceError) as exc:
            # The database went away mid-import (a restart, a dropped connection): transient.
            # Retry on a fresh connection; the import upserts, so nothing is written twice.
            if not db.connection.in_atomic_block:
                db.connection.close()
            if self.request.retries < MAX_RETRIES:
                error = TransientError("database unavailable")  # only for the backoff
                countdown = reload._retry_seconds(self.request.retries + 1, error)
                raise self.retry(countdown=countdown, exc=exc) from None
            raise
        except IntegrationError as exc:
            if not exc.permanent and self.request.retries < MAX_RETRIES:
                countdown = reload._retry_seconds(self.request.retries + 1, exc)
                raise self.retry(countdown=countdown, exc=exc) from None
            _record(company, client, vendor, period, ImportState.FAILED, exc.message)
            if exc.permanent:
                connection.refresh_from_db()
                # One notice for a broken connection, not one per client.
                if connection.status != ConnectionStatus.ERROR:
                    integration_services.record_sync_failure(connection, exc)
            return "failed"
        _record(company, client, vendor, period, ImportState.DONE, "")
        # The vendor answered: an earlier error on the connection (one client-month refused
        # before the token was fixed) is over.
        integration_services.record_call_success(connection, started)
    return "imported"


@shared_task(acks_late=True, time_limit=900, soft_time_limit=850)
def reload_part(part_id: int) -> str:
    """Run one client-month of a reload job, if it is still waiting (see `summarytasks.reload`).
    A part already claimed, finished, or of an ended job is left alone."""
    with scopes_disabled():
        part = (
            ReloadPart.objects.select_related("job", "company", "job__connection")
            .filter(pk=part_id)
            .first()
        )
    if part is None or part.job.status not in (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING):
        return "skipped"
    job, company = part.job, part.company
    with scope(company=company):
        if not reload.claim(part):
            return "skipped"
        part.job, part.company = job, company
        try:
            connection = job.connection or integration_services.get_connection(company, job.vendor)
            # Not closed: a vendor session is kept by the process's session cache for the next
            # part, instead of a login and a logout around every client-month.
            adapter = integration_services.adapter_for(connection, job)
        except IntegrationError as exc:
            reload._end_part(part, "failed", error=exc.message, error_kind="auth")
            return "failed"
        return reload.run_part(part, adapter)
