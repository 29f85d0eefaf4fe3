"""Logins, the admin login, password-reset e-mails and the API resist guessing and flooding."""

from __future__ import annotations

import pytest
from django.core import mail
from django.urls import reverse

from tests.factories import PASSWORD


def _fail(client, path: str, username: str, times: int, **extra) -> None:
    for _ in range(times):
        client.post(path, {"username": username, "password": "wrong-guess"}, **extra)


def test_it_locks_an_account_after_repeated_wrong_passwords_even_for_the_right_one(
    world, client, settings
) -> None:
    _fail(client, reverse("login"), "owner@fjord.no", settings.AXES_FAILURE_LIMIT)
    response = client.post(reverse("login"), {"username": "owner@fjord.no", "password": PASSWORD})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session
    page = response.content.decode()
    assert "Too many failed log-in attempts" in page
    assert "15 minutes" in page
    assert 'name="username"' in page  # the login page itself, not a bare error page
    assert int(response["Retry-After"]) == 15 * 60


def test_the_account_lock_holds_against_other_addresses_and_other_spellings(
    world, client, settings
) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": "OWNER@Fjord.no" if n % 2 else "owner@fjord.no", "password": "x"},
            REMOTE_ADDR=f"10.0.0.{n + 1}",
        )
    response = client.post(
        reverse("login"),
        {"username": "owner@fjord.no", "password": PASSWORD},
        REMOTE_ADDR="10.0.9.9",
    )
    assert response.status_code == 429


def test_an_address_guessing_many_accounts_is_locked_out(world, client, settings) -> None:
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("login"), {"username": f"guess{n}@fjord.no", "password": "x"})
    response = client.post(reverse("login"), {"username": "admin@fjord.no", "password": PASSWORD})
    assert response.status_code == 429


def test_a_few_mistakes_do_not_lock_and_a_success_clears_them(world, client, settings) -> None:
    _fail(client, reverse("login"), "owner@fjord.no", settings.AXES_FAILURE_LIMIT - 1)
    assert (
        client.post(
            reverse("login"), {"username": "owner@fjord.no", "password": PASSWORD}
        ).status_code
        == 302
    )
    client.logout()
    _fail(client, reverse("login"), "owner@fjord.no", settings.AXES_FAILURE_LIMIT - 1)
    assert (
        client.post(
            reverse("login"), {"username": "owner@fjord.no", "password": PASSWORD}
        ).status_code
        == 302
    )


def test_the_lock_out_message_is_in_norwegian_for_norwegian_users(world, client, settings) -> None:
    _fail(client, reverse("login"), "owner@fjord.no", settings.AXES_FAILURE_LIMIT)
    response = client.post(
        reverse("login"),
        {"username": "owner@fjord.no", "password": PASSWORD},
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert response.status_code == 429
    assert "For mange mislykkede innloggingsforsøk" in response.content.decode()


def test_the_lock_lifts_after_the_cool_off(world, client, settings, time_machine) -> None:
    time_machine.move_to("2026-03-02 09:00 +01:00")
    _fail(client, reverse("login"), "owner@fjord.no", settings.AXES_FAILURE_LIMIT)
    time_machine.move_to("2026-03-02 09:16 +01:00")
    response = client.post(reverse("login"), {"username": "owner@fjord.no", "password": PASSWORD})
    assert response.status_code == 302


def test_the_admin_login_is_locked_out_the_same_way(world, client, settings) -> None:
    from uku.models import User

    User.objects.create_superuser("root@uku.local", PASSWORD)
    _fail(client, reverse("admin:login"), "root@uku.local", settings.AXES_FAILURE_LIMIT)
    response = client.post(
        reverse("admin:login"), {"username": "root@uku.local", "password": PASSWORD}
    )
    assert response.status_code == 429
    assert "Too many failed log-in attempts" in response.content.decode()
    assert client.get(reverse("admin:index")).status_code == 302  # still not logged in


def _ask_reset(client, email: str, **extra):
    return client.post(reverse("password_reset"), {"email": email}, **extra)


def test_it_sends_at_most_three_reset_emails_an_hour_per_account(world, client) -> None:
    responses = [_ask_reset(client, "owner@fjord.no", REMOTE_ADDR=f"10.1.0.{n}") for n in range(15)]
    assert len(mail.outbox) == 3
    # Every answer is the same "check your inbox" redirect, sent or not.
    assert {(r.status_code, r["Location"]) for r in responses} == {
        (302, reverse("password_reset_done"))
    }


def test_the_reset_limit_lifts_after_an_hour(world, client, time_machine) -> None:
    time_machine.move_to("2026-03-02 09:00 +01:00")
    for _ in range(4):
        _ask_reset(client, "owner@fjord.no")
    time_machine.move_to("2026-03-02 10:01 +01:00")
    _ask_reset(client, "owner@fjord.no")
    assert len(mail.outbox) == 4


def test_one_address_cannot_flood_many_accounts_with_reset_emails(world, client, settings) -> None:
    emails = ["owner@fjord.no", "admin@fjord.no", "member@fjord.no", "billing@fjord.no"]
    for n in range(settings.UKU_PASSWORD_RESET_PER_IP_PER_HOUR):
        _ask_reset(client, f"nobody{n}@example.no")  # unknown accounts use up the quota too
    for email in emails:
        assert _ask_reset(client, email).status_code == 302
    assert mail.outbox == []
    _ask_reset(client, "owner@fjord.no", REMOTE_ADDR="10.2.0.1")
    assert len(mail.outbox) == 1


def test_the_reset_link_comes_from_site_url_not_the_host_header(world, client, settings) -> None:
    settings.SITE_URL = "https://uku.example.no"
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "evil.example"]
    _ask_reset(client, "owner@fjord.no", HTTP_HOST="evil.example")
    body = mail.outbox[0].body
    assert "https://uku.example.no/accounts/reset/" in body
    assert "evil.example" not in body


@pytest.fixture
def low_api_rates(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {"anon": "3/minute", "user": "5/minute"},
    }


def test_the_api_throttles_a_user_with_429_in_the_error_shape(world, api_as, low_api_rates) -> None:
    api = api_as(world.owner)
    statuses = [api.get("/api/v1/me").status_code for _ in range(5)]
    assert statuses == [200] * 5
    response = api.get("/api/v1/me")
    assert response.status_code == 429
    body = response.json()
    assert body["code"] == "throttled"
    assert "detail" in body
    assert 0 < int(response["Retry-After"]) <= 60
    # Another user has their own budget.
    assert api_as(world.admin).get("/api/v1/me").status_code == 200


def test_the_api_throttles_anonymous_callers_per_address(db, client, low_api_rates) -> None:
    statuses = [client.get("/api/schema/").status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    assert client.get("/api/schema/", REMOTE_ADDR="10.3.0.1").status_code == 200
    # A forged X-Forwarded-For does not buy a fresh budget.
    assert client.get("/api/schema/", HTTP_X_FORWARDED_FOR="10.9.9.9").status_code == 429


def test_the_api_rate_is_configurable_from_the_environment(tmp_path) -> None:
    from tests.uku.test_settings import _start

    result = _start(
        tmp_path,
        code="from django.conf import settings; "
        "print(settings.REST_FRAMEWORK['DEFAULT_THROTTLE_RATES'])",
        DEBUG="1",
        UKU_API_THROTTLE_USER="7/hour",
    )
    assert "'user': '7/hour'" in result.stdout, result.stderr


def test_behind_a_proxy_one_guesser_does_not_lock_out_the_others(world, client, settings) -> None:
    """With UKU_NUM_PROXIES, the address counted is the client's, not the proxy's."""
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": 1}
    for n in range(settings.AXES_FAILURE_LIMIT):
        client.post(
            reverse("login"),
            {"username": f"guess{n}@fjord.no", "password": "x"},
            REMOTE_ADDR="10.0.0.1",
            HTTP_X_FORWARDED_FOR="203.0.113.9",
        )
    guesser = client.post(
        reverse("login"),
        {"username": "admin@fjord.no", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="203.0.113.9",
    )
    assert guesser.status_code == 429
    colleague = client.post(
        reverse("login"),
        {"username": "admin@fjord.no", "password": PASSWORD},
        REMOTE_ADDR="10.0.0.1",
        HTTP_X_FORWARDED_FOR="198.51.100.7",
    )
    assert colleague.status_code == 302
