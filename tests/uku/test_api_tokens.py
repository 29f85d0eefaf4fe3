"""Personal API tokens end: on a password change or reset, and at their expiry."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.factories import PASSWORD
from uku.models import ApiToken


def _found(pattern: str, text: object, group: int) -> str:
    """`group` of `pattern`'s first match in `text` (a mail body may be a lazy string)."""
    match = re.search(pattern, str(text))
    assert match is not None, f"{pattern!r} not found"
    return match.group(group)


def test_a_password_reset_revokes_the_users_api_tokens(world, api_as, client) -> None:
    api = api_as(world.owner)
    bystander = api_as(world.admin)
    client.post(reverse("password_reset"), {"email": "owner@fjord.no"})
    link = _found(r"http://\S+/reset/\S+/", mail.outbox[0].body, 0)
    form_url = client.get(link).url
    client.post(
        form_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    response = api.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert bystander.get(reverse("api-me")).status_code == 200  # only the owner's tokens go


def test_changing_the_password_revokes_the_api_tokens_in_every_firm(world, api_as, as_user) -> None:
    from tests.factories import MembershipFactory

    MembershipFactory(company=world.firm_b, user=world.owner)
    in_a, in_b = api_as(world.owner, world.firm_a), api_as(world.owner, world.firm_b)
    response = as_user(world.owner).post(
        reverse("password_change"),
        {
            "old_password": PASSWORD,
            "new_password1": "another-long-passphrase",
            "new_password2": "another-long-passphrase",
        },
    )
    assert response.status_code == 302
    assert in_a.get(reverse("api-me")).status_code == 401
    assert in_b.get(reverse("api-me")).status_code == 401


def test_saving_a_user_without_a_new_password_keeps_their_tokens(world, api_as) -> None:
    api = api_as(world.owner)
    world.owner.name = "Olga Owner"
    world.owner.save()
    assert api.get(reverse("api-me")).status_code == 200


def test_an_expired_api_token_gets_401_in_the_error_shape(world, api_as, time_machine) -> None:
    time_machine.move_to(timezone.now())
    api = api_as(world.owner)  # the default lifetime: 90 days
    time_machine.move_to(timezone.now() + timedelta(days=89))
    assert api.get(reverse("api-me")).status_code == 200
    time_machine.move_to(timezone.now() + timedelta(days=2))
    response = api.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "The API token is invalid, has expired or has been revoked.",
    }


def test_the_lifetime_is_chosen_at_creation_and_at_most_a_year(world, as_user) -> None:
    client = as_user(world.owner)
    client.post(reverse("api_tokens"), {"name": "Yearly", "expires_in_days": "365"})
    with scopes_disabled():
        token = ApiToken.objects.get(name="Yearly")
    assert abs(token.expires_at - (timezone.now() + timedelta(days=365))) < timedelta(minutes=1)
    response = client.post(reverse("api_tokens"), {"name": "Forever", "expires_in_days": "3650"})
    assert "Select a valid choice" in response.content.decode()
    with scopes_disabled():
        assert not ApiToken.objects.filter(name="Forever").exists()


def test_the_tokens_page_shows_expiry_and_marks_expired_tokens(
    world, as_user, time_machine
) -> None:
    time_machine.move_to(timezone.now())
    client = as_user(world.owner)
    client.post(reverse("api_tokens"), {"name": "Short", "expires_in_days": "30"})
    page = client.get(reverse("api_tokens")).content.decode()
    assert "Expires" in page and "Expired" not in page
    time_machine.move_to(timezone.now() + timedelta(days=31))
    page = as_user(world.owner).get(reverse("api_tokens")).content.decode()
    assert "Expired" in page
    assert "Revoke<" not in page  # nothing left to revoke
