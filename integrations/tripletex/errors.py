"""What Tripletex errors are and what users read about them.

`TripletexRequestError` is the permanent error for a request Tripletex refuses as invalid;
`MESSAGES` is the catalogue of every user-facing text the Tripletex client produces (translated
through Django's gettext: the msgids are unchanged, so `locale/` still covers them), and `say`
fills one in. Kept apart from the client so the texts can be read, reviewed and translated
without reading the HTTP code.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from integrations.base import AuthError, ConfigError
from uku.i18n import every_language


class TripletexRequestError(ConfigError):
    """Tripletex refused the request as invalid (400, 404, 409, 422 ...). Permanent: sending the
    same request again gives the same answer. `status`, `code` (Tripletex's internal code, e.g.
    18000) and `validation_messages` (`[{"field", "message"}]`) say why."""

    def __init__(
        self,
        message: str,
        *,
        status: int,
        code: int | None = None,
        validation_messages: list[dict[str, str]] | None = None,
        details: dict[str, Any] | None = None,
    ) -> None:
        super().__init__(message, details=details)
        self.status = status
        self.code = code
        self.validation_messages = validation_messages or []


class TripletexForbidden(AuthError):
    """Tripletex answered 403 (code 9000) to a call made in the firm's own company (username 0):
    the token lacks the entitlement for it. Permanent. An accountant's token gets it for every
    call but `GET /token/session/>whoAmI` and `GET /company/>withLoginAccess`, so a caller that
    can do without an answer (a name to display) may catch it; the others let it propagate."""


# --- What users read -----------------------------------------------------------------------------
# An admin sees these after "Test connection" and in the sync history: each says what happened and
# what to do next. None may ever contain a token.

# Tripletex's own menu path, in the user's language (Norwegian: "Selskap → API-tilgang").
TOKEN_MENU_PATH = gettext_lazy("Company → API access")
MESSAGES: dict[str, Any] = {
    "unknown_environment": gettext_lazy(
        "Unknown Tripletex environment “%(environment)s”: choose Production or Test."
    ),
    "platform_not_configured": gettext_lazy(
        "uku is not configured for the Tripletex %(environment)s environment: the platform's "
        "Tripletex address or consumer token is missing. This is not a problem with your token; "
        "please contact uku support."
    ),
    "consumer_token_invalid": gettext_lazy(
        "Tripletex did not accept uku's own integration key (consumer token) for the "
        "%(environment)s environment. This is a problem in uku's configuration, not with your "
        "token; please contact uku support."
    ),
    "token_missing": gettext_lazy("Paste the employee token from Tripletex (%(where)s)."),
    "token_expired": gettext_lazy(
        "The Tripletex employee token has expired. Create a new token in Tripletex under "
        "%(where)s and save it here."
    ),
    "wrong_environment_production": gettext_lazy(
        "This employee token belongs to the Tripletex test environment (it starts with “test-”), "
        "but the connection is set to Production. Choose the Test environment, or create a token "
        "in your production Tripletex account under %(where)s."
    ),
    "wrong_environment_test": gettext_lazy(
        "This employee token belongs to Tripletex production (test tokens start with “test-”), "
        "but the connection is set to Test. Choose the Production environment, or create a token "
        "in the Tripletex test environment under %(where)s."
    ),
    "employee_deactivated": gettext_lazy(
        "The Tripletex user who owns this employee token is no longer active. Ask a Tripletex "
        "administrator to create a new token as an active user under %(where)s, and save it here."
    ),
    "token_invalid": gettext_lazy(
        "Tripletex does not recognise this employee token: it may have been revoked, deleted or "
        "copied incompletely. Copy it again, whole, from %(where)s in Tripletex (Tripletex shows "
        "a token only once, so you may need to create a new one)."
    ),
    "session_refused": gettext_lazy(
        "Tripletex refused to log in with this employee token: %(reason)s"
    ),
    "unauthorized": gettext_lazy(
        "Tripletex refused the login even with a new session. The employee token may have been "
        "revoked or its user deactivated: test the connection, and save a new token if it fails."
    ),
    "forbidden": gettext_lazy(
        "The employee token has no access to this part of Tripletex (%(path)s). In Tripletex, "
        "give the token the missing access (entitlement) under %(where)s, or create a new token "
        "that has it."
    ),
    "books_access_lost": gettext_lazy(
        "uku cannot reach this client's own books in Tripletex (client company %(company)s): "
        "the accounting firm's Tripletex user has no login access to that company any more. "
        "In Tripletex, give the token's user accountant access to the company again, or link "
        "the client to its right company. The firm's connection and other clients are not "
        "affected."
    ),
    "refused": gettext_lazy("Tripletex refused %(method)s %(path)s (HTTP %(status)s): %(reason)s"),
    "timeout": gettext_lazy("Tripletex did not answer in time."),
    "connection": gettext_lazy("The connection to Tripletex failed."),
    "malformed": gettext_lazy("Tripletex sent an answer uku could not read."),
    "server": gettext_lazy("Tripletex had a server error (HTTP %(status)s)."),
    "write_unsure": gettext_lazy(
        "The change may or may not have been saved in Tripletex, so uku did not send it again."
    ),
    "retry_later": gettext_lazy("uku will try again later."),
    "no_reason": gettext_lazy("no reason given"),
    "statistic_unknown": gettext_lazy("Tripletex has no work statistic “%(statistic)s”."),
    "statistic_refused": gettext_lazy(
        "Tripletex refused %(path)s in this client's company: the accounting firm's access "
        "there does not include it. In Tripletex, give the token's user that access in the "
        "client's company, then reload the data."
    ),
    "voucher_type_missing": gettext_lazy(
        "The client's Tripletex company has no voucher type named “%(name)s”, so uku cannot "
        "count its vouchers."
    ),
    "books_not_linked": gettext_lazy(
        "This client is not linked to its own company in Tripletex, so uku cannot open its "
        "books. Link it to its company in the Integration column."
    ),
    # Invoice export: a billing clerk reads these on the invoice, next to a link to the fix.
    "export_customer_unknown": gettext_lazy(
        "Tripletex does not know the customer this client is linked to (it may have been "
        "deleted or merged in Tripletex). Link the client to its Tripletex customer again, then "
        "retry the export."
    ),
    "export_vat_code_missing": gettext_lazy(
        "The line “%(line)s” has no VAT type. Give it a VAT type, then retry the export."
    ),
    "export_vat_type_unknown": gettext_lazy(
        "Tripletex cannot use VAT code %(code)s (line “%(line)s”) in this company on "
        "%(date)s. Choose a VAT type Tripletex offers for sales, or import the VAT types again, "
        "then retry the export."
    ),
    "export_vat_rate_differs": gettext_lazy(
        "VAT code %(code)s is %(remote)s %% in Tripletex, but the line “%(line)s” uses "
        "%(local)s %%. Correct the line's VAT type, or import the VAT types again, then retry "
        "the export."
    ),
    "export_not_vat_registered": gettext_lazy(
        "The Tripletex company is not registered for VAT, so it cannot invoice VAT code "
        "%(code)s (line “%(line)s”). Use a VAT-free VAT type on the lines, or register the "
        "company for VAT in Tripletex, then retry the export."
    ),
    "export_bank_account_missing": gettext_lazy(
        "Tripletex cannot create invoices until the company has a bank account number. In "
        "Tripletex, enter the account number on ledger account 1920 (Bankinnskudd), then retry "
        "the export."
    ),
    "export_currency": gettext_lazy(
        "uku sends invoices to Tripletex in Norwegian kroner (NOK) only; this invoice is in "
        "%(currency)s. Change the invoice's currency, then retry the export."
    ),
    "export_no_lines": gettext_lazy(
        "The invoice has no lines, and Tripletex cannot invoice an order without lines. Add a "
        "line, then retry the export."
    ),
    "export_refused": gettext_lazy(
        "Tripletex refused the invoice: %(reason)s. Correct the invoice or the client's "
        "details, then retry the export."
    ),
    "export_unreadable_answer": gettext_lazy(
        "Tripletex answered the export without the order's id, so uku cannot tell whether the "
        "order was created. uku will look for it before trying again."
    ),
    "contact_employee_blank": gettext_lazy(
        "Sent without “our contact”: the responsible member has no External ID (their "
        "Tripletex employee id). Add it on the member to fill it next time."
    ),
    "contact_employee_unknown": gettext_lazy(
        "Sent without “our contact”: Tripletex has no active employee with id %(id)s (the "
        "responsible member's External ID). Correct the External ID to fill it next time."
    ),
    "duplicate_orders": gettext_lazy(
        "Tripletex has %(count)s orders with the reference %(reference)s; uku uses the first "
        "(order %(number)s). Delete the others in Tripletex."
    ),
}


def say(key: str, **values: Any) -> str:
    """The message `key` in the active language, filled with `values` (and `where`). An
    `environment` value of "production" or "test" is shown by its translated name."""
    environment = values.get("environment")

    def render() -> str:
        shown = dict(values)
        if environment in ("production", "test"):
            shown["environment"] = _("Production") if environment == "production" else _("Test")
        return str(MESSAGES[key]) % {"where": TOKEN_MENU_PATH, **shown}

    # In every language: a job's error is read later, in the reader's language (uku/i18n.py).
    return every_language(render)


__all__ = ["MESSAGES", "TOKEN_MENU_PATH", "TripletexForbidden", "TripletexRequestError", "say"]
