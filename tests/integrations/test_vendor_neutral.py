"""The integration core serves any accounting system from its declaration alone: Fakebooks
(tests/fakebooks) connects with an API ID and key on country instances, never expires, and can do
nothing else, so it gets no tab, route or job that needs a capability."""

from __future__ import annotations

import pytest
from django_scopes import scopes_disabled

from integrations import jobs
from integrations.base import Capability, CapabilityMissing, get_vendor, iter_vendors
from integrations.models import IntegrationConnection, IntegrationCredential
from tests.fakebooks.adapter import GOOD_KEY

CONNECT = "/settings/apps/fakebooks/connect/"


@pytest.fixture
def enabled(world, as_user):
    client = as_user(world.admin)
    client.post("/settings/apps/fakebooks/enable/")
    return client


def test_the_registry_comes_from_settings_and_filters_by_capability() -> None:
    assert {v.key for v in iter_vendors()} >= {"tripletex", "fakebooks"}
    assert "fakebooks" not in {v.key for v in iter_vendors(Capability.CUSTOMERS)}
    assert get_vendor("fakebooks").default_environment == "ee"


def test_the_connect_form_is_built_from_the_declaration(world, enabled) -> None:
    page = enabled.get("/settings/apps/fakebooks/?tab=connect").content.decode()
    assert 'name="api_id"' in page and 'type="text"' in page
    assert 'name="api_key"' in page and 'type="password"' in page
    assert "Country" in page and "Estonia" in page and "Finland" in page
    assert "token_expires_on" not in page and "employee_token" not in page
    assert "Fields marked * are required." in page


def test_saving_keeps_the_public_field_and_the_secrets_last_four(world, enabled) -> None:
    answer = enabled.post(
        CONNECT, {"api_id": " abc-123 ", "api_key": f" {GOOD_KEY} ", "environment": "fi"}
    )
    assert answer.status_code == 302
    with scopes_disabled():
        connection = IntegrationConnection.objects.get(company=world.firm_a, vendor="fakebooks")
        credential = IntegrationCredential.objects.get(connection=connection)
    assert connection.environment == "fi" and connection.remote_company_name == "Fake OÜ (fi)"
    assert credential.public_fields == {"api_id": "abc-123"}
    assert credential.last4 == GOOD_KEY[-4:] and credential.expires_on is None
    page = enabled.get("/settings/apps/fakebooks/?tab=connect").content.decode()
    assert "abc-123" in page and "Finland" in page and GOOD_KEY not in page


def test_a_refused_save_over_htmx_answers_only_errors_and_never_echoes_the_secret(
    world, enabled
) -> None:
    answer = enabled.post(
        CONNECT,
        {"api_id": "abc", "api_key": "wrong-key-9876", "environment": "ee"},
        HTTP_HX_REQUEST="true",
    )
    html = answer.content.decode()
    assert answer.status_code == 422  # swapped by htmx (base.html's responseHandling)
    assert "Fakebooks refused the API key." in html
    assert 'id="id_api_key_error"' in html and 'hx-swap-oob="true"' in html
    assert "<input" not in html and "wrong-key-9876" not in html  # the inputs stay as typed
    with scopes_disabled():
        assert not IntegrationCredential.objects.exists()


def test_an_unknown_environment_is_a_field_error(world, api_as) -> None:
    api = api_as(world.admin)
    api.post("/api/v1/integrations/fakebooks/enable")
    answer = api.put(
        "/api/v1/integrations/fakebooks/connection",
        {"environment": "production", "credentials": {"api_id": "a", "api_key": GOOD_KEY}},
        format="json",
    )
    assert answer.status_code == 400
    assert "Estonia" in answer.json()["fields"]["environment"][0]


def test_the_api_connects_with_credentials_and_describes_the_vendor(world, api_as) -> None:
    api = api_as(world.admin)
    api.post("/api/v1/integrations/fakebooks/enable")
    saved = api.put(
        "/api/v1/integrations/fakebooks/connection",
        {"environment": "ee", "credentials": {"api_id": "abc", "api_key": GOOD_KEY}},
        format="json",
    )
    assert saved.status_code == 200, saved.json()
    body = saved.json()
    assert body["state"] == "connected" and body["connection_id"]
    assert body["credentials"]["fields"] == {"api_id": "abc"}
    assert GOOD_KEY not in saved.content.decode()
    listed = {v["key"]: v for v in api.get("/api/v1/integrations/").json()}
    fake = listed["fakebooks"]
    assert fake["capabilities"] == [] and fake["credentials_expire"] is False
    assert [f["kind"] for f in fake["credential_fields"]] == ["text", "secret"]
    assert [e["key"] for e in fake["environments"]] == ["ee", "fi"]
    assert sorted(listed["tripletex"]["capabilities"]) == [
        "books_access",
        "customers",
        "invoice_export",
        "invoice_status",
        "products",
        "statistics",
        "vat_types",
    ]
    tested = api.post(
        "/api/v1/integrations/fakebooks/connection/test",
        {"environment": "fi", "credentials": {"api_id": "abc", "api_key": GOOD_KEY}},
        format="json",
    )
    assert tested.json()["company_name"] == "Fake OÜ (fi)"


def test_a_vendor_without_a_capability_has_no_tab_and_a_clear_4xx(world, enabled, api_as) -> None:
    enabled.post(CONNECT, {"api_id": "abc", "api_key": GOOD_KEY, "environment": "ee"})
    page = enabled.get("/settings/apps/fakebooks/?tab=import").content.decode()
    assert 'href="?tab=connect"' in page  # connected: the tabs of a connected vendor show
    assert 'href="?tab=import"' not in page and "Start import" not in page
    api = api_as(world.admin)
    for path, what in (
        ("customer-imports", "import customers"),
        ("product-imports", "import products"),
        ("vat-type-imports", "import VAT types"),
    ):
        answer = api.post(f"/api/v1/integrations/fakebooks/{path}", {}, format="json")
        assert answer.status_code == 404
        assert answer.json() == {
            "code": "capability_missing",
            "detail": f"Fakebooks cannot {what}.",
        }  # the one error shape: no key beside code, detail, fields and remote
    assert api.post("/api/v1/integrations/nosuch/customer-imports").status_code == 404


def test_a_job_needing_a_capability_is_refused_for_a_vendor_without_it(world) -> None:
    with world.scope_a(), pytest.raises(CapabilityMissing) as refused:
        jobs.request_job(
            company=world.firm_a, actor=world.admin, vendor="fakebooks", kind="product_import"
        )
    assert refused.value.message == "Fakebooks cannot import products."
