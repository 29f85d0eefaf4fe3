"""The firm's clients, and their links to records in accounting systems."""

from __future__ import annotations

import re
import unicodedata
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from uku import registry_numbers
from uku.registry_numbers import Country

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
        """Name, organisation number, customer number or e-mail containing `text`. Numbers are
        stored compact (digits only, whatever the country), so the digits of `text` find one
        however it is typed: "923 609 016", "1234567-8" (a Y-tunnus), "PL 856-734-62-15"."""
        text = text.strip()
        if not text:
            return self
        digits = "".join(ch for ch in text if ch.isdigit())
        condition = Q(name__icontains=text) | Q(email__icontains=text)
        if digits:
            condition |= Q(organisation_number__contains=digits) | Q(customer_number=digits)
        return self.filter(condition)


class RegistryCountryField(models.CharField):
    """A client's registry country that, left blank, becomes its firm's country when the row is
    first written: in `save()` and in `bulk_create()` alike (both call `pre_save` with
    add=True), so no way of creating a client can leave the country out."""

    def pre_save(self, model_instance: models.Model, add: bool) -> Any:
        value = getattr(model_instance, self.attname)
        if not value:
            # The firm is normally loaded already (clients are made with company=...). The field
            # is only on Client, which Django's pre_save signature types as the base Model.
            value = model_instance.company.country  # type: ignore[attr-defined]
            setattr(model_instance, self.attname, value)
        return value


# What `ClientQuerySet.as_manager()` builds, under a name mypy can see.
ClientManager = models.Manager.from_queryset(ClientQuerySet)

if TYPE_CHECKING:

    class ScopedClientManager(ClientManager, ScopedManagerType["Client"]):
        """`Client.objects`: the scoped manager with the `ClientQuerySet` methods."""


class Client(models.Model):
    """A client of the accounting firm (in Tripletex: a customer of the firm's company)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    # Not indexed alone: every query by firm is served by the (company, ...) indexes below, and
    # one index less is one less to write per imported client.
    company = models.ForeignKey(
        "uku.Company", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    name = models.CharField(_("name"), max_length=255)
    # The number's country: the number is checked by its rule and is unique per firm and country
    # (the same eight digits are an Estonian registry code and a Finnish Y-tunnus).
    registry_country = RegistryCountryField(
        _("registry country"),
        max_length=2,
        choices=Country.choices,
        # No default: blank ("") until the row is written, when it becomes the firm's country.
        blank=True,
        help_text=_("The country of the organisation number; by default the firm's."),
    )
    # Compact (digits only) and valid for `registry_country`, or blank.
    organisation_number = models.CharField(
        _("organisation number"), max_length=registry_numbers.MAX_LENGTH, blank=True
    )
    # A number an import brought that is not valid for its country, as it was typed there. Kept
    # so it is never lost and can be corrected, but never used for matching or uniqueness.
    raw_organisation_number = models.CharField(
        _("organisation number as imported"), max_length=64, blank=True, editable=False
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
                fields=["company", "registry_country", "organisation_number"],
                condition=~Q(organisation_number=""),
                name="client_unique_registry_number",
            ),
            # Every client has a country (`RegistryCountryField` fills it in).
            models.CheckConstraint(
                condition=~Q(registry_country=""), name="client_registry_country_set"
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

    @property
    def registry_number_display(self) -> str:
        """The number as people of its country write it (a Y-tunnus "1234567-8")."""
        return registry_numbers.format_number(self.registry_country, self.organisation_number)

    def clean_fields(self, exclude: Any = None) -> None:
        """Django's field checks, then the registry number's, unless `organisation_number` is
        excluded. Here rather than in clean(): a form without the number (Billing settings)
        excludes it, and an error from clean() on a field the form lacks would be a crash."""
        errors: dict[str, Any] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.update_error_dict(errors)
        checkable = not {"organisation_number", "registry_country"} & (
            set(exclude or ()) | set(errors)
        )
        if checkable:
            try:
                self.clean_registry_number()
            except ValidationError as exc:
                errors = exc.update_error_dict(errors)
        if errors:
            raise ValidationError(errors)

    def clean_registry_number(self) -> None:
        """Normalise the organisation number by the client's country (the firm's when blank)
        and check it by that country's rule and against the firm's other clients; errors name
        the `organisation_number` field."""
        if not self.registry_country and self.company_id is not None:
            self.registry_country = self.company.country
        if self.registry_country not in registry_numbers.SCHEMES:
            return  # not one of the choices: clean_fields has said so
        self.organisation_number = registry_numbers.normalise(
            self.registry_country, self.organisation_number
        )
        try:
            registry_numbers.validate(self.registry_country, self.organisation_number)
        except ValidationError as exc:
            raise ValidationError({"organisation_number": exc}) from exc
        # Checked here too, not only by the constraint: callers exclude `company` from
        # full_clean, which skips the constraint's validation, and an IntegrityError is no
        # message for a person.
        if (
            self.organisation_number
            and Client.objects.filter(
                company_id=self.company_id,
                registry_country=self.registry_country,
                organisation_number=self.organisation_number,
            )
            .exclude(pk=self.pk)
            .exists()
        ):
            raise ValidationError(
                {
                    "organisation_number": ValidationError(
                        _("Another client already has %(name)s %(number)s."),
                        code="unique",
                        params={
                            "name": registry_numbers.number_name(self.registry_country),
                            "number": self.registry_number_display,
                        },
                    )
                }
            )

    def refresh_keys(self) -> None:
        self.email = (self.email or "").strip().lower()
        self.match_name = name_key(self.name)
        self.match_phone = phone_key(self.phone)


class BooksState(models.TextChoices):
    """Whether uku can read a linked client's own books (its company in the accounting system,
    reached through the firm's accountant access). Blank: the vendor has no such access."""

    LINKED = "linked", _("Books linked")
    NOT_FOUND = "not_found", _("Books not found")
    AMBIGUOUS = "ambiguous", _("Several companies match")
    NO_ACCESS = "no_access", _("No accountant access")
    # Books were linked and readable, then the access was removed (`linking.mark_books_access_lost`).
    ACCESS_LOST = "access_lost", _("Books access lost")


# Books states that need a person: the column warns and the "needs attention" filter finds them.
BOOKS_ATTENTION = (
    BooksState.NOT_FOUND,
    BooksState.AMBIGUOUS,
    BooksState.NO_ACCESS,
    BooksState.ACCESS_LOST,
)


class ExternalLinkQuerySet(models.QuerySet["ExternalLink"]):
    def needing_attention(self) -> ExternalLinkQuerySet:
        """Links that need a person: stale (the customer is gone or inactive in the accounting
        system) or whose books cannot be read (not found, ambiguous, no access, access lost)."""
        return self.filter(Q(books_state__in=BOOKS_ATTENTION) | Q(stale_at__isnull=False))


class ExternalLink(models.Model):
    """A client's record in an accounting system (for Tripletex: the customer id), and, for
    vendors with accountant access, the client's own company there (its books)."""

    # Neither indexed alone: the unique constraints below lead with them (one index less each
    # to write per link an import makes).
    company = models.ForeignKey(
        "uku.Company", on_delete=models.CASCADE, related_name="+", db_index=False
    )
    client = models.ForeignKey(
        Client, on_delete=models.CASCADE, related_name="links", db_index=False
    )
    vendor = models.CharField(max_length=32)
    remote_id = models.CharField(max_length=64)
    remote_name = models.CharField(max_length=255, blank=True)
    remote_number = models.CharField(max_length=64, blank=True)
    # The client's company in the vendor (Tripletex: the Basic-auth username of its books).
    books_company_id = models.CharField(max_length=64, blank=True)
    books_company_name = models.CharField(max_length=255, blank=True)
    books_state = models.CharField(max_length=16, choices=BooksState.choices, blank=True)
    # Why the books cannot be read any more, and since when (`linking.mark_books_access_lost`).
    books_error = models.TextField(blank=True)
    books_error_at = models.DateTimeField(null=True, blank=True)
    # Set when the customer was found deleted or inactive in the accounting system
    # (`linking.mark_link_stale`); cleared by a relink or when a sync finds it active again.
    stale_reason = models.TextField(blank=True)
    stale_at = models.DateTimeField(null=True, blank=True)
    linked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    linked_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[ExternalLink]] = ScopedManager(
        company="company", _manager_class=ExternalLinkQuerySet.as_manager().__class__
    )
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

    @property
    def vendor_label(self) -> str:
        """The accounting system's name ("Tripletex"), from the registry (no query)."""
        from integrations.base import REGISTRY

        info = REGISTRY.get(self.vendor)
        return info.label if info else self.vendor

    @property
    def needs_attention(self) -> bool:
        return self.is_stale or self.books_state in BOOKS_ATTENTION

    @property
    def is_stale(self) -> bool:
        return self.stale_at is not None


class ImportClassification(models.TextChoices):
    NEW = "new", _("New")
    EXISTING = "existing", _("Existing")
    LINKED = "linked", _("Already linked")
    # Importing it as it is would fail: its registry number is another client's, or another
    # customer of the same preview has it (see `ImportConflict`). Not selectable until resolved.
    CONFLICT = "conflict", _("Conflict")


class ImportConflict(models.TextChoices):
    """Why a preview row cannot be imported as it is."""

    NUMBER_TAKEN = "number_taken", _("Another client has this organisation number")
    DUPLICATE = "duplicate", _("Another customer in this import has this organisation number")


class ImportResolution(models.TextChoices):
    """What the admin chose for a conflicting row."""

    NONE = "", _("Not resolved")
    LINK = "link", _("Link to the existing client")
    WITHOUT_NUMBER = "without_number", _("Import as its own client without the number")
    SKIP = "skip", _("Do not import")


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
    # Not indexed alone: the (job, ...) index and unique constraint below lead with it.
    job = models.ForeignKey(
        "integrations.SyncJob",
        on_delete=models.CASCADE,
        related_name="customer_rows",
        db_index=False,
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
    # The admin's selection, kept on the server so it survives filters, searches and pages
    # (`clients.importing.update_selection`); cleared on the rows a confirm processes.
    selected = models.BooleanField(default=False)
    outcome = models.CharField(max_length=10, choices=ImportOutcome.choices, blank=True)
    error = models.TextField(blank=True)
    # The confirm job that processed the row: each confirm's summary counts only its own rows.
    # Not indexed: the confirm writes it on every row, and an indexed column there would make
    # each of those UPDATEs rewrite every index of the row (no HOT update), doubling the
    # confirm's time; its readers filter by `job` first, which is indexed.
    confirm_job = models.ForeignKey(
        "integrations.SyncJob",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        db_index=False,
    )
    # "NO:923609016" for a valid number (see `importing.registry_key`), to find duplicates.
    registry_key = models.CharField(max_length=40, blank=True)
    conflict = models.CharField(max_length=16, choices=ImportConflict.choices, blank=True)
    # NUMBER_TAKEN: the client holding the number; DUPLICATE: the other customer's name.
    # Not indexed (read only through the row, never searched by): one index less per
    # previewed customer.
    conflict_client = models.ForeignKey(
        Client, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", db_index=False
    )
    conflict_with = models.CharField(max_length=255, blank=True)
    resolution = models.CharField(
        max_length=16, choices=ImportResolution.choices, blank=True, default=""
    )

    objects: ClassVar[ScopedManagerType[CustomerImportRow]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[CustomerImportRow]]

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["job", "remote_id"], name="import_row_unique_remote"),
        ]
        indexes = [
            models.Index(fields=["job", "classification"]),
            models.Index(fields=["job", "registry_key"]),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.classification})"

    @property
    def open_conflict(self) -> bool:
        """A conflict on a row still to import (the review offers its resolutions)."""
        return bool(self.conflict) and self.outcome in (ImportOutcome.PENDING, ImportOutcome.FAILED)

    @property
    def registry_warning(self) -> str:
        """Why the remote registry number is not used (it is kept as imported), or ""."""
        from clients.importing import registry_warning  # importing imports this module

        return registry_warning(self.data)

    @property
    def registry_number_display(self) -> str:
        """The remote number as its country writes it, or as typed when it is not valid."""
        data = self.data
        country = data.get("registry_country") or registry_numbers.DEFAULT_COUNTRY
        if number := data.get("organisation_number"):
            return registry_numbers.format_number(country, number)
        return str(data.get("raw_organisation_number") or "")
