"""How a connection looks to a person: one place for the card, the dialog and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.urls import reverse
from django.utils import formats, timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from integrations.base import VendorInfo
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    SyncJob,
)
from uku.models import Company, Plan
from uku.status import job_state, status_of

EXPIRY_WARNING_DAYS = 14


@dataclass(frozen=True)
class ConnectionState:
    vendor: VendorInfo
    connection: IntegrationConnection | None
    credential: IntegrationCredential | None
    state: str  # plan_required | not_enabled | not_connected | connected | error
    headline: str
    days_left: int | None
    # The live state on the card (`live_facts`), filled in by the pages that show it.
    facts: tuple[Fact, ...] = ()

    @property
    def expiry_warning(self) -> bool:
        return self.days_left is not None and self.days_left <= EXPIRY_WARNING_DAYS

    @property
    def environment_name(self) -> str:
        return self.vendor.environment_name(self.connection.environment) if self.connection else ""

    @property
    def expired(self) -> bool:
        return self.days_left is not None and self.days_left < 0


def describe(
    company: Company,
    vendor: VendorInfo,
    connection: IntegrationConnection | None,
    today: date,
) -> ConnectionState:
    credential = connection.active_credential if connection is not None else None
    days_left = (
        (credential.expires_on - today).days
        if credential is not None and credential.expires_on is not None
        else None
    )
    if not company.has_plan(vendor.required_plan):
        state = "plan_required"
        headline = _("Needs the %(plan)s plan or higher (your firm is on %(current)s).") % {
            "plan": Plan(vendor.required_plan).label,
            "current": Plan(company.plan).label,
        }
    elif connection is None or not connection.enabled:
        state, headline = "not_enabled", _("Not enabled")
    elif connection.status == ConnectionStatus.ERROR:
        state, headline = "error", connection.last_error_shown or _("The last sync failed.")
    elif credential is None or connection.status != ConnectionStatus.CONNECTED:
        state, headline = "not_connected", _("Enabled, not connected")
    else:
        state = "connected"
        headline = _("Connected to “%(name)s” (%(environment)s)") % {
            "name": connection.remote_company_name,
            "environment": vendor.environment_name(connection.environment),
        }
    return ConnectionState(vendor, connection, credential, state, headline, days_left)


@dataclass(frozen=True)
class Fact:
    """One line of a connection's live state on its card and Overview ("Linked clients: 42")."""

    key: str
    label: str
    value: str
    link: str = ""
    tone: str = ""  # a status tone (uku/status.py) when the value needs attention


# Dotted paths of fn(company, vendor: VendorInfo) -> list[Fact] that other apps add (the linked
# clients, the next scheduled import), so this module names none of them.
FACT_SOURCES: list[str] = []


def register_fact_source(path: str) -> None:
    """Add `path`, a dotted fn(company, vendor) -> list[Fact], to every connected integration's
    card and Overview (call from an AppConfig.ready). It must be cheap (a count or two) and
    read-only."""
    if path not in FACT_SOURCES:
        FACT_SOURCES.append(path)


def live_facts(company: Company, state: ConnectionState, today: date) -> list[Fact]:
    """What a connected integration is doing now: the last sync and when it ended, the next
    scheduled one and the linked clients (from the registered sources), and the token's expiry.
    Empty for an integration that is not connected."""
    if state.connection is None or state.state not in ("connected", "error"):
        return []
    vendor = state.vendor
    facts: list[Fact] = []
    last = (
        SyncJob.objects.filter(company=company, vendor=vendor.key, finished_at__isnull=False)
        .exclude(kind="connection_test")
        .order_by("-finished_at")
        .first()
    )
    if last is not None and last.finished_at is not None:
        shown = status_of("job", job_state(last))
        facts.append(
            Fact(
                "last_sync",
                _("Last sync"),
                f"{formats.date_format(timezone.localtime(last.finished_at), 'SHORT_DATETIME_FORMAT')}"
                f" · {shown.word}",
                reverse("integration_job", args=[vendor.key, last.public_id]),
                shown.tone,
            )
        )
    else:
        facts.append(Fact("last_sync", _("Last sync"), _("Nothing synced yet")))
    for path in FACT_SOURCES:
        facts.extend(import_string(path)(company, vendor))
    credential = state.credential
    if vendor.credentials_expire and credential is not None and credential.expires_on:
        when = formats.date_format(credential.expires_on, "SHORT_DATE_FORMAT")
        if state.days_left is not None and state.days_left < 0:
            value, tone = _("Expired on %(date)s") % {"date": when}, "bad"
        else:
            days = state.days_left or 0
            value = ngettext("%(date)s (in %(days)d day)", "%(date)s (in %(days)d days)", days) % {
                "date": when,
                "days": days,
            }
            tone = "warn" if state.expiry_warning else ""
        connect = f"{reverse('integration_detail', args=[vendor.key])}?tab=connect"
        facts.append(Fact("token_expiry", _("Token expires"), value, connect, tone))
    elif credential is not None:
        facts.append(Fact("token_expiry", _("Token expires"), _("Never")))
    return facts
