"""A saved connection that Tripletex refuses stops saying "Connected": after a refused job, and
after a refused Test connection of the saved token (the state line is redrawn in place)."""

from __future__ import annotations

import re

from django.test import TestCase
from django_scopes import scopes_disabled

from clients import services as client_services
from integrations.models import ConnectionStatus, IntegrationConnection

PAGE = "/settings/apps/tripletex/"
TEST_URL = "/settings/apps/tripletex/connect/test/"


def _state_line(html: str) -> str:
    found = re.search(r'<p [^>]*id="connection-state"[^>]*>(.*?)</p>', html, re.S)
    assert found, html
    return found.group(1)


def _connected(tx, saved_connection) -> str:
    token = tx.store.create_employee_token()["token"]
    saved_connection(token=token)
    return token


def _status() -> str:
    with scopes_disabled():
        return IntegrationConnection.objects.get(vendor="tripletex").status


def test_the_header_shows_the_error_after_a_job_is_refused(
    world, tx, saved_connection, as_user
) -> None:
    tx.store.revoke_employee_token(_connected(tx, saved_connection))
    with TestCase.captureOnCommitCallbacks(execute=True), world.scope_a():
        client_services.start_customer_import(
            company=world.firm_a, actor=world.admin, vendor="tripletex"
        )

    line = _state_line(as_user(world.admin).get(PAGE).content.decode())
    assert "Connected to" not in line
    assert "token" in line.lower()


def test_a_refused_test_of_the_saved_token_flags_the_connection(
    world, tx, saved_connection, as_user
) -> None:
    tx.store.revoke_employee_token(_connected(tx, saved_connection))
    client = as_user(world.admin)

    fragment = client.post(TEST_URL, {"environment": "test", "employee_token": ""})

    html = fragment.content.decode()
    assert 'id="test-error"' in html
    assert 'hx-swap-oob="true"' in html and "Connected to" not in _state_line(html)
    assert _status() == ConnectionStatus.ERROR
    assert "Connected to" not in _state_line(client.get(PAGE).content.decode())


def test_a_working_test_of_the_saved_token_clears_the_error(
    world, tx, saved_connection, as_user
) -> None:
    _connected(tx, saved_connection)
    with scopes_disabled():
        IntegrationConnection.objects.filter(vendor="tripletex").update(
            status=ConnectionStatus.ERROR, last_error="The token was refused."
        )

    fragment = as_user(world.admin).post(TEST_URL, {"environment": "test", "employee_token": ""})

    assert "Connected to" in _state_line(fragment.content.decode())
    assert _status() == ConnectionStatus.CONNECTED


def test_a_refused_pasted_token_leaves_the_saved_connection_alone(
    world, tx, saved_connection, as_user
) -> None:
    _connected(tx, saved_connection)
    refused = tx.store.create_employee_token()["token"]
    tx.store.revoke_employee_token(refused)

    fragment = as_user(world.admin).post(
        TEST_URL, {"environment": "test", "employee_token": refused}
    )

    assert 'id="test-error"' in fragment.content.decode()
    assert 'id="connection-state"' not in fragment.content.decode()
    assert _status() == ConnectionStatus.CONNECTED
