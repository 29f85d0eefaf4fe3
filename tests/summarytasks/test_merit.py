"""Summary tasks end to end against the Merit Aktiva emulator over real HTTP: a reload imports
its true counts."""

from __future__ import annotations

import json
from decimal import Decimal

import requests
from django.utils import timezone
from django_scopes import scopes_disabled

from clients.models import Client, ExternalLink
from integrations import crypto
from integrations.base import get_vendor
from integrations.models import ConnectionStatus, IntegrationConnection, IntegrationCredential
from summarytasks import schedule, services
from summarytasks.models import SummaryTaskValue
from tests.summarytasks.conftest import run_jobs

VENDOR = "merit"


def connect(world, creds, client=None) -> IntegrationConnection:
    """A connected Merit connection of firm A with `creds`: the firm's, or `client`'s own."""
    connection = IntegrationConnection.objects.create(
        company=world.firm_a,
        vendor=VENDOR,
        client=client,
        enabled=True,
        environment="ee",
        status=ConnectionStatus.CONNECTED,
    )
    IntegrationCredential.objects.create(
        company=world.firm_a,
        connection=connection,
        environment="ee",
        secret_encrypted=crypto.encrypt(
            json.dumps({"api_id": creds["api_id"], "api_key": creds["api_key"]})
        ),
        last4=creds["api_key"][-4:],
        set_by=world.admin,
        set_at=timezone.now(),
    )
    return connection


def test_a_reload_imports_the_emulators_true_counts(world, merit):
    creds = merit.store.demo_credentials("EE")
    with world.scope_a():
        connect(world, creds)
        client = Client.objects.create(company=world.firm_a, name="Tallinna Pagar OÜ")
        # Merit's credentials open one company: the client's own, saved for that client.
        connect(world, creds, client=client)
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor=VENDOR, remote_id="c-1"
        )
        keys = [s.key for s in get_vendor(VENDOR).statistics]
        fields = {
            key: services.create_task_field(
                company=world.firm_a, actor=world.admin, name=f"Merit {key}"
            )
            for key in keys
        }
        services.save_field_mapping(
            company=world.firm_a, actor=world.admin, vendor=VENDOR, mapping=fields
        )

    def start():
        with world.scope_a():
            return services.reload_work_statistics(
                company=world.firm_a, actor=world.admin, vendor=VENDOR
            )

    job, _created = run_jobs(start)
    assert job.status == "succeeded", job.error
    assert job.counts["done"] == 12, job.counts
    with scopes_disabled():
        got = {
            (v.task.period, v.statistic_key): v.number
            for v in SummaryTaskValue.objects.filter(task__client=client).select_related("task")
        }
    for period in schedule.reload_periods(schedule.firm_today(world.firm_a.country)):
        want = requests.get(
            f"{merit.base_url}/_sandbox/statistics",
            params={"company": str(creds["company_id"]), "period": f"{period:%Y-%m}"},
            timeout=5,
        ).json()["statistics"]
        assert {k: got[(period, k)] for k in keys} == {k: Decimal(want[k]) for k in keys}, period


def test_a_client_without_its_own_merit_company_gets_missing_values_not_the_firms(world, merit):
    """Merit's credentials open one company. Counting a client through the firm's connection
    would show the firm's own bookkeeping as the client's: each value is missing instead, with
    what to do, and no statistics endpoint is called."""
    creds = merit.store.demo_credentials("EE")
    with world.scope_a():
        connect(world, creds)
        client = Client.objects.create(company=world.firm_a, name="Tartu Aed OÜ")
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor=VENDOR, remote_id="c-2"
        )
        key = get_vendor(VENDOR).statistics[0].key
        field = services.create_task_field(company=world.firm_a, actor=world.admin, name="Sales")
        services.save_field_mapping(
            company=world.firm_a, actor=world.admin, vendor=VENDOR, mapping={key: field}
        )
    merit.store.clear_requests()

    def start():
        with world.scope_a():
            return services.reload_work_statistics(
                company=world.firm_a, actor=world.admin, vendor=VENDOR
            )

    job, _created = run_jobs(start)
    assert job.status == "succeeded", job.error
    with scopes_disabled():
        values = list(SummaryTaskValue.objects.filter(task__client=client))
    assert len(values) == 12
    assert all(
        v.number is None and "own Merit Aktiva company" in v.missing_reason for v in values
    ), [(v.number, v.missing_reason) for v in values][:2]
    assert merit.store.request_counts() == {}
