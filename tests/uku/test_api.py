"""The API skeleton: /me, members, the error shape, the schema and docs."""

from __future__ import annotations

from django.urls import reverse

from uku.models import Role


def test_me_lists_firms_and_the_current_firm_for_a_session_user(world, as_user) -> None:
    body = as_user(world.outsider).get(reverse("api-me")).json()
    assert body["firms"] == [
        {
            "id": str(world.firm_b.public_id),
            "name": "Bergen Byrå AS",
            "plan": "team",
            "role": "owner",
        }
    ]
    assert body["current_firm"]["id"] == str(world.firm_b.public_id)


def test_me_answers_a_user_without_a_firm(world, as_user) -> None:
    body = as_user(world.nobody).get(reverse("api-me")).json()
    assert body["firms"] == [] and body["current_firm"] is None and body["role"] is None


def test_it_answers_401_in_the_error_shape_without_credentials(db, client) -> None:
    response = client.get(reverse("api-me"))
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


def test_it_answers_404_in_the_error_shape(world, api_as) -> None:
    response = api_as(world.owner).get(
        reverse("member-detail", args=["00000000-0000-0000-0000-000000000000"])
    )
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"
    assert set(response.json()) == {"code", "detail"}


def test_it_returns_field_errors_in_the_error_shape(world, api_as) -> None:
    response = api_as(world.owner).post(
        reverse("api-invitations"), {"email": "not-an-email", "role": "king"}, format="json"
    )
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert set(body["fields"]) == {"email", "role"}


def test_members_are_listed_updated_and_invited_through_the_api(world, api_as) -> None:
    api = api_as(world.owner)
    listing = api.get(reverse("member-list")).json()
    assert {m["email"] for m in listing["results"]} >= {"owner@fjord.no", "billing@fjord.no"}
    url = reverse("member-detail", args=[world.membership(world.billing).public_id])
    response = api.patch(url, {"external_id": "77", "role": Role.ADMIN}, format="json")
    assert response.status_code == 200 and response.json()["external_id"] == "77"
    assert world.membership(world.billing).role == Role.ADMIN
    created = api.post(reverse("api-invitations"), {"email": "x@fjord.no", "role": "billing"})
    assert created.status_code == 201 and created.json()["role"] == "billing"


def test_the_api_keeps_the_last_owner(world, api_as) -> None:
    url = reverse("member-detail", args=[world.membership(world.owner).public_id])
    response = api_as(world.owner).patch(url, {"role": "admin"}, format="json")
    assert response.status_code == 400 and "role" in response.json()["fields"]


def test_the_schema_and_docs_are_served(db, client) -> None:
    schema = client.get("/api/schema/?format=json").json()
    assert "/api/v1/me" in schema["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger" in docs.content.lower()
