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
