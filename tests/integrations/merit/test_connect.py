"""Connecting Merit Aktiva against the emulator over real HTTP: the test call, each failure's own
message, saving through the UI and the API, and a canary key that never leaks anywhere."""

from __future__ import annotations

import io
import json
import logging

import pytest
from django.urls import reverse
from django_scopes import scopes_disabled

from integrations import services
from integrations.base import AuthError, ConfigError, IntegrationError
from integrations.models import IntegrationConnection, IntegrationCredential, SyncJob, SyncJobCall
from tests.integrations.merit.conftest import merit_test
from tests.reliability.report import count
from tests.reliability.secrets import database_hits
from uku.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter

CONNECT_URL = "/settings/apps/merit/connect/"
TEST_URL = "/settings/apps/merit/connect/test/"
UNKNOWN_API_ID = "0b6c8a3e-1d2f-4e5a-9b7c-6d5e4f3a2b1c"


def creds(merit, country: str = "EE") -> dict[str, str]:
    found = merit.store.demo_credentials(country)
    return {"api_id": found["api_id"], "api_key": found["api_key"]}


def message(world, environment: str = "ee", **credentials: str) -> str:
    with pytest.raises(AuthError) as raised:
        merit_test(world, environment, **credentials)
    return raised.value.message


def test_it_answers_with_what_merit_shows_and_saves_nothing(world, merit) -> None:
    result = merit_test(world, **creds(merit))
    taxes = len(merit.store.firm("EE").taxes)
    assert result.remote.name == f"the company of this API ID ({taxes} tax rates)"
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()
        job = SyncJob.objects.get()
        assert job.kind == "connection_test" and job.status == "succeeded"
        assert list(SyncJobCall.objects.values_list("path", "status")) == [("/gettaxes", 200)]


def test_credentials_with_surrounding_whitespace_are_stripped(world, merit) -> None:
    good = creds(merit)
    result = merit_test(world, api_id=f"  {good['api_id']}\t", api_key=f"\n{good['api_key']}  ")
    assert "tax rates" in result.remote.name


@pytest.mark.parametrize(
    ("api_id", "api_key", "field"),
    [
        ("", "key", "api_id"),
        ("not-a-guid", "key", "api_id"),
        ("{id}", " ", "api_key"),
        ("{id}", "two words", "api_key"),
        ("{id}", "kääk", "api_key"),
    ],
)
def test_malformed_credentials_are_refused_before_any_call(
    world, merit, api_id, api_key, field
) -> None:
    api_id = api_id.replace("{id}", creds(merit)["api_id"])
    merit.store.clear_requests()
    with pytest.raises(ConfigError) as raised:
        merit_test(world, api_id=api_id, api_key=api_key)
    assert raised.value.details == {"field": field}
    assert merit.store.request_counts() == {}


def test_each_connect_failure_has_its_own_message(world, merit) -> None:
    store = merit.store
    good = creds(merit)
    basic = store.basic_credentials("EE")
    revoked = store.create_credentials("EE")
    store.revoke_credentials(revoked["api_id"])
    messages = {
        "wrong key": message(world, api_id=good["api_id"], api_key=good["api_key"][:-4] + "AAA="),
        "wrong country": message(world, "fi", **good),
        "basic licence": message(world, api_id=basic["api_id"], api_key=basic["api_key"]),
        "revoked": message(world, api_id=revoked["api_id"], api_key=revoked["api_key"]),
        "unknown API ID": message(world, api_id=UNKNOWN_API_ID, api_key=good["api_key"]),
    }
    store.set_clock(offset_seconds=-900)  # Merit's clock 15 minutes behind ours
    messages["clock skew"] = message(world, **good)
    store.set_clock(offset_seconds=0)
    assert "signature" in messages["wrong key"] and "API key" in messages["wrong key"]
    assert "belongs to Merit in Estonia, not Finland" in messages["wrong country"]
    assert "PRO or PREMIUM" in messages["basic licence"]
    assert "revoked" in messages["revoked"] and "Estonia" in messages["revoked"]
    assert "15 minutes" in messages["clock skew"] and "clock" in messages["clock skew"]
    # A revoked key and an unknown API ID get the same empty 401 from Merit: one message.
    assert messages.pop("unknown API ID") == messages["revoked"]
    assert len(set(messages.values())) == len(messages), messages


def test_merits_own_api_id_refusal_has_its_message(world, merit) -> None:
    """Merit's 400 "API Id is wrong" (an ID with spaces inside) when a caller skipped cleaning."""
    from integrations.merit.client import MeritClient

    good = creds(merit)
    client = MeritClient(
        api_id=good["api_id"][:8] + " " + good["api_id"][9:],
        api_key=good["api_key"],
        country="ee",
        rate_key="t",
    )
    with pytest.raises(AuthError) as raised:
        client.post_list("gettaxes")
    assert "API ID is wrong" in raised.value.message
    assert "without spaces" in raised.value.message


def test_a_429_on_the_test_is_waited_out(world, merit) -> None:
    merit.store.inject_fault("rate_limit", "gettaxes", times=1, retry_after=1)
    assert "tax rates" in merit_test(world, **creds(merit)).remote.name


def test_finnish_and_polish_credentials_connect_to_their_country(world, merit) -> None:
    for country in ("FI", "PL"):
        taxes = len(merit.store.firm(country).taxes)
        remote = merit_test(world, country.lower(), **creds(merit, country)).remote
        assert f"({taxes} tax rates)" in remote.name


def test_save_through_the_ui_shows_the_api_id_but_never_the_key(world, as_user, merit) -> None:
    good = creds(merit)
    client = as_user(world.admin)
    client.post(reverse("integration_enable", args=["merit"]))
    response = client.post(CONNECT_URL, {"environment": "ee", **good})
    assert response.status_code == 302, response.content.decode()[:2000]
    page = client.get("/settings/apps/merit/?tab=connect").content.decode()
    assert good["api_id"] in page and good["api_key"] not in page
    assert f"ending in <strong>{good['api_key'][-4:]}</strong>" in page
    assert "Country" in page and "Estonia" in page
    with scopes_disabled():
        connection = IntegrationConnection.objects.get(vendor="merit")
    assert connection.environment == "ee" and connection.status == "connected"


def test_save_refuses_credentials_of_another_country(world, as_user, merit) -> None:
    client = as_user(world.admin)
    client.post(reverse("integration_enable", args=["merit"]))
    response = client.post(CONNECT_URL, {"environment": "pl", **creds(merit)})
    assert response.status_code == 400
    assert "belongs to Merit in Estonia, not Poland" in response.content.decode()
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()


def test_the_api_connects_and_tests(world, api_as, merit) -> None:
    good = creds(merit)
    api = api_as(world.owner)
    assert api.post("/api/v1/integrations/merit/enable").json()["enabled"] is True
    tested = api.post(
        "/api/v1/integrations/merit/connection/test",
        {"environment": "ee", "credentials": good},
        format="json",
    )
    assert tested.status_code == 200, tested.json()
    assert "tax rates" in tested.json()["company_name"]
    saved = api.put(
        "/api/v1/integrations/merit/connection",
        {"environment": "ee", "credentials": good},
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["state"] == "connected" and good["api_key"] not in json.dumps(body)
    assert good["api_id"] in json.dumps(body["credentials"])  # a TEXT field: shown back
    retest = api.post("/api/v1/integrations/merit/connection/test", {}, format="json")
    assert retest.status_code == 200 and "tax rates" in retest.json()["company_name"]


def test_the_api_gives_field_and_auth_errors_in_the_error_shape(world, api_as, merit) -> None:
    api = api_as(world.owner)
    api.post("/api/v1/integrations/merit/enable")
    bad_id = api.post(
        "/api/v1/integrations/merit/connection/test",
        {"environment": "ee", "credentials": {"api_id": "nope", "api_key": "x"}},
        format="json",
    )
    assert bad_id.status_code == 400 and "api_id" in bad_id.json()["fields"]
    wrong = api.post(
        "/api/v1/integrations/merit/connection/test",
        {"environment": "fi", "credentials": creds(merit)},
        format="json",
    )
    assert wrong.status_code == 400 and wrong.json()["code"] == "integration_auth_failed"
    assert "Estonia" in wrong.json()["detail"]


def test_a_canary_key_never_leaks(world, as_user, api_as, merit, caplog) -> None:
    """Through success and every kind of failure: not in logs (at DEBUG, through uku's handler),
    HTML (Connect tab, History and its API calls), API responses, exceptions or call records."""
    canary_id = merit.store.create_credentials("EE")
    api_id = canary_id["api_id"]
    canary = canary_id["api_key"]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(RequestIdFilter())
    handler.addFilter(RedactSecretsFilter())
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)  # the raw records too, before any handler's redaction
    seen: list[str] = []
    good = {"environment": "ee", "api_id": api_id, "api_key": canary}
    try:
        client = as_user(world.admin)
        api = api_as(world.admin)
        client.post(reverse("integration_enable", args=["merit"]))
        for kind in ("server_error", "drop", "malformed_json", "stacktrace_200", "rate_limit"):
            merit.store.inject_fault(kind, "gettaxes", times=1, retry_after=1)
            seen.append(client.post(TEST_URL, good).content.decode())
        merit.store.inject_fault("unavailable", "gettaxes", times=20)
        seen.append(client.post(TEST_URL, good).content.decode())
        merit.store.clear_faults()
        seen.append(client.post(TEST_URL, {**good, "environment": "fi"}).content.decode())
        seen.append(client.post(TEST_URL, {**good, "api_key": canary[:-2] + "x="}).content.decode())
        seen.append(client.post(CONNECT_URL, good).content.decode())
        for url in (
            "/settings/apps/",
            "/settings/apps/merit/?tab=connect",
            "/settings/apps/merit/?tab=history",
        ):
            seen.append(client.get(url).content.decode())
        seen.append(api.get("/api/v1/integrations/").content.decode())
        seen.append(
            api.post(
                "/api/v1/integrations/merit/connection/test", {}, format="json"
            ).content.decode()
        )
        merit.store.revoke_credentials(api_id)
        with world.scope_a(), pytest.raises(IntegrationError) as raised:
            services.test_connection(
                company=world.firm_a, actor=world.admin, vendor="merit", environment="ee"
            )
        seen += [
            str(raised.value),
            repr(raised.value),
            repr(raised.value.details),
            repr(raised.value.__cause__),
            repr(raised.value.__context__),
        ]
        with scopes_disabled():
            for job in SyncJob.objects.all():
                seen.append(
                    client.get(f"/settings/apps/merit/history/{job.public_id}/").content.decode()
                )
                seen.append(api.get(f"/api/v1/sync-jobs/{job.public_id}/").content.decode())
                seen.append(repr(job.error_details) + job.error)
            seen += [repr(c.__dict__) for c in SyncJobCall.objects.all()]
            assert SyncJobCall.objects.filter(status=401).exists()
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)
    logs = stream.getvalue()
    seen.append(logs)
    raw = "\n".join(f"{r.getMessage()} {r.args!r} {r.exc_text or ''}" for r in caplog.records)
    assert caplog.records and canary not in raw and canary not in caplog.text
    assert logs  # logging did happen
    # ...and nowhere in the database outside the encrypted credential column.
    leaks = [s[:200] for s in seen if canary in s] + database_hits(canary)
    count("secret_leaks", len(leaks))
    assert not leaks
    # The API ID is shown back on the Connect tab by design, but never logged or recorded.
    assert api_id not in logs
    with scopes_disabled():
        assert not any(api_id in repr(c.__dict__) for c in SyncJobCall.objects.all())
    assert all("signature=" not in s and "ApiId=" not in s for s in seen)


def test_the_messages_are_in_norwegian_for_a_norwegian_user(world, merit) -> None:
    from django.utils import translation

    with translation.override("nb"):
        text = message(world, "fi", **creds(merit))
    assert text.startswith("Denne API-ID-en hører til Merit i Estland, ikke Finland")
