"""Monthly summary tasks: the firm's custom task fields, how each accounting system's work
statistics map onto them, the settings of the monthly import, and the tasks with their values."""

from __future__ import annotations

import uuid
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_scopes import ScopedManager

if TYPE_CHECKING:
    from django_scopes import ScopedManagerType


class TaskTopic(models.Model):
    """What a summary task is filed under ("Monthly bookkeeping")."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)

    objects: ClassVar[ScopedManagerType[TaskTopic]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[TaskTopic]]

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="topic_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name


class FieldType(models.TextChoices):
    WHOLE_NUMBER = "whole_number", _("Whole number")
    DECIMAL = "decimal", _("Decimal number")
    MONEY = "money", _("Money")
    TEXT = "text", _("Text")
    DATE = "date", _("Date")


NUMERIC_TYPES = (FieldType.WHOLE_NUMBER, FieldType.DECIMAL, FieldType.MONEY)


class CustomTaskField(models.Model):
    """A field the firm adds to its summary tasks; filled by hand or from a mapped statistic."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(_("name"), max_length=100)
    type = models.CharField(
        _("type"), max_length=16, choices=FieldType.choices, default=FieldType.WHOLE_NUMBER
    )
    created_at = models.DateTimeField(auto_now_add=True)

    objects: ClassVar[ScopedManagerType[CustomTaskField]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[CustomTaskField]]

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["company", "name"], name="task_field_unique_name"),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def numeric(self) -> bool:
        return self.type in NUMERIC_TYPES


class ImportDay(models.TextChoices):
    LAST_WORK_DAY = "last_work_day", _("Last work day of the month")
    LAST_DAY = "last_day", _("Last calendar day of the month")


class SummarySettings(models.Model):
    """How one vendor's statistics become monthly summary tasks for the firm.

    `import_day` is "last_work_day", "last_day" or a day "1".."28" of the following month."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=32)
    task_title = models.CharField(_("task title"), max_length=200)
    topic = models.ForeignKey(
        TaskTopic, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    import_day = models.CharField(_("import data"), max_length=16, default="last_work_day")
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[SummarySettings]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[SummarySettings]]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["company", "vendor"], name="summary_settings_vendor"),
        ]

    def __str__(self) -> str:
        return f"{self.vendor} summary settings"


class FieldMapping(models.Model):
    """One statistic of one vendor feeding one custom field. A statistic without a row is not
    imported (and its source not read)."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=32)
    statistic_key = models.CharField(max_length=64)
    field = models.ForeignKey(CustomTaskField, on_delete=models.CASCADE, related_name="mappings")

    objects: ClassVar[ScopedManagerType[FieldMapping]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[FieldMapping]]

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["company", "vendor", "statistic_key"], name="mapping_unique_statistic"
            ),
            # Two statistics in one field would overwrite each other.
            models.UniqueConstraint(
                fields=["company", "vendor", "field"], name="mapping_unique_field"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.vendor}:{self.statistic_key} -> {self.field_id}"


class TaskStatus(models.TextChoices):
    OPEN = "open", _("Open")
    IN_PROGRESS = "in_progress", _("In progress")
    DONE = "done", _("Done")


class SummaryTask(models.Model):
    """A client's summary task for one month (`period` is the month's first day)."""

    public_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey(
        "clients.Client", on_delete=models.PROTECT, related_name="summary_tasks"
    )
    period = models.DateField(_("month"))
    title = models.CharField(_("title"), max_length=255)
    topic = models.ForeignKey(
        TaskTopic, on_delete=models.SET_NULL, null=True, blank=True, related_name="tasks"
    )
    status = models.CharField(
        _("status"), max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assignee"),
    )
    due_date = models.DateField(_("due date"), null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[SummaryTask]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[SummaryTask]]

    class Meta:
        verbose_name = _("summary task")
        verbose_name_plural = _("summary tasks")
        ordering = ["-period", "pk"]
        indexes = [models.Index(fields=["company", "period"])]
        constraints = [
            models.UniqueConstraint(fields=["client", "period"], name="task_unique_client_period"),
            models.CheckConstraint(condition=Q(period__day=1), name="task_period_first_day"),
        ]

    def __str__(self) -> str:
        return self.title


class SummaryTaskValue(models.Model):
    """One field's value on one task: imported (with its source vendor, statistic and time),
    missing (with the reason; never a 0), or typed by a person (`typed_by`)."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    task = models.ForeignKey(SummaryTask, on_delete=models.CASCADE, related_name="values")
    field = models.ForeignKey(CustomTaskField, on_delete=models.CASCADE, related_name="values")
    number = models.DecimalField(max_digits=18, decimal_places=4, null=True, blank=True)
    text = models.TextField(blank=True)
    day = models.DateField(null=True, blank=True)
    source_vendor = models.CharField(max_length=32, blank=True)
    statistic_key = models.CharField(max_length=64, blank=True)
    imported_at = models.DateTimeField(null=True, blank=True)
    missing_reason = models.TextField(blank=True)
    typed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    typed_by_hand = models.BooleanField(default=False)
    updated_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[SummaryTaskValue]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[SummaryTaskValue]]

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["task", "field"], name="task_value_unique_field"),
        ]

    def __str__(self) -> str:
        return f"{self.field_id}={self.display}"

    @property
    def missing(self) -> bool:
        return bool(self.missing_reason) and self.number is None and not self.text and not self.day

    @property
    def value(self) -> Decimal | str | date | None:
        """The value in the field's type (a whole number without decimals)."""
        if self.number is not None:
            if self.field.type == FieldType.WHOLE_NUMBER:
                return Decimal(int(self.number))
            if self.field.type == FieldType.MONEY:
                return self.number.quantize(Decimal("0.01"))
            return (
                self.number.normalize() if self.number == self.number.to_integral() else self.number
            )
        if self.day is not None:
            return self.day
        return self.text or None

    @property
    def display(self) -> str:
        value = self.value
        if value is None:
            return ""
        if isinstance(value, date):
            return value.isoformat()
        if isinstance(value, Decimal):
            return f"{value:f}"
        return value


class ImportState(models.TextChoices):
    DONE = "done", _("Imported")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


class MonthlyImport(models.Model):
    """That the scheduled import of one client, vendor and month has run, and how it ended: the
    hourly fan-out skips the pairs with a row, which makes it safe to run every hour."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    vendor = models.CharField(max_length=32)
    period = models.DateField()
    state = models.CharField(max_length=8, choices=ImportState.choices)
    reason = models.TextField(blank=True)
    finished_at = models.DateTimeField(auto_now=True)

    objects: ClassVar[ScopedManagerType[MonthlyImport]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[MonthlyImport]]

    class Meta:
        verbose_name = _("scheduled import")
        verbose_name_plural = _("scheduled imports")
        constraints = [
            models.UniqueConstraint(
                fields=["client", "vendor", "period"], name="monthly_import_unique"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.client_id} {self.vendor} {self.period} {self.state}"


class PartState(models.TextChoices):
    PENDING = "pending", _("Waiting")
    RUNNING = "running", _("Running")
    DONE = "done", _("Done")
    SKIPPED = "skipped", _("Skipped")
    FAILED = "failed", _("Failed")


FINISHED_PART_STATES = (PartState.DONE, PartState.SKIPPED, PartState.FAILED)


class ReloadPart(models.Model):
    """One client-month of a *Reload data* job: the unit that separate Celery tasks claim and
    run in parallel. The rows are the job's plan and its progress (done of total), so a
    resumed job continues where the killed one stopped."""

    company = models.ForeignKey("uku.Company", on_delete=models.CASCADE, related_name="+")
    job = models.ForeignKey("integrations.SyncJob", on_delete=models.CASCADE, related_name="+")
    client = models.ForeignKey("clients.Client", on_delete=models.CASCADE, related_name="+")
    period = models.DateField()
    state = models.CharField(max_length=8, choices=PartState.choices, default=PartState.PENDING)
    attempts = models.PositiveSmallIntegerField(default=0)
    claimed_at = models.DateTimeField(null=True, blank=True)
    not_before = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    error_kind = models.CharField(max_length=16, blank=True)
    imported = models.PositiveSmallIntegerField(default=0)
    missing = models.PositiveSmallIntegerField(default=0)

    objects: ClassVar[ScopedManagerType[ReloadPart]] = ScopedManager(company="company")
    _default_manager: ClassVar[ScopedManagerType[ReloadPart]]

    class Meta:
        verbose_name = _("reload step")
        verbose_name_plural = _("reload steps")
        ordering = ["client_id", "period"]
        indexes = [models.Index(fields=["job", "state"])]
        constraints = [
            models.UniqueConstraint(fields=["job", "client", "period"], name="reload_part_unique"),
        ]

    def __str__(self) -> str:
        return f"{self.job_id}: {self.client_id} {self.period} {self.state}"
