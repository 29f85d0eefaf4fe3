"""The home page: getting-started steps, then the firm's work, in a constant number of queries."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from billing.models import Invoice, InvoiceStatus
from clients.models import Client, ExternalLink
from integrations.base import REGISTRY
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    SyncJob,
    SyncJobStatus,
)
from summarytasks.models import CustomTaskField, FieldMapping, SummaryTask, TaskStatus
from tests.factories import MembershipFactory, UserFactory
from uku import audit, dashboard
from uku.models import AuditEvent

# The whole page: session, user, firm and membership, the shell (nav, notification bell) and the
# dashboard's own aggregates and bounded lists (recent activity: the audit events, and one query
# per kind of object they name). The same at 3 and at 30 clients.
QUERIES = 19


def vendor_key() -> str:
    return next(iter(REGISTRY))


def fill(world, size: int) -> None:
    """`size` clients (half linked), tasks, invoices and jobs of every kind the page shows."""
    firm = world.firm_a
    today = timezone.localdate()
    period = today.replace(day=1)
    vendor = vendor_key()
    with scopes_disabled():
        conn, _ = IntegrationConnection.objects.get_or_create(
            company=firm,
            vendor=vendor,
            client=None,
            defaults={"enabled": True, "status": ConnectionStatus.CONNECTED, "environment": "test"},
        )
        IntegrationCredential.objects.get_or_create(
            company=firm,
            connection=conn,
            environment="test",
            defaults={
                "secret_encrypted": "x",
                "last4": "abcd",
                "set_at": timezone.now(),
                "expires_on": today + timedelta(days=5),
            },
        )
        start = Client.objects.filter(company=firm).count()
        for i in range(start, start + size):
            client = Client.objects.create(company=firm, name=f"Klient {i}")
            if i % 2 == 0:
                ExternalLink.objects.create(
                    company=firm, client=client, vendor=vendor, remote_id=str(i)
                )
            SummaryTask.objects.create(
                company=firm,
                client=client,
                period=period,
                title="Avstemming",
                status=[TaskStatus.OPEN, TaskStatus.IN_PROGRESS, TaskStatus.DONE][i % 3],
            )
            Invoice.objects.create(
                company=firm,
                client=client,
                number=str(1000 + i),
                issue_date=today - timedelta(days=30),
                due_date=today - timedelta(days=1) if i % 2 else today + timedelta(days=10),
                status=InvoiceStatus.UNPAID,
                outstanding_amount=Decimal("1200.00"),
            )
            SyncJob.objects.create(
                company=firm,
                vendor=vendor,
                kind=f"kind-{i}",
                status=SyncJobStatus.FAILED if i % 2 else SyncJobStatus.SUCCEEDED,
                error="boom",
                requested_by=world.owner,
            )
            audit.record(
                company=firm,
                actor=world.owner,
                action="client.link_changed",
                object_type="client",
                obj=client,
                object_label=client.name,
            )


def test_a_new_firm_sees_the_getting_started_steps_each_linking_where_it_is_done(
    world, as_user
) -> None:
    page = as_user(world.owner).get(reverse("home"))
    html = page.content.decode()
    board = page.context["board"]
    steps = {step.key: step for step in board.steps}
    # The world has four members: only the team step is done.
    assert [k for k, s in steps.items() if s.done] == ["team"]
    assert 'id="getting-started"' in html and "1 of 5 steps done" in html
    assert steps["connect"].url == reverse("integrations")
    assert steps["team"].url == reverse("members")
    assert f'href="{reverse("integrations")}"' in html


def test_steps_are_done_from_the_firms_data_and_the_checklist_goes_away(world, as_user) -> None:
    fill(world, 2)
    with scopes_disabled():
        field = CustomTaskField.objects.create(company=world.firm_a, name="Bilag")
        # A field alone imports nothing: the step is done once a statistic feeds it.
        assert not next(s for s in dashboard.build(world.firm_a).steps if s.key == "summary").done
        FieldMapping.objects.create(
            company=world.firm_a, vendor=vendor_key(), statistic_key="vouchers", field=field
        )
        board = dashboard.build(world.firm_a)
    assert board.setup_done
    # The import step points at the connected system's Import tab.
    import_step = next(s for s in board.steps if s.key == "import")
    assert import_step.url.endswith(f"/settings/apps/{vendor_key()}/?tab=import")
    html = as_user(world.owner).get(reverse("home")).content.decode()
    assert 'id="getting-started"' not in html


def test_the_work_counts_and_what_needs_attention(world, as_user) -> None:
    fill(world, 4)
    with scopes_disabled():
        # A failure followed by a success of the same job no longer needs attention.
        SyncJob.objects.create(
            company=world.firm_a, vendor=vendor_key(), kind="kind-1", status=SyncJobStatus.SUCCEEDED
        )
        board = dashboard.build(world.firm_a)
    assert board.clients == {"total": 4, "linked": 2, "attention": 0, "unlinked": 2}
    assert board.tasks == {"open": 2, "in_progress": 1, "done": 1, "total": 4}
    assert board.invoices["open"] == 4 and board.invoices["overdue"] == 2
    assert board.invoices["outstanding"] == Decimal("4800.00")
    kinds = [item.kind for item in board.attention]
    assert kinds.count("credential") == 1 and kinds.count("job") == 1  # kind-3 only
    credential = next(i for i in board.attention if i.kind == "credential")
    assert credential.days_left == 5 and credential.url.endswith("?tab=connect")
    job = next(i for i in board.attention if i.kind == "job")
    assert "/history/" in job.url
    html = as_user(world.owner).get(reverse("home")).content.decode()
    assert "the token expires in 5 days" in html
    assert "NOK\xa04,800.00 outstanding" in html
    assert f'href="{reverse("client_list")}?link=unlinked"' in html
    assert len(board.activity) == 4 and 'class="py-1 activity-row"' in html


def test_the_dashboard_speaks_norwegian_formats(world, as_user) -> None:
    fill(world, 2)
    client = as_user(world.owner)
    client.post(reverse("set_language"), {"language": "nb", "next": "/"})
    html = client.get(reverse("home")).content.decode()
    assert "kr\xa02\xa0400,00 utestående" in html
    expiry = (timezone.localdate() + timedelta(days=5)).strftime("%d.%m.%Y")
    assert expiry in html


def test_another_firms_work_is_not_counted(world) -> None:
    fill(world, 2)
    with scopes_disabled():
        board = dashboard.build(world.firm_b)
    assert board.clients["total"] == 0 and board.tasks["total"] == 0
    assert board.invoices["open"] == 0 and board.attention == [] and board.activity == []


@pytest.mark.parametrize("size", [3, 30])
def test_the_home_page_costs_the_same_queries_whatever_the_firms_size(
    world, as_user, django_assert_num_queries, size
) -> None:
    fill(world, size)
    client = as_user(world.owner)
    client.get(reverse("home"))  # warm: session and firm lookups cached like any request
    with django_assert_num_queries(QUERIES):
        assert client.get(reverse("home")).status_code == 200


def test_the_team_step_counts_a_pending_invitation(db) -> None:
    from tests.factories import CompanyFactory

    firm = CompanyFactory.create()
    MembershipFactory(company=firm, user=UserFactory())
    with scopes_disabled():
        board = dashboard.build(firm)
    assert not next(s for s in board.steps if s.key == "team").done


def test_recent_activity_is_the_firms_audit_log_linking_to_each_object(world, as_user) -> None:
    fill(world, 2)
    with scopes_disabled():
        clients = list(Client.objects.filter(company=world.firm_a).order_by("pk"))
        invoice = Invoice.objects.filter(company=world.firm_a).first()
        assert invoice is not None
        audit.record(
            company=world.firm_a,
            actor=world.owner,
            action="invoice.issued",
            object_type="invoice",
            obj=invoice,
        )
        audit.record(
            company=world.firm_a,
            actor=None,
            action="integration.enabled",
            object_type="integration",
            object_id=vendor_key(),
            object_label="Books",
        )
        audit.record(
            company=world.firm_a, actor=world.owner, action="member.invited", object_label="x@y.no"
        )
        audit.record(  # another firm's event is never shown
            company=world.firm_b,
            actor=None,
            action="client.link_changed",
            object_type="client",
            object_id=str(clients[0].public_id),
            object_label="Other firm's client",
        )
        gone = Client.objects.create(company=world.firm_a, name="Gone AS")
        audit.record(
            company=world.firm_a,
            actor=world.owner,
            action="client.link_changed",
            object_type="client",
            obj=gone,
            object_label=gone.name,
        )
        gone.delete()  # a deleted object is named, not linked
        board = dashboard.build(world.firm_a, admin=True)
        member_board = dashboard.build(world.firm_a)
    actions = [row["event"].action for row in board.activity]
    assert actions[:4] == [
        "client.link_changed",
        "member.invited",
        "integration.enabled",
        "invoice.issued",
    ]
    assert all(row["event"].company_id == world.firm_a.pk for row in board.activity)
    urls = {row["event"].object_label: row["url"] for row in board.activity}
    assert urls[str(invoice)] == reverse("invoice_detail", args=[invoice.public_id])
    assert urls["Books"] == reverse("integration_detail", args=[vendor_key()])
    assert urls[clients[0].name] == reverse("client_detail", args=[clients[0].public_id])
    assert urls["Gone AS"] == ""
    # Members who are not admins do not see the team's events (the audit log is admins' only).
    assert "member.invited" not in [row["event"].action for row in member_board.activity]
    html = as_user(world.owner).get(reverse("home")).content.decode()
    assert f'href="{reverse("invoice_detail", args=[invoice.public_id])}"' in html
    assert "Other firm&#x27;s client" not in html and "Other firm's client" not in html
    assert "(the system)" in html


def test_recent_activity_costs_one_query_per_kind_of_object_whatever_the_rows(
    world, django_assert_num_queries
) -> None:
    fill(world, 2)
    with scopes_disabled():
        for _ in range(10):
            for invoice in Invoice.objects.filter(company=world.firm_a):
                audit.record(
                    company=world.firm_a,
                    actor=None,
                    action="invoice.issued",
                    object_type="invoice",
                    obj=invoice,
                )
        assert AuditEvent.objects.filter(company=world.firm_a).count() > dashboard.RECENT_ACTIVITY
        events = list(AuditEvent.objects.filter(company=world.firm_a)[: dashboard.RECENT_ACTIVITY])
        with django_assert_num_queries(1):
            rows = dashboard._activity(world.firm_a, events)
    assert len(rows) == dashboard.RECENT_ACTIVITY and all(row["url"] for row in rows)
