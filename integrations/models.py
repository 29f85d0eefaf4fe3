"""Connections to accounting systems, their encrypted credentials, sync jobs and notifications."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

from uku.i18n import in_active_language

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class ConnectionStatus(models.TextChoices):
    NOT_CONNECTED = "not_connected", _("Not connected")
    CONNECTED = "connected", _("Connected")
    ERROR = "error", _("Error")


class IntegrationConnection(models.Model):
    """A firm's connection to one accounting system: one per firm and vendor, or, for systems
    whose credentials belong to one client's own database (Directo), one per firm, vendor and
    client. Addressed by `public_id`; jobs point at it.

    Credentials are kept per environment (`IntegrationCredential`); `environment` says which one
    is active. What an environment is, is the vendor's (Tripletex: production or test; Merit
    Aktiva: the country instance), declared in its `VendorInfo.environments`. Replacing a token
    touches only the credential row, so links, mappings and job history, which hang off the
    connection, survive.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=32)
    client = models.ForeignKey(
        "clients.Client",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        help_text="Set for credentials that belong to one client's own database.",
    )
    enabled = models.BooleanField(default=False)
    environment = models.CharField(max_length=16, blank=True)
    status = models.CharField(
        max_length=16, choices=ConnectionStatus.choices, default=ConnectionStatus.NOT_CONNECTED
    )
    remote_company_name = models.CharField(max_length=255, blank=True)
    remote_company_id = models.CharField(max_length=64, blank=True)
    remote_employee_name = models.CharField(max_length=255, blank=True)
    last_success_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # `last_error` in every language, so a page shows it in its reader's (uku/i18n.py).
    last_error_texts = models.JSONField(default=dict, blank=True)
    last_error_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[IntegrationConnection]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[IntegrationConnection]]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vendor"],
                condition=Q(client__isnull=True),
                name="connection_unique_vendor",
            ),
            models.UniqueConstraint(
                fields=["company", "vendor", "client"],
                condition=Q(client__isnull=False),
                name="connection_unique_vendor_client",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} for {self.company_id}"

    @property
    def last_error_shown(self) -> str:
        """`last_error` in the active language, when it was recorded in it."""
        return in_active_language(self.last_error, self.last_error_texts)

    @property
    def active_credential(self) -> IntegrationCredential | None:
        return next((c for c in self.credentials.all() if c.environment == self.environment), None)


class IntegrationCredential(models.Model):
    """The secret for one connection and environment, encrypted with MultiFernet.

    Write-only: nothing renders `secret_encrypted`; the UI shows `last4` (of the first secret
    field), `expires_on` and `public_fields`, the values of the fields the vendor declares as not
    secret (an API ID), which the admin may see again.
    `expiry_warnings_sent` lists the day thresholds (14, 7, 3, 1, 0) already warned about for
    this token, so each warning goes out once; saving a new token resets it.
    """

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    connection = models.ForeignKey(
        IntegrationConnection, on_delete=models.CASCADE, related_name="credentials"
    )
    environment = models.CharField(max_length=16)
    secret_encrypted = models.TextField()
    last4 = models.CharField(max_length=4)
    public_fields = models.JSONField(default=dict, blank=True)
    expires_on = models.DateField(null=True, blank=True)
    set_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    set_at = models.DateTimeField()
    expiry_warnings_sent = models.JSONField(default=list, blank=True)

    objects: ClassVar[ScopedManagerType[IntegrationCredential]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[IntegrationCredential]]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["connection", "environment"], name="credential_unique_environment"
            ),
        ]

    def __str__(self) -> str:
        return f"credential …{self.last4} ({self.environment})"

    def __repr__(self) -> str:  # never the ciphertext either
        return f"<IntegrationCredential {self.pk} …{self.last4} {self.environment}>"


class SyncJobStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    RUNNING = "running", _("Running")
    SUCCEEDED = "succeeded", _("Succeeded")
    FAILED = "failed", _("Failed")
    # Stopped by a person (`integrations.jobs.cancel`): never runs again; what a runner had
    # committed before it stopped is kept.
    CANCELLED = "cancelled", _("Cancelled")


ACTIVE_JOB_STATUSES = (SyncJobStatus.QUEUED, SyncJobStatus.RUNNING)


def stalled_before() -> datetime:
    """A running job last heard from before this moment is stalled (its worker is gone)."""
    return timezone.now() - timedelta(seconds=settings.UKU_JOB_STALL_SECONDS)


class SyncJob(models.Model):
    """One background sync: what, for whom, how far, and how it ended.

    At most one queued-or-running job per (firm, vendor, kind, scope): a database constraint, so a
    second request joins the running job instead of starting another (see `services.start_job`).

    The row, not the broker, is the truth of a job. A running job proves it is alive by moving
    `heartbeat_at` forward (`integrations.jobs` does it every few seconds while the runner works);
    one whose heartbeat is older than `UKU_JOB_STALL_SECONDS` is *stalled*: its worker died.
    A stalled job is taken over and resumed (never joined) by the next delivery of its message,
    the periodic sweeper, a restarted worker or a user's new request; `resumes` counts these
    take-overs so a job that keeps killing its worker ends failed instead of looping forever.
    `wake_at` is when a queued job is due (its retry's countdown), so the sweeper can tell a
    waiting job from one whose message was lost.
    """

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=32)
    connection = models.ForeignKey(
        IntegrationConnection, on_delete=models.SET_NULL, null=True, blank=True, related_name="jobs"
    )
    kind = models.CharField(max_length=64)
    scope = models.CharField(max_length=128, blank=True)
    status = models.CharField(
        max_length=16, choices=SyncJobStatus.choices, default=SyncJobStatus.QUEUED
    )
    progress_done = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(null=True, blank=True)
    counts = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    # `error` in every language, so a page shows it in its reader's (uku/i18n.py).
    error_texts = models.JSONField(default=dict, blank=True)
    error_details = models.JSONField(default=dict, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    wake_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    resumes = models.PositiveIntegerField(default=0)

    objects: ClassVar[ScopedManagerType[SyncJob]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[SyncJob]]

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["company", "-created_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vendor", "kind", "scope"],
                condition=Q(status__in=["queued", "running"]),
                name="syncjob_one_active_per_scope",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor}/{self.kind} {self.status}"

    @property
    def error_shown(self) -> str:
        """`error` in the active language, when it was recorded in it (a job fails in the
        worker, in the site's default language; it is read in the reader's)."""
        return in_active_language(self.error, self.error_texts)

    @property
    def is_active(self) -> bool:
        return self.status in ACTIVE_JOB_STATUSES

    @property
    def is_stalled(self) -> bool:
        """Running, but its worker has not been heard from for longer than the stall interval."""
        if self.status != SyncJobStatus.RUNNING:
            return False
        last_sign = self.heartbeat_at or self.started_at or self.created_at
        return last_sign is not None and last_sign < stalled_before()

    @property
    def start_time(self) -> datetime:
        """When the job started, as History's list and the job's page both show it: when a
        worker first took it, or, before that (queued, or run inside a request), when it was
        requested."""
        return self.started_at or self.created_at

    @property
    def retries(self) -> int:
        """How often the job was run again after a transient error (a 429, a 5xx, a timeout):
        every claim after the first that was not a resume of a stalled run."""
        return max(0, self.attempts - 1 - self.resumes)

    @property
    def percent(self) -> int | None:
        if not self.progress_total:
            return None
        return min(100, round(100 * self.progress_done / self.progress_total))


class SyncJobCall(models.Model):
    """One API call a job made: method, path template, status, duration and the vendor's own
    diagnostics for a failed call. Never a token, never a body."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey(SyncJob, on_delete=models.CASCADE, related_name="calls")
    at = models.DateTimeField(auto_now_add=True)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    status = models.PositiveSmallIntegerField(null=True, blank=True)
    duration_ms = models.PositiveIntegerField(default=0)
    error_code = models.CharField(max_length=32, blank=True)
    developer_message = models.TextField(blank=True)
    request_id = models.CharField(max_length=64, blank=True)

    objects: ClassVar[ScopedManagerType[SyncJobCall]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[SyncJobCall]]

    class Meta:
        ordering = ["at", "pk"]

    def __str__(self) -> str:
        return f"{self.method} {self.path} -> {self.status}"


class NotificationLevel(models.TextChoices):
    INFO = "info", _("Info")
    SUCCESS = "success", _("Success")
    WARNING = "warning", _("Warning")
    ERROR = "error", _("Error")


class Notification(models.Model):
    """An in-app message to one member. Sending to a role fans out to one row per member, so
    each person reads (and dismisses) their own. `key` de-duplicates: one notification per key
    and recipient."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    level = models.CharField(
        max_length=8, choices=NotificationLevel.choices, default=NotificationLevel.INFO
    )
    text = models.TextField()
    # `text` in every language, so the bell shows it in its reader's (uku/i18n.py).
    texts = models.JSONField(default=dict, blank=True)
    link = models.CharField(max_length=500, blank=True)
    key = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects: ClassVar[ScopedManagerType[Notification]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[Notification]]

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["company", "recipient", "read_at"])]
        constraints = [
            models.UniqueConstraint(
                fields=["company", "recipient", "key"],
                condition=~Q(key=""),
                name="notification_unique_key",
            ),
        ]

    def __str__(self) -> str:
        return self.text[:60]

    @property
    def text_shown(self) -> str:
        """`text` in the active language, when it was made in it."""
        return in_active_language(self.text, self.texts)


class RateLimitState(models.Model):
    """Shared rate-limit state for one vendor credential when no Redis is configured.

    Keyed by a hash of the credential (never the credential), so every worker of every process
    sees the same budget. Infrastructure, not tenant data: no company, no scope.
    """

    key = models.CharField(max_length=128, unique=True)
    blocked_until = models.DateTimeField(null=True, blank=True)
    limit = models.IntegerField(null=True, blank=True)
    remaining = models.IntegerField(null=True, blank=True)
    reset_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return self.key
