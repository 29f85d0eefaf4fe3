"""One status vocabulary for the whole product: every status value a person sees (connections,
sync jobs, client links, invoices, invoice exports, summary tasks, notifications) maps to one
word and one tone here, and templates show it with `{% status kind value %}`
(`uku/templatetags/patterns.py`). A tone is a CSS class (`status-<tone>` in static/css/uku.css),
so the same state has the same colour on every page, and colour is never the only signal: the
word is always shown.

Tones: `ok` (done, healthy), `info` (in progress, waiting for a worker), `warn` (a person should
look), `bad` (failed, broken), `muted` (off, not started, nothing to do).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

TONES = ("ok", "info", "warn", "bad", "muted")


@dataclass(frozen=True)
class Status:
    word: str | Promise
    tone: str


VOCABULARY: dict[str, dict[str, Status]] = {
    # integrations.status.describe(...).state
    "connection": {
        "plan_required": Status(_("Needs a higher plan"), "muted"),
        "not_enabled": Status(_("Not enabled"), "muted"),
        "not_connected": Status(_("Not connected"), "warn"),
        "connected": Status(_("Connected"), "ok"),
        "error": Status(_("Needs attention"), "bad"),
    },
    # An app without credentials (Billing): on or off, in the same words as a connection
    "app": {
        "not_active": Status(_("Not enabled"), "muted"),
        "active": Status(_("Active"), "ok"),
    },
    # SyncJob.status, plus the two states a person must tell apart from a plain one
    "job": {
        "queued": Status(_("Queued"), "info"),
        "running": Status(_("Running"), "info"),
        "stalled": Status(_("Stalled"), "warn"),
        "succeeded": Status(_("Succeeded"), "ok"),
        "succeeded_with_failures": Status(_("Succeeded with failures"), "warn"),
        "failed": Status(_("Failed"), "bad"),
        "cancelled": Status(_("Cancelled"), "muted"),
    },
    # A client's link to an accounting system (clients.ExternalLink)
    "link": {
        "linked": Status(_("Linked"), "ok"),
        "unlinked": Status(_("Not linked"), "muted"),
        "stale": Status(_("Needs attention"), "warn"),
        "access_lost": Status(_("Books access lost"), "bad"),
    },
    # billing.InvoiceStatus
    "invoice": {
        "draft": Status(_("Draft"), "muted"),
        "issued": Status(_("Issued"), "info"),
        "unpaid": Status(_("Unpaid"), "warn"),
        "paid": Status(_("Paid"), "ok"),
        "credited": Status(_("Credited"), "muted"),
    },
    # billing.ExportState
    "export": {
        "pending": Status(_("Queued"), "info"),
        "in_flight": Status(_("Exporting"), "info"),
        "done": Status(_("Exported"), "ok"),
        "failed": Status(_("Failed"), "bad"),
        "waiting": Status(_("Waiting"), "warn"),
    },
    # summarytasks.TaskStatus
    "task": {
        # "Open" is also a button's verb ("Åpne"); the status is an adjective ("Åpen").
        "open": Status(pgettext_lazy("task status", "Open"), "muted"),
        "in_progress": Status(_("In progress"), "info"),
        "done": Status(_("Done"), "ok"),
    },
    "notification": {
        "unread": Status(_("Unread"), "info"),
        "read": Status(_("Read"), "muted"),
    },
}


def status_of(kind: str, value: str) -> Status:
    """The word and tone of `value` in `kind`. Raises KeyError for a kind or value the
    vocabulary does not know, so a new status cannot slip onto a page without a word."""
    return VOCABULARY[kind][value]


def job_state(job: object) -> str:
    """The vocabulary value of a sync job: its status, told apart when it is stalled or
    succeeded although some items failed (`counts["failed"]`)."""
    status = str(getattr(job, "status", ""))
    if getattr(job, "is_stalled", False):
        return "stalled"
    counts = getattr(job, "counts", None) or {}
    if status == "succeeded" and isinstance(counts, dict) and _int(counts.get("failed")) > 0:
        return "succeeded_with_failures"
    return status


def _int(value: object) -> int:
    try:
        return int(value)  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return 0
