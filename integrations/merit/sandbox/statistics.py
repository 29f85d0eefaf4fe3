"""The true work statistics of a Merit sandbox company, for tests to compare uku's counts with.

`GET /_sandbox/statistics?company=<id>&period=YYYY-MM` counts, straight from the company's stored
documents (no API, no date windows), what uku's Merit statistics mean (the fact sheet's 4.9
mapping): sales invoices, purchase invoices and GL batches dated in the month, the lines of
those batches and the lines with a VAT code, payments, and documents = the three added up.
Computed here, independently of uku's adapter.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from .store import ControlError, Store


def true_statistics(store: Store, company_id: int, period: str) -> dict[str, Any]:
    """The true counts of company `company_id` in month `period` ("YYYY-MM")."""
    try:
        first = date.fromisoformat(f"{period}-01")
    except (TypeError, ValueError):
        raise ControlError("period must be YYYY-MM") from None
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    company = store.company(company_id)
    company.ensure_history()

    def inside(row: dict[str, Any]) -> bool:
        return first <= row["_date"] < following

    invoices = sum(1 for row in company.invoices.values() if inside(row))
    purchases = sum(1 for row in company.purchases.values() if inside(row))
    batches = [row for row in company.batches.values() if inside(row)]
    entries = [entry for batch in batches for entry in batch["Entries"]]
    return {
        "company_id": company_id,
        "period": period,
        "statistics": {
            "sales_invoices": invoices,
            "purchase_invoices": purchases,
            "gl_batches": len(batches),
            "gl_entries": len(entries),
            "vat_entries": sum(1 for entry in entries if entry.get("TaxId")),
            "payments": sum(1 for row in company.payments if inside(row)),
            "documents": invoices + purchases + len(batches),
        },
    }


def control_statistics(store: Store, data: dict[str, Any]) -> tuple[int, Any]:
    """The control handler: `company` and `period` from the query string."""
    try:
        company_id = int(data.get("company") or 0)
    except (TypeError, ValueError):
        raise ControlError("company must be a company id") from None
    return 200, true_statistics(store, company_id, str(data.get("period") or ""))
