"""Settings & Apps → Billing: Overview, Products tab, import progress and summary, the card."""

from __future__ import annotations

from django.template.loader import render_to_string
from django.urls import reverse
from django_scopes import scopes_disabled

from billing import services
from billing.models import BillingSettings
from tests.billing.conftest import import_products

PAGE = "/settings/apps/billing/"


def test_it_serves_the_billing_page_at_settings_apps_billing(world, as_user) -> None:
    assert reverse("billing_settings") == PAGE
    response = as_user(world.owner).get(PAGE)
    assert response.status_code == 200
    assert "billing/settings.html" in [t.name for t in response.templates]


def test_it_is_only_for_owners_and_admins(world, as_user) -> None:
    for who in ("accountant", "billing"):
        assert as_user(getattr(world, who)).get(PAGE).status_code == 403
    assert as_user(world.admin).get(PAGE).status_code == 200


def test_it_activates_billing_from_the_overview(world, as_user) -> None:
    client = as_user(world.admin)
    page = client.get(PAGE).content.decode()
    assert "Activate billing" in page and 'for="id_accounting_vendor"' in page
    response = client.post(reverse("billing_activate"), {"accounting_vendor": "tripletex"})
    assert response.status_code == 302
    with scopes_disabled():
        settings = BillingSettings.objects.get(company=world.firm_a)
    assert settings.active and settings.accounting_vendor == "tripletex"
    page = client.get(PAGE).content.decode()
    assert "Deactivate billing" in page and "Tripletex is not connected yet" in page
    assert 'href="?tab=products"' not in page  # no Products tab before Tripletex is connected

    client.post(reverse("billing_deactivate"))
    with scopes_disabled():
        settings.refresh_from_db()
    assert not settings.active


def test_it_refuses_activation_to_other_roles(world, as_user) -> None:
    response = as_user(world.billing).post(reverse("billing_activate"), {"accounting_vendor": ""})
    assert response.status_code == 403
    with scopes_disabled():
        assert not BillingSettings.objects.exists()


def test_it_shows_the_products_tab_once_active_and_connected(world, as_user, billing_on) -> None:
    page = as_user(world.admin).get(PAGE, {"tab": "products"}).content.decode()
    assert 'aria-selected="true" aria-controls="billing-tabpanel" href="?tab=products"' in page
    assert "Import VAT types" in page and "Import products" in page
    assert "Nothing has been imported yet." in page
    assert "No products yet." in page


def test_it_imports_from_the_products_tab_and_shows_the_summary_and_lists(
    world, as_user, billing_on, django_capture_on_commit_callbacks
) -> None:
    client = as_user(world.admin)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("billing_import_products"))
    assert response.status_code == 302 and response["Location"].endswith("?tab=products")

    page = client.get(PAGE, {"tab": "products"}).content.decode()
    assert 'data-status="succeeded"' in page
    assert 'data-summary="products"' in page and 'data-summary="vat_types"' in page
    assert "What the import changed" in page
    assert "28 products" in page  # the active ones, by default
    assert "15 VAT types" in page
    assert "Utgående avgift, høy sats" in page


def test_it_explains_why_an_import_cannot_start(world, as_user, connected) -> None:
    with world.scope_a():
        services.activate_billing(company=world.firm_a, actor=world.owner, vendor="tripletex")
    world.firm_a.plan = "free"
    world.firm_a.save()
    client = as_user(world.admin)
    response = client.post(reverse("billing_import_vat_types"))
    assert response.status_code == 403 and "This needs a higher plan" in response.content.decode()
    world.firm_a.plan = "team"
    world.firm_a.save()
    with world.scope_a():
        services.deactivate_billing(company=world.firm_a, actor=world.owner)
    response = client.post(reverse("billing_import_vat_types"), follow=True)
    assert "Billing is not active" in response.content.decode()


def test_it_searches_filters_and_pages_the_products(world, as_user, billing_on) -> None:
    import_products(world)
    client = as_user(world.admin)
    page = client.get(PAGE, {"tab": "products", "show": "all"}).content.decode()
    assert "30 products" in page and "Page 1 of 2" in page
    with scopes_disabled():
        product = services.BillingProduct.objects.filter(active=True).order_by("name").last()
    assert product is not None
    found = client.get(PAGE, {"tab": "products", "q": product.name}).content.decode()
    assert product.name in found and "1 product" in found
    inactive = client.get(PAGE, {"tab": "products", "show": "inactive"}).content.decode()
    assert "2 products" in inactive
    second = client.get(PAGE, {"tab": "products", "show": "all", "page": 2}).content.decode()
    assert "Page 2 of 2" in second


def test_it_polls_a_running_import_and_reloads_the_lists_when_it_ends(
    world, as_user, billing_on
) -> None:
    client = as_user(world.admin)
    with world.scope_a():
        job, _created = services.request_product_import(
            company=world.firm_a, actor=world.admin, vendor="tripletex"
        )
    url = reverse("billing_import_job", args=[job.public_id])

    running = client.get(url, HTTP_HX_REQUEST="true")
    assert f'hx-get="{url}"' in running.content.decode()
    assert "HX-Trigger" not in running

    from integrations.jobs import run_sync_job

    run_sync_job.apply(args=[job.pk])
    ended = client.get(url, HTTP_HX_REQUEST="true")
    assert ended["HX-Trigger"] == "billing-import-finished"
    assert "hx-get" not in ended.content.decode().split(">", 1)[0]
    assert 'data-summary="products"' in ended.content.decode()
    catalogue = client.get(
        PAGE, {"tab": "products", "fragment": "catalogue"}, HTTP_HX_REQUEST="true"
    ).content.decode()
    assert catalogue.startswith('<div id="billing-catalogue"') and "28 products" in catalogue


def test_it_shows_a_failed_import_with_its_reason(world, as_user, billing_on) -> None:
    with world.scope_a():
        from integrations import services as integration_services
        from integrations.base import AuthError

        job, _created = integration_services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
        integration_services.finish_job(job, error=AuthError("The employee token was revoked."))
    page = as_user(world.admin).get(PAGE, {"tab": "products"}).content.decode()
    assert 'role="alert"' in page and "The employee token was revoked." in page


def test_the_app_card_shows_the_state_counts_and_last_import(world, billing_on) -> None:
    with world.scope_a():
        off = render_to_string(
            "billing/_app_card.html", {"billing_card": services.billing_card(world.firm_b)}
        )
    assert 'data-vendor="billing"' in off and "Not enabled" in off
    import_products(world)
    with world.scope_a():
        card = services.billing_card(world.firm_a)
        html = render_to_string("billing/_app_card.html", {"billing_card": card})
    assert card["state"] == "active" and card["products"] == 28 and card["vat_types"] == 15
    assert card["last_import"] is not None and card["last_import"].status == "succeeded"
    assert "Active, with Tripletex as the accounting system" in html
    assert "28 active products" in html and "15 VAT types" in html and "Last import" in html
    assert f'href="{PAGE}"' in html
    assert 'class="col-md-6 col-xl-4"' in html and "integration-card" in html


def test_its_pages_need_no_inline_script_or_style(world, as_user, billing_on) -> None:
    import_products(world)
    page = as_user(world.admin).get(PAGE, {"tab": "products"}).content.decode()
    assert "<script>" not in page and " style=" not in page and "onclick" not in page
