"""Use cases of invoices: drafts and their lines, issuing, and drafts for many clients at once.

Every function takes the firm and the acting user, checks the role (`INVOICE_ROLES` write,
every member reads), and raises `InvoiceError` (a `ConfigError` naming the field in
`details["field"]`) for input a person must correct. Issuing is where an invoice gets its
number and where the export to the accounting system is queued (`billing.exports`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from billing import money
from billing.models import (
    BillingProduct,
    BillingSettings,
    Invoice,
    InvoiceEvent,
    InvoiceLine,
    InvoiceStatus,
    VatType,
)
from clients.models import Client
from integrations.base import ConfigError
from uku import audit
from uku.models import Company, Membership, Role, User
from uku.permissions import require

INVOICE_ROLES: tuple[Role, ...] = (Role.OWNER, Role.ADMIN, Role.BILLING)
"""Who write invoices and issue them: billing staff, admins and owners."""

MAX_LINES = 200
# Time zones a firm's billing calendar may use (the countries uku's vendors serve).
TIME_ZONES = (
    "Europe/Oslo",
    "Europe/Stockholm",
    "Europe/Copenhagen",
    "Europe/Helsinki",
    "Europe/Tallinn",
    "Europe/Riga",
    "Europe/Vilnius",
    "Europe/Warsaw",
    "Europe/London",
    "UTC",
)
_MAX_AMOUNT = Decimal("1e12")
# Input limits, shared by the forms, the API and these services (issue 14, bad input): a comment
# is printed on the invoice, and prefix + number must fit `Invoice.number` (32 characters).
COMMENT_MAX_LENGTH = 1000
NUMBER_PREFIX_MAX_LENGTH = 16
NEXT_NUMBER_MAX = 999_999_999


class InvoiceError(ConfigError):
    """Input a person must correct, or an action the invoice's state does not allow.
    `details["field"]` names the field when there is one."""


def _field_error(field: str, message: str) -> InvoiceError:
    return InvoiceError(message, details={"field": field})


def _checked_comment(comment: str) -> str:
    """The comment stripped, refused (never cut) when longer than `COMMENT_MAX_LENGTH`."""
    comment = comment.strip()
    if len(comment) > COMMENT_MAX_LENGTH:
        raise _field_error(
            "comment",
            _("Enter at most %(max)d characters.") % {"max": COMMENT_MAX_LENGTH},
        )
    return comment


def require_invoicing(company: Company, actor: User) -> None:
    require(
        company,
        actor,
        roles=INVOICE_ROLES,
        message=_("Only billing staff, admins and owners can change invoices."),
    )


@dataclass(frozen=True)
class LineInput:
    """A line as typed or sent: blank values are filled from the product (description, price,
    VAT type) and then from the firm's default VAT type."""

    product: BillingProduct | None = None
    description: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    vat_type: VatType | None = None
    discount_percent: Decimal | None = None


def settings_for(company: Company) -> BillingSettings:
    """The firm's billing settings (created with the defaults on first use)."""
    settings, _created = BillingSettings.objects.get_or_create(company=company)
    return settings


def _decimal(
    field: str, value: Any, *, low: Decimal | None = None, high: Decimal | None = None
) -> Decimal:
    try:
        number = Decimal(str(value).strip().replace(",", "."))
    except (InvalidOperation, ValueError):
        raise _field_error(field, _("Enter a number.")) from None
    if not number.is_finite() or abs(number) >= _MAX_AMOUNT:
        raise _field_error(field, _("Enter a smaller number."))
    if low is not None and number < low:
        raise _field_error(field, _("Enter %(low)s or more.") % {"low": low})
    if high is not None and number > high:
        raise _field_error(field, _("Enter %(high)s or less.") % {"high": high})
    return number


def _apply_line(line: InvoiceLine, data: LineInput, settings: BillingSettings) -> InvoiceLine:
    """Fill `line` from `data` (and its product, and the defaults) and compute its amounts."""
    product = data.product
    if product is not None and product.company_id != line.company_id:
        raise _field_error("product", _("Choose a product from the list."))
    if data.vat_type is not None and data.vat_type.company_id != line.company_id:
        raise _field_error("vat_type", _("Choose a VAT type from the list."))
    line.product = product
    description = (data.description or "").strip()
    if not description and product is not None:
        description = product.name
    if not description:
        raise _field_error("description", _("Describe the line, or pick a product."))
    line.description = description[:500]
    quantity = Decimal(1) if data.quantity is None else data.quantity
    line.quantity = _decimal("quantity", quantity)
    if line.quantity == 0:
        raise _field_error("quantity", _("The quantity cannot be 0."))
    if data.unit_price is not None:
        line.unit_price = _decimal("unit_price", data.unit_price)
    else:
        line.unit_price = product.unit_price if product is not None else Decimal(0)
    discount = Decimal(0) if data.discount_percent is None else data.discount_percent
    line.discount_percent = _decimal(
        "discount_percent", discount, low=Decimal(0), high=Decimal(100)
    )
    vat_type = data.vat_type
    if vat_type is None and product is not None:
        vat_type = product.vat_type
    if vat_type is None:
        vat_type = settings.default_vat_type
    line.vat_type = vat_type
    line.vat_percentage = vat_type.percentage if vat_type is not None else Decimal(0)
    amounts = money.line_amounts(
        line.quantity, line.unit_price, line.discount_percent, line.vat_percentage
    )
    line.net_amount, line.vat_amount = amounts.net, amounts.vat
    return line


def invoice_totals(invoice: Invoice) -> money.Totals:
    return money.totals((line.net_amount, line.vat_percentage) for line in invoice.lines.all())


def _refresh_totals(invoice: Invoice) -> None:
    totals = invoice_totals(invoice)
    invoice.net_total, invoice.vat_total, invoice.gross_total = (
        totals.net,
        totals.vat,
        totals.gross,
    )
    invoice.save(update_fields=["net_total", "vat_total", "gross_total", "updated_at"])


def _record(
    invoice: Invoice,
    *,
    source: str,
    kind: str,
    old: str = "",
    new: str = "",
    text: str = "",
    actor: User | None = None,
) -> None:
    InvoiceEvent.objects.create(
        company_id=invoice.company_id,
        invoice=invoice,
        source=source,
        kind=kind,
        old=old[:64],
        new=new[:64],
        text=text[:500],
        actor=actor,
    )


def _check_draft(invoice: Invoice) -> None:
    if not invoice.is_draft:
        raise InvoiceError(
            _("Invoice %(number)s is issued and can no longer be changed.")
            % {"number": invoice.number}
        )


def _check_responsible(company: Company, responsible: User | None) -> None:
    if (
        responsible is not None
        and not Membership.objects.filter(company=company, user=responsible).exists()
    ):
        raise _field_error("responsible", _("Choose a member of the firm."))


def _check_client(company: Company, client: Client) -> None:
    if client.company_id != company.pk:
        raise _field_error("client", _("Choose a client from the list."))
    if not client.active:
        raise _field_error("client", _("The client is archived. Restore it to invoice it."))


def create_draft(
    *,
    company: Company,
    actor: User,
    client: Client,
    issue_date: date | None = None,
    due_date: date | None = None,
    responsible: User | None = None,
    comment: str = "",
    currency: str = "NOK",
    lines: Sequence[LineInput] = (),
) -> Invoice:
    """A new draft for `client`: dated today (Europe/Oslo), due after the firm's default due
    days, the client's responsible accountant as the responsible member unless one is given."""
    require_invoicing(company, actor)
    _check_client(company, client)
    settings = settings_for(company)
    issue_date = issue_date or timezone.localdate()
    due_date = due_date or issue_date + timedelta(days=settings.default_due_days)
    if due_date < issue_date:
        raise _field_error("due_date", _("The due date cannot be before the issue date."))
    if responsible is None and client.responsible_id is not None:
        responsible = client.responsible
        if not Membership.objects.filter(company=company, user_id=client.responsible_id).exists():
            responsible = None
    _check_responsible(company, responsible)
    comment = _checked_comment(comment)
    if len(lines) > MAX_LINES:
        raise _field_error("lines", _("An invoice has at most %(max)d lines.") % {"max": MAX_LINES})
    with transaction.atomic():
        invoice = Invoice.objects.create(
            company=company,
            client=client,
            issue_date=issue_date,
            due_date=due_date,
            currency=(currency or "NOK").upper()[:3],
            responsible=responsible,
            comment=comment.strip(),
            created_by=actor,
        )
        for position, data in enumerate(lines, start=1):
            line = InvoiceLine(company=company, invoice=invoice, position=position)
            _apply_line(line, data, settings).save()
        _refresh_totals(invoice)
        _record(
            invoice,
            source="user",
            kind="created",
            new=InvoiceStatus.DRAFT,
            text=_("Draft created."),
            actor=actor,
        )
    return invoice


_UNSET: Any = object()


def update_draft(
    *,
    company: Company,
    actor: User,
    invoice: Invoice,
    client: Client | None = None,
    issue_date: date | None = None,
    due_date: date | None = None,
    responsible: User | None = _UNSET,
    comment: str | None = None,
    lines: Sequence[LineInput] | None = None,
) -> Invoice:
    """Change a draft's fields; `lines`, when given, replace every line. Issued invoices are
    refused (`InvoiceError`)."""
    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, company=company)
        _check_draft(invoice)
        if client is not None:
            _check_client(company, client)
            invoice.client = client
        if issue_date is not None:
            invoice.issue_date = issue_date
        if due_date is not None:
            invoice.due_date = due_date
        if invoice.due_date < invoice.issue_date:
            raise _field_error("due_date", _("The due date cannot be before the issue date."))
        if responsible is not _UNSET:
            _check_responsible(company, responsible)
            invoice.responsible = responsible
        if comment is not None:
            invoice.comment = _checked_comment(comment)
        invoice.save()
        if lines is not None:
            if len(lines) > MAX_LINES:
                raise _field_error(
                    "lines", _("An invoice has at most %(max)d lines.") % {"max": MAX_LINES}
                )
            settings = settings_for(company)
            invoice.lines.all().delete()
            for position, data in enumerate(lines, start=1):
                line = InvoiceLine(company=company, invoice=invoice, position=position)
                _apply_line(line, data, settings).save()
        _refresh_totals(invoice)
    return invoice


def add_line(*, company: Company, actor: User, invoice: Invoice, data: LineInput) -> InvoiceLine:
    """Append a line to a draft."""
    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, company=company)
        _check_draft(invoice)
        if invoice.lines.count() >= MAX_LINES:
            raise _field_error(
                "lines", _("An invoice has at most %(max)d lines.") % {"max": MAX_LINES}
            )
        last = invoice.lines.aggregate(last=Max("position"))["last"] or 0
        line = InvoiceLine(company=company, invoice=invoice, position=last + 1)
        _apply_line(line, data, settings_for(company)).save()
        _refresh_totals(invoice)
    return line


def update_line(
    *, company: Company, actor: User, line: InvoiceLine, data: LineInput
) -> InvoiceLine:
    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id, company=company)
        _check_draft(invoice)
        _apply_line(line, data, settings_for(company)).save()
        _refresh_totals(invoice)
    return line


def remove_line(*, company: Company, actor: User, line: InvoiceLine) -> None:
    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id, company=company)
        _check_draft(invoice)
        line.delete()
        _renumber(invoice)
        _refresh_totals(invoice)


def move_line(*, company: Company, actor: User, line: InvoiceLine, offset: int) -> None:
    """Move a line up (`offset` -1) or down (+1) among the draft's lines."""
    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=line.invoice_id, company=company)
        _check_draft(invoice)
        lines = list(invoice.lines.all())
        index = next(i for i, other in enumerate(lines) if other.pk == line.pk)
        target = max(0, min(len(lines) - 1, index + offset))
        lines.insert(target, lines.pop(index))
        for position, other in enumerate(lines, start=1):
            if other.position != position:
                other.position = position
                other.save(update_fields=["position"])


def _renumber(invoice: Invoice) -> None:
    for position, line in enumerate(invoice.lines.all(), start=1):
        if line.position != position:
            line.position = position
            line.save(update_fields=["position"])


def delete_draft(*, company: Company, actor: User, invoice: Invoice) -> None:
    """Delete a draft (issued invoices are kept: they are in the accounting system)."""
    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, company=company)
        _check_draft(invoice)
        invoice.delete()


def _next_number(company: Company) -> str:
    """Take the next number of the firm's series under a row lock (no two invoices share one)."""
    settings = BillingSettings.objects.select_for_update().get(pk=settings_for(company).pk)
    while True:
        number = f"{settings.number_prefix}{settings.next_number}"
        settings.next_number += 1
        # A number typed into the series by hand may already be taken: skip it.
        if not Invoice.objects.filter(company=company, number=number).exists():
            break
    settings.save(update_fields=["next_number", "updated_at"])
    return number


def issue_invoice(*, company: Company, actor: User, invoice: Invoice) -> tuple[Invoice, bool]:
    """Issue a draft: give it the next number, freeze it, and, once that has committed, queue
    its export to the firm's accounting system (when billing exports). Returns (invoice,
    issued_now).

    Idempotent: issuing an issued invoice changes nothing and returns `issued_now=False` (a
    double click on *Issue* makes one number and one export). The row lock makes two
    concurrent requests wait for each other. Raises `InvoiceError` for an invoice without lines
    or with a line without a VAT type.
    """
    from billing import exports

    require_invoicing(company, actor)
    with transaction.atomic():
        invoice = Invoice.objects.select_for_update().get(pk=invoice.pk, company=company)
        if not invoice.is_draft:
            return invoice, False
        lines = list(invoice.lines.all())
        if not lines:
            raise _field_error("lines", _("Add at least one line before issuing."))
        for line in lines:
            if line.vat_type_id is None:
                raise _field_error(
                    "lines",
                    _("Line %(n)d has no VAT type. Choose one before issuing.")
                    % {"n": line.position},
                )
        invoice.number = _next_number(company)
        invoice.status = InvoiceStatus.ISSUED
        invoice.issued_at = timezone.now()
        invoice.issued_by = actor
        invoice.save()
        _refresh_totals(invoice)
        _record(
            invoice,
            source="user",
            kind="status",
            old=InvoiceStatus.DRAFT,
            new=InvoiceStatus.ISSUED,
            text=_("Issued as %(number)s.") % {"number": invoice.number},
            actor=actor,
        )
        export = exports.queue_exports(invoice)
        audit.record_for(
            invoice,
            company=company,
            actor=actor,
            action="invoice.issued",
            details={
                "number": invoice.number,
                "client": invoice.client.name,
                "gross_total": str(invoice.gross_total),
                "export_queued": export is not None,
            },
        )
    return invoice, True


def create_drafts_for_clients(
    *,
    company: Company,
    actor: User,
    clients: Iterable[Client],
    lines: Sequence[LineInput],
    issue_date: date | None = None,
    due_date: date | None = None,
    comment: str = "",
) -> list[Invoice]:
    """One ordinary draft per client with the same lines (a monthly fee), all or none."""
    require_invoicing(company, actor)
    clients = list(clients)
    if not clients:
        raise _field_error("clients", _("Choose at least one client."))
    if not lines:
        raise _field_error("lines", _("Add at least one line."))
    with transaction.atomic():
        return [
            create_draft(
                company=company,
                actor=actor,
                client=client,
                issue_date=issue_date,
                due_date=due_date,
                comment=comment,
                lines=lines,
            )
            for client in clients
        ]


def update_invoice_settings(
    *,
    company: Company,
    actor: User,
    export_invoices: bool | None = None,
    default_due_days: int | None = None,
    default_vat_type: VatType | None = _UNSET,
    number_prefix: str | None = None,
    next_number: int | None = None,
    check_status_daily: bool | None = None,
    status_check_hour: int | None = None,
    time_zone: str | None = None,
) -> BillingSettings:
    """Billing's invoicing settings (Settings & Apps → Billing). Owners and admins."""
    from uku.permissions import ADMIN_ROLES

    require(
        company,
        actor,
        roles=ADMIN_ROLES,
        message=_("Only owners and admins can change billing settings."),
    )
    with transaction.atomic():
        settings = BillingSettings.objects.select_for_update().get(pk=settings_for(company).pk)
        if export_invoices is not None:
            settings.export_invoices = export_invoices
        if default_due_days is not None:
            if not 0 <= default_due_days <= 365:
                raise _field_error("default_due_days", _("Enter between 0 and 365 days."))
            settings.default_due_days = default_due_days
        if default_vat_type is not _UNSET:
            if default_vat_type is not None and default_vat_type.company_id != company.pk:
                raise _field_error("default_vat_type", _("Choose a VAT type from the list."))
            settings.default_vat_type = default_vat_type
        if number_prefix is not None:
            number_prefix = number_prefix.strip()
            if len(number_prefix) > NUMBER_PREFIX_MAX_LENGTH:
                raise _field_error(
                    "number_prefix",
                    _("Enter at most %(max)d characters.") % {"max": NUMBER_PREFIX_MAX_LENGTH},
                )
            settings.number_prefix = number_prefix
        if next_number is not None:
            if not 1 <= next_number <= NEXT_NUMBER_MAX:
                raise _field_error(
                    "next_number",
                    _("Enter a number from 1 to %(max)d.") % {"max": NEXT_NUMBER_MAX},
                )
            settings.next_number = next_number
        if check_status_daily is not None:
            settings.check_status_daily = check_status_daily
        if status_check_hour is not None:
            if not 0 <= status_check_hour <= 23:
                raise _field_error("status_check_hour", _("Enter an hour from 0 to 23."))
            settings.status_check_hour = status_check_hour
        if time_zone is not None:
            if time_zone not in TIME_ZONES:
                raise _field_error("time_zone", _("Choose a time zone from the list."))
            settings.time_zone = time_zone
        settings.save()
    return settings
