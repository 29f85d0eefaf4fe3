"""Input checks shared by the Settings & Apps forms and the API serializers."""

from __future__ import annotations

from datetime import date

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

# Vendors let a token live for years at most; a date further out is a typo (2062 for 2026).
MAX_TOKEN_YEARS = 10


def validate_token_expiry(value: date | None) -> None:
    """A credential's expiry date: today or later (Europe/Oslo) and at most ten years ahead.

    Raises ValidationError with a sentence saying what to enter; None (no expiry given) passes.
    """
    if value is None:
        return
    today = timezone.localdate()
    if value < today:
        raise ValidationError(
            _("The expiry date %(date)s is in the past. Enter the date the token expires.")
            % {"date": value.isoformat()},
            code="expiry_in_past",
        )
    try:
        latest = today.replace(year=today.year + MAX_TOKEN_YEARS)
    except ValueError:  # 29 February
        latest = today.replace(year=today.year + MAX_TOKEN_YEARS, day=28)
    if value > latest:
        raise ValidationError(
            _(
                "The expiry date %(date)s is more than %(years)d years away. Check the year: "
                "enter the date the token expires."
            )
            % {"date": value.isoformat(), "years": MAX_TOKEN_YEARS},
            code="expiry_too_far",
        )
