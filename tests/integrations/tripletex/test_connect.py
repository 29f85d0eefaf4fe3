"""The Connect flow against the Tripletex sandbox over real HTTP: Test connection, Save, Replace,
Disconnect, each failure's own message, and a canary token that never leaks anywhere."""

from __future__ import annotations

import io
import json
import logging
from datetime import timedelta

import pytest
from celery.signals import task_prerun
from django.urls import reverse
from django.utils import timezone
from django_scopes import scopes_disabled

from integrations import services
from integrations.base import AuthError, IntegrationError, RateLimited, TransientError
from integrations.models import IntegrationConnection, IntegrationCredential, SyncJob, SyncJobCall
from integrations.tasks import warn_expiring_tokens
from tests.reliability.report import count
from tests.reliability.secrets import database_hits
from uku.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter

# Expiry dates relative to today: a saved token's expiry must lie ahead (and within ten years).
IN_SIX_MONTHS = (timezone.localdate() + timedelta(days=180)).isoformat()
IN_A_YEAR = (timezone.localdate() + timedelta(days=360)).isoformat()

CONNECT_URL = "/settings/apps/tripletex/connect/"
TEST_URL = "/settings/apps/tripletex/connect/test/"


@pytest.fixture
def tx(tx, settings):
    """The shared sandbox, with a short read timeout for the timeout cases."""
    settings.TRIPLETEX_READ_TIMEOUT = 2.0
    return tx


@pytest.fixture
def token(tx) -> str:
    return tx.store.create_employee_token(expires_on=tx.store.today() + timedelta(days=200))[
        "token"
    ]


def _test(world, environment: str = "test", **credentials: str):
    with world.scope_a():
        return services.test_connection(
            company=world.firm_a,
            actor=world.admin,
            vendor="tripletex",
            environment=environment,
            credentials=credentials or None,
        )


def test_test_connection_answers_with_the_company_name_and_saves_nothing(world, tx, token) -> None:
    result = _test(world, employee_token=token)
    assert result.remote.name == "Demo Regnskap AS"
    assert result.remote.employee_name
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()
        job = SyncJob.objects.get()
        assert job.kind == "connection_test" and job.status == "succeeded"
        assert SyncJobCall.objects.filter(job=job, path__contains="session").exists()


def test_a_token_with_surrounding_whitespace_is_cleaned(world, tx, token) -> None:
    assert _test(world, employee_token=f"  {token}\n").remote.name == "Demo Regnskap AS"


def test_a_token_with_whitespace_inside_is_refused_before_any_call(world, tx, token) -> None:
    tx.store.clear_requests()
    with pytest.raises(IntegrationError) as raised:
        _test(world, employee_token=token[:10] + " " + token[10:])
    assert raised.value.details.get("field") == "employee_token"
    assert tx.store.request_counts() == {}


def test_an_empty_token_is_refused_before_any_call(world, tx) -> None:
    tx.store.clear_requests()
    with pytest.raises(IntegrationError):
        _test(world, employee_token="   ")
    assert tx.store.request_counts() == {}


def _message(world, **credentials: str) -> str:
    with pytest.raises(AuthError) as raised:
        _test(world, **credentials)
    return raised.value.message


def test_each_auth_failure_has_its_own_message(world, tx) -> None:
    store = tx.store
    expired = store.create_employee_token(expires_on=store.today() - timedelta(days=1))["token"]
    revoked = store.create_employee_token()["token"]
    store.revoke_employee_token(revoked)
    employee = next(
        e
        for e in store.company_rows("employee", store.firm_company_id)
        if e["_active"] and e["id"] != store.admin_employee_id
    )
    deactivated = store.create_employee_token(employee_id=employee["id"])["token"]
    store.deactivate_employee(employee["id"])
    messages = {
        "expired": _message(world, employee_token=expired),
        "revoked": _message(world, employee_token=revoked),
        "deactivated": _message(world, employee_token=deactivated),
        "wrong environment": _message(world, employee_token="prod-looking-token-0123456789abcdef"),
    }
    assert len(set(messages.values())) == 4, messages
    assert "expired" in messages["expired"].lower()
    assert "no longer active" in messages["deactivated"]
    assert "test" in messages["wrong environment"].lower()


def test_a_test_token_on_production_says_wrong_environment(world, tx, token, settings) -> None:
    settings.TRIPLETEX_PRODUCTION_URL = tx.url
    settings.TRIPLETEX_CONSUMER_TOKEN_PRODUCTION = tx.store.consumer_token
    with pytest.raises(AuthError) as raised:
        _test(world, environment="production", employee_token=token)
    assert "production" in raised.value.message.lower()


def test_a_429_is_waited_out_and_retried(world, tx, token) -> None:
    tx.store.inject_fault("rate_limit", "/token/session/>whoAmI", times=1, retry_after=1)
    assert _test(world, employee_token=token).remote.name == "Demo Regnskap AS"


def test_a_persistent_429_fails_as_rate_limited(world, tx, token, settings) -> None:
    settings.TRIPLETEX_MAX_INLINE_WAIT = 0.5
    tx.store.inject_fault("rate_limit", "/token/session/>whoAmI", times=10, retry_after=30)
    with pytest.raises(RateLimited):
        _test(world, employee_token=token)


@pytest.mark.parametrize("kind", ["server_error", "unavailable", "drop", "malformed_json"])
def test_transient_failures_are_retried_then_succeed(world, tx, token, kind) -> None:
    tx.store.inject_fault(kind, "/token/session/>whoAmI", times=1)
    assert _test(world, employee_token=token).remote.name == "Demo Regnskap AS"


def test_transient_failures_that_persist_fail_visibly(world, tx, token) -> None:
    tx.store.inject_fault("unavailable", "/token/session/>whoAmI", times=20)
    with pytest.raises(TransientError):
        _test(world, employee_token=token)
    with scopes_disabled():
        job = SyncJob.objects.get()
    assert job.status == "failed" and job.error
    assert SyncJobCall.objects.with_scopes_disabled().filter(job=job, status=503).count() == 3


def test_save_replace_and_disconnect_through_the_ui(world, as_user, tx, token) -> None:
    client = as_user(world.admin)
    client.post(reverse("integration_enable", args=["tripletex"]))
    response = client.post(
        CONNECT_URL,
        {"employee_token": token, "environment": "test", "token_expires_on": IN_SIX_MONTHS},
    )
    assert response.status_code == 302
    page = client.get("/settings/apps/tripletex/?tab=connect").content.decode()
    shown = (timezone.localdate() + timedelta(days=180)).strftime("%d/%m/%Y")  # day first
    assert f"ending in <strong>{token[-4:]}</strong>, expires {shown}" in page
    assert "Tripletex company: Demo Regnskap AS" in page
    with scopes_disabled():
        connection = IntegrationConnection.objects.get(company=world.firm_a)
        job_count = SyncJob.objects.count()
    # Replace: a new token keeps the connection (and so every link and job hanging off it)
    new_token = tx.store.create_employee_token()["token"]
    client.post(
        CONNECT_URL,
        {"employee_token": new_token, "environment": "test", "token_expires_on": IN_A_YEAR},
    )
    with scopes_disabled():
        assert IntegrationConnection.objects.get(company=world.firm_a).pk == connection.pk
        credential = IntegrationCredential.objects.get()
        assert (credential.last4, str(credential.expires_on)) == (new_token[-4:], IN_A_YEAR)
        assert SyncJob.objects.count() == job_count + 1
    client.post("/settings/apps/tripletex/disconnect/")
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()


def test_save_refuses_a_token_that_does_not_work_and_keeps_the_old_one(
    world, as_user, tx, token
) -> None:
    client = as_user(world.admin)
    client.post(reverse("integration_enable", args=["tripletex"]))
    client.post(
        CONNECT_URL,
        {"employee_token": token, "environment": "test", "token_expires_on": IN_SIX_MONTHS},
    )
    response = client.post(
        CONNECT_URL,
        {
            "employee_token": "test-not-a-real-token-000000000",
            "environment": "test",
            "token_expires_on": IN_SIX_MONTHS,
        },
    )
    assert response.status_code == 400
    assert "Tripletex" in response.content.decode()
    with scopes_disabled():
        assert IntegrationCredential.objects.get().last4 == token[-4:]


def test_the_test_button_shows_the_company_name_without_saving(world, as_user, tx, token) -> None:
    client = as_user(world.admin)
    client.post(reverse("integration_enable", args=["tripletex"]))
    response = client.post(
        TEST_URL, {"employee_token": token, "environment": "test"}, HTTP_HX_REQUEST="true"
    )
    assert "Demo Regnskap AS" in response.content.decode()
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()


def test_the_api_connects_tests_and_disconnects(world, api_as, tx, token) -> None:
    api = api_as(world.owner)
    assert api.post("/api/v1/integrations/tripletex/enable").json()["enabled"] is True
    tested = api.post(
        "/api/v1/integrations/tripletex/connection/test",
        {"employee_token": token, "environment": "test"},
        format="json",
    )
    assert tested.status_code == 200
    assert tested.json()["company_name"] == "Demo Regnskap AS"
    saved = api.put(
        "/api/v1/integrations/tripletex/connection",
        {"environment": "test", "employee_token": token, "token_expires_on": IN_SIX_MONTHS},
        format="json",
    )
    assert saved.status_code == 200 and saved.json()["state"] == "connected"
    assert saved.json()["token"]["last4"] == token[-4:]
    retest = api.post("/api/v1/integrations/tripletex/connection/test", {}, format="json")
    assert retest.json()["company_name"] == "Demo Regnskap AS"  # the saved token
    jobs = api.get("/api/v1/sync-jobs/").json()["results"]
    detail = api.get(f"/api/v1/sync-jobs/{jobs[0]['id']}/").json()
    assert detail["calls"] and all(
        "token" not in json.dumps(c).lower() or "session" in c["path"] for c in detail["calls"]
    )
    assert api.delete("/api/v1/integrations/tripletex/connection").status_code == 204


def test_the_api_gives_field_and_auth_errors_in_the_error_shape(world, api_as, tx) -> None:
    api = api_as(world.owner)
    api.post("/api/v1/integrations/tripletex/enable")
    empty = api.post(
        "/api/v1/integrations/tripletex/connection/test", {"employee_token": " "}, format="json"
    )
    assert empty.status_code == 400 and "employee_token" in empty.json()["fields"]
    bad = api.post(
        "/api/v1/integrations/tripletex/connection/test",
        {"employee_token": "test-unknown-token-00000000000000", "environment": "test"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "integration_auth_failed"


def test_a_canary_token_never_leaks(world, as_user, api_as, tx) -> None:
    """Through success and every kind of failure: not in logs (at DEBUG, through uku's handler),
    HTML, API responses, exceptions or Celery task arguments."""
    canary = tx.store.create_employee_token(expires_on=tx.store.today() + timedelta(days=3))[
        "token"
    ]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    published: list[str] = []

    def capture(sender=None, task_id=None, task=None, args=None, kwargs=None, **_):
        published.append(repr((args, kwargs)))

    task_prerun.connect(capture)
    seen: list[str] = []
    try:
        client = as_user(world.admin)
        api = api_as(world.admin)
        client.post(reverse("integration_enable", args=["tripletex"]))
        for kind in ("server_error", "drop", "malformed_json", "unauthorized", "rate_limit"):
            tx.store.inject_fault(kind, "/token/session/>whoAmI", times=1, retry_after=1)
            seen.append(
                client.post(
                    TEST_URL, {"employee_token": canary, "environment": "test"}
                ).content.decode()
            )
        tx.store.inject_fault("unavailable", "/token/session/>whoAmI", times=20)
        seen.append(
            client.post(
                TEST_URL, {"employee_token": canary, "environment": "test"}
            ).content.decode()
        )
        tx.store.clear_faults()
        seen.append(
            client.post(
                CONNECT_URL,
                {
                    "employee_token": canary,
                    "environment": "test",
                    "token_expires_on": IN_SIX_MONTHS,
                },
            ).content.decode()
        )
        for url in (
            "/settings/apps/",
            "/settings/apps/tripletex/?tab=connect",
            "/settings/apps/tripletex/?tab=history",
        ):
            seen.append(client.get(url).content.decode())
        seen.append(api.get("/api/v1/integrations/").content.decode())
        with scopes_disabled():
            for job in SyncJob.objects.all():
                seen.append(
                    client.get(
                        f"/settings/apps/tripletex/history/{job.public_id}/"
                    ).content.decode()
                )
                seen.append(api.get(f"/api/v1/sync-jobs/{job.public_id}/").content.decode())
                seen.append(repr(job.error_details) + job.error)
        seen.append(
            api.post(
                "/api/v1/integrations/tripletex/connection/test", {}, format="json"
            ).content.decode()
        )
        tx.store.revoke_employee_token(canary)
        with world.scope_a(), pytest.raises(IntegrationError) as raised:
            services.test_connection(
                company=world.firm_a, actor=world.admin, vendor="tripletex", environment="test"
            )
        seen += [
            str(raised.value),
            repr(raised.value),
            repr(raised.value.details),
            repr(raised.value.__cause__),
            repr(raised.value.__context__),
        ]
        warn_expiring_tokens.delay()
    finally:
        task_prerun.disconnect(capture)
        root.removeHandler(handler)
        root.setLevel(old_level)
    seen.append(stream.getvalue())
    seen += published
    assert published, "the expiry task ran"
    # ...and nowhere in the database outside the encrypted credential column.
    leaks = [s[:200] for s in seen if canary in s] + database_hits(canary)
    count("secret_leaks", len(leaks))
    assert not leaks
    assert stream.getvalue()  # logging did happen


@pytest.mark.parametrize(
    ("expires_on", "message"),
    [("1900-01-01", "is in the past"), ("2199-01-01", "more than 10 years away")],
)
def test_the_ui_refuses_an_expiry_in_the_past_or_absurdly_far(
    world, as_user, expires_on, message
) -> None:
    client = as_user(world.admin)
    client.post(reverse("integration_enable", args=["tripletex"]))
    response = client.post(
        CONNECT_URL,
        {
            "employee_token": "test-0123456789abcdef",
            "environment": "test",
            "token_expires_on": expires_on,
        },
    )
    assert response.status_code != 302
    assert message in response.content.decode()
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()


@pytest.mark.parametrize("expires_on", ["1900-01-01", "2199-01-01"])
def test_the_api_refuses_an_expiry_in_the_past_or_absurdly_far(world, api_as, expires_on) -> None:
    api = api_as(world.owner)
    api.post("/api/v1/integrations/tripletex/enable")
    response = api.put(
        "/api/v1/integrations/tripletex/connection",
        {
            "environment": "test",
            "employee_token": "test-0123456789abcdef",
            "token_expires_on": expires_on,
        },
        format="json",
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert expires_on in body["fields"]["token_expires_on"][0]
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()


def test_a_token_expiring_today_or_within_ten_years_passes(time_machine) -> None:
    from datetime import date

    from integrations.validators import validate_token_expiry

    time_machine.move_to("2026-03-02 12:00 +01:00")
    validate_token_expiry(date(2026, 3, 2))
    validate_token_expiry(date(2036, 3, 2))
