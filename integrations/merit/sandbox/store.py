"""State of the Merit sandbox: instances, companies, API credentials, clock, limits, faults, log.

One store holds the three Merit instances (Estonia, Finland, Poland). Each instance
has its own companies and its own credential index, so an API ID issued by one
instance is simply unknown to the others, as on the real hosts. Everything lives in
memory behind one :class:`threading.RLock` (``store.lock``).

The control operations tests may call directly (``server.store.create_credentials()``,
``server.store.inject_fault()``, ``server.store.request_counts()``...) are methods
here; the ``/_sandbox`` control API in :mod:`.app` calls the same methods.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import random
import secrets
import threading
import time
import uuid
from collections import Counter, deque
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from . import ledger, seed
from .ledger import Company
from .seed import COUNTRIES, DEMO_CUSTOMERS, FIRMS

Row = dict[str, Any]

#: Merit's documented limit: 60 requests per minute, per company (fact sheet §3).
DEFAULT_RATE_LIMIT = 60
DEFAULT_RATE_PERIOD = 60.0
#: Merit does not publish its timestamp tolerance; the fact sheet suggests ±5 minutes.
DEFAULT_MAX_SKEW_SECONDS = 300
REQUEST_LOG_SIZE = 10_000
#: Licences whose companies may use the API (fact sheet §1); any other → ``api-wronglicense``.
API_LICENCES = frozenset({"PRO", "PREMIUM"})
LICENCES = frozenset({"BASIC", "PRO", "PREMIUM", "NONE"})
SEEDS = ("demo", "empty")
FAULT_KINDS = frozenset(
    {
        "rate_limit",
        "server_error",
        "unavailable",
        "delay",
        "drop",
        "malformed_json",
        "cut_json",
        "cut_connection",
        "lose_response",
        "json_string",
        "stacktrace_200",
        "wrong_signature",
        "unauthorized",
    }
)


class ControlError(Exception):
    """Misuse of the sandbox control API (bad argument or unknown id)."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Credential:
    """One API ID + key pair, as created under Settings >> API Settings for one company."""

    api_id: str
    api_key: str
    country: str
    company_id: int
    created_at: str
    revoked: bool = False
    #: Merit's GUI shows ``OK`` or ``Insecure: <UTC date of last wrongly signed request>``.
    signing_status: str = "OK"

    def public(self, with_key: bool = False) -> dict[str, Any]:
        """The control API's view; the key is shown only when it is created (as in Merit's GUI)."""
        view = asdict(self)
        if not with_key:
            view.pop("api_key")
        return view


@dataclass(frozen=True)
class RateState:
    """Result of counting one request against a company's window."""

    allowed: bool
    limit: int
    remaining: int
    reset_at: int
    retry_after: int


@dataclass
class Fault:
    """An injected failure for the next ``times`` requests matching country, endpoint and method."""

    id: int
    kind: str
    endpoint: str = "*"
    country: str = "*"
    method: str = "*"
    times: int = 1
    #: Seconds for ``Retry-After`` on ``rate_limit``/``unavailable``; ``None`` sends no header.
    retry_after: int | None = 2
    delay_seconds: float = 1.0

    def matches(self, country: str, method: str, endpoint: str) -> bool:
        """Whether a request is affected (endpoint names compare case-insensitively)."""
        return (
            self.country in ("*", country)
            and self.method in ("*", method)
            and self.endpoint in ("*", endpoint.lower())
        )


@dataclass
class _Window:
    started: float
    count: int = 0


@dataclass
class Instance:
    """One Merit instance (one country): its companies and the credentials issued by it."""

    country: str
    companies: dict[int, Company] = field(default_factory=dict)
    credentials: dict[str, Credential] = field(default_factory=dict)
    firm_company_id: int = 0
    basic_company_id: int = 0


class Store:
    """All sandbox state plus the control operations (thread-safe via ``lock``).

    ``secret`` makes the demo credentials deterministic (the management command passes
    one kept under the var dir, so a saved connection survives restarts); without it
    they are random per store, but still survive :meth:`reset`. ``today`` pins the date the seeded history ends on;
    the signature clock is always real UTC time plus ``clock_offset_seconds``.
    """

    def __init__(
        self,
        seed_name: str = "demo",
        countries: tuple[str, ...] = ("EE", "FI", "PL"),
        secret: str | None = None,
        today: date | None = None,
        customers: int | None = None,
    ) -> None:
        unknown = [code for code in countries if code not in COUNTRIES]
        if unknown or not countries:
            raise ControlError(f"countries must be among {sorted(COUNTRIES)}")
        self.lock = threading.RLock()
        self.countries = tuple(countries)
        self.secret = secret or secrets.token_urlsafe(32)
        self.pinned_today = today
        self.clock_offset_seconds = 0.0
        self.max_skew_seconds = DEFAULT_MAX_SKEW_SECONDS
        self.rate_limit = DEFAULT_RATE_LIMIT
        self.latency_seconds = 0.0
        self.rate_period = DEFAULT_RATE_PERIOD
        self.instances: dict[str, Instance] = {}
        self._windows: dict[tuple[str, int], _Window] = {}
        self._faults: list[Fault] = []
        self._fault_seq = 0
        self._log: deque[dict[str, Any]] = deque(maxlen=REQUEST_LOG_SIZE)
        self._counts: Counter[str] = Counter()
        self._total = 0
        self._company_seq = 0
        self._demo: dict[str, Credential] = {}
        self.seed_name = seed_name
        self.customers_override = customers
        self._reseed(seed_name, customers)

    # ------------------------------------------------------------------ clock
    def utcnow(self) -> datetime:
        """The sandbox's UTC time (real time shifted by ``clock_offset_seconds``), aware."""
        return datetime.now(UTC) + timedelta(seconds=self.clock_offset_seconds)

    def now(self) -> datetime:
        """Naive UTC time to the second, for change times and created documents."""
        return self.utcnow().replace(microsecond=0, tzinfo=None)

    def today(self) -> date:
        """The business date: pinned (tests) or today's UTC date."""
        return self.pinned_today or self.utcnow().date()

    def set_clock(
        self, offset_seconds: float | None = None, max_skew_seconds: int | None = None
    ) -> dict[str, Any]:
        """Shift the signature clock (to emulate a client's clock skew) or change the tolerance."""
        with self.lock:
            if offset_seconds is not None:
                self.clock_offset_seconds = float(offset_seconds)
            if max_skew_seconds is not None:
                if int(max_skew_seconds) < 0:
                    raise ControlError("max_skew_seconds must not be negative")
                self.max_skew_seconds = int(max_skew_seconds)
            return self.clock()

    def clock(self) -> dict[str, Any]:
        """The clock settings for the control API."""
        return {
            "utc_now": self.now().isoformat(timespec="seconds"),
            "today": self.today().isoformat(),
            "offset_seconds": self.clock_offset_seconds,
            "max_skew_seconds": self.max_skew_seconds,
        }

    # ------------------------------------------------------------------ seeds
    def reset(self, seed_name: str = "demo", customers: int | None = None) -> dict[str, Any]:
        """Wipe companies, credentials, faults, windows and the log, then seed ``seed_name``.

        Clock, limits and the secret stay, so the demo credentials come back the same.
        Returns :meth:`info`.
        """
        self._reseed(seed_name, customers)
        return self.info()

    def _reseed(self, seed_name: str, customers: int | None) -> None:
        if seed_name not in SEEDS:
            raise ControlError(f"seed must be one of {', '.join(SEEDS)}")
        if customers is not None and customers < 0:
            raise ControlError("customers must not be negative")
        with self.lock:
            self.seed_name = seed_name
            self.customers_override = customers
            self.instances = {}
            self._windows.clear()
            self._faults.clear()
            self.clear_requests()
            self._company_seq = 0
            self._demo = {}
            for code in self.countries:
                self.instances[code] = self._seed_instance(code, seed_name, customers)

    def _seed_instance(self, code: str, seed_name: str, customers: int | None) -> Instance:
        country = COUNTRIES[code]
        today = self.today()
        instance = Instance(code)
        firm_name, basic_name = FIRMS[code]
        count = DEMO_CUSTOMERS[code] if customers is None else customers
        firm = self._new_company(instance, firm_name, "PREMIUM", f"{code}/{seed_name}/firm")
        if seed_name == "demo" or customers:
            for row in seed.customers(firm.rng, country, count, today):
                firm.customers[row["CustomerId"]] = row
        if seed_name == "demo":
            firm.items = seed.items(firm.rng, country, firm.taxes, today)
            firm.vendors = seed.vendors(firm.rng, country)
            history_rng = random.Random(f"merit-sandbox/{code}/{seed_name}/firm/history")
            firm.pending_history = (today, 8, history_rng)
        instance.firm_company_id = firm.id
        basic = self._new_company(instance, basic_name, "BASIC", f"{code}/{seed_name}/basic")
        instance.basic_company_id = basic.id
        # Demo credentials: derived from the secret when there is one (stable across restarts).
        self._demo[code] = self._issue(instance, firm, derived="firm")
        self._issue(instance, basic, derived="basic")
        return instance

    def _new_company(self, instance: Instance, name: str, licence: str, key: str) -> Company:
        self._company_seq += 1
        # Not keyed on the date: customer and item GUIDs stay the same on every start, so
        # clients linked to them in a saved demo stay linked after a restart.
        rng = random.Random(f"merit-sandbox/{key}")
        country = COUNTRIES[instance.country]
        reg_no = seed.registry_number(rng, country.code)
        company = Company(
            id=self._company_seq,
            country=country,
            name=name,
            reg_no=reg_no,
            vat_reg_no=seed.vat_number(rng, country.code, reg_no),
            licence=licence,
            rng=rng,
        )
        company.taxes = seed.taxes(rng, country)
        company.banks = seed.banks(rng, country)
        instance.companies[company.id] = company
        return company

    # ------------------------------------------------------------ credentials
    def _issue(
        self, instance: Instance, company: Company, derived: str | None = None
    ) -> Credential:
        if derived is not None:
            label = f"merit-sandbox/{instance.country}/{derived}".encode()
            digest = hmac.new(self.secret.encode(), label + b"/api-id", hashlib.sha256).digest()
            api_id = str(uuid.UUID(bytes=digest[:16], version=4))
            key_bytes = hmac.new(self.secret.encode(), label + b"/api-key", hashlib.sha256).digest()
        else:
            api_id, key_bytes = str(uuid.uuid4()), secrets.token_bytes(32)
        credential = Credential(
            api_id=api_id,
            # Merit's keys look like Base64 of 32 bytes (44 characters ending in "=").
            api_key=base64.b64encode(key_bytes).decode("ascii"),
            country=instance.country,
            company_id=company.id,
            created_at=self.now().isoformat(timespec="seconds"),
        )
        instance.credentials[api_id] = credential
        return credential

    def instance(self, country: str) -> Instance:
        """The instance for a country code (``EE``/``FI``/``PL``), or ``ControlError`` 404."""
        code = str(country).upper()
        if code not in self.instances:
            raise ControlError(f"no such country instance: {country}", 404)
        return self.instances[code]

    def company(self, company_id: int) -> Company:
        """A company by its sandbox id (unique across instances)."""
        for instance in self.instances.values():
            if company_id in instance.companies:
                return instance.companies[company_id]
        raise ControlError(f"no such company: {company_id}", 404)

    def firm(self, country: str = "EE") -> Company:
        """The demo firm's company in ``country``, its seeded history generated."""
        instance = self.instance(country)
        company = instance.companies[instance.firm_company_id]
        company.ensure_history()
        return company

    def demo_credentials(self, country: str = "EE") -> dict[str, Any]:
        """The demo firm's credentials in ``country``, key included (for tests and the command)."""
        return self._demo[self.instance(country).country].public(with_key=True)

    def basic_credentials(self, country: str = "EE") -> dict[str, Any]:
        """Credentials of the country's BASIC-licence company (every call → ``api-wronglicense``)."""
        instance = self.instance(country)
        credential = next(
            c for c in instance.credentials.values() if c.company_id == instance.basic_company_id
        )
        return credential.public(with_key=True)

    def create_credentials(
        self, country: str = "EE", company_id: int | None = None
    ) -> dict[str, Any]:
        """Issue a new random API ID + key for a company (default: the country's demo firm)."""
        with self.lock:
            instance = self.instance(country)
            company_id = instance.firm_company_id if company_id is None else company_id
            if company_id not in instance.companies:
                raise ControlError(
                    f"company {company_id} is not in the {instance.country} instance", 404
                )
            return self._issue(instance, instance.companies[company_id]).public(with_key=True)

    def revoke_credentials(self, api_id: str) -> None:
        """Revoke an API ID (deleted in Merit's API Settings): later calls fail like an unknown ID."""
        with self.lock:
            self.find_credential(api_id).revoked = True

    def find_credential(self, api_id: str) -> Credential:
        """A credential by API ID in any instance, or ``ControlError`` 404."""
        for instance in self.instances.values():
            if api_id in instance.credentials:
                return instance.credentials[api_id]
        raise ControlError("no such API ID", 404)

    def credentials(self) -> list[dict[str, Any]]:
        """Every credential without its key."""
        return [c.public() for i in self.instances.values() for c in i.credentials.values()]

    def lookup_credential(self, country: str, api_id: str) -> tuple[Credential, Company] | None:
        """The live credential and its company for an API ID on this instance, else ``None``."""
        instance = self.instances.get(country)
        credential = instance.credentials.get(api_id.lower()) if instance else None
        if credential is None or credential.revoked or instance is None:
            return None
        return credential, instance.companies[credential.company_id]

    def mark_insecure(self, credential: Credential) -> None:
        """Record a wrongly signed request, as Merit's SigningStatus column does."""
        with self.lock:
            credential.signing_status = f"Insecure: {self.now():%Y-%m-%d %H:%M:%S}"

    def set_licence(self, company_id: int, licence: str) -> dict[str, Any]:
        """Change the licence of a company's creator (``BASIC``/``PRO``/``PREMIUM``/``NONE``)."""
        licence = str(licence).upper()
        if licence not in LICENCES:
            raise ControlError(f"licence must be one of {', '.join(sorted(LICENCES))}")
        with self.lock:
            company = self.company(company_id)
            company.licence = licence
            return company.summary()

    # ------------------------------------------------------------ rate limits
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
        """Change the per-company limit and restart every window."""
        if limit < 1 or period_seconds <= 0:
            raise ControlError("limit and period_seconds must be positive")
        with self.lock:
            self.rate_limit, self.rate_period = int(limit), float(period_seconds)
            self._windows.clear()
            return {"limit": self.rate_limit, "period_seconds": self.rate_period}

    def hit_rate_limit(self, country: str, company_id: int) -> RateState:
        """Count one request for a company (fixed window from its first request).

        Refused requests do not count, so a client that backs off for ``Retry-After``
        gets in when the window ends.
        """
        with self.lock:
            now = time.time()
            window = self._windows.get((country, company_id))
            if window is None or now >= window.started + self.rate_period:
                window = self._windows[(country, company_id)] = _Window(now)
            ends = window.started + self.rate_period
            allowed = window.count < self.rate_limit
            if allowed:
                window.count += 1
            return RateState(
                allowed=allowed,
                limit=self.rate_limit,
                remaining=max(0, self.rate_limit - window.count),
                reset_at=math.ceil(ends),
                retry_after=max(1, math.ceil(ends - now)),
            )

    # ----------------------------------------------------------------- faults
    def inject_fault(
        self,
        kind: str,
        endpoint: str = "*",
        country: str = "*",
        method: str = "*",
        times: int = 1,
        retry_after: int | None = 2,
        delay_seconds: float = 1.0,
    ) -> dict[str, Any]:
        """Make the next ``times`` matching requests fail with ``kind`` (see README)."""
        if kind not in FAULT_KINDS:
            raise ControlError(f"kind must be one of {', '.join(sorted(FAULT_KINDS))}")
        if int(times) < 1:
            raise ControlError("times must be at least 1")
        country = str(country).upper() if country != "*" else "*"
        if country != "*" and country not in COUNTRIES:
            raise ControlError(f"country must be '*' or one of {sorted(COUNTRIES)}")
        with self.lock:
            self._fault_seq += 1
            fault = Fault(
                self._fault_seq,
                kind,
                str(endpoint).lower(),
                country,
                str(method).upper() if method != "*" else "*",
                int(times),
                None if retry_after is None else int(retry_after),
                float(delay_seconds),
            )
            self._faults.append(fault)
            return asdict(fault)

    def take_fault(self, country: str, method: str, endpoint: str) -> Fault | None:
        """Use up one matching fault (first injected first), if any."""
        with self.lock:
            for fault in self._faults:
                if fault.matches(country, method, endpoint):
                    fault.times -= 1
                    if fault.times <= 0:
                        self._faults.remove(fault)
                    return fault
            return None

    def faults(self) -> list[dict[str, Any]]:
        """Pending faults."""
        with self.lock:
            return [asdict(fault) for fault in self._faults]

    def clear_faults(self) -> None:
        """Drop every pending fault."""
        with self.lock:
            self._faults.clear()

    # ------------------------------------------------------------ request log
    def log_request(self, entry: dict[str, Any]) -> None:
        """Append one API call (no credentials, no signature, no body) and count it."""
        with self.lock:
            self._log.append(entry)
            self._counts[f"{entry['country']} {entry['endpoint']}"] += 1
            self._total += 1

    def request_log(self) -> dict[str, Any]:
        """``{"total", "counts", "requests"}`` (the last ``REQUEST_LOG_SIZE`` requests)."""
        with self.lock:
            return {"total": self._total, "counts": dict(self._counts), "requests": list(self._log)}

    def request_counts(self) -> dict[str, int]:
        """Calls per ``"<country> <endpoint>"`` (endpoint lower-cased), e.g. ``"EE gettaxes"``."""
        with self.lock:
            return dict(self._counts)

    def clear_requests(self) -> None:
        """Empty the request log and its counters."""
        with self.lock:
            self._log.clear()
            self._counts.clear()
            self._total = 0

    # -------------------------------------------------------- data operations
    def create_customer(
        self, country: str = "EE", company_id: int | None = None, **values: Any
    ) -> Row:
        """Add a customer as if typed into Merit's GUI (``Name`` required); changed = now."""
        with self.lock:
            company = self._company_in(country, company_id)
            if not str(values.get("Name", "")).strip():
                raise ControlError("Name is required")
            rng = company.rng
            row = seed.customer_row(rng, company.country, len(company.customers), self.now())
            row.update({"RegNo": "", "VatRegNo": "", "Email": "", "Contact": "", "_comments": []})
            self._apply_customer_fields(row, values)
            company.customers[row["CustomerId"]] = row
            return row

    def update_customer(self, customer_id: str, **values: Any) -> Row:
        """Change a customer's fields (bumps its ChangedDate to now)."""
        with self.lock:
            for instance in self.instances.values():
                for company in instance.companies.values():
                    row = company.customer(customer_id)
                    if row is not None:
                        self._apply_customer_fields(row, values)
                        row["_changed"] = self.now()
                        return row
            raise ControlError("no such customer", 404)

    @staticmethod
    def _apply_customer_fields(row: Row, values: dict[str, Any]) -> None:
        for name, value in values.items():
            if name.startswith("_") or name == "CustomerId" or name not in row:
                raise ControlError(f"unknown or read-only customer field: {name}")
            row[name] = value

    def _company_in(self, country: str, company_id: int | None) -> Company:
        instance = self.instance(country)
        company_id = instance.firm_company_id if company_id is None else company_id
        if company_id not in instance.companies:
            raise ControlError(
                f"company {company_id} is not in the {instance.country} instance", 404
            )
        return instance.companies[company_id]

    def pay_invoice(
        self,
        invoice_id: str,
        amount: Decimal | str | float | None = None,
        on: date | None = None,
        method: str | None = None,
    ) -> Row:
        """Register a customer's payment of a sales invoice (default: the open amount, today)."""
        with self.lock:
            for instance in self.instances.values():
                for company in instance.companies.values():
                    company.ensure_history()
                    invoice = company.invoice(invoice_id)
                    if invoice is None:
                        continue
                    header = invoice["Header"]
                    value = (
                        header["TotalSum"] - header["PaidAmount"]
                        if amount is None
                        else Decimal(str(amount))
                    )
                    if value <= 0:
                        raise ControlError("amount must be positive (is the invoice already paid?)")
                    bank = method or (company.banks[0]["Name"] if company.banks else "Pank")
                    return ledger.book_invoice_payment(
                        company, invoice, value, on or self.today(), bank, self.now()
                    )
            raise ControlError("no such invoice", 404)

    def info(self) -> dict[str, Any]:
        """Seed, clock, limits and per instance: companies (row counts) and credential API IDs."""
        with self.lock:
            return {
                "seed": self.seed_name,
                "today": self.today().isoformat(),
                "rate_limit": {"limit": self.rate_limit, "period_seconds": self.rate_period},
                "max_skew_seconds": self.max_skew_seconds,
                "instances": {
                    code: {
                        "path": COUNTRIES[code].path,
                        "real_base_url": COUNTRIES[code].real_base_url,
                        "firm_company_id": instance.firm_company_id,
                        "basic_company_id": instance.basic_company_id,
                        "demo_api_id": self._demo[code].api_id,
                        "companies": [c.summary() for c in instance.companies.values()],
                    }
                    for code, instance in self.instances.items()
                },
            }
