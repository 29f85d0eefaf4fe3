"""Work statistics from a Tripletex client company: the catalogue and the counting.

The catalogue (`STATISTICS`) is plain data for `VendorInfo.statistics`: importing this module
makes no request and needs no adapter. `StatisticsReader` counts one client-month inside one
client company (accountant access, fact sheet 2.3 and 6.7):

* **One paged pass per source.** Every statistic names the endpoint it is read from; the keys
  asked for are grouped by source and each source is read once, at `PAGE_SIZE`, with `fields`
  cut to what those keys need. Sources of keys not asked for are not read. `fullResultSize` is
  never used (deprecated, inexact): pages are read until one comes back short.
* **Half-open months.** A month is `[1st, 1st of next month)`: `dateTo`/`invoiceDateTo` are
  exclusive on Tripletex (fact sheet 3.3). Rows are still checked against the month on our side,
  so an endpoint that read its `To` inclusively could not add a row of the next month.
* **Voucher types by name.** Their ids differ per company (fact sheet 6.7, quirk 19), so the
  types of a company are listed once (`GET /ledger/voucherType`) and matched by exact name; the
  caller keeps the result per company (the adapter caches it per instance).
* **Refusals.** A 403 on one source, while the company itself still opens (`>whoAmI` as that
  company answers), leaves that source's statistics missing with the reason; a company that
  does not open at all raises `BooksAccessLost` (for that client only). Malformed answers are a
  `TransientError`.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterator, Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from django.utils.translation import gettext_lazy as _

from integrations.base import (
    BooksAccessLost,
    ConfigError,
    ExpiringCache,
    Statistic,
    StatisticValue,
    TransientError,
)
from integrations.tripletex.errors import say

if TYPE_CHECKING:
    from integrations.tripletex.client import TripletexClient

PAGE_SIZE = 1000  # Tripletex's default `count`; no maximum is published (fact sheet 3.3)

VOUCHERS = "/ledger/voucher"
INVOICES = "/invoice"
SUPPLIER_INVOICES = "/supplierInvoice"
POSTINGS = "/ledger/posting"
BANK_STATEMENTS = "/bank/statement"
BANK_TRANSACTIONS = "/bank/statement/transaction"
VOUCHER_TYPES = "/ledger/voucherType"
WHOAMI = "/token/session/>whoAmI"

# Tripletex's own names of the standard voucher types (fact sheet 6.7: the 17 types of a real
# company). Matched exactly: the `name` filter is "containing".
SALE_TYPE = "Utgående faktura"
PURCHASE_TYPE = "Leverandørfaktura"
PAYROLL_TYPE = "Lønnsbilag"
TRAVEL_TYPE = "Reiseregning"
OUTLAY_TYPE = "Ansattutlegg"

STATISTICS: tuple[Statistic, ...] = (
    Statistic(
        "sale_entries",
        _("Sale entries"),
        _("Vouchers of the voucher type “Utgående faktura” (outgoing invoice) dated in the month."),
        VOUCHERS,
    ),
    Statistic(
        "purchase_entries",
        _("Purchase entries"),
        _(
            "Vouchers of the voucher type “Leverandørfaktura” (supplier invoice) dated in the "
            "month, supplier invoices booked as plain vouchers included."
        ),
        VOUCHERS,
    ),
    Statistic(
        "bank_transactions",
        _("Bank transactions"),
        _(
            "Transactions of every bank statement overlapping the month, counted by posted "
            "date inside the month."
        ),
        BANK_STATEMENTS,
    ),
    Statistic(
        "documents",
        _("Documents"),
        _("Vouchers dated in the month with a document, an attachment or an EHF document."),
        VOUCHERS,
    ),
    Statistic(
        "outgoing_invoices",
        _("Outgoing invoices"),
        _("Charged outgoing invoices dated in the month, credit notes not included."),
        INVOICES,
        common=False,
    ),
    Statistic(
        "credit_notes",
        _("Credit notes"),
        _("Credit notes dated in the month."),
        INVOICES,
        common=False,
    ),
    Statistic(
        "supplier_invoices",
        _("Supplier invoices"),
        _(
            "Supplier invoices registered as such in Tripletex, dated in the month (those "
            "booked as plain vouchers count only as purchase entries)."
        ),
        SUPPLIER_INVOICES,
        common=False,
    ),
    Statistic(
        "payroll_vouchers",
        _("Payroll vouchers"),
        _("Vouchers of the voucher type “Lønnsbilag” (payroll) dated in the month."),
        VOUCHERS,
        common=False,
    ),
    Statistic(
        "manual_journal_entries",
        _("Manual journal entries"),
        _("Vouchers dated in the month that have no voucher type (entered by hand)."),
        VOUCHERS,
        common=False,
    ),
    Statistic(
        "travel_expenses",
        _("Travel expenses"),
        _(
            "Vouchers of the voucher type “Reiseregning” (travel expense report) dated in the month."
        ),
        VOUCHERS,
        common=False,
    ),
    Statistic(
        "employee_expenses",
        _("Employee expenses"),
        _("Vouchers of the voucher type “Ansattutlegg” (employee outlay) dated in the month."),
        VOUCHERS,
        common=False,
    ),
    Statistic(
        "postings",
        _("Postings"),
        _("Posting lines dated in the month, system-generated VAT lines included."),
        POSTINGS,
        common=False,
    ),
    Statistic(
        "all_vouchers",
        _("All vouchers"),
        _("Every voucher dated in the month, of any voucher type or none, unposted ones included."),
        VOUCHERS,
        common=False,
    ),
)
STATISTIC_KEYS = frozenset(s.key for s in STATISTICS)
SOURCES: dict[str, str] = {s.key: s.source for s in STATISTICS}

# The voucher statistics that are "vouchers of one type", by that type's name.
TYPED_VOUCHER_KEYS: dict[str, str] = {
    "sale_entries": SALE_TYPE,
    "purchase_entries": PURCHASE_TYPE,
    "payroll_vouchers": PAYROLL_TYPE,
    "travel_expenses": TRAVEL_TYPE,
    "employee_expenses": OUTLAY_TYPE,
}

# A company's voucher types: exact name -> the ids of the types with that name.
VoucherTypes = dict[str, frozenset[int]]
Counts = dict[str, StatisticValue]

#: How long a company's voucher types are reused in this process. A reload runs each
#: client-month as its own Celery task with its own adapter; without a cache shared across
#: adapters, 12 months of one client would list the same company's voucher types 12 times.
#: Tripletex's voucher types are its own fixed list (the ids differ per company, the set does
#: not change under a running reload), so a few minutes is safe; a reload later than that lists
#: them again.
VOUCHER_TYPES_TTL_SECONDS = 15 * 60


# Company voucher types by "credential owner:company id", shared by every adapter of this
# process; one listing per company at a time.
_voucher_types: ExpiringCache[VoucherTypes] = ExpiringCache(VOUCHER_TYPES_TTL_SECONDS)


#: How long a company's bank statement list is reused in this process. The list has no date
#: filter, so every month of a reload would list the same statements again (12 calls per
#: client instead of 1). A statement imported meanwhile is seen once the entry expires; a
#: reload's months run within minutes of each other.
STATEMENT_LIST_TTL_SECONDS = 5 * 60

StatementSpan = tuple[int, date | None, date | None]
# [(statement id, from, to)] by "credential owner:company id"; one listing per company at a
# time, so parallel months of one company wait for the first one's list.
_statement_lists: ExpiringCache[list[StatementSpan]] = ExpiringCache(STATEMENT_LIST_TTL_SECONDS)


def clear_statistics_caches() -> None:
    """Forget every company's voucher types and bank statement lists in this process."""
    _voucher_types.clear()
    _statement_lists.clear()


def month_range(period: date) -> tuple[date, date]:
    """The half-open month of `period`: (its first day, the first day of the next month)."""
    first = period.replace(day=1)
    following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
    return first, following


def check_keys(keys: Collection[str]) -> list[str]:
    """`keys` without duplicates, in order; `ConfigError` naming the first unknown one."""
    wanted = list(dict.fromkeys(keys))
    for key in wanted:
        if key not in STATISTIC_KEYS:
            raise ConfigError(
                say("statistic_unknown", statistic=str(key)[:40]),
                details={"statistic": str(key)[:40]},
            )
    return wanted


@dataclass
class StatisticsReader:
    """Counts statistics of one client company (`books`: a `for_company` client).

    `owner` names the credential (a hash of it, never the credential): readers of one owner
    share the company's voucher types and bank statement list in this process (for
    `VOUCHER_TYPES_TTL_SECONDS` and `STATEMENT_LIST_TTL_SECONDS`); a reader without one lists
    them itself. `read` is read-only and idempotent."""

    books: TripletexClient
    owner: str | None = None
    _reachable: bool = False

    def read(self, period: date, keys: Collection[str]) -> Counts:
        """One `StatisticValue` per key of `keys` for the month of `period`. Raises
        `ConfigError` (unknown key), `BooksAccessLost` (the company does not open),
        `AuthError`, `RateLimited`, `TransientError`."""
        wanted = check_keys(keys)
        first, following = month_range(period)
        by_source: dict[str, list[str]] = {}
        for key in wanted:
            by_source.setdefault(SOURCES[key], []).append(key)
        values: Counts = {}
        for source, source_keys in by_source.items():
            try:
                values.update(_READERS[source](self, first, following, source_keys))
            except BooksAccessLost as exc:
                if not self._only_endpoint_refused(exc):
                    raise
                reason = say("statistic_refused", path=source)
                values.update({key: StatisticValue(key, None, reason) for key in source_keys})
        return {key: values[key] for key in wanted}

    # --- Sources -------------------------------------------------------------------------------

    def _vouchers(self, first: date, following: date, keys: list[str]) -> Counts:
        typed = {key: TYPED_VOUCHER_KEYS[key] for key in keys if key in TYPED_VOUCHER_KEYS}
        out: Counts = {}
        type_ids: dict[str, frozenset[int]] = {}
        if typed:
            known = self._voucher_types()
            for key, name in typed.items():
                if known.get(name):
                    type_ids[key] = known[name]
                else:
                    out[key] = StatisticValue(key, None, say("voucher_type_missing", name=name))
        params: dict[str, Any] = {"dateFrom": first.isoformat(), "dateTo": following.isoformat()}
        if all(key in typed for key in keys):
            # Only "vouchers of type X" asked for: let Tripletex filter, fewer rows to page.
            wanted_ids = sorted(set().union(*type_ids.values())) if type_ids else []
            if not wanted_ids:
                return out
            params["typeId"] = ",".join(str(i) for i in wanted_ids)
        fields = ["id", "date", "voucherType(id)"]
        if "documents" in keys:
            fields += ["document(id)", "attachment(id)", "ediDocument(id)"]
        counts = dict.fromkeys(keys, 0)
        for row in self._rows(VOUCHERS, params, fields, "date", first, following):
            type_id = _ref_id(row.get("voucherType"), VOUCHERS)
            for key, ids in type_ids.items():
                counts[key] += type_id in ids
            if "documents" in counts:
                counts["documents"] += any(
                    _ref_id(row.get(name), VOUCHERS) is not None
                    for name in ("document", "attachment", "ediDocument")
                )
            if "manual_journal_entries" in counts:
                counts["manual_journal_entries"] += type_id is None
            if "all_vouchers" in counts:
                counts["all_vouchers"] += 1
        for key in keys:
            out.setdefault(key, StatisticValue(key, Decimal(counts[key])))
        return out

    def _invoices(self, first: date, following: date, keys: list[str]) -> Counts:
        params = {"invoiceDateFrom": first.isoformat(), "invoiceDateTo": following.isoformat()}
        fields = ["id", "invoiceDate", "isCreditNote"]
        credit = plain = 0
        for row in self._rows(INVOICES, params, fields, "invoiceDate", first, following):
            flag = row.get("isCreditNote")
            if not isinstance(flag, bool):
                raise _malformed(INVOICES)
            credit += flag
            plain += not flag
        found = {"outgoing_invoices": plain, "credit_notes": credit}
        return {key: StatisticValue(key, Decimal(found[key])) for key in keys}

    def _supplier_invoices(self, first: date, following: date, keys: list[str]) -> Counts:
        params = {"invoiceDateFrom": first.isoformat(), "invoiceDateTo": following.isoformat()}
        rows = self._rows(
            SUPPLIER_INVOICES, params, ["id", "invoiceDate"], "invoiceDate", first, following
        )
        total = sum(1 for _row in rows)
        return {key: StatisticValue(key, Decimal(total)) for key in keys}

    def _postings(self, first: date, following: date, keys: list[str]) -> Counts:
        params = {"dateFrom": first.isoformat(), "dateTo": following.isoformat()}
        total = sum(
            1 for _row in self._rows(POSTINGS, params, ["id", "date"], "date", first, following)
        )
        return {key: StatisticValue(key, Decimal(total)) for key in keys}

    def _bank_transactions(self, first: date, following: date, keys: list[str]) -> Counts:
        """Statements have no date filter and a period that need not be a calendar month, so
        every statement is listed (few rows: about one per account and month) and those
        overlapping the month (`fromDate` before the next month, `toDate`, taken as inclusive,
        on or after the 1st) are read for their transactions, one pass each: the transaction
        list has no date filter either and needs `bankStatementId`."""
        overlapping = [
            statement_id
            for statement_id, starts, ends in self._statements()
            if (starts is None or starts < following) and (ends is None or ends >= first)
        ]
        total = 0
        counted: set[int] = set()
        for statement_id in overlapping:
            for row in self.books.iter_values(
                BANK_TRANSACTIONS,
                {"bankStatementId": statement_id},
                fields="id,postedDate",
                page_size=PAGE_SIZE,
            ):
                transaction_id = _row_id(row, BANK_TRANSACTIONS)
                posted = _date(row.get("postedDate"), BANK_TRANSACTIONS)
                if transaction_id in counted or posted is None or not first <= posted < following:
                    continue
                counted.add(transaction_id)
                total += 1
        return {key: StatisticValue(key, Decimal(total)) for key in keys}

    # --- Helpers -------------------------------------------------------------------------------

    def _statements(self) -> list[StatementSpan]:
        """The company's bank statements (id, from, to), listed once per company for
        `STATEMENT_LIST_TTL_SECONDS` and shared by every reader of the same credential in this
        process (`owner`); a reader without one lists them itself."""
        if self.owner is None:
            return self._list_statements()
        return _statement_lists.get(f"{self.owner}:{self.books.company_id}", self._list_statements)

    def _list_statements(self) -> list[StatementSpan]:
        spans: list[StatementSpan] = []
        seen: set[int] = set()
        for row in self.books.iter_values(
            BANK_STATEMENTS, fields="id,fromDate,toDate", page_size=PAGE_SIZE
        ):
            statement_id = _row_id(row, BANK_STATEMENTS)
            starts = _date(row.get("fromDate"), BANK_STATEMENTS, optional=True)
            ends = _date(row.get("toDate"), BANK_STATEMENTS, optional=True)
            if statement_id not in seen:
                seen.add(statement_id)
                spans.append((statement_id, starts, ends))
        return spans

    def _rows(
        self,
        path: str,
        params: Mapping[str, Any],
        fields: list[str],
        date_field: str,
        first: date,
        following: date,
    ) -> Iterator[dict[str, Any]]:
        """The rows of one paged pass, each once (by id) and dated inside the month."""
        seen: set[int] = set()
        for row in self.books.iter_values(path, params, fields=fields, page_size=PAGE_SIZE):
            row_id = _row_id(row, path)
            day = _date(row.get(date_field), path)
            if row_id in seen or day is None or not first <= day < following:
                continue
            seen.add(row_id)
            yield row

    def _voucher_types(self) -> VoucherTypes:
        if self.owner is None:
            return self._list_voucher_types()
        return _voucher_types.get(f"{self.owner}:{self.books.company_id}", self._list_voucher_types)

    def _list_voucher_types(self) -> VoucherTypes:
        names: dict[str, set[int]] = {}
        for row in self.books.iter_values(VOUCHER_TYPES, fields="id,name", page_size=PAGE_SIZE):
            name = row.get("name")
            if not isinstance(name, str):
                raise _malformed(VOUCHER_TYPES)
            names.setdefault(name.strip(), set()).add(_row_id(row, VOUCHER_TYPES))
        return {name: frozenset(ids) for name, ids in names.items()}

    def _only_endpoint_refused(self, exc: BooksAccessLost) -> bool:
        """Whether a refusal concerns one endpoint only: a 403 while the company still opens
        (`>whoAmI` as that company answers). A 401, or a company that refuses `>whoAmI` too,
        means its books are out of reach altogether."""
        if exc.details.get("status") != 403:
            return False
        if not self._reachable:
            try:
                self.books.get(WHOAMI, fields="companyId")
            except BooksAccessLost:
                return False
            self._reachable = True
        return True


_READERS: dict[str, Callable[[StatisticsReader, date, date, list[str]], Counts]] = {
    VOUCHERS: StatisticsReader._vouchers,
    INVOICES: StatisticsReader._invoices,
    SUPPLIER_INVOICES: StatisticsReader._supplier_invoices,
    POSTINGS: StatisticsReader._postings,
    BANK_STATEMENTS: StatisticsReader._bank_transactions,
}


def _malformed(path: str) -> TransientError:
    return TransientError(
        f"{say('malformed')} {say('retry_later')}",
        details={"method": "GET", "path": path, "kind": "malformed"},
    )


def _row_id(row: Any, path: str) -> int:
    row_id = row.get("id") if isinstance(row, dict) else None
    if not isinstance(row_id, int) or isinstance(row_id, bool):
        raise _malformed(path)
    return row_id


def _ref_id(ref: Any, path: str) -> int | None:
    """The id of a `{"id": N}` reference, `None` for an empty one; anything else is malformed."""
    if ref is None:
        return None
    if not isinstance(ref, dict):
        raise _malformed(path)
    ref_id = ref.get("id")
    if ref_id is None:
        return None
    if not isinstance(ref_id, int) or isinstance(ref_id, bool):
        raise _malformed(path)
    return ref_id


def _date(value: Any, path: str, *, optional: bool = False) -> date | None:
    if value is None and optional:
        return None
    if not isinstance(value, str):
        raise _malformed(path)
    try:
        return date.fromisoformat(value[:10])
    except ValueError:
        raise _malformed(path) from None
