"""Registry numbers (organisation numbers) per country, checked with python-stdnum.

A client's or firm's registry number only means something together with its country: the eight
digits "12345678" are a valid Estonian registry code and, written "1234567-8", a Finnish
Y-tunnus. So every number is stored compact (digits only, without separators or VAT prefixes)
next to its ISO 3166 alpha-2 country, validated by that country's rule, and unique per
(firm, country, number).

Which identifier each country's field holds:

- **NO** organisation number (organisasjonsnummer, Brønnøysund): 9 digits, MOD11.
  The VAT form "NO 923 609 016 MVA" is accepted and reduced to the nine digits.
- **EE** registry code (registrikood, Äriregister): 8 digits with a check digit. Not the VAT
  number (KMKR, "EE" + 9 digits), which is a different number.
- **FI** business ID (Y-tunnus): 8 digits, shown as "1234567-8"; the VAT form "FI12345678" is
  accepted.
- **LV** registration number (reģistrācijas numurs) of a legal entity: 11 digits; it is also
  the VAT number without "LV". Personal codes (which stdnum's PVN accepts too) are refused:
  they identify a person, not a registered entity, and are personal data we do not want here.
- **PL** NIP (Numer Identyfikacji Podatkowej): 10 digits with a check digit; "PL" and the
  dashes of "856-734-62-15" are accepted. NIP, not KRS or REGON, because every Polish business
  has one (sole traders included, who have no KRS entry), it is the number printed on every
  invoice and the one Polish accounting systems carry for a customer. KRS has the same length
  and no check digit, so the two cannot be told apart by length; a REGON is a statistical
  number a firm rarely has at hand. One identifier per country also keeps the uniqueness rule
  meaningful (the same company under its NIP and its REGON would be two numbers).

Lithuania is not supported yet: stdnum has no module for the company code (įmonės kodas).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from types import ModuleType
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from stdnum.ee import registrikood
from stdnum.exceptions import ValidationError as StdnumError
from stdnum.fi import ytunnus
from stdnum.lv import pvn
from stdnum.no import orgnr
from stdnum.pl import nip

if TYPE_CHECKING:
    from django.utils.functional import _StrPromise as Promise


class Country(models.TextChoices):
    """The countries whose registry numbers uku understands (ISO 3166 alpha-2)."""

    NORWAY = "NO", _("Norway")
    ESTONIA = "EE", _("Estonia")
    FINLAND = "FI", _("Finland")
    LATVIA = "LV", _("Latvia")
    POLAND = "PL", _("Poland")


# Tripletex (Norway) came first: every firm and client from before countries existed is Norwegian.
DEFAULT_COUNTRY = Country.NORWAY.value


@dataclass(frozen=True)
class Scheme:
    """One country's registry number: how people write it and how stdnum checks it."""

    country: str
    name: Promise  # what the number is called, for labels and help texts
    error: Promise  # "%(value)s is not a valid ..." (params: value)
    length: int  # digits of the compact form
    rules: ModuleType  # the stdnum module: compact(), validate(), format() where it has one
    # Letters people add around the number (the VAT form), removed before checking.
    prefix: str = ""
    suffix: str = ""
    extra_check: Callable[[str], bool] | None = None  # on top of stdnum's validate()
    formatted: bool = False  # shown with stdnum's format() (FI "1234567-8", PL "856-734-62-15")


def _legal_entity(number: str) -> bool:
    # stdnum.lv.pvn: legal entities start with a digit above 3, personal codes with 0-3.
    return number[:1] > "3"


SCHEMES: dict[str, Scheme] = {
    scheme.country: scheme
    for scheme in (
        Scheme(
            "NO",
            _("organisation number"),
            _("%(value)s is not a valid Norwegian organisation number (nine digits, MOD11)."),
            9,
            orgnr,
            prefix="NO",
            suffix="MVA",
        ),
        Scheme(
            "EE",
            _("registry code"),
            _("%(value)s is not a valid Estonian registry code (eight digits with a check digit)."),
            8,
            registrikood,
            prefix="EE",
        ),
        Scheme(
            "FI",
            _("business ID (Y-tunnus)"),
            _("%(value)s is not a valid Finnish business ID (Y-tunnus, as in 1234567-8)."),
            8,
            ytunnus,
            prefix="FI",
            formatted=True,
        ),
        Scheme(
            "LV",
            _("registration number"),
            _("%(value)s is not a valid Latvian registration number (eleven digits)."),
            11,
            pvn,
            prefix="LV",
            extra_check=_legal_entity,
        ),
        Scheme(
            "PL",
            _("NIP"),
            _("%(value)s is not a valid Polish NIP (ten digits with a check digit)."),
            10,
            nip,
            prefix="PL",
            formatted=True,
        ),
    )
}

# The registry number columns hold the compact form of the longest supported number.
MAX_LENGTH = max(scheme.length for scheme in SCHEMES.values())


def scheme_for(country: str) -> Scheme:
    """The scheme of `country` (an ISO code, any case); unknown countries fall back to nothing:
    KeyError, so a caller never silently checks a number by the wrong country's rule."""
    return SCHEMES[(country or "").upper()]


def normalise(country: str, value: str) -> str:
    """The compact form people mean: separators (spaces, dashes, dots) and the country's VAT
    prefix and suffix removed ("NO 923 609 016 MVA" → "923609016", "1234567-8" → "12345678").
    A number that is not valid is still returned compacted (never blanked), for `validate` to
    reject and for the caller to keep as typed."""
    scheme = scheme_for(country)
    compact = re.sub(r"[\s\-./]", "", value or "").upper()
    if scheme.prefix and compact.startswith(scheme.prefix):
        compact = compact.removeprefix(scheme.prefix)
    if scheme.suffix:
        compact = compact.removesuffix(scheme.suffix)
    return str(scheme.rules.compact(compact))


def is_valid(country: str, value: str) -> bool:
    """True when `value` (compact) is a valid registry number of `country`."""
    if (country or "").upper() not in SCHEMES or not value:
        return False
    scheme = scheme_for(country)
    try:
        scheme.rules.validate(value)
    except StdnumError:
        return False
    # stdnum validates a compact number; a number still carrying separators is not compact.
    return value == normalise(country, value) and (
        scheme.extra_check is None or scheme.extra_check(value)
    )


def validate(country: str, value: str) -> None:
    """Raise ValidationError (code "invalid_registry_number", translated, naming the value and
    the country's number) unless `value` is blank or a valid number of `country`."""
    if not value:
        return
    if (country or "").upper() not in SCHEMES:
        raise ValidationError(
            _("%(country)s is not a supported country for registry numbers."),
            code="invalid_country",
            params={"country": country},
        )
    if not is_valid(country, value):
        raise ValidationError(
            scheme_for(country).error, code="invalid_registry_number", params={"value": value}
        )


def display_number(country: str, value: str) -> str:
    """`value` for people to read: `format_number`, with a Norwegian organisation number grouped
    in threes by non-breaking spaces ("923 609 016", as Brønnøysund prints it). Only for pages:
    the API keeps `format_number`, which clients may parse."""
    shown = format_number(country, value)
    if (country or "").upper() == "NO" and is_valid(country, value):
        return "\xa0".join(shown[i : i + 3] for i in range(0, len(shown), 3))
    return shown


def format_number(country: str, value: str) -> str:
    """`value` as people of `country` write it (Y-tunnus "1234567-8"); as stored otherwise, and
    unchanged when it is not valid (it is shown as typed)."""
    if not value or not is_valid(country, value):
        return value or ""
    scheme = scheme_for(country)
    return str(scheme.rules.format(value)) if scheme.formatted else value


def number_name(country: str) -> str:
    """What a registry number is called in `country` ("registry code" in Estonia)."""
    scheme = SCHEMES.get((country or "").upper())
    return str(scheme.name if scheme else _("registry number"))
