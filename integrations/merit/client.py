"""`MeritClient`: uku's client for the Merit Aktiva API v1, on the shared HTTP seam.

Timeouts, the shared rate-limit budget, retries (reads only), call records, secret-free errors and
urllib3 redaction are the seam's (`integrations.http.VendorHttpClient`). What is Merit's own
lives here (the fact sheet, /work/shared/vendors/merit-aktiva/README.md, is the reference):

* **Signing.** Every attempt carries `ApiId`, a fresh UTC `timestamp` and
  `signature = base64(HMAC-SHA256(api key as typed, api id + timestamp + body))` in the query
  string (`integrations.merit.signing`), so a retry after a 429 is signed anew, as Merit asks.
  One `api-wrongsignature` is answered by one re-signed try (a stale timestamp); a second one is
  a wrong key, or clock skew when Merit's `Date` header is minutes off our clock.
* **Reads are POSTs.** Merit's list calls are POSTs with a JSON body; every one is sent with
  `idempotent=True` so the seam retries it like a GET.
* **Rate limit.** 60 calls a minute per company: one shared budget per credential, fed the
  `X-RateLimit-*` headers (the reset is a unix timestamp, converted here).
* **Answers.** A JSON string holding JSON (Merit before "February 8") is unwrapped; a 200 with a
  stack trace (not JSON) is malformed: a read is retried, then fails as a transient error.
* **Date windows.** List calls take at most 3 months (31 days for `GetGLBatchesFull`);
  `split_window` and `MeritClient.iter_windows` cut longer periods to size.
* **Secrets.** The API ID and key are registered with `uku.logging.register_secret`; no message,
  log line, `repr()`, `CallRecord` or error detail made here holds them, the signature, a URL or
  a query string.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from email.utils import parsedate_to_datetime
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests

from integrations.base import (
    AuthError,
    CallRecord,
    CallRecorder,
    ConfigError,
    IntegrationError,
    TransientError,
)
from integrations.http import (
    HttpCall,
    HttpResponse,
    RateLimitInfo,
    StreamedArray,
    VendorHttpClient,
)
from integrations.merit import errors, signing
from integrations.merit import settings as merit_settings
from integrations.merit.errors import MeritRequestError, say
from integrations.ratelimit import RateLimitBudget
from uku.logging import register_secret

#: The most a list call may cover (fact sheet §3): months for most lists, days for the full GL.
MAX_WINDOW_MONTHS = 3
MAX_GL_FULL_DAYS = 31
WINDOWED_ENDPOINTS: dict[str, dict[str, int]] = {
    "getinvoices": {"months": MAX_WINDOW_MONTHS},
    "getpayments": {"months": MAX_WINDOW_MONTHS},
    "getpurchorders": {"months": MAX_WINDOW_MONTHS},
    "getglbatches": {"months": MAX_WINDOW_MONTHS},
    "getglbatchesfull": {"days": MAX_GL_FULL_DAYS},
}
PERIOD_FORMAT = "%Y%m%d"
# Merit's tolerance for stale timestamps is not published (the emulator uses 5 minutes). A
# refused signature with Merit's clock more than this far from ours is read as clock skew: a
# wrong key with correct clocks is seconds off at most.
CLOCK_SKEW_SECONDS = 60
# Loopback addresses may be plain HTTP (the emulator); Merit itself rejects non-HTTPS requests,
# and an API ID and signature must never travel in clear text to anyone else.
_LOOPBACK = frozenset({"127.0.0.1", "localhost", "::1"})


# --- Date windows ----------------------------------------------------------------------------------


def add_months(day: date, months: int) -> date:
    """`day` moved by `months` calendar months, clamped to the last day of the month."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise AssertionError("unreachable")  # pragma: no cover - February has 28 days


def split_window(
    start: date, end: date, *, months: int | None = None, days: int | None = None
) -> list[tuple[date, date]]:
    """`start`..`end` (both inclusive) cut into consecutive windows Merit accepts.

    `months`: each window ends the day before the same day `months` later (Merit's "max 3
    months", read strictly: 1 Jan-31 Mar). `days`: each window's end is at most `days` after its
    start ("PeriodEnd max 31 days after start"). No gap, no overlap; empty when `end < start`.
    Pure."""
    if (months is None) == (days is None):
        raise ValueError("give months or days")
    windows: list[tuple[date, date]] = []
    cursor = start
    while cursor <= end:
        if months is not None:
            last = add_months(cursor, months) - timedelta(days=1)
        else:
            last = cursor + timedelta(days=days or 0)
        last = min(last, end)
        windows.append((cursor, last))
        cursor = last + timedelta(days=1)
    return windows


# --- The client ------------------------------------------------------------------------------------


class MeritClient(VendorHttpClient):
    """A signed connection to one Merit company in one country instance ("ee", "fi", "pl").

    Construction makes no request. The API ID and key are stripped of surrounding whitespace
    before anything is signed. Raises `ConfigError` when the country has no usable base URL (not
    HTTPS, outside loopback). `options` go to `VendorHttpClient` (tests inject `sleep`, `budget`,
    `backoff_base`); timeouts and attempts default to `integrations.merit.settings`.
    """

    vendor: ClassVar[str] = "Merit Aktiva"

    def __init__(
        self,
        *,
        api_id: str,
        api_key: str,
        country: str,
        rate_key: str,
        base_url: str | None = None,
        on_call: CallRecorder | None = None,
        budget: RateLimitBudget | None = None,
        **options: Any,
    ) -> None:
        self.country = country
        self._api_id = str(api_id or "").strip()
        self._api_key = str(api_key or "").strip()
        register_secret(self._api_id)
        register_secret(self._api_key)
        url = base_url if base_url is not None else merit_settings.base_url(country)
        if not _usable_base_url(url):
            raise ConfigError(say("not_configured", country=country), details={"country": country})
        # What this process caches for the credential (export lookups) is keyed by this hash,
        # never by the API ID and key themselves.
        self.credential_key = hashlib.sha256(
            "\0".join((url.rstrip("/"), country, self._api_id, self._api_key)).encode()
        ).hexdigest()
        options.setdefault(
            "timeout",
            (
                float(merit_settings.get("MERIT_CONNECT_TIMEOUT")),
                float(merit_settings.get("MERIT_READ_TIMEOUT")),
            ),
        )
        options.setdefault("max_attempts", int(merit_settings.get("MERIT_MAX_ATTEMPTS")))
        options.setdefault("max_inline_wait", float(merit_settings.get("MERIT_MAX_INLINE_WAIT")))
        super().__init__(
            base_url=url,
            rate_key=rate_key or "merit:unkeyed",
            on_call=on_call,
            budget=budget,
            **options,
        )

    def __repr__(self) -> str:  # the default would show the credentials
        return f"<MeritClient {self.country}>"

    # --- Calls -----------------------------------------------------------------------------------

    def post(self, endpoint: str, body: Mapping[str, Any] | None = None) -> Any:
        """POST a read (`gettaxes`, `getcustomers`, ...) with `body` (default `{}`) and return the
        decoded answer (a list or an object). Retried like a GET (idempotent). Raises
        `AuthError`, `MeritRequestError`, `RateLimited` or `TransientError`."""
        response = self.request("POST", f"/{endpoint}", json=dict(body or {}), idempotent=True)
        return response.data

    def post_list(self, endpoint: str, body: Mapping[str, Any] | None = None) -> list[Any]:
        """`post`, for endpoints answering an array of objects; a `null` answer is an empty
        list, an object (or an array holding anything but objects) is a malformed answer
        (`TransientError`): a skipped row would make a wrong count or a lost record."""
        return _rows(endpoint, self.post(endpoint, body))

    def post_stream(self, endpoint: str, body: Mapping[str, Any] | None = None) -> Any:
        """`post`, with the answer streamed (`VendorHttpClient.send(..., stream=True)`): Merit
        has no paging, so a list such as `getcustomers` comes whole, and this reads it to the
        end into a temporary file and checks it, without holding it as bytes, text and objects.
        Returns a `StreamedArray` (rows decoded one at a time) when the answer is an array of
        objects, else the decoded answer as `post` returns it. Errors as `post`'s: a timeout,
        a cut or malformed body, a 429 are retried and reported the same way."""
        response = self.request(
            "POST", f"/{endpoint}", json=dict(body or {}), idempotent=True, stream=True
        )
        return response.data

    def iter_list(
        self, endpoint: str, body: Mapping[str, Any] | None = None, *, size: int
    ) -> Iterator[list[dict[str, Any]]]:
        """The rows of a list endpoint in batches of `size`, read from the streamed answer
        (`post_stream`): at most one batch of decoded rows is held here at a time. The answer
        is read and checked whole before the first batch, so a cut or malformed answer raises
        (`TransientError`, kind "malformed") before any row is handed out, never half-way; an
        object, or an array holding anything but objects, too, as for `post_list`. Read-only."""
        data = self.post_stream(endpoint, body)
        if not isinstance(data, StreamedArray):
            rows = _rows(endpoint, data)
            for start in range(0, len(rows), size):
                yield rows[start : start + size]
            return
        batch: list[dict[str, Any]] = []
        try:
            for row in data:
                batch.append(row)
                if len(batch) >= size:
                    yield batch
                    batch = []
        except ValueError:  # checked whole already; a file that changed under us
            raise TransientError(
                f"{say('malformed')} {say('retry_later')}",
                details={"path": f"/{endpoint}", "kind": "malformed"},
            ) from None
        finally:
            data.close()
        if batch:
            yield batch

    def iter_windows(
        self, endpoint: str, start: date, end: date, body: Mapping[str, Any] | None = None
    ) -> Iterator[list[Any]]:
        """The rows of a period list (`getinvoices`, `GetGLBatchesFull`, ...) from `start` to
        `end` inclusive, one window's answer at a time: the period is split to the endpoint's
        maximum (`WINDOWED_ENDPOINTS`), each window sent with `PeriodStart`/`PeriodEnd`
        (`yyyyMMdd`) and the other fields of `body`. Read-only."""
        limits = WINDOWED_ENDPOINTS[endpoint.lower()]
        for first, last in split_window(start, end, **limits):
            window = {
                **dict(body or {}),
                "PeriodStart": first.strftime(PERIOD_FORMAT),
                "PeriodEnd": last.strftime(PERIOD_FORMAT),
            }
            yield self.post_list(endpoint, window)

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
        """The seam's call, with the body serialised as Merit documents it: compact, plain UTF-8
        JSON (`signing.dump_body`; the seam's default escapes non-ASCII). Still serialised once,
        before the first attempt, so every signature covers exactly the bytes sent."""
        call = super()._new_call(
            method, path, params, json, headers, idempotent, template, authenticate, credential
        )
        if json is not None:
            call.body = signing.dump_body(json).encode("utf-8")
        return call

    # --- Hooks -----------------------------------------------------------------------------------

    def authenticate(self, call: HttpCall) -> None:
        """Sign this attempt: `ApiId`, a fresh UTC timestamp, and the HMAC over exactly the body
        bytes the seam sends. Never raises for good credentials; the key was registered as a
        secret at construction."""
        call.params.update(signing.signed_query(self._api_id, self._api_key, call.body or b""))

    def renew_authentication(self, call: HttpCall, response: HttpResponse) -> bool:
        """One re-signed try after `api-wrongsignature`: the timestamp may have gone stale on the
        way (a long wait, a slow proxy). A second refusal goes to `error_for`."""
        return response.status == 401 and _text_code(response) == errors.WRONG_SIGNATURE

    def parse_response(self, raw: requests.Response) -> HttpResponse:
        """JSON as the seam reads it, plus Merit's quirks: a JSON string holding JSON is decoded
        once more; a 2xx whose body is an error page (a stack trace) is malformed; a plain-text
        refusal (`api-wrongsignature`) keeps its text and is not "malformed"."""
        parsed = super().parse_response(raw)
        if isinstance(parsed.data, str):
            try:
                return dataclasses.replace(parsed, data=json.loads(parsed.data))
            except ValueError:
                return dataclasses.replace(parsed, data=None, malformed=parsed.ok)
        if parsed.malformed and not parsed.ok:
            # Merit answers refusals in plain text: that is an answer, not a broken one.
            return dataclasses.replace(parsed, malformed=False)
        return parsed

    def rate_limit_info(self, response: HttpResponse) -> RateLimitInfo | None:
        """`X-RateLimit-*`, with Merit's reset (a unix timestamp) turned into seconds from now.

        On a 429 that names a `Retry-After`, that is the wait (the seam blocks the budget for
        it), and its "0 remaining" is not fed to the budget: Merit may accept calls again
        before the window's end, and waiting for the reset could hold a job a whole minute."""
        info = super().rate_limit_info(response)
        if info is None:
            return info
        if response.status == 429 and response.headers.get("Retry-After"):
            info = dataclasses.replace(info, remaining=None)
        if info.reset_seconds is None:
            return info
        return dataclasses.replace(
            info, reset_seconds=max(0.0, info.reset_seconds - self._budget.clock())
        )

    def error_for(self, call: HttpCall, response: HttpResponse) -> IntegrationError:
        """Merit's refusals, each with its own cause and remedy (fact sheet §3):

        400 "API Id is wrong" -> `AuthError` (api ID); 400 `{"Message"}` -> `MeritRequestError`;
        401 `api-wrongsignature` -> `AuthError` (wrong key, or clock skew from the `Date`
        header); 401 `api-wronglicense` -> `AuthError` (licence); 401 `api-missingurlparam` ->
        `AuthError`; empty 401 -> `AuthError` with code `unknown-api-id` (unknown here, or
        revoked); 404 -> `MeritRequestError`."""
        status, code = response.status, _text_code(response)
        details = self._details(call, response)
        country = self.country
        if status == 401:
            if code == errors.WRONG_SIGNATURE:
                skew = self._clock_skew(response)
                if skew is not None and abs(skew) > CLOCK_SKEW_SECONDS:
                    minutes = max(1, round(abs(skew) / 60))
                    return AuthError(
                        say("clock_skew", minutes=minutes),
                        details={**details, "code": errors.CLOCK_SKEW, "skew_seconds": int(skew)},
                    )
                return AuthError(say("wrong_key"), details=details)
            if code == errors.WRONG_LICENCE:
                return AuthError(say("licence"), details=details)
            if code == errors.MISSING_URL_PARAM:
                return AuthError(say("missing_param"), details=details)
            return AuthError(
                say("unknown_api_id", country=country),
                details={**details, "code": errors.UNKNOWN_API_ID},
            )
        if status == 400 and "api id is wrong" in response.text.lower():
            return AuthError(
                say("api_id_wrong"), details={**details, "code": errors.API_ID_MALFORMED}
            )
        if status == 404:
            return MeritRequestError(
                say("not_found", country=country, path=call.template),
                status=status,
                details=details,
            )
        reason = self._merit_message(response) or say("no_reason")
        return MeritRequestError(
            say("refused", path=call.template, status=status, reason=reason),
            status=status,
            merit_message=self._merit_message(response),
            details=details,
        )

    def failure_error(
        self, kind: str, call: HttpCall, *, write: bool, response: HttpResponse | None
    ) -> IntegrationError:
        """The seam's transient failures in Merit's words (translated)."""
        status = response.status if response is not None else None
        text = f"{say(kind, status=status)} {say('write_unsure' if write else 'retry_later')}"
        details: dict[str, Any] = {
            "method": call.method, "path": call.template, "kind": kind, "write": write,
        }  # fmt: skip
        if response is not None:
            details.update(self._details(call, response))
        return TransientError(text, details=details)

    def diagnostics(self, response: HttpResponse) -> dict[str, Any]:
        """Merit has no request id; its diagnostics are the refusal code (`api-wrongsignature`,
        ...) or its `Message`, secrets masked."""
        out: dict[str, Any] = {}
        code = _text_code(response)
        if code:
            out["code"] = code
        message = self._merit_message(response)
        if message:
            out["merit_message"] = message
        return out

    def call_record(self, call: HttpCall, response: HttpResponse, duration_ms: int) -> CallRecord:
        """Method, endpoint (`/gettaxes`: never the query string), status, duration, and Merit's
        refusal code or message for a failed call."""
        return CallRecord(
            method=call.method,
            path=call.template,
            status=response.status,
            duration_ms=duration_ms,
            error_code=_text_code(response)[:32],
            developer_message=self._merit_message(response)[:500],
        )

    def secrets(self) -> Iterable[str | None]:
        """The API ID and key, masked in any Merit text kept (Merit might echo what it got)."""
        return (self._api_id, self._api_key)

    # --- Helpers ---------------------------------------------------------------------------------

    def _merit_message(self, response: HttpResponse) -> str:
        """Merit's `Message` of a JSON refusal, masked and cut short; "" for anything else (a
        stack trace is never kept: it may quote the request)."""
        if response.ok:
            return ""
        message = response.error.get("Message") or response.error.get("message")
        return self.scrub(message)[:500] if message else ""

    def _clock_skew(self, response: HttpResponse) -> float | None:
        """Seconds Merit's clock (its `Date` header) is ahead of ours; `None` without one."""
        value = response.headers.get("Date")
        if not value:
            return None
        try:
            server = parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        if server.tzinfo is None:
            server = server.replace(tzinfo=UTC)
        return server.timestamp() - datetime.now(UTC).timestamp()


def _rows(endpoint: str, data: Any) -> list[Any]:
    """A decoded list answer's rows: `null` is none; anything but an array of objects is a
    malformed answer (`TransientError`)."""
    if data is None:
        return []
    if not isinstance(data, list) or not all(isinstance(row, dict) for row in data):
        raise TransientError(
            f"{say('malformed')} {say('retry_later')}",
            details={"path": f"/{endpoint}", "kind": "malformed"},
        )
    return data


def _text_code(response: HttpResponse) -> str:
    """Merit's plain-text refusal code (`api-wrongsignature`, ...), or ""."""
    text = response.text.strip().strip('"')
    return text if text.startswith("api-") and len(text) <= 40 else ""


def _usable_base_url(url: str) -> bool:
    """HTTPS, or plain HTTP to this machine (the emulator). Anything else would send the API ID
    and signature in clear text."""
    parts = urlsplit(url or "")
    if parts.scheme == "https" and parts.hostname:
        return True
    return parts.scheme == "http" and (parts.hostname or "") in _LOOPBACK


__all__ = [
    "MAX_GL_FULL_DAYS",
    "MAX_WINDOW_MONTHS",
    "MeritClient",
    "add_months",
    "split_window",
]
