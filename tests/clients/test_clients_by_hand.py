"""Clients by hand: the services and the API that create, edit, archive, restore and delete
clients (issue 10), with the roles allowed to do each."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django_scopes import scopes_disabled

from clients import services
from clients.models import Client, CustomerImportRow, ExternalLink
from integrations.models import SyncJob
from tests.clients.test_clients import make

EVERY_FIELD = {
    "name": "Fjord Bakeri AS",
    "registry_country": "NO",
    "organisation_number": "NO 974 760 673 MVA",
    "customer_number": "1042",
    "email": "Post@Fjordbakeri.no",
    "invoice_email": "faktura@fjordbakeri.no",
    "phone": "+47 912 34 567",
    "address_line": "Bryggen 1",
    "postal_code": "5003",
    "city": "Bergen",
    "responsible_email": "member@fjord.no",
}


def link(world, client: Client, remote_id: str = "77") -> ExternalLink:
    with world.scope_a():
        return ExternalLink.objects.create(
            company=world.firm_a,
            client=client,
            vendor="tripletex",
            remote_id=remote_id,
            remote_name="Fjord Bakeri AS",
        )


def import_row(world, client: Client) -> CustomerImportRow:
    with world.scope_a():
        job = SyncJob.objects.create(
            company=world.firm_a, vendor="tripletex", kind="customer_import_preview"
        )
        return CustomerImportRow.objects.create(
            company=world.firm_a,
            job=job,
            vendor="tripletex",
            remote_id="9",
            name=client.name,
            data={},
            classification="existing",
            client=client,
        )


def exists(client: Client) -> bool:
    with scopes_disabled():
        return Client.objects.filter(pk=client.pk).exists()


# --- Services -------------------------------------------------------------------------------------


def test_it_creates_a_client_with_the_firms_country_by_default(world) -> None:
    with world.scope_a():
        client = services.create_client(
            company=world.firm_a,
            actor=world.accountant,
            name="Ny Klient AS",
            organisation_number="985 399 077",
            responsible=world.accountant,
        )
    assert (client.registry_country, client.organisation_number) == ("NO", "985399077")
    assert client.responsible == world.accountant and client.active
    assert client.public_id and exists(client)


def test_it_refuses_creating_without_a_name_and_saves_nothing(world) -> None:
    with world.scope_a(), pytest.raises(ValidationError) as raised:
        services.create_client(company=world.firm_a, actor=world.owner, name="")
    assert "name" in raised.value.message_dict
    with scopes_disabled():
        assert not Client.objects.filter(company=world.firm_a).exists()


def test_it_refuses_a_responsible_accountant_from_another_firm(world) -> None:
    with world.scope_a(), pytest.raises(ValidationError) as raised:
        services.create_client(
            company=world.firm_a, actor=world.owner, name="X AS", responsible=world.outsider
        )
    assert raised.value.message_dict["responsible"] == ["Choose a member of this firm."]


def test_billing_staff_cannot_create_archive_or_restore_but_may_keep_billing_settings(
    world,
) -> None:
    target = make(world, "Fjord AS")
    with world.scope_a():
        with pytest.raises(PermissionDenied):
            services.create_client(company=world.firm_a, actor=world.billing, name="X AS")
        with pytest.raises(PermissionDenied):
            services.update_client(
                company=world.firm_a, actor=world.billing, client=target, name="Renamed"
            )
        with pytest.raises(PermissionDenied):
            services.archive_client(company=world.firm_a, actor=world.billing, client=target)
        with pytest.raises(PermissionDenied):
            services.restore_client(company=world.firm_a, actor=world.billing, client=target)
        services.update_client(
            company=world.firm_a, actor=world.billing, client=target, invoice_email="f@fjord.no"
        )
    target.refresh_from_db()
    assert (target.name, target.invoice_email, target.active) == ("Fjord AS", "f@fjord.no", True)


def test_it_refuses_a_client_of_another_firm(world) -> None:
    with scopes_disabled():
        theirs = Client.objects.create(company=world.firm_b, name="Bergen AS")
    with world.scope_a(), pytest.raises(PermissionDenied):
        services.update_client(company=world.firm_a, actor=world.owner, client=theirs, name="X")


def test_it_names_what_depends_on_a_client_it_will_not_delete(world) -> None:
    target = make(world, "Fjord Bakeri AS")
    link(world, target)
    import_row(world, target)
    with world.scope_a(), pytest.raises(services.ClientInUse) as raised:
        services.delete_client(company=world.firm_a, actor=world.owner, client=target)
    message = raised.value.message
    assert "Fjord Bakeri AS cannot be deleted" in message
    assert "linked to the Tripletex customer Fjord Bakeri AS" in message
    assert "1 customer import row" in message and "Archive the client instead" in message
    assert exists(target)


def test_a_client_with_its_own_connection_is_in_use(world) -> None:
    from integrations.models import IntegrationConnection

    target = make(world, "Directo Klient OÜ")
    with world.scope_a():
        IntegrationConnection.objects.create(
            company=world.firm_a, vendor="tripletex", client=target
        )
        assert services.client_dependents(target) == ["it has its own accounting-system connection"]


def test_it_deletes_a_client_nothing_depends_on(world) -> None:
    target = make(world, "Feilregistrert AS")
    other = make(world, "Linked AS")
    link(world, other)  # another client's link does not count
    with world.scope_a():
        assert services.client_dependents(target) == []
        services.delete_client(company=world.firm_a, actor=world.admin, client=target)
    assert not exists(target) and exists(other)


def test_members_and_billing_staff_cannot_delete(world) -> None:
    target = make(world, "Fjord AS")
    for who in (world.accountant, world.billing):
        with world.scope_a(), pytest.raises(PermissionDenied):
            services.delete_client(company=world.firm_a, actor=who, client=target)
    assert exists(target)


# --- API ------------------------------------------------------------------------------------------


def test_the_api_creates_a_client_with_every_field(world, api_as) -> None:
    response = api_as(world.accountant).post("/api/v1/clients/", EVERY_FIELD, format="json")
    assert response.status_code == 201, response.json()
    body = response.json()
    assert {k: body[k] for k in ("name", "organisation_number", "registry_number_display")} == {
        "name": "Fjord Bakeri AS",
        "organisation_number": "974760673",
        "registry_number_display": "974760673",
    }
    assert body["customer_number"] == "1042" and body["email"] == "post@fjordbakeri.no"
    assert body["responsible"] == "member@fjord.no" and body["active"] is True
    assert (body["city"], body["postal_code"], body["address_line"]) == (
        "Bergen",
        "5003",
        "Bryggen 1",
    )
    assert body["invoice_email"] == "faktura@fjordbakeri.no" and body["phone"] == "+47 912 34 567"
    with world.scope_a():
        assert Client.objects.get(public_id=body["id"]).company == world.firm_a


def test_the_api_checks_the_number_by_the_chosen_country(world, api_as) -> None:
    api = api_as(world.owner)
    bad = api.post(
        "/api/v1/clients/",
        {"name": "Tallinna Pagar OÜ", "registry_country": "EE", "organisation_number": "12345679"},
        format="json",
    )
    assert bad.status_code == 400 and bad.json()["code"] == "invalid"
    assert "not a valid Estonian registry code" in bad.json()["fields"]["organisation_number"][0]
    good = api.post(
        "/api/v1/clients/",
        {"name": "Tallinna Pagar OÜ", "registry_country": "EE", "organisation_number": "12345678"},
        format="json",
    )
    assert good.status_code == 201 and good.json()["registry_country"] == "EE"
    # The same digits are a different number in Finland: no conflict.
    finnish = api.post(
        "/api/v1/clients/",
        {"name": "Oy Ab", "registry_country": "FI", "organisation_number": "1234567-1"},
        format="json",
    )
    assert finnish.status_code == 201, finnish.json()


def test_the_api_refuses_a_duplicate_number_in_the_firm_but_not_in_another(world, api_as) -> None:
    make(world, "Fjord Bakeri AS", organisation_number="974760673")
    duplicate = api_as(world.owner).post(
        "/api/v1/clients/", {"name": "Kopi AS", "organisation_number": "974760673"}, format="json"
    )
    assert duplicate.status_code == 400
    assert "Another client already has" in duplicate.json()["fields"]["organisation_number"][0]
    elsewhere = api_as(world.outsider).post(
        "/api/v1/clients/", {"name": "Kopi AS", "organisation_number": "974760673"}, format="json"
    )
    assert elsewhere.status_code == 201


def test_the_api_refuses_a_responsible_from_another_firm_and_a_missing_name(world, api_as) -> None:
    api = api_as(world.owner)
    outsider = api.post(
        "/api/v1/clients/", {"name": "X AS", "responsible_email": "owner@bergen.no"}, format="json"
    )
    assert outsider.status_code == 400 and "responsible_email" in outsider.json()["fields"]
    nameless = api.post("/api/v1/clients/", {"city": "Bergen"}, format="json")
    assert nameless.status_code == 400 and "name" in nameless.json()["fields"]
    with scopes_disabled():
        assert not Client.objects.filter(company=world.firm_a).exists()


def test_the_api_patches_every_field(world, api_as) -> None:
    target = make(
        world, "Gammelt Navn AS", organisation_number="923609016", responsible=world.admin
    )
    changes = {**EVERY_FIELD, "registry_country": "FI", "organisation_number": "2077474-0"}
    response = api_as(world.accountant).patch(
        f"/api/v1/clients/{target.public_id}/", changes, format="json"
    )
    assert response.status_code == 200, response.json()
    target.refresh_from_db()
    assert (target.name, target.registry_country, target.organisation_number) == (
        "Fjord Bakeri AS",
        "FI",
        "20774740",
    )
    assert (target.customer_number, target.email, target.invoice_email) == (
        "1042",
        "post@fjordbakeri.no",
        "faktura@fjordbakeri.no",
    )
    assert (target.phone, target.address_line, target.postal_code, target.city) == (
        "+47 912 34 567",
        "Bryggen 1",
        "5003",
        "Bergen",
    )
    assert target.responsible == world.accountant
    cleared = api_as(world.accountant).patch(
        f"/api/v1/clients/{target.public_id}/", {"responsible_email": None}, format="json"
    )
    assert cleared.status_code == 200 and cleared.json()["responsible"] is None


def test_the_api_archives_and_restores_and_the_list_filters(world, api_as) -> None:
    target = make(world, "Fjord AS")
    api = api_as(world.accountant)
    url = f"/api/v1/clients/{target.public_id}/"
    archived = api.post(f"{url}archive/")
    assert archived.status_code == 200 and archived.json()["active"] is False
    assert api.get("/api/v1/clients/").json()["count"] == 0
    assert [c["name"] for c in api.get("/api/v1/clients/?active=false").json()["results"]] == [
        "Fjord AS"
    ]
    assert api.post(f"{url}archive/").status_code == 200  # twice is fine
    restored = api.post(f"{url}restore/")
    assert restored.status_code == 200 and restored.json()["active"] is True
    assert api.get("/api/v1/clients/").json()["count"] == 1
    # The same through PATCH.
    assert api.patch(url, {"active": False}, format="json").json()["active"] is False
    assert api.get("/api/v1/clients/?active=false").json()["count"] == 1


def test_the_api_deletes_only_what_nothing_depends_on(world, api_as) -> None:
    linked = make(world, "Linked AS")
    link(world, linked)
    imported = make(world, "Imported AS")
    import_row(world, imported)
    mistake = make(world, "Feil AS")
    api = api_as(world.admin)
    for target in (linked, imported):
        refused = api.delete(f"/api/v1/clients/{target.public_id}/")
        assert refused.status_code == 409
        assert refused.json()["code"] == "client_in_use"
        assert "Archive the client instead" in refused.json()["detail"]
        assert exists(target)
    deleted = api.delete(f"/api/v1/clients/{mistake.public_id}/")
    assert deleted.status_code == 204 and not exists(mistake)
    assert api.get(f"/api/v1/clients/{mistake.public_id}/").status_code == 404


@pytest.mark.parametrize(
    ("role", "can_edit", "can_delete"),
    [
        ("owner", True, True),
        ("admin", True, True),
        ("accountant", True, False),
        ("billing", False, False),
    ],
)
def test_the_api_lets_each_role_do_what_it_may(world, api_as, role, can_edit, can_delete) -> None:
    api = api_as(getattr(world, role))
    target = make(world, "Fjord AS")
    url = f"/api/v1/clients/{target.public_id}/"
    assert api.get(url).status_code == 200  # everyone reads
    created = api.post("/api/v1/clients/", {"name": "Ny AS"}, format="json")
    renamed = api.patch(url, {"name": "Fjord Bakeri AS"}, format="json")
    archived = api.post(f"{url}archive/")
    restored = api.post(f"{url}restore/")
    assert [
        created.status_code,
        renamed.status_code,
        archived.status_code,
        restored.status_code,
    ] == ([201, 200, 200, 200] if can_edit else [403] * 4)
    if not can_edit:
        assert created.json()["code"] == "permission_denied"
        # Billing keeps the billing settings.
        assert api.patch(url, {"invoice_email": "f@fjord.no"}, format="json").status_code == 200
    assert api.delete(url).status_code == (204 if can_delete else 403)
    assert exists(target) is not can_delete
