"""Validators shared by several apps."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext_lazy as _

from uku import registry_numbers


def normalise_orgnr(value: str) -> str:
    """The nine digits people mean: "923 609 016", "923-609-016" and "NO 923609016 MVA" (the VAT
    form printed on invoices) all become "923609016". Anything else is returned compacted, for the
    validator to reject. Norway's case of `registry_numbers.normalise`, kept for its callers."""
    return registry_numbers.normalise("NO", value)


def validate_orgnr(value: str) -> None:
    """A Norwegian organisation number: nine digits with a valid MOD11 check digit. Norway's case
    of `registry_numbers.validate` (referenced by old migrations, so it stays importable)."""
    registry_numbers.validate("NO", value)


# The e-mail columns (User.email, Invitation.email) are Django's EmailField: 254 characters, the
# longest address SMTP can deliver. Forms and serializers must stop longer ones before the database.
EMAIL_MAX_LENGTH = 254


def validate_email_address(value: str) -> None:
    """A deliverable e-mail address that fits the column; ValidationError naming the problem."""
    if len(value) > EMAIL_MAX_LENGTH:
        raise ValidationError(
            _("An e-mail address can be at most %(max)d characters (this one has %(length)d)."),
            code="max_length",
            params={"max": EMAIL_MAX_LENGTH, "length": len(value)},
        )
    validate_email(value)


def single_line(value: str) -> str:
    """`value` on one line: every run of whitespace (line breaks and tabs included) becomes one
    space, and the ends are trimmed. For names that end up in e-mail headers and titles."""
    return " ".join((value or "").split())
