"""Billing activation in the API: the contract's activate/deactivate, and enabling an integration
with `activate_billing`, through the same services as the pages."""

from __future__ import annotations

from django_scopes import scopes_disabled

from billing.models import BillingSettings


def _billing(world) -> BillingSettings | None:
    with scopes_disabled():
        return BillingSettings.objects.filter(company=world.firm_a).first()


def test_activate_and_deactivate_through_the_contract_paths(world, api_as) -> None:
    api = api_as(world.admin)
    on = api.post("/api/v1/billing/activate", {"vendor": "tripletex"}, format="json")
    assert on.status_code == 200 and on.json()["active"] is True
    assert on.json()["accounting_vendor"] == "tripletex"
    off = api.post("/api/v1/billing/deactivate")
    assert off.status_code == 200 and off.json()["active"] is False
    billing = _billing(world)
    assert billing is not None and not billing.active


def test_activate_refuses_an_unknown_vendor_and_members(world, api_as) -> None:
    refused = api_as(world.admin).post(
        "/api/v1/billing/activate", {"vendor": "nosuch"}, format="json"
    )
    assert refused.status_code == 400 and "accounting_vendor" in refused.json()["fields"]
    member = api_as(world.accountant).post(
        "/api/v1/billing/activate", {"vendor": "tripletex"}, format="json"
    )
    assert member.status_code == 403
    billing = _billing(world)
    assert billing is None or not billing.active


def test_enable_with_activate_billing_does_both(world, api_as) -> None:
    api = api_as(world.admin)
    answer = api.post(
        "/api/v1/integrations/tripletex/enable", {"activate_billing": True}, format="json"
    )
    assert answer.status_code == 200 and answer.json()["enabled"] is True
    billing = _billing(world)
    assert billing is not None and billing.active and billing.accounting_vendor == "tripletex"


def test_enable_without_the_option_leaves_billing_alone(world, api_as) -> None:
    assert api_as(world.admin).post("/api/v1/integrations/tripletex/enable").status_code == 200
    billing = _billing(world)
    assert billing is None or not billing.active
