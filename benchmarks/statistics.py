"""P2: the monthly statistics import, for each vendor against its sandbox over real HTTP.

* **One client-month** with the whole catalogue mapped: its calls by endpoint from the
  sandbox's request log, beside the floor read from the sandbox's own rows (for each source
  endpoint, its pages of that month, at least 1, summed) and the statements it ran.
* **The reload** (12 months) of `RELOAD_CLIENTS` linked clients, run as uku runs it (the sync
  job, its parts on the broker for other workers and worked through by the runner): its calls
  beside the floor (the client-months' floors, the per-company lookups once, plus
  authentication), and its time beside the same calls replayed serially with plain
  `requests` (`reload_raw_seconds`).
* **The hourly fan-out** (the beat task `summarytasks.tasks.schedule_monthly_imports`) of a
  firm with `FANOUT_CLIENTS` linked clients, timed until every per-client import is on the
  broker (Celery's in-memory transport, so the time is uku's work, not a broker's).
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any
from unittest import mock

import requests

from benchmarks.harness import (
    RawMerit,
    Result,
    Sizes,
    Target,
    counting_statements,
    new_firm,
    ratio,
    section,
    stopwatch,
)
from benchmarks.lists import firm_with_clients
from benchmarks.sandbox_process import SandboxProcess

FANOUT_CLIENTS = 1000
# A fixed day with a fixed import rule (day 5 of the month after), so the fan-out is due
# whatever day the benchmark runs on.
TODAY = date(2026, 2, 5)
RULE = "5"


def _mapped_firm(count: int, vendor: str = "") -> tuple[Any, str]:
    from django_scopes import scope

    from clients.models import ExternalLink
    from integrations import services as integration_services
    from integrations.base import REGISTRY, Capability, get_vendor
    from integrations.models import ConnectionStatus, IntegrationConnection
    from summarytasks import services
    from summarytasks.models import SummarySettings

    first = next(iter(REGISTRY))
    vendor = vendor or first
    assert get_vendor(vendor).can(Capability.STATISTICS)
    company, owner = firm_with_clients(count, f"fanout {vendor}")
    with scope(company=company):
        if vendor != first:
            integration_services.enable_integration(company=company, actor=owner, vendor=vendor)
            ExternalLink.objects.filter(company=company, vendor=first).update(vendor=vendor)
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


def fanout(sizes: Sizes, vendor: str = "") -> Result:
    from celery.signals import before_task_publish

    from summarytasks import schedule, tasks
    from uku.celery import app

    clients = FANOUT_CLIENTS if not sizes.quick else 200
    company, vendor = _mapped_firm(clients, vendor)
    published: list[tuple[str, Any]] = []

    def count(sender: Any = None, body: Any = None, **_kwargs: Any) -> None:
        args = body[0] if isinstance(body, (list, tuple)) and body else ()
        published.append((str(sender), args[0] if args else None))

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
    _retire(company)
    name = tasks.import_client_statistics.name
    # Other firms of the run (the reload's) may be due too: this firm's messages are counted.
    sent = sum(1 for task, firm in published if task == name and firm == company.pk)
    figures = {
        "fanout_clients": clients,
        "fanout_enqueued_all_firms": result["enqueued"],
        "fanout_messages": sent,
        "fanout_enqueue_seconds": round(elapsed[0], 3),
    }
    targets = [
        Target(
            "one import message per linked client",
            sent == clients,
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


# --- The per-client-month calls and the reload --------------------------------------------------

RELOAD_CLIENTS = 50
RELOAD_MONTHS = 12
TRIPLETEX_PAGE = 1000  # what uku asks for (integrations.tripletex.statistics.PAGE_SIZE)
# Tripletex source endpoints by the sandbox's row kind and the row's date field.
TRIPLETEX_SOURCES = {
    "GET /ledger/voucher": ("voucher", "date"),
    "GET /invoice": ("invoice", "invoiceDate"),
    "GET /supplierInvoice": ("supplierInvoice", "invoiceDate"),
    "GET /ledger/posting": ("posting", "date"),
}
STATEMENTS = "GET /bank/statement"
TRANSACTIONS = "GET /bank/statement/transaction"
# Listed once per company, whatever the months (voucher types are matched by name).
TRIPLETEX_LOOKUPS = ("GET /ledger/voucherType",)
# Measured on 2 shared cores: Tripletex 132.6 s vs 99.9 s raw, Merit 35.8 s vs 16.3 s.
# The round trip the sandboxes add to every answer in the full run's reload (and its serial
# replay): on loopback they answer in microseconds, so there is no waiting for the reload's
# threads to overlap, and the comparison would measure two processes sharing two cores instead of
# concurrency. 20 ms is a short round trip between Nordic data centres; the fact sheets give none.
RELOAD_LATENCY_SECONDS = 0.020
RELOAD_TIME_MISS = (
    "without the round trip (the quick run), the sandbox answers at once on the same two cores, "
    "so the threads have no waiting to overlap: uku's own work per client-month (claim, call "
    "log, budget read) against a bare loop's"
)
MERIT_SOURCES = ("getinvoices", "getpurchorders", "getglbatches", "getglbatchesfull", "getpayments")


def _pages(rows: int) -> int:
    return max(1, math.ceil(rows / TRIPLETEX_PAGE))


def _tripletex_floor(store: Any, company: int, period: date) -> dict[str, int]:
    """The fewest calls of one client-month, by endpoint, from the sandbox's own rows: each
    source endpoint's pages of the month (at least 1); the statement list (once per company)
    and one transaction pass per statement overlapping the month."""
    first = period.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)

    def inside(value: Any) -> bool:
        return isinstance(value, str) and first <= date.fromisoformat(value[:10]) < following

    floor = {
        key: _pages(sum(1 for row in store.company_rows(kind, company) if inside(row.get(field))))
        for key, (kind, field) in TRIPLETEX_SOURCES.items()
    }
    statements = store.company_rows("bankStatement", company)
    floor[STATEMENTS] = _pages(len(statements))
    transactions: dict[int, int] = {}
    for row in store.company_rows("bankTransaction", company):
        ref = row.get("bankStatement")
        transactions[ref if isinstance(ref, int) else -1] = (
            transactions.get(ref if isinstance(ref, int) else -1, 0) + 1
        )
    overlapping = [
        s
        for s in statements
        if (not s.get("fromDate") or date.fromisoformat(s["fromDate"][:10]) < following)
        and (not s.get("toDate") or date.fromisoformat(s["toDate"][:10]) >= first)
    ]
    floor[TRANSACTIONS] = sum(_pages(transactions.get(s["id"], 0)) for s in overlapping)
    return floor


@dataclass
class StatisticsBench:
    """One vendor's sandbox, a firm connected to it with every statistic mapped, and `clients`
    linked clients whose books the sandbox has."""

    vendor: str
    server: Any
    company: Any
    owner: Any
    clients: list[tuple[Any, int]]  # (uku client, the sandbox company holding its books)
    auth_keys: tuple[str, ...]
    lookup_keys: tuple[str, ...]
    source_endpoints: tuple[str, ...]
    floor: Callable[[int, date], dict[str, int]]
    raw_replay: Callable[[list[dict[str, Any]]], None]


def _map_everything(company: Any, owner: Any, vendor: str) -> int:
    from integrations.base import get_vendor
    from summarytasks import services

    statistics = get_vendor(vendor).statistics
    fields = {
        s.key: services.create_task_field(
            company=company, actor=owner, name=f"{vendor} {s.key}", type="whole_number"
        )
        for s in statistics
    }
    services.save_field_mapping(company=company, actor=owner, vendor=vendor, mapping=fields)
    return len(fields)


def _link(company: Any, vendor: str, books: list[int]) -> list[tuple[Any, int]]:
    from clients.models import BooksState, Client, ExternalLink

    linked = []
    for n, books_company in enumerate(books):
        client = Client.objects.create(company=company, name=f"Statistikk {n:03d} AS")
        ExternalLink.objects.create(
            company=company,
            client=client,
            vendor=vendor,
            remote_id=f"{books_company}-{n}" if vendor == "merit" else str(books_company),
            remote_name=client.name,
            books_company_id=str(books_company),
            books_company_name=client.name,
            books_state=BooksState.LINKED,
        )
        linked.append((client, books_company))
    return linked


def _tripletex_bench(clients: int) -> StatisticsBench:
    from django.conf import settings

    from integrations import services

    server = SandboxProcess("tripletex")
    store = server.store
    store.set_rate_limit(1_000_000, 60)  # the sandbox's default would make the run last an hour
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = store.consumer_token
    token = store.create_employee_token()["token"]
    company, owner = new_firm(f"Bench statistics tripletex {clients}")
    books = store.company_clients(store.firm_company_id)
    if clients > len(books):
        books += store.add_demo_clients(clients - len(books))
    # The demo seed generates a client's history on its first request; a real Tripletex has
    # it already, and the serial replay (after the reload) would not pay it.
    for books_company in books[:clients]:
        store.materialize(books_company)
    with scope_of(company):
        services.enable_integration(company=company, actor=owner, vendor="tripletex")
        services.save_connection(
            company=company,
            actor=owner,
            vendor="tripletex",
            environment="test",
            credentials={"employee_token": token},
        )
        _map_everything(company, owner, "tripletex")
        linked = _link(company, "tripletex", books[:clients])

    def raw_replay(calls: list[dict[str, Any]]) -> None:
        with requests.Session() as http:
            session = http.put(
                server.url + "/token/session/:create",
                params={
                    "consumerToken": store.consumer_token,
                    "employeeToken": token,
                    "expirationDate": "2099-01-01",
                },
                timeout=30,
            ).json()["value"]["token"]
            for call in calls:
                http.get(
                    server.url + call["path"],
                    params=call["query"],
                    auth=(str(call["company_id"] or 0), session),
                    timeout=30,
                ).json()

    return StatisticsBench(
        vendor="tripletex",
        server=server,
        company=company,
        owner=owner,
        clients=linked,
        auth_keys=("PUT /token/session/:create", "DELETE /token/session/{token}"),
        lookup_keys=TRIPLETEX_LOOKUPS,
        source_endpoints=(*TRIPLETEX_SOURCES, STATEMENTS, TRANSACTIONS),
        floor=lambda books_company, period: _tripletex_floor(store, books_company, period),
        raw_replay=raw_replay,
    )


def _merit_bench(clients: int) -> StatisticsBench:
    import json

    from django.conf import settings
    from django.utils import timezone

    from integrations import crypto, services
    from integrations.models import ConnectionStatus, IntegrationConnection, IntegrationCredential

    server = SandboxProcess("merit")
    store = server.store
    store.set_rate_limit(1_000_000, 60)
    settings.MERIT_EE_URL = server.urls["EE"]
    creds = store.demo_credentials("EE")
    company, owner = new_firm(f"Bench statistics merit {clients}")
    with scope_of(company):
        services.enable_integration(company=company, actor=owner, vendor="merit")
        services.save_connection(
            company=company,
            actor=owner,
            vendor="merit",
            environment="ee",
            credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
        )
        _map_everything(company, owner, "merit")
        # Merit's credentials open one company: each client's own connection (the sandbox has
        # one company per instance, so every client's books are that company's).
        linked = _link(company, "merit", [creds["company_id"]] * clients)
        for client, _books in linked:
            connection = IntegrationConnection.objects.create(
                company=company,
                vendor="merit",
                client=client,
                enabled=True,
                environment="ee",
                status=ConnectionStatus.CONNECTED,
            )
            IntegrationCredential.objects.create(
                company=company,
                connection=connection,
                environment="ee",
                secret_encrypted=crypto.encrypt(
                    json.dumps({"api_id": creds["api_id"], "api_key": creds["api_key"]})
                ),
                last4=creds["api_key"][-4:],
                set_by=owner,
                set_at=timezone.now(),
            )

    def raw_replay(calls: list[dict[str, Any]]) -> None:
        # Merit's log keeps no bodies: each call is sent again with a month's period (the
        # answer's size is that of a month, as uku's was).
        with RawMerit(server.urls["EE"], creds["api_id"], creds["api_key"]) as merit:
            for call in calls:
                payload: dict[str, Any] = {"PeriodStart": "20260101", "PeriodEnd": "20260131"}
                if call["endpoint"] == "getglbatchesfull":
                    payload.update(WithLines=1, DateType=0)
                merit.call(call["endpoint"], payload)

    return StatisticsBench(
        vendor="merit",
        server=server,
        company=company,
        owner=owner,
        clients=linked,
        auth_keys=(),  # every call is signed; there is no session
        lookup_keys=(),
        source_endpoints=tuple(f"EE {e}" for e in MERIT_SOURCES),
        # No paging: one call per source and month (a month fits every window).
        floor=lambda _books, _period: {f"EE {e}": 1 for e in MERIT_SOURCES},
        raw_replay=raw_replay,
    )


def _retire(company: Any) -> None:
    """Disconnect a measured firm, so the later sections' fan-outs do not enqueue its clients
    too (its imports never ran: they are still due)."""
    from integrations.models import ConnectionStatus, IntegrationConnection

    with scope_of(company):
        IntegrationConnection.objects.filter(company=company).update(
            enabled=False, status=ConnectionStatus.NOT_CONNECTED
        )


@contextlib.contextmanager
def scope_of(company: Any) -> Iterator[None]:
    from django_scopes import scope

    with scope(company=company):
        yield


def _client_month(bench: StatisticsBench, period: date) -> dict[str, Any]:
    """One client-month imported as the monthly import does, from a cold process cache."""
    from integrations import services
    from integrations.models import IntegrationConnection
    from integrations.tripletex.statistics import clear_statistics_caches
    from summarytasks import services as summary

    clear_statistics_caches()
    client, books = bench.clients[0]
    store = bench.server.store
    with scope_of(bench.company):
        connection = IntegrationConnection.objects.get(
            company=bench.company, vendor=bench.vendor, client__isnull=True
        )
        adapter = services.adapter_for(connection)
        store.clear_requests()
        try:
            with counting_statements() as sql:
                result = summary.import_client_month(
                    company=bench.company,
                    client=client,
                    vendor=bench.vendor,
                    period=period,
                    adapter=adapter,
                )
        finally:
            adapter.close()
    counts = store.request_counts()
    floor = bench.floor(books, period)
    sources = {k: counts.get(k, 0) for k in bench.source_endpoints}
    return {
        "calls": counts,
        "source_calls": sum(sources.values()),
        "floor": floor,
        "min": sum(floor.values()),
        "lookups": sum(counts.get(k, 0) for k in bench.lookup_keys),
        "auth": sum(counts.get(k, 0) for k in bench.auth_keys),
        "other": sum(v for k, v in counts.items() if k not in sources)
        - sum(counts.get(k, 0) for k in (*bench.lookup_keys, *bench.auth_keys)),
        "sql": sql.count,
        "imported": result.imported,
        "missing": result.missing,
    }


def _reload(bench: StatisticsBench) -> dict[str, Any]:
    """The reload job of every linked client, as uku runs it; its calls, floor and time, and
    the same calls replayed serially with plain `requests`."""
    from integrations.tripletex.statistics import clear_statistics_caches
    from summarytasks import schedule
    from summarytasks import services as summary
    from summarytasks.models import ReloadPart

    clear_statistics_caches()
    store = bench.server.store
    periods = schedule.reload_periods(schedule.firm_today(bench.company.country))
    store.clear_requests()
    with scope_of(bench.company):
        # Celery eager: the job runs on commit (autocommit here, so at once), in this process.
        with stopwatch() as elapsed:
            job, _created = summary.reload_work_statistics(
                company=bench.company, actor=bench.owner, vendor=bench.vendor
            )
        job.refresh_from_db()
        parts = ReloadPart.objects.filter(job=job)
        done = parts.filter(state="done").count()
        total = parts.count()
    counts = store.request_counts()
    log = store.request_log()["requests"]
    floor_total = 0
    # The statement list has no date filter: one list serves every month of a company. The
    # lookups (voucher types) are read once per company too.
    listed: set[int] = set()
    for _client, books in bench.clients:
        for period in periods:
            floor = bench.floor(books, period)
            if STATEMENTS in floor and books in listed:
                floor.pop(STATEMENTS)
            listed.add(books)
            floor_total += sum(floor.values())
    floor_total += len(bench.lookup_keys) * len({books for _client, books in bench.clients})
    auth = sum(counts.get(k, 0) for k in bench.auth_keys)
    replay = [
        c
        for c in log
        if f"{c['method']} {c.get('path_template', '')}" not in bench.auth_keys
        and c.get("status") == 200
    ]
    with stopwatch() as raw:
        bench.raw_replay(replay)
    return {
        "status": job.status,
        "parts_done": done,
        "parts": total,
        "calls": counts,
        "api_calls": sum(counts.values()),
        "min": floor_total,
        "auth": auth,
        "retried": sum(1 for c in log if c.get("status") == 429),
        "seconds": elapsed[0],
        "raw_seconds": raw[0],
        "replayed": len(replay),
    }


LIMITED_CLIENTS = 3
LIMITED_RATE = (30, 3.0)


def _rate_limited_reload(vendor: str) -> dict[str, Any]:
    """A small reload under a tight sandbox rate limit (full run only: it waits on the limit):
    how many calls the 429s add."""
    bench = _merit_bench(LIMITED_CLIENTS)
    bench.server.store.set_rate_limit(*LIMITED_RATE)
    bench.raw_replay = lambda calls: None  # a plain loop would be refused too
    try:
        return _reload(bench)
    finally:
        bench.server.stop()
        _retire(bench.company)


def measure(vendor: str, sizes: Sizes) -> Result:
    from integrations.base import get_vendor
    from summarytasks import schedule

    clients = RELOAD_CLIENTS if not sizes.quick else 3
    bench = (_tripletex_bench if vendor == "tripletex" else _merit_bench)(clients)
    try:
        periods = schedule.reload_periods(schedule.firm_today(bench.company.country))
        month = _client_month(bench, periods[-1])
        latency = 0.0 if sizes.quick else RELOAD_LATENCY_SECONDS
        bench.server.store.set_latency(latency)
        reload = _reload(bench)
    finally:
        bench.server.stop()
        _retire(bench.company)
    limited = _rate_limited_reload(vendor) if vendor == "merit" and not sizes.quick else None
    catalogue = len(get_vendor(vendor).statistics)
    figures: dict[str, Any] = {
        "mapped_statistics": catalogue,
        "source_endpoints": len(bench.source_endpoints),
        "api_calls_per_client_month": month["source_calls"],
        "min_api_calls_per_client_month": month["min"],
        "client_month_lookup_calls": month["lookups"],
        "client_month_auth_calls": month["auth"],
        "client_month_calls": month["calls"],
        "client_month_floor": month["floor"],
        "sql_per_client_month": month["sql"],
        "reload_clients": clients,
        "reload_months": len(periods),
        "reload_parts_done": f"{reload['parts_done']} of {reload['parts']}",
        "reload_api_calls": reload["api_calls"],
        "min_reload_api_calls": reload["min"],
        "reload_auth_calls": reload["auth"],
        "reload_rate_limited": reload["retried"],
        "reload_calls": reload["calls"],
        "reload_sandbox_latency_ms": round(latency * 1000),
        "reload_seconds": round(reload["seconds"], 2),
        "reload_raw_seconds": round(reload["raw_seconds"], 2),
        "reload_ratio": ratio(reload["seconds"], reload["raw_seconds"]),
    }
    if limited is not None:
        figures.update(
            {
                "limited_reload_clients": LIMITED_CLIENTS,
                "limited_rate": f"{LIMITED_RATE[0]} per {LIMITED_RATE[1]} s",
                "limited_reload_api_calls": limited["api_calls"],
                "limited_min_reload_api_calls": limited["min"],
                "limited_reload_429s": limited["retried"],
            }
        )
    fan = fanout(sizes, vendor)
    figures.update(fan.figures)
    targets = [
        Target(
            "every statistic mapped and read",
            month["imported"] == catalogue and month["missing"] == 0,
            f"{month['imported']} imported, {month['missing']} missing of {catalogue}",
        ),
        Target(
            "api_calls_per_client_month == min_api_calls_per_client_month",
            month["source_calls"] == month["min"] and month["other"] == 0,
            f"{month['source_calls']} and {month['min']} (other calls: {month['other']})",
        ),
        Target(
            "every client-month reloaded",
            reload["parts_done"] == reload["parts"] == clients * len(periods),
            f"{reload['parts_done']} of {clients * len(periods)}",
        ),
        Target(
            "reload_api_calls <= min_reload_api_calls + authentication",
            reload["api_calls"] <= reload["min"] + reload["auth"],
            f"{reload['api_calls']} <= {reload['min']} + {reload['auth']}",
        ),
        Target(
            "reload_seconds <= reload_raw_seconds",
            reload["seconds"] <= reload["raw_seconds"],
            f"{reload['seconds']:.2f} s vs {reload['raw_seconds']:.2f} s",
            counts_only=False,
            known_miss=RELOAD_TIME_MISS,
        ),
        *fan.targets,
    ]
    if limited is not None:
        targets.append(
            Target(
                "under the sandbox's rate limit: reload_api_calls <= min + authentication",
                limited["api_calls"] <= limited["min"] + limited["auth"],
                f"{limited['api_calls']} <= {limited['min']} + {limited['auth']} "
                f"({limited['retried']} answered 429)",
            )
        )
    return Result(key="", figures=figures, targets=targets)


@section("p2_statistics")
def tripletex_statistics(sizes: Sizes) -> Result:
    return measure("tripletex", sizes)


@section("merit.p2_statistics")
def merit_statistics(sizes: Sizes) -> Result:
    return measure("merit", sizes)
