"""Users, firms (tenants), memberships with roles, invitations and personal API tokens.

`Company` is the tenant. Every tenant-owned model elsewhere has an indexed `company` foreign key and
`objects = ScopedManager(company="company")`, so a query made outside `scope(company=...)` raises
instead of silently returning every firm's rows.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import TYPE_CHECKING, Any, ClassVar

from django.contrib.auth.models import AbstractBaseUser, BaseUserManager, PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager, scopes_disabled

from uku import registry_numbers
from uku.registry_numbers import DEFAULT_COUNTRY, Country
from uku.validators import single_line

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra: object) -> User:
        if not email:
            raise ValueError("An e-mail address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra: object) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        return self.create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person. Logs in with e-mail; belongs to firms through `Membership`."""

    email = models.EmailField(_("e-mail"), unique=True)
    name = models.CharField(_("name"), max_length=150, blank=True)
    is_active = models.BooleanField(_("active"), default=True)
    is_staff = models.BooleanField(_("staff"), default=False)
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS: ClassVar[list[str]] = []

    def __str__(self) -> str:
        return self.name or self.email

    def get_full_name(self) -> str:
        return self.name or self.email

    def get_short_name(self) -> str:
        return self.name or self.email

    def save(self, *args: Any, **kwargs: Any) -> None:
        # `set_password` leaves the raw password in `_password` until the next save: that save is
        # the moment a password changes, whichever way (reset link, change form, admin, command).
        password_changed = getattr(self, "_password", None) is not None and not self._state.adding
        super().save(*args, **kwargs)
        if password_changed:
            # A new password is how a person shuts out whoever knew the old one: tokens made
            # with the old password's access go too, in every firm.
            with scopes_disabled():
                self.api_tokens.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())


class Plan(models.TextChoices):
    FREE = "free", _("Free")
    TEAM = "team", _("Team")
    ELITE = "elite", _("Elite")


PLAN_RANK = {Plan.FREE: 0, Plan.TEAM: 1, Plan.ELITE: 2}


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Admin")
    MEMBER = "member", _("Member")
    BILLING = "billing", _("Billing")


class Company(models.Model):
    """An accounting firm: the tenant."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    name = models.CharField(_("name"), max_length=200)
    # The firm's country decides how its own registry number is checked and is the country its
    # clients' numbers are taken to be in unless said otherwise (an Estonian firm's clients
    # carry Estonian registry codes). Firms from before countries existed are Norwegian.
    country = models.CharField(
        _("country"),
        max_length=2,
        choices=Country.choices,
        default=DEFAULT_COUNTRY,
        help_text=_("Where the firm is registered; its clients' registry numbers default to it."),
    )
    organisation_number = models.CharField(
        _("organisation number"),
        max_length=registry_numbers.MAX_LENGTH,
        blank=True,
        help_text=_("The firm's registry number, checked by the rule of its country."),
    )
    plan = models.CharField(_("plan"), max_length=10, choices=Plan.choices, default=Plan.FREE)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = _("company")
        verbose_name_plural = _("companies")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def save(self, *args: Any, **kwargs: Any) -> None:
        # A firm name is one line: it goes into e-mail subjects and headers, where a line break
        # is refused (and would be a header injection), and into page titles.
        self.name = single_line(self.name)
        super().save(*args, **kwargs)

    def clean(self) -> None:
        # Checked here, not by a field validator: the rule depends on the country field.
        if self.country not in registry_numbers.SCHEMES:
            return  # clean_fields has already said the country is not one of the choices
        self.organisation_number = registry_numbers.normalise(
            self.country, self.organisation_number
        )
        try:
            registry_numbers.validate(self.country, self.organisation_number)
        except ValidationError as exc:
            raise ValidationError({"organisation_number": exc}) from exc

    def has_plan(self, minimum: str) -> bool:
        return PLAN_RANK[Plan(self.plan)] >= PLAN_RANK[Plan(minimum)]


class Membership(models.Model):
    """A user's place in a firm: the role, and the member's id in the firm's accounting system."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="memberships")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    external_id = models.CharField(
        _("External ID"),
        max_length=64,
        blank=True,
        help_text=_(
            "The member's employee id in the accounting system; links invoices and clients to them."
        ),
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[Membership]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[Membership]]

    class Meta:
        ordering = ["user__email"]
        constraints = [
            models.UniqueConstraint(fields=["company", "user"], name="membership_unique_user"),
            # One accounting-system employee is one member: otherwise a member could claim a
            # colleague's Tripletex id and have their invoices and clients linked to themselves.
            models.UniqueConstraint(
                fields=["company", "external_id"],
                condition=~models.Q(external_id=""),
                name="membership_unique_external_id",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} @ {self.company} ({self.role})"


def _hash_token(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


class Invitation(models.Model):
    """An e-mailed invitation to join a firm. Only the token's hash is stored."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="invitations")
    email = models.EmailField(_("e-mail"))
    role = models.CharField(_("role"), max_length=10, choices=Role.choices, default=Role.MEMBER)
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ScopedManagerType[Invitation]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[Invitation]]

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.email} -> {self.company}"

    @property
    def is_pending(self) -> bool:
        return self.accepted_at is None and self.expires_at > timezone.now()


class ApiToken(models.Model):
    """A personal API token: acts as its user, inside one firm. Stored as a SHA-256 hash.

    The raw token is `uku_` + 40 random characters; it is shown once, at creation. `prefix` (the
    first 8 characters after `uku_`) lets the user tell tokens apart without revealing them.
    Every token expires (`expires_at`, chosen at creation: `DEFAULT_DAYS`, at most `MAX_DAYS`).
    """

    PREFIX = "uku_"
    DEFAULT_DAYS = 90
    MAX_DAYS = 365

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="api_tokens")
    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(_("name"), max_length=100)
    prefix = models.CharField(max_length=8)
    token_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(_("expires"))

    objects: ClassVar[ScopedManagerType[ApiToken]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[ApiToken]]
    # Not a field: the token's user's membership in its firm, set (with the firm loaded) by
    # `uku.tenancy.authenticate_api_token`, which refuses a token whose user left the firm.
    membership: Membership

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_expired(self) -> bool:
        return self.expires_at <= timezone.now()

    @classmethod
    def generate(cls) -> tuple[str, str, str]:
        """Return (raw token, prefix, hash) for a new token."""
        body = secrets.token_urlsafe(30)[:40]
        return cls.PREFIX + body, body[:8], _hash_token(cls.PREFIX + body)

    @staticmethod
    def hash(raw: str) -> str:
        return _hash_token(raw)


class AuditEvent(models.Model):
    """Who did what to which object of the firm, when and from where: one row per state change.

    Written only by `uku.audit.record`, in the same transaction as the change it describes, and
    never changed afterwards. The actor is kept twice: the user (null for the system, or once the
    user is deleted) and `actor_label`, their e-mail as it was, so the log outlives the account.
    `details` never holds a secret: `record` drops credential-like keys and masks known secrets.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey(Company, on_delete=models.CASCADE, related_name="audit_events")
    actor = models.ForeignKey(
        User, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    actor_label = models.CharField(_("actor"), max_length=254, blank=True)
    action = models.CharField(_("action"), max_length=64)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_label = models.CharField(_("object"), max_length=255, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now)

    objects: ClassVar[ScopedManagerType[AuditEvent]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[AuditEvent]]

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [
            models.Index(fields=["company", "-created_at"], name="audit_company_time"),
            models.Index(fields=["company", "action", "-created_at"], name="audit_company_action"),
            models.Index(fields=["company", "object_id"], name="audit_company_object"),
        ]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.actor_label or '-'} {self.action}"

    def save(self, *args: Any, **kwargs: Any) -> None:
        # An audit log that can be edited proves nothing: rows are written once.
        if not self._state.adding:
            raise ValueError("Audit events are never changed.")
        super().save(*args, **kwargs)
