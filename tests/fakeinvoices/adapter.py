"""A fake accounting system that receives invoices: the contract of `export_invoice`,
`find_exported_invoice` and `invoice_statuses` without a network, with the failures that make
exactly-once hard, injected through its store (`tests.fakeinvoices.store`):

- "lost_response", "dropped", "html_503": the write is applied, then the answer is lost
  (`TransientError` with outcome "unknown");
- "hang": the write is applied, then the call never answers (a worker killed mid-export);
- "429": refused before writing (`RateLimited`); "timeout_before": not written, outcome known;
- "vat_type", "bank_account", "validation", "link": refused for good (`ConfigError` with the fix).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from integrations.base import (
    AccountingAdapter,
    ConfigError,
    ExportedInvoice,
    ExportedRef,
    InvoiceOut,
    RateLimited,
    RemoteCompany,
    RemoteInvoiceStatus,
    TransientError,
)
from tests.fakeinvoices.store import FakeStore

GOOD_KEY = "fake-invoices-key-0123"

PERMANENT = {
    "vat_type": "The accounting system does not know VAT code 99.",
    "bank_account": "The company has no bank account number; add it before the first invoice.",
    "validation": "The due date is before the invoice date.",
    "link": "The customer does not exist.",
}


class FakeInvoicesAdapter(AccountingAdapter):
    key = "fakeinvoices"

    @classmethod
    def clean_credentials(cls, raw: dict[str, str]) -> dict[str, str]:
        return {name: (raw.get(name) or "").strip() for name in ("api_key", "store")}

    @property
    def store(self) -> FakeStore:
        return FakeStore(self.credentials["store"])

    def test_connection(self) -> RemoteCompany:
        return RemoteCompany(id="1", name="Fake Invoices AS")

    def _fault(self, data: dict[str, Any], operation: str) -> str:
        data["calls"][operation] = data["calls"].get(operation, 0) + 1
        queue = data["faults"].get(operation) or []
        return queue.pop(0) if queue else ""

    def export_invoice(self, invoice: InvoiceOut) -> ExportedInvoice:
        with self.store.state() as data:
            fault = self._fault(data, "export")
            if fault == "429":
                raise RateLimited("Too many requests.", retry_after=0.01)
            if fault == "timeout_before":
                raise TransientError("The accounting system did not answer in time.")
            if fault in PERMANENT:
                raise ConfigError(PERMANENT[fault], details={"fix": fault})
            data["next_id"] += 1
            remote: dict[str, Any] = {
                "id": str(data["next_id"]),
                "number": str(data["next_id"] - 900),
                "reference": invoice.reference,
                "customer_id": invoice.customer_id,
                "employee": invoice.contact_employee_id,
                "lines": [
                    {
                        "description": line.description,
                        "quantity": str(line.quantity),
                        "unit_price": str(line.unit_price),
                        "discount": str(line.discount_percent),
                        "vat_code": line.vat_code,
                        "net": str(line.net_amount),
                    }
                    for line in invoice.lines
                ],
                "gross": str(invoice.gross_total),
            }
            data["objects"].append(remote)
        if fault == "hang":
            time.sleep(300)
        if fault in ("lost_response", "dropped", "html_503"):
            raise TransientError(
                {
                    "lost_response": "The accounting system did not answer in time.",
                    "dropped": "The connection to the accounting system was lost.",
                    "html_503": "The accounting system is unavailable (503).",
                }[fault],
                details={"outcome": "unknown"},
            )
        return ExportedInvoice(remote_id=remote["id"], remote_number=remote["number"])

    def find_exported_invoice(self, invoice: InvoiceOut) -> ExportedInvoice | None:
        with self.store.state() as data:
            fault = self._fault(data, "find")
            if fault == "timeout_before":
                raise TransientError("The accounting system did not answer in time.")
            for remote in data["objects"]:
                if (
                    remote["reference"] == invoice.reference
                    and remote["customer_id"] == invoice.customer_id
                ):
                    return ExportedInvoice(remote_id=remote["id"], remote_number=remote["number"])
        return None

    def invoice_statuses(self, exported: Sequence[ExportedRef]) -> dict[str, RemoteInvoiceStatus]:
        with self.store.state() as data:
            fault = self._fault(data, "statuses")
            if fault == "auth":
                from integrations.base import AuthError

                raise AuthError("The API key has expired.")
            known = {o["id"] for o in data["objects"]}
            result: dict[str, RemoteInvoiceStatus] = {}
            for ref in exported:
                if ref.remote_id not in known:
                    continue
                status = data["statuses"].get(ref.remote_id) or {"state": "not_invoiced"}
                outstanding = status.get("outstanding")
                result[ref.remote_id] = RemoteInvoiceStatus(
                    remote_id=ref.remote_id,
                    state=status["state"],
                    invoice_id=status.get("invoice_id", ""),
                    invoice_number=status.get("invoice_number", ""),
                    outstanding=Decimal(outstanding) if outstanding is not None else None,
                )
            return result
