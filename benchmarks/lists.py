"""P4: the list pages people open all day, at a small and a large firm.

Each page is requested as its user requests it (a logged-in owner, Django's test client, the
whole middleware stack), first page, median of 5 requests; the statement count must not grow
with the firm and the time may at most double.
"""

from __future__ import annotations

from typing import Any

from benchmarks.harness import (
    Result,
    Sizes,
    Target,
    counting_statements,
    median_seconds,
    new_firm,
    ratio,
    section,
)


def firm_with_clients(count: int, label: str = "list") -> tuple[Any, Any]:
    """A firm with `count` clients, each linked to a customer of the first registered vendor
    with books access resolved, as an import leaves them."""
    from django_scopes import scope

    from clients.models import BooksState, Client, ExternalLink
    from integrations import services
    from integrations.base import REGISTRY

    vendor = next(iter(REGISTRY))
    company, owner = new_firm(f"Bench {label} {count}")
    with scope(company=company):
        services.enable_integration(company=company, actor=owner, vendor=vendor)
        clients = Client.objects.bulk_create(
            [
                Client(company=company, name=f"Kunde {n:05d} AS", customer_number=str(10000 + n))
                for n in range(count)
            ],
            batch_size=1000,
        )
        ExternalLink.objects.bulk_create(
            [
                ExternalLink(
                    company=company,
                    client=client,
                    vendor=vendor,
                    remote_id=str(500000 + n),
                    remote_name=client.name,
                    remote_number=client.customer_number,
                    books_company_id=str(900000 + n),
                    books_company_name=client.name,
                    books_state=BooksState.LINKED,
                )
                for n, client in enumerate(clients)
            ],
            batch_size=1000,
        )
    return company, owner


def browser_for(company: Any, owner: Any) -> Any:
    """Django's test client logged in as `owner`, working in `company`."""
    from django.test import Client as TestClient

    from uku.tenancy import SESSION_KEY

    browser = TestClient()
    browser.force_login(owner)
    session = browser.session
    session[SESSION_KEY] = str(company.public_id)
    session.save()
    return browser


def measure_page(browser: Any, url: str) -> tuple[int, float]:
    """(statements of one request, median seconds of 5) for `url`; fails loudly on non-200."""
    response = browser.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    with counting_statements() as sql:
        browser.get(url)
    return sql.count, median_seconds(lambda: browser.get(url))


def analyze() -> None:
    """Refresh the planner's statistics after seeding. A database in service has them (autovacuum
    analyses tables as they grow); rows bulk-inserted a second ago have none, and PostgreSQL then
    plans the month totals as if the tables were empty (10x slower at 5,000 clients)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def compare(url_for: Any, sizes: Sizes, firms: dict[int, tuple[Any, Any]]) -> dict[str, Any]:
    small, large = sizes.clients_small, sizes.clients_large
    analyze()
    sql_small, seconds_small = measure_page(browser_for(*firms[small]), url_for(firms[small][0]))
    sql_large, seconds_large = measure_page(browser_for(*firms[large]), url_for(firms[large][0]))
    return {
        f"sql_at_{small}": sql_small,
        f"sql_at_{large}": sql_large,
        f"seconds_at_{small}": round(seconds_small, 4),
        f"seconds_at_{large}": round(seconds_large, 4),
        "ratio": ratio(seconds_large, seconds_small),
    }


def targets_for(name: str, figures: dict[str, Any], sizes: Sizes) -> list[Target]:
    small, large = sizes.clients_small, sizes.clients_large
    return [
        Target(
            f"{name}: sql_at_{large} == sql_at_{small}",
            figures[f"sql_at_{large}"] == figures[f"sql_at_{small}"],
            f"{figures[f'sql_at_{small}']} and {figures[f'sql_at_{large}']}",
        ),
        Target(f"{name}: ratio <= 2", figures["ratio"] <= 2, str(figures["ratio"]), False),
    ]


@section("p4_client_list")
def client_list(sizes: Sizes) -> Result:
    firms = {n: firm_with_clients(n) for n in (sizes.clients_small, sizes.clients_large)}
    figures = compare(lambda company: "/clients/", sizes, firms)
    return Result(
        key="p4_client_list", figures=figures, targets=targets_for("clients", figures, sizes)
    )


PERIOD = "2026-01"


def add_month_tasks(company: Any, period_text: str = PERIOD) -> None:
    """Three number fields, and for every client a summary task of the month with a value in
    each, as a monthly import leaves them."""
    from datetime import date
    from decimal import Decimal

    from django_scopes import scope

    from clients.models import Client
    from summarytasks.models import CustomTaskField, SummaryTask, SummaryTaskValue

    year, month = (int(p) for p in period_text.split("-"))
    period = date(year, month, 1)
    with scope(company=company):
        fields = [
            CustomTaskField.objects.create(company=company, name=name)
            for name in ("Bilag", "Fakturaer", "Lønnsslipper")
        ]
        clients = list(Client.objects.filter(company=company).order_by("pk"))
        tasks = SummaryTask.objects.bulk_create(
            [
                SummaryTask(company=company, client=client, period=period, title="Månedsavslutning")
                for client in clients
            ],
            batch_size=1000,
        )
        SummaryTaskValue.objects.bulk_create(
            [
                SummaryTaskValue(company=company, task=task, field=field, number=Decimal(n % 97))
                for n, task in enumerate(tasks)
                for field in fields
            ],
            batch_size=2000,
        )


@section("p4_client_list.month_view")
def summary_month(sizes: Sizes) -> Result:
    firms = {n: firm_with_clients(n, "month") for n in (sizes.clients_small, sizes.clients_large)}
    for company, _owner in firms.values():
        add_month_tasks(company)
    figures = compare(lambda company: f"/summary-tasks/?period={PERIOD}", sizes, firms)
    return Result(
        key="p4_client_list.month_view",
        figures=figures,
        targets=targets_for("month view", figures, sizes),
    )
