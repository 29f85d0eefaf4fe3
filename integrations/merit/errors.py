"""What Merit Aktiva errors are and what users read about them.

`MeritRequestError` is the permanent error for a request Merit refuses as invalid (400 with a
`Message`, 404). `MESSAGES` is the catalogue of every user-facing text the Merit client and
adapter produce, translated through Django's gettext; `say` fills one in. Kept apart from the
client so the texts can be read, reviewed and translated without reading the HTTP code.

None of these texts may ever contain an API ID, an API key, a signature or a URL: Merit puts
all of them in the query string.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy

from integrations.base import ConfigError
from integrations.merit.vendor import API_SETTINGS_PATH, INFO
from uku.i18n import every_language


class MeritRequestError(ConfigError):
    """Merit refused the request as invalid (400 `{"Message": ...}`, 404 for a missing field or
    address). Permanent: the same request gets the same answer. `status` and `merit_message`
    (Merit's own text, secrets masked) say why."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        merit_message: str = "",
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.merit_message = merit_message


# The machine-readable codes of the refusals (in error details and call records), one per cause.
API_ID_MALFORMED = (
    "api-id-wrong"  # Merit's 400 "API Id is wrong - make sure you haven't copied spaces."
)
UNKNOWN_API_ID = "unknown-api-id"  # Merit's empty 401: unknown on this instance, or deleted
WRONG_SIGNATURE = "api-wrongsignature"
WRONG_LICENCE = "api-wronglicense"
MISSING_URL_PARAM = "api-missingurlparam"
CLOCK_SKEW = "clock-skew"  # our reading of api-wrongsignature when Merit's clock differs from ours

# --- What users read -----------------------------------------------------------------------------
# An admin sees these after "Test connection" and in the sync history: each says what happened and
# what to do next.

MESSAGES: dict[str, Any] = {
    "unknown_environment": gettext_lazy(
        "Unknown Merit country “%(environment)s”: choose Estonia, Finland or Poland."
    ),
    "not_configured": gettext_lazy(
        "uku has no valid address for Merit in %(country)s (it must be an HTTPS address). This is "
        "not a problem with your API key; please contact uku support."
    ),
    "api_id_missing": gettext_lazy("Paste the API ID from Merit (%(where)s)."),
    "api_id_malformed": gettext_lazy(
        "This is not a Merit API ID: an API ID is 36 characters like "
        "1a2b3c4d-0000-4000-8000-123456789abc. Copy it again, whole, from %(where)s in Merit."
    ),
    "api_key_missing": gettext_lazy("Paste the API key from Merit (%(where)s)."),
    "api_key_malformed": gettext_lazy(
        "The API key contains spaces, line breaks or characters a Merit API key never has. Copy "
        "it again, whole, from %(where)s in Merit and paste it as one piece."
    ),
    "api_id_wrong": gettext_lazy(
        "Merit says the API ID is wrong. Copy it again from %(where)s in Merit, without spaces "
        "before or after it."
    ),
    "unknown_api_id": gettext_lazy(
        "Merit in %(country)s does not know this API ID: the API key may have been deleted "
        "(revoked) in Merit, or the ID belongs to another company. Check %(where)s in Merit; if "
        "the key is gone there, create a new one and save its API ID and key here."
    ),
    "wrong_country": gettext_lazy(
        "This API ID belongs to Merit in %(found)s, not %(country)s: each country is a separate "
        "Merit system. Choose %(found)s as the country and test again."
    ),
    "wrong_key": gettext_lazy(
        "Merit did not accept the signature made with this API key: the key does not belong to "
        "this API ID, or it was copied incompletely. Copy the API key again, whole, from "
        "%(where)s in Merit."
    ),
    "clock_skew": gettext_lazy(
        "Merit refused the request because the clock of uku's server is %(minutes)s minutes off "
        "Merit's, so every signed request looks stale. Your API key is probably fine; please "
        "contact uku support (the server's clock needs fixing)."
    ),
    "licence": gettext_lazy(
        "Merit refused the API for this company: its creator needs a PRO or PREMIUM licence. "
        "Upgrade the licence in Merit, then test again."
    ),
    "missing_param": gettext_lazy(
        "Merit refused the request as incomplete (a missing API ID, timestamp or signature). "
        "Check the API ID; if it is right, please contact uku support."
    ),
    "not_found": gettext_lazy(
        "Merit in %(country)s answered “not found” for %(path)s: the country's address is wrong, "
        "or the request lacks a field Merit requires. Please contact uku support."
    ),
    "refused": gettext_lazy("Merit refused %(path)s (HTTP %(status)s): %(reason)s"),
    "timeout": gettext_lazy("Merit did not answer in time."),
    "connection": gettext_lazy("The connection to Merit failed."),
    "malformed": gettext_lazy(
        "Merit sent an answer uku could not read (an error page instead of data)."
    ),
    "server": gettext_lazy("Merit had a server error (HTTP %(status)s)."),
    "write_unsure": gettext_lazy(
        "The change may or may not have been saved in Merit, so uku did not send it again."
    ),
    "retry_later": gettext_lazy("uku will try again later."),
    "no_reason": gettext_lazy("no reason given"),
    # Invoice export: a billing clerk reads these on the invoice, next to a link to the fix.
    "export_customer_unknown": gettext_lazy(
        "Merit does not know the customer this client is linked to (it may have been deleted "
        "in Merit). Link the client to its Merit customer again, then retry the export."
    ),
    "export_no_lines": gettext_lazy(
        "The invoice has no lines, and Merit cannot take an invoice without rows. Add a line, "
        "then retry the export."
    ),
    "export_tax_unknown": gettext_lazy(
        "Merit has no active tax rate for the VAT type of the line “%(line)s” (code "
        "“%(code)s”). Choose a VAT type imported from Merit, or import the VAT types again, "
        "then retry the export."
    ),
    "export_tax_rate_differs": gettext_lazy(
        "The tax rate “%(code)s” is %(remote)s %% in Merit, but the line “%(line)s” uses "
        "%(local)s %%. Correct the line's VAT type, or import the VAT types again, then retry "
        "the export."
    ),
    "export_number_taken": gettext_lazy(
        "Merit already has an invoice numbered %(number)s for another customer. Change the "
        "number series in uku's billing settings or the invoice in Merit, then retry the export."
    ),
    "export_refused": gettext_lazy(
        "Merit refused the invoice: %(reason)s. Correct the invoice or the client's details, "
        "then retry the export."
    ),
    "export_unreadable_answer": gettext_lazy(
        "Merit answered the export without the invoice's id, so uku cannot tell whether the "
        "invoice was created. uku will look for it before trying again."
    ),
    "export_total_differs": gettext_lazy(
        "Merit's total is %(merit)s, uku's %(uku)s: Merit rounds the VAT of each row to cents "
        "before adding them up."
    ),
    "export_product_unknown": gettext_lazy(
        "The product of the line “%(line)s” is not in Merit any more, so the line was sent as "
        "a plain service row."
    ),
    "export_adopted": gettext_lazy(
        "Merit already had this invoice (number %(number)s): uku linked to it instead of "
        "sending it again."
    ),
    # Merit's API cannot name the company behind an API ID; this stands in for the name on the
    # Connect tab ("Merit Aktiva company: ..."), so it must read well after a colon.
    "connected": gettext_lazy("the company of this API ID (%(count)s tax rates)"),
    "statistic_unknown": gettext_lazy("Merit Aktiva has no work statistic “%(statistic)s”."),
}


def say(key: str, **values: Any) -> str:
    """The message `key` in the active language, filled with `values` (plus `where`, Merit's
    menu path). An `environment` or `country` value that is a country key ("ee") is shown by
    its translated name ("Estonia")."""

    def render() -> str:
        shown = dict(values)
        for name in ("country", "found"):
            if name in shown:
                shown[name] = INFO.environment_name(shown[name])
        return str(MESSAGES[key]) % {"where": API_SETTINGS_PATH, **shown}

    # In every language: a job's error is read later, in the reader's language (uku/i18n.py).
    return every_language(render)


__all__ = ["MESSAGES", "MeritRequestError", "say"]
