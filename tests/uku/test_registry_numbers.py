"""Registry numbers per country (uku.registry_numbers) and the firm's country."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import translation
from django_scopes import scopes_disabled

from uku import registry_numbers
from uku.models import Company
from uku.validators import normalise_orgnr, validate_orgnr

# (country, as people type it, compact)
VALID = [
    ("NO", "NO 923 609 016 MVA", "923609016"),
    ("EE", "1234 5678", "12345678"),
    ("FI", "2077474-0", "20774740"),
    ("FI", "FI20774740", "20774740"),
    ("LV", "LV 4000 3521 600", "40003521600"),
    ("PL", "PL 856-734-62-15", "8567346215"),
]
# (country, number, what the message calls it)
INVALID = [
    ("NO", "923609017", "not a valid Norwegian organisation number"),
    ("NO", "12345678", "not a valid Norwegian organisation number"),  # an Estonian code
    ("EE", "12345679", "not a valid Estonian registry code"),
    ("EE", "EE101234567", "not a valid Estonian registry code"),  # a VAT number (KMKR)
    ("FI", "2077474-1", "not a valid Finnish business ID"),
    ("LV", "40003521601", "not a valid Latvian registration number"),
    ("LV", "328673-00679", "not a valid Latvian registration number"),  # a personal code
    ("PL", "8567346216", "not a valid Polish NIP"),
]


@pytest.mark.parametrize(("country", "typed", "compact"), VALID)
def test_it_accepts_each_countrys_numbers_as_people_type_them(country, typed, compact) -> None:
    assert registry_numbers.normalise(country, typed) == compact
    registry_numbers.validate(country, compact)
    assert registry_numbers.is_valid(country, compact)


@pytest.mark.parametrize(("country", "number", "message"), INVALID)
def test_it_refuses_each_countrys_invalid_numbers_with_a_message_naming_it(
    country, number, message
) -> None:
    compact = registry_numbers.normalise(country, number)
    with pytest.raises(ValidationError) as caught:
        registry_numbers.validate(country, compact)
    assert caught.value.code == "invalid_registry_number"
    assert message in caught.value.messages[0] and compact in caught.value.messages[0]


def test_the_same_digits_are_valid_in_one_country_and_not_another() -> None:
    assert registry_numbers.is_valid("EE", "12345678")
    assert not registry_numbers.is_valid("FI", "12345678")
    assert not registry_numbers.is_valid("NO", "12345678")


def test_it_refuses_a_number_still_carrying_separators_and_an_unknown_country() -> None:
    assert not registry_numbers.is_valid("FI", "2077474-0")  # valid once compacted, not before
    with pytest.raises(ValidationError) as caught:
        registry_numbers.validate("SE", "5560360793")
    assert caught.value.code == "invalid_country"
    registry_numbers.validate("SE", "")  # blank is always fine


def test_it_formats_numbers_as_their_country_writes_them() -> None:
    assert registry_numbers.format_number("FI", "20774740") == "2077474-0"
    assert registry_numbers.format_number("PL", "8567346215") == "856-734-62-15"
    assert registry_numbers.format_number("NO", "923609016") == "923609016"
    assert registry_numbers.format_number("FI", "20774741") == "20774741"  # invalid: as typed


def test_the_firms_column_fits_the_longest_supported_number() -> None:
    longest = max(scheme.length for scheme in registry_numbers.SCHEMES.values())
    assert (Company._meta.get_field("organisation_number").max_length or 0) >= longest


def test_the_messages_are_translated_to_norwegian() -> None:
    with translation.override("nb"):
        with pytest.raises(ValidationError) as caught:
            registry_numbers.validate("EE", "12345679")
        assert "ikke en gyldig estisk registerkode" in caught.value.messages[0]


def test_the_norwegian_aliases_keep_working() -> None:
    assert normalise_orgnr("NO 923 609 016 MVA") == "923609016"
    validate_orgnr("923609016")
    with pytest.raises(ValidationError, match="not a valid Norwegian organisation number"):
        validate_orgnr("12345678")


# --- The firm's country ---------------------------------------------------------------------------


def test_a_firm_is_norwegian_by_default_and_the_api_shows_its_country(world, api_as) -> None:
    assert world.firm_a.country == "NO"
    me = api_as(world.owner).get("/api/v1/me").json()
    assert me["current_firm"]["country"] == "NO"


def test_the_firm_settings_edit_the_country_and_check_the_number_by_it(world, as_user) -> None:
    owner = as_user(world.owner)
    page = owner.get(reverse("company_settings")).content.decode()
    assert 'name="country"' in page
    bad = owner.post(
        reverse("company_settings"),
        {"name": "Fjord Regnskap AS", "country": "EE", "organisation_number": "923609016"},
    )
    assert bad.status_code == 200
    assert "not a valid Estonian registry code" in bad.content.decode()
    assert bad.context["form"].errors["organisation_number"]
    good = owner.post(
        reverse("company_settings"),
        {"name": "Fjord Regnskap AS", "country": "EE", "organisation_number": "1234 5678"},
    )
    assert good.status_code == 302
    world.firm_a.refresh_from_db()
    assert (world.firm_a.country, world.firm_a.organisation_number) == ("EE", "12345678")


def test_createfirm_takes_a_country_and_checks_the_number_by_it(db) -> None:
    call_command(
        "createfirm",
        name="Tallinn OÜ",
        owner_email="a@tallinn.ee",
        country="EE",
        organisation_number="12345678",
    )
    with scopes_disabled():
        firm = Company.objects.get(name="Tallinn OÜ")
    assert (firm.country, firm.organisation_number) == ("EE", "12345678")
    with pytest.raises(CommandError, match="not a valid Finnish business ID"):
        call_command(
            "createfirm", name="X", owner_email="x@x.fi", country="FI", organisation_number="1"
        )
