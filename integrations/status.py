"""How a connection looks to a person: one place for the card, the dialog and the API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from django.utils.translation import gettext as _

from integrations.base import VendorInfo
from integrations.models import ConnectionStatus, IntegrationConnection, IntegrationCredential
from uku.models import Company, Plan

EXPIRY_WARNING_DAYS = 14


@dataclass(frozen=True)
class ConnectionState:
    vendor: VendorInfo
    connection: IntegrationConnection | None
    credential: IntegrationCredential | None
    state: str  # plan_required | not_enabled | not_connected | connected | error
    headline: str
    days_left: int | None

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
        state, headline = "error", connection.last_error or _("The last sync failed.")
    elif credential is None or connection.status != ConnectionStatus.CONNECTED:
        state, headline = "not_connected", _("Enabled, not connected")
    else:
        state = "connected"
        headline = _("Connected to “%(name)s” (%(environment)s)") % {
            "name": connection.remote_company_name,
            "environment": vendor.environment_name(connection.environment),
        }
    return ConnectionState(vendor, connection, credential, state, headline, days_left)
