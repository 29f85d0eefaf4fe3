"""WSGI application, router, control API and threaded HTTP server of the Tripletex sandbox.

Request flow for ``/v2/...``: pick a pending fault → route → Basic auth (to
find the rate-limit bucket) → count against the rate limit → fault reply, 429,
404/405, 401/403, or the handler → log the request. Every ``/v2`` response
carries ``x-tlx-request-id`` and the ``X-Rate-Limit-*`` headers. Paths outside
``/v2`` and ``/_sandbox`` answer 404 with the Tripletex error envelope.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import socketserver
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from socketserver import ThreadingMixIn
from typing import IO, Any, cast
from urllib.parse import parse_qsl
from wsgiref.simple_server import ServerHandler, WSGIRequestHandler, WSGIServer

from . import bookkeeping
from .endpoints import (
    Call,
    Reply,
    company_detail,
    detail,
    invoice_payment,
    listing,
    order_create,
    order_invoice,
    order_update,
    session_create,
    session_delete,
    who_am_i,
    with_login_access,
)
from .fields import (
    KIND_PATHS,
    Filter,
    QueryError,
    contains,
    date_range,
    enum,
    equals,
    flag,
    ids,
    number_range,
    one_of,
    since,
)
from .orders import API_ROUTES as ORDER_API_ROUTES
from .orders import CONTROL_ROUTES as ORDER_CONTROL_ROUTES
from .store import (
    ACCOUNTANT_FIRM_CALLS,
    ControlError,
    Fault,
    RateState,
    Row,
    Store,
    TripletexError,
    forbidden,
    parse_date,
)

logger = logging.getLogger(__name__)

_ANONYMOUS = ("", "")
_REDACTED = "<redacted>"
_SECRET_PARAMS = frozenset({"consumerToken", "employeeToken"})
_DOCS = {
    "test": "https://api-test.tripletex.tech/v2-docs/",
    "production": "https://tripletex.no/v2-docs/",
}


class DropConnection(Exception):
    """Raised by the application to close the connection without sending a response."""


# -------------------------------------------------------------------- router
@dataclass(frozen=True)
class Route:
    """One endpoint: method, template (``{id}`` = digits, ``{token}`` = any segment) and handler."""

    method: str
    template: str
    handler: Callable[..., Reply]
    public: bool = False

    def match(self, path: str, *, any_id: bool = False) -> dict[str, Any] | None:
        """Path parameters if ``path`` fits the template, else ``None``. With ``any_id`` an
        ``{id}`` segment that is not a number still fits, as ``{"bad_id": segment}``."""
        want, have = self.template.split("/"), path.split("/")
        if len(want) != len(have):
            return None
        params: dict[str, Any] = {}
        for pattern, part in zip(want, have, strict=True):
            if pattern == "{id}" and part.isdigit():
                params["id"] = int(part)
            elif pattern == "{id}" and any_id and part:
                params["bad_id"] = part
            elif pattern == "{token}" and part:
                params["token"] = part
            elif pattern != part:
                return None
        return params


def find_route(
    routes: list[Route], method: str, path: str
) -> tuple[Route | None, dict[str, Any], list[str]]:
    """The route for ``method path``, its parameters, and the methods the path supports."""
    allowed: list[str] = []
    for route in routes:
        params = route.match(path)
        if params is None:
            continue
        if route.method == method:
            return route, params, [method]
        allowed.append(route.method)
    if not allowed:
        # Tripletex parses the id of `/x/{id}` as a number: `GET /company/whoAmI` is not an
        # unknown path but a malformed id (422 / 21000, raised once the caller is authenticated).
        for route in routes:
            params = route.match(path, any_id=True) if route.method == method else None
            if params is not None and "bad_id" in params:
                return route, params, [method]
    return None, {}, allowed


def _vat_matches(row: Row, type_of_vat: str) -> bool:
    return type_of_vat in row.get("_tags", ())


def _is_project_activity(row: Row, value: str) -> bool:
    return (row.get("activityType") != "GENERAL_ACTIVITY") is (value == "true")


def _is_general_activity(row: Row, value: str) -> bool:
    return (row.get("activityType") == "GENERAL_ACTIVITY") is (value == "true")


def _postings_total(rows: list[Row]) -> dict[str, Any]:
    return {"totalNumberOfPostings": sum(len(row.get("postings") or ()) for row in rows)}


def _entity(
    path: str,
    kind: str,
    *filters: Filter,
    required: tuple[str, ...] = (),
    extra: Callable[[list[Row]], dict[str, Any]] | None = None,
) -> list[Route]:
    return [
        Route("GET", path, listing(kind, *filters, required=required, extra=extra)),
        Route("GET", f"{path}/{{id}}", detail(kind)),
    ]


_BOOL = ("true", "false")
#: The emulated Tripletex endpoints (paths relative to ``/v2``).
ROUTES: list[Route] = [
    Route("PUT", "/token/session/:create", session_create, public=True),
    Route("GET", "/token/session/>whoAmI", who_am_i),
    Route("DELETE", "/token/session/{token}", session_delete),
    Route("GET", "/company/>withLoginAccess", with_login_access),
    Route("GET", "/company/{id}", company_detail),
    *_entity(
        "/employee",
        "employee",
        ids("id"),
        contains("firstName", "firstName"),
        contains("lastName", "lastName"),
        contains("email", "email"),
        equals("employeeNumber", "employeeNumber"),
    ),
    *_entity(
        "/customer",
        "customer",
        ids("id"),
        ids("customerAccountNumber", "customerNumber"),
        equals("organizationNumber", "organizationNumber"),
        equals("email", "email", fold=True),
        equals("invoiceEmail", "invoiceEmail", fold=True),
        contains("customerName", "name"),
        equals("phoneNumberMobile", "phoneNumberMobile"),
        flag("isInactive", "isInactive", default=False),
        ids("accountManagerId", "accountManager"),
        since("changedSince", "_changed_at"),
    ),
    *_entity(
        "/product",
        "product",
        ids("id"),
        ids("ids"),
        one_of("productNumber", "number"),
        one_of("number", "number"),
        contains("name", "name"),
        flag("isInactive", "isInactive"),
        ids("vatTypeId", "vatType"),
    ),
    *_entity(
        "/ledger/vatType",
        "vatType",
        ids("id"),
        one_of("number", "number"),
        enum(
            "typeOfVat",
            ("OUTGOING", "INCOMING", "INCOMING_INVOICE", "PROJECT", "LEDGER"),
            _vat_matches,
        ),
    ),
    Route(
        "GET",
        "/order",
        listing(
            "order",
            date_range("orderDateFrom", "orderDateTo", "orderDate"),
            ids("id"),
            equals("number", "number"),
            ids("customerId", "customer"),
            flag("isClosed", "isClosed"),
            flag("isSubscription", "isSubscription"),
            contains("deliveryComment", "deliveryComment"),
            required=("orderDateFrom", "orderDateTo"),
        ),
    ),
    Route("POST", "/order", order_create),
    Route("GET", "/order/{id}", detail("order")),
    Route("PUT", "/order/{id}", order_update),
    Route("PUT", "/order/{id}/:invoice", order_invoice),
    Route("GET", "/order/orderline/{id}", detail("orderLine")),
    *_entity(
        "/invoice",
        "invoice",
        date_range("invoiceDateFrom", "invoiceDateTo", "invoiceDate"),
        ids("id"),
        ids("invoiceNumber", "invoiceNumber"),
        ids("customerId", "customer"),
        equals("kid", "kid"),
        ids("voucherId", "voucher"),
        required=("invoiceDateFrom", "invoiceDateTo"),
    ),
    Route("PUT", "/invoice/{id}/:payment", invoice_payment),
    *_entity(
        "/invoice/paymentType", "paymentType", ids("id"), contains("description", "description")
    ),
    *_entity(
        "/ledger/voucher",
        "voucher",
        date_range("dateFrom", "dateTo", "date"),
        ids("id"),
        ids("number", "number"),
        number_range("numberFrom", "numberTo", "number"),
        ids("typeId", "voucherType"),
        required=("dateFrom", "dateTo"),
        extra=_postings_total,
    ),
    *_entity("/ledger/voucherType", "voucherType", contains("name", "name")),
    *_entity(
        "/ledger/posting",
        "posting",
        date_range("dateFrom", "dateTo", "date"),
        ids("id"),
        ids("accountId", "account"),
        ids("customerId", "customer"),
        ids("supplierId", "supplier"),
        required=("dateFrom", "dateTo"),
    ),
    *_entity(
        "/ledger/account",
        "account",
        ids("id"),
        ids("number", "number"),
        flag("isBankAccount", "isBankAccount"),
        flag("isInactive", "isInactive"),
        equals("ledgerType", "ledgerType"),
    ),
    *_entity(
        "/supplierInvoice",
        "supplierInvoice",
        date_range("invoiceDateFrom", "invoiceDateTo", "invoiceDate"),
        ids("id"),
        equals("invoiceNumber", "invoiceNumber"),
        equals("kid", "kidOrReceiverReference"),
        ids("voucherId", "voucher"),
        ids("supplierId", "supplier"),
        required=("invoiceDateFrom", "invoiceDateTo"),
    ),
    *_entity(
        "/supplier",
        "supplier",
        ids("id"),
        equals("organizationNumber", "organizationNumber"),
        flag("isInactive", "isInactive"),
    ),
    *_entity("/bank/statement", "bankStatement", ids("id"), ids("accountId", "account")),
    *_entity(
        "/bank/statement/transaction",
        "bankTransaction",
        ids("bankStatementId", "bankStatement"),
        required=("bankStatementId",),
    ),
    *_entity(
        "/timesheet/entry",
        "timesheetEntry",
        date_range("dateFrom", "dateTo", "date"),
        ids("id"),
        ids("employeeId", "employee"),
        ids("projectId", "project"),
        ids("activityId", "activity"),
        contains("comment", "comment"),
        required=("dateFrom", "dateTo"),
    ),
    *_entity(
        "/project",
        "project",
        ids("id"),
        contains("name", "name"),
        equals("number", "number"),
        flag("isClosed", "isClosed"),
        ids("customerId", "customer"),
        ids("projectManagerId", "projectManager"),
    ),
    *_entity(
        "/activity",
        "activity",
        ids("id"),
        contains("name", "name"),
        equals("number", "number"),
        flag("isChargeable", "isChargeable"),
        flag("isInactive", "isDisabled"),
        enum("isProjectActivity", _BOOL, _is_project_activity),
        enum("isGeneral", _BOOL, _is_general_activity),
    ),
    *_entity("/department", "department", ids("id"), contains("name", "name")),
    *[
        Route("GET", f"{KIND_PATHS[kind]}/{{id}}", detail(kind))
        for kind in ("address", "document", "productUnit", "currency", "country", "bank")
    ],
    *[Route(method, template, handler) for method, template, handler in ORDER_API_ROUTES],
]


# Bookkeeping endpoints live in their own module (work statistics).
_BOOKKEEPING_ROUTES, _BOOKKEEPING_CONTROL = bookkeeping.routes()
ROUTES += _BOOKKEEPING_ROUTES


def template_of(path: str) -> str:
    """Path template for the request log: the route's template, else digits replaced by ``{id}``."""
    for route in ROUTES:
        if route.match(path) is not None:
            return route.template
    return "/".join("{id}" if part.isdigit() else part for part in path.split("/"))


# ------------------------------------------------------------------- the app
class SandboxApp:
    """The WSGI callable: ``/v2`` (Tripletex), ``/_sandbox`` (control API), anything else 404."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def __call__(
        self, environ: dict[str, Any], start_response: Callable[..., Any]
    ) -> Iterable[bytes]:
        request_id = str(uuid.uuid4())
        method = environ.get("REQUEST_METHOD", "GET").upper()
        raw_path = environ.get("PATH_INFO", "") or "/"
        path = (
            raw_path.encode("latin-1")
            .decode("utf-8", "replace")
            .replace("%3E", ">")
            .replace("%3e", ">")
        )
        query = dict(parse_qsl(environ.get("QUERY_STRING", ""), keep_blank_values=True))
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        body = environ["wsgi.input"].read(length) if length > 0 else b""
        if path == "/_sandbox" or path.startswith("/_sandbox/"):
            reply = self._control(method, path[len("/_sandbox") :] or "/", body, query)
        elif path == "/v2" or path.startswith("/v2/"):
            headers = {
                key[5:].replace("_", "-").lower(): value
                for key, value in environ.items()
                if key.startswith("HTTP_")
            }
            host = (
                environ.get("HTTP_HOST")
                or f"{environ.get('SERVER_NAME')}:{environ.get('SERVER_PORT')}"
            )
            call = Call(self.store, method, path[3:] or "/", query, headers, body, host)
            reply = self._api(call, request_id)
        else:
            reply = self._error(
                TripletexError(404, 6000, "Object not found."),
                request_id,
            )
        return _send(reply, request_id, start_response)

    # ------------------------------------------------------------- Tripletex
    def _api(self, call: Call, request_id: str) -> Reply:
        store = self.store
        fault = store.take_fault(call.method, call.path)
        route, params, allowed = find_route(ROUTES, call.method, call.path)
        template = route.template if route else template_of(call.path)
        entry: dict[str, Any] = {
            "method": call.method,
            "path": template if "{token}" in template else call.path,
            "path_template": template,
            "query": {k: _REDACTED if k in _SECRET_PARAMS else v for k, v in call.query.items()},
            "status": None,
            "company_id": None,
            "at": store.timestamp(),
            "fault": fault.kind if fault else None,
        }
        try:
            if fault and fault.kind == "delay":
                time.sleep(fault.delay_seconds)
            if store.latency_seconds:
                time.sleep(store.latency_seconds)  # the network's round trip (`set_latency`)
            if fault and fault.kind == "drop":
                raise DropConnection
            bucket, auth_error = self._authenticate(call, route)
            rate = store.hit_rate_limit(bucket)
            try:
                if fault and fault.kind not in ("delay", "lose_response"):
                    reply = self._fault_reply(fault, rate, request_id)
                elif not rate.allowed:
                    raise TripletexError(
                        429,
                        0,
                        "Too many requests.",
                        headers=[("Retry-After", str(rate.reset))],
                    )
                elif route is None:
                    if allowed:
                        raise TripletexError(
                            405,
                            0,
                            "Method not allowed.",
                            headers=[("Allow", ", ".join(allowed))],
                        )
                    raise TripletexError(
                        404,
                        6000,
                        "Object not found.",
                    )
                elif auth_error is not None and not route.public:
                    raise auth_error
                elif (
                    call.auth is not None
                    and call.auth.login_access_only
                    and (route.method, route.template) not in ACCOUNTANT_FIRM_CALLS
                ):
                    raise forbidden()
                elif "bad_id" in params:
                    raise TripletexError(
                        422,
                        21000,
                        "Wrong data format! Expected number. "
                        f'For input string: "{params["bad_id"]}"',
                    )
                else:
                    with store.lock:
                        reply = route.handler(call, **params)
            except TripletexError as exc:
                reply = self._error(exc, request_id)
            except QueryError as exc:
                reply = self._error(
                    TripletexError(exc.status, exc.code, str(exc), exc.problems or None),
                    request_id,
                )
            except Exception:  # any bug becomes a Tripletex-style 500
                logger.exception("sandbox handler failed for %s %s", call.method, template)
                reply = self._error(
                    TripletexError(500, 1000, "An internal error occurred."), request_id
                )
            present = {name.lower() for name, _ in reply.headers}
            reply.headers.extend(h for h in _rate_headers(rate) if h[0].lower() not in present)
            entry["status"] = reply.status
            entry["company_id"] = call.auth.company_id if call.auth else None
            if fault and fault.kind == "lose_response":
                raise DropConnection
            return reply
        finally:
            store.log_request(entry)

    def _authenticate(
        self, call: Call, route: Route | None
    ) -> tuple[tuple[str, str], TripletexError | None]:
        """Set ``call.auth`` from Basic auth; return the rate-limit bucket and any auth error."""
        if route is not None and route.public:
            return (call.query.get("consumerToken", ""), call.query.get("employeeToken", "")), None
        header = call.headers.get("authorization", "")
        scheme, _, encoded = header.partition(" ")
        try:
            if scheme.lower() != "basic":
                raise ValueError("missing")
            username, separator, password = (
                base64.b64decode(encoded.strip(), validate=True).decode("utf-8").partition(":")
            )
            if not separator:
                raise ValueError("no colon")
        except (ValueError, binascii.Error, UnicodeDecodeError):
            return _ANONYMOUS, TripletexError(
                401,
                3000,
                "Unauthorized",
            )
        result = self.store.authenticate(username, password)
        call.auth = result.auth
        return result.bucket or _ANONYMOUS, result.error

    def _fault_reply(self, fault: Fault, rate: RateState, request_id: str) -> Reply:
        if fault.kind == "malformed_json":
            return Reply(
                200,
                b'{"fullResultSize": 3, "from": 0, "count": 3, "values": [{"id": 1, "name": "Fjo',
            )
        if fault.kind == "rate_limit":
            # Without `retry_after` only the documented X-Rate-Limit-Reset says how long to wait
            # (the fact sheet: "back off for X-Rate-Limit-Reset seconds").
            reset = str(rate.reset if fault.retry_after is None else fault.retry_after)
            headers = [] if fault.retry_after is None else [("Retry-After", reset)]
            return self._error(
                TripletexError(
                    429,
                    0,
                    "Too many requests.",
                    headers=[
                        *headers,
                        ("X-Rate-Limit-Limit", str(rate.limit)),
                        ("X-Rate-Limit-Remaining", "0"),
                        ("X-Rate-Limit-Reset", reset),
                    ],
                ),
                request_id,
            )
        retry_after = [] if fault.retry_after is None else [("Retry-After", str(fault.retry_after))]
        if fault.kind == "unavailable":
            return self._error(
                TripletexError(503, 0, "Service unavailable.", headers=retry_after),
                request_id,
            )
        if fault.kind == "unavailable_html":
            # What the load balancer in front of the API answers during maintenance: an HTML
            # page, no Tripletex envelope, no request id in a body.
            return Reply(
                503, _UNAVAILABLE_PAGE, [("Content-Type", "text/html; charset=utf-8"), *retry_after]
            )
        if fault.kind == "forbidden":
            return self._error(forbidden(), request_id)
        if fault.kind == "unauthorized":
            return self._error(
                TripletexError(401, 3000, "Authentication failed."),
                request_id,
            )
        return self._error(
            TripletexError(500, 1000, "An internal error occurred."),
            request_id,
        )

    def _error(self, exc: TripletexError, request_id: str) -> Reply:
        return Reply(
            exc.status,
            {
                "status": exc.status,
                "code": exc.code,
                "message": exc.message,
                "link": _DOCS[self.store.environment],
                "developerMessage": exc.developer_message,
                "validationMessages": [
                    {"field": name, "message": text, "path": None, "rootId": None}
                    for name, text in exc.validation
                ]
                if exc.validation
                else None,
                "requestId": request_id,
            },
            list(exc.headers),
        )

    # ----------------------------------------------------------- control API
    def _control(
        self, method: str, path: str, body: bytes, query: dict[str, str] | None = None
    ) -> Reply:
        try:
            data = json.loads(body.decode("utf-8")) if body.strip() else {}
        except (UnicodeDecodeError, ValueError):
            return Reply(400, {"error": "the request body is not valid JSON"})
        if not isinstance(data, dict):
            return Reply(400, {"error": "the request body must be a JSON object"})
        if method == "GET":  # a GET's arguments come in its query string
            data = {**(query or {}), **data}
        route, params, allowed = find_route(CONTROL_ROUTES, method, path.rstrip("/") or "/")
        if route is None:
            return Reply(
                405 if allowed else 404, {"error": f"{method} {path} is not a control operation"}
            )
        try:
            return route.handler(self.store, data, **params)
        except ControlError as exc:
            return Reply(exc.status, {"error": str(exc)})
        except (TypeError, ValueError) as exc:
            return Reply(400, {"error": str(exc)})


def _rate_headers(rate: RateState) -> list[tuple[str, str]]:
    return [
        ("X-Rate-Limit-Limit", str(rate.limit)),
        ("X-Rate-Limit-Remaining", str(rate.remaining)),
        ("X-Rate-Limit-Reset", str(rate.reset)),
    ]


_UNAVAILABLE_PAGE = (
    b"<!DOCTYPE html><html><head><title>503 Service Temporarily Unavailable</title></head>"
    b"<body><h1>Service Temporarily Unavailable</h1><p>Tripletex is down for maintenance. "
    b"Please try again later.</p></body></html>"
)


def _send(reply: Reply, request_id: str, start_response: Callable[..., Any]) -> Iterable[bytes]:
    status = f"{reply.status} {HTTPStatus(reply.status).phrase}"
    headers = [("x-tlx-request-id", request_id), *reply.headers]
    if reply.body is None:
        start_response(status, headers)
        return []
    payload = (
        reply.body
        if isinstance(reply.body, bytes)
        else json.dumps(reply.body, ensure_ascii=False).encode()
    )
    if not any(name.lower() == "content-type" for name, _ in headers):
        headers.append(("Content-Type", "application/json; charset=utf-8"))
    headers.append(("Content-Length", str(len(payload))))
    start_response(status, headers)
    return [payload]


# ------------------------------------------------------------ control routes
def _clock(store: Store, data: dict[str, Any]) -> Reply:
    if "today" in data:
        store.set_today(parse_date(data["today"]))
    elif "advance_days" in data:
        store.advance_days(int(data["advance_days"]))
    return Reply(200, {"today": store.today().isoformat(), "now": store.timestamp()})


def _rate_limit(store: Store, data: dict[str, Any]) -> Reply:
    if data:
        period = float(data.get("period_seconds", store.rate_period))
        return Reply(200, store.set_rate_limit(int(data["limit"]), period))
    return Reply(200, {"limit": store.rate_limit, "period_seconds": store.rate_period})


def _create_customer(store: Store, data: dict[str, Any]) -> Reply:
    values = dict(data)
    company = _optional_int(values, "company_id")
    values.pop("company_id", None)
    return Reply(201, _customer_view(store.create_customer(company, **values)))


def _customer_view(row: Row) -> dict[str, Any]:
    view = {key: value for key, value in row.items() if not key.startswith("_")}
    return {**view, "company_id": row["_company"], "changed_at": row.get("_changed_at")}


def _optional_int(data: dict[str, Any], key: str) -> int | None:
    value = data.get(key)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
        raise ControlError(f"{key} must be an integer")
    return value


def _no_content(_: object) -> Reply:
    return Reply(204)


#: The control API under ``/_sandbox`` (not part of Tripletex; JSON in and out, no auth).
#: Handlers take ``(store, body, **path_params)``.
CONTROL_ROUTES: list[Route] = [
    Route("GET", "/", lambda store, data: Reply(200, store.info())),
    Route(
        "POST",
        "/reset",
        lambda store, data: Reply(
            200, store.reset(str(data.get("seed", "demo")), _optional_int(data, "customers"))
        ),
    ),
    Route("GET", "/clock", _clock),
    Route("POST", "/clock", _clock),
    Route("GET", "/rate-limit", _rate_limit),
    Route("POST", "/rate-limit", _rate_limit),
    Route(
        "POST",
        "/employee-tokens",
        lambda store, data: Reply(
            201,
            store.create_employee_token(
                _optional_int(data, "employee_id"),
                data.get("expires_on"),
                accountant=bool(data.get("accountant", False)),
            ),
        ),
    ),
    Route(
        "DELETE",
        "/employee-tokens/{token}",
        lambda store, data, token: _no_content(store.revoke_employee_token(token)),
    ),
    Route(
        "POST",
        "/employees/{id}/deactivate",
        lambda store, data, id: Reply(200, store.set_employee_active(id, False)),
    ),
    Route(
        "POST",
        "/employees/{id}/reactivate",
        lambda store, data, id: Reply(200, store.set_employee_active(id, True)),
    ),
    Route(
        "POST",
        "/companies/{id}/revoke-login-access",
        lambda store, data, id: Reply(
            200, store.set_login_access(id, False, _optional_int(data, "company_id"))
        ),
    ),
    Route(
        "POST",
        "/companies/{id}/grant-login-access",
        lambda store, data, id: Reply(
            200, store.set_login_access(id, True, _optional_int(data, "company_id"))
        ),
    ),
    Route("POST", "/customers", _create_customer),
    Route(
        "PUT",
        "/customers/{id}",
        lambda store, data, id: Reply(200, _customer_view(store.update_customer(id, **data))),
    ),
    Route(
        "POST",
        "/customers/{id}/deactivate",
        lambda store, data, id: Reply(200, _customer_view(store.deactivate_customer(id))),
    ),
    Route("GET", "/faults", lambda store, data: Reply(200, {"faults": store.faults()})),
    Route("POST", "/faults", lambda store, data: Reply(201, store.inject_fault(**data))),
    Route("DELETE", "/faults", lambda store, data: _no_content(store.clear_faults())),
    Route("GET", "/requests", lambda store, data: Reply(200, store.request_log())),
    Route("DELETE", "/requests", lambda store, data: _no_content(store.clear_requests())),
    Route(
        "GET", "/sent-invoices", lambda store, data: Reply(200, {"invoices": store.sent_invoices()})
    ),
    *[Route(method, template, handler) for method, template, handler in ORDER_CONTROL_ROUTES],
]


CONTROL_ROUTES += _BOOKKEEPING_CONTROL


# -------------------------------------------------------------------- server
class _ServerHandler(ServerHandler):
    """wsgiref handler that closes the socket silently on :class:`DropConnection`."""

    request_handler: WSGIRequestHandler  # set per request; wsgiref logs through it

    def handle_error(self) -> None:
        if isinstance(sys.exc_info()[1], DropConnection):
            return
        super().handle_error()


class _RequestHandler(WSGIRequestHandler):
    """One request per connection (HTTP/1.0 style close), no console logging."""

    def log_message(self, format: str, *args: Any) -> None:
        """Silence per-request logging (it would include paths with tokens)."""

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
        handler.request_handler = self
        # self.server is the WSGIServer that made this handler; the stubs type it as BaseServer.
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
    """A sandbox HTTP server around a :class:`~.store.Store`.

    ``url`` is the API root (``http://127.0.0.1:54321/v2``), ``base_url`` the server
    root (the control API lives at ``base_url + "/_sandbox"``).
    """

    def __init__(self, store: Store, host: str = "127.0.0.1", port: int = 0) -> None:
        self.store = store
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

    @property
    def url(self) -> str:
        """Tripletex API root, e.g. ``http://127.0.0.1:54321/v2``."""
        return f"{self.base_url}/v2"

    def start(self) -> SandboxServer:
        """Serve in a daemon thread and return ``self``."""
        self._thread = threading.Thread(
            target=self._httpd.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"tripletex-sandbox-{self.port}",
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
