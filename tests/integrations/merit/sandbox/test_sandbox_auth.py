"""Authentication: URL parameters, API IDs per instance, signatures, timestamps, licences, revocation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import requests

from integrations.merit import signing
from integrations.merit.sandbox import SandboxServer, Store

from .conftest import Merit, demo_client

WRONG_API_ID = "API Id is wrong – make sure you haven't copied spaces."  # noqa: RUF001 - Merit's text


def test_it_answers_a_correctly_signed_call(merit: Merit) -> None:
    response = merit.call("gettaxes")

    assert response.status_code == 200
    assert response.headers["Content-Type"].startswith("application/json")
    assert isinstance(response.json(), list)


def test_it_accepts_the_lower_case_apiid_spelling_of_the_docs(merit: Merit) -> None:
    body = "{}"
    query = signing.signed_query(merit.api_id, merit.api_key, body)
    query["apiId"] = query.pop("ApiId")

    response = requests.post(merit.server.url + "gettaxes", params=query, data=body, timeout=10)

    assert response.status_code == 200


@pytest.mark.parametrize("dropped", ["ApiId", "timestamp", "signature"])
def test_it_refuses_a_missing_url_parameter(merit: Merit, dropped: str) -> None:
    body = "{}"
    query = signing.signed_query(merit.api_id, merit.api_key, body)
    del query[dropped]

    response = requests.post(merit.server.url + "gettaxes", params=query, data=body, timeout=10)

    assert (response.status_code, response.text) == (401, "api-missingurlparam")


@pytest.mark.parametrize("api_id", [" {id}", "{id} ", "{id}x", "not-a-guid"])
def test_it_refuses_a_malformed_or_space_padded_api_id(merit: Merit, api_id: str) -> None:
    response = merit.call("gettaxes", params={"ApiId": api_id.format(id=merit.api_id)})

    assert (response.status_code, response.text) == (400, WRONG_API_ID)


def test_it_answers_an_unknown_api_id_with_an_empty_401(merit: Merit) -> None:
    stranger = Merit(merit.server, "EE", "3f1e1c9a-8d4b-4c55-9e0e-2b7d9f6a1c00", merit.api_key)

    response = stranger.call("gettaxes")

    assert response.status_code == 401
    assert response.content == b""


@pytest.mark.parametrize(("owner", "other"), [("EE", "FI"), ("FI", "PL"), ("PL", "EE")])
def test_it_refuses_a_key_from_another_country_instance(
    sandbox: SandboxServer, owner: str, other: str
) -> None:
    client = demo_client(sandbox, owner)

    assert client.call("gettaxes").status_code == 200
    response = client.call("gettaxes", country=other)
    assert response.status_code == 401
    assert response.content == b""


def test_it_serves_finland_on_the_old_host_too(sandbox: SandboxServer) -> None:
    client = demo_client(sandbox, "FI")
    body = "{}"

    response = requests.post(
        f"{sandbox.base_url}/fi-legacy/api/v1/gettaxes",
        params=signing.signed_query(client.api_id, client.api_key, body),
        data=body,
        timeout=10,
    )

    assert response.status_code == 200
    assert {tax["TaxPct"] for tax in response.json()} >= {25.5, 14}


def test_it_refuses_a_signature_made_with_another_key(merit: Merit, control) -> None:
    other_key = merit.server.store.create_credentials("EE")["api_key"]
    forger = Merit(merit.server, "EE", merit.api_id, other_key)

    response = forger.call("gettaxes")

    assert (response.status_code, response.text) == (401, "api-wrongsignature")
    status = control("GET", f"/credentials/{merit.api_id}").json()["signing_status"]
    assert status.startswith("Insecure: ")


def test_it_shows_signing_status_ok_until_a_bad_signature(merit: Merit, control) -> None:
    merit.call("gettaxes")

    credential = control("GET", f"/credentials/{merit.api_id}").json()
    assert credential["signing_status"] == "OK"
    assert "api_key" not in credential


def test_it_refuses_a_body_changed_after_signing(merit: Merit) -> None:
    signed = signing.dump_body({"Name": "Kase"})
    query = signing.signed_query(merit.api_id, merit.api_key, signed)

    response = requests.post(
        merit.server.url + "getcustomers", params=query, data='{"Name": "Kase"}', timeout=10
    )

    assert (response.status_code, response.text) == (401, "api-wrongsignature")


def test_it_refuses_a_signature_that_was_not_url_encoded(merit: Merit) -> None:
    body = "{}"
    moment = datetime.now(UTC)
    # Find a second whose signature contains "+": unencoded, the server reads it as a space.
    while (
        "+"
        not in (query := signing.signed_query(merit.api_id, merit.api_key, body, moment))[
            "signature"
        ]
    ):
        moment -= timedelta(seconds=1)
    raw = f"ApiId={query['ApiId']}&timestamp={query['timestamp']}&signature={query['signature']}"

    assert requests.post(f"{merit.server.url}gettaxes?{raw}", data=body, timeout=10).text == (
        "api-wrongsignature"
    )
    encoded = signing.signed_url(
        merit.server.url, "gettaxes", merit.api_id, merit.api_key, body, moment
    )
    assert requests.post(encoded, data=body, timeout=10).status_code == 200


@pytest.mark.parametrize("skew", [timedelta(minutes=-6), timedelta(minutes=6), timedelta(days=-1)])
def test_it_refuses_a_stale_or_future_timestamp(merit: Merit, skew: timedelta) -> None:
    response = merit.call("gettaxes", moment=datetime.now(UTC) + skew)

    assert (response.status_code, response.text) == (401, "api-wrongsignature")


def test_it_tolerates_a_few_minutes_of_clock_skew(merit: Merit) -> None:
    assert (
        merit.call("gettaxes", moment=datetime.now(UTC) - timedelta(minutes=4)).status_code == 200
    )
    assert (
        merit.call("gettaxes", moment=datetime.now(UTC) + timedelta(minutes=4)).status_code == 200
    )


def test_it_refuses_a_local_time_timestamp_east_of_utc(merit: Merit) -> None:
    # The Finnish JS example signs local time; in Helsinki (UTC+2/+3) that is hours off.
    local = datetime.now(UTC).replace(tzinfo=None) + timedelta(hours=3)

    assert merit.call("gettaxes", moment=local).text == "api-wrongsignature"


@pytest.mark.parametrize("timestamp", ["2025-06-16T12:00:00", "20251316120000", "now"])
def test_it_refuses_a_malformed_timestamp(merit: Merit, timestamp: str) -> None:
    body = "{}"
    query = {
        "ApiId": merit.api_id,
        "timestamp": timestamp,
        "signature": signing.sign(merit.api_id, merit.api_key, timestamp, body),
    }

    response = requests.post(merit.server.url + "gettaxes", params=query, data=body, timeout=10)

    assert (response.status_code, response.text) == (401, "api-wrongsignature")


def test_the_control_api_can_skew_the_server_clock_and_tolerance(merit: Merit, control) -> None:
    assert control("POST", "/clock", {"offset_seconds": 600}).status_code == 200
    assert merit.call("gettaxes").text == "api-wrongsignature"

    control("POST", "/clock", {"max_skew_seconds": 900})
    assert merit.call("gettaxes").status_code == 200


def test_it_refuses_a_company_without_a_pro_or_premium_licence(sandbox: SandboxServer) -> None:
    creds = sandbox.store.basic_credentials("EE")
    client = Merit(sandbox, "EE", creds["api_id"], creds["api_key"])

    response = client.call("gettaxes")

    assert (response.status_code, response.text) == (401, "api-wronglicense")


def test_the_licence_can_be_changed_through_the_control_api(merit: Merit, control) -> None:
    firm = merit.server.store.firm("EE").id

    assert control("POST", f"/companies/{firm}/licence", {"licence": "basic"}).status_code == 200
    assert merit.call("gettaxes").text == "api-wronglicense"
    control("POST", f"/companies/{firm}/licence", {"licence": "PRO"})
    assert merit.call("gettaxes").status_code == 200
    assert control("POST", f"/companies/{firm}/licence", {"licence": "GOLD"}).status_code == 400


def test_it_refuses_a_revoked_api_id_like_an_unknown_one(merit: Merit, control) -> None:
    assert merit.call("gettaxes").status_code == 200

    assert control("DELETE", f"/credentials/{merit.api_id}").status_code == 204

    response = merit.call("gettaxes")
    assert response.status_code == 401
    assert response.content == b""
    assert control("GET", f"/credentials/{merit.api_id}").json()["revoked"] is True


def test_new_credentials_work_for_the_chosen_instance_only(sandbox: SandboxServer, control) -> None:
    created = control("POST", "/credentials", {"country": "PL"})
    assert created.status_code == 201
    client = Merit(sandbox, "PL", created.json()["api_id"], created.json()["api_key"])

    assert client.call("gettaxes").status_code == 200
    assert client.call("gettaxes", country="EE").status_code == 401
    listed = control("GET", "/credentials").json()["credentials"]
    assert created.json()["api_id"] in {c["api_id"] for c in listed}
    assert all("api_key" not in c for c in listed)


def test_it_derives_stable_demo_credentials_from_a_secret() -> None:
    first, again = Store(secret="s3cret"), Store(secret="s3cret")
    other, random_ = Store(secret="another"), Store()

    for country in ("EE", "FI", "PL"):
        assert first.demo_credentials(country) | {"created_at": ""} == again.demo_credentials(
            country
        ) | {"created_at": ""}
        assert (
            first.demo_credentials(country)["api_id"] != other.demo_credentials(country)["api_id"]
        )
        assert (
            first.demo_credentials(country)["api_key"]
            != random_.demo_credentials(country)["api_key"]
        )
    assert len({first.demo_credentials(c)["api_id"] for c in ("EE", "FI", "PL")}) == 3
    assert len(first.demo_credentials("EE")["api_key"]) == 44


def test_it_keeps_the_demo_credentials_over_a_reset() -> None:
    store = Store(secret="s3cret")
    before = store.demo_credentials("FI")

    store.reset("empty")

    assert store.demo_credentials("FI")["api_key"] == before["api_key"]
