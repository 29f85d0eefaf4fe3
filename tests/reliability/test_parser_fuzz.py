"""Bad vendor answers (issue 14, section 4): every parser of a decoded vendor answer maps it to
uku's dataclasses or raises the integration's own error (`integrations.base.IntegrationError`),
never another exception.

Each case starts from a valid sample row as the vendor sends it and mutates it: fields dropped,
set to null, to another JSON type, to huge or Unicode strings. The adapters read the rows from
a fake client (the HTTP layer and its own malformed-JSON handling are covered elsewhere), so what
is exercised is exactly the mapping code. Counted as `fuzz_cases` / `fuzz_server_errors`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.base import AccountingAdapter, IntegrationError
from integrations.merit.adapter import MeritAdapter
from integrations.tripletex.adapter import TripletexAdapter
from tests.reliability.report import count, fuzz_budget

JSON_SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=40),
    st.sampled_from(["", " ", "NaN", "1e999999", "-0", "\x00\u202e", "ÆØÅ ÷ 🧾", "x" * 20000]),
)
JSON = st.recursive(
    JSON_SCALARS,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=6,
)


@st.composite
def mutated(draw: st.DrawFn, sample: dict[str, Any]) -> dict[str, Any]:
    """`sample` with each field kept, dropped or replaced by an arbitrary JSON value."""
    row: dict[str, Any] = {}
    for key, value in sample.items():
        action = draw(st.sampled_from(["keep", "drop", "null", "replace"]))
        if action == "keep":
            row[key] = value
        elif action == "null":
            row[key] = None
        elif action == "replace":
            row[key] = draw(JSON)
    return row


class FakeClient:
    """Answers every read with the same decoded rows, in each vendor client's shape."""

    def __init__(self, rows: list[Any]) -> None:
        self.rows = rows

    def iter_pages(self, *args: Any, **kwargs: Any) -> Iterator[list[Any]]:
        yield self.rows

    def post_list(self, *args: Any, **kwargs: Any) -> list[Any]:
        return self.rows

    def get_raw(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {"values": self.rows, "fullResultSize": len(self.rows)}

    def close(self) -> None:
        pass


def _tripletex(rows: list[Any]) -> TripletexAdapter:
    adapter = TripletexAdapter(credentials={"employee_token": "x"}, environment="test")
    adapter._client = FakeClient(rows)  # type: ignore[assignment]
    return adapter


def _merit(rows: list[Any]) -> MeritAdapter:
    adapter = MeritAdapter(credentials={"api_id": "x", "api_key": "y"}, environment="ee")
    adapter._client = FakeClient(rows)  # type: ignore[assignment]
    return adapter


def _drain(pages: Iterator[list[Any]]) -> list[Any]:
    return [item for page in pages for item in page]


TRIPLETEX_CUSTOMER = {
    "id": 11,
    "name": "Fjord AS",
    "organizationNumber": "923609016",
    "customerNumber": 10001,
    "email": "post@fjord.no",
    "invoiceEmail": "faktura@fjord.no",
    "phoneNumber": "+47 22 00 00 00",
    "phoneNumberMobile": "",
    "postalAddress": {"addressLine1": "Storgata 1", "postalCode": "0155", "city": "Oslo"},
    "accountManager": {"id": 3},
    "isInactive": False,
}
TRIPLETEX_PRODUCT = {
    "id": 5,
    "name": "Regnskap",
    "number": "100",
    "description": "Månedlig regnskap",
    "priceExcludingVatCurrency": 1250.5,
    "vatType": {"id": 3},
    "isInactive": False,
}
TRIPLETEX_VAT_TYPE = {"id": 3, "number": "3", "name": "Utgående mva, høy sats", "percentage": 25}
TRIPLETEX_BOOKS_COMPANY = {"id": 42, "name": "Klient AS", "organizationNumber": "987654321"}
MERIT_CUSTOMER = {
    "CustomerId": "6c2f7b2a-1f3e-4c5d-9a8b-0123456789ab",
    "Name": "Ranna OÜ",
    "RegNo": "12345678",
    "Email": "info@ranna.ee",
    "PhoneNo": "+372 5555 5555",
    "PhoneNo2": "",
    "Address": "Pikk 1",
    "PostalCode": "10123",
    "City": "Tallinn",
}
MERIT_TAX = {"Id": "b9b25735-6b8e-4e8c-a1a3-3f7a5c1a2b3c", "Code": "22%", "Name": "KM 22%"}
MERIT_ITEM = {
    "ItemId": "0f6f2e7a-7b0c-4a57-9d4e-2b1f3c4d5e6f",
    "Name": "Raamatupidamine",
    "Code": "RP",
    "SalesPrice": "120.50",
    "VatTaxName": "KM 22%",
}

Parse = Callable[[list[Any]], list[Any]]
PARSERS: dict[str, tuple[dict[str, Any], Parse]] = {
    "tripletex customers": (
        TRIPLETEX_CUSTOMER,
        lambda rows: _drain(_tripletex(rows).iter_customers()),
    ),
    "tripletex customer search": (
        TRIPLETEX_CUSTOMER,
        lambda rows: (
            _tripletex(rows).search_customers(query="Fjord", page=1, page_size=25).customers
        ),
    ),
    "tripletex products": (
        TRIPLETEX_PRODUCT,
        lambda rows: _drain(_tripletex(rows).iter_products()),
    ),
    "tripletex vat types": (
        TRIPLETEX_VAT_TYPE,
        lambda rows: _drain(_tripletex(rows).iter_vat_types()),
    ),
    "tripletex books companies": (
        TRIPLETEX_BOOKS_COMPANY,
        lambda rows: _tripletex(rows).list_books_companies(),
    ),
    "merit customers": (MERIT_CUSTOMER, lambda rows: _drain(_merit(rows).iter_customers())),
    "merit vat types": (MERIT_TAX, lambda rows: _drain(_merit(rows).iter_vat_types())),
    "merit products": (MERIT_ITEM, lambda rows: _drain(_merit(rows).iter_products())),
}


@pytest.mark.parametrize("name", sorted(PARSERS))
def test_parser_maps_or_raises_integration_error(name: str) -> None:
    sample, parse = PARSERS[name]
    assert parse([sample]), "the valid sample itself must map"
    cases = 0
    crashes: list[str] = []

    @settings(
        max_examples=fuzz_budget(),
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )
    @given(rows=st.lists(mutated(sample), min_size=1, max_size=3))
    def run(rows: list[dict[str, Any]]) -> None:
        nonlocal cases
        cases += 1
        try:
            parse(rows)
        except IntegrationError:
            pass  # the integration's own error: the job shows it and can retry
        except Exception as exc:  # any other exception is the finding
            crashes.append(f"{type(exc).__name__}: {exc!s:.200} for {rows!r:.300}")
            raise

    try:
        run()
    finally:
        count("fuzz_cases", cases)
        count("fuzz_server_errors", len(crashes))
    assert not crashes


def test_fake_client_rows_reach_the_adapter() -> None:
    """The harness is live: a row the fake client returns is what the adapter maps."""
    active, _inactive_pass = _drain(_tripletex([TRIPLETEX_CUSTOMER]).iter_customers())
    assert active.name == "Fjord AS"
    assert isinstance(_tripletex([]), AccountingAdapter)
