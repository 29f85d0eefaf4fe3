"""Health check, management commands, request ids and secret redaction in logs."""

from __future__ import annotations

import io
import json
import logging
from types import TracebackType
from unittest import mock

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django_scopes import scopes_disabled

from tests.factories import PASSWORD
from uku.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter, redact, register_secret
from uku.models import ApiToken, Company, Membership, Plan, User
from uku.validators import normalise_orgnr, validate_orgnr

# What logging.LogRecord takes as exc_info (sys.exc_info() gives either tuple).
ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None] | tuple[None, None, None]


def test_healthz_reports_database_and_broker(db, client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "checks": {"database": "ok", "broker": "ok"}}


def test_healthz_answers_503_naming_what_is_down(db, client) -> None:
    with mock.patch("uku.celery.app.connection_for_write", side_effect=ConnectionError("down")):
        response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["checks"]["broker"] == "error: ConnectionError"


def test_every_response_carries_a_request_id(db, client) -> None:
    assert len(client.get("/healthz")["X-Request-ID"]) == 32
    assert (
        client.get("/healthz", HTTP_X_REQUEST_ID="abc-12345678")["X-Request-ID"] == "abc-12345678"
    )
    assert client.get("/healthz", HTTP_X_REQUEST_ID="bad id\n")["X-Request-ID"] != "bad id\n"


def test_createfirm_prints_an_api_token_only_when_asked(db) -> None:
    out = io.StringIO()
    call_command("createfirm", name="Nord AS", owner_email="eier@nord.no", plan="elite", stdout=out)
    assert "uku_" not in out.getvalue()
    out = io.StringIO()
    call_command(
        "createfirm",
        name="Sør AS",
        owner_email="eier@sor.no",
        plan="team",
        api_token=True,
        password="a-long-passphrase",
        stdout=out,
    )
    raw = out.getvalue().split("API token: ")[1].strip()
    with scopes_disabled():
        assert ApiToken.objects.get(token_hash=ApiToken.hash(raw)).company.name == "Sør AS"
        assert Company.objects.get(name="Nord AS").plan == Plan.ELITE


def test_createfirm_refuses_an_invalid_organisation_number(db) -> None:
    with pytest.raises(CommandError, match="not a valid Norwegian organisation number"):
        call_command("createfirm", name="X", owner_email="x@x.no", organisation_number="123456789")


def test_seed_demo_is_idempotent(db) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    with scopes_disabled():
        assert Company.objects.filter(name="Demo Regnskap AS").count() == 1
        membership = Membership.objects.get(user__email="demo@uku.local")
    assert membership.company.plan == Plan.TEAM and membership.role == "owner"


def test_seed_demo_keeps_a_password_the_user_changed_and_their_session(db, client) -> None:
    call_command("seed_demo", stdout=io.StringIO())
    with scopes_disabled():
        user = User.objects.get(email="demo@uku.local")
    user.set_password("my own long passphrase")
    user.save()
    login = client.post(
        "/accounts/login/", {"username": "demo@uku.local", "password": "my own long passphrase"}
    )
    assert login.status_code == 302
    assert client.get("/").status_code == 200  # signed in

    out = io.StringIO()
    call_command("seed_demo", stdout=out)  # the next `make run`

    assert client.get("/").status_code == 200  # the session was not ended
    user.refresh_from_db()
    assert user.check_password("my own long passphrase")
    assert "demo-uku-2026" not in out.getvalue()
    assert "the password you chose" in out.getvalue()


@pytest.mark.parametrize("value", ["923609016", "923 609 016", "923-609-016", "NO 923 609 016 MVA"])
def test_it_accepts_organisation_numbers_as_people_type_them(value) -> None:
    validate_orgnr(normalise_orgnr(value))
    assert normalise_orgnr(value) == "923609016"


@pytest.mark.parametrize("value", ["923609017", "12345678", "abcdefghi"])
def test_it_refuses_organisation_numbers_failing_mod11(value) -> None:
    with pytest.raises(ValidationError):
        validate_orgnr(normalise_orgnr(value))


def _log_line(message: str, *args: object, exc_info: ExcInfo | None = None) -> str:
    record = logging.LogRecord("t", logging.INFO, __file__, 1, message, args, exc_info)
    for f in (RequestIdFilter(), RedactSecretsFilter()):
        f.filter(record)
    return JsonFormatter().format(record)


def test_logs_are_json_lines_with_the_request_id(db, client) -> None:
    line = json.loads(_log_line("hello %s", "world"))
    assert line["message"] == "hello world" and "request_id" in line and line["level"] == "INFO"


@pytest.mark.parametrize(
    "message",
    [
        "PUT /token/session/:create?employeeToken=SECRET-canary-123&consumerToken=SECRET-canary-123",
        'payload {"employee_token": "SECRET-canary-123"}',
        "Authorization: Basic SECRET-canary-123",
        "password=SECRET-canary-123",
    ],
)
def test_logs_redact_credentials(message) -> None:
    assert "SECRET-canary-123" not in _log_line(message)


def test_it_keeps_a_log_line_json_when_a_secret_is_next_to_a_quote() -> None:
    """Masking must happen before serializing: masked inside JSON text, `token=abc\\"...` loses
    the backslash that escapes the quote. No filter here, as on a handler that has none."""
    record = logging.LogRecord(
        "t", logging.INFO, __file__, 1, 'sent token=SECRET-canary-1"x', None, None
    )
    line = json.loads(JsonFormatter().format(record))
    assert line["message"] == 'sent token=[REDACTED]"x'


def test_it_leaves_celerys_copy_of_task_arguments_out_of_the_log_line() -> None:
    record = logging.LogRecord(
        "celery.worker.strategy", logging.INFO, __file__, 1, "received", None, None
    )
    record.data = {"name": "ping", "args": "('SECRET-canary-123',)"}
    assert "SECRET-canary-123" not in JsonFormatter().format(record)


def test_logs_redact_registered_secrets_anywhere_even_in_tracebacks() -> None:
    register_secret("zz-canary-token-value-42")
    try:
        raise RuntimeError("failed with zz-canary-token-value-42 inside")
    except RuntimeError:
        import sys

        line = _log_line("oops %s", "zz-canary-token-value-42", exc_info=sys.exc_info())
    assert "zz-canary-token-value-42" not in line
    assert "[REDACTED]" in json.loads(line)["exception"]
    assert redact("uku_" + "a" * 40) == "[REDACTED]"


def test_the_compose_file_describes_the_production_like_stack() -> None:
    from pathlib import Path

    import yaml

    compose = yaml.safe_load(
        (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    )
    assert {"postgres", "redis", "web", "worker", "beat"} <= set(compose["services"])
    assert "gunicorn" in compose["services"]["web"]["command"]
    assert (
        "SECRET_KEY" not in (Path(__file__).resolve().parents[2] / "docker-compose.yml").read_text()
    )


def test_createfirm_adds_an_existing_user_as_owner_without_touching_their_password(world) -> None:
    out = io.StringIO()
    call_command(
        "createfirm",
        name="Ny Firma AS",
        owner_email="OWNER@fjord.no",
        password="an-attackers-new-passphrase",
        stdout=out,
    )
    world.owner.refresh_from_db()
    assert world.owner.check_password(PASSWORD)
    assert not world.owner.check_password("an-attackers-new-passphrase")
    with scopes_disabled():
        membership = Membership.objects.get(user=world.owner, company__name="Ny Firma AS")
    assert membership.role == "owner"
    assert "already had an account" in out.getvalue()
    assert "--password was ignored" in out.getvalue()


@pytest.mark.parametrize("email", ["a" * 250 + "@x.no", "not-an-address"])
def test_createfirm_refuses_an_email_that_is_malformed_or_longer_than_the_column(db, email) -> None:
    with pytest.raises(CommandError):
        call_command("createfirm", name="X", owner_email=email, password="a-long-passphrase")
    with scopes_disabled():
        assert not Company.objects.filter(name="X").exists()
