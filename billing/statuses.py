"""Invoice status and the accounting system's invoice numbers, read back daily and on demand.

One sync job per firm (`invoice_status`, `integrations.jobs`) reads the status of the firm's
open exported invoices with ONE `invoice_statuses` call (the adapter pages at the vendor's
maximum page size) and applies it: the vendor's invoice number becomes the number shown (uku's
stays as the secondary one), the outstanding amount is stored, and the invoice is paid (nothing
outstanding), unpaid (also partly paid) or credited; an order not invoiced yet stays issued,
"exported, not invoiced yet". Every change is recorded on the invoice's history with its source.

Idempotent: a second run with the same answers changes nothing and counts every invoice as
unchanged. A firm whose credentials are refused fails its own job (the connection is flagged
and its admins told); the daily fan-out goes on with the other firms.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from billing.invoices import INVOICE_ROLES, InvoiceError
from billing.models import (
    BillingSettings,
    ExportState,
    Invoice,
    InvoiceEvent,
    InvoiceExport,
    InvoiceStatus,
)
from integrations.base import REGISTRY, AccountingAdapter, Capability, ExportedRef, get_vendor
from integrations.jobs import report_progress, request_job
from integrations.models import SyncJob
from uku import audit
from uku.models import Company, User
from uku.permissions import require

logger = logging.getLogger(__name__)

STATUS_JOB = "invoice_status"
OPEN_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.UNPAID)
_STATE_TO_STATUS = {
    "paid": InvoiceStatus.PAID,
    "unpaid": InvoiceStatus.UNPAID,
    "credited": InvoiceStatus.CREDITED,
}


def status_vendor(company: Company) -> str:
    """The accounting system invoice status is read from, or "" when none can report it."""
    billing = BillingSettings.objects.filter(company=company).first()
    if billing is None or not billing.active:
        return ""
    vendor = billing.accounting_vendor
    if vendor not in REGISTRY or not get_vendor(vendor).can(Capability.INVOICE_STATUS):
        return ""
    return vendor


def request_status_refresh(
    *, company: Company, actor: User | None, ids: Sequence[str] | None = None, daily: str = ""
) -> tuple[SyncJob, bool]:
    """Queue a status update (or join the same one running): of the invoices with public ids
    `ids`, or of every open exported invoice. `daily` is the firm's local date of a daily run
    (its scope, so one day has one run). Billing staff, admins and owners, or the beat (no
    actor). Raises `InvoiceError` when no accounting system can report status."""
    if actor is not None:
        require(
            company,
            actor,
            roles=INVOICE_ROLES,
            message=_("Only billing staff, admins and owners can update invoice status."),
        )
    vendor = status_vendor(company)
    if not vendor:
        raise InvoiceError(
            _("No accounting system that reports invoice status is set up for billing.")
        )
    wanted = sorted(str(i) for i in ids) if ids else []
    if daily:
        scope_key = f"daily:{daily}"
    elif wanted:
        scope_key = "manual:" + hashlib.sha256(",".join(wanted).encode()).hexdigest()[:16]
    else:
        scope_key = "manual:all"
    with transaction.atomic():
        job, created = request_job(
            company=company,
            actor=actor,
            vendor=vendor,
            kind=STATUS_JOB,
            scope_key=scope_key,
            options={"ids": wanted, "source": "daily" if daily else "manual"},
        )
        if created:  # a request that joins the running update starts nothing new
            audit.record_for(
                job,
                company=company,
                actor=actor,
                action="invoice.status_refreshed",
                details={
                    "vendor": vendor,
                    "source": "daily" if daily else "manual",
                    "invoices": len(wanted) if wanted else "all open",
                },
            )
    return job, created


def _exports_to_read(job: SyncJob) -> list[InvoiceExport]:
    exports = InvoiceExport.objects.filter(
        company=job.company, vendor=job.vendor, state=ExportState.DONE
    ).select_related("invoice")
    ids = job.counts.get("ids") or []
    if ids:
        exports = exports.filter(invoice__public_id__in=ids)
    else:
        exports = exports.filter(invoice__status__in=OPEN_STATUSES)
    return list(exports.order_by("pk"))


def run_invoice_status_refresh(*, job: SyncJob, adapter: AccountingAdapter) -> dict[str, Any]:
    """Job runner: one `invoice_statuses` call for every export to read, then apply each answer.
    Returns the counts {updated, unchanged, not_found}."""
    source = str(job.counts.get("source") or "manual")
    exports = _exports_to_read(job)
    report_progress(job, 0, len(exports))
    refs = [
        ExportedRef(
            remote_id=e.remote_id,
            issue_date=e.invoice.issue_date,
            remote_invoice_id=e.remote_invoice_id,
        )
        for e in exports
    ]
    statuses = adapter.invoice_statuses(refs) if refs else {}
    counts = {"updated": 0, "unchanged": 0, "not_found": 0}
    for done, export in enumerate(exports, start=1):
        status = statuses.get(export.remote_id)
        if status is None:
            counts["not_found"] += 1
        elif _apply(export, status, source):
            counts["updated"] += 1
        else:
            counts["unchanged"] += 1
        if done % 100 == 0:
            report_progress(job, done)
    report_progress(job, len(exports))
    return {**{k: v for k, v in job.counts.items() if k in ("ids", "source")}, **counts}


def _apply(export: InvoiceExport, status: Any, source: str) -> bool:
    """Store one status; True when anything changed. One transaction per invoice."""
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=export.invoice_id)
        row = InvoiceExport.objects.select_for_update().get(pk=export.pk)
        events: list[tuple[str, str, str, str]] = []
        new_status = _STATE_TO_STATUS.get(status.state, invoice.status)
        if status.state == "not_invoiced":
            new_status = invoice.status  # stays issued: exported, not invoiced yet
        if new_status != invoice.status:
            events.append(("status", invoice.status, new_status, ""))
            invoice.status = new_status
        number = status.invoice_number or ""
        if number and number != row.remote_invoice_number:
            events.append(("number", row.remote_invoice_number, number, ""))
            row.remote_invoice_number = number
        if status.invoice_id and status.invoice_id != row.remote_invoice_id:
            row.remote_invoice_id = status.invoice_id
        outstanding = status.outstanding
        if status.state == "paid" and outstanding is None:
            from decimal import Decimal

            outstanding = Decimal(0)
        if outstanding is not None and outstanding != invoice.outstanding_amount:
            events.append(
                ("outstanding", str(invoice.outstanding_amount or ""), str(outstanding), "")
            )
            invoice.outstanding_amount = outstanding
        changed = bool(events) or row.remote_state != status.state
        row.remote_state = status.state
        row.status_checked_at = timezone.now()
        row.save(
            update_fields=[
                "remote_invoice_number",
                "remote_invoice_id",
                "remote_state",
                "status_checked_at",
                "updated_at",
            ]
        )
        if events:
            invoice.save(update_fields=["status", "outstanding_amount", "updated_at"])
            for kind, old, new, text in events:
                InvoiceEvent.objects.create(
                    company_id=invoice.company_id,
                    invoice=invoice,
                    source=source,
                    kind=kind,
                    old=old[:64],
                    new=new[:64],
                    text=text or _describe(kind, new, get_vendor(export.vendor).label),
                )
    return changed


def _describe(kind: str, new: str, vendor: str) -> str:
    if kind == "status":
        return _("Status from %(vendor)s: %(status)s.") % {
            "vendor": vendor,
            "status": InvoiceStatus(new).label,
        }
    if kind == "number":
        return _("%(vendor)s invoice number: %(number)s.") % {"vendor": vendor, "number": new}
    return _("Outstanding in %(vendor)s: %(amount)s.") % {"vendor": vendor, "amount": new}


def _local_now(settings: BillingSettings, now: datetime) -> datetime:
    try:
        zone = ZoneInfo(settings.time_zone or "Europe/Oslo")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("Europe/Oslo")
    return now.astimezone(zone)


def due_daily_checks(now: datetime | None = None) -> list[tuple[int, str]]:
    """(company id, local date) of every firm whose daily check is due now: billing active,
    "Check invoice status daily" on, a system that reports status, and the firm's local hour
    at or past its `status_check_hour` with no daily run for that local date yet."""
    now = now or timezone.now()
    due: list[tuple[int, str]] = []
    with scopes_disabled():
        candidates = list(
            BillingSettings.objects.filter(active=True, check_status_daily=True).select_related(
                "company"
            )
        )
        for settings in candidates:
            vendor = settings.accounting_vendor
            if vendor not in REGISTRY or not get_vendor(vendor).can(Capability.INVOICE_STATUS):
                continue
            local = _local_now(settings, now)
            if local.hour < settings.status_check_hour:
                continue
            day = local.date().isoformat()
            if SyncJob.objects.filter(
                company=settings.company, kind=STATUS_JOB, scope=f"daily:{day}"
            ).exists():
                continue
            due.append((settings.company_id, day))
    return due


def start_daily_checks(now: datetime | None = None) -> int:
    """The beat's fan-out (hourly): one job per firm whose daily check is due. A firm that
    cannot start one is logged and skipped; the others go on. Returns how many were queued."""
    started = 0
    for company_id, day in due_daily_checks(now):
        company = Company.objects.get(pk=company_id)
        try:
            with scope(company=company):
                _job, created = request_status_refresh(company=company, actor=None, daily=day)
            started += int(created)
        except Exception:
            logger.exception("could not start the daily invoice status check of %s", company_id)
    return started
