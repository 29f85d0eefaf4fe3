"""Statbooks: a made-up accounting system with `Capability.STATISTICS` (test settings only).

Its books live in the module (`BOOKS`): tests put counts per (customer id, month, key), make a
source refuse (`REFUSED`), a customer's books unreachable (`NO_BOOKS`) or a read fail a few
times (`FLAKY`), and read back which sources were read (`READS`). No network call is made.
"""

from __future__ import annotations

import threading
from collections.abc import Collection
from datetime import date
from decimal import Decimal

from integrations.base import (
    AccountingAdapter,
    AuthError,
    BooksAccessLost,
    ConfigError,
    RemoteCompany,
    StatisticsTarget,
    StatisticValue,
    TransientError,
)
from tests.statbooks.vendor import INFO

GOOD_KEY = "stat-key-0123456789"
BOOKS: dict[tuple[str, date, str], Decimal] = {}
REFUSED: dict[str, str] = {}  # source -> reason
NO_BOOKS: set[str] = set()  # customer ids whose books cannot be opened
FLAKY: dict[str, int] = {}  # customer id -> failures left before reads succeed
READS: list[tuple[str, date, str]] = []  # (customer id, month, source), one per pass
_lock = threading.Lock()


def reset() -> None:
    for store in (BOOKS, REFUSED, FLAKY):
        store.clear()
    NO_BOOKS.clear()
    READS.clear()


class StatbooksAdapter(AccountingAdapter):
    key = "statbooks"

    @classmethod
    def clean_credentials(cls, raw: dict[str, str]) -> dict[str, str]:
        key = (raw.get("api_key") or "").strip()
        if not key:
            raise ConfigError("Enter the API key.", details={"field": "api_key"})
        return {"api_key": key}

    def test_connection(self) -> RemoteCompany:
        if self.credentials.get("api_key") != GOOD_KEY:
            raise AuthError("Statbooks refused the API key.")
        return RemoteCompany(id="1", name="Stat AS")

    def read_statistics(
        self, target: StatisticsTarget, period: date, keys: Collection[str]
    ) -> dict[str, StatisticValue]:
        if self.credentials.get("api_key") != GOOD_KEY:
            raise AuthError("Statbooks refused the API key.")
        unknown = [k for k in keys if INFO.statistic(k) is None]
        if unknown:
            raise ConfigError(f"Unknown statistic {unknown[0]}.")
        customer = target.customer_id
        with _lock:
            if FLAKY.get(customer, 0) > 0:
                FLAKY[customer] -= 1
                raise TransientError("Statbooks timed out.")
        if customer in NO_BOOKS:
            raise BooksAccessLost("Statbooks cannot open the books.", books_company_id=customer)
        result: dict[str, StatisticValue] = {}
        sources = sorted({s.source for s in INFO.statistics if s.key in keys})
        for source in sources:
            with _lock:
                READS.append((customer, period, source))
            for statistic in INFO.statistics:
                if statistic.source != source or statistic.key not in keys:
                    continue
                if source in REFUSED:
                    result[statistic.key] = StatisticValue(statistic.key, None, REFUSED[source])
                else:
                    value = BOOKS.get((customer, period, statistic.key), Decimal(0))
                    result[statistic.key] = StatisticValue(statistic.key, value)
        return result
