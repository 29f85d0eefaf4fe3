"""Fixtures for the Merit sandbox tests: sandboxes talked to over real HTTP, calls signed
with uku's own signing module.

No Django and no database: the sandbox is plain Python behind a real socket. Read-only
tests share one sandbox per module (seeding takes a few hundred milliseconds); tests
that change state, the clock, limits or faults get a fresh one.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import pytest
import requests

from integrations.merit import signing
from integrations.merit.sandbox import SandboxServer, start_sandbox

#: The seeded history ends on this date in every test, so windows are reproducible.
TODAY = date(2025, 6, 16)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh demo sandbox (all three instances) on a free port, stopped afterwards."""
    server = start_sandbox(seed="demo", today=TODAY)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def shared() -> Iterator[SandboxServer]:
    """One demo sandbox for a module's read-only tests (rate limit raised: they share one company)."""
    server = start_sandbox(seed="demo", today=TODAY)
    server.store.set_rate_limit(100_000, 60)
    try:
        yield server
    finally:
        server.stop()


@dataclass
class Merit:
    """A tiny Merit client: signs each call (fresh timestamp) and POSTs the exact signed body."""

    server: SandboxServer
    country: str
    api_id: str
    api_key: str

    def call(
        self,
        endpoint: str,
        payload: Any = None,
        *,
        body: str | bytes | None = None,
        method: str = "POST",
        moment: datetime | None = None,
        params: dict[str, str] | None = None,
        country: str | None = None,
    ) -> requests.Response:
        """Sign ``payload`` (or the raw ``body``) and send it; ``params`` override query values."""
        text = body if body is not None else signing.dump_body({} if payload is None else payload)
        query: dict[str, str] = signing.signed_query(self.api_id, self.api_key, text, moment)
        query.update(params or {})
        data = text.encode("utf-8") if isinstance(text, str) else text
        return requests.request(
            method,
            self.server.url_for(country or self.country) + endpoint,
            params=query,
            data=data,
            headers={"Content-Type": "application/json"},
            timeout=10,
        )

    def json(self, endpoint: str, payload: Any = None, **kwargs: Any) -> Any:
        """The parsed answer of a call that must succeed."""
        response = self.call(endpoint, payload, **kwargs)
        assert response.status_code == 200, response.text
        return response.json()

    def as_country(self, country: str) -> Merit:
        """The demo firm of another instance."""
        return demo_client(self.server, country)


def demo_client(server: SandboxServer, country: str = "EE") -> Merit:
    """A client with the demo firm's credentials in ``country``."""
    creds = server.store.demo_credentials(country)
    return Merit(server, country, creds["api_id"], creds["api_key"])


@pytest.fixture
def merit(sandbox: SandboxServer) -> Merit:
    """The Estonian demo firm on a fresh sandbox."""
    return demo_client(sandbox)


@pytest.fixture(scope="module")
def reader(shared: SandboxServer) -> Merit:
    """The Estonian demo firm on the module's shared sandbox (read-only tests)."""
    return demo_client(shared)


@pytest.fixture
def control(sandbox: SandboxServer) -> Any:
    """``control(method, path, json=None)`` → response from the fresh sandbox's ``/_sandbox`` API."""

    def call(method: str, path: str, json: Any = None) -> requests.Response:
        return requests.request(method, f"{sandbox.base_url}/_sandbox{path}", json=json, timeout=10)

    return call


#: A one-day window on the pinned date, where sendinvoice puts test invoices.
DAY = {"PeriodStart": "20250616", "PeriodEnd": "20250616"}


def tax_id(merit: Merit, pct: float = 22) -> str:
    """The Id of the active VAT code with this percentage."""
    return next(t["Id"] for t in merit.json("gettaxes") if t["TaxPct"] == pct and t["TaxType"] == 1)


def sample_invoice(merit: Merit, **overrides: Any) -> dict[str, Any]:
    """A valid invoice for a new customer: 2 x 10.00 + 1 x 0.99 at 22 % (VAT rounded per row)."""
    tax = tax_id(merit)
    invoice: dict[str, Any] = {
        "Customer": {
            "Name": "Uus Klient OÜ",
            "RegNo": "16543212",
            "NotTDCustomer": False,
            "CountryCode": "EE",
            "Email": "arved@uusklient.example",
            "PaymentDeadLine": 10,
        },
        "DocDate": "20250616101500",
        "InvoiceNo": "UKU-1",
        "InvoiceRow": [
            {
                "Item": {"Code": "RAAM", "Description": "Raamatupidamine juuni"},
                "Quantity": 2,
                "Price": 10,
                "TaxId": tax,
            },
            {
                "Item": {"Code": "UUS-1", "Description": "Uus teenus", "Type": 2, "UOMName": "tk"},
                "Quantity": "1",
                "Price": "0.99",
                "TaxId": tax,
            },
        ],
        "TotalAmount": 20.99,
        "TaxAmount": [{"TaxId": tax, "Amount": 4.62}],  # 4.40 + 0.22 (0.2178 rounded per row)
    }
    invoice.update(overrides)
    return invoice
