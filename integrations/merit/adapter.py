"""`MeritAdapter`: Merit Aktiva behind uku's vendor-neutral `AccountingAdapter` interface.

The adapter maps Merit JSON to uku's domain; all HTTP, signing, retries, rate limits and error
classification live in `MeritClient` (`client.py`), the one seam to Merit.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Collection, Iterator, Sequence
from datetime import date, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

from integrations.base import (
    AccountingAdapter,
    AuthError,
    ConfigError,
    ExportedInvoice,
    ExportedRef,
    IntegrationError,
    InvoiceOut,
    RemoteCompany,
    RemoteCustomer,
    RemoteCustomerPage,
    RemoteInvoiceStatus,
    RemoteProduct,
    RemoteVatType,
    StatisticsTarget,
    StatisticValue,
)
from integrations.merit import errors, invoices
from integrations.merit import settings as merit_settings
from integrations.merit.client import MeritClient
from integrations.merit.errors import say
from integrations.merit.statistics import StatisticsReader
from integrations.merit.vendor import INFO

API_ID_FIELD = "api_id"
API_KEY_FIELD = "api_key"
_GUID = re.compile(r"^[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}$")
# The key is signed as its ASCII bytes; Merit's keys are Base64 text (44 characters). The bound
# is generous: the point is to stop a pasted sentence or half a key before anything is signed.
API_KEY_MAX_LENGTH = 512
# Merit has no paging (fact sheet §3): a list comes whole. It is read streamed
# (`MeritClient.iter_list`) and handed to the jobs in pages of this size, so their batches and
# progress stay as they are for paged vendors and memory does not grow with the list.
PAGE_SIZE = 500
# Refusals Merit gives only to an API ID it knows (the key or the licence is what is wrong).
_KNOWN_ID_REFUSALS = frozenset({errors.WRONG_SIGNATURE, errors.WRONG_LICENCE})


class MeritAdapter(AccountingAdapter):
    """Merit Aktiva API v1 for one firm connection and country instance ("ee", "fi" or "pl").

    `credentials` is `{"api_id": ..., "api_key": ...}` (cleaned again here, so a malformed API ID
    never reaches Merit even if a caller skipped `clean_credentials`). `client_options` are
    passed to `MeritClient` (tests inject `sleep`, `budget`, `backoff_base`).
    """

    key = "merit"

    _client: MeritClient | None = None

    @classmethod
    def clean_credentials(cls, raw: dict[str, str]) -> dict[str, str]:
        """Strip surrounding whitespace from the API ID and key and check their form. Returns
        `{"api_id", "api_key"}`; raises `ConfigError(details={"field": ...})` for an empty field,
        an API ID that is not a GUID, or a key with inner whitespace or non-ASCII characters
        (Merit signs its ASCII bytes). Pure: no network call."""
        raw = raw or {}
        api_id = str(raw.get(API_ID_FIELD) or "").strip()
        api_key = str(raw.get(API_KEY_FIELD) or "").strip()
        if not api_id:
            raise ConfigError(say("api_id_missing"), details={"field": API_ID_FIELD})
        if not _GUID.match(api_id):
            raise ConfigError(say("api_id_malformed"), details={"field": API_ID_FIELD})
        if not api_key:
            raise ConfigError(say("api_key_missing"), details={"field": API_KEY_FIELD})
        if (
            len(api_key) > API_KEY_MAX_LENGTH
            or not api_key.isascii()
            or any(ch.isspace() or unicodedata.category(ch).startswith("C") for ch in api_key)
        ):
            raise ConfigError(say("api_key_malformed"), details={"field": API_KEY_FIELD})
        return {API_ID_FIELD: api_id, API_KEY_FIELD: api_key}

    @property
    def client(self) -> MeritClient:
        """The `MeritClient` for the connection's country, created on first use and kept until
        `close()`. Raises `ConfigError` for bad credentials, an unknown country or a country
        without a usable address; makes no request."""
        if self._client is None:
            self._client = self._make_client(self.environment)
        return self._client

    def _make_client(self, country: str, rate_key: str | None = None) -> MeritClient:
        if country not in INFO.environment_keys:
            raise ConfigError(
                say("unknown_environment", environment=country), details={"field": "environment"}
            )
        cleaned = self.clean_credentials(self.credentials)
        return MeritClient(
            api_id=cleaned[API_ID_FIELD],
            api_key=cleaned[API_KEY_FIELD],
            country=country,
            rate_key=rate_key if rate_key is not None else self.rate_limit_key,
            on_call=self.on_call,
            **self._client_options,
        )

    def test_connection(self) -> RemoteCompany:
        """One cheap signed call, `gettaxes` (Merit has no "who am I"; the fact sheet's choice).
        Merit's API cannot name the company, so the answer says what it shows: how many tax
        rates the API ID's company has. Read-only and idempotent.

        Raises `AuthError` with the cause: wrong API ID, wrong key, clock skew, licence, or an
        API ID unknown here; for the last, the other country instances are asked once each, so
        credentials of another country say "choose Finland" instead of "unknown"."""
        try:
            taxes = self.client.post_list("gettaxes")
        except AuthError as exc:
            if exc.details.get("code") != errors.UNKNOWN_API_ID:
                raise
            found = self._country_that_knows_the_api_id()
            if found is None:
                raise
            raise AuthError(
                say("wrong_country", found=found, country=self.environment),
                details={**exc.details, "code": "wrong-country", "country": found},
            ) from None
        return RemoteCompany(
            id="",
            name=say("connected", count=len(taxes)),
        )

    def _country_that_knows_the_api_id(self) -> str | None:
        """The first other configured country whose instance accepts these credentials."""
        for country in INFO.environment_keys:
            if country == self.environment or not merit_settings.base_url(country):
                continue
            try:
                probe = self._make_client(country, rate_key=f"{self.rate_limit_key}:{country}")
            except ConfigError:
                continue
            try:
                response = probe.send("POST", "/gettaxes", json={}, idempotent=True, attempts=1)
            except IntegrationError:
                continue
            finally:
                probe.close()
            # Known there: accepted, rate-limited (Merit counts only known API IDs), or refused
            # for the key or the licence, which Merit checks only for an API ID it knows.
            refusal = response.text.strip()
            if (
                response.ok
                or response.status == 429
                or (response.status == 401 and refusal in _KNOWN_ID_REFUSALS)
            ):
                return country
        return None

    def iter_customers(
        self, *, changed_since: datetime | None = None
    ) -> Iterator[list[RemoteCustomer]]:
        """`getcustomers`, every customer in one answer (Merit has no paging), streamed and
        handed out in pages of `PAGE_SIZE` (`MeritClient.iter_list`: the answer is checked
        whole first, so a cut one fails before the first page, and only one page of decoded
        rows is held at a time). `changed_since` maps to Merit's `ChangedDate` (a date: customers changed or
        created on or after it), one day earlier than asked since Merit's day boundary and time
        zone are not documented: reading a day too much is harmless, missing one is not.
        Merit has no inactive flag for customers, so every one is active. Read-only."""
        body: dict[str, Any] = {}
        if changed_since is not None:
            day = timezone.localtime(changed_since).date() - timedelta(days=1)
            body["ChangedDate"] = day.strftime("%Y%m%d")
        country = self.environment.upper()
        for rows in self.client.iter_list("getcustomers", body, size=PAGE_SIZE):
            yield [_customer(row, country) for row in rows]

    def search_customers(self, *, query: str, page: int, page_size: int) -> RemoteCustomerPage:
        """One page of `getcustomers` filtered on Merit's side: a query of digits (spaces and
        dashes allowed) is a registry code (`RegNo`, exact), anything else a name (`Name`, broad
        match); empty lists every customer. Merit has no paging, so the filtered answer is read
        streamed and only the asked page kept. Read-only and idempotent."""
        page, page_size = max(1, page), max(1, min(page_size, 100))
        text = query.strip()
        body: dict[str, Any] = {}
        if text and re.fullmatch(r"[\d\s-]+", text):
            body["RegNo"] = re.sub(r"[\s-]", "", text)
        elif text:
            body["Name"] = text
        start = (page - 1) * page_size
        country = self.environment.upper()
        # Streamed: only the asked page's rows are kept (an empty query lists every customer).
        kept: list[RemoteCustomer] = []
        total = 0
        for rows in self.client.iter_list("getcustomers", body, size=PAGE_SIZE):
            first = max(0, start - total)
            last = max(0, start + page_size - total)
            kept.extend(_customer(row, country) for row in rows[first:last])
            total += len(rows)
        return RemoteCustomerPage(
            customers=kept,
            page=page,
            page_size=page_size,
            has_next=total > start + page_size,
            total=total,
        )

    def get_customer(self, remote_id: str) -> RemoteCustomer | None:
        """`getcustomers` by `Id` (a GUID; anything else is no customer, without a call), or
        `None` when Merit has none. Read-only and idempotent."""
        if not _GUID.match(remote_id or ""):
            return None
        rows = self.client.post_list("getcustomers", {"Id": remote_id})
        wanted = remote_id.lower()
        row = next((r for r in rows if str(r.get("CustomerId") or "").lower() == wanted), None)
        return _customer(row, self.environment.upper()) if row is not None else None

    def iter_vat_types(self) -> Iterator[list[RemoteVatType]]:
        """`gettaxes`: every tax rate, inactive ones too (old invoices and items use them). The
        `number` is Merit's tax code ("24%", "MV"); the id is the `TaxId` of invoice rows."""
        rows = self.client.post_list("gettaxes")
        yield [
            RemoteVatType(
                id=str(row.get("Id") or ""),
                number=str(row.get("Code") or "")[:16],
                name=str(row.get("Name") or "").strip(),
                percentage=_decimal(row.get("TaxPct")),
            )
            for row in rows
            if row.get("Id")
        ]

    def iter_products(self) -> Iterator[list[RemoteProduct]]:
        """`getitems`, every item. Merit gives an item's VAT rate by name (`VatTaxName`), so
        `gettaxes` is read first to find its id (an active rate wins over an inactive namesake).
        The items are streamed in pages of `PAGE_SIZE`, as customers are. Merit has no inactive
        flag for items. Read-only."""
        taxes = self.client.post_list("gettaxes")
        tax_ids: dict[str, str] = {}
        for tax in sorted(taxes, key=lambda t: bool(t.get("NonActive")), reverse=True):
            for name in (tax.get("Name"), tax.get("Code")):
                if name:
                    tax_ids[str(name).strip().casefold()] = str(tax.get("Id") or "")
        for rows in self.client.iter_list("getitems", size=PAGE_SIZE):
            yield [
                RemoteProduct(
                    id=str(row.get("ItemId") or ""),
                    name=str(row.get("Name") or "").strip(),
                    number=str(row.get("Code") or "").strip(),
                    description="",
                    unit_price=_decimal(row.get("SalesPrice")),
                    vat_type_id=tax_ids.get(
                        str(row.get("VatTaxName") or "").strip().casefold(), ""
                    ),
                )
                for row in rows
                if row.get("ItemId")
            ]

    def read_statistics(
        self, target: StatisticsTarget, period: date, keys: Collection[str]
    ) -> dict[str, StatisticValue]:
        """Count the statistics `keys` (from `INFO.statistics`) of the month of `period` in the
        Merit company these credentials open: Merit's API works per company with that
        company's API ID and key and has no accountant access, so a client's statistics need a
        connection holding the client's own company's credentials, and `target` is not used.

        One call per source of `keys` (a month fits every date window; see
        `integrations.merit.statistics`), `PeriodStart`/`PeriodEnd` being the month's first
        and last day (Merit's are inclusive). Raises `ConfigError` for an unknown key (before
        any call), `AuthError` for refused credentials, `RateLimited`/`TransientError`
        (malformed answers too) when worth retrying. Read-only and idempotent."""
        return StatisticsReader(self.client).read(period, keys)

    def export_invoice(self, invoice: InvoiceOut) -> ExportedInvoice:
        """One `sendinvoice` with `InvoiceNo` = `invoice.reference` and the totals by Merit's
        rounding rule (details in `integrations.merit.invoices.export_invoice`). Before it,
        once per credential every few minutes: `gettaxes`, and `getitems` when a line has a product. Raises
        `ConfigError` with `details["fix"]` ("link", "vat_type", "validation") for what a clerk
        must fix, `TransientError` with `details["outcome"] = "unknown"` when the invoice may
        exist (never resent)."""
        return invoices.export_invoice(self.client, invoices.export_cache(self.client), invoice)

    def find_exported_invoice(self, invoice: InvoiceOut) -> ExportedInvoice | None:
        """The customer's invoice numbered `invoice.reference` (one `getinvoices` window
        around the issue date), or `None`. Read-only."""
        return invoices.find_exported_invoice(self.client, invoice)

    def invoice_statuses(self, exported: Sequence[ExportedRef]) -> dict[str, RemoteInvoiceStatus]:
        """`getinvoices` over 3-month windows from the oldest export to today (Merit's time
        zone): paid, unpaid with the outstanding amount, or credited. Read-only."""
        return invoices.invoice_statuses(self.client, exported, self.environment)

    def close(self) -> None:
        """Close the HTTP connections. Safe to call twice."""
        if self._client is not None:
            self._client.close()
            self._client = None


def _decimal(value: Any) -> Decimal:
    """A Merit number (sometimes sent as text) as a Decimal; 0 when missing or unreadable."""
    try:
        return Decimal(str(value)) if value not in (None, "") else Decimal("0")
    except InvalidOperation:
        return Decimal("0")


def _customer(row: dict[str, Any], country: str) -> RemoteCustomer:
    """A `getcustomers` row as uku's `RemoteCustomer`. `RegNo` is the company's registry code in
    the instance's country (Estonian registrikood, Finnish Y-tunnus, Polish NIP or KRS)."""
    number = str(row.get("RegNo") or "").strip()
    return RemoteCustomer(
        id=str(row.get("CustomerId") or ""),
        name=str(row.get("Name") or "").strip(),
        organisation_number=number,
        # The registry code's country is the instance's (Merit Estonia keeps Estonian codes),
        # not the customer's address country. Set without a code too: a private person in
        # Merit Estonia is Estonian, not of the firm's country (the jobs' fallback).
        registry_country=country,
        email=str(row.get("Email") or "").strip(),
        phone=str(row.get("PhoneNo") or row.get("PhoneNo2") or "").strip(),
        address_line=str(row.get("Address") or "").strip(),
        postal_code=str(row.get("PostalCode") or "").strip(),
        city=str(row.get("City") or "").strip(),
    )
