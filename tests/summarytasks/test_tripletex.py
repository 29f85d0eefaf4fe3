"""Summary tasks end to end against the Tripletex sandbox over real HTTP: the imported values
equal the sandbox's true counts (the month of more than 1,000 vouchers included), and only the
sources of mapped statistics are read."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import requests
from django_scopes import scopes_disabled

from clients.models import Client, ExternalLink
from integrations.base import get_vendor
from integrations.models import SyncJobStatus
from integrations.tripletex.sandbox import SandboxServer
from integrations.tripletex.sandbox.bookkeeping import BUSY_CLIENT
from summarytasks import schedule, services
from summarytasks.models import CustomTaskField, SummaryTaskValue
from tests.summarytasks.conftest import run_jobs

VENDOR = "tripletex"


def companies(server: SandboxServer) -> list[int]:
    return server.store.company_clients(server.store.firm_company_id)


def truth(server: SandboxServer, company: int, period: date) -> dict[str, int]:
    response = requests.get(
        f"{server.base_url}/_sandbox/statistics",
        params={"company": str(company), "period": f"{period:%Y-%m}"},
        timeout=5,
    )
    assert response.status_code == 200, response.text
    return response.json()["statistics"]


def link_clients(world: Any, server: SandboxServer, count: int) -> list[tuple[Client, int]]:
    """Clients of firm A linked to customers of the firm, each with its own books company."""
    found = []
    with world.scope_a():
        for company in companies(server)[:count]:
            client = Client.objects.create(company=world.firm_a, name=f"Klient {company} AS")
            ExternalLink.objects.create(
                company=world.firm_a,
                client=client,
                vendor=VENDOR,
                remote_id=str(company),
                remote_name=client.name,
                books_company_id=str(company),
                books_company_name=client.name,
                books_state="linked",
            )
            found.append((client, company))
    return found


def map_fields(world: Any, keys: list[str]) -> dict[str, CustomTaskField]:
    with world.scope_a():
        fields = {
            key: services.create_task_field(
                company=world.firm_a, actor=world.admin, name=f"TX {key}", type="whole_number"
            )
            for key in keys
        }
        services.save_field_mapping(
            company=world.firm_a, actor=world.admin, vendor=VENDOR, mapping=fields
        )
    return fields


def reload(world: Any, client: Client | None = None):
    def start():
        with world.scope_a():
            return services.reload_work_statistics(
                company=world.firm_a, actor=world.admin, vendor=VENDOR, client=client
            )

    job, _created = run_jobs(start)
    return job


def test_a_reload_imports_the_sandboxs_true_counts(world, saved_connection, sandbox):
    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    keys = [s.key for s in get_vendor(VENDOR).statistics]
    fields = map_fields(world, keys)
    linked = link_clients(world, sandbox, BUSY_CLIENT + 1)  # the busy client included
    job = reload(world)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    total = 12 * len(linked)
    assert job.counts["client_months"] == total and job.counts["done"] == total, job.counts
    periods = schedule.reload_periods(schedule.firm_today(world.firm_a.country))
    with scopes_disabled():
        values = {
            (v.task.client_id, v.task.period, v.statistic_key): v.number
            for v in SummaryTaskValue.objects.filter(company=world.firm_a).select_related("task")
        }
    for client, company in linked:
        for period in periods:
            want = truth(sandbox, company, period)
            got = {key: values.get((client.pk, period, key)) for key in keys}
            assert got == {key: Decimal(want[key]) for key in keys}, (company, period)
    assert len(values) == total * len(fields)


def test_the_busy_month_of_more_than_a_thousand_vouchers_is_counted_whole(
    world, saved_connection, sandbox
):
    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    map_fields(world, ["all_vouchers", "documents"])
    busy = companies(sandbox)[BUSY_CLIENT]
    with world.scope_a():
        client = Client.objects.create(company=world.firm_a, name="Travel Byrå AS")
        ExternalLink.objects.create(
            company=world.firm_a,
            client=client,
            vendor=VENDOR,
            remote_id="busy",
            books_company_id=str(busy),
            books_state="linked",
        )
    sandbox.store.clear_requests()
    job = reload(world, client)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    months = schedule.reload_periods(schedule.firm_today(world.firm_a.country))
    busy_month = schedule.previous_month(schedule.month_start(schedule.firm_today("NO")))
    assert truth(sandbox, busy, busy_month)["all_vouchers"] > 1000
    with scopes_disabled():
        got = {
            (v.task.period, v.statistic_key): v.number
            for v in SummaryTaskValue.objects.filter(task__client=client).select_related("task")
        }
    for period in months:
        want = truth(sandbox, busy, period)
        assert got[(period, "all_vouchers")] == want["all_vouchers"], period
        assert got[(period, "documents")] == want["documents"], period
    # Both statistics come from vouchers: no other source was read.
    read = {key.split(" ", 1)[1] for key in sandbox.store.request_counts() if key.startswith("GET")}
    assert "/ledger/voucher" in read
    assert not read & {"/bank/statement", "/invoice", "/supplierInvoice", "/ledger/posting"}


def test_a_reload_lists_each_companys_voucher_types_once_not_once_per_month(
    world, saved_connection, sandbox
):
    """Voucher type ids differ per company and are resolved by name: a reload of 12 months of
    two clients lists voucher types once per company, not once per client-month (each month
    runs as its own Celery task with its own adapter)."""
    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    map_fields(world, ["sale_entries", "purchase_entries"])
    linked = link_clients(world, sandbox, 2)
    sandbox.store.clear_requests()
    job = reload(world)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    assert job.counts["done"] == 24, job.counts
    counts = sandbox.store.request_counts()
    assert counts.get("GET /ledger/voucherType") == len(linked), counts
    # The vouchers themselves are still read in every client-month (a pass or more each).
    assert counts.get("GET /ledger/voucher", 0) >= 24, counts


def test_a_reload_lists_each_companys_bank_statements_once_not_once_per_month(
    world, saved_connection, sandbox
):
    """Bank statements have no date filter: the list serves every month of the company, so a
    12-month reload of two clients lists them once per company (the transactions of the
    statements overlapping each month are still read per month), and the counts stay true."""
    saved_connection(token=sandbox.store.create_employee_token(accountant=True)["token"])
    map_fields(world, ["bank_transactions"])
    linked = link_clients(world, sandbox, 2)
    sandbox.store.clear_requests()
    job = reload(world)
    assert job.status == SyncJobStatus.SUCCEEDED, job.error
    assert job.counts["done"] == 24, job.counts
    counts = sandbox.store.request_counts()
    assert counts.get("GET /bank/statement") == len(linked), counts
    assert counts.get("GET /bank/statement/transaction", 0) >= 24, counts
    periods = schedule.reload_periods(schedule.firm_today(world.firm_a.country))
    with scopes_disabled():
        values = {
            (v.task.client_id, v.task.period): v.number
            for v in SummaryTaskValue.objects.filter(company=world.firm_a).select_related("task")
        }
    for client, company in linked:
        for period in periods:
            want = truth(sandbox, company, period)["bank_transactions"]
            assert values[(client.pk, period)] == Decimal(want), (company, period)
