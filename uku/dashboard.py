"""The firm's home page: what to set up next, then the work that needs a person.

Built from a fixed set of queries whatever the firm's size (aggregates and short, bounded lists),
so the page costs the same for ten clients as for ten thousand. Vendor-neutral: accounting
systems are named through the integrations registry (`integrations.base`), never here.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, Sum
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from billing.models import Invoice, InvoiceStatus
from clients.models import BOOKS_ATTENTION, Client, ExternalLink
from integrations.base import REGISTRY, Capability
from integrations.jobs import job_label
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    SyncJob,
    SyncJobStatus,
)
from summarytasks.models import FieldMapping, SummaryTask, TaskStatus
from uku.audit import action_label, object_type_label
from uku.http import as_uuid
from uku.models import AuditEvent, Company, Invitation, Membership

# A credential is "expiring soon" this many days ahead: the first of the expiry warnings.
EXPIRY_WARNING_DAYS = 14
# Failed syncs are shown for this long unless a later run of the same job succeeded.
FAILED_JOB_WINDOW = timedelta(days=14)
RECENT_ACTIVITY = 8  # rows of recent activity
ATTENTION_LIMIT = 5  # rows per "needs attention" list

OPEN_INVOICE_STATUSES = (InvoiceStatus.ISSUED, InvoiceStatus.UNPAID)


@dataclass
class Step:
    """One getting-started step: done or not, and the page where it is done."""

    key: str
    label: Any
    url: str
    done: bool


@dataclass
class Attention:
    """Something that needs a person, and where it is fixed."""

    kind: str  # "job", "connection", "credential"
    text: str
    url: str
    when: Any = None
    vendor_label: str = ""
    days_left: int | None = None


@dataclass
class Dashboard:
    steps: list[Step]
    clients: dict[str, int]
    tasks: dict[str, int]
    period: date
    invoices: dict[str, Any]
    attention: list[Attention]
    activity: list[dict[str, Any]]
    member_count: int
    pending_invitations: int
    urls: dict[str, str] = field(default_factory=dict)

    @property
    def setup_done(self) -> bool:
        return all(step.done for step in self.steps)

    @property
    def steps_done(self) -> int:
        return sum(step.done for step in self.steps)


def _vendor_label(key: str) -> str:
    return str(REGISTRY[key].label) if key in REGISTRY else key


def _vendor_url(key: str, tab: str = "") -> str:
    if key not in REGISTRY:
        return reverse("integrations")
    url = reverse("integration_detail", args=[key])
    return f"{url}?tab={tab}" if tab else url


# Actions only owners and admins see (as on the audit log page): the team, tokens, log-ins.
ADMIN_ONLY_ACTIONS = ("member.", "api_token.", "auth.")


def build(company: Company, today: date | None = None, *, admin: bool = False) -> Dashboard:
    """The dashboard of `company` on `today` (the firm's local date by default). `admin`: the
    viewer is an owner or admin, who also sees the team's, tokens' and log-ins' activity."""
    today = today or timezone.localdate()
    period = today.replace(day=1)
    now = timezone.now()

    # 1. Connections (enabled ones): connected, or in error.
    connections = list(
        IntegrationConnection.objects.filter(company=company, enabled=True).order_by("vendor")
    )
    connected = any(c.status == ConnectionStatus.CONNECTED for c in connections)

    # 2. Clients by link state, in one aggregate (Exists, not a join: no double counting).
    links = ExternalLink.objects.filter(client=OuterRef("pk"))
    attention_links = links.filter(Q(books_state__in=BOOKS_ATTENTION) | Q(stale_at__isnull=False))
    clients = Client.objects.filter(company=company, active=True).aggregate(
        total=Count("pk"),
        linked=Count("pk", filter=Q(Exists(links))),
        attention=Count("pk", filter=Q(Exists(attention_links))),
    )
    clients["unlinked"] = clients["total"] - clients["linked"]

    # 3. This month's summary tasks by status, and whether summary tasks are configured: a custom
    # field alone imports nothing, so the step is done once a statistic is mapped to one.
    by_status = dict(
        SummaryTask.objects.filter(company=company, period=period)
        .values_list("status")
        .annotate(n=Count("pk"))
        .values_list("status", "n")
    )
    tasks = {status.value: by_status.get(status.value, 0) for status in TaskStatus}
    tasks["total"] = sum(by_status.values())
    fields_configured = FieldMapping.objects.filter(company=company).exists()

    # 4. Open and overdue invoices.
    open_q = Q(status__in=OPEN_INVOICE_STATUSES)
    overdue_q = open_q & Q(due_date__lt=today)
    invoices = Invoice.objects.filter(company=company).aggregate(
        open=Count("pk", filter=open_q),
        overdue=Count("pk", filter=overdue_q),
        drafts=Count("pk", filter=Q(status=InvoiceStatus.DRAFT)),
        outstanding=Sum("outstanding_amount", filter=Q(status=InvoiceStatus.UNPAID)),
    )

    # 5. Syncs that need attention: recent failures not followed by a success of the same job.
    later_success = SyncJob.objects.filter(
        company=company,
        vendor=OuterRef("vendor"),
        kind=OuterRef("kind"),
        scope=OuterRef("scope"),
        status=SyncJobStatus.SUCCEEDED,
        created_at__gt=OuterRef("created_at"),
    )
    failed = list(
        SyncJob.objects.filter(
            company=company,
            status=SyncJobStatus.FAILED,
            created_at__gte=now - FAILED_JOB_WINDOW,
        )
        .exclude(Exists(later_success))
        .order_by("-created_at")[:ATTENTION_LIMIT]
    )

    # 6. Credentials (of the active environment) that expire soon or have expired.
    expiring = list(
        IntegrationCredential.objects.filter(
            company=company,
            connection__enabled=True,
            expires_on__isnull=False,
            expires_on__lte=today + timedelta(days=EXPIRY_WARNING_DAYS),
        )
        .select_related("connection")
        .order_by("expires_on")
    )
    expiring = [c for c in expiring if c.environment == c.connection.environment]

    # 7. Recent activity: the latest entries of the firm's audit log, each linking to its object.
    events = AuditEvent.objects.filter(company=company)
    if not admin:
        for prefix in ADMIN_ONLY_ACTIONS:
            events = events.exclude(action__startswith=prefix)
    recent = list(events.order_by("-created_at", "-pk")[:RECENT_ACTIVITY])

    # 8. The team.
    member_count = Membership.objects.filter(company=company).count()
    pending_invitations = Invitation.objects.filter(
        company=company, accepted_at__isnull=True, expires_at__gt=now
    ).count()

    attention: list[Attention] = []
    for conn in connections:
        if conn.status == ConnectionStatus.ERROR:
            attention.append(
                Attention(
                    "connection",
                    conn.last_error,
                    _vendor_url(conn.vendor, "connect"),
                    conn.last_error_at,
                    _vendor_label(conn.vendor),
                )
            )
    for credential in expiring:
        vendor = credential.connection.vendor
        attention.append(
            Attention(
                "credential",
                "",
                _vendor_url(vendor, "connect"),
                credential.expires_on,
                _vendor_label(vendor),
                (credential.expires_on - today).days if credential.expires_on else None,
            )
        )
    for job in failed:
        attention.append(
            Attention(
                "job",
                job_label(job.kind),
                _job_url(job),
                job.finished_at or job.created_at,
                _vendor_label(job.vendor),
            )
        )

    steps = [
        Step("connect", _("Connect an accounting system"), reverse("integrations"), connected),
        Step(
            "import",
            _("Import your clients"),
            _first_with(connections, Capability.CUSTOMERS, "import") or reverse("client_list"),
            clients["total"] > 0,
        ),
        Step(
            "link",
            _("Link clients to the accounting system"),
            reverse("client_list"),
            clients["linked"] > 0,
        ),
        Step(
            "summary",
            _("Configure summary tasks"),
            _first_with(connections, Capability.STATISTICS, "settings") or reverse("summary_month"),
            fields_configured,
        ),
        Step(
            "team",
            _("Invite your team"),
            reverse("members"),
            member_count > 1 or pending_invitations > 0,
        ),
    ]
    return Dashboard(
        steps=steps,
        clients=clients,
        tasks=tasks,
        period=period,
        invoices=invoices,
        attention=attention,
        activity=_activity(company, recent),
        member_count=member_count,
        pending_invitations=pending_invitations,
    )


def _activity(company: Company, events: list[AuditEvent]) -> list[dict[str, Any]]:
    """The rows of "Recent activity": what happened, by whom, and a link to the object when it
    still exists (one query per kind of object that can be gone, whatever the number of rows)."""
    ids: dict[str, set[str]] = {"client": set(), "invoice": set(), "sync_job": set()}
    for event in events:
        if event.object_type in ids and event.object_id:
            ids[event.object_type].add(event.object_id)
    existing: dict[str, dict[str, Any]] = {kind: {} for kind in ids}
    for kind, model in (("client", Client), ("invoice", Invoice)):
        if ids[kind]:
            existing[kind] = {
                str(pk): pk
                for pk in model.objects.filter(
                    company=company, public_id__in=_uuids(ids[kind])
                ).values_list("public_id", flat=True)
            }
    if ids["sync_job"]:
        existing["sync_job"] = {
            str(job.public_id): job
            for job in SyncJob.objects.filter(
                company=company, public_id__in=_uuids(ids["sync_job"])
            ).only("public_id", "vendor")
        }
    rows = []
    for event in events:
        rows.append(
            {
                "event": event,
                "label": action_label(event.action),
                "object_type": object_type_label(event.object_type) if event.object_type else "",
                "url": _event_url(event, existing),
            }
        )
    return rows


def _uuids(values: set[str]) -> list[uuid.UUID]:
    return [parsed for value in values if (parsed := as_uuid(value)) is not None]


def _event_url(event: AuditEvent, existing: dict[str, dict[str, Any]]) -> str:
    """Where the object of `event` is seen now (blank: gone, or nothing to show)."""
    kind, object_id = event.object_type, event.object_id
    if kind == "client" and object_id in existing["client"]:
        return reverse("client_detail", args=[existing["client"][object_id]])
    if kind == "invoice" and object_id in existing["invoice"]:
        return reverse("invoice_detail", args=[existing["invoice"][object_id]])
    if kind == "sync_job" and object_id in existing["sync_job"]:
        return _job_url(existing["sync_job"][object_id])
    if kind == "integration" and object_id in REGISTRY:
        return _vendor_url(object_id)
    if kind in ("membership", "invitation"):
        return reverse("members")
    if kind == "api_token":
        return reverse("api_tokens")
    return ""


def _job_url(job: SyncJob) -> str:
    if job.vendor not in REGISTRY:
        return reverse("integrations")
    return reverse("integration_job", args=[job.vendor, job.public_id])


def _first_with(connections: list[IntegrationConnection], capability: Capability, tab: str) -> str:
    """The `tab` of the first connected system that can do `capability` (blank: none)."""
    for conn in connections:
        info = REGISTRY.get(conn.vendor)
        if info and conn.status == ConnectionStatus.CONNECTED and info.can(capability):
            return _vendor_url(conn.vendor, tab)
    return ""
