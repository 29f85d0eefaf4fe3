"""Who may activate billing and import, on which plan and in which state; the API's lists and
imports; and another firm's products staying out of sight."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied
from django_scopes import scope, scopes_disabled

from billing import services
from billing.models import BillingProduct, BillingSettings, VatType
from integrations.base import ConfigError
from integrations.models import (
    ConnectionStatus,
    IntegrationConnection,
    IntegrationCredential,
    SyncJob,
)
from tests.billing.conftest import import_products, run_jobs
from uku.models import Plan
from uku.tenancy import PlanRequired

PRODUCT_IMPORTS = "/api/v1/integrations/tripletex/product-imports"
VAT_TYPE_IMPORTS = "/api/v1/integrations/tripletex/vat-type-imports"
PRODUCTS = "/api/v1/billing/products/"
VAT_TYPES = "/api/v1/billing/vat-types/"


def _request(world, actor, company=None):
    with world.scope_a():
        return services.request_product_import(
            company=company or world.firm_a, actor=actor, vendor="tripletex"
        )


def test_it_activates_and_deactivates_billing_idempotently(world) -> None:
    with world.scope_a():
        first = services.activate_billing(
            company=world.firm_a, actor=world.owner, vendor="tripletex"
        )
        again = services.activate_billing(
            company=world.firm_a, actor=world.admin, vendor="tripletex"
        )
        assert first.pk == again.pk and again.active and again.accounting_vendor == "tripletex"
        assert again.activated_by == world.owner  # the second call changed nothing
        services.deactivate_billing(company=world.firm_a, actor=world.admin)
        off = services.deactivate_billing(company=world.firm_a, actor=world.admin)
        assert not off.active and off.accounting_vendor == "tripletex"
        assert BillingSettings.objects.filter(company=world.firm_a).count() == 1


@pytest.mark.parametrize("who", ["accountant", "billing", "outsider"])
def test_it_lets_only_owners_and_admins_activate_billing(world, who) -> None:
    with world.scope_a(), pytest.raises(PermissionDenied):
        services.activate_billing(
            company=world.firm_a, actor=getattr(world, who), vendor="tripletex"
        )
    with world.scope_a(), pytest.raises(PermissionDenied):
        services.deactivate_billing(company=world.firm_a, actor=getattr(world, who))


def test_it_refuses_an_unknown_accounting_system(world) -> None:
    with world.scope_a(), pytest.raises(ConfigError):
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor="nosuch")


@pytest.mark.parametrize("who", ["accountant", "billing", "outsider"])
def test_it_lets_only_owners_and_admins_import(world, billing_on, who) -> None:
    with pytest.raises(PermissionDenied):
        _request(world, getattr(world, who))
    with scopes_disabled():
        assert not SyncJob.objects.filter(kind="product_import").exists()


def test_it_needs_a_plan_with_tripletex_to_import(world, billing_on) -> None:
    world.firm_a.plan = Plan.FREE
    world.firm_a.save()
    with pytest.raises(PlanRequired):
        _request(world, world.admin)


def test_it_needs_billing_active_to_import(world, connected) -> None:
    with pytest.raises(services.BillingNotActive, match="Activate it"):
        _request(world, world.admin)
    with world.scope_a():
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor="")
    with pytest.raises(services.BillingNotActive, match="Tripletex"):
        _request(world, world.admin)


def test_it_needs_tripletex_connected_to_import(world) -> None:
    with world.scope_a():
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor="tripletex")
    with pytest.raises(ConfigError, match="Connect Tripletex first"):
        _request(world, world.admin)


# --- API --------------------------------------------------------------------------------------------


def test_the_api_answers_202_with_the_job_and_the_job_is_readable(
    world, billing_on, api_as, django_capture_on_commit_callbacks
) -> None:
    api = api_as(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = api.post(PRODUCT_IMPORTS)
    assert response.status_code == 202, response.content
    assert response.data["kind"] == "product_import"
    job = api.get(f"/api/v1/sync-jobs/{response.data['id']}/").json()
    assert job["status"] == "succeeded"
    assert job["counts"]["products"]["created"] == 30

    with django_capture_on_commit_callbacks(execute=True):
        vat = api.post(VAT_TYPE_IMPORTS)
    assert vat.status_code == 202 and vat.data["kind"] == "vat_type_import"
    assert api.get(f"/api/v1/sync-jobs/{vat.data['id']}/").json()["counts"]["vat_types"][
        "unchanged"
    ] == len(api.get(VAT_TYPES, {"page_size": 500}).json()["results"])


def test_the_api_joins_a_running_import(world, billing_on, api_as) -> None:
    api = api_as(world.owner)
    # Without running the on-commit callbacks the first job stays queued.
    first = api.post(PRODUCT_IMPORTS)
    second = api.post(PRODUCT_IMPORTS)
    assert first.status_code == second.status_code == 202
    assert first.data["id"] == second.data["id"]


@pytest.mark.parametrize(
    ("who", "status", "code"),
    [("accountant", 403, "permission_denied"), ("billing", 403, "permission_denied")],
)
def test_the_api_refuses_imports_to_other_roles(world, billing_on, api_as, who, status, code):
    response = api_as(getattr(world, who)).post(PRODUCT_IMPORTS)
    assert response.status_code == status and response.json()["code"] == code
    assert api_as(getattr(world, who)).post(VAT_TYPE_IMPORTS).status_code == status


def test_the_api_says_why_an_import_cannot_start(world, connected, api_as) -> None:
    api = api_as(world.admin)
    inactive = api.post(PRODUCT_IMPORTS)
    assert inactive.status_code == 409 and inactive.json()["code"] == "billing_not_active"
    world.firm_a.plan = Plan.FREE
    world.firm_a.save()
    assert api.post(PRODUCT_IMPORTS).json()["code"] == "plan_required"


def test_the_api_lists_products_and_vat_types_to_every_member(world, billing_on, api_as) -> None:
    import_products(world)
    for who in ("owner", "admin", "accountant", "billing"):
        api = api_as(getattr(world, who))
        products = api.get(PRODUCTS, {"page_size": 100}).json()
        assert products["count"] == 30
        first = products["results"][0]
        assert {"id", "name", "number", "unit_price", "vat_type", "active"} <= set(first)
        assert first["vat_type"]["number"] and Decimal(first["vat_type"]["percentage"]) >= 0
        assert api.get(VAT_TYPES).json()["count"] == 15


def test_the_api_filters_products_by_active_and_search(world, billing_on, api_as) -> None:
    import_products(world)
    api = api_as(world.accountant)
    assert api.get(PRODUCTS, {"active": "false"}).json()["count"] == 2
    assert api.get(PRODUCTS, {"active": "true"}).json()["count"] == 28
    with scopes_disabled():
        product = BillingProduct.objects.filter(company=world.firm_a, active=True).first()
    assert product is not None
    found = api.get(PRODUCTS, {"search": product.name[:8].upper()}).json()["results"]
    assert str(product.public_id) in {p["id"] for p in found}
    by_number = api.get(PRODUCTS, {"search": product.number}).json()["results"]
    assert str(product.public_id) in {p["id"] for p in by_number}
    assert api.get(PRODUCTS, {"active": "maybe"}).status_code == 400
    codes = {v["number"] for v in api.get(VAT_TYPES, {"search": "Utgående"}).json()["results"]}
    assert {"3", "31", "33"} <= codes and "1" not in codes


def test_another_firms_products_are_invisible_and_404_by_id(world, billing_on, api_as) -> None:
    import_products(world)
    outsider = api_as(world.outsider)
    assert outsider.get(PRODUCTS).json()["count"] == 0
    assert outsider.get(VAT_TYPES).json()["count"] == 0
    with scopes_disabled():
        product = BillingProduct.objects.filter(company=world.firm_a).first()
        vat = VatType.objects.filter(company=world.firm_a).first()
    assert product is not None and vat is not None
    assert outsider.get(f"{PRODUCTS}{product.public_id}/").status_code == 404
    assert outsider.get(f"{VAT_TYPES}{vat.public_id}/").status_code == 404
    mine = api_as(world.accountant).get(f"{PRODUCTS}{product.public_id}/")
    assert mine.status_code == 200 and mine.json()["name"] == product.name


def test_an_import_for_firm_b_never_touches_firm_a(world, billing_on) -> None:
    """Firm B imports from the same Tripletex company: its rows are its own, firm A's stay."""
    import_products(world)
    with scopes_disabled():
        before = set(
            BillingProduct.objects.filter(company=world.firm_a).values_list("pk", "updated_at")
        )
    with scopes_disabled():
        credential = IntegrationCredential.objects.get(company=world.firm_a)
        connection_b = IntegrationConnection.objects.create(
            company=world.firm_b,
            vendor="tripletex",
            enabled=True,
            environment="test",
            status=ConnectionStatus.CONNECTED,
        )
        IntegrationCredential.objects.create(
            company=world.firm_b,
            connection=connection_b,
            environment="test",
            secret_encrypted=credential.secret_encrypted,
            last4=credential.last4,
            set_at=credential.set_at,
        )

    def start():
        with scope(company=world.firm_b):
            services.activate_billing(
                company=world.firm_b, actor=world.outsider, vendor="tripletex"
            )
            return services.request_product_import(
                company=world.firm_b, actor=world.outsider, vendor="tripletex"
            )[0]

    job = run_jobs(start)
    assert job.status == "succeeded", job.error
    assert job.counts["products"]["created"] == 30
    with scopes_disabled():
        after = set(
            BillingProduct.objects.filter(company=world.firm_a).values_list("pk", "updated_at")
        )
        assert BillingProduct.objects.filter(company=world.firm_b).count() == 30
    assert before == after


def test_enabling_tripletex_offers_and_activates_billing_too(world, as_user) -> None:
    from billing.services import is_billing_active

    client = as_user(world.owner)
    overview = client.get("/settings/apps/tripletex/").content.decode()
    assert "Also activate billing (recommended)" in overview
    client.post("/settings/apps/tripletex/enable/", {"activate_billing": "1"})
    with world.scope_a():
        assert is_billing_active(world.firm_a)
    page = client.get("/settings/apps/").content.decode()
    assert 'data-vendor="billing"' in page


def test_enabling_tripletex_without_the_box_leaves_billing_off(world, as_user) -> None:
    from billing.services import is_billing_active

    as_user(world.owner).post("/settings/apps/tripletex/enable/")
    with world.scope_a():
        assert not is_billing_active(world.firm_a)


ACTIVATION = "/api/v1/billing/activation"


def _free(world) -> None:
    world.firm_a.plan = Plan.FREE
    world.firm_a.save()


def test_a_free_firm_cannot_activate_billing_with_tripletex(world) -> None:
    _free(world)
    with world.scope_a(), pytest.raises(PlanRequired):
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor="tripletex")
    with world.scope_a():
        assert not BillingSettings.objects.filter(company=world.firm_a, active=True).exists()
        # Billing without an accounting system needs no particular plan.
        assert services.activate_billing(company=world.firm_a, actor=world.owner, vendor="").active


def test_the_page_explains_the_plan_a_free_firm_needs_for_billing_with_tripletex(
    world, as_user
) -> None:
    _free(world)
    response = as_user(world.admin).post(
        "/settings/apps/billing/activate/", {"accounting_vendor": "tripletex"}
    )
    assert response.status_code == 403
    assert "Team" in response.content.decode()
    with world.scope_a():
        assert not BillingSettings.objects.filter(company=world.firm_a, active=True).exists()


def test_the_api_refuses_billing_with_tripletex_on_the_free_plan(world, api_as) -> None:
    _free(world)
    response = api_as(world.admin).post(ACTIVATION, {"accounting_vendor": "tripletex"})
    assert response.status_code == 403
    assert response.json()["code"] == "plan_required"
    assert "Team" in response.json()["detail"]
    with world.scope_a():
        assert not BillingSettings.objects.filter(company=world.firm_a, active=True).exists()


def test_the_api_activates_and_deactivates_billing(world, api_as) -> None:
    api = api_as(world.admin)
    on = api.post(ACTIVATION, {"accounting_vendor": "tripletex"})
    assert on.status_code == 200
    assert (on.json()["active"], on.json()["accounting_vendor"]) == (True, "tripletex")
    off = api.delete(ACTIVATION)
    assert off.status_code == 200 and off.json()["active"] is False
    assert api_as(world.accountant).post(ACTIVATION, {}).status_code == 403
