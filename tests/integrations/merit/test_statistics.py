"""Work statistics read from Merit Aktiva over real HTTP against the emulator: the values equal
the emulator's true counts, each source costs one call per month, and refusals say what they
are."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
import requests
from django.utils import translation

from integrations.base import (
    Capability,
    ConfigError,
    RateLimited,
    StatisticsTarget,
    TransientError,
    get_vendor,
)
from integrations.merit.adapter import MeritAdapter
from integrations.merit.client import add_months
from integrations.merit.statistics import STATISTICS, month_days

ALL_KEYS = [s.key for s in STATISTICS]
# Merit's counts are those of the company the credentials open; the target names nothing Merit
# can use.
TARGET = StatisticsTarget(customer_id="ignored")


def adapter(merit: Any, country: str = "EE", **options: Any) -> MeritAdapter:
    creds = merit.store.demo_credentials(country)
    return MeritAdapter(
        credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
        environment=country.lower(),
        rate_limit_key=f"test:{creds['api_id']}",
        client_options=options,
    )


def truth(merit: Any, company_id: int, period: date) -> dict[str, int]:
    response = requests.get(
        f"{merit.base_url}/_sandbox/statistics",
        params={"company": str(company_id), "period": f"{period:%Y-%m}"},
        # The first count of a company generates its history: slow on a loaded machine.
        timeout=60,
    )
    assert response.status_code == 200, response.text
    return response.json()["statistics"]


def months_with_history(merit: Any, country: str) -> list[date]:
    today = date.fromisoformat(merit.store.info()["today"])
    first = date(today.year, today.month, 1)
    return [add_months(first, -back) for back in (1, 6, 13)]


def test_it_declares_the_statistics_of_the_fact_sheet() -> None:
    info = get_vendor("merit")

    assert info.can(Capability.STATISTICS)
    assert [s.key for s in info.statistics] == [
        "sales_invoices",
        "purchase_invoices",
        "gl_batches",
        "documents",
        "gl_entries",
        "vat_entries",
        "payments",
    ]
    assert all(str(s.label) and str(s.definition) and s.source for s in info.statistics)
    with translation.override("nb"):
        labels = {s.key: str(s.label) for s in info.statistics}
    assert labels["sales_invoices"] == "Salgsfakturaer" and labels["vat_entries"] == "Mva-føringer"


@pytest.mark.parametrize("country", ["EE", "FI"])
def test_it_counts_every_statistic_as_the_emulator_does(merit, country) -> None:
    company = merit.store.demo_credentials(country)["company_id"]
    reader = adapter(merit, country)

    for period in months_with_history(merit, country):
        got = reader.read_statistics(TARGET, period, ALL_KEYS)
        want = truth(merit, company, period)
        assert {k: v.value for k, v in got.items()} == {k: Decimal(want[k]) for k in ALL_KEYS}
        assert want["sales_invoices"] and want["vat_entries"] < want["gl_entries"]


def test_it_makes_one_call_per_source_of_the_statistics_asked_for(merit) -> None:
    reader = adapter(merit)
    period = months_with_history(merit, "EE")[0]

    reader.read_statistics(TARGET, period, ALL_KEYS)

    assert merit.store.request_counts() == {
        "EE getinvoices": 1,  # sales invoices and documents share it
        "EE getpurchorders": 1,
        "EE getglbatches": 1,
        "EE getglbatchesfull": 1,  # GL entries and VAT entries share it
        "EE getpayments": 1,
    }
    merit.store.clear_requests()

    got = reader.read_statistics(TARGET, period, ["payments"])

    assert list(got) == ["payments"]
    assert merit.store.request_counts() == {"EE getpayments": 1}


def test_it_sends_the_month_as_its_first_and_last_day() -> None:
    assert month_days(date(2024, 2, 1)) == (date(2024, 2, 1), date(2024, 2, 29))
    assert month_days(date(2025, 12, 1)) == (date(2025, 12, 1), date(2025, 12, 31))


def test_it_refuses_an_unknown_statistic_before_any_call(merit) -> None:
    with pytest.raises(ConfigError) as raised:
        adapter(merit).read_statistics(TARGET, date(2025, 5, 1), ["sale_entries"])

    assert "sale_entries" in raised.value.message
    assert merit.store.request_counts() == {}


def test_it_raises_a_transient_error_for_an_error_page_instead_of_data(merit) -> None:
    merit.store.inject_fault("stacktrace_200", endpoint="getpurchorders", times=10)

    with pytest.raises(TransientError):
        adapter(merit).read_statistics(TARGET, date(2025, 5, 1), ["purchase_invoices"])


def test_it_waits_out_a_429(merit) -> None:
    sleeps: list[float] = []
    reader = adapter(merit, sleep=sleeps.append, backoff_base=0.01)
    company = merit.store.demo_credentials("EE")["company_id"]
    period = months_with_history(merit, "EE")[0]
    merit.store.inject_fault("rate_limit", endpoint="getinvoices", times=1, retry_after=2)

    got = reader.read_statistics(TARGET, period, ["sales_invoices"])

    assert got["sales_invoices"].value == truth(merit, company, period)["sales_invoices"]
    assert any(1.5 <= s <= 2.5 for s in sleeps)
    assert merit.store.request_counts() == {"EE getinvoices": 2}


def test_it_raises_rate_limited_when_merit_asks_for_a_long_wait(merit, settings) -> None:
    settings.MERIT_MAX_INLINE_WAIT = 1
    merit.store.inject_fault("rate_limit", endpoint="getinvoices", times=5, retry_after=30)

    with pytest.raises(RateLimited) as raised:
        adapter(merit, sleep=lambda s: None).read_statistics(
            TARGET, date(2025, 5, 1), ["sales_invoices"]
        )

    assert raised.value.retry_after >= 1


def test_the_emulator_refuses_a_bad_period_or_company(merit) -> None:
    def ask(**params: str) -> int:
        url = f"{merit.base_url}/_sandbox/statistics"
        return requests.get(url, params=params, timeout=5).status_code

    company = str(merit.store.demo_credentials("EE")["company_id"])
    assert ask(company=company, period="2025-05") == 200
    assert ask(company=company, period="May") == 400
    assert ask(company="987654", period="2025-05") == 404


def test_it_counts_the_company_the_credentials_open_whatever_the_target(merit) -> None:
    store = merit.store
    other = store.basic_credentials("EE")["company_id"]
    store.set_licence(other, "PRO")
    creds = store.create_credentials("EE", other)
    shop = MeritAdapter(
        credentials={"api_id": creds["api_id"], "api_key": creds["api_key"]},
        environment="ee",
        rate_limit_key=f"test:{creds['api_id']}",
    )
    firm = adapter(merit)
    period = months_with_history(merit, "EE")[0]

    from_shop = shop.read_statistics(TARGET, period, ["gl_batches"])
    from_firm = firm.read_statistics(TARGET, period, ["gl_batches"])
    elsewhere = firm.read_statistics(StatisticsTarget("x", "y"), period, ["gl_batches"])

    assert from_shop["gl_batches"].value == truth(merit, other, period)["gl_batches"]
    assert from_firm["gl_batches"].value == truth(merit, firm_id(merit), period)["gl_batches"]
    assert from_firm == elsewhere
    assert truth(merit, other, period) != truth(merit, firm_id(merit), period)


def firm_id(merit: Any) -> int:
    return int(merit.store.demo_credentials("EE")["company_id"])
