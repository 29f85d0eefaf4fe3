"""The shared flow of a client's attachments over the API (`clients/<id>/integration-link` and
`clients/<id>/integration-connection`): the role is checked first, then the client is looked up
in the caller's firm, and only then is the request read, so another firm's client is a 404
whatever is sent."""

from __future__ import annotations

import uuid

import pytest

from clients.models import Client

ATTACHMENTS = ["integration-link", "integration-connection"]


def _client(world, name="Fjellheim Bakeri"):
    with world.scope_a():
        return Client.objects.create(company=world.firm_a, name=name)


def _url(client, attachment):
    return f"/api/v1/clients/{client.public_id}/{attachment}"


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_it_checks_ownership_before_reading_the_request(world, api_as, attachment) -> None:
    client = _client(world)
    outsider, accountant = api_as(world.outsider), api_as(world.accountant)

    assert outsider.put(_url(client, attachment), {}, format="json").status_code == 404
    assert outsider.delete(_url(client, attachment)).status_code == 404
    # The same requests from the client's own firm are read, and refused as malformed.
    assert accountant.put(_url(client, attachment), {}, format="json").status_code == 400
    assert accountant.delete(_url(client, attachment) + "?vendor=nope").status_code == 400


@pytest.mark.parametrize("attachment", ATTACHMENTS)
def test_it_checks_the_role_before_the_client(world, api_as, attachment) -> None:
    billing = api_as(world.billing)  # may not link clients nor save their credentials
    for client in (_client(world), Client(public_id=uuid.uuid4())):  # its firm's, and none
        assert billing.put(_url(client, attachment), {}, format="json").status_code == 403
        assert billing.delete(_url(client, attachment)).status_code == 403
