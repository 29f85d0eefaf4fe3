"""The firm's clients, and their links to records in accounting systems."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from uku.validators import validate_orgnr

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType

_COMPANY_SUFFIXES = re.compile(r"\b(as|asa|ans|da|enk|nuf|sa|ba)\b\.?", re.IGNORECASE)


def name_key(name: str) -> str:
    """A name as matching sees it: case, accents of spacing, punctuation and the company form
    (AS, ASA, ENK, ...) ignored. "Fjord Bakeri AS" and "fjord  bakeri" share a key; æ, ø and å are
    kept (they distinguish Norwegian names)."""
    text = unicodedata.normalize("NFC", name or "").casefold()
    text = _COMPANY_SUFFIXES.sub(" ", text)
    return " ".join(re.sub(r"[^\w]+", " ", text).split())


def phone_key(phone: str) -> str:
    """The last eight digits (Norwegian numbers), so "+47 912 34 567" equals "91234567"."""
    digits = re.sub(r"\D", "", phone or "")
    return digits[-8:]


class ClientQuerySet(models.QuerySet["Client"]):
    def search(self, text: str) -> ClientQuerySet:
        """Name, organisation number, customer number or e-mail containing `text`."""
        text = text.strip()
        if not text:
            return self
        digits = "".join(ch for ch in text if ch.isdigit())
        condition = Q(name__icontains=text) | Q(email__icontains=text)
        if digits:
            condition |= Q(organisation_number__contains=digits) | Q(customer_number=digits)
        return self.filter(condition)


# What `ClientQuerySet.as_manager()` builds, under a name mypy can see.
ClientManager = models.Manager.from_queryset(ClientQuerySet)

if TYPE_CHECKING:

    class ScopedClientManager(ClientManager, ScopedManagerType["Client"]):
        """`Client.objects`: the scoped manager with the `ClientQuerySet` methods."""


class Client(models.Model):
    """A client of the accounting firm (in Tripletex: a customer of the firm's company)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=255)
    organisation_number = models.CharField(
        _("organisation number"), max_length=9, blank=True, validators=[validate_orgnr]
    )
    customer_number = models.CharField(_("customer number"), max_length=32, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    address_line = models.CharField(_("address"), max_length=255, blank=True)
    postal_code = models.CharField(_("postal code"), max_length=16, blank=True)
    city = models.CharField(_("city"), max_length=100, blank=True)
    invoice_email = models.EmailField(
        _("invoice e-mail"), blank=True, help_text=_("Where invoices to this client are sent.")
    )
    responsible = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("responsible accountant"),
    )
    active = models.BooleanField(_("active"), default=True)
    # Normalised copies for matching imported records (kept in step by `refresh_keys`).
    match_name = models.CharField(max_length=255, blank=True, editable=False)
    match_phone = models.CharField(max_length=8, blank=True, editable=False)
    # The last customer import that created or updated this client ("View clients" after import).
    last_import = models.ForeignKey(
        "integrations.SyncJob", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedClientManager] = ScopedManager(
        company="company", _manager_class=ClientManager
    )
    _default_manager: ClassVar[ScopedClientManager]

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["company", "name"]),
            models.Index(fields=["company", "email"]),
            models.Index(fields=["company", "match_name"]),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "organisation_number"],
                condition=~Q(organisation_number=""),
                name="client_unique_orgnr",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        self.refresh_keys()
        update_fields = kwargs.get("update_fields")
        if update_fields is not None:
            kwargs["update_fields"] = {*update_fields, "email", "match_name", "match_phone"}
        super().save(*args, **kwargs)

    def refresh_keys(self) -> None:
        self.email = (self.email or "").strip().lower()
        self.match_name = name_key(self.name)
        self.match_phone = phone_key(self.phone)


class ExternalLink(models.Model):
    """A client's record in an accounting system (for Tripletex: the customer id)."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(Client, on_delete=models.CASCADE, related_name="links")
    vendor = models.CharField(max_length=32)
    remote_id = models.CharField(max_length=64)
    remote_name = models.CharField(max_length=255, blank=True)
    remote_number = models.CharField(max_length=64, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[ExternalLink]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[ExternalLink]]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vendor", "remote_id"], name="link_unique_remote"
            ),
            models.UniqueConstraint(fields=["client", "vendor"], name="link_unique_client"),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} -> {self.vendor}:{self.remote_id}"


class ImportClassification(models.TextChoices):
    NEW = "new", _("New")
    EXISTING = "existing", _("Existing")
    LINKED = "linked", _("Already linked")


class MatchRule(models.TextChoices):
    LINK = "link", _("Linked to this customer")
    ORGNR = "orgnr", _("Same organisation number")
    EMAIL = "email", _("Same e-mail")
    NAME_PHONE = "name_phone", _("Same name and phone")


class ImportOutcome(models.TextChoices):
    PENDING = "", _("Not processed")
    CREATED = "created", _("Created")
    UPDATED = "updated", _("Updated")
    UNCHANGED = "unchanged", _("Unchanged")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class CustomerImportRow(models.Model):
    """One remote customer in an import preview: what it is to uku (new, existing, linked), the
    rule that matched, what would change, and, after confirming, what happened to it.

    `data` holds the remote record as imported (`RemoteCustomer` fields), so confirming applies
    exactly what the admin saw in the preview.
    """

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(
        "integrations.SyncJob", on_delete=models.CASCADE, related_name="customer_rows"
    )
    vendor = models.CharField(max_length=32)
    remote_id = models.CharField(max_length=64)
    name = models.CharField(max_length=255)
    data = models.JSONField()
    inactive = models.BooleanField(default=False)
    classification = models.CharField(max_length=10, choices=ImportClassification.choices)
    match_rule = models.CharField(max_length=12, choices=MatchRule.choices, blank=True)
    client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    changes = models.JSONField(default=dict, blank=True)
    selected = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=ImportOutcome.choices, blank=True)
    error = models.TextField(blank=True)

    objects: ClassVar[ScopedManagerType[CustomerImportRow]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[CustomerImportRow]]

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "remote_id"], name="import_row_unique_remote"),
        ]
        indexes = [models.Index(fields=["job", "classification"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.classification})"
