"""The audit log: who did what to which object of the firm, when, from where.

Every state-changing service calls `record(...)` inside the transaction of its change, so an event
exists exactly when the change committed (a rolled-back change leaves no event, and no change is
committed without its event; `transaction.on_commit` would lose the event if the process died
between the commit and the callback). Views never record: they call one service.

Secrets cannot get in. Callers pass what is safe to show (the environment, a remote id, a field
name), never credential values; on top of that `record` drops every `details` key that looks like
a credential (`token`, `secret`, `password`, `api_key`, ...) and masks in every text what
`uku.logging.redact` masks (our API tokens, Tripletex tokens, values registered at run time).

The caller's IP address comes from the request being served (`RequestIdMiddleware` sets it for
the duration of the request); work done by the beat or a worker has none and no actor: the
system. `ACTIONS` is the registry of action keys (stable, dotted; the page's filter lists them).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, time, timedelta
from typing import Any
from uuid import UUID

from django.db import models
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from integrations.base import get_vendor
from uku.logging import MASK, redact
from uku.models import AuditEvent, Company, User

# key -> what the page shows. Keys are a public contract of the API's `action` filter: keep them.
ACTIONS: dict[str, Any] = {
    "integration.enabled": _("Integration enabled"),
    "integration.disabled": _("Integration disabled"),
    "connection.saved": _("Credentials saved"),
    "connection.replaced": _("Credentials replaced"),
    "connection.removed": _("Credentials removed"),
    "import.confirmed": _("Customer import confirmed"),
    "client.link_changed": _("Client link changed"),
    "summary.settings_saved": _("Summary task settings saved"),
    "summary.mapping_saved": _("Data fields mapped"),
    "summary.reload_requested": _("Data reload requested"),
    "invoice.issued": _("Invoice issued"),
    "invoice.exported": _("Invoice exported"),
    "invoice.export_retried": _("Invoice export retried"),
    "invoice.status_refreshed": _("Invoice status update requested"),
    "member.invited": _("Member invited"),
    "member.role_changed": _("Member's role changed"),
    "member.removed": _("Member removed"),
    "api_token.created": _("API token created"),
    "api_token.revoked": _("API token revoked"),
    "auth.login_failed": _("Failed log-in"),
    "auth.locked_out": _("Locked out after failed log-ins"),
}

# The object types events name; `object_type` is one of these keys (the page's filter lists them).
OBJECT_TYPES: dict[str, Any] = {
    "integration": _("Integration"),
    "sync_job": _("Background job"),
    "client": _("Client"),
    "invoice": _("Invoice"),
    "membership": _("Member"),
    "invitation": _("Invitation"),
    "api_token": _("API token"),
    "user": _("User"),
}


def _vendor_name(job: Any) -> str:
    return str(get_vendor(job.vendor).label)


# The rows `record_for` knows, by model (`_meta.label_lower`): the object type their events carry
# and the text the log shows for the row (its e-mail for a member, its name for a token, its
# vendor's name for a job). A new kind of row joins by adding its line here.
OBJECT_MODELS: dict[str, tuple[str, Callable[[Any], str]]] = {
    "uku.membership": ("membership", lambda membership: membership.user.email),
    "uku.invitation": ("invitation", lambda invitation: invitation.email),
    "uku.apitoken": ("api_token", lambda token: token.name),
    "clients.client": ("client", str),
    "billing.invoice": ("invoice", str),
    "integrations.syncjob": ("sync_job", _vendor_name),
}

# A details key that names a credential is dropped whatever its value (also nested).
_SECRET_KEY = re.compile(
    r"(?i)(token|secret|passw|api[_-]?key|credential|authori[sz]ation|cookie|signature|private)"
)
_MAX_TEXT = 500
_MAX_DEPTH = 4

request_ip_var: ContextVar[str | None] = ContextVar("audit_request_ip", default=None)


@contextmanager
def request_ip(ip: str | None) -> Iterator[None]:
    """Events recorded inside the block carry `ip` (the middleware wraps each request in it)."""
    token = request_ip_var.set(_valid_ip(ip))
    try:
        yield
    finally:
        request_ip_var.reset(token)


def _valid_ip(ip: str | None) -> str | None:
    if not ip:
        return None
    try:
        return str(ipaddress.ip_address(ip.strip()))
    except ValueError:
        return None


def _text(value: str, limit: int = _MAX_TEXT) -> str:
    return redact(str(value))[:limit]


def sanitise(value: Any, depth: int = 0) -> Any:
    """`details` made safe to store and show: credential-like keys dropped (at every level),
    texts redacted and cut to 500 characters, dates and ids as text, depth limited."""
    if depth > _MAX_DEPTH:
        return MASK
    if isinstance(value, Mapping):
        return {
            str(key)[:64]: sanitise(item, depth + 1)
            for key, item in value.items()
            if not _SECRET_KEY.search(str(key))
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = sorted(value, key=str) if isinstance(value, set | frozenset) else value
        return [sanitise(item, depth + 1) for item in list(items)[:100]]
    if value is None or isinstance(value, bool | int | float):
        return value
    if isinstance(value, date | datetime | UUID):
        return value.isoformat() if not isinstance(value, UUID) else str(value)
    return _text(str(value))


def _object_id(obj: models.Model) -> str:
    public_id = getattr(obj, "public_id", None)
    return str(public_id or obj.pk)


def _object_fields(obj: models.Model | None) -> tuple[str, str]:
    if obj is None:
        return "", ""
    return _object_id(obj), _text(str(obj), 255)


def record(
    *,
    company: Company,
    actor: User | None,
    action: str,
    object_type: str = "",
    obj: models.Model | None = None,
    object_id: str = "",
    object_label: str = "",
    details: Mapping[str, Any] | None = None,
    actor_label: str = "",
    ip: str | None = None,
) -> AuditEvent:
    """Record that `actor` (None: the system) did `action` (a key of `ACTIONS`) to an object.

    Call it inside the transaction of the change. The object is `obj` (its public id and its
    text are taken) or `object_id`/`object_label`; `object_type` is a key of `OBJECT_TYPES`.
    `details` say what changed; pass no credential values (keys that look like one are dropped
    anyway, and texts are redacted). `ip` defaults to the current request's address. Raises
    `ValueError` for an unknown action or object type (a typo must not make an unfindable row).
    """
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action!r}")
    if object_type and object_type not in OBJECT_TYPES:
        raise ValueError(f"unknown audit object type {object_type!r}")
    found_id, found_label = _object_fields(obj)
    return AuditEvent.objects.create(
        company=company,
        actor=actor if actor is not None and actor.pk else None,
        actor_label=_text(actor_label or (actor.email if actor is not None else ""), 254),
        action=action,
        object_type=object_type,
        object_id=_text(object_id or found_id, 64),
        object_label=_text(object_label or found_label, 255),
        details=sanitise(dict(details or {})),
        ip=_valid_ip(ip) if ip is not None else request_ip_var.get(),
        created_at=timezone.now(),
    )


def record_for(
    obj: models.Model,
    *,
    company: Company,
    actor: User | None,
    action: str,
    details: Mapping[str, Any] | None = None,
) -> AuditEvent:
    """Record that `actor` did `action` to one row of the firm: `record` with the object's type,
    public id and text taken from the row as `OBJECT_MODELS` says, so every event about a kind of
    row names it the same way.

    Call it inside the transaction of the change, as `record`. Raises `ValueError` for a model
    `OBJECT_MODELS` does not list, and for a row of another firm than `company` (its text would
    be shown in a log it does not belong to); nothing is written then.
    """
    kind = OBJECT_MODELS.get(obj._meta.label_lower)
    if kind is None:
        raise ValueError(f"no audit object type for {obj._meta.label}")
    if getattr(obj, "company_id", None) != company.pk:
        raise ValueError(f"the {obj._meta.label} is not the firm's")
    object_type, label = kind
    # The id and text are passed, not the row: `record` would otherwise build `str(obj)`, which
    # for some rows reads their firm (a query) only to be thrown away.
    return record(
        company=company,
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=_object_id(obj),
        object_label=label(obj),
        details=details,
    )


# --- Reading the log --------------------------------------------------------------------------------


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_events(
    events: QuerySet[AuditEvent],
    *,
    actor: str = "",
    action: str = "",
    object_type: str = "",
    object_id: str = "",
    object_query: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet[AuditEvent]:
    """The page's and the API's filters. `actor`: part of the actor's e-mail, or "system" for
    events without one; `action`: a key, or a prefix ending in "." (`invoice.`); `object_query`:
    part of the object's text or its exact id; `date_from`/`date_to`: days in the server's time
    zone, both inclusive."""
    actor = actor.strip()
    if actor.lower() == "system":
        events = events.filter(actor_label="")
    elif actor:
        events = events.filter(actor_label__icontains=actor)
    if action.endswith("."):
        events = events.filter(action__startswith=action)
    elif action:
        events = events.filter(action=action)
    if object_type:
        events = events.filter(object_type=object_type)
    if object_id.strip():
        events = events.filter(object_id=object_id.strip())
    if object_query.strip():
        query = object_query.strip()
        events = events.filter(Q(object_label__icontains=query) | Q(object_id=query))
    if date_from is not None:
        events = events.filter(created_at__gte=_day_start(date_from))
    if date_to is not None:
        events = events.filter(created_at__lt=_day_start(date_to + timedelta(days=1)))
    return events


def action_label(action: str) -> str:
    return str(ACTIONS.get(action, action))


def object_type_label(object_type: str) -> str:
    return str(OBJECT_TYPES.get(object_type, object_type))


def describe_details(details: Any) -> str:
    """The details in one line for the page and the CSV: `key: value; key: value`."""
    if not isinstance(details, dict):
        return ""
    parts = []
    for key, value in details.items():
        if isinstance(value, dict):
            shown = ", ".join(f"{k}={v}" for k, v in value.items())
        elif isinstance(value, list):
            shown = ", ".join(str(v) for v in value)
        else:
            shown = "" if value is None else str(value)
        parts.append(f"{key}: {shown}")
    return "; ".join(parts)
