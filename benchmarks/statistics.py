"""P2: the monthly statistics import. Measured so far: the hourly fan-out (the beat task
`summarytasks.tasks.schedule_monthly_imports`) of a firm with `FANOUT_CLIENTS` linked clients,
timed until every per-client import is on the broker (Celery's in-memory transport, so the
time is uku's work, not a broker's). The per-client-month calls and the reload are not
measured yet (issue 15)."""

from __future__ import annotations

from datetime import date
from typing import Any
from unittest import mock

from benchmarks.harness import Result, Sizes, Target, section, stopwatch
from benchmarks.lists import firm_with_clients

FANOUT_CLIENTS = 1000
# A fixed day with a fixed import rule (day 5 of the month after), so the fan-out is due
# whatever day the benchmark runs on.
TODAY = date(2026, 2, 5)
RULE = "5"


def _mapped_firm(count: int) -> tuple[Any, str]:
    from django_scopes import scope

    from integrations.base import REGISTRY, Capability, get_vendor
    from integrations.models import ConnectionStatus, IntegrationConnection
    from summarytasks import services
    from summarytasks.models import SummarySettings

    vendor = next(iter(REGISTRY))
    assert get_vendor(vendor).can(Capability.STATISTICS)
    company, owner = firm_with_clients(count, "fanout")
    with scope(company=company):
        IntegrationConnection.objects.filter(company=company, vendor=vendor).update(
            status=ConnectionStatus.CONNECTED
        )
        statistic = get_vendor(vendor).statistics[0]
        field = services.create_task_field(company=company, actor=owner, name=statistic.key)
        services.save_field_mapping(
            company=company, actor=owner, vendor=vendor, mapping={statistic.key: field}
        )
        SummarySettings.objects.update_or_create(
            company=company, vendor=vendor, defaults={"import_day": RULE}
        )
    return company, vendor


@section("p2_statistics")
def fanout(sizes: Sizes) -> Result:
    from celery.signals import before_task_publish

    from summarytasks import schedule, tasks
    from uku.celery import app

    clients = FANOUT_CLIENTS if not sizes.quick else 200
    _mapped_firm(clients)
    published: list[str] = []

    def count(sender: Any = None, **_kwargs: Any) -> None:
        published.append(str(sender))

    before_task_publish.connect(count, weak=False)
    eager, broker = app.conf.task_always_eager, app.conf.broker_url
    app.conf.task_always_eager, app.conf.broker_url = False, "memory://"
    try:
        with (
            mock.patch.object(schedule, "firm_today", lambda country: TODAY),
            stopwatch() as elapsed,
        ):
            result = tasks.schedule_monthly_imports()
    finally:
        app.conf.task_always_eager, app.conf.broker_url = eager, broker
        before_task_publish.disconnect(count)
    sent = published.count(tasks.import_client_statistics.name)
    figures = {
        "fanout_clients": clients,
        "fanout_enqueued": result["enqueued"],
        "fanout_messages": sent,
        "fanout_enqueue_seconds": round(elapsed[0], 3),
    }
    targets = [
        Target(
            "one import message per linked client",
            sent == clients == result["enqueued"],
            f"{sent} messages for {clients} clients",
        ),
        Target(
            "fan-out enqueues in under 2 s",
            elapsed[0] < 2,
            f"{elapsed[0]:.3f} s",
            counts_only=False,
        ),
    ]
    return Result(key="p2_statistics", figures=figures, targets=targets)
