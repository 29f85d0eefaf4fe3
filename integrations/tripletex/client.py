"""`TripletexClient`: uku's client for Tripletex API v2, on the shared HTTP seam.

Timeouts, the shared rate-limit budget, retries (reads only; writes never resent after an
ambiguous failure), call records, secret-free errors and urllib3 redaction are the seam's
(`integrations.http.VendorHttpClient`). What is Tripletex's own lives here:

* **Sessions.** Tripletex wants a session token made from uku's consumer token and the firm's
  employee token (`PUT /token/session/:create`). Sessions are cached per process, keyed by a
  SHA-256 of base URL + both tokens, and reused until shortly before they die (00:00 Europe/Oslo
  at the start of their `expirationDate`); a 401 recreates the session once per call (it may
  have been deleted or expired early), a second 401 is an `AuthError`, never a loop.
  Each call authenticates with basic auth: the company id (0 = the firm) and the session token.
* **Client companies.** `for_company(id)` acts in a client's own books with the same session.
  A 401/403 there is `BooksAccessLost` for that client, never an `AuthError` for the firm; a
  401 renews the session only if the firm cannot use it either (checked with `>whoAmI`).
* **Secrets.** Every token is registered with `uku.logging.register_secret`, and no message,
  log line, `repr()`, `CallRecord` or error detail made here contains one. The session-create
  query string carries the consumer and employee tokens, so that call's template is fixed.
* **Retries.** Tripletex has no idempotency key, so a write is resent only after 429 and 503,
  which mean "not done" (the seam's rule).
* **Rate limits.** One budget per employee token shared by every worker, fed the
  `X-Rate-Limit-*` headers (reset in seconds); a 429 without `Retry-After` waits for the reset.
* **Errors.** Only `integrations.base` errors leave this module, each with Tripletex's `code`,
  `message`, `developer_message` and `request_id` in `details`. Tripletex mostly sends
  `developerMessage: null`, so `developer_message` (in details and in each `CallRecord`) is
  its `message` and validation messages then (`explanation`).
* **Pagination.** `iter_pages`/`iter_values` walk `from`/`count` list envelopes.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import hashlib
import logging
import re
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

import requests
from django.conf import settings

from integrations.base import (
    AuthError,
    BooksAccessLost,
    CallRecord,
    CallRecorder,
    ConfigError,
    IntegrationError,
    TransientError,
)
from integrations.http import (
    READS,
    HttpCall,
    HttpResponse,
    VendorHttpClient,
    encode_path,
)
from integrations.http import path_template as _generic_path_template
from integrations.ratelimit import RateLimitBudget
from integrations.tripletex.errors import (
    MESSAGES,
    TOKEN_MENU_PATH,
    TripletexForbidden,
    TripletexRequestError,
    say,
)
from uku.logging import register_secret

logger = logging.getLogger(__name__)

OSLO = ZoneInfo("Europe/Oslo")
ENVIRONMENTS = ("production", "test")
TEST_TOKEN_PREFIX = "test-"  # noqa: S105 - every token of the Tripletex test environment starts with it
SESSION_CREATE_PATH = "/token/session/:create"
WHOAMI_PATH = "/token/session/>whoAmI"
# A session made today with expirationDate=tomorrow is renewed this long before midnight (Oslo),
# so a long import never starts with a session that dies halfway.
SESSION_RENEW_MARGIN = timedelta(minutes=10)

# A `developerMessage` that is only a code word ("VALIDATION_ERROR") explains nothing by itself.
_BARE_TOKEN = re.compile(r"[A-Z][A-Z0-9_]*")
# How many validation messages an explanation quotes (a bulk write may have hundreds).
MAX_EXPLAINED_VALIDATIONS = 5

# A parsed Tripletex answer is the seam's response; the old name stays for callers.
TripletexResponse = HttpResponse


# --- The process-level session cache ----------------------------------------------------------------


@dataclass(frozen=True)
class _CachedSession:
    token: str = field(repr=False)
    expires_on: date

    def fresh(self, now: datetime) -> bool:
        midnight = datetime.combine(self.expires_on, datetime.min.time(), tzinfo=OSLO)
        return now < midnight - SESSION_RENEW_MARGIN


_sessions: dict[str, _CachedSession] = {}
_session_locks: dict[str, threading.Lock] = {}
_sessions_lock = threading.Lock()


def _session_lock(key: str) -> threading.Lock:
    # One lock per credential: threads of one process create one session, not one each.
    with _sessions_lock:
        return _session_locks.setdefault(key, threading.Lock())


def clear_session_cache() -> None:
    """Forget every cached session of this process, and the voucher types and bank statement
    lists read through them (tests; key rotation)."""
    from integrations.tripletex.statistics import clear_statistics_caches

    with _sessions_lock:
        _sessions.clear()
    clear_statistics_caches()


@dataclass
class _Shared:
    """State shared by a client and the `for_company` clients made from it."""

    last_session: str | None = field(default=None, repr=False)
    closed: bool = False


# --- Helpers ---------------------------------------------------------------------------------------


def path_template(path: str) -> str:
    """`/customer/123/x` -> `/customer/{id}/x`: what a `CallRecord` shows, never an id or token.
    Tripletex's aggregate marker reads as `>` whether or not it came encoded (`%3E`)."""
    return _generic_path_template(path.replace("%3E", ">").replace("%3e", ">"))


def session_expiration_date(now: datetime) -> date:
    """The `expirationDate` to ask for at `now`: Tripletex ends a session at 00:00 Europe/Oslo at
    the START of that date (`today` gives a session that is dead on arrival), so at least
    tomorrow in Oslo. Within `SESSION_RENEW_MARGIN` of midnight it is the day after, or the new
    session would already count as due for renewal and every call would create another one."""
    return (now.astimezone(OSLO) + SESSION_RENEW_MARGIN).date() + timedelta(days=1)


def _hash(*parts: str) -> str:
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def _field() -> dict[str, str]:
    return {"field": "employee_token"}


# --- The client -------------------------------------------------------------------------------------


class TripletexClient(VendorHttpClient):
    """An authenticated connection to one Tripletex company.

    `company_id=0` acts in the employee's own company (the firm); a client company id (from
    `GET /company/>withLoginAccess`) acts inside that client through the accountant's proxy
    login (see `for_company`). Construction makes no request; the session is created on first
    use. Raises `ConfigError` when the platform has no consumer token for `environment`.
    """

    vendor: ClassVar[str] = "Tripletex"
    # Reset in seconds; a 429 without Retry-After waits for it (the seam's `retry_after`).
    rate_limit_headers: ClassVar[tuple[str, str, str]] = (
        "X-Rate-Limit-Limit",
        "X-Rate-Limit-Remaining",
        "X-Rate-Limit-Reset",
    )

    def __init__(
        self,
        *,
        employee_token: str,
        environment: str,
        company_id: int = 0,
        rate_limit_key: str = "",
        on_call: CallRecorder | None = None,
        budget: RateLimitBudget | None = None,
        sleep: Callable[[float], None] | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
    ) -> None:
        if environment not in ENVIRONMENTS:
            raise ConfigError(say("unknown_environment", environment=environment[:20]))
        self.environment = environment
        test = environment == "test"
        base_url = settings.TRIPLETEX_TEST_URL if test else settings.TRIPLETEX_PRODUCTION_URL
        consumer = (
            settings.TRIPLETEX_CONSUMER_TOKEN_TEST
            if test
            else settings.TRIPLETEX_CONSUMER_TOKEN_PRODUCTION
        )
        consumer = (consumer or "").strip()
        if not consumer or not base_url:
            raise ConfigError(say("platform_not_configured", environment=environment))
        employee = (employee_token or "").strip()
        if not employee:
            raise ConfigError(say("token_missing"), details={"field": "employee_token"})
        register_secret(consumer)
        register_secret(employee)
        self.company_id = int(company_id)
        self._consumer = consumer
        self._employee = employee
        self._cache_key = _hash(base_url.rstrip("/"), consumer, employee)
        super().__init__(
            base_url=base_url,
            rate_key="tripletex:" + _hash(rate_limit_key or self._cache_key)[:40],
            on_call=on_call,
            budget=budget,
            sleep=sleep,
            timeout=(
                float(settings.TRIPLETEX_CONNECT_TIMEOUT),
                float(settings.TRIPLETEX_READ_TIMEOUT),
            ),
            max_attempts=int(settings.TRIPLETEX_MAX_ATTEMPTS),
            max_inline_wait=float(settings.TRIPLETEX_MAX_INLINE_WAIT),
            backoff_base=backoff_base,
            backoff_cap=backoff_cap,
        )
        self._shared = _Shared()
        self._owner = True

    def __repr__(self) -> str:
        return (
            f"<TripletexClient {self.environment} company={self.company_id} "
            f"key={self._rate_key[:18]}…>"
        )

    def for_company(self, company_id: int) -> TripletexClient:
        """A client acting inside client company `company_id` (accountant proxy access), sharing
        this client's session, HTTP connections, budget and `on_call`. Makes no request. Closing
        it does nothing; close the client it came from."""
        child = copy.copy(self)
        child.company_id = int(company_id)
        child._owner = False
        return child

    # --- Public calls ---------------------------------------------------------------------------
    # `request(method, path, params, json, headers)` is the seam's: the parsed answer (2xx or
    # 304), else `AuthError` (401 twice, 403), `RateLimited`, `TransientError`, or
    # `TripletexRequestError` (other 4xx).

    def get_raw(
        self, path: str, params: Mapping[str, Any] | None = None, *, fields: str | None = None
    ) -> dict[str, Any]:
        """The whole JSON body of a GET (e.g. a list envelope). Idempotent; raises as `request`."""
        query = {**(params or {}), **({"fields": fields} if fields else {})}
        data = self.request("GET", path, params=query).data
        if not isinstance(data, dict):
            raise self._malformed("GET", path_template(path))
        return data

    def get(
        self, path: str, params: Mapping[str, Any] | None = None, *, fields: str | None = None
    ) -> dict[str, Any]:
        """The `value` of a single-object envelope (`{"value": {...}}`). Idempotent."""
        data = self.get_raw(path, params, fields=fields)
        value = data.get("value")
        if not isinstance(value, dict):
            raise self._malformed("GET", path_template(path))
        return value

    def post(self, path: str, json: Any = None, params: Mapping[str, Any] | None = None) -> Any:
        """Create: returns the `value` of the answer (the whole body for list envelopes, `None`
        for no body). NOT idempotent and never resent after an ambiguous failure."""
        return self._unwrap(self.request("POST", path, params=params, json=json))

    def put(self, path: str, params: Mapping[str, Any] | None = None, json: Any = None) -> Any:
        """Update or run an action (`/:invoice`): returns as `post`. Not resent after an
        ambiguous failure (an action such as invoicing is not idempotent)."""
        return self._unwrap(self.request("PUT", path, params=params, json=json))

    def delete(self, path: str) -> None:
        """Delete; returns nothing. Not resent after an ambiguous failure."""
        self.request("DELETE", path)

    def iter_pages(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        fields: str | Iterable[str] | None = None,
        page_size: int = 1000,
    ) -> Iterator[list[dict[str, Any]]]:
        """Stream a list endpoint page by page (`from`/`count`), yielding each non-empty page as
        it arrives. Stops at the first page shorter than `count`; `fullResultSize` is deprecated
        and inexact, so it is ignored. Sends `fields` on every page when given. Idempotent."""
        query = dict(params or {})
        if fields:
            query["fields"] = fields if isinstance(fields, str) else ",".join(fields)
        start = int(query.pop("from", 0) or 0)
        while True:
            query.update({"from": start, "count": page_size})
            body = self.get_raw(path, query)
            values = body.get("values")
            # A list of anything but objects is as unreadable as no list: every caller reads
            # rows as objects, and a skipped row would make a wrong count or a lost record.
            if not isinstance(values, list) or not all(isinstance(row, dict) for row in values):
                raise self._malformed("GET", path_template(path))
            if values:
                yield values
            if len(values) < page_size:
                return
            start += len(values)

    def iter_values(
        self,
        path: str,
        params: Mapping[str, Any] | None = None,
        *,
        fields: str | Iterable[str] | None = None,
        page_size: int = 1000,
    ) -> Iterator[dict[str, Any]]:
        """Every value of a list endpoint, streamed (see `iter_pages`). Idempotent."""
        for page in self.iter_pages(path, params, fields=fields, page_size=page_size):
            yield from page

    def close(self) -> None:
        """Delete the session this client used (`DELETE /token/session/{token}`, best effort:
        failures are logged, never raised) and close the HTTP connections. Safe to call twice;
        does nothing on a `for_company` client."""
        if not self._owner or self._shared.closed:
            return
        self._shared.closed = True
        token = self._shared.last_session
        if token:
            with _session_lock(self._cache_key):
                cached = _sessions.get(self._cache_key)
                if cached is not None and cached.token == token:
                    del _sessions[self._cache_key]
            try:
                self.send(
                    "DELETE",
                    f"/token/session/{token}",
                    template="/token/session/{token}",  # the path holds the token
                    credential=token,
                    attempts=1,
                )
            except IntegrationError as exc:
                logger.info("Tripletex session delete failed (ignored): %s", exc.message)
        super().close()

    @property
    def credential_key(self) -> str:
        """A hash of the base URL and both tokens: the key of what this process caches for
        the credential (its session, its export lookups, its companies' voucher types). Never the
        tokens themselves."""
        return self._cache_key

    def release(self) -> None:
        """Close the HTTP connections but keep the session in the process's cache for the
        next client with the same credential (it expires by itself at Oslo midnight, fact
        sheet 2.2), instead of a `:create` and a `DELETE` around every single piece of work."""
        if not self._owner or self._shared.closed:
            return
        self._shared.closed = True
        super().close()

    # --- Sessions ------------------------------------------------------------------------------

    def _session_token(self, stale: str | None = None) -> str:
        """A fresh session token from the cache, or a new one. `stale` is a token Tripletex just
        refused: it is replaced unless another thread has already done so."""
        with _session_lock(self._cache_key):
            cached = _sessions.get(self._cache_key)
            if cached and cached.token != stale and cached.fresh(datetime.now(OSLO)):
                token = cached.token
            else:
                _sessions.pop(self._cache_key, None)
                cached = self._create_session()
                _sessions[self._cache_key] = cached
                token = cached.token
        self._shared.last_session = token
        return token

    def _create_session(self) -> _CachedSession:
        # A test-environment token can never open a production session; say so before sending
        # it to production at all.
        if self.environment == "production" and self._employee.startswith(TEST_TOKEN_PREFIX):
            raise AuthError(say("wrong_environment_" + self.environment), details=_field())
        expires = session_expiration_date(datetime.now(OSLO))
        response = self.send(
            "PUT",
            SESSION_CREATE_PATH,
            params={
                "consumerToken": self._consumer,
                "employeeToken": self._employee,
                "expirationDate": expires.isoformat(),
            },
            authenticate=False,
            idempotent=True,  # a second session is harmless; a lost answer is worth retrying
        )
        if response.status != 200:
            raise self._session_error(response)
        value = response.error.get("value") or {}
        token = value.get("token") if isinstance(value, dict) else None
        if not isinstance(token, str) or not token:
            raise self._malformed("PUT", SESSION_CREATE_PATH)
        register_secret(token)
        with contextlib.suppress(ValueError):  # else keep the date we asked for
            expires = date.fromisoformat(value.get("expirationDate") or "")
        return _CachedSession(token, expires)

    def _session_error(self, response: HttpResponse) -> IntegrationError:
        """The actionable error for a refused `:create`, decided by the validation field and
        Tripletex's wording (this is what an admin sees after "Test connection")."""
        body = response.error
        validation = body.get("validationMessages") or []
        fields = {str(m.get("field") or "").lower() for m in validation if isinstance(m, dict)}
        text = " ".join(
            [str(m.get("message") or "") for m in validation if isinstance(m, dict)]
            + [str(body.get("message") or ""), str(body.get("developerMessage") or "")]
        ).lower()
        details = {**self._diagnostics(response), **_field()}
        if "arg:consumertoken" in fields or ("consumer" in text and "employee" not in text):
            details.pop("field")
            return ConfigError(
                say("consumer_token_invalid", environment=self.environment), details=details
            )
        if "arg:employeetoken" in fields or "employee" in text or response.status in (401, 403):
            if "expired" in text:
                return AuthError(say("token_expired"), details=details)
            if any(w in text for w in ("no longer active", "deactivated", "inactive", "disabled")):
                return AuthError(say("employee_deactivated"), details=details)
            if self._token_looks_like_other_environment():
                return AuthError(say("wrong_environment_" + self.environment), details=details)
            return AuthError(say("token_invalid"), details=details)
        reason = self._validation_text(response) or say("no_reason")
        return AuthError(say("session_refused", reason=reason), details=details)

    def _token_looks_like_other_environment(self) -> bool:
        has_prefix = self._employee.startswith(TEST_TOKEN_PREFIX)
        return has_prefix != (self.environment == "test")

    # --- The seam's hooks -----------------------------------------------------------------------

    def template_for(self, path: str) -> str:
        """Tripletex's template: ids as `{id}`, the aggregate marker as `>`."""
        return path_template(path)

    def authenticate(self, call: HttpCall) -> None:
        """Basic auth as (company id, session token), on every attempt: the cached session, or a
        new one (which may raise `AuthError`/`ConfigError` from `_session_error`). A call that
        fixed its `credential` (deleting that session) uses it as is."""
        token = call.credential or self._session_token()
        call.auth = (str(self.company_id), token)

    def renew_authentication(self, call: HttpCall, response: HttpResponse) -> bool:
        """A 401 on a cached session: it may have expired or been deleted early, so replace it
        (unless another thread already did) and try once more.

        Acting in a client company, a 401 may instead mean the firm lost login access to that
        company while the session is fine. Renewing then would create a session per call for
        nothing, so the session is first checked with `>whoAmI` as the firm (username 0, one
        attempt, no renewal of its own): only a session the firm cannot use either is renewed.
        Otherwise the 401 stands and becomes `BooksAccessLost` (`error_for`)."""
        if response.status != 401 or not call.authenticate or call.credential is not None:
            return False
        stale = call.auth[1] if call.auth else None
        if self.company_id != 0 and stale and self._session_works_for_firm(stale):
            return False
        self._session_token(stale=stale)
        return True

    def _session_works_for_firm(self, token: str) -> bool:
        """Whether Tripletex still accepts session `token` as the firm (username 0)."""
        probe = self.for_company(0).send(
            "GET",
            WHOAMI_PATH,
            params={"fields": "companyId"},
            credential=token,
            attempts=1,
        )
        return probe.ok

    def parse_response(self, raw: requests.Response) -> HttpResponse:
        """JSON, with the request id from `x-tlx-request-id` or else the body's `requestId`."""
        parsed = super().parse_response(raw)
        request_id = raw.headers.get("x-tlx-request-id", "")
        if isinstance(parsed.data, dict) and not request_id:
            request_id = str(parsed.data.get("requestId") or "")
        return dataclasses.replace(parsed, request_id=request_id)

    def error_for(self, call: HttpCall, response: HttpResponse) -> IntegrationError:
        """Acting in a client company, 401 and 403 are `BooksAccessLost` (that client only).
        As the firm, 401 (after a fresh session) is an `AuthError`, 403 a `TripletexForbidden`
        (an `AuthError`); any other refusal is a
        `TripletexRequestError` quoting Tripletex's validation messages."""
        method, template = call.method, call.template
        details = self._diagnostics(response, method, template)
        if response.status in (401, 403) and self.company_id != 0:
            # Only this client company is out of reach; the firm's own calls still work.
            return BooksAccessLost(
                say("books_access_lost", company=self.company_id),
                books_company_id=str(self.company_id),
                details=details,
            )
        if response.status == 401:
            return AuthError(say("unauthorized"), details=details)
        if response.status == 403:
            return TripletexForbidden(say("forbidden", path=template), details=details)
        validation = self._validation(response)
        details["validation_messages"] = validation
        code = response.error.get("code")
        return TripletexRequestError(
            say(
                "refused",
                method=method,
                path=template,
                status=response.status,
                reason=self._validation_text(response) or say("no_reason"),
            ),
            status=response.status,
            code=code if isinstance(code, int) else None,
            validation_messages=validation,
            details=details,
        )

    def failure_error(
        self, kind: str, call: HttpCall, *, write: bool, response: HttpResponse | None
    ) -> IntegrationError:
        """A `TransientError` in Tripletex's words (see `_transient`)."""
        return self._transient(kind, call.method, call.template, write=write, response=response)

    def diagnostics(self, response: HttpResponse) -> dict[str, Any]:
        """Tripletex's `code`, `message`, request id and, as `developer_message`, what it said
        about the failure (`explanation`: its developer message, or when that is null, as it
        usually is, its message and validation messages)."""
        body = response.error
        details: dict[str, Any] = {}
        if body.get("code") is not None:
            details["code"] = body["code"]
        if body.get("message"):
            details["message"] = self.scrub(body["message"])
        explanation = self.explanation(response)
        if explanation:
            details["developer_message"] = explanation
        if response.request_id:
            details["request_id"] = self.scrub(response.request_id)
        return details

    def call_record(self, call: HttpCall, response: HttpResponse, duration_ms: int) -> CallRecord:
        """The record with Tripletex's error code and `explanation` for a 4xx/5xx (the call
        history shows it in its developer-message column)."""
        failed = response.status >= 400
        return CallRecord(
            method=call.method,
            path=call.template,
            status=response.status,
            duration_ms=duration_ms,
            error_code=str(response.error.get("code") or "") if failed else "",
            developer_message=self.explanation(response) if failed else "",
            request_id=self.scrub(response.request_id),
        )

    def explanation(self, response: HttpResponse) -> str:
        """What Tripletex said about a failed call, scrubbed: its `developerMessage` when that
        says something; else (the usual case: it is null, or a bare token such as
        "VALIDATION_ERROR", fact sheet 3.1) its `message` and the first validation messages,
        with the bare token after them. "" when the answer says nothing."""
        developer = self.scrub(response.error.get("developerMessage")).strip()
        if developer and not _BARE_TOKEN.fullmatch(developer):
            return developer
        validation = [
            f"{m['field']}: {m['message']}" if m["field"] else m["message"]
            for m in self._validation(response)[:MAX_EXPLAINED_VALIDATIONS]
        ]
        parts = [self.scrub(response.error.get("message")).strip(), *validation]
        text = "; ".join(part for part in parts if part)
        if developer:
            text = f"{text} ({developer})" if text else developer
        return text

    def secrets(self) -> Iterable[str | None]:
        return (self._consumer, self._employee, self._shared.last_session)

    # --- Errors ------------------------------------------------------------------------------

    def _diagnostics(
        self, response: HttpResponse, method: str = "", template: str = ""
    ) -> dict[str, Any]:
        details: dict[str, Any] = {"status": response.status}
        if method:
            details.update(method=method, path=template)
        return {**details, **self.diagnostics(response)}

    def _validation(self, response: HttpResponse) -> list[dict[str, str]]:
        items = response.error.get("validationMessages") or []
        return [
            {"field": self.scrub(m.get("field")), "message": self.scrub(m.get("message"))}
            for m in items
            if isinstance(m, dict)
        ]

    def _validation_text(self, response: HttpResponse) -> str:
        parts = [
            f"{m['field']}: {m['message']}" if m["field"] else m["message"]
            for m in self._validation(response)
        ]
        body = response.error
        return "; ".join(parts) or self.scrub(body.get("message") or body.get("developerMessage"))

    def _transient(
        self,
        kind: str,
        method: str,
        template: str,
        *,
        write: bool,
        response: HttpResponse | None = None,
    ) -> TransientError:
        details = {"method": method, "path": template, "kind": kind, "write": write}
        if response is not None:
            details.update(self._diagnostics(response, method, template))
        status = response.status if response is not None else None
        text = say(kind, status=status) + " " + say("write_unsure" if write else "retry_later")
        return TransientError(text, details=details)

    def _malformed(self, method: str, template: str, *, write: bool = False) -> TransientError:
        return self._transient("malformed", method, template, write=write)

    @staticmethod
    def _unwrap(response: HttpResponse) -> Any:
        data = response.data
        if isinstance(data, dict) and "value" in data:
            return data["value"]
        return data


__all__ = [
    "MESSAGES",
    "READS",
    "TOKEN_MENU_PATH",
    "TripletexClient",
    "TripletexForbidden",
    "TripletexRequestError",
    "TripletexResponse",
    "clear_session_cache",
    "encode_path",
    "path_template",
    "say",
]
