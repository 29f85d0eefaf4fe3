"""Bad vendor answers (issue 14, section 4): every parser of a decoded vendor answer maps it to
uku's dataclasses or raises the integration's own error (`integrations.base.IntegrationError`),
never another exception.

Each case starts from a valid sample row as the vendor sends it and mutates it: fields dropped,
set to null, to another JSON type, to huge or Unicode strings. The adapters read the rows from
a fake client (the HTTP layer and its own malformed-JSON handling are covered elsewhere), so what
is exercised is exactly the mapping code. Counted as `fuzz_cases` / `fuzz_server_errors`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from integrations.base import (
    AccountingAdapter,
    ExportedRef,
    IntegrationError,
    InvoiceLineOut,
    InvoiceOut,
    StatisticsTarget,
    TransientError,
)
from integrations.merit.adapter import MeritAdapter
from integrations.merit.client import MeritClient
from integrations.merit.statistics import STATISTIC_KEYS as MERIT_STATISTIC_KEYS
from integrations.tripletex.adapter import TripletexAdapter
from integrations.tripletex.client import TripletexClient
from integrations.tripletex.statistics import STATISTIC_KEYS as TRIPLETEX_STATISTIC_KEYS
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

    def iter_list(self, *args: Any, **kwargs: Any) -> Iterator[list[Any]]:
        yield self.rows

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


# --- Orders, invoices, statistics and Merit's lists, through the vendor clients ---------------
#
# These parsers read through the real `TripletexClient` / `MeritClient` list helpers (paging,
# windows, the row guard), so the fake sits one layer lower: `TripletexClient.get_raw` / `.post`
# and `MeritClient.post` / `.post_stream` / `.request` answer the fuzzed rows for the endpoint
# under test and a fixed valid answer for the lookups an export makes first.

TX_TOKEN = "eyJ0b2tlbiI6InRlc3QifQ=="
MERIT_ID = "6c2f7b2a-1f3e-4c5d-9a8b-0123456789ab"
MERIT_KEY = "c2VjcmV0LWtleQ=="
SIH_ID = "9d0c7b7e-3a1f-4e0b-8d7c-5f4e3d2c1b0a"
PERIOD = date(2026, 11, 1)

TRIPLETEX_ORDER = {"id": 900, "number": "1001", "reference": "F-1"}
TRIPLETEX_INVOICE = {
    "id": 500,
    "invoiceNumber": 77,
    "amountOutstanding": 0,
    "isCredited": False,
    "isCreditNote": False,
    "creditedInvoice": None,
    "orders": [{"id": 900}],
}
TRIPLETEX_STATISTICS_ROW = {
    "id": 1,
    "name": "Utgående faktura",
    "date": "2026-11-05",
    "invoiceDate": "2026-11-05",
    "postedDate": "2026-11-05",
    "fromDate": "2026-11-01",
    "toDate": "2026-11-30",
    "isCreditNote": False,
    "voucherType": {"id": 1},
    "document": {"id": 4},
    "attachment": None,
    "ediDocument": None,
}
MERIT_INVOICE = {
    "SIHId": SIH_ID,
    "InvoiceNo": "F-1",
    "CustomerId": MERIT_CUSTOMER["CustomerId"],
    "TotalSum": 125,
    "PaidAmount": 0,
    "Paid": False,
    "DocumentDate": "2026-11-05T00:00:00",
}
MERIT_EXPORT_ANSWER = {"InvoiceId": SIH_ID, "InvoiceNo": "F-1"}
MERIT_STATISTICS_ROW = {
    "SIHId": SIH_ID,
    "PIHId": SIH_ID,
    "GLBId": SIH_ID,
    "PHId": SIH_ID,
    "DocumentDate": "2026-11-05T00:00:00",
    "BatchDate": "2026-11-05T00:00:00",
    "Entries": [{"TaxId": MERIT_TAX["Id"]}],
}
MERIT_TAXES = [{"Id": MERIT_TAX["Id"], "Code": "22", "TaxPct": 22, "NonActive": False}]


def _invoice_out(vat_code: str, rate: int) -> InvoiceOut:
    line = InvoiceLineOut(
        description="Regnskap",
        quantity=Decimal(1),
        unit_price=Decimal(100),
        discount_percent=Decimal(0),
        net_amount=Decimal(100),
        vat_amount=Decimal(rate),
        vat_percentage=Decimal(rate),
        vat_code=vat_code,
    )
    return InvoiceOut(
        reference="F-1",
        customer_id="11" if vat_code == "3" else MERIT_CUSTOMER["CustomerId"],
        issue_date=PERIOD,
        due_date=PERIOD + timedelta(days=14),
        currency="NOK" if vat_code == "3" else "EUR",
        lines=(line,),
        net_total=Decimal(100),
        vat_total=Decimal(rate),
        gross_total=Decimal(100 + rate),
    )


class VendorAnswers:
    """What the patched vendor clients answer: `fuzzed` for the endpoint under test, `fixed`
    (a valid answer) for the others."""

    def __init__(self) -> None:
        self.rows: list[Any] = []
        self.fixed: dict[str, Any] = {}

    def tripletex_get_raw(self, client: Any, path: str, params: Any = None, **kw: Any) -> Any:
        if path in self.fixed:
            return {"values": self.fixed[path]}
        return {"values": self.rows, "value": self.rows[0] if self.rows else None}

    def tripletex_post(self, client: Any, path: str, json: Any = None, params: Any = None) -> Any:
        return self.rows[0] if self.rows else None

    def merit_post(self, client: Any, endpoint: str, body: Any = None) -> Any:
        if endpoint in self.fixed:
            return self.fixed[endpoint]
        if endpoint == "getinvoice":
            return self.rows[0] if self.rows else None
        return self.rows

    def merit_request(self, client: Any, method: str, path: str, **kw: Any) -> Any:
        return SimpleNamespace(data=self.rows[0] if self.rows else None)


ANSWERS = VendorAnswers()


@pytest.fixture
def vendor_answers(monkeypatch: pytest.MonkeyPatch, settings: Any) -> VendorAnswers:
    settings.TRIPLETEX_TEST_URL = "http://127.0.0.1:9"
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = "consumer"
    for country in ("EE", "FI", "PL"):
        setattr(settings, f"MERIT_{country}_URL", "http://127.0.0.1:9")
    monkeypatch.setattr(
        TripletexClient, "get_raw", lambda self, *a, **k: ANSWERS.tripletex_get_raw(self, *a, **k)
    )
    monkeypatch.setattr(
        TripletexClient, "post", lambda self, *a, **k: ANSWERS.tripletex_post(self, *a, **k)
    )
    monkeypatch.setattr(
        MeritClient, "post", lambda self, *a, **k: ANSWERS.merit_post(self, *a, **k)
    )
    # A streamed list answers what `post` would (the decoded answer, not a `StreamedArray`),
    # so the client's row guard sees the fuzzed rows.
    monkeypatch.setattr(
        MeritClient, "post_stream", lambda self, *a, **k: ANSWERS.merit_post(self, *a, **k)
    )
    monkeypatch.setattr(
        MeritClient, "request", lambda self, *a, **k: ANSWERS.merit_request(self, *a, **k)
    )
    ANSWERS.rows, ANSWERS.fixed = [], {}
    return ANSWERS


def _tx() -> TripletexAdapter:
    return TripletexAdapter(credentials={"employee_token": TX_TOKEN}, environment="test")


def _mr() -> MeritAdapter:
    return MeritAdapter(credentials={"api_id": MERIT_ID, "api_key": MERIT_KEY}, environment="ee")


def _tx_export() -> Any:
    ANSWERS.fixed = {"/ledger/vatType": [{"id": 3, "number": "3", "percentage": 25}],
                     "/ledger/account": []}  # fmt: skip
    return _tx().export_invoice(_invoice_out("3", 25))


def _mr_export() -> Any:
    ANSWERS.fixed = {"gettaxes": MERIT_TAXES}
    return _mr().export_invoice(_invoice_out("22", 22))


_TX_REF = [ExportedRef(remote_id="900", issue_date=PERIOD, remote_invoice_id="500")]
_MR_REF = [ExportedRef(remote_id=SIH_ID, issue_date=PERIOD)]

CLIENT_PARSERS: dict[str, tuple[dict[str, Any], Callable[[], Any]]] = {
    "tripletex order (export answer)": (TRIPLETEX_ORDER, _tx_export),
    "tripletex orders (find exported)": (
        TRIPLETEX_ORDER,
        lambda: _tx().find_exported_invoice(_invoice_out("3", 25)),
    ),
    "tripletex invoices (status)": (TRIPLETEX_INVOICE, lambda: _tx().invoice_statuses(_TX_REF)),
    "tripletex statistics": (
        TRIPLETEX_STATISTICS_ROW,
        lambda: _tx().read_statistics(
            StatisticsTarget(customer_id="11", books_company_id="42"),
            PERIOD,
            sorted(TRIPLETEX_STATISTIC_KEYS),
        ),
    ),
    "merit invoice (export answer)": (MERIT_EXPORT_ANSWER, _mr_export),
    "merit invoices (find exported)": (
        MERIT_INVOICE,
        lambda: _mr().find_exported_invoice(_invoice_out("22", 22)),
    ),
    "merit invoices (status)": (MERIT_INVOICE, lambda: _mr().invoice_statuses(_MR_REF)),
    "merit statistics": (
        MERIT_STATISTICS_ROW,
        lambda: _mr().read_statistics(
            StatisticsTarget(customer_id=""), PERIOD, sorted(MERIT_STATISTIC_KEYS)
        ),
    ),
    "merit customer search": (
        MERIT_CUSTOMER,
        lambda: _mr().search_customers(query="Ranna", page=1, page_size=25).customers,
    ),
    "merit customer by id": (
        MERIT_CUSTOMER,
        lambda: _mr().get_customer(MERIT_CUSTOMER["CustomerId"]),
    ),
    "merit connection test (taxes)": (MERIT_TAX, lambda: _mr().test_connection()),
    # The list readers of PARSERS again, here through the real clients (their row guard).
    "tripletex customers (client)": (TRIPLETEX_CUSTOMER, lambda: _drain(_tx().iter_customers())),
    "tripletex products (client)": (TRIPLETEX_PRODUCT, lambda: _drain(_tx().iter_products())),
    "tripletex vat types (client)": (TRIPLETEX_VAT_TYPE, lambda: _drain(_tx().iter_vat_types())),
    "tripletex books companies (client)": (
        TRIPLETEX_BOOKS_COMPANY,
        lambda: _tx().list_books_companies(),
    ),
    "merit customers (client)": (MERIT_CUSTOMER, lambda: _drain(_mr().iter_customers())),
    "merit vat types (client)": (MERIT_TAX, lambda: _drain(_mr().iter_vat_types())),
    "merit products (client)": (MERIT_ITEM, lambda: _drain(_mr().iter_products())),
}
# Single-object answers: a junk answer is "created or not, unknown" (looked up, never resent).
SINGLE_ANSWERS = {"tripletex order (export answer)", "merit invoice (export answer)"}


def _fuzz(sample: dict[str, Any], call: Callable[[], Any], rows: Any) -> None:
    cases = 0
    crashes: list[str] = []

    @settings(
        max_examples=fuzz_budget(),
        deadline=None,
        database=None,
        suppress_health_check=[
            HealthCheck.too_slow,
            HealthCheck.data_too_large,
            HealthCheck.function_scoped_fixture,
        ],
    )
    @given(answer=rows)
    def run(answer: list[Any]) -> None:
        nonlocal cases
        cases += 1
        ANSWERS.rows = answer
        try:
            call()
        except IntegrationError:
            pass
        except Exception as exc:  # any other exception is the finding
            crashes.append(f"{type(exc).__name__}: {exc!s:.200} for {answer!r:.300}")
            raise

    try:
        run()
    finally:
        count("fuzz_cases", cases)
        count("fuzz_server_errors", len(crashes))
    assert not crashes


@pytest.mark.parametrize("name", sorted(CLIENT_PARSERS))
def test_vendor_answers_map_or_raise_integration_error(vendor_answers, name: str) -> None:
    sample, call = CLIENT_PARSERS[name]
    vendor_answers.rows = [sample]
    assert call() is not None, "the valid sample itself must map"
    _fuzz(sample, call, st.lists(mutated(sample), min_size=1, max_size=3))


@pytest.mark.parametrize("name", sorted(CLIENT_PARSERS))
def test_non_object_rows_are_a_malformed_answer(vendor_answers, name: str) -> None:
    """A list row that is not an object (a number, a string, null, a list) is the vendor's
    malformed answer: the integration's `TransientError` with kind "malformed" (retried later),
    never a crash and never silently skipped into a wrong count. A single-object answer (an
    export's) that is not an object is an unknown outcome, looked up before any resend."""
    sample, call = CLIENT_PARSERS[name]
    checked = 0
    for junk in (None, 7, "row", [sample], True, 1.5):
        vendor_answers.rows = [junk, sample] if name in SINGLE_ANSWERS else [sample, junk]
        with pytest.raises(TransientError) as refused:
            call()
        details = refused.value.details
        if name in SINGLE_ANSWERS:
            assert details.get("outcome") == "unknown", (name, junk, details)
        else:
            assert details.get("kind") == "malformed", (name, junk, details)
        checked += 1
    count("fuzz_cases", checked)
    count("fuzz_server_errors", 0)


NESTED_JUNK = [{"id": {"x": 1}}, {"id": [900]}, {"id": None}, {"id": True}, 900, "900", None]


def test_nested_ids_of_any_type_never_crash_the_status_read(vendor_answers) -> None:
    """The order references inside an invoice row and the order ids of the existence check are
    compared with ids uku keeps: an id of another JSON type (an object, a list) matches nothing
    (before: `TypeError: unhashable type`)."""
    checked = 0
    for junk in NESTED_JUNK:
        for orders in ([junk], junk):
            row = {**TRIPLETEX_INVOICE, "id": 501, "orders": orders}
            vendor_answers.rows = [row, {"id": [1]}, {"id": {"a": 1}}]
            with contextlib.suppress(IntegrationError):
                _tx().invoice_statuses(_TX_REF)
            checked += 1
    count("fuzz_cases", checked)
    count("fuzz_server_errors", 0)


@pytest.mark.parametrize("amount", ["NaN", float("nan"), "Infinity", float("-inf"), "sNaN"])
@pytest.mark.parametrize("name", ["tripletex invoices (status)", "merit invoices (status)"])
def test_an_amount_that_is_not_a_number_is_a_malformed_answer(
    vendor_answers, name: str, amount: Any
) -> None:
    """NaN passes `Decimal.quantize` quietly and fails the first comparison (before: a crash
    with `decimal.InvalidOperation`); infinities and NaN are malformed answers."""
    sample, call = CLIENT_PARSERS[name]
    field_ = "amountOutstanding" if name.startswith("tripletex") else "PaidAmount"
    vendor_answers.rows = [{**sample, field_: amount}]
    with pytest.raises(TransientError) as refused:
        call()
    assert refused.value.details.get("kind") == "malformed"
    count("fuzz_cases")
    count("fuzz_server_errors", 0)
