"""Suggested links' conflict choice (issue 10): two customers with one organisation number and a
client holding it: link one of them, import the other as a client of its own."""

from __future__ import annotations

from django_scopes import scopes_disabled

from clients.models import Client, ExternalLink
from tests.clients.linking_helpers import customer, make_client

URL = "/api/v1/integrations/tripletex/link-suggestions/"


def _twins(connected) -> tuple[dict, dict]:
    original = customer(connected, "Nordlys Rørleggerservice AS")
    twin = connected.store.create_customer(
        name="Nordlys Rør Avd Bergen", organizationNumber=original["organizationNumber"]
    )
    return original, twin


def test_two_customers_with_the_clients_number_are_a_conflict_not_a_suggestion(
    world, api_as, connected
) -> None:
    original, twin = _twins(connected)
    nordlys = make_client(world, "Nordlys Rør", organisation_number=original["organizationNumber"])
    body = api_as(world.accountant).get(URL).json()
    assert str(nordlys.public_id) not in {s["client"] for s in body["results"]}
    (conflict,) = body["conflicts"]
    assert conflict["client"] == str(nordlys.public_id)
    assert {c["remote_id"] for c in conflict["customers"]} == {
        str(original["id"]),
        str(twin["id"]),
    }
    assert all(c["linked_client"] is None for c in conflict["customers"])


def test_the_choice_links_one_and_imports_the_other_as_its_own_client(
    world, api_as, connected
) -> None:
    original, twin = _twins(connected)
    nordlys = make_client(world, "Nordlys Rør", organisation_number=original["organizationNumber"])
    api = api_as(world.accountant)
    choice = {
        "client": str(nordlys.public_id),
        "link": str(original["id"]),
        "import_as_clients": [str(twin["id"])],
    }
    answer = api.post(f"{URL}conflicts", choice, format="json")
    assert answer.status_code == 200, answer.json()
    body = answer.json()
    assert body["linked"] == {"client": str(nordlys.public_id), "remote_id": str(original["id"])}
    assert [i["name"] for i in body["imported"]] == ["Nordlys Rør Avd Bergen"]
    with scopes_disabled():
        made = Client.objects.get(public_id=body["imported"][0]["client"])
        assert made.links.get().remote_id == str(twin["id"])
        assert nordlys.links.get().remote_id == str(original["id"])
    assert made.organisation_number == ""  # the number stays with Nordlys Rør
    # Idempotent: again, nothing is made twice.
    again = api.post(f"{URL}conflicts", choice, format="json").json()
    assert again["imported"] == [] and again["skipped"] == [
        {"remote_id": str(twin["id"]), "reason": "link_taken"}
    ]
    with scopes_disabled():
        assert Client.objects.filter(name="Nordlys Rør Avd Bergen").count() == 1
    assert api.get(URL).json()["conflicts"] == []


def test_a_customer_without_the_clients_number_is_refused(world, api_as, connected) -> None:
    original, _twin = _twins(connected)
    nordlys = make_client(world, "Nordlys Rør", organisation_number=original["organizationNumber"])
    other = customer(connected, "Fjellheim Bakeri AS")
    answer = api_as(world.accountant).post(
        f"{URL}conflicts",
        {"client": str(nordlys.public_id), "link": str(other["id"])},
        format="json",
    )
    assert answer.status_code == 400 and "link" in answer.json()["fields"]
    with scopes_disabled():
        assert not ExternalLink.objects.exists()


def test_another_firms_client_is_404_and_billing_staff_cannot_choose(
    world, api_as, connected
) -> None:
    original, _twin = _twins(connected)
    with scopes_disabled():
        theirs = Client.objects.create(company=world.firm_b, name="Deres")
    answer = api_as(world.accountant).post(
        f"{URL}conflicts", {"client": str(theirs.public_id), "link": str(original["id"])}
    )
    assert answer.status_code == 404
    nordlys = make_client(world, "Nordlys Rør", organisation_number=original["organizationNumber"])
    refused = api_as(world.billing).post(
        f"{URL}conflicts", {"client": str(nordlys.public_id), "link": str(original["id"])}
    )
    assert refused.status_code == 403


def test_the_suggested_links_page_offers_the_choice(world, as_user, connected) -> None:
    original, twin = _twins(connected)
    nordlys = make_client(world, "Nordlys Rør", organisation_number=original["organizationNumber"])
    page = as_user(world.accountant)
    html = page.get("/clients/suggested-links/tripletex/").content.decode()
    assert "Several customers, one organisation number" in html
    assert f'id="conflict-{nordlys.public_id}"' in html and "Nordlys Rør Avd Bergen" in html
    response = page.post(
        "/clients/suggested-links/tripletex/",
        {"conflict": str(nordlys.public_id), "link": str(twin["id"])},
        follow=True,
    )
    assert "Nordlys Rør is linked." in response.content.decode()
    with scopes_disabled():
        assert nordlys.links.get().remote_id == str(twin["id"])
