"""Billing: the firm's billing switch, its VAT types and its products and services.

VAT types and products are imported from the firm's accounting system (Tripletex first) and keyed
by the vendor and the remote id, so every import is an upsert. Rows are never deleted by an
import, only deactivated: invoices will reference products and VAT types later, and an invoice
must keep pointing at what it was issued with.
"""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Length
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType

# A row either comes from an accounting system (vendor and remote id both set) or was made in
# uku (both blank; for later issues). Never one without the other.
_REMOTE_KEY_PAIRED = Q(vendor="", remote_id="") | (~Q(vendor="") & ~Q(remote_id=""))

# VAT codes are numbers kept as text: "3" before "31" before "5" reads wrong, so shorter first.
VAT_CODE_ORDER = (Length("number"), "number", "name", "pk")


class BillingSettings(models.Model):
    """One per firm: whether billing is on, and which accounting system it imports from and
    (later) exports invoices to. Blank `accounting_vendor` means none."""

    company = models.OneToOneField(
        "uku.Company", on_delete=models.CASCADE, related_name="billing_settings"
    )
    active = models.BooleanField(_("active"), default=False)
    accounting_vendor = models.CharField(_("accounting system"), max_length=32, blank=True)
    activated_at = models.DateTimeField(null=True, blank=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    # Invoicing: whether issued invoices go to the accounting system, the defaults of a new
    # draft, and uku's own number series (`number_prefix` + `next_number`, taken at issue).
    export_invoices = models.BooleanField(_("export issued invoices"), default=True)
    default_due_days = models.PositiveSmallIntegerField(_("default due days"), default=14)
    default_vat_type = models.ForeignKey(
        "billing.VatType",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("default VAT type"),
    )
    number_prefix = models.CharField(_("number prefix"), max_length=16, blank=True)
    next_number = models.PositiveIntegerField(_("next invoice number"), default=1)
    # Invoice status (issue 13): read back daily at `status_check_hour` (the firm's time zone).
    check_status_daily = models.BooleanField(_("check invoice status daily"), default=True)
    status_check_hour = models.PositiveSmallIntegerField(_("hour of the daily check"), default=6)
    # The firm's time zone for calendar decisions of billing (the daily check's hour).
    time_zone = models.CharField(_("time zone"), max_length=64, default="Europe/Oslo")
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[BillingSettings]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[BillingSettings]]

    class Meta:
        verbose_name = _("billing settings")
        verbose_name_plural = _("billing settings")

    def __str__(self) -> str:
        return f"billing {'on' if self.active else 'off'} for {self.company_id}"


VAT_NUMBER_MAX_LENGTH = 16
"""The longest VAT code stored; a longer one is refused at import."""


class VatType(models.Model):
    """A VAT type ("MVA-kode"). `number` is the Norwegian VAT code as text ("3", "31", ...); the
    remote id is the accounting system's own id, which is not the code."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(_("accounting system"), max_length=32, blank=True)
    remote_id = models.CharField(_("id in the accounting system"), max_length=64, blank=True)
    number = models.CharField(_("VAT code"), max_length=VAT_NUMBER_MAX_LENGTH)
    name = models.CharField(_("name"), max_length=255)
    percentage = models.DecimalField(_("percentage"), max_digits=5, decimal_places=2)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[VatType]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[VatType]]

    class Meta:
        verbose_name = _("VAT type")
        verbose_name_plural = _("VAT types")
        ordering = ["number", "name", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vendor", "remote_id"],
                condition=~Q(remote_id=""),
                name="vattype_unique_remote_id",
            ),
            models.CheckConstraint(
                condition=Q(percentage__gte=0) & Q(percentage__lte=100),
                name="vattype_percentage_0_to_100",
            ),
            models.CheckConstraint(condition=_REMOTE_KEY_PAIRED, name="vattype_remote_key_paired"),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name} ({self.percentage} %)"


class BillingProduct(models.Model):
    """A product or service the firm invoices. `unit_price` excludes VAT, in NOK, rounded to
    øre on import."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=255)
    number = models.CharField(_("number"), max_length=64, blank=True)
    description = models.TextField(_("description"), blank=True)
    unit_price = models.DecimalField(
        _("unit price excluding VAT"), max_digits=14, decimal_places=2, default=0
    )
    vat_type = models.ForeignKey(
        VatType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="products",
        verbose_name=_("VAT type"),
    )
    vendor = models.CharField(_("accounting system"), max_length=32, blank=True)
    remote_id = models.CharField(_("id in the accounting system"), max_length=64, blank=True)
    active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[BillingProduct]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[BillingProduct]]

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["name", "pk"]
        indexes = [models.Index(fields=["company", "active", "name"])]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vendor", "remote_id"],
                condition=~Q(remote_id=""),
                name="billingproduct_unique_remote_id",
            ),
            models.CheckConstraint(
                condition=_REMOTE_KEY_PAIRED, name="billingproduct_remote_key_paired"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.name}".strip()


# --- Invoices -----------------------------------------------------------------------------------


class InvoiceStatus(models.TextChoices):
    DRAFT = "draft", _("Draft")
    ISSUED = "issued", _("Issued")
    PAID = "paid", _("Paid")
    UNPAID = "unpaid", _("Unpaid")
    CREDITED = "credited", _("Credited")


class Invoice(models.Model):
    """An invoice to one of the firm's clients. A draft changes freely; issuing gives it the
    next number of the firm's series and freezes it (`billing.services.issue_invoice`).

    The totals are stored (kept in step with the lines by `billing.money`), so the list can
    filter and sum without reading every line."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.PROTECT,
        related_name="invoices",
        verbose_name=_("client"),
    )
    # uku's own number from the firm's series; blank while a draft.
    number = models.CharField(_("number"), max_length=32, blank=True)
    issue_date = models.DateField(_("issue date"))
    due_date = models.DateField(_("due date"))
    currency = models.CharField(_("currency"), max_length=3, default="NOK")
    status = models.CharField(
        _("status"), max_length=10, choices=InvoiceStatus.choices, default=InvoiceStatus.DRAFT
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible member"),
    )
    comment = models.TextField(_("comment"), blank=True)
    net_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    vat_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    gross_total = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    # What the accounting system last reported as outstanding (invoice status, issue 13).
    outstanding_amount = models.DecimalField(max_digits=16, decimal_places=2, null=True, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    issued_at = models.DateTimeField(null=True, blank=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[Invoice]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[Invoice]]

    class Meta:
        verbose_name = _("invoice")
        verbose_name_plural = _("invoices")
        ordering = ["-issue_date", "-pk"]
        indexes = [
            models.Index(fields=["company", "status", "issue_date"]),
            models.Index(fields=["company", "client"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "number"], condition=~Q(number=""), name="invoice_unique_number"
            ),
            # Issued means numbered: the number is what makes the export exactly-once.
            models.CheckConstraint(
                condition=Q(status="draft") | ~Q(number=""), name="invoice_issued_has_number"
            ),
        ]

    def __str__(self) -> str:
        return self.number or f"draft {self.public_id}"

    @property
    def is_draft(self) -> bool:
        return self.status == InvoiceStatus.DRAFT


class InvoiceLine(models.Model):
    """One line. `quantity x unit_price` less `discount_percent` is the line's net amount,
    rounded half-up to øre (`billing.money.line_amounts`); the VAT type's code and rate are
    copied when the line is saved, so an issued invoice keeps the rate it was issued with."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="lines")
    position = models.PositiveIntegerField(_("position"), default=0)
    product = models.ForeignKey(
        BillingProduct,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("product"),
    )
    description = models.CharField(_("description"), max_length=500)
    quantity = models.DecimalField(_("quantity"), max_digits=14, decimal_places=4, default=1)
    unit_price = models.DecimalField(
        _("unit price excluding VAT"), max_digits=16, decimal_places=4, default=0
    )
    vat_type = models.ForeignKey(
        VatType,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("VAT type"),
    )
    discount_percent = models.DecimalField(
        _("discount %"), max_digits=5, decimal_places=2, default=0
    )
    vat_percentage = models.DecimalField(max_digits=5, decimal_places=2, default=0)
    net_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)
    vat_amount = models.DecimalField(max_digits=16, decimal_places=2, default=0)

    objects: ClassVar[ScopedManagerType[InvoiceLine]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[InvoiceLine]]

    class Meta:
        ordering = ["position", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(discount_percent__gte=0) & Q(discount_percent__lte=100),
                name="invoiceline_discount_0_to_100",
            ),
        ]

    def __str__(self) -> str:
        return self.description


class ExportState(models.TextChoices):
    PENDING = "pending", _("Queued")
    IN_FLIGHT = "in_flight", _("Exporting")
    DONE = "done", _("Exported")
    FAILED = "failed", _("Failed")
    WAITING = "waiting", _("Waiting")  # a person must act first (the client is not linked)


class InvoiceExport(models.Model):
    """The export outbox: one row per invoice and accounting system, under a unique constraint,
    so issuing twice queues one export. `billing.exports` claims a row with
    `select_for_update(skip_locked=True)`; `outcome_unknown` says an attempt may have written
    without telling us, so the next one looks for the remote object before creating one."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="exports")
    vendor = models.CharField(max_length=32)
    state = models.CharField(max_length=10, choices=ExportState.choices, default="pending")
    attempts = models.PositiveIntegerField(default=0)
    next_try_at = models.DateTimeField(null=True, blank=True)
    claimed_at = models.DateTimeField(null=True, blank=True)
    outcome_unknown = models.BooleanField(default=False)
    last_error = models.TextField(blank=True)
    # What fixes a permanent failure: "link", "vat_type", "bank_account", "vat_registration",
    # "validation" (see AccountingAdapter.export_invoice), or "" when retrying may help.
    error_fix = models.CharField(max_length=20, blank=True)
    remote_id = models.CharField(max_length=64, blank=True)
    remote_number = models.CharField(max_length=64, blank=True)
    warnings = models.JSONField(default=list, blank=True)
    # Invoice status (issue 13): the vendor's invoice made from the export.
    remote_invoice_id = models.CharField(max_length=64, blank=True)
    remote_invoice_number = models.CharField(max_length=64, blank=True)
    remote_state = models.CharField(max_length=16, blank=True)
    status_checked_at = models.DateTimeField(null=True, blank=True)
    exported_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[InvoiceExport]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[InvoiceExport]]

    class Meta:
        indexes = [models.Index(fields=["state", "claimed_at"])]
        constraints = [
            models.UniqueConstraint(fields=["invoice", "vendor"], name="invoiceexport_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.invoice_id} -> {self.vendor}: {self.state}"


class InvoiceEvent(models.Model):
    """The invoice's history: every change of status, number or export state, with its source
    ("user", "export", "status_check", "api") and time."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="events")
    at = models.DateTimeField(auto_now_add=True)
    source = models.CharField(max_length=20)
    kind = models.CharField(max_length=20)
    old = models.CharField(max_length=64, blank=True)
    new = models.CharField(max_length=64, blank=True)
    text = models.CharField(max_length=500, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )

    objects: ClassVar[ScopedManagerType[InvoiceEvent]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[InvoiceEvent]]

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.invoice_id} {self.kind}: {self.old} -> {self.new}"


class IdempotentResponse(models.Model):
    """The first answer to a request carrying an `Idempotency-Key`, replayed for the same key
    (`POST /api/v1/billing/invoices/{id}/issue`). Keys are per firm."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=200)
    request_path = models.CharField(max_length=300)
    status_code = models.PositiveSmallIntegerField()
    body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[IdempotentResponse]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[IdempotentResponse]]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "key"], name="idempotentresponse_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.key} -> {self.status_code}"
