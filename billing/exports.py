"""The export outbox: every issued invoice reaches the accounting system exactly once.

`queue_exports` (called by `issue_invoice` inside its transaction) upserts one `InvoiceExport`
row per invoice and accounting system (a unique constraint), and sends the task only after the
transaction commits. `run_export` is the task's body:

1. claims the row with `select_for_update(skip_locked=True)`: only a pending, due row is taken,
   and a second worker (or a duplicate message) skips it instead of waiting for it;
2. if an earlier attempt may have written without telling us (`outcome_unknown`: a timeout, a
   dropped connection, an HTML 503, a killed worker), asks the vendor for the object carrying
   the invoice's number (`find_exported_invoice`) and adopts it instead of creating another;
3. marks the outcome unknown, then calls `export_invoice` once (adapters never resend a write);
4. records the answer under its lease (the row still in flight with this attempt's number):
   done with the remote id and number; a transient error goes back to pending with backoff and
   jitter until `UKU_INVOICE_EXPORT_MAX_ATTEMPTS`, then fails visibly; a permanent one fails at
   once with the vendor's clerk-friendly message and the fix (`error_fix`).

`sweep_exports` (beat, every minute, and a starting worker) puts rows stuck in flight longer
than `UKU_INVOICE_EXPORT_STALL_SECONDS` back to pending, still marked unknown, and resends
pending rows whose message was lost.
"""

from __future__ import annotations

import logging
import random
from datetime import timedelta
from typing import Any

from django import db
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django_scopes import scope, scopes_disabled

from billing.models import (
    BillingSettings,
    ExportState,
    Invoice,
    InvoiceEvent,
    InvoiceExport,
    InvoiceStatus,
)
from clients.models import ExternalLink
from integrations import services as integration_services
from integrations.base import (
    REGISTRY,
    AccountingAdapter,
    AuthError,
    Capability,
    ConfigError,
    ExportedInvoice,
    IntegrationError,
    InvoiceLineOut,
    InvoiceOut,
    RateLimited,
    TransientError,
    get_vendor,
)
from integrations.models import ConnectionStatus, IntegrationConnection, NotificationLevel
from uku import audit
from uku.models import Company, Membership, User

logger = logging.getLogger(__name__)

# A message may arrive a moment before its `next_try_at` (clocks of two hosts).
DUE_TOLERANCE = timedelta(seconds=5)


class NotLinked(ConfigError):
    """The client has no customer in the accounting system yet: the export waits for a link."""


def export_vendor(company: Company) -> str:
    """The accounting system issued invoices go to, or "" (billing off, export off, or a
    system that cannot receive invoices)."""
    billing = BillingSettings.objects.filter(company=company).first()
    if billing is None or not billing.active or not billing.export_invoices:
        return ""
    vendor = billing.accounting_vendor
    if vendor not in REGISTRY or not get_vendor(vendor).can(Capability.INVOICE_EXPORT):
        return ""
    return vendor


def _send(export_id: int, countdown: float = 0) -> None:
    from billing.tasks import export_invoice

    try:
        if countdown > 0:
            export_invoice.apply_async((export_id,), countdown=countdown)
        else:
            export_invoice.delay(export_id)
    except Exception:
        # The row stays pending; the sweeper resends it once it is overdue.
        logger.exception("could not queue invoice export %s", export_id)


def queue_exports(invoice: Invoice) -> InvoiceExport | None:
    """Queue the export of an issued invoice (call inside the issuing transaction): an upsert
    of its outbox row, then the task on commit. Idempotent: an existing row is left as it is."""
    vendor = export_vendor(invoice.company)
    if not vendor:
        return None
    export, created = InvoiceExport.objects.get_or_create(
        invoice=invoice, vendor=vendor, defaults={"company_id": invoice.company_id}
    )
    if created:
        export_id = export.pk
        transaction.on_commit(lambda: _send(export_id))
    return export


def retry_export(*, company: Company, actor: User, invoice: Invoice) -> InvoiceExport:
    """*Retry*: send a failed or waiting export again (after the fix), with a fresh budget of
    attempts. An export that is queued, in flight or done is left alone, so a second click
    changes nothing. An issued invoice that was never queued (export was off) is queued now.
    Raises `InvoiceError` for a draft or when nothing can export."""
    from billing.invoices import InvoiceError, require_invoicing

    require_invoicing(company, actor)
    if invoice.is_draft:
        raise InvoiceError(_("Issue the invoice first."))
    with transaction.atomic():
        export = InvoiceExport.objects.select_for_update().filter(invoice=invoice).first()
        if export is None:
            vendor = export_vendor(company)
            if not vendor:
                raise InvoiceError(
                    _(
                        "Billing does not export invoices. Turn on “Export issued invoices” "
                        "under Settings & Apps → Billing first."
                    )
                )
            export = queue_exports(invoice)
            assert export is not None
            _audit(export, actor, "invoice.export_retried", {"vendor": vendor, "queued": True})
            return export
        if export.state in (ExportState.FAILED, ExportState.WAITING):
            export.state = ExportState.PENDING
            export.attempts = 0
            export.next_try_at = None
            export.last_error = ""
            export.error_fix = ""
            export.save()
            _record(export, "retry", _("Export retried."), actor=actor)
            _audit(export, actor, "invoice.export_retried", {"vendor": export.vendor})
            export_id = export.pk
            transaction.on_commit(lambda: _send(export_id))
    return export


# --- What is exported -------------------------------------------------------------------------------


def invoice_out(invoice: Invoice, vendor: str) -> tuple[InvoiceOut, list[str]]:
    """The invoice as the adapter receives it, and uku's own warnings. Raises `NotLinked`
    when the client has no customer in `vendor`."""
    link = ExternalLink.objects.filter(client_id=invoice.client_id, vendor=vendor).first()
    if link is None:
        raise NotLinked(
            _("The client %(client)s is not linked to a customer in %(vendor)s.")
            % {"client": invoice.client.name, "vendor": get_vendor(vendor).label},
            details={"fix": "link"},
        )
    warnings: list[str] = []
    employee = ""
    if invoice.responsible_id is not None:
        membership = Membership.objects.filter(
            company_id=invoice.company_id, user_id=invoice.responsible_id
        ).first()
        employee = membership.external_id if membership else ""
        if not employee:
            warnings.append(
                _(
                    "No contact employee was set: %(member)s has no External ID. Add it on "
                    "their member profile."
                )
                % {"member": invoice.responsible}
            )
    else:
        warnings.append(_("No contact employee was set: the invoice has no responsible member."))
    lines = []
    for line in invoice.lines.select_related("vat_type", "product"):
        vat = line.vat_type
        product = line.product
        lines.append(
            InvoiceLineOut(
                description=line.description,
                quantity=line.quantity,
                unit_price=line.unit_price,
                discount_percent=line.discount_percent,
                net_amount=line.net_amount,
                vat_amount=line.vat_amount,
                vat_percentage=line.vat_percentage,
                vat_code=vat.number if vat else "",
                vat_type_id=vat.remote_id if vat and vat.vendor == vendor else "",
                product_id=product.remote_id if product and product.vendor == vendor else "",
            )
        )
    out = InvoiceOut(
        reference=invoice.number,
        customer_id=link.remote_id,
        issue_date=invoice.issue_date,
        due_date=invoice.due_date,
        currency=invoice.currency,
        lines=tuple(lines),
        net_total=invoice.net_total,
        vat_total=invoice.vat_total,
        gross_total=invoice.gross_total,
        contact_employee_id=employee,
        comment=invoice.comment,
    )
    return out, warnings


# --- The worker ------------------------------------------------------------------------------------


def _max_attempts() -> int:
    return int(getattr(settings, "UKU_INVOICE_EXPORT_MAX_ATTEMPTS", 6))


def _backoff(attempt: int, error: IntegrationError) -> float:
    if isinstance(error, RateLimited):
        return max(1.0, error.retry_after) + random.uniform(0, 2)  # noqa: S311 - jitter
    return min(600.0, 10.0 * 2 ** max(0, attempt - 1)) * random.uniform(0.8, 1.2)  # noqa: S311


def _claim(export_id: int, *, eager: bool) -> InvoiceExport | None:
    """Take a pending, due row for this run; None when another run has it or it is not due.
    `skip_locked`: a second worker does not wait behind the first, it moves on."""
    now = timezone.now()
    with transaction.atomic():
        due = Q(next_try_at__isnull=True) | Q(next_try_at__lte=now + DUE_TOLERANCE)
        rows = InvoiceExport.objects.select_for_update(skip_locked=True).filter(
            pk=export_id, state=ExportState.PENDING
        )
        if not eager:
            rows = rows.filter(due)
        export = rows.first()
        if export is None:
            return None
        export.state = ExportState.IN_FLIGHT
        export.attempts += 1
        export.claimed_at = now
        export.next_try_at = None
        export.save(update_fields=["state", "attempts", "claimed_at", "next_try_at", "updated_at"])
    return export


def _owned(export: InvoiceExport) -> Any:
    """The row if this run still holds it (in flight under the attempt it claimed)."""
    return InvoiceExport.objects.filter(
        pk=export.pk, state=ExportState.IN_FLIGHT, attempts=export.attempts
    )


def _record(
    export: InvoiceExport, kind: str, text: str, *, new: str = "", actor: User | None = None
) -> None:
    InvoiceEvent.objects.create(
        company_id=export.company_id,
        invoice_id=export.invoice_id,
        source="user" if actor else "export",
        kind=kind,
        new=new[:64],
        text=text[:500],
        actor=actor,
    )


def _finish_done(
    export: InvoiceExport, found: ExportedInvoice, warnings: list[str], adopted: bool
) -> bool:
    now = timezone.now()
    # An adapter that warned about the export itself (Tripletex names the left-out contact
    # employee) is the better source; uku's own warning is for adapters that say nothing.
    all_warnings = list(found.warnings) if found.warnings else list(warnings)
    with transaction.atomic():
        if not _owned(export).update(
            state=ExportState.DONE,
            remote_id=found.remote_id,
            remote_number=found.remote_number,
            warnings=all_warnings,
            outcome_unknown=False,
            last_error="",
            error_fix="",
            exported_at=now,
            updated_at=now,
        ):
            return False
        text = _("Exported to %(vendor)s as #%(number)s.") % {
            "vendor": get_vendor(export.vendor).label,
            "number": found.remote_number or found.remote_id,
        }
        if adopted:
            text += " " + _("(found there after an interrupted attempt)")
        _record(export, "export", text, new=found.remote_number or found.remote_id)
        _audit(
            export,
            None,  # the worker's doing: the person who issued it is on "invoice.issued"
            "invoice.exported",
            {
                "vendor": export.vendor,
                "remote_id": found.remote_id,
                "remote_number": found.remote_number,
                "adopted": adopted,
            },
        )
    return True


def _audit(export: InvoiceExport, actor: User | None, action: str, details: dict[str, Any]) -> None:
    invoice = Invoice.objects.only("public_id", "number", "company_id").get(pk=export.invoice_id)
    audit.record_for(
        invoice,
        company=Company.objects.get(pk=export.company_id),
        actor=actor,
        action=action,
        details=details,
    )


def _finish_error(
    export: InvoiceExport, error: IntegrationError, *, eager: bool, unknown: bool
) -> str:
    """Record a failed attempt: back to pending with backoff, or failed for good."""
    now = timezone.now()
    fix = str(error.details.get("fix", "")) if error.permanent else ""
    if isinstance(error, NotLinked):
        state, fix = ExportState.WAITING, "link"
    elif error.permanent or export.attempts >= _max_attempts():
        state = ExportState.FAILED
    else:
        state = ExportState.PENDING
    message = error.message
    if state == ExportState.FAILED and not error.permanent:
        message = _(
            "%(error)s Gave up after %(attempts)d attempts; try again later with Retry."
        ) % {"error": error.message, "attempts": export.attempts}
    countdown = _backoff(export.attempts, error) if state == ExportState.PENDING else 0
    with transaction.atomic():
        if not _owned(export).update(
            state=state,
            last_error=message[:2000],
            error_fix=fix,
            outcome_unknown=unknown,
            next_try_at=now + timedelta(seconds=countdown)
            if state == ExportState.PENDING
            else None,
            updated_at=now,
        ):
            return "taken over"
        if state != ExportState.PENDING:
            _record(export, "export", message, new=state)
            export_id = export.pk
            transaction.on_commit(lambda: _notify_failure(export_id))
        else:
            export_id = export.pk
            transaction.on_commit(lambda: _send(export_id, 0 if eager else countdown))
    return str(state)


def _notify_failure(export_id: int) -> None:
    with scopes_disabled():
        export = InvoiceExport.objects.select_related(
            "invoice", "invoice__issued_by", "company"
        ).get(pk=export_id)
    invoice = export.invoice
    users = [invoice.issued_by] if invoice.issued_by else []
    try:
        with scope(company=export.company):
            _notify(export, invoice, users)
    except Exception:
        logger.exception("could not notify about invoice export %s", export_id)


def _notify(export: InvoiceExport, invoice: Invoice, users: list[User]) -> None:
    integration_services.notify(
        company=invoice.company,
        users=users,
        level=NotificationLevel.ERROR,
        text=_("Invoice %(number)s was not exported: %(error)s")
        % {"number": invoice.number, "error": export.last_error},
        link=reverse("invoice_detail", args=[invoice.public_id]),
        key=f"invoice-export-failed:{export.pk}:{export.attempts}",
    )


def connection_for(company: Company, vendor: str) -> IntegrationConnection:
    connection = (
        IntegrationConnection.objects.filter(
            company=company, vendor=vendor, client__isnull=True, enabled=True
        )
        .exclude(status=ConnectionStatus.NOT_CONNECTED)
        .first()
    )
    if connection is None:
        raise ConfigError(
            _("Connect %(vendor)s first: Settings & Apps → %(vendor)s → Connect.")
            % {"vendor": get_vendor(vendor).label},
            details={"fix": "connect"},
        )
    return connection


def run_export(export_id: int, *, eager: bool = False) -> str:
    """Export one outbox row (the task's body). Safe to run any number of times, from any
    number of workers at once: see the module docstring. Returns what happened ("done",
    "pending", "failed", "waiting", "skipped", "taken over")."""
    with scopes_disabled():
        row = InvoiceExport.objects.select_related("company").filter(pk=export_id).first()
    if row is None:
        return "skipped"  # the invoice is gone (a firm deleted): nothing to do
    company = row.company
    with scope(company=company):
        started = timezone.now()
        export = _claim(export_id, eager=eager)
        if export is None:
            return "skipped"
        adapter: AccountingAdapter | None = None
        connection: IntegrationConnection | None = None
        # Whether something may have been written and not yet been found: from an earlier
        # attempt until the lookup says no, and again from the moment the write is sent.
        maybe_written = export.outcome_unknown
        sending = False
        try:
            invoice = Invoice.objects.select_related("client", "responsible").get(
                pk=export.invoice_id
            )
            out, warnings = invoice_out(invoice, export.vendor)
            connection = connection_for(company, export.vendor)
            adapter = integration_services.adapter_for(connection)
            if export.outcome_unknown:
                found = adapter.find_exported_invoice(out)
                if found is not None:
                    adopted = _finish_done(export, found, warnings, adopted=True)
                    if adopted:
                        integration_services.record_call_success(connection, started)
                    return "done" if adopted else "taken over"
                maybe_written = False
            # From here until the answer is recorded, a crash leaves the outcome unknown.
            if not _owned(export).update(outcome_unknown=True):
                return "taken over"
            sending = True
            created = adapter.export_invoice(out)
        except IntegrationError as exc:
            # A failed lookup leaves the earlier doubt standing; a failed write adds one only
            # when the adapter cannot say it was not applied.
            unknown = maybe_written or (
                sending and not exc.permanent and exc.details.get("outcome") == "unknown"
            )
            if isinstance(exc, AuthError) and connection is not None:
                integration_services.record_sync_failure(connection, exc)
            return _finish_error(export, exc, eager=eager, unknown=unknown)
        except db.Error as exc:
            if not db.connection.in_atomic_block:
                db.connection.close()
            error = TransientError(
                _("The database was briefly unavailable (%(error)s).")
                % {"error": type(exc).__name__}
            )
            return _finish_error(export, error, eager=eager, unknown=maybe_written or sending)
        finally:
            if adapter is not None:
                try:
                    # Not closed: the next export of the batch reuses the vendor session the
                    # process caches for the credential (a login per invoice otherwise).
                    adapter.release()
                except Exception:
                    logger.exception("closing the adapter after invoice export %s", export_id)
        try:
            finished = _finish_done(export, created, warnings, adopted=False)
        except db.Error:
            # The vendor took the invoice, but the database went away while uku waited for its
            # answer: record the answer on a fresh connection, so it is not lost. (Should that
            # fail too, the row stays marked unknown and the next attempt looks it up first.)
            if db.connection.in_atomic_block:
                raise
            logger.warning("export %s: database lost after the write; recording again", export_id)
            db.connection.close()
            finished = _finish_done(export, created, warnings, adopted=False)
        if not finished:
            return "taken over"
        # The vendor took the invoice: an error on the connection (a refused token that has
        # since been fixed) is over, as after any sync job that worked.
        integration_services.record_call_success(connection, started)
        return "done"


def sweep_exports() -> int:
    """Re-queue exports stuck in flight (their worker died mid-call) and resend pending ones
    whose message was lost. Conditional updates, so it is safe next to live workers and from
    several sweepers at once. Returns how many were sent."""
    stall = timedelta(seconds=float(getattr(settings, "UKU_INVOICE_EXPORT_STALL_SECONDS", 300)))
    now = timezone.now()
    sent: list[int] = []
    with scopes_disabled():
        stuck = list(
            InvoiceExport.objects.filter(
                state=ExportState.IN_FLIGHT, claimed_at__lt=now - stall
            ).values_list("pk", "attempts")
        )
        for pk, attempts in stuck:
            # Still marked unknown: the next attempt looks in the accounting system first.
            if InvoiceExport.objects.filter(
                pk=pk, state=ExportState.IN_FLIGHT, attempts=attempts
            ).update(
                state=ExportState.PENDING, next_try_at=now, outcome_unknown=True, updated_at=now
            ):
                sent.append(pk)
        lost = InvoiceExport.objects.filter(state=ExportState.PENDING).filter(
            Q(next_try_at__lt=now - stall) | Q(next_try_at__isnull=True, updated_at__lt=now - stall)
        )
        sent.extend(lost.values_list("pk", flat=True))
    for pk in sent:
        _send(pk)
    return len(sent)


# --- Reading ----------------------------------------------------------------------------------------


def export_display(export: InvoiceExport | None) -> dict[str, Any]:
    """What the invoice page and list say about the export: `state`, `text`, and the action a
    person can take (`action`: "retry" or "link", with `action_url`)."""
    if export is None:
        return {"state": "", "text": _("Not exported"), "action": ""}
    info = get_vendor(export.vendor) if export.vendor in REGISTRY else None
    label = info.label if info else export.vendor
    if export.state == ExportState.DONE:
        template = str(info.exported_as if info and info.exported_as else "") or _(
            "Exported as invoice #%(number)s"
        )
        text = template % {"number": export.remote_number or export.remote_id}
        return {"state": "done", "text": text, "action": "", "vendor_label": label}
    if export.state == ExportState.WAITING:
        return {
            "state": "waiting",
            "text": _("Waiting: client not linked"),
            "detail": export.last_error,
            "action": "link",
            "action_url": reverse("client_detail", args=[export.invoice.client.public_id]),
            "vendor_label": label,
        }
    if export.state == ExportState.FAILED:
        return {
            "state": "failed",
            "text": _("Failed: %(reason)s") % {"reason": export.last_error},
            "action": "retry",
            "fix_url": fix_url(export),
            "vendor_label": label,
        }
    if export.state == ExportState.PENDING and export.attempts:
        return {
            "state": "pending",
            "text": _("Queued (attempt %(n)d failed: %(error)s)")
            % {"n": export.attempts, "error": export.last_error},
            "action": "",
            "vendor_label": label,
        }
    return {"state": str(export.state), "text": _("Queued"), "action": "", "vendor_label": label}


def fix_url(export: InvoiceExport) -> str:
    """Where a person fixes what made the export fail."""
    fix = export.error_fix
    if fix == "link":
        return reverse("client_detail", args=[export.invoice.client.public_id])
    if fix == "vat_type":
        return reverse("billing_settings") + "?tab=products"
    if fix in ("connect",):
        return f"/settings/apps/{export.vendor}/?tab=connect"
    if fix == "validation":
        return reverse("invoice_detail", args=[export.invoice.public_id])
    # Bank account, VAT registration: settings in the accounting system itself.
    return f"/settings/apps/{export.vendor}/"


__all__ = [
    "InvoiceStatus",
    "NotLinked",
    "export_display",
    "queue_exports",
    "retry_export",
    "run_export",
    "sweep_exports",
]
