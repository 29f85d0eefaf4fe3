"""Login, logout, password reset, invitations and personal API tokens."""

from __future__ import annotations

import re
from datetime import timedelta

from django.core import mail
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.factories import PASSWORD
from uku import services
from uku.models import ApiToken, Invitation, Membership, Role, User


def _found(pattern: str, text: object, group: int) -> str:
    """`group` of `pattern`'s first match in `text` (a mail body may be a lazy string)."""
    match = re.search(pattern, str(text))
    assert match is not None, f"{pattern!r} not found"
    return match.group(group)


def test_it_logs_in_with_the_email_in_any_case(world, client) -> None:
    response = client.post(reverse("login"), {"username": "OWNER@Fjord.no", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 200


def test_it_refuses_a_wrong_password_with_a_message(world, client) -> None:
    response = client.post(reverse("login"), {"username": "owner@fjord.no", "password": "nope"})
    assert response.status_code == 200
    assert "enter a correct" in response.content.decode().lower()


def test_it_logs_out(world, as_user) -> None:
    client = as_user(world.owner)
    client.post(reverse("logout"))
    assert client.get(reverse("home")).status_code == 302


def test_it_resets_a_password_through_the_emailed_link(world, client) -> None:
    client.post(reverse("password_reset"), {"email": "owner@fjord.no"})
    assert len(mail.outbox) == 1
    link = _found(r"http://\S+/reset/\S+/", mail.outbox[0].body, 0)
    form_url = client.get(link).url  # Django swaps the token for a session marker
    response = client.post(
        form_url,
        {"new_password1": "a-new-long-passphrase", "new_password2": "a-new-long-passphrase"},
    )
    assert response.status_code == 302
    client.logout()
    response = client.post(
        reverse("login"), {"username": "owner@fjord.no", "password": "a-new-long-passphrase"}
    )
    assert response.status_code == 302


def _invite(world, email: str = "new@fjord.no", role: str = Role.BILLING):
    with world.scope_a():
        issued = services.invite_member(
            company=world.firm_a, actor=world.owner, email=email, role=role
        )
    return issued, issued.accept_url.removeprefix("http://testserver")


def test_it_invites_by_email_and_a_new_person_joins_with_the_role(
    world, as_user, client, django_capture_on_commit_callbacks
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(world.admin).post(
            reverse("members"), {"email": "New@Fjord.no", "role": Role.BILLING}
        )
    assert response.status_code == 302
    assert mail.outbox[-1].to == ["new@fjord.no"]
    path = _found(r"http://testserver(\S+)", mail.outbox[-1].body, 1)
    client.logout()
    response = client.post(path, {"name": "Nora Ny", "password": "a-good-long-passphrase"})
    assert response.status_code == 302
    with scopes_disabled():
        membership = Membership.objects.get(user__email="new@fjord.no")
        assert (membership.company, membership.role) == (world.firm_a, Role.BILLING)
        assert Invitation.objects.get(email="new@fjord.no").accepted_at is not None
    assert client.get(reverse("home")).status_code == 200
    assert client.get(path).status_code == 404  # the link works once


def test_it_asks_an_existing_user_to_log_in_and_accept(world, client) -> None:
    issued, path = _invite(world, email="owner@bergen.no")
    assert client.get(path)["Location"].startswith(reverse("login"))
    client.force_login(world.outsider, backend="uku.auth.EmailBackend")
    assert client.post(path).status_code == 302
    with scopes_disabled():
        assert Membership.objects.filter(user=world.outsider, company=world.firm_a).exists()
        # a second acceptance (double click) adds nothing
        services.accept_invitation(invitation=issued.invitation, user=world.outsider)
        assert Membership.objects.filter(user=world.outsider, company=world.firm_a).count() == 1


def test_it_refuses_an_invitation_for_another_address(world, as_user) -> None:
    _issued, path = _invite(world)
    assert as_user(world.outsider).post(path).status_code == 403


def test_it_refuses_an_expired_invitation(world, client) -> None:
    issued, path = _invite(world)
    with scopes_disabled():
        Invitation.objects.filter(pk=issued.invitation.pk).update(
            expires_at=timezone.now() - timedelta(minutes=1)
        )
    assert client.get(path).status_code == 404


def test_it_refuses_to_invite_an_existing_member(world, as_user) -> None:
    response = as_user(world.owner).post(
        reverse("members"), {"email": "admin@fjord.no", "role": "member"}
    )
    assert "already a member" in response.content.decode()


def test_it_shows_an_api_token_once_and_stores_only_its_hash(world, as_user) -> None:
    client = as_user(world.owner)
    response = client.post(reverse("api_tokens"), {"name": "Script"})
    raw = _found(r"uku_[A-Za-z0-9_\-]{40}", response.content.decode(), 0)
    assert response["Cache-Control"] == "no-store"
    with scopes_disabled():
        token = ApiToken.objects.get(name="Script")
    assert token.token_hash == ApiToken.hash(raw) and raw not in token.token_hash
    assert raw not in client.get(reverse("api_tokens")).content.decode()


def test_an_api_token_acts_as_its_user_inside_its_firm(world, api_as) -> None:
    body = api_as(world.admin).get(reverse("api-me")).json()
    assert body["user"]["email"] == "admin@fjord.no"
    assert body["current_firm"]["name"] == "Fjord Regnskap AS"
    assert body["role"] == Role.ADMIN


def test_a_revoked_api_token_gets_401(world, api_as) -> None:
    api = api_as(world.owner)
    with scopes_disabled():
        token = ApiToken.objects.get(user=world.owner)
    with world.scope_a():
        services.revoke_api_token(company=world.firm_a, actor=world.owner, token=token)
    response = api.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json() == {
        "code": "authentication_failed",
        "detail": "The API token is invalid, has expired or has been revoked.",
    }


def test_a_removed_members_tokens_stop_working(world, api_as, as_user) -> None:
    api = api_as(world.accountant)
    url = reverse("member_remove", args=[world.membership(world.accountant).public_id])
    assert as_user(world.owner).post(url).status_code == 302
    assert api.get(reverse("api-me")).status_code == 401
    assert User.objects.filter(email="member@fjord.no").exists()  # the person stays


def test_revoking_someone_elses_token_is_404(world, as_user) -> None:
    with world.scope_a():
        token, _raw = services.create_api_token(company=world.firm_a, actor=world.owner, name="x")
    response = as_user(world.admin).post(reverse("api_token_revoke", args=[token.public_id]))
    assert response.status_code == 404


LONG_EMAIL = "a" * 250 + "@fjord.no"  # a valid address, longer than the 254-character column


def test_an_invitation_to_an_email_longer_than_the_column_is_a_field_error(world, as_user) -> None:
    response = as_user(world.owner).post(
        reverse("members"), {"email": LONG_EMAIL, "role": "member"}
    )
    assert response.status_code == 200
    assert response.context["invite_form"].errors["email"]
    with scopes_disabled():
        assert not Invitation.objects.exists()


def test_the_api_refuses_an_invitation_email_longer_than_the_column(world, api_as) -> None:
    response = api_as(world.owner).post(
        reverse("api-invitations"), {"email": LONG_EMAIL, "role": "member"}
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid" and body["fields"]["email"]


def test_a_firm_name_is_kept_on_one_line(world, as_user) -> None:
    response = as_user(world.owner).post(
        reverse("company_settings"),
        {"name": "Fjord\r\nRegnskap\tAS ", "organisation_number": "923609016"},
    )
    assert response.status_code == 302
    world.firm_a.refresh_from_db()
    assert world.firm_a.name == "Fjord Regnskap AS"


def test_an_invitation_from_a_firm_whose_name_holds_a_line_break_is_sent(world, as_user) -> None:
    from uku.models import Company

    Company.objects.filter(pk=world.firm_a.pk).update(name="Fjord\nRegnskap AS")  # old data
    response = as_user(world.owner).post(
        reverse("members"), {"email": "new@fjord.no", "role": Role.MEMBER}
    )
    assert response.status_code == 302
    assert mail.outbox[-1].subject == "You are invited to Fjord Regnskap AS on uku"


def test_a_failed_invitation_email_leaves_no_invitation_and_says_so(world, as_user) -> None:
    import smtplib
    from unittest import mock

    with mock.patch("uku.services.send_mail", side_effect=smtplib.SMTPException("down")):
        response = as_user(world.owner).post(
            reverse("members"), {"email": "new@fjord.no", "role": Role.MEMBER}
        )
    assert response.status_code == 200
    assert "could not be sent, so no invitation was made" in response.content.decode()
    with scopes_disabled():
        assert not Invitation.objects.filter(email="new@fjord.no").exists()


def test_the_api_answers_503_when_the_invitation_email_fails(world, api_as) -> None:
    import smtplib
    from unittest import mock

    with mock.patch("uku.services.send_mail", side_effect=smtplib.SMTPException("down")):
        response = api_as(world.owner).post(
            reverse("api-invitations"), {"email": "new@fjord.no", "role": "member"}
        )
    assert response.status_code == 503
    assert response.json()["code"] == "email_not_sent"
    with scopes_disabled():
        assert not Invitation.objects.filter(email="new@fjord.no").exists()


def test_an_idle_session_is_logged_out_and_activity_keeps_it_alive(
    world, as_user, time_machine
) -> None:
    time_machine.move_to("2026-03-02 08:00 +01:00")
    client = as_user(world.owner)
    for hour in ("15:00", "22:00"):  # a request every seven hours keeps the session alive
        time_machine.move_to(f"2026-03-02 {hour} +01:00")
        assert client.get(reverse("home")).status_code == 200
    time_machine.move_to("2026-03-03 06:01 +01:00")  # 8 hours and a minute without a request
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_the_idle_timeout_is_configurable(tmp_path) -> None:
    from tests.uku.test_settings import _start

    result = _start(
        tmp_path,
        code="from django.conf import settings; print(settings.SESSION_COOKIE_AGE)",
        DEBUG="1",
        UKU_SESSION_IDLE_MINUTES="30",
    )
    assert result.stdout.strip() == "1800", result.stderr
