"""WSGI application, authentication, control API and threaded HTTP server of the Merit sandbox.

Each Merit instance is served under its own path prefix, standing in for its host:
``/ee/api/v1/`` (aktiva.merit.ee), ``/fi/api/v1/`` (app.passelimerit.fi; the old host
aktiva.meritaktiva.fi is ``/fi-legacy/api/v1/``) and ``/pl/api/v1/``
(program.360ksiegowosc.pl). The control API is ``/_sandbox``.

Request flow for an API call: route (unknown instance, version or endpoint → 404
without a body) → method (POST, or GET with a body or ``Param4Net``) → pending fault
(delay, drop) → URL parameters → API ID → rate limit (per company) → timestamp and
signature → licence → fault reply or the handler → log. Every answer to a known API
ID carries ``X-RateLimit-Limit``/``-Remaining``/``-Reset``.
"""

from __future__ import annotations

import json
import logging
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from email.utils import format_datetime
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import IO, Any, cast
from urllib.parse import parse_qsl
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from .. import signing
from .endpoints import (
    DOCUMENT_ENDPOINTS,
    ENDPOINTS,
    Body,
    Call,
    MeritError,
    asp_net_error_page,
    fold,
)
from .invoicing import CONTROL_ROUTES as INVOICING_CONTROL_ROUTES
from .seed import COUNTRIES, PATH_ALIASES
from .statistics import control_statistics
from .store import API_LICENCES, ControlError, Fault, RateState, Store

logger = logging.getLogger(__name__)

#: Sandbox path prefix → instance (the real hosts, see the module docstring).
INSTANCE_PATHS = {**{c.path: code for code, c in COUNTRIES.items()}, **PATH_ALIASES}
#: Merit's text, with its en dash (fact sheet §3).
WRONG_API_ID = "API Id is wrong – make sure you haven't copied spaces."  # noqa: RUF001


# Faults that answer with the real answer, changed (the others replace it).
ANSWERING_FAULTS = frozenset(
    {"delay", "lose_response", "json_string", "cut_json", "cut_connection"}
)


def _cut(reply: Reply, kind: str) -> None:
    """The real answer cut in the middle: as a complete 200 whose JSON stops half-way
    (`cut_json`), or with its whole length announced and the connection closed half-way
    through the body (`cut_connection`). A body too short to cut is cut to nothing."""
    payload = reply.body or b""
    half = len(payload) // 2
    if kind == "cut_json":
        reply.body = payload[:half]
    else:
        reply.cut_at = half


class DropConnection(Exception):
    """Raised by the application to close the connection without sending a response."""


@dataclass
class Reply:
    """Status, body (bytes, or ``None`` for none), content type and extra headers."""

    status: int
    body: bytes | None = None
    content_type: str = "application/json; charset=utf-8"
    headers: list[tuple[str, str]] | None = None
    # Send only this many bytes of `body` (its whole length still announced), then close: the
    # `cut_connection` fault, a connection lost half-way through a large answer.
    cut_at: int | None = None


def _encode(value: Any) -> bytes:
    """JSON as Merit writes it: UTF-8, decimals as plain numbers."""

    def default(item: Any) -> Any:
        if isinstance(item, Decimal):
            # Whole numbers stored without decimals (VAT percentages, counts) stay integers.
            exponent = item.as_tuple().exponent
            return int(item) if isinstance(exponent, int) and exponent >= 0 else float(item)
        if isinstance(item, date):
            return item.isoformat()
        raise TypeError(f"not JSON serialisable: {type(item).__name__}")

    return json.dumps(value, ensure_ascii=False, default=default).encode("utf-8")


def json_reply(value: Any, status: int = 200) -> Reply:
    """A JSON answer."""
    return Reply(status, _encode(value))


def text_reply(
    status: int, text: str | None, content_type: str = "text/plain; charset=utf-8"
) -> Reply:
    """A plain-text (or HTML) answer; ``None`` sends no body at all."""
    return Reply(status, None if text is None else text.encode("utf-8"), content_type)


def _error_reply(error: MeritError) -> Reply:
    if error.json_body:
        return json_reply(error.body, error.status)
    return text_reply(error.status, error.body, error.content_type)


# ------------------------------------------------------------------- the app
class SandboxApp:
    """The WSGI callable: the instances' ``/<country>/api/v1/<endpoint>``, ``/_sandbox``, else 404."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        method = environ.get("REQUEST_METHOD", "GET").upper()
        path = environ.get("PATH_INFO", "") or "/"
        query = parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            host = (
                environ.get("HTTP_HOST")
                or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
            )
            reply = self._control(method, path[len("/_sandbox") :] or "/", body, host, query)
        else:
            reply = self._api(method, path, query, body)
            # The server's own clock, shifted by `/_sandbox/clock` like the signature check, as a
            # real server's `Date` differs from a client whose clock is off: a client can then
            # tell clock skew from a wrong key.
            reply.headers = [
                *(reply.headers or []),
                ("Date", format_datetime(self.store.utcnow(), usegmt=True)),
            ]
        return _send(reply, start_response)

    # ----------------------------------------------------------------- Merit
    def _api(self, method: str, path: str, query: list[tuple[str, str]], body: bytes) -> Reply:
        parts = path.strip("/").split("/")
        country = INSTANCE_PATHS.get(parts[0].lower()) if parts else None
        if (
            len(parts) != 4
            or country not in self.store.instances
            or parts[1].lower() != "api"
            or parts[2].lower() != "v1"
            or parts[3].lower() not in ENDPOINTS
        ):
            return text_reply(404, None)  # a wrong URL: Merit answers 404 (FAQ)
        assert country is not None
        endpoint = parts[3].lower()
        if method not in ("POST", "GET"):
            reply = text_reply(405, None)
            reply.headers = [("Allow", "GET, POST")]
            return reply
        params = {name.lower(): value for name, value in query}
        if method == "GET" and not body and "param4net" in params:
            body = params["param4net"].encode(
                "utf-8"
            )  # for HTTP stacks that cannot send a GET body
        store = self.store
        fault = store.take_fault(country, method, endpoint)
        entry: dict[str, Any] = {
            "method": method,
            "country": country,
            "endpoint": endpoint,
            "status": None,
            "company_id": None,
            "at": store.now().isoformat(timespec="seconds"),
            "fault": fault.kind if fault else None,
        }
        try:
            if fault and fault.kind == "delay":
                time.sleep(fault.delay_seconds)
            if store.latency_seconds:
                time.sleep(store.latency_seconds)  # the network's round trip (`set_latency`)
            if fault and fault.kind == "drop":
                raise DropConnection
            rate: RateState | None = None
            try:
                _credential, company, rate = self._authenticate(country, params, body)
                entry["company_id"] = company.id
                if fault and fault.kind not in ANSWERING_FAULTS:
                    reply = self._fault_reply(fault)
                else:
                    json_string = fault is not None and fault.kind == "json_string"
                    reply = self._dispatch(endpoint, company, body, json_string)
                    if fault and fault.kind in ("cut_json", "cut_connection"):
                        _cut(reply, fault.kind)
            except MeritError as error:
                reply = _error_reply(error)
            except _AuthFailure as failure:
                reply, rate = failure.reply, failure.rate
                entry["company_id"] = failure.company_id
            if rate is not None:
                present = {name.lower() for name, _ in reply.headers or []}
                reply.headers = [
                    *(reply.headers or []),
                    *(h for h in _rate_headers(rate) if h[0].lower() not in present),
                ]
            entry["status"] = reply.status
            if fault and fault.kind == "lose_response":
                raise DropConnection
            return reply
        finally:
            store.log_request(entry)

    def _authenticate(
        self, country: str, params: dict[str, str], body: bytes
    ) -> tuple[Any, Any, RateState]:
        """Check the URL parameters, API ID, rate limit, timestamp, signature and licence."""
        store = self.store
        api_id, timestamp, signature = (
            params.get(name) for name in ("apiid", "timestamp", "signature")
        )
        if not api_id or not timestamp or not signature:
            raise _AuthFailure(text_reply(401, "api-missingurlparam"))
        if api_id != api_id.strip() or not _is_guid(api_id):
            raise _AuthFailure(text_reply(400, WRONG_API_ID))
        found = store.lookup_credential(country, api_id)
        if found is None:
            # FAQ: "If there is no content your API ID is invalid" (also another instance's ID).
            raise _AuthFailure(text_reply(401, None))
        credential, company = found
        rate = store.hit_rate_limit(country, company.id)
        if not rate.allowed:
            reply = text_reply(429, None)
            reply.headers = [("Retry-After", str(rate.retry_after))]
            raise _AuthFailure(reply, rate, company.id)
        try:
            sent_at = signing.parse_timestamp(timestamp)
        except ValueError:
            raise _AuthFailure(text_reply(401, "api-wrongsignature"), rate, company.id) from None
        if abs((store.utcnow() - sent_at).total_seconds()) > store.max_skew_seconds:
            raise _AuthFailure(text_reply(401, "api-wrongsignature"), rate, company.id)
        # The API ID as sent is what the client signed (its case included).
        if not signing.verify(api_id, credential.api_key, timestamp, body, signature):
            store.mark_insecure(credential)
            raise _AuthFailure(text_reply(401, "api-wrongsignature"), rate, company.id)
        if company.licence not in API_LICENCES:
            raise _AuthFailure(text_reply(401, "api-wronglicense"), rate, company.id)
        return credential, company, rate

    def _dispatch(self, endpoint: str, company: Any, raw: bytes, json_string: bool) -> Reply:
        store = self.store
        text = raw.decode("utf-8", "replace").strip()
        try:
            data = json.loads(text) if text else {}
        except ValueError:
            data = None
        if not isinstance(data, dict):
            return json_reply(
                {
                    "ErrorCode": "FormatException",
                    "Message": "The request body is not a JSON object.",
                },
                500,
            )
        with store.lock:
            if endpoint in DOCUMENT_ENDPOINTS:
                company.ensure_history()
            try:
                result = ENDPOINTS[endpoint](
                    Call(company, Body(fold(data)), store.now(), store.today())
                )
            except MeritError:
                raise
            except Exception:  # any bug becomes Merit's 500 page, and is logged for us
                logger.exception("merit sandbox handler failed for %s", endpoint)
                return text_reply(
                    500,
                    asp_net_error_page("System.Exception", "An error has occurred."),
                    "text/html; charset=utf-8",
                )
        payload = _encode(result)
        if json_string:
            # Before "February 8" Merit answered with a JSON string holding the JSON.
            payload = json.dumps(payload.decode("utf-8"), ensure_ascii=False).encode("utf-8")
        return Reply(200, payload)

    def _fault_reply(self, fault: Fault) -> Reply:
        kind = fault.kind
        if kind == "rate_limit":
            reply = text_reply(429, None)
            reply.headers = (
                [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
            )
            reply.headers.append(("X-RateLimit-Remaining", "0"))
            return reply
        if kind == "unavailable":
            reply = text_reply(503, _UNAVAILABLE_PAGE, "text/html; charset=us-ascii")
            reply.headers = (
                [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
            )
            return reply
        if kind == "malformed_json":
            return Reply(
                200, b'[{"CustomerId":"6f1c2a70-3c1e-4b8e-9a1d-2f0b5c6d7e8f","Name":"Kase Eh'
            )
        if kind == "stacktrace_200":
            return text_reply(
                200,
                asp_net_error_page(
                    "System.NullReferenceException",
                    "Object reference not set to an instance of an object.",
                ),
                "text/html; charset=utf-8",
            )
        if kind == "wrong_signature":
            return text_reply(401, "api-wrongsignature")
        if kind == "unauthorized":
            # Merit's answer to an API ID it no longer knows (a key deleted in API settings).
            return text_reply(401, None)
        return text_reply(
            500,
            asp_net_error_page("System.Exception", "An error has occurred."),
            "text/html; charset=utf-8",
        )

    # ----------------------------------------------------------- control API
    def _control(
        self,
        method: str,
        path: str,
        body: bytes,
        host: str,
        query: list[tuple[str, str]] | None = None,
    ) -> Reply:
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return json_reply({"error": "the request body is not valid JSON"}, 400)
        if not isinstance(data, dict):
            return json_reply({"error": "the request body must be a JSON object"}, 400)
        if method == "GET":  # a GET's arguments come in its query string
            data = {**dict(query or ()), **data}
        handler, args, allowed = _find_control(method, path.rstrip("/") or "/")
        if handler is None:
            return json_reply(
                {"error": f"{method} {path} is not a control operation"}, 405 if allowed else 404
            )
        try:
            with self.store.lock:
                status, result = handler(self.store, data, *args)
        except ControlError as exc:
            return json_reply({"error": str(exc)}, exc.status)
        except (TypeError, ValueError, KeyError) as exc:
            return json_reply({"error": f"bad argument: {exc}"}, 400)
        if status == 204:
            return Reply(204)
        if path.rstrip("/") in ("", "/") and isinstance(result, dict):
            result["urls"] = {
                code: f"http://{host}/{COUNTRIES[code].path}/api/v1/"
                for code in self.store.instances
            }
        return json_reply(result, status)


class _AuthFailure(Exception):
    """An authentication or rate-limit refusal, with the reply and (if known) the company's window."""

    def __init__(
        self, reply: Reply, rate: RateState | None = None, company_id: int | None = None
    ) -> None:
        super().__init__(reply.status)
        self.reply, self.rate, self.company_id = reply, rate, company_id


def _is_guid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return True


_UNAVAILABLE_PAGE = (
    '<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN""http://www.w3.org/TR/html4/strict.dtd">\r\n'
    "<HTML><HEAD><TITLE>Service Unavailable</TITLE>\r\n"
    '<META HTTP-EQUIV="Content-Type" Content="text/html; charset=us-ascii"></HEAD>\r\n'
    "<BODY><h2>Service Unavailable</h2>\r\n<hr><p>HTTP Error 503. The service is unavailable.</p>\r\n"
    "</BODY></HTML>\r\n"
)


def _rate_headers(rate: RateState) -> list[tuple[str, str]]:
    return [
        ("X-RateLimit-Limit", str(rate.limit)),
        ("X-RateLimit-Remaining", str(rate.remaining)),
        ("X-RateLimit-Reset", str(rate.reset_at)),
    ]


def _send(reply: Reply, start_response: Callable[..., Any]) -> Iterable[bytes]:
    status = f"{reply.status} {HTTPStatus(reply.status).phrase}"
    headers = list(reply.headers or [])
    present = {name.lower() for name, _ in headers}
    payload = reply.body or b""
    if reply.body is not None and "content-type" not in present:
        headers.append(("Content-Type", reply.content_type))
    headers.append(("Content-Length", str(len(payload))))
    start_response(status, headers)
    if reply.cut_at is not None:
        return _cut_off(payload[: reply.cut_at])
    return [payload] if payload else []


def _cut_off(sent: bytes) -> Iterator[bytes]:
    """`sent`, then the connection closed before the rest (`DropConnection`)."""
    yield sent
    raise DropConnection


# ------------------------------------------------------------ control routes
ControlHandler = Callable[..., tuple[int, Any]]


def _reset(store: Store, data: dict[str, Any]) -> tuple[int, Any]:
    customers = data.get("customers")
    return 200, store.reset(
        str(data.get("seed", "demo")), None if customers is None else int(customers)
    )


def _clock(store: Store, data: dict[str, Any]) -> tuple[int, Any]:
    if data:
        return 200, store.set_clock(data.get("offset_seconds"), data.get("max_skew_seconds"))
    return 200, store.clock()


def _rate_limit(store: Store, data: dict[str, Any]) -> tuple[int, Any]:
    if data:
        return 200, store.set_rate_limit(
            int(data["limit"]), float(data.get("period_seconds", store.rate_period))
        )
    return 200, {"limit": store.rate_limit, "period_seconds": store.rate_period}


def _create_customer(store: Store, data: dict[str, Any]) -> tuple[int, Any]:
    values = dict(data)
    country = str(values.pop("country", "EE"))
    company_id = values.pop("company_id", None)
    return 201, _public(store.create_customer(country, company_id, **values))


def _public(row: dict[str, Any]) -> dict[str, Any]:
    view = {key: value for key, value in row.items() if not key.startswith("_")}
    if "_changed" in row:
        view["changed_at"] = row["_changed"].isoformat(timespec="seconds")
    return view


def _pay(store: Store, data: dict[str, Any], invoice_id: str) -> tuple[int, Any]:
    on = date.fromisoformat(data["date"]) if data.get("date") else None
    return 201, _public(store.pay_invoice(invoice_id, data.get("amount"), on, data.get("method")))


def _fault(store: Store, data: dict[str, Any]) -> tuple[int, Any]:
    return 201, store.inject_fault(**data)


#: The control API under ``/_sandbox``: (method, template, handler); ``{}`` matches one segment.
CONTROL_ROUTES: list[tuple[str, str, ControlHandler]] = [
    ("GET", "/", lambda store, data: (200, store.info())),
    ("POST", "/reset", _reset),
    ("GET", "/clock", _clock),
    ("POST", "/clock", _clock),
    ("GET", "/rate-limit", _rate_limit),
    ("POST", "/rate-limit", _rate_limit),
    ("GET", "/credentials", lambda store, data: (200, {"credentials": store.credentials()})),
    (
        "POST",
        "/credentials",
        lambda store, data: (
            201,
            store.create_credentials(str(data.get("country", "EE")), data.get("company_id")),
        ),
    ),
    (
        "GET",
        "/credentials/{}",
        lambda store, data, api_id: (200, store.find_credential(api_id).public()),
    ),
    (
        "DELETE",
        "/credentials/{}",
        lambda store, data, api_id: (204, store.revoke_credentials(api_id)),
    ),
    (
        "POST",
        "/companies/{}/licence",
        lambda store, data, cid: (200, store.set_licence(int(cid), data["licence"])),
    ),
    ("POST", "/customers", _create_customer),
    (
        "PUT",
        "/customers/{}",
        lambda store, data, cid: (200, _public(store.update_customer(cid, **data))),
    ),
    ("POST", "/invoices/{}/payments", _pay),
    *INVOICING_CONTROL_ROUTES,
    ("GET", "/faults", lambda store, data: (200, {"faults": store.faults()})),
    ("POST", "/faults", _fault),
    ("DELETE", "/faults", lambda store, data: (204, store.clear_faults())),
    ("GET", "/requests", lambda store, data: (200, store.request_log())),
    ("DELETE", "/requests", lambda store, data: (204, store.clear_requests())),
    ("GET", "/statistics", control_statistics),  # the true work statistics of a client-month
]


def _find_control(method: str, path: str) -> tuple[ControlHandler | None, list[str], bool]:
    """The handler for ``method path``, its path arguments, and whether the path exists at all."""
    have = path.split("/")
    exists = False
    for route_method, template, handler in CONTROL_ROUTES:
        want = template.split("/")
        if len(want) != len(have):
            continue
        if all((w == "{}" and h) or w == h for w, h in zip(want, have, strict=True)):
            exists = True
            if route_method == method:
                return handler, [h for w, h in zip(want, have, strict=True) if w == "{}"], True
    return None, [], exists


# -------------------------------------------------------------------- server
# The same small wsgiref server as the Tripletex sandbox (kept separate so the two
# emulators can change independently).
class _ServerHandler(ServerHandler):
    """wsgiref handler that closes the socket silently on :class:`DropConnection`."""

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    """One request per connection (HTTP/1.0 style close), no console logging."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (request lines carry API IDs and signatures)."""

    def handle(self) -> None:
        self.raw_requestline = self.rfile.readline(65537)
        if len(self.raw_requestline) > 65536:
            self.requestline, self.request_version, self.command = "", "", ""
            self.send_error(414)
            return
        if not self.parse_request():
            return
        output = cast(IO[bytes], self.wfile)
        handler = _ServerHandler(
            self.rfile, output, sys.stderr, self.get_environ(), multithread=True
        )
        handler.request_handler = self  # type: ignore[attr-defined]
        handler.run(self.server.get_app())  # type: ignore[attr-defined]


class _ThreadingServer(ThreadingMixIn, WSGIServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def server_bind(self) -> None:
        """Bind without the reverse-DNS lookup ``HTTPServer.server_bind`` does."""
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)
        self.setup_environ()


class SandboxServer:
    """A Merit sandbox HTTP server around a :class:`~.store.Store`.

    ``urls`` maps each country to its API base URL (``http://127.0.0.1:54321/ee/api/v1/``);
    ``url`` is the default country's; ``base_url`` is the server root (control API at
    ``base_url + "/_sandbox"``).
    """

    def __init__(
        self, store: Store, host: str = "127.0.0.1", port: int = 0, country: str = "EE"
    ) -> None:
        self.store = store
        self.country = country.upper()
        if self.country not in store.instances:
            raise ControlError(f"country {country} is not served by this store")
        self._httpd = _ThreadingServer((host, port), _RequestHandler)
        self._httpd.set_app(SandboxApp(store))
        self.host = host
        self.port = int(self._httpd.server_address[1])
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:54321``."""
        host = "127.0.0.1" if self.host in ("", "0.0.0.0") else self.host  # noqa: S104 - a comparison
        return f"http://{host}:{self.port}"

    def url_for(self, country: str) -> str:
        """The API base URL of one instance, ending in ``/api/v1/`` like Merit's."""
        return f"{self.base_url}/{COUNTRIES[country.upper()].path}/api/v1/"

    @property
    def urls(self) -> dict[str, str]:
        """Country → API base URL, for every served instance."""
        return {code: self.url_for(code) for code in self.store.instances}

    @property
    def url(self) -> str:
        """The default country's API base URL."""
        return self.url_for(self.country)

    def start(self) -> SandboxServer:
        """Serve in a daemon thread and return ``self``."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"merit-sandbox-{self.port}",
            daemon=True,
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        """Serve in the calling thread until :meth:`stop` (or KeyboardInterrupt)."""
        self._httpd.serve_forever(poll_interval=0.2)

    def stop(self) -> None:
        """Stop serving and close the listening socket."""
        if self._thread is not None:
            self._httpd.shutdown()
            self._thread.join(timeout=5)
            self._thread = None
        self._httpd.server_close()

    def __enter__(self) -> SandboxServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
