"""Clients by hand in the web UI: New client, the client page's Edit form, Archive / Restore and
Delete with its confirmation, per role."""

from __future__ import annotations

from django_scopes import scopes_disabled

from clients.models import Client
from tests.clients.test_clients import make
from tests.clients.test_clients_by_hand import exists, import_row, link

NEW = {
    "name": "Fjord Bakeri AS",
    "registry_country": "NO",
    "organisation_number": "974 760 673",
    "customer_number": "1042",
    "email": "post@fjordbakeri.no",
    "invoice_email": "faktura@fjordbakeri.no",
    "phone": "+47 912 34 567",
    "address_line": "Bryggen 1",
    "postal_code": "5003",
    "city": "Bergen",
}


def firm_clients(world) -> list[Client]:
    with scopes_disabled():
        return list(Client.objects.filter(company=world.firm_a))


def test_the_list_offers_new_client_to_those_who_may_create(world, as_user) -> None:
    for who in (world.owner, world.admin, world.accountant):
        page = as_user(who).get("/clients/").content.decode()
        assert 'href="/clients/new/"' in page
    assert 'href="/clients/new/"' not in as_user(world.billing).get("/clients/").content.decode()
    assert as_user(world.billing).get("/clients/new/").status_code == 403
    assert as_user(world.billing).post("/clients/new/", NEW).status_code == 403
    assert firm_clients(world) == []


def test_an_accountant_creates_a_client_with_every_field(world, as_user) -> None:
    client = as_user(world.accountant)
    form = client.get("/clients/new/").content.decode()
    for field in NEW:
        assert f'for="id_{field}"' in form  # every input has its label
    # The picker lists this firm's members, not other firms' users.
    assert "member@fjord.no" in form and "owner@bergen.no" not in form
    response = client.post(
        "/clients/new/", {**NEW, "responsible": world.accountant.pk}, follow=True
    )
    (created,) = firm_clients(world)
    assert response.redirect_chain == [(f"/clients/{created.public_id}/", 302)]
    assert "Client Fjord Bakeri AS created." in response.content.decode()
    assert (created.organisation_number, created.registry_country) == ("974760673", "NO")
    assert (created.customer_number, created.email, created.invoice_email) == (
        "1042",
        "post@fjordbakeri.no",
        "faktura@fjordbakeri.no",
    )
    assert (created.phone, created.address_line, created.postal_code, created.city) == (
        "+47 912 34 567",
        "Bryggen 1",
        "5003",
        "Bergen",
    )
    assert created.responsible == world.accountant and created.active


def test_new_client_ties_each_error_to_its_field_and_creates_nothing(world, as_user) -> None:
    make(world, "Eksisterende AS", organisation_number="923609016")
    client = as_user(world.owner)
    bad_number = client.post(
        "/clients/new/", {**NEW, "registry_country": "EE", "organisation_number": "12345679"}
    )
    assert bad_number.status_code == 200
    errors = bad_number.context["form"].errors
    assert "not a valid Estonian registry code" in errors["organisation_number"][0]
    page = bad_number.content.decode()
    assert 'aria-describedby="id_organisation_number_error"' in page
    assert 'id="id_organisation_number_error"' in page
    duplicate = client.post("/clients/new/", {**NEW, "organisation_number": "923 609 016"})
    assert (
        "Another client already has" in duplicate.context["form"].errors["organisation_number"][0]
    )
    outsider = client.post("/clients/new/", {**NEW, "responsible": world.outsider.pk})
    assert "responsible" in outsider.context["form"].errors
    nameless = client.post("/clients/new/", {**NEW, "name": ""})
    assert "name" in nameless.context["form"].errors
    assert [c.name for c in firm_clients(world)] == ["Eksisterende AS"]


def test_the_client_page_edits_every_field(world, as_user) -> None:
    target = make(world, "Gammelt Navn AS", organisation_number="923609016")
    url = f"/clients/{target.public_id}/"
    client = as_user(world.accountant)
    page = client.get(url).content.decode()
    assert 'name="client-responsible"' in page and 'for="id_client-name"' in page
    edit = {f"client-{k}": v for k, v in NEW.items() if k != "invoice_email"}
    edit |= {"client-registry_country": "FI", "client-organisation_number": "2077474-0"}
    response = client.post(url, {**edit, "client-responsible": world.admin.pk}, follow=True)
    assert "Client details saved." in response.content.decode()
    target.refresh_from_db()
    assert (target.name, target.registry_country, target.organisation_number) == (
        "Fjord Bakeri AS",
        "FI",
        "20774740",
    )
    assert (target.customer_number, target.email, target.phone) == (
        "1042",
        "post@fjordbakeri.no",
        "+47 912 34 567",
    )
    assert (target.address_line, target.postal_code, target.city) == ("Bryggen 1", "5003", "Bergen")
    assert target.responsible == world.admin
    # Clearing the responsible accountant.
    assert client.post(url, {**edit, "client-responsible": ""}).status_code == 302
    target.refresh_from_db()
    assert target.responsible is None
    # An error keeps the saved values on the page and the typed ones in the form.
    bad = client.post(url, {**edit, "client-name": "", "client-city": "Oslo"})
    assert bad.status_code == 200 and "name" in bad.context["details_form"].errors
    target.refresh_from_db()
    assert (target.name, target.city) == ("Fjord Bakeri AS", "Bergen")


def test_billing_staff_see_the_client_read_only(world, as_user) -> None:
    target = make(world, "Fjord AS", city="Bergen")
    client = as_user(world.billing)
    url = f"/clients/{target.public_id}/"
    page = client.get(url).content.decode()
    assert 'name="client-name"' not in page and "Archive client" not in page
    assert "Delete client" not in page and 'name="invoice_email"' in page
    assert (
        client.post(url, {"client-name": "Renamed", "client-registry_country": "NO"}).status_code
        == 403
    )
    assert client.post(f"{url}archive/").status_code == 403
    assert client.get(f"{url}delete/").status_code == 403
    target.refresh_from_db()
    assert (target.name, target.active) == ("Fjord AS", True)


def test_archive_hides_the_client_and_restore_brings_it_back(world, as_user) -> None:
    target = make(world, "Fjord AS")
    client = as_user(world.accountant)
    url = f"/clients/{target.public_id}/"
    archived = client.post(f"{url}archive/", follow=True).content.decode()
    assert "Fjord AS is archived" in archived and "Restore client" in archived
    target.refresh_from_db()
    assert target.active is False
    assert "Fjord AS" not in client.get("/clients/").content.decode()
    listed = client.get("/clients/?active=false").content.decode()
    assert "Fjord AS" in listed and ">Archived</span>" in listed
    restored = client.post(f"{url}restore/", follow=True).content.decode()
    assert "Fjord AS is restored to the client list." in restored
    assert "Fjord AS" in client.get("/clients/").content.decode()
    assert client.get(f"{url}archive/").status_code == 405  # only by POST


def test_delete_asks_first_then_deletes_a_client_nothing_depends_on(world, as_user) -> None:
    target = make(world, "Feil AS")
    client = as_user(world.admin)
    assert "Delete client…" in client.get(f"/clients/{target.public_id}/").content.decode()
    confirm = client.get(f"/clients/{target.public_id}/delete/").content.decode()
    assert "Delete Feil AS?" in confirm and "Delete client for good" in confirm
    assert exists(target)
    done = client.post(f"/clients/{target.public_id}/delete/", follow=True)
    assert done.redirect_chain == [("/clients/", 302)]
    assert "Client Feil AS deleted." in done.content.decode() and not exists(target)


def test_delete_is_refused_with_the_reason_when_something_depends_on_the_client(
    world, as_user
) -> None:
    linked = make(world, "Linked AS")
    link(world, linked)
    import_row(world, linked)
    client = as_user(world.owner)
    url = f"/clients/{linked.public_id}/delete/"
    page = client.get(url).content.decode()
    assert "It is linked to the Tripletex customer Fjord Bakeri AS" in page
    assert "It appears in 1 customer import row" in page
    assert "Delete client for good" not in page and "Archive client" in page
    refused = client.post(url)
    assert refused.status_code == 409 and "Linked AS cannot be deleted" in refused.content.decode()
    assert exists(linked)


def test_members_may_not_delete(world, as_user) -> None:
    target = make(world, "Fjord AS")
    client = as_user(world.accountant)
    assert "Delete client" not in client.get(f"/clients/{target.public_id}/").content.decode()
    assert client.post(f"/clients/{target.public_id}/delete/").status_code == 403
    assert exists(target)


def test_another_firms_client_is_404_on_every_client_page(world, as_user) -> None:
    target = make(world, "Fjord AS")
    client = as_user(world.outsider)
    for method, path in [
        ("get", ""),
        ("post", "archive/"),
        ("post", "restore/"),
        ("get", "delete/"),
        ("post", "delete/"),
    ]:
        assert getattr(client, method)(f"/clients/{target.public_id}/{path}").status_code == 404
    assert exists(target)


def test_the_client_pages_speak_norwegian(world, as_user) -> None:
    linked = make(world, "Linked AS")
    link(world, linked)
    client = as_user(world.owner)
    listing = client.get("/clients/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Ny klient" in listing and ">Arkivert<" in listing
    form = client.get("/clients/new/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "Opprett klient" in form and "Ansvarlig regnskapsfører" in form
    refused = client.post(f"/clients/{linked.public_id}/delete/", HTTP_ACCEPT_LANGUAGE="nb")
    assert "Linked AS kan ikke slettes: den er koblet til kunden Fjord Bakeri AS i Tripletex." in (
        refused.content.decode()
    )
