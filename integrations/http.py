"""`VendorHttpClient`: the one HTTP seam every vendor client stands on.

The rules that must hold for every accounting system live here, once:

* **Timeouts.** Every request has a connect and a read timeout (the vendor passes its settings).
* **The shared rate-limit budget** (`integrations.ratelimit`): one call reserved from it before
  each attempt (`reserve`), fed the vendor's rate-limit headers after each answer, blocked on a
  429 for every worker sharing the credential. A wait longer than `max_inline_wait` raises `RateLimited` instead of sleeping.
* **Retries of reads only.** A call the vendor marks idempotent (by default GET/HEAD/OPTIONS; a
  vendor such as Merit, whose reads are POSTs, passes `idempotent=True`) is retried on timeouts,
  dropped connections, 429, 5xx and malformed answers, with exponential backoff plus jitter.
* **No blind resend of a write.** A write is sent again only when it certainly did not happen:
  the connection was never made, or the vendor answered 429/503 ("not done"). After a timeout, a
  dropped connection or another 5xx it raises a `TransientError` whose `details["write"]` is
  True and whose message says the change may have been applied: only the caller can check.
* **A `CallRecord` per attempt**, through the `on_call` recorder, with a path template
  (`/customer/{id}`), never a real path, query string or body.
* **No secret, URL or query string in any exception.** requests' own exceptions quote the URL
  (vendors put credentials in query strings), so none is ever chained or re-raised: errors are
  built outside the `except` blocks. urllib3's request-line logging is redacted too.

A vendor subclasses `VendorHttpClient` and overrides the hooks below (each documents its
contract); everything else (sessions, pagination, its own convenience calls) stays in the
vendor's client. Hooks, in the order one attempt meets them:

    template_for(path)               -> the path template for call records and errors
    authenticate(call)               -> sign / authenticate this attempt (every attempt)
    parse_response(raw)              -> decode the answer (unwrap what the vendor wraps)
    parse_stream(raw, body)          -> a streamed 2xx answer (`send(..., stream=True)`)
    rate_limit_info(response)        -> what the rate-limit headers say (names in
                                        `rate_limit_headers`; the reset in seconds)
    retry_after(response)            -> how long a 429 asks us to wait (default:
                                        Retry-After, else the period reset)
    renew_authentication(call, resp) -> one fresh try after "credentials refused"?
    error_for(call, response)        -> the vendor's error for a refused call (4xx)
    failure_error(kind, call, ...)   -> the vendor's error for a transient failure
    diagnostics(response)            -> vendor ids and texts for error details
    call_record(call, resp, ms)      -> the `CallRecord` of an answered attempt
    secrets()                        -> credentials to mask in any vendor text we keep
"""

from __future__ import annotations

import dataclasses
import email.utils
import json as jsonlib
import logging
import random
import re
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import IO, Any, ClassVar
from urllib.parse import quote

import ijson
import requests
from django.utils.translation import gettext_lazy
from requests.structures import CaseInsensitiveDict

from integrations.base import CallRecord, CallRecorder, IntegrationError, TransientError
from integrations.ratelimit import RateLimitBudget, get_budget, rate_limited
from uku.i18n import every_language
from uku.logging import redact

READS = frozenset({"GET", "HEAD", "OPTIONS"})
DEFAULT_RETRY_AFTER = 2.0  # seconds, when a 429 names no wait
MIN_RETRY_AFTER = 0.5  # never hammer a vendor that said "0"
REDACTED = "[REDACTED]"
_NUMERIC = re.compile(r"^\d+$")
# A streamed answer (`send(..., stream=True)`) is read from the socket in chunks of this size
# into a temporary file that stays in memory up to `STREAM_SPOOL_BYTES`, then moves to disk.
STREAM_CHUNK_BYTES = 64 * 1024
STREAM_SPOOL_BYTES = 1024 * 1024


# A request line's query string: `"GET /path?a=1&b=2 HTTP/1.1"` keeps `/path`.
_QUERY_STRING = re.compile(r"(?<=[^\s?\"])\?[^\s\"]+")


class _RedactUrllib3(logging.Filter):
    """urllib3 logs every request line at DEBUG, query string included, and vendors put
    credentials there (Tripletex's session-create tokens, Merit's ApiId and signature, which no
    pattern of `uku.logging` recognises). Settings keep urllib3 at WARNING; this filter drops
    every query string and masks known secrets even when someone turns it up."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = _QUERY_STRING.sub("?" + REDACTED, redact(message))
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_urllib3_logger = logging.getLogger("urllib3.connectionpool")
if not any(isinstance(f, _RedactUrllib3) for f in _urllib3_logger.filters):
    _urllib3_logger.addFilter(_RedactUrllib3())


# --- What a call is and what came back ---------------------------------------------------------


@dataclass
class HttpCall:
    """One attempt of one call, as the hooks see it. The seam makes a fresh copy for every
    attempt, so a hook may change `params`, `headers` and `auth` freely (a signature added on
    attempt 1 is not still there on attempt 2).

    `path` is what the caller asked for; `url` is the base URL plus the encoded path, without a
    query string (that is `params`). `body` is the JSON body serialised once, before the first
    attempt, so a signature over it signs exactly the bytes sent. `credential` is an optional
    credential the caller fixed for this call (Tripletex: the session being deleted); what it
    means is the vendor's business. Never logged, never in an error: hence `repr=False`."""

    method: str
    path: str = field(repr=False)  # may hold a token (Tripletex's session delete)
    template: str
    url: str = field(repr=False)
    idempotent: bool
    params: dict[str, str] = field(default_factory=dict, repr=False)
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    body: bytes | None = field(default=None, repr=False)
    auth: tuple[str, str] | None = field(default=None, repr=False)
    authenticate: bool = True
    credential: str | None = field(default=None, repr=False)
    attempt: int = 1
    # Read a 2xx answer as a stream (`send(..., stream=True)`; see `parse_stream`).
    stream: bool = False


@dataclass(frozen=True)
class HttpResponse:
    """A parsed answer: HTTP status, the decoded body (`None` for 204/304/no body), the
    vendor's request id and the headers. `malformed` is True when a body was there but could
    not be read. `text` is the raw body text (vendors such as Merit answer some errors in plain
    text). Never holds the request, whose URL or headers carry credentials."""

    status: int
    data: Any
    request_id: str = ""
    headers: Mapping[str, str] = field(default_factory=dict, repr=False)
    malformed: bool = False
    text: str = field(default="", repr=False)

    @property
    def ok(self) -> bool:
        """A 2xx or a 304 (not modified)."""
        return 200 <= self.status < 300 or self.status == 304

    @property
    def error(self) -> dict[str, Any]:
        """The body when it is a JSON object (an error envelope, usually), else empty."""
        return self.data if isinstance(self.data, dict) else {}


class StreamedArray:
    """The items of a 2xx answer that is one JSON array of objects, decoded one at a time from
    the spooled body (`send(..., stream=True)`): the whole array is never in memory at once, and
    neither is its text. The body was read to the end and checked well-formed before this was
    made (see `VendorHttpClient.parse_stream`), so iterating it cannot meet a cut answer.
    Iterable once (a second pass, or a body unreadable after all, raises `ValueError`); the
    spooled body is closed when the items run out, or by `close()`."""

    def __init__(self, body: IO[bytes], count: int) -> None:
        self._body: IO[bytes] | None = body
        #: How many items the array holds (counted when the body was checked).
        self.count = count

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        body = self._body
        if body is None:
            raise ValueError("a streamed answer is read once")
        try:
            body.seek(0)
            # use_float: numbers as json.loads gives them (int or float), not Decimal.
            yield from ijson.items(body, "item", use_float=True)
        except ijson.JSONError as exc:  # checked whole before; the file changed under us
            raise ValueError("the streamed answer is no longer readable") from exc
        finally:
            self.close()

    def close(self) -> None:
        """Close the spooled body (deleting its file). Safe to call twice."""
        if self._body is not None:
            self._body.close()
            self._body = None

    def __repr__(self) -> str:
        return f"<StreamedArray of {self.count}>"


def spooled_array(body: IO[bytes]) -> StreamedArray | None:
    """`body` (rewound) as a `StreamedArray` when it is one well-formed JSON array of objects
    (UTF-8, nothing after it), else `None`. One pass over the body with ijson; each item is
    decoded and dropped, so memory stays that of the largest item. Leaves `body` open."""
    body.seek(0)
    head = body.read(64).lstrip()
    if not head.startswith(b"["):
        return None
    body.seek(0)
    count = 0
    try:
        for item in ijson.items(body, "item", use_float=True):
            if not isinstance(item, dict):
                return None
            count += 1
    except (ijson.JSONError, ValueError):
        return None
    body.seek(0)
    return StreamedArray(body, count)


@dataclass(frozen=True)
class RateLimitInfo:
    """What a response's rate-limit headers say: requests allowed per period, requests left,
    and seconds until the period resets. `None` where the vendor said nothing."""

    limit: int | None = None
    remaining: int | None = None
    reset_seconds: float | None = None


# --- Helpers vendors share ---------------------------------------------------------------------


def encode_path(path: str) -> str:
    """The path as sent: `>` always as `%3E`, `:` and `/` kept, an existing `%XX` left alone."""
    if not path.startswith("/"):
        path = "/" + path
    return quote(path, safe="/:%@!$&'()*+,;=-._~")


def path_template(path: str) -> str:
    """`/customer/123/x?y=1` -> `/customer/{id}/x`: no id, no query string, no token."""
    parts = path.split("?", 1)[0].split("/")
    return "/".join("{id}" if _NUMERIC.match(p) else p for p in parts) or "/"


def encode_query(params: Mapping[str, Any] | None) -> dict[str, str]:
    """Query values as text: booleans as true/false, lists comma-joined, dates ISO, `None`
    left out."""
    out: dict[str, str] = {}
    for key, value in (params or {}).items():
        if value is None:
            continue
        if isinstance(value, bool):
            out[key] = "true" if value else "false"
        elif isinstance(value, date):
            out[key] = value.isoformat()
        elif isinstance(value, list | tuple | set | frozenset):
            out[key] = ",".join(str(v) for v in value)
        else:
            out[key] = str(value)
    return out


def header_seconds(headers: Mapping[str, str], name: str) -> float | None:
    """A header as a number of seconds: a plain number, or an HTTP date (as `Retry-After` may
    be) turned into the seconds from now. `None` when missing or unreadable."""
    value = headers.get(name)
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
            return max(0.0, when.timestamp() - time.time())
        except (TypeError, ValueError):
            return None


def _spool(raw: requests.Response) -> IO[bytes] | None:
    """A streamed answer's body: a 2xx body read in chunks into a temporary file (rewound),
    else `None` after reading the (small) body as requests would. Raises what reading the body
    raises (requests' exceptions: a read timeout, a dropped or cut connection)."""
    if not 200 <= raw.status_code < 300 or raw.status_code == 204:
        raw.content  # noqa: B018 - read now, inside the attempt
        return None
    spool = tempfile.SpooledTemporaryFile(max_size=STREAM_SPOOL_BYTES)  # noqa: SIM115
    try:
        for chunk in raw.iter_content(STREAM_CHUNK_BYTES):
            spool.write(chunk)
    except BaseException:
        spool.close()
        raise
    spool.seek(0)
    return spool


def _discard(response: HttpResponse) -> None:
    """Close a streamed answer that is not returned (a retry, a renewal)."""
    if isinstance(response.data, StreamedArray):
        response.data.close()


def _maybe_sent(exc: requests.ConnectionError) -> bool:
    """False only when the connection was never made (refused, DNS), so nothing was sent."""
    reason = exc.args[0] if exc.args else None
    reason = getattr(reason, "reason", reason)
    name = type(reason).__name__
    return name not in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError")


# Generic texts for `failure_error`; a vendor with its own (translated) catalogue overrides it.
FAILURE_TEXTS: dict[str, Any] = {
    "timeout": gettext_lazy("%(vendor)s did not answer in time."),
    "connection": gettext_lazy("The connection to %(vendor)s failed."),
    "malformed": gettext_lazy("%(vendor)s sent an answer uku could not read."),
    "server": gettext_lazy("%(vendor)s had a server error (HTTP %(status)s)."),
    "write_unsure": gettext_lazy(
        "The change may or may not have been saved in %(vendor)s, so uku did not send it again."
    ),
    "retry_later": gettext_lazy("uku will try again later."),
    "refused": gettext_lazy("%(vendor)s refused %(method)s %(path)s (HTTP %(status)s)."),
}


# --- The seam ------------------------------------------------------------------------------------


class VendorHttpClient:
    """The shared request loop; a vendor's client subclasses it and overrides the hooks.

    Construction makes no request. `rate_key` names the shared budget: build it from a hash of
    the credential, never the credential itself. `timeout` is (connect, read) seconds;
    `max_attempts` bounds the attempts of one call (the first send included);
    `max_inline_wait` is the longest the budget may sleep inline before raising `RateLimited`
    (`None`: the budget's default). `sleep`, `budget` and the backoff numbers are injectable so
    tests need not wait.
    """

    #: The vendor's name, for log lines and the generic texts.
    vendor: ClassVar[str] = "The accounting system"
    #: The vendor's rate-limit headers: requests per period, requests left, period reset.
    rate_limit_headers: ClassVar[tuple[str, str, str]] = (
        "X-RateLimit-Limit",
        "X-RateLimit-Remaining",
        "X-RateLimit-Reset",
    )

    def __init__(
        self,
        *,
        base_url: str,
        rate_key: str,
        on_call: CallRecorder | None = None,
        budget: RateLimitBudget | None = None,
        sleep: Callable[[float], None] | None = None,
        timeout: tuple[float, float] = (5.0, 30.0),
        max_attempts: int = 4,
        max_inline_wait: float | None = None,
        backoff_base: float = 0.5,
        backoff_cap: float = 8.0,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._rate_key = rate_key
        self._on_call = on_call
        self._sleep = sleep if sleep is not None else time.sleep
        self._budget = budget or get_budget(sleep=self._sleep)
        self._timeout = timeout
        self._max_attempts = max_attempts
        self._max_inline_wait = max_inline_wait
        self._backoff_base = backoff_base
        self._backoff_cap = backoff_cap
        # Log under the vendor's module (integrations.tripletex.client, ...), not this one.
        self._log = logging.getLogger(type(self).__module__)
        self._http = requests.Session()
        self._http.headers.update(
            {"Accept": "application/json", "User-Agent": "uku", **(headers or {})}
        )

    # --- Calls -----------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        *,
        idempotent: bool | None = None,
        stream: bool = False,
    ) -> HttpResponse:
        """Send one call and return the answer when it is a 2xx or 304; raise `error_for`'s
        error for any other answer, and what `send` raises. Reads are retried; a write is sent
        at most once unless the vendor said 429/503 (see `send`, and there `stream`)."""
        call = self._new_call(method, path, params, json, headers, idempotent)
        call.stream = stream
        response = self._loop(call, None)
        if response.ok:
            return response
        raise self.error_for(call, response)

    def send(
        self,
        method: str,
        path: str,
        *,
        params: Mapping[str, Any] | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        idempotent: bool | None = None,
        template: str | None = None,
        authenticate: bool = True,
        credential: str | None = None,
        attempts: int | None = None,
        stream: bool = False,
    ) -> HttpResponse:
        """One logical call with retries; the loop every vendor shares.

        `idempotent` defaults to "the method is a read" (`READS`); pass True for a read sent
        as POST, or for a write that is harmless to repeat. `authenticate=False` skips the
        `authenticate` hook (the call that creates a session). `credential` is handed to the
        hooks on `HttpCall.credential`. `template` overrides `template_for(path)` (a path that
        holds a token needs one); `attempts` overrides `max_attempts` (1: no retry).

        `stream=True` is for an answer that may be large and is one JSON array of objects (a
        vendor's unpaged list): a 2xx body is read in chunks into a temporary file (on disk past
        `STREAM_SPOOL_BYTES`), never held as bytes, text and objects at once, and handed to
        `parse_stream`, whose answer's `data` is then a `StreamedArray` (decoded item by item
        when iterated; the caller closes it if it stops early). The body is read to its end
        inside the attempt, so a timeout, a dropped connection or a cut or malformed body is
        met, retried and reported exactly as without `stream`; any other answer (an error,
        `null`, an object) is decoded whole as `parse_response` decodes it.

        Returns the final answer when it is a 2xx, 3xx or 4xx other than 429 (after at most
        one renewal when `renew_authentication` asks for it). Raises `RateLimited` (the 429
        persists, or the shared budget's wait is too long), `failure_error(...)` for a
        timeout, a failed connection, a 5xx or a malformed 2xx that retrying could not fix, and
        whatever `authenticate` raises. Never chains a requests exception."""
        call = self._new_call(
            method, path, params, json, headers, idempotent, template, authenticate, credential
        )
        call.stream = stream
        return self._loop(call, attempts)

    def _loop(self, first: HttpCall, attempts: int | None) -> HttpResponse:
        method, idempotent = first.method, first.idempotent
        max_attempts = attempts or max(1, int(self._max_attempts))
        attempt = 0
        renewed = False
        while True:
            attempt += 1
            # Reserves this attempt's call. May raise RateLimited before anything is sent;
            # sleeps short waits shared with every other worker on this credential.
            self._budget.reserve(self._rate_key, max_wait=self._max_inline_wait)
            # A fresh copy per attempt: authentication is redone (a fresh session check, a
            # fresh timestamp and signature) after any wait, and nothing from the last attempt
            # leaks into this one.
            call = dataclasses.replace(
                first, params=dict(first.params), headers=dict(first.headers), attempt=attempt
            )
            if call.authenticate:
                self.authenticate(call)
            started = time.monotonic()
            failure: str | None = None
            maybe_sent = True
            raw: requests.Response | None = None
            body: IO[bytes] | None = None
            try:
                raw = self._http.request(
                    call.method,
                    call.url,
                    params=call.params,
                    data=call.body,
                    headers=call.headers,
                    auth=call.auth,
                    timeout=self._timeout,
                    allow_redirects=False,
                    stream=call.stream,
                )
                if call.stream:
                    # Read to the end here, so the body's failures are this attempt's.
                    body = _spool(raw)
            except requests.ConnectTimeout:
                failure, maybe_sent = "timeout", False
            except requests.Timeout:
                failure = "timeout"
            except requests.ConnectionError as exc:
                failure, maybe_sent = "connection", _maybe_sent(exc)
            except requests.RequestException:
                failure = "connection"
            # Deliberately outside the `except` blocks: requests' exceptions quote the URL (with
            # credentials in the query string) and must not become the `__context__` of ours.
            duration = int((time.monotonic() - started) * 1000)
            if failure is not None:
                if raw is not None:  # the body of a streamed answer failed half-way
                    raw.close()
                self._record(CallRecord(method, call.template, None, duration))
                if (idempotent or not maybe_sent) and attempt < max_attempts:
                    self._backoff(attempt)
                    continue
                raise self.failure_error(
                    failure, call, write=not idempotent and maybe_sent, response=None
                )
            assert raw is not None  # set whenever there was no failure
            response = self.parse_response(raw) if body is None else self.parse_stream(raw, body)
            raw.close()
            self._record(self.call_record(call, response, duration))
            self._observe_rate_limit(response)
            status = response.status
            if not renewed and self.renew_authentication(call, response):
                _discard(response)
                renewed = True  # one fresh try; it does not count as an attempt
                attempt -= 1
                continue
            if status == 429:
                retry_after = self.retry_after(response)
                self._budget.block(self._rate_key, retry_after)
                if attempt < max_attempts:
                    continue  # the budget's reserve() sleeps it out, shared with other workers
                error = rate_limited(retry_after)
                error.details.update(self._details(call, response))
                raise error
            # 503 means "not done", so even a write may go again; other 5xx may have been done.
            retryable = status == 503 or (status >= 500 and idempotent)
            malformed_read = response.malformed and 200 <= status < 300 and idempotent
            if (retryable or malformed_read) and attempt < max_attempts:
                self._backoff(attempt)
                continue
            if status >= 500:
                write = not idempotent and status != 503
                raise self.failure_error("server", call, write=write, response=response)
            if response.malformed and 200 <= status < 300:
                raise self.failure_error("malformed", call, write=not idempotent, response=None)
            return response

    def close(self) -> None:
        """Close the HTTP connections. Safe to call twice."""
        self._http.close()

    # --- Hooks: override these ---------------------------------------------------------------

    def template_for(self, path: str) -> str:
        """The path template shown in call records and error details for `path`: ids replaced
        by `{id}`, no query string, never a token (a path that carries one needs an explicit
        `template=` on `send`). Pure; must not raise."""
        return path_template(path)

    def authenticate(self, call: HttpCall) -> None:
        """Authenticate or sign `call` in place: set `call.auth` (basic auth), add to
        `call.headers` or `call.params`. Called before EVERY attempt, retries included, after
        any rate-limit wait, on a fresh copy of the call, so a signature always carries a fresh
        timestamp. Skipped for `send(..., authenticate=False)`.

        May make calls of its own through `send(..., authenticate=False)` (to create a session)
        and raise any `IntegrationError` (typically `AuthError`), which ends the call. Must
        register every credential it adds with `uku.logging.register_secret`. Default: nothing."""

    def renew_authentication(self, call: HttpCall, response: HttpResponse) -> bool:
        """Whether `response` says the credentials of `call` were refused in a way a fresh
        authentication may fix (an expired session; a stale timestamp). Return True to send
        the call once more (the seam asks at most once per call, and the resend does not count
        as an attempt); do whatever renewal needs here (drop the cached session). Return False
        to let the answer through (`error_for` then maps it). May raise an `IntegrationError`
        when the renewal itself fails (a new session refused). Default: False."""
        return False

    def parse_response(self, raw: requests.Response) -> HttpResponse:
        """Decode `raw` into an `HttpResponse`. Default: JSON when there is a body (not for
        204/304); a body that is not JSON sets `malformed` (a 2xx read is then retried, a 2xx
        write raises `failure_error("malformed")`). Override to unwrap what the vendor wraps (a
        JSON string holding JSON) or to pick the request id. Must not raise; must not keep the
        request."""
        data: Any = None
        malformed = False
        text = ""
        if raw.content and raw.status_code not in (204, 304):
            text = raw.text
            try:
                data = raw.json()
            except ValueError:
                malformed = True
        return HttpResponse(
            status=raw.status_code,
            data=data,
            request_id=raw.headers.get("x-request-id", ""),
            headers=CaseInsensitiveDict(raw.headers),
            malformed=malformed,
            text=text,
        )

    def parse_stream(self, raw: requests.Response, body: IO[bytes]) -> HttpResponse:
        """Decode a 2xx answer of `send(..., stream=True)`, whose body was read into `body` (a
        temporary file, rewound). Default: one JSON array of objects becomes a `StreamedArray`
        over `body` (checked well-formed to its end first, so a cut answer is malformed here
        and retried, never half-read later); any other body is read into memory and decoded
        by `parse_response`, exactly as without `stream` (its quirks, `malformed` included).
        Must not raise; owns `body` (keeps it in the answer or closes it)."""
        items = spooled_array(body)
        if items is not None:
            return HttpResponse(
                status=raw.status_code,
                data=items,
                request_id=raw.headers.get("x-request-id", ""),
                headers=CaseInsensitiveDict(raw.headers),
            )
        # Not a plain array of objects: what `parse_response` knows how to read (a JSON string
        # holding JSON, null, an object, an error page), from the body as requests would hold it.
        body.seek(0)
        raw._content = body.read()  # requests keeps a read body there
        body.close()
        return self.parse_response(raw)

    def rate_limit_info(self, response: HttpResponse) -> RateLimitInfo | None:
        """What the response's `rate_limit_headers` say, or `None` when it has none; the reset
        in seconds from now. A vendor whose reset is a timestamp (Merit) converts it here, and
        `retry_after` then gets it right too. Must not raise."""
        names = self.rate_limit_headers
        limit, remaining, reset = (header_seconds(response.headers, name) for name in names)
        if limit is None and remaining is None and reset is None:
            return None
        return RateLimitInfo(
            int(limit) if limit is not None else None,
            int(remaining) if remaining is not None else None,
            reset,
        )

    def retry_after(self, response: HttpResponse) -> float:
        """Seconds a 429 asks every worker to wait: `Retry-After` (seconds or HTTP date), else
        the period reset of `rate_limit_info`, else `DEFAULT_RETRY_AFTER`; at least
        `MIN_RETRY_AFTER`. Must not raise."""
        seconds = header_seconds(response.headers, "Retry-After")
        if seconds is None or seconds < 0:
            info = self.rate_limit_info(response)
            seconds = info.reset_seconds if info is not None else None
        if seconds is not None and seconds >= 0:
            return max(seconds, MIN_RETRY_AFTER)
        return DEFAULT_RETRY_AFTER

    def error_for(self, call: HttpCall, response: HttpResponse) -> IntegrationError:
        """The error for an answer `request` will not return (a 4xx other than 429, or a 3xx):
        usually `AuthError` for refused credentials and `ConfigError` (or a subclass with the
        vendor's codes) for a refused request. Returned, not raised. The message is shown to
        users: the vendor's own texts are fine after `scrub`, a URL or credential never.
        Default: a permanent `IntegrationError` naming method, template and status."""
        values = {
            "vendor": self.vendor, "method": call.method, "path": call.template,
            "status": response.status,
        }  # fmt: skip
        text = every_language(lambda: FAILURE_TEXTS["refused"] % values)
        return IntegrationError(text, details=self._details(call, response))

    def failure_error(
        self, kind: str, call: HttpCall, *, write: bool, response: HttpResponse | None
    ) -> IntegrationError:
        """The error raised when retrying could not fix a failure. `kind` is "timeout",
        "connection", "server" (a 5xx; `response` is given) or "malformed" (an unreadable 2xx).
        `write` is True when a non-idempotent call may have been applied: the message must say
        so, and the caller must check before trying again. Returned, not raised; normally a
        `TransientError` (a vendor may return a permanent error, e.g. for a 5xx that says the
        payload is invalid). Default: the generic texts of `FAILURE_TEXTS`."""
        values = {"vendor": self.vendor, "status": response.status if response else None}
        then = FAILURE_TEXTS["write_unsure" if write else "retry_later"]
        text = every_language(lambda: f"{FAILURE_TEXTS[kind] % values} {then % values}")
        details: dict[str, Any] = {
            "method": call.method, "path": call.template, "kind": kind, "write": write,
        }  # fmt: skip
        if response is not None:
            details.update(self._details(call, response))
        return TransientError(text, details=details)

    def diagnostics(self, response: HttpResponse) -> dict[str, Any]:
        """The vendor's own diagnostics of an answer for error details (error code, developer
        message, request id), each passed through `scrub`. Default: the request id."""
        return {"request_id": self.scrub(response.request_id)} if response.request_id else {}

    def call_record(self, call: HttpCall, response: HttpResponse, duration_ms: int) -> CallRecord:
        """The `CallRecord` of an answered attempt (one is made per attempt). Never holds a
        token, a query string or a body. Default: method, template, status, duration and the
        request id."""
        return CallRecord(
            method=call.method,
            path=call.template,
            status=response.status,
            duration_ms=duration_ms,
            request_id=self.scrub(response.request_id),
        )

    def secrets(self) -> Iterable[str | None]:
        """The credentials this client holds, masked by `scrub` in any vendor text kept in
        errors or records (defence in depth: a vendor may echo what it was sent)."""
        return ()

    # --- Shared helpers ----------------------------------------------------------------------

    def scrub(self, text: Any) -> str:
        """`text` as a string with every credential of `secrets()` masked."""
        result = str(text or "")
        for secret in self.secrets():
            if secret and secret in result:
                result = result.replace(secret, REDACTED)
        return result

    def _details(self, call: HttpCall, response: HttpResponse) -> dict[str, Any]:
        return {
            "status": response.status, "method": call.method, "path": call.template,
            **self.diagnostics(response),
        }  # fmt: skip

    def _new_call(
        self,
        method: str,
        path: str,
        params: Mapping[str, Any] | None,
        json: Any,
        headers: Mapping[str, str] | None,
        idempotent: bool | None,
        template: str | None = None,
        authenticate: bool = True,
        credential: str | None = None,
    ) -> HttpCall:
        method = method.upper()
        all_headers = dict(headers or {})
        body = None
        if json is not None:
            # Serialised once, as requests would (no NaN), so a signature covers the bytes sent.
            body = jsonlib.dumps(json, allow_nan=False).encode("utf-8")
            if not any(name.lower() == "content-type" for name in all_headers):
                all_headers["Content-Type"] = "application/json"
        return HttpCall(
            method=method,
            path=path,
            template=template or self.template_for(path),
            url=self.base_url + encode_path(path),
            idempotent=method in READS if idempotent is None else idempotent,
            params=encode_query(params),
            headers=all_headers,
            body=body,
            authenticate=authenticate,
            credential=credential,
        )

    def _observe_rate_limit(self, response: HttpResponse) -> None:
        info = self.rate_limit_info(response)
        if info is not None:
            self._budget.update(self._rate_key, info.limit, info.remaining, info.reset_seconds)

    def _backoff(self, attempt: int) -> None:
        # Exponential, with jitter so workers that failed together do not retry together.
        delay = min(self._backoff_cap, self._backoff_base * 2 ** (attempt - 1))
        self._sleep(delay * (1 + random.random() / 2))  # noqa: S311 - not cryptographic

    def _record(self, record: CallRecord) -> None:
        self._log.debug(
            "%s %s %s -> %s in %d ms",
            self.vendor,
            record.method,
            record.path,
            record.status,
            record.duration_ms,
        )
        if self._on_call is None:
            return
        try:
            self._on_call(record)
        except Exception:  # a broken call log must not break the sync it records
            self._log.warning("Recording a %s call failed", self.vendor, exc_info=True)


__all__ = [
    "DEFAULT_RETRY_AFTER",
    "READS",
    "HttpCall",
    "HttpResponse",
    "RateLimitInfo",
    "StreamedArray",
    "VendorHttpClient",
    "encode_path",
    "encode_query",
    "header_seconds",
    "path_template",
]
