"""Work statistics from a Merit Aktiva company: the catalogue and the counting.

Merit's API works per company, with that company's API ID and key (fact sheet 4.3): the
statistics are those of the company the credentials open, so a client's statistics come from
a connection holding the client's own company's credentials. `StatisticsTarget` names nothing
Merit can use (there is no accountant access), so it is not read.

* **One call per source and window.** Merit has no paging; lists are bounded by date windows
  (3 months, 31 days for `GetGLBatchesFull`, fact sheet 3). A month fits in every window, so a
  client-month costs one call per source of the keys asked for (`MeritClient.iter_windows`
  would split a longer range). Sources of keys not asked for are not read.
* **Months.** Merit's `PeriodStart`/`PeriodEnd` are dates, both inclusive: the half-open month
  `[1st, 1st of next month)` is sent as its first and last day, and rows are checked against the
  month on our side too (by their document or batch date).
* **Definitions** follow the fact sheet's mapping (4.9): GL entries are the `Entries` of the
  month's batches, VAT entries those with a `TaxId`, documents the sales invoices plus the
  purchase invoices plus the GL batches.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from integrations.base import ConfigError, Statistic, StatisticValue, TransientError

if TYPE_CHECKING:
    from integrations.merit.client import MeritClient

INVOICES = "getinvoices"
PURCHASE_INVOICES = "getpurchorders"
GL_BATCHES = "getglbatches"
GL_FULL = "GetGLBatchesFull"
PAYMENTS = "getpayments"
EMPTY_GUID = "00000000-0000-0000-0000-000000000000"

# key -> the endpoints it is counted from (documents needs three; each is read once).
SOURCES: dict[str, tuple[str, ...]] = {
    "sales_invoices": (INVOICES,),
    "purchase_invoices": (PURCHASE_INVOICES,),
    "gl_batches": (GL_BATCHES,),
    "gl_entries": (GL_FULL,),
    "vat_entries": (GL_FULL,),
    "payments": (PAYMENTS,),
    "documents": (INVOICES, PURCHASE_INVOICES, GL_BATCHES),
}

STATISTICS: tuple[Statistic, ...] = (
    Statistic(
        "sales_invoices",
        _("Sales invoices"),
        _("Sales invoices with a document date in the month."),
        INVOICES,
    ),
    Statistic(
        "purchase_invoices",
        _("Purchase invoices"),
        _("Purchase invoices with a document date in the month."),
        PURCHASE_INVOICES,
    ),
    Statistic(
        "gl_batches",
        _("GL batches"),
        _("General ledger batches (entries of any origin) dated in the month."),
        GL_BATCHES,
    ),
    Statistic(
        "documents",
        _("Documents"),
        _("Sales invoices, purchase invoices and GL batches dated in the month, added up."),
        " + ".join(SOURCES["documents"]),
    ),
    Statistic(
        "gl_entries",
        _("GL entries"),
        _("Lines of the general ledger batches dated in the month."),
        GL_FULL,
        common=False,
    ),
    Statistic(
        "vat_entries",
        _("VAT entries"),
        _("Lines of the general ledger batches dated in the month that carry a VAT code."),
        GL_FULL,
        common=False,
    ),
    Statistic(
        "payments",
        _("Payments"),
        _("Payments (from customers, to vendors and other bank rows) dated in the month."),
        PAYMENTS,
        common=False,
    ),
)
STATISTIC_KEYS = frozenset(SOURCES)

# What one row of each source is: its id field and its date field.
_ROWS: dict[str, tuple[tuple[str, ...], str]] = {
    INVOICES: (("SIHId",), "DocumentDate"),
    PURCHASE_INVOICES: (("PIHId",), "DocumentDate"),
    GL_BATCHES: (("GLBId",), "BatchDate"),
    GL_FULL: (("GLBId",), "BatchDate"),
    PAYMENTS: (("PHId", "PIHId"), "DocumentDate"),  # the docs disagree on the name (4.7)
}


def month_days(period: date) -> tuple[date, date]:
    """The first and the last day (both inclusive, as Merit reads them) of `period`'s month."""
    first = period.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following - timedelta(days=1)


@dataclass
class StatisticsReader:
    """Counts statistics of the Merit company `client` opens. Read-only and idempotent."""

    client: MeritClient

    def read(self, period: date, keys: Collection[str]) -> dict[str, StatisticValue]:
        """One `StatisticValue` per key for the month of `period`. Raises `ConfigError` for an
        unknown key (before any call), else what `MeritClient` raises (`AuthError`,
        `RateLimited`, `TransientError` for a malformed answer, `MeritRequestError`)."""
        from integrations.merit.errors import say

        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            if key not in STATISTIC_KEYS:
                raise ConfigError(
                    say("statistic_unknown", statistic=str(key)[:40]),
                    details={"statistic": str(key)[:40]},
                )
        first, last = month_days(period)
        sources = list(dict.fromkeys(s for key in wanted for s in SOURCES[key]))
        rows = {source: list(self._rows(source, first, last)) for source in sources}
        counts: dict[str, int] = {}
        for key in wanted:
            if key == "gl_entries":
                counts[key] = sum(len(_entries(batch)) for batch in rows[GL_FULL])
            elif key == "vat_entries":
                counts[key] = sum(
                    1
                    for batch in rows[GL_FULL]
                    for entry in _entries(batch)
                    if str(entry.get("TaxId") or "").strip() not in ("", EMPTY_GUID)
                )
            else:
                counts[key] = sum(len(rows[source]) for source in SOURCES[key])
        return {key: StatisticValue(key, Decimal(counts[key])) for key in wanted}

    def _rows(self, source: str, first: date, last: date) -> Iterator[dict[str, Any]]:
        """The rows of `source` dated `first`..`last`, each once (by its id)."""
        body = {"WithLines": 1, "DateType": 0} if source == GL_FULL else {}
        id_fields, date_field = _ROWS[source]
        seen: set[str] = set()
        for window in self.client.iter_windows(source, first, last, body):
            for row in window:
                if not isinstance(row, dict):
                    raise _malformed(source)
                row_id = next((str(row[f]).lower() for f in id_fields if row.get(f)), "")
                day = _date(row.get(date_field), source)
                if not row_id:
                    raise _malformed(source)
                if row_id in seen or not first <= day <= last:
                    continue
                seen.add(row_id)
                yield row


def _entries(batch: dict[str, Any]) -> list[dict[str, Any]]:
    entries = batch.get("Entries")
    if entries is None:
        return []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise _malformed(GL_FULL)
    return entries


def _date(value: Any, source: str) -> date:
    """Merit's "2024-04-29T00:00:00", sometimes "2024/04/29" (fact sheet 3)."""
    if not isinstance(value, str):
        raise _malformed(source)
    try:
        return date.fromisoformat(value[:10].replace("/", "-"))
    except ValueError:
        raise _malformed(source) from None


def _malformed(source: str) -> TransientError:
    from integrations.merit.errors import say

    return TransientError(
        f"{say('malformed')} {say('retry_later')}",
        details={"path": f"/{source}", "kind": "malformed"},
    )
