"""P1: the customer import (preview and confirm) against each vendor's sandbox, beside its floors.

Floors, measured in the same run: the same customer pages fetched with plain `requests` (replayed
from the sandbox's own request log, so they are exactly the pages uku asked for), and the same
rows written with a plain `bulk_create` (the preview rows, then the clients and their links).
"""

from __future__ import annotations

import contextlib
import itertools
import math
import tracemalloc
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import requests

from benchmarks.harness import (
    RawMerit,
    Result,
    Sizes,
    StatementCounter,
    Target,
    counting_statements,
    new_firm,
    ratio,
    section,
    stopwatch,
)
from benchmarks.sandbox_process import SandboxProcess
from integrations.base import get_vendor


@dataclass
class VendorBench:
    """What the import benchmark needs to know of one vendor's sandbox."""

    vendor: str
    environment: str
    # customers -> a running sandbox server, in a process of its own (`SandboxProcess`)
    start: Callable[[int], Any]
    credentials: Callable[[Any], dict[str, str]]
    configure: Callable[[Any], None]  # point uku's settings at the sandbox
    page_calls: Callable[[dict[str, int]], int]  # request counts -> customer page calls
    auth_calls: Callable[[dict[str, int]], int]  # request counts -> authentication calls
    min_pages: Callable[[int, int], int]  # (active, inactive customers) -> fewest page calls
    raw_fetch: Callable[[Any, list[dict[str, Any]]], None]  # replay the page calls plainly
    is_page_call: Callable[[dict[str, Any]], bool]  # a request-log entry -> is it a page call
    # The calls an export batch makes once, whatever its size (lookups, the session), by
    # request-log key; every other call is per invoice.
    export_batch_calls: tuple[str, ...] = ()


def _tripletex() -> VendorBench:
    from django.conf import settings

    page = 1000  # Tripletex's largest page

    def configure(server: Any) -> None:
        settings.TRIPLETEX_TEST_URL = server.url
        settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token

    def raw_fetch(server: Any, calls: list[dict[str, Any]]) -> None:
        with requests.Session() as http:
            token = http.put(
                server.url + "/token/session/:create",
                params={
                    "consumerToken": server.store.consumer_token,
                    "employeeToken": server.bench_token,
                    "expirationDate": "2099-01-01",
                },
                timeout=30,
            ).json()["value"]["token"]
            for call in calls:
                response = http.get(
                    server.url + call["path"], params=call["query"], auth=("0", token), timeout=30
                )
                response.json()

    def credentials(server: Any) -> dict[str, str]:
        server.bench_token = server.store.create_employee_token()["token"]
        return {"employee_token": server.bench_token}

    return VendorBench(
        vendor="tripletex",
        environment="test",
        start=lambda customers: SandboxProcess("tripletex", customers),
        credentials=credentials,
        configure=configure,
        page_calls=lambda counts: counts.get("GET /customer", 0),
        auth_calls=lambda counts: sum(v for k, v in counts.items() if "/token/session" in k),
        # One pass over the active and one over the inactive customers (Tripletex hides
        # inactive ones unless asked), each at least one page.
        min_pages=lambda active, inactive: (
            max(1, math.ceil(active / page)) + max(1, math.ceil(inactive / page))
        ),
        raw_fetch=raw_fetch,
        is_page_call=lambda c: c["method"] == "GET" and c["path_template"] == "/customer",
        export_batch_calls=(
            "PUT /token/session/:create",
            "GET /ledger/vatType",
            "GET /ledger/account",
        ),
    )


def _merit() -> VendorBench:
    from django.conf import settings

    def configure(server: Any) -> None:
        settings.MERIT_EE_URL = server.urls["EE"]

    def credentials(server: Any) -> dict[str, str]:
        creds = server.store.demo_credentials("EE")
        server.bench_credentials = creds
        return {"api_id": creds["api_id"], "api_key": creds["api_key"]}

    def raw_fetch(server: Any, calls: list[dict[str, Any]]) -> None:
        # Merit answers every customer in one `getcustomers` (no paging); uku asks with an
        # empty filter for a full import.
        creds = server.bench_credentials
        with RawMerit(server.urls["EE"], creds["api_id"], creds["api_key"]) as merit:
            for _call in calls:
                merit.call("getcustomers", {})

    return VendorBench(
        vendor="merit",
        environment="ee",
        start=lambda customers: SandboxProcess("merit", customers),
        credentials=credentials,
        configure=configure,
        page_calls=lambda counts: counts.get("EE getcustomers", 0),
        auth_calls=lambda counts: 0,  # every call is signed; there is no session
        min_pages=lambda active, inactive: 1,  # one answer holds every customer
        raw_fetch=raw_fetch,
        is_page_call=lambda c: c.get("endpoint") == "getcustomers",
        export_batch_calls=("EE gettaxes", "EE getitems"),
    )


@contextlib.contextmanager
def statements_per_page(adapter_class: Any, counter: StatementCounter) -> Iterator[list[int]]:
    """The statements run between one page of customers and the next (classifying and writing
    that page), for each page: the adapter's `iter_customers` is wrapped to mark each page."""
    original = adapter_class.iter_customers
    marks: list[int] = []

    def marked(self: Any, **kwargs: Any) -> Iterator[Any]:
        for page in original(self, **kwargs):
            marks.append(counter.count)
            yield page
        marks.append(counter.count)

    per_page: list[int] = []
    adapter_class.iter_customers = marked
    try:
        yield per_page
    finally:
        adapter_class.iter_customers = original
        per_page.extend(b - a for a, b in itertools.pairwise(marks))


def _customer_counts(preview: Any) -> tuple[int, int]:
    """(active, inactive) customers the preview saw."""
    from clients.models import CustomerImportRow

    rows = CustomerImportRow.objects.filter(job=preview)
    inactive = rows.filter(inactive=True).count()
    return rows.count() - inactive, inactive


def _import(bench: VendorBench, customers: int, *, memory: bool) -> dict[str, Any]:
    """Start a sandbox with `customers`, connect a new firm, run the preview and the confirm as
    uku runs them, and measure. With `memory`, trace allocations instead of timing (tracing
    slows Python down, so the times come from a run without it)."""
    from django_scopes import scope

    from clients import services as client_services
    from integrations import services

    server = bench.start(customers)
    try:
        bench.configure(server)
        company, owner = new_firm(
            f"Bench {bench.vendor} {customers} {'m' if memory else 't'} {uuid.uuid4().hex[:6]}"
        )
        with scope(company=company):
            services.enable_integration(company=company, actor=owner, vendor=bench.vendor)
            services.save_connection(
                company=company,
                actor=owner,
                vendor=bench.vendor,
                environment=bench.environment,
                credentials=bench.credentials(server),
            )
            server.store.clear_requests()
            if memory:
                tracemalloc.start()
            adapter_class = get_vendor(bench.vendor).adapter_class
            with (
                counting_statements() as preview_sql,
                statements_per_page(adapter_class, preview_sql) as per_page,
                stopwatch() as preview_time,
            ):
                preview, _ = client_services.start_customer_import(
                    company=company, actor=owner, full=True, vendor=bench.vendor
                )
            counts = server.store.request_counts()
            log = server.store.request_log()["requests"]
            preview.refresh_from_db()
            with counting_statements() as confirm_sql, stopwatch() as confirm_time:
                confirm, _ = client_services.confirm_customer_import(
                    company=company, actor=owner, preview=preview, select="all"
                )
            peak = 0
            if memory:
                _current, peak = tracemalloc.get_traced_memory()
                tracemalloc.stop()
            confirm.refresh_from_db()
            pages = bench.page_calls(counts)
            figures: dict[str, Any] = {
                "preview_status": preview.status,
                "confirm_status": confirm.status,
                "created": confirm.counts.get("created"),
                "failed": confirm.counts.get("failed"),
                "pages": pages,
                "rows": preview.counts.get("total"),
                # Customers sharing a registry number (the sandbox seeds a few): the review
                # shows them as conflicts and "all" does not import them until resolved.
                "conflicts": preview.counts.get("conflict", 0),
                "api_calls": sum(counts.values()),
                "min_api_calls": bench.min_pages(*_customer_counts(preview))
                + bench.auth_calls(counts),
                # The statements a page of customers costs uku (the most of any page), apart
                # from the job's fixed set-up: this is what must not grow with the firm.
                "sql_per_page": max(per_page, default=0),
                "preview_sql": preview_sql.count,
                "preview_seconds": round(preview_time[0], 3),
                "confirm_seconds": round(confirm_time[0], 3),
                "peak_memory_mb": round(peak / 1e6, 1),
                "counts": counts,
                "confirm_sql": confirm_sql.count,
            }
            if not memory:
                page_log = [c for c in log if bench.is_page_call(c)]
                with stopwatch() as raw_paging:
                    bench.raw_fetch(server, page_log)
                figures["raw_paging_seconds"] = round(raw_paging[0], 3)
                figures["raw_insert_seconds"] = round(_raw_preview_insert(company, preview), 3)
                figures["raw_confirm_seconds"] = round(
                    _raw_confirm_insert(preview, bench.vendor), 3
                )
            return figures
    finally:
        server.stop()


def _raw_preview_insert(company: Any, preview: Any) -> float:
    """Seconds to bulk-insert the preview's rows again, plainly (into a throwaway job)."""
    from django.db import transaction

    from clients.models import CustomerImportRow

    rows = list(CustomerImportRow.objects.filter(job=preview).order_by("pk"))
    twin = type(preview).objects.get(pk=preview.pk)
    twin.pk = None
    twin.public_id = uuid.uuid4()
    twin.status = "succeeded"
    twin.save()
    for row in rows:
        row.pk = None
        row.job = twin
    with stopwatch() as elapsed, transaction.atomic():
        CustomerImportRow.objects.bulk_create(rows, batch_size=1000)
    CustomerImportRow.objects.filter(job=twin).delete()
    twin.delete()
    return elapsed[0]


def _raw_confirm_insert(preview: Any, vendor: str) -> float:
    """Seconds to bulk-insert the same clients and links plainly, in a firm of their own."""
    from django.db import transaction
    from django_scopes import scope

    from clients.importing import FIELDS, registry_fields, registry_key
    from clients.models import Client, CustomerImportRow, ExternalLink

    rows = list(CustomerImportRow.objects.filter(job=preview).values("remote_id", "name", "data"))
    firm, _owner = new_firm(f"Bench raw {preview.pk}")
    with scope(company=firm):
        # The same columns uku writes: every copied field, the registry number, the keys.
        clients = []
        kept = []
        seen: set[Any] = set()
        for row in rows:
            client = Client(company=firm, **{f: str(row["data"].get(f) or "") for f in FIELDS})
            for name, value in registry_fields(row["data"]).items():
                setattr(client, name, value)
            # A registry number is unique in a firm: a second customer with one already written
            # is a duplicate (the import reviews it), not a second client of the floor.
            key = registry_key(row["data"])
            if key and key in seen:
                continue
            seen.add(key)
            client.refresh_keys()
            clients.append(client)
            kept.append(row)
        rows = kept
        with stopwatch() as elapsed, transaction.atomic():
            Client.objects.bulk_create(clients, batch_size=1000)
            ExternalLink.objects.bulk_create(
                [
                    ExternalLink(
                        company=firm,
                        client=client,
                        vendor=vendor,
                        remote_id=row["remote_id"],
                        remote_name=row["name"],
                        remote_number=str(row["data"].get("customer_number") or ""),
                    )
                    for client, row in zip(clients, rows, strict=True)
                ],
                batch_size=1000,
            )
    return elapsed[0]


TIMED = (
    "preview_seconds",
    "raw_paging_seconds",
    "raw_insert_seconds",
    "confirm_seconds",
    "raw_confirm_seconds",
)


def measure(bench: VendorBench, sizes: Sizes) -> Result:
    # A running web or worker process has its URLconf loaded already (the end-of-job
    # notification reverses a URL): load it before timing, or the first section's preview pays
    # the import of every view module (0.6 s) once.
    from django.urls import get_resolver

    get_resolver().url_patterns  # noqa: B018 - loading it is the point
    # Timed twice at the large size, each time beside its floors, and the fastest of each
    # kept (uku's times and the floors alike): on a shared machine one sample is mostly the
    # neighbours' load. A quick run asserts no time, so it times once.
    runs = [_import(bench, sizes.customers, memory=False) for _ in range(1 if sizes.quick else 2)]
    large = dict(runs[0])
    for key in TIMED:
        large[key] = min(run[key] for run in runs)
    small = _import(bench, sizes.customers_small, memory=False)
    large_memory = _import(bench, sizes.customers, memory=True)
    small_memory = _import(bench, sizes.customers_small, memory=True)
    floor_preview = large["raw_paging_seconds"] + large["raw_insert_seconds"]
    figures = {
        "customers": large["rows"],
        "preview": large["preview_status"],
        "created": large["created"],
        "failed": large["failed"],
        "conflicts": large["conflicts"],
        "pages": large["pages"],
        "api_calls": large["api_calls"],
        "min_api_calls": large["min_api_calls"],
        "calls": large["counts"],
        f"sql_per_page_at_{sizes.customers_small}": small["sql_per_page"],
        f"sql_per_page_at_{sizes.customers}": large["sql_per_page"],
        "preview_seconds": large["preview_seconds"],
        "raw_paging_seconds": large["raw_paging_seconds"],
        "raw_insert_seconds": large["raw_insert_seconds"],
        "preview_ratio": ratio(large["preview_seconds"], floor_preview),
        "confirm_seconds": large["confirm_seconds"],
        "raw_confirm_seconds": large["raw_confirm_seconds"],
        "confirm_ratio": ratio(large["confirm_seconds"], large["raw_confirm_seconds"]),
        f"peak_memory_mb_at_{sizes.customers_small}": small_memory["peak_memory_mb"],
        f"peak_memory_mb_at_{sizes.customers}": large_memory["peak_memory_mb"],
    }
    # The issue's own key names, whatever the sizes (quick runs keep the keys).
    figures["sql_per_page"] = {
        str(sizes.customers_small): small["sql_per_page"],
        str(sizes.customers): large["sql_per_page"],
    }
    figures["peak_memory_mb"] = {
        str(sizes.customers_small): small_memory["peak_memory_mb"],
        str(sizes.customers): large_memory["peak_memory_mb"],
    }
    targets = [
        Target(
            "every customer without a conflict imported",
            large["created"] == large["rows"] - large["conflicts"] and not large["failed"],
            f"{large['rows']} customers, {large['conflicts']} conflicts, created "
            f"{large['created']}, failed {large['failed']}",
        ),
        Target(
            "api_calls == min_api_calls",
            large["api_calls"] == large["min_api_calls"],
            f"{large['api_calls']} vs {large['min_api_calls']}",
        ),
        Target(
            "sql_per_page the same at both sizes",
            small["sql_per_page"] == large["sql_per_page"],
            f"{small['sql_per_page']} at {sizes.customers_small}, "
            f"{large['sql_per_page']} at {sizes.customers}",
        ),
        Target(
            "preview_ratio <= 1.5",
            figures["preview_ratio"] <= 1.5,
            str(figures["preview_ratio"]),
            counts_only=False,
            known_miss="two quiet runs, 2026-12-04: Tripletex 1.40 and 1.54, Merit 1.80 and 1.82; "
            "uku's own Python (classifying, cleaning, building rows) beyond the floor's insert, "
            "more so under load",
        ),
        Target(
            "confirm_ratio <= 2",
            figures["confirm_ratio"] <= 2,
            str(figures["confirm_ratio"]),
            counts_only=False,
            known_miss="two quiet runs, 2026-12-04: Tripletex 1.70 both (met), Merit 2.71 and "
            "2.14; 2.5-3.4 at load 2-7: beyond the plain insert the confirm reads each batch "
            "back, builds the instances, writes every row's outcome and checks ~7 foreign keys a "
            "row at commit",
        ),
    ]
    # Merit answers every customer in one call (no paging): its answer is streamed and
    # decoded a page at a time (`MeritClient.iter_list`), so memory does not grow with it.
    targets.append(
        Target(
            "peak memory at the large size <= 1.5x the small",
            large_memory["peak_memory_mb"] <= 1.5 * small_memory["peak_memory_mb"],
            f"{small_memory['peak_memory_mb']} MB -> {large_memory['peak_memory_mb']} MB",
            counts_only=False,
        )
    )
    return Result(key="", figures=figures, targets=targets)


@section("p1_customer_import")
def tripletex_customer_import(sizes: Sizes) -> Result:
    return measure(_tripletex(), sizes)


@section("merit.p1_customer_import")
def merit_customer_import(sizes: Sizes) -> Result:
    return measure(_merit(), sizes)
