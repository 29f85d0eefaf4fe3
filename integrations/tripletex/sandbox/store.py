"""State of the Tripletex sandbox: rows, clock, tokens, sessions, limits, faults, log.

Everything lives in memory behind one :class:`threading.RLock` (``store.lock``).
Rows are plain dicts keyed by kind and id (see :mod:`.fields` for their
schemas). Ids come from one global sequence, so an id is unique across kinds
and never equals a small business number such as a VAT code.

Besides the state, the store carries the control operations tests may call
directly (``server.store.create_employee_token()``,
``server.store.inject_fault()``, ``server.store.request_counts()`` ...).
"""

from __future__ import annotations

import base64
import json
import math
import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from .fields import ACCOUNTS, BANK_ACCOUNTS, DEFAULTS, SCHEMAS, VAT_TYPES, VOUCHER_TYPES

Row = dict[str, Any]

TEST_PREFIX = "test-"
DEFAULT_RATE_LIMIT = 10_000
DEFAULT_RATE_PERIOD = 60.0
REQUEST_LOG_SIZE = 10_000
FAULT_KINDS = frozenset(
    {
        "rate_limit",
        "server_error",
        "unavailable",
        "unavailable_html",
        "delay",
        "drop",
        "malformed_json",
        "unauthorized",
        "forbidden",
        "lose_response",
    }
)
_FIRST_ID = 100_001
#: Lazily generated client histories take ids from their own block (see ``materialize``).
LAZY_ID_BASE = 50_000_001
LAZY_ID_BLOCK = 1_000_000


class TripletexError(Exception):
    """An error the emulated API answers with the Tripletex error envelope."""

    def __init__(
        self,
        status: int,
        code: int,
        message: str,
        validation: Sequence[tuple[str | None, str]] | None = None,
        developer_message: str | None = None,
        headers: list[tuple[str, str]] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.validation = validation
        # Tripletex leaves `developerMessage` null on most errors (fact sheet 3.1): only the
        # few answers it is known to fill pass one.
        self.developer_message = developer_message
        self.headers = headers or []


#: The bare `developerMessage` Tripletex sends with a business-rule validation failure.
VALIDATION_ERROR = "VALIDATION_ERROR"


def validation_error(
    field_name: str | None,
    message: str,
    code: int = 18000,
    developer_message: str | None = None,
) -> TripletexError:
    """A 422 with one validation message (the usual Tripletex validation failure).
    `developerMessage` is null unless given (business rules pass `VALIDATION_ERROR`)."""
    return TripletexError(
        422, code, "Validation failed.", [(field_name, message)], developer_message
    )


class ControlError(Exception):
    """Misuse of the sandbox control API (bad argument or unknown id)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Auth:
    """A successfully authenticated API call."""

    employee_id: int
    company_id: int
    is_proxy: bool
    #: An accountant's token acting with username 0: only ``ACCOUNTANT_FIRM_CALLS`` are allowed.
    login_access_only: bool = False


@dataclass(frozen=True)
class AuthResult:
    """Outcome of checking Basic auth: the rate-limit bucket (if known) and auth or error."""

    bucket: tuple[str, str] | None
    auth: Auth | None = None
    error: TripletexError | None = None


@dataclass(frozen=True)
class RateState:
    """Result of counting one request against a rate-limit bucket."""

    allowed: bool
    limit: int
    remaining: int
    reset: int


@dataclass
class Fault:
    """An injected failure for the next ``times`` requests matching method and path."""

    id: int
    kind: str
    path: str
    method: str = "*"
    times: int = 1
    match: str = "exact"
    retry_after: int | None = 1  # None: no Retry-After header (429 and 503)
    delay_seconds: float = 1.0

    def matches(self, method: str, path: str) -> bool:
        """Exact path match, or segment-wise prefix match when ``match == "prefix"``."""
        if self.method not in ("*", method):
            return False
        if self.match == "prefix":
            base = self.path.rstrip("/")
            return path == base or path.startswith(base + "/")
        return path == self.path


@dataclass
class _Bucket:
    started: float
    count: int = 0


@dataclass
class Dataset:
    """The seedable part of the state (rows, sequences, lookups, roles)."""

    rows: dict[str, dict[int, Row]] = field(default_factory=dict)
    next_id: int = _FIRST_ID
    counters: dict[tuple[str, int], int] = field(default_factory=dict)
    lookup: dict[tuple[Any, ...], int] = field(default_factory=dict)
    firm_company_id: int = 0
    admin_employee_id: int = 0
    seeded_on: date = field(default_factory=date.today)
    lazy: dict[int, int] = field(default_factory=dict)


#: What an accountant's token may call with username 0 (DEVAUTH): everything else needs a client
#: company's id as the Basic username.
ACCOUNTANT_FIRM_CALLS = frozenset(
    {("GET", "/company/>withLoginAccess"), ("GET", "/token/session/>whoAmI")}
)


def forbidden() -> TripletexError:
    """Tripletex's 403 for a call the token may not make (fact sheet 2.5, AINM-LOG)."""
    return TripletexError(403, 9000, "You do not have permission to access this feature.")


class Store:
    """All sandbox state plus the control operations (thread-safe via ``lock``)."""

    def __init__(
        self,
        environment: str = "test",
        consumer_token: str | None = None,
        today: date | None = None,
        seed: str = "demo",
        customers: int | None = None,
    ) -> None:
        if environment not in ("test", "production"):
            raise ControlError("environment must be 'test' or 'production'")
        self.lock = threading.RLock()
        self.environment = environment
        self.token_prefix = TEST_PREFIX if environment == "test" else ""
        self.consumer_token = consumer_token or f"{self.token_prefix}uku-sandbox-consumer"
        self._day_offset = 0
        if today is not None:
            self.set_today(today)
        self.rate_limit = DEFAULT_RATE_LIMIT
        self.latency_seconds = 0.0
        self.rate_period = DEFAULT_RATE_PERIOD
        self._buckets: dict[tuple[str, str], _Bucket] = {}
        self._faults: list[Fault] = []
        self._fault_seq = 0
        self._log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._counts: Counter[str] = Counter()
        self._total = 0
        self.data = Dataset()
        self.seed_name = seed
        self._tokens: dict[str, tuple[str, int]] = {}
        self._outbox: list[dict[str, Any]] = []
        self.reset(seed, customers)

    # ------------------------------------------------------------------ clock
    def today(self) -> date:
        """The sandbox's current date (real date shifted by the clock offset)."""
        return date.today() + timedelta(days=self._day_offset)

    def now(self) -> datetime:
        """The sandbox's current local time, to the second."""
        return datetime.now().replace(microsecond=0) + timedelta(days=self._day_offset)

    def timestamp(self) -> str:
        """``now()`` as ``YYYY-MM-DDThh:mm:ss`` (no zone, like Tripletex)."""
        return self.now().isoformat(timespec="seconds")

    def set_today(self, today: date) -> date:
        """Move the sandbox clock so that ``today()`` returns ``today``."""
        with self.lock:
            self._day_offset = (today - date.today()).days
            return self.today()

    def advance_days(self, days: int) -> date:
        """Move the sandbox clock ``days`` forward (or back if negative)."""
        with self.lock:
            self._day_offset += days
            return self.today()

    # ------------------------------------------------------------------- rows
    @property
    def rows(self) -> dict[str, dict[int, Row]]:
        """kind -> id -> row."""
        return self.data.rows

    @property
    def firm_company_id(self) -> int:
        """Id of the accounting firm's own company."""
        return self.data.firm_company_id

    @property
    def admin_employee_id(self) -> int:
        """Id of the firm's admin employee (the default token owner)."""
        return self.data.admin_employee_id

    def insert(
        self,
        kind: str,
        company: int | None,
        values: Row,
        by: int | None = None,
        at: str | None = None,
    ) -> Row:
        """Store a new row of ``kind`` owned by ``company`` (``None`` = global) and return it.

        The row starts from the kind's :data:`~.fields.DEFAULTS`; ``displayName``
        defaults to ``name``; kinds with ``changes`` get a CREATE entry by ``by`` at ``at``.
        """
        row_id = self.data.next_id
        self.data.next_id += 1
        row: Row = {
            "id": row_id,
            "version": 0,
            **DEFAULTS.get(kind, {}),
            **values,
            "_company": company,
        }
        schema = SCHEMAS[kind]
        if "displayName" in schema and "displayName" not in values and "name" in values:
            row["displayName"] = values["name"]
        if "changes" in schema:
            row["changes"] = [
                {"employeeId": by, "timestamp": at or self.timestamp(), "changeType": "CREATE"}
            ]
        table = self.data.rows.get(kind)
        if table is None:
            table = self.data.rows[kind] = {}
        table[row_id] = row
        return row

    def get(self, kind: str, row_id: int) -> Row | None:
        """A row by kind and id, regardless of company."""
        if self.data.lazy and isinstance(row_id, int) and row_id >= LAZY_ID_BASE:
            block = (row_id - LAZY_ID_BASE) // LAZY_ID_BLOCK
            for company, index in list(self.data.lazy.items()):
                if index == block:
                    self.materialize(company)
        return self.data.rows.get(kind, {}).get(row_id)

    def get_in(self, kind: str, row_id: int, company: int) -> Row | None:
        """A row visible to ``company`` (its own, or a global row), else ``None``."""
        self.materialize(company)
        row = self.get(kind, row_id)
        if row is None or row["_company"] not in (company, None):
            return None
        return row

    def company_rows(self, kind: str, company: int) -> list[Row]:
        """All rows of ``kind`` owned by ``company``, in id order."""
        self.materialize(company)
        rows = [r for r in self.data.rows.get(kind, {}).values() if r["_company"] == company]
        rows.sort(key=lambda row: row["id"])
        return rows

    def materialize(self, company: int) -> None:
        """Generate a seeded company's deferred history now (a no-op once done).

        The demo seed defers each client company's 24 months of bookkeeping until
        the company is first touched; its rows use their own id block, so the
        result does not depend on which company is accessed first.
        """
        if company not in self.data.lazy:
            return
        from .seed import load_client_history

        with self.lock:
            index = self.data.lazy.pop(company, None)
            if index is None:
                return
            saved, self.data.next_id = self.data.next_id, LAZY_ID_BASE + index * LAZY_ID_BLOCK
            try:
                load_client_history(self, company, index)
            finally:
                self.data.next_id = saved

    def touch(self, row: Row, by: int | None) -> None:
        """Record an update: bump ``version``, append to ``changes``, refresh ``_changed_at``."""
        row["version"] += 1
        stamp = self.timestamp()
        if "changes" in row:
            row["changes"].append({"employeeId": by, "timestamp": stamp, "changeType": "UPDATE"})
        if "_changed_at" in row:
            row["_changed_at"] = stamp

    def next_number(self, counter: str, company: int, start: int = 1) -> int:
        """Next value of a per-company business number sequence (invoice, order, ...)."""
        key = (counter, company)
        value = self.data.counters.get(key, start - 1) + 1
        self.data.counters[key] = value
        return value

    def lookup(self, *key: Any) -> int | None:
        """Seeded id lookups such as ``lookup("account", company, 1920)``."""
        return self.data.lookup.get(key)

    def add_demo_clients(self, count: int) -> list[int]:
        """``count`` more demo client companies for the firm, generated now (for benchmarks)."""
        from .seed import add_demo_clients

        return add_demo_clients(self, count)

    def company_clients(self, company: int) -> list[int]:
        """Ids of the client companies ``company`` has accountant (proxy) login access to."""
        row = self.get("company", company)
        return list(row.get("_clients", ())) if row else []

    def add_standard_ledger(self, company: int) -> None:
        """Give a new company the standard VAT types, accounts, voucher and payment types, a department."""
        lookup = self.data.lookup
        for number, name, percentage, tags in VAT_TYPES:
            lookup[("vatType", company, number)] = self.insert(
                "vatType",
                company,
                {
                    "name": name,
                    "number": number,
                    "percentage": percentage,
                    "_tags": frozenset(tags.split()),
                    "deductionPercentage": 100 if "INCOMING" in tags.split() else 0,
                },
            )["id"]
        for account, name, kind, vat in ACCOUNTS:
            bank = account in BANK_ACCOUNTS
            lookup[("account", company, account)] = self.insert(
                "account",
                company,
                {
                    "number": account,
                    "name": name,
                    "description": name,
                    "type": kind,
                    "isBankAccount": bank,
                    "vatType": lookup.get(("vatType", company, vat)),
                    "currency": lookup[("currency", "NOK")],
                    "bankAccountNumber": f"1503{company % 10**7:07d}" if bank else None,
                },
            )["id"]
        for name in VOUCHER_TYPES:
            lookup[("voucherType", company, name)] = self.insert(
                "voucherType", company, {"name": name}
            )["id"]
        for key, description, account in (
            ("bank", "Betalt til bank", 1920),
            ("cash", "Kontant", 1900),
        ):
            lookup[("paymentType", company, key)] = self.insert(
                "paymentType",
                company,
                {
                    "description": description,
                    "displayName": description,
                    "debitAccount": lookup[("account", company, account)],
                    "creditAccount": lookup[("account", company, 1500)],
                },
            )["id"]
        lookup[("department", company)] = self.insert(
            "department", company, {"name": "Hovedavdeling", "departmentNumber": "1"}
        )["id"]

    # ------------------------------------------------------------------ reset
    def reset(self, seed: str = "demo", customers: int | None = None) -> dict[str, Any]:
        """Wipe rows, tokens, sessions, faults, counters and the request log, then seed.

        The clock, environment, consumer token and rate-limit settings survive.
        """
        from .seed import apply_seed

        with self.lock:
            self.data = Dataset(seeded_on=self.today())
            apply_seed(self, seed, customers)
            self.seed_name = seed
            self._tokens = {}
            self._outbox = []
            self._buckets = {}
            self._faults = []
            self.clear_requests()
            consumer = self.insert(
                "consumerToken",
                None,
                {"apiConsumerName": "uku", "expirationDate": None, "_token": self.consumer_token},
            )
            self._tokens[self.consumer_token] = ("consumerToken", consumer["id"])
            return self.info()

    def info(self) -> dict[str, Any]:
        """Summary of the sandbox: environment, clock, roles and row counts."""
        with self.lock:
            firm = self.firm_company_id
            return {
                "environment": self.environment,
                "seed": self.seed_name,
                "today": self.today().isoformat(),
                "consumer_token": self.consumer_token,
                "firm_company_id": firm,
                "admin_employee_id": self.admin_employee_id,
                "client_company_ids": self.company_clients(firm),
                "pending_history_company_ids": sorted(self.data.lazy),
                "company_ids": sorted(self.data.rows.get("company", {})),
                "counts": {kind: len(table) for kind, table in sorted(self.data.rows.items())},
                "rate_limit": {"limit": self.rate_limit, "period_seconds": self.rate_period},
            }

    # ----------------------------------------------------------------- tokens
    def _new_token(self, row_id: int, secret: str | None = None) -> str:
        payload = json.dumps({"tokenId": row_id, "token": secret or str(uuid.uuid4())}).encode()
        return self.token_prefix + base64.urlsafe_b64encode(payload).decode().rstrip("=")

    def _token_row(self, kind: str, token: str) -> Row | None:
        entry = self._tokens.get(token)
        if entry is None or entry[0] != kind:
            return None
        return self.get(kind, entry[1])

    def create_employee_token(
        self,
        employee_id: int | None = None,
        expires_on: date | str | None = None,
        secret: str | None = None,
        accountant: bool = False,
    ) -> dict[str, Any]:
        """Issue an employee token (default: the firm's admin, valid one year).

        ``accountant=True`` issues an accountant's token: with username 0 it may call only
        ``GET /company/>withLoginAccess`` and ``GET /token/session/>whoAmI`` (403 / 9000 for
        anything else), as Tripletex documents; with a client company's id it works in that
        client as any token does. The default token has full access to its own company.

        ``secret`` replaces the token's random part: the same secret on the same seed gives the
        same token, so a restarted demo keeps the connection saved with it (see the
        ``tripletex_sandbox`` command). Without it every token is new.
        """
        with self.lock:
            employee = self.get("employee", employee_id or self.admin_employee_id)
            if employee is None:
                raise ControlError(f"employee {employee_id} does not exist", 404)
            expiry = parse_date(expires_on) if expires_on else self.today() + timedelta(days=365)
            row = self.insert(
                "employeeToken",
                employee["_company"],
                {
                    "employee": employee["id"],
                    "name": "uku",
                    "expirationDate": expiry.isoformat(),
                    "_revoked": False,
                    "_accountant": bool(accountant),
                },
            )
            token = row["_token"] = self._new_token(row["id"], secret)
            self._tokens[token] = ("employeeToken", row["id"])
            return {
                "token": token,
                "employee_id": employee["id"],
                "company_id": employee["_company"],
                "expires_on": expiry.isoformat(),
                "accountant": bool(accountant),
            }

    def revoke_employee_token(self, token: str) -> None:
        """Revoke an employee token; sessions created from it stop working too."""
        with self.lock:
            row = self._token_row("employeeToken", token)
            if row is None:
                raise ControlError("unknown employee token", 404)
            row["_revoked"] = True

    def create_session(self, consumer_token: str, employee_token: str, expiration: str) -> Row:
        """``PUT /token/session/:create``; raises :class:`TripletexError` (422) on bad input."""
        with self.lock:
            consumer = self._token_row("consumerToken", consumer_token)
            if consumer is None:
                raise validation_error(
                    "arg:consumerToken", "The consumer token is invalid or does not exist."
                )
            token = self._token_row("employeeToken", employee_token)
            if token is None or token["_revoked"]:
                raise validation_error(
                    "arg:employeeToken", "The employee token is invalid or does not exist."
                )
            if date.fromisoformat(token["expirationDate"]) < self.today():
                raise validation_error("arg:employeeToken", "The employee token has expired.")
            employee = self.get("employee", token["employee"])
            if employee is None or not employee["_active"]:
                raise validation_error(
                    "arg:employeeToken",
                    "The employee token belongs to an employee who is no longer active.",
                )
            try:
                expires = parse_date(expiration)
            except ControlError:
                raise validation_error(
                    "arg:expirationDate", "Invalid date, expected yyyy-MM-dd."
                ) from None
            # Tripletex accepts `expirationDate=today` and hands out a session that is dead on
            # arrival (it dies at 00:00 at the start of that date); only a past date is refused
            # here (choice).
            if expires < self.today():
                raise validation_error(
                    "arg:expirationDate", "The expiration date can not be in the past."
                )
            row = self.insert(
                "sessionToken",
                employee["_company"],
                {
                    "consumerToken": consumer["id"],
                    "employeeToken": token["id"],
                    "expirationDate": expires.isoformat(),
                    "encryptionKey": None,
                    "_deleted": False,
                },
            )
            row["token"] = self._new_token(row["id"])
            self._tokens[row["token"]] = ("sessionToken", row["id"])
            return row

    def session_bucket(self, session: Row) -> tuple[str, str]:
        """Rate-limit bucket (consumer token, employee token) behind a session."""
        consumer = self.get("consumerToken", session["consumerToken"]) or {}
        token = self.get("employeeToken", session["employeeToken"]) or {}
        return consumer.get("_token", ""), token.get("_token", "")

    def authenticate(self, username: str, password: str) -> AuthResult:
        """Check Basic credentials ``<companyId>:<sessionToken>`` (401 / 403 as Tripletex)."""
        with self.lock:
            session = self._token_row("sessionToken", password)
            if session is None or session["_deleted"]:
                return AuthResult(None, error=_unauthorized())
            bucket = self.session_bucket(session)
            # A session dies at 00:00 (Europe/Oslo) at the START of its expirationDate.
            if date.fromisoformat(session["expirationDate"]) <= self.today():
                return AuthResult(bucket, error=_unauthorized())
            token = self.get("employeeToken", session["employeeToken"])
            employee = self.get("employee", token["employee"]) if token else None
            if token is None or token["_revoked"] or employee is None or not employee["_active"]:
                return AuthResult(
                    bucket,
                    error=_unauthorized(),
                )
            own = employee["_company"]
            if username.strip() in ("", "0"):
                company = own
            elif not username.strip().isdigit():
                return AuthResult(
                    bucket,
                    error=TripletexError(
                        401,
                        3000,
                        "Unauthorized",
                        developer_message=(
                            f"Authorization header has invalid username: {username}. Should be "
                            "a customer id or 0 for default. The expected format is "
                            "base64encoded(<<companyId>>:<<sessionToken>>)"
                        ),
                    ),
                )
            else:
                company = int(username)
            if company != own and company not in self.company_clients(own):
                return AuthResult(bucket, error=forbidden())
            limited = company == own and bool(token.get("_accountant"))
            return AuthResult(bucket, Auth(employee["id"], company, company != own, limited))

    def delete_session(self, token: str, auth: Auth) -> bool:
        """Invalidate a session of the calling employee; ``False`` if there is none."""
        with self.lock:
            session = self._token_row("sessionToken", token)
            if session is None or session["_deleted"]:
                return False
            owner = self.get("employeeToken", session["employeeToken"]) or {}
            if owner.get("employee") != auth.employee_id:
                return False
            session["_deleted"] = True
            return True

    # -------------------------------------------------------------- employees
    def set_employee_active(self, employee_id: int, active: bool) -> dict[str, Any]:
        """Deactivate or reactivate an employee (deactivated = ``userType`` NO_ACCESS)."""
        with self.lock:
            row = self.get("employee", employee_id)
            if row is None:
                raise ControlError(f"employee {employee_id} does not exist", 404)
            if row["_active"] != active:
                row["_active"] = active
                row["userType"] = row["_user_type"] if active else "NO_ACCESS"
                self.touch(row, None)
            return {"id": row["id"], "active": active, "company_id": row["_company"]}

    def deactivate_employee(self, employee_id: int) -> dict[str, Any]:
        """Shortcut for ``set_employee_active(employee_id, False)``."""
        return self.set_employee_active(employee_id, False)

    def reactivate_employee(self, employee_id: int) -> dict[str, Any]:
        """Shortcut for ``set_employee_active(employee_id, True)``."""
        return self.set_employee_active(employee_id, True)

    # ----------------------------------------------------------- login access
    def set_login_access(
        self, client_id: int, granted: bool, company_id: int | None = None
    ) -> dict[str, Any]:
        """Grant or revoke ``company_id``'s (default: the firm's) accountant login access to
        client company ``client_id``; a revoked client answers that firm's proxy calls with
        403 / 9000 and leaves ``>withLoginAccess``."""
        with self.lock:
            firm = company_id or self.firm_company_id
            owner, client = self.get("company", firm), self.get("company", client_id)
            if owner is None or client is None or client_id == firm:
                raise ControlError(f"no client company {client_id} for company {firm}", 404)
            clients = owner.setdefault("_clients", [])
            if granted and client_id not in clients:
                clients.append(client_id)
            elif not granted and client_id in clients:
                clients.remove(client_id)
            return {"company_id": firm, "client_company_ids": list(clients)}

    # -------------------------------------------------------------- customers
    _CUSTOMER_READ_ONLY = frozenset(
        {"id", "version", "url", "changes", "customerNumber", "isCustomer"}
    )

    def _customer_values(self, values: dict[str, Any]) -> Row:
        """Validate control-API customer fields; relations may be ``123`` or ``{"id": 123}``."""
        schema = SCHEMAS["customer"]
        unknown = sorted((set(values) - set(schema)) | (set(values) & self._CUSTOMER_READ_ONLY))
        if unknown:
            raise ControlError(f"unknown or read-only customer fields: {unknown}")
        out = dict(values)
        for key, value in values.items():
            relation = schema[key]
            if relation is None or value is None:
                continue
            out[key] = value.get("id") if isinstance(value, dict) else value
            if relation[0] or self.get(relation[1], out[key]) is None:
                raise ControlError(f"{key} must reference an existing {relation[1]}")
        if "name" in out:
            out["displayName"] = out["name"]
        return out

    def create_customer(
        self, company_id: int | None = None, at: str | None = None, **values: Any
    ) -> Row:
        """Create a customer (default: in the firm company), last changed ``at`` (default now)."""
        with self.lock:
            company = company_id or self.firm_company_id
            if self.get("company", company) is None:
                raise ControlError(f"company {company} does not exist", 404)
            fields = self._customer_values(values)
            if not fields.get("name"):
                raise ControlError("name is required")
            stamp = at or self.timestamp()
            number = self.next_number("customer", company, 10001)
            return self.insert(
                "customer",
                company,
                {**fields, "customerNumber": number, "_changed_at": stamp},
                at=stamp,
            )

    def update_customer(self, customer_id: int, **values: Any) -> Row:
        """Change customer fields (a new ``version`` and ``_changed_at``)."""
        with self.lock:
            row = self.get("customer", customer_id)
            if row is None:
                raise ControlError(f"customer {customer_id} does not exist", 404)
            row.update(self._customer_values(values))
            self.touch(row, None)
            return row

    def deactivate_customer(self, customer_id: int) -> Row:
        """Set ``isInactive`` on a customer (it then disappears from the default list)."""
        return self.update_customer(customer_id, isInactive=True)

    # ------------------------------------------------------------- rate limit
    def set_latency(self, seconds: float) -> dict[str, Any]:
        """Answer every request `seconds` late (0: at once, the default). On loopback the
        sandbox answers in microseconds, where the real API's answers cross a network; the
        benchmark sets a round trip so that concurrency is measured against waiting, as it
        would be against the vendor. Slept outside the store's lock, as a network would be."""
        if seconds < 0:
            raise ControlError("seconds must be >= 0")
        self.latency_seconds = float(seconds)
        return {"latency_seconds": self.latency_seconds}

    def set_rate_limit(self, limit: int, period_seconds: float) -> dict[str, Any]:
        """Change the per-(consumer, employee) limit; all current windows restart."""
        if limit < 0 or period_seconds <= 0:
            raise ControlError("limit must be >= 0 and period_seconds > 0")
        with self.lock:
            self.rate_limit, self.rate_period = int(limit), float(period_seconds)
            self._buckets = {}
            return {"limit": self.rate_limit, "period_seconds": self.rate_period}

    def hit_rate_limit(self, bucket: tuple[str, str]) -> RateState:
        """Count one request in ``bucket``; refused requests are not counted."""
        with self.lock:
            clock = time.monotonic()
            state = self._buckets.get(bucket)
            if state is None or clock - state.started >= self.rate_period:
                state = self._buckets[bucket] = _Bucket(clock)
            reset = max(1, math.ceil(self.rate_period - (clock - state.started)))
            if state.count >= self.rate_limit:
                return RateState(False, self.rate_limit, 0, reset)
            state.count += 1
            return RateState(True, self.rate_limit, self.rate_limit - state.count, reset)

    # ----------------------------------------------------------------- faults
    def inject_fault(
        self,
        kind: str,
        path: str,
        method: str = "*",
        times: int = 1,
        match: str = "exact",
        retry_after: int | None = 1,
        delay_seconds: float = 1.0,
    ) -> dict[str, Any]:
        """Make the next ``times`` requests to ``method path`` (``/v2``-relative) fail as ``kind``.
        ``retry_after=None`` sends a 429 or 503 without ``Retry-After``."""
        if kind not in FAULT_KINDS:
            raise ControlError(f"kind must be one of {sorted(FAULT_KINDS)}")
        if match not in ("exact", "prefix"):
            raise ControlError("match must be 'exact' or 'prefix'")
        if not path.startswith("/") or times < 1:
            raise ControlError("path must start with '/' and times must be >= 1")
        with self.lock:
            self._fault_seq += 1
            fault = Fault(
                self._fault_seq,
                kind,
                path.replace("%3E", ">").replace("%3e", ">"),
                (method or "*").upper(),
                int(times),
                match,
                None if retry_after is None else int(retry_after),
                float(delay_seconds),
            )
            self._faults.append(fault)
            return asdict(fault)

    def take_fault(self, method: str, path: str) -> Fault | None:
        """Consume one use of the first fault matching this request, if any."""
        with self.lock:
            for fault in self._faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def faults(self) -> list[dict[str, Any]]:
        """Pending faults."""
        with self.lock:
            return [asdict(f) for f in self._faults]

    def clear_faults(self) -> None:
        """Drop all pending faults."""
        with self.lock:
            self._faults = []

    # ------------------------------------------------------------ request log
    def log_request(self, entry: dict[str, Any]) -> None:
        """Append one API request (``method``, ``path_template``, ...) to the log."""
        with self.lock:
            self._log.append(entry)
            self._counts[f"{entry['method']} {entry['path_template']}"] += 1
            self._total += 1

    def request_log(self) -> dict[str, Any]:
        """``{"total", "counts", "requests"}``; keeps the last 10,000 requests."""
        with self.lock:
            return {"total": self._total, "counts": dict(self._counts), "requests": list(self._log)}

    def request_counts(self) -> dict[str, int]:
        """``{"GET /customer": 12, ...}`` since the last reset/clear."""
        with self.lock:
            return dict(self._counts)

    def clear_requests(self) -> None:
        """Empty the request log and its counters."""
        with self.lock:
            self._log.clear()
            self._counts.clear()
            self._total = 0

    # ----------------------------------------------------------------- outbox
    def record_sent_invoice(self, entry: dict[str, Any]) -> None:
        """Remember an invoice sent to a customer (``sendToCustomer=true``)."""
        with self.lock:
            self._outbox.append(entry)

    def sent_invoices(self) -> list[dict[str, Any]]:
        """Invoices 'sent' to customers since the last reset."""
        with self.lock:
            return list(self._outbox)


def _unauthorized() -> TripletexError:
    """A session Tripletex will not log in with: unknown, deleted, dead (its expirationDate
    has begun) or behind a revoked token or deactivated employee (choice: one text for all,
    the one recorded for a born-dead session)."""
    return TripletexError(401, 3000, "Could not log in")


def parse_date(value: date | str) -> date:
    """A ``date`` from a date or a strict ``YYYY-MM-DD`` string (else :class:`ControlError`)."""
    if isinstance(value, date):
        return value
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except (TypeError, ValueError):
        raise ControlError(f"invalid date {value!r}, expected YYYY-MM-DD") from None
