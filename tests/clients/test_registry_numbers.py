"""A client's registry number kept with its country: saving, uniqueness, the API, the list,
the import (matching, invalid numbers kept) and the migration of existing clients."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django_scopes import scope, scopes_disabled

from clients.importing import classify, clean_remote, copy_remote, registry_warning
from clients.models import Client, CustomerImportRow
from integrations.base import RemoteCustomer
from integrations.models import SyncJob
from tests.clients.test_import import confirm, preview, remote
from uku import registry_numbers

# Eight digits that are both a valid Estonian registry code and a valid Finnish Y-tunnus.
BOTH_EE_AND_FI = "10010034"
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def estonian(world):
    """Firm A, registered in Estonia."""
    world.firm_a.country = "EE"
    world.firm_a.save()
    return world


def make(world, name: str, **fields) -> Client:
    with world.scope_a():
        client = Client(company=world.firm_a, name=name, **fields)
        client.full_clean(exclude=["last_import"])
        client.save()
    return client


def test_the_columns_fit_the_longest_supported_number() -> None:
    longest = max(scheme.length for scheme in registry_numbers.SCHEMES.values())
    assert (Client._meta.get_field("organisation_number").max_length or 0) >= longest


def test_an_estonian_firms_client_keeps_its_eight_digit_registry_code(estonian) -> None:
    client = make(estonian, "Tallinna Pagar OÜ", organisation_number="1234 5678")
    client.refresh_from_db()
    assert (client.registry_country, client.organisation_number) == ("EE", "12345678")


def test_a_number_is_checked_by_the_clients_country_with_the_error_on_its_field(world) -> None:
    with pytest.raises(ValidationError) as caught:
        make(world, "Tallinna Pagar OÜ", organisation_number="12345678")  # Norwegian firm
    assert (
        "not a valid Norwegian organisation number"
        in caught.value.message_dict["organisation_number"][0]
    )
    client = make(world, "Tallinna Pagar OÜ", organisation_number="12345678", registry_country="EE")
    assert client.registry_country == "EE"


def test_a_number_is_unique_per_firm_and_country_only(estonian) -> None:
    make(estonian, "Esimene OÜ", organisation_number=BOTH_EE_AND_FI)
    with pytest.raises(ValidationError) as caught:
        make(estonian, "Teine OÜ", organisation_number=BOTH_EE_AND_FI)
    assert "Another client already has registry code" in str(caught.value.message_dict)
    # The database says so too, whatever path skips the check.
    with estonian.scope_a(), pytest.raises(IntegrityError), transaction.atomic():
        Client(company=estonian.firm_a, name="Kolmas OÜ", organisation_number=BOTH_EE_AND_FI).save()
    # The same digits as a Finnish Y-tunnus are another company's number: allowed.
    finnish = make(estonian, "Suomi Oy", organisation_number=BOTH_EE_AND_FI, registry_country="FI")
    assert finnish.registry_number_display == "1001003-4"
    # And another firm may have the same client.
    with scope(company=estonian.firm_b):
        Client.objects.create(company=estonian.firm_b, name="Esimene OÜ", registry_country="EE",
                              organisation_number=BOTH_EE_AND_FI)  # fmt: skip


def test_a_client_created_in_bulk_gets_its_firms_country(estonian) -> None:
    with scopes_disabled():
        Client.objects.bulk_create([Client(company=estonian.firm_a, name="Hulgi OÜ")])
        assert Client.objects.get(name="Hulgi OÜ").registry_country == "EE"


def test_the_api_sets_a_number_checked_by_its_country(world, api_as) -> None:
    target = make(world, "Suomi Oy")
    api = api_as(world.accountant)
    url = f"/api/v1/clients/{target.public_id}/"
    bad = api.patch(
        url, {"organisation_number": "2077474-1", "registry_country": "FI"}, format="json"
    )
    assert bad.status_code == 400
    assert "not a valid Finnish business ID" in str(bad.json()["fields"]["organisation_number"])
    good = api.patch(
        url, {"organisation_number": "2077474-0", "registry_country": "FI"}, format="json"
    )
    assert good.status_code == 200, good.json()
    body = good.json()
    assert (body["registry_country"], body["organisation_number"]) == ("FI", "20774740")
    assert body["registry_number_display"] == "2077474-0"
    # Changing only the country re-checks the number already there.
    moved = api.patch(url, {"registry_country": "NO"}, format="json")
    assert moved.status_code == 400 and "organisation_number" in moved.json()["fields"]
    taken = make(world, "Kopio Oy", registry_country="FI")
    again = api.patch(
        f"/api/v1/clients/{taken.public_id}/", {"organisation_number": "20774740"}, format="json"
    )
    assert again.status_code == 400
    assert "Another client already has" in str(again.json()["fields"]["organisation_number"])


def test_the_list_finds_a_number_in_any_format_and_shows_its_country(world, as_user) -> None:
    make(world, "Suomi Oy", organisation_number="20774740", registry_country="FI")
    make(world, "Eesti OÜ", organisation_number="12345678", registry_country="EE")
    make(world, "Norsk AS", organisation_number="923609016")
    client = as_user(world.accountant)
    for query, found in [
        ("2077474-0", "Suomi Oy"),
        ("20774740", "Suomi Oy"),
        ("FI20774740", "Suomi Oy"),
        ("1234 5678", "Eesti OÜ"),
        ("12345678", "Eesti OÜ"),
        ("NO 923 609 016 MVA", "Norsk AS"),
    ]:
        page = client.get("/clients/", {"q": query}).content.decode()
        others = {"Suomi Oy", "Eesti OÜ", "Norsk AS"} - {found}
        assert found in page and not any(o in page for o in others), query
    page = client.get("/clients/").content.decode()
    assert "2077474-0" in page and ">FI<" in page and ">EE<" in page
    assert [c["name"] for c in client.get("/api/v1/clients/?q=2077474-0").json()["results"]] == [
        "Suomi Oy"
    ]


# --- Import ---------------------------------------------------------------------------------------


def preview_job(world) -> SyncJob:
    with world.scope_a():
        return SyncJob.objects.create(
            company=world.firm_a, vendor="tripletex", kind="customer_import_preview"
        )


def test_an_import_keeps_an_estonian_registry_code_and_matches_the_client(estonian) -> None:
    existing = make(estonian, "Vana Nimi OÜ", organisation_number="12345678")
    data = clean_remote(
        RemoteCustomer(id="1", name="Uus Nimi OÜ", organisation_number="1234 5678"),
        estonian.firm_a.country,
    )
    assert (data["registry_country"], data["organisation_number"]) == ("EE", "12345678")
    assert registry_warning(data) == ""
    with estonian.scope_a():
        [row] = classify(estonian.firm_a, preview_job(estonian), [data])
    assert (row.client, row.match_rule, row.classification) == (existing, "orgnr", "existing")
    assert "organisation_number" not in row.changes


def test_an_import_matches_by_country_and_number_not_by_the_digits_alone(estonian) -> None:
    make(estonian, "Eesti OÜ", organisation_number=BOTH_EE_AND_FI)
    finnish = clean_remote(
        RemoteCustomer(
            id="1", name="Suomi Oy", organisation_number=BOTH_EE_AND_FI, registry_country="FI"
        ),
        estonian.firm_a.country,
    )
    assert finnish["registry_country"] == "FI"
    with estonian.scope_a():
        [row] = classify(estonian.firm_a, preview_job(estonian), [finnish])
    assert (row.client, row.classification) == (None, "new")


def test_an_invalid_number_is_kept_as_typed_with_a_warning_and_not_matched(world) -> None:
    make(world, "Gammel AS", organisation_number="923609016")
    data = clean_remote(RemoteCustomer(id="1", name="Ny AS", organisation_number="923 609 017"))
    assert data["organisation_number"] == ""
    assert data["raw_organisation_number"] == "923 609 017"
    warning = registry_warning(data)
    assert "923 609 017 is not a valid Norwegian organisation number" in warning
    assert "kept as imported" in warning
    with world.scope_a():
        [row] = classify(world.firm_a, preview_job(world), [data])
    assert (row.client, row.classification) == (None, "new")
    assert row.registry_warning == warning
    assert row.changes == {}


def test_a_number_of_a_country_uku_cannot_check_is_kept_with_a_warning(world) -> None:
    data = clean_remote(
        RemoteCustomer(
            id="1", name="Svensk AB", organisation_number="556036-0793", registry_country="se"
        ),
    )
    assert (data["registry_country"], data["organisation_number"]) == ("SE", "")
    assert "cannot check registry numbers of SE" in registry_warning(data)


# Against the Tripletex sandbox, end to end: the preview row warns, the client keeps the number.


def test_an_imported_invalid_number_is_kept_on_the_client_not_blanked(
    world, empty_tx, as_user
) -> None:
    made = remote(empty_tx.store, "Feil Nummer AS", organizationNumber="923 609 017")
    job = preview(world)
    assert job.status == "succeeded", job.error
    with scopes_disabled():
        row = CustomerImportRow.objects.get(job=job, remote_id=str(made["id"]))
    assert row.data["raw_organisation_number"] == "923 609 017" and row.registry_warning
    done = confirm(world, job, select="all")
    assert done.counts["created"] == 1, done.counts
    with scopes_disabled():
        client = Client.objects.get(company=world.firm_a)
    assert (client.organisation_number, client.raw_organisation_number) == ("", "923 609 017")
    assert client.registry_country == "NO"
    page = as_user(world.accountant).get(f"/clients/{client.public_id}/").content.decode()
    assert "The accounting system has 923 609 017, which is not a valid registry number" in page


def test_the_confirm_holds_numbers_unique_per_country(estonian, empty_tx) -> None:
    # An Estonian firm (its Tripletex numbers are Estonian) with a Finnish client of the same
    # digits: the import creates the Estonian company instead of calling the number taken.
    finnish = make(estonian, "Suomi Oy", organisation_number=BOTH_EE_AND_FI, registry_country="FI")
    remote(empty_tx.store, "Eesti OÜ", organizationNumber=BOTH_EE_AND_FI)
    remote(empty_tx.store, "Eesti Kaksik OÜ", organizationNumber=BOTH_EE_AND_FI)
    job = preview(estonian)
    # The second Estonian company with the number is predicted as a conflict (same country);
    # the Finnish client's digits are no conflict.
    assert (job.counts["new"], job.counts["conflict"]) == (1, 1), job.counts
    done = confirm(estonian, job, select="all")
    assert (done.counts["created"], done.counts["failed"]) == (1, 0), done.counts
    with scopes_disabled():
        created = Client.objects.exclude(pk=finnish.pk).get(company=estonian.firm_a)
    assert (created.registry_country, created.organisation_number) == ("EE", BOTH_EE_AND_FI)


def test_the_import_tab_shows_the_warning_on_the_row(world, empty_tx, as_user) -> None:
    remote(empty_tx.store, "Feil Nummer AS", organizationNumber="923 609 017")
    preview(world)
    page = as_user(world.admin).get("/settings/apps/tripletex/import/").content.decode()
    assert "923 609 017 is not a valid Norwegian organisation number" in page


def test_a_valid_number_from_the_import_replaces_one_kept_as_typed(world) -> None:
    client = make(world, "Ny AS")
    client.raw_organisation_number = "923 609 017"
    data = clean_remote(RemoteCustomer(id="1", name="Ny AS", organisation_number="923609016"))
    assert copy_remote(client, data)
    assert (client.organisation_number, client.raw_organisation_number) == ("923609016", "")


# --- Migration ------------------------------------------------------------------------------------

MIGRATION_CHECK = textwrap.dedent(
    """
    from django.core.management import call_command
    from django.db import IntegrityError, connection, transaction
    from django.db.migrations.executor import MigrationExecutor
    from django_scopes import scopes_disabled

    before = [("clients", "0001_initial"), ("uku", "0004_single_line_company_names")]
    call_command("migrate", verbosity=0)
    call_command("migrate", "clients", "0001_initial", verbosity=0)
    call_command("migrate", "uku", "0004_single_line_company_names", verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    firm = old.get_model("uku", "Company").objects.create(name="Gammel", organisation_number="923609016")
    old.get_model("clients", "Client").objects.create(
        company_id=firm.pk, name="Gammel Klient AS", organisation_number="923609016"
    )
    call_command("migrate", verbosity=0)

    from clients.models import Client
    from uku.models import Company

    with scopes_disabled():
        firm = Company.objects.get(name="Gammel")
        client = Client.objects.get(name="Gammel Klient AS")
        print("firm", firm.country, firm.organisation_number)
        print("client", client.registry_country, client.organisation_number)
        try:
            with transaction.atomic():
                Client.objects.create(company=firm, name="Dobbel", organisation_number="923609016")
        except IntegrityError:
            print("duplicate refused")
        Client.objects.create(
            company=firm, name="Eesti", organisation_number="923609016", registry_country="EE"
        )  # the constraint is per country (the number is not checked by create())
        Client.objects.filter(name="Eesti").delete()
    call_command("migrate", "uku", "0004_single_line_company_names", verbosity=0)
    old = MigrationExecutor(connection).loader.project_state(before).apps
    print("reversed", old.get_model("clients", "Client").objects.get().organisation_number)
    """
)


def test_the_migration_keeps_existing_clients_as_norwegian_and_is_reversible(tmp_path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("UKU_", "DJANGO_"))}
    env.pop("DATABASE_URL", None)
    env.update(DJANGO_SETTINGS_MODULE="uku.settings", DEBUG="1", UKU_VAR_DIR=str(tmp_path))
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import django; django.setup()\n" + MIGRATION_CHECK],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        # A guard against a hang, not a speed target: it migrates every app up, down and up
        # again on SQLite, which takes 20 s of CPU and, on a machine shared by parallel runs,
        # over two minutes of wall time.
        timeout=600,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "firm NO 923609016",
        "client NO 923609016",
        "duplicate refused",
        "reversed 923609016",
    ]


def test_the_client_page_edits_the_number_with_its_country(world, as_user) -> None:
    target = make(world, "Tallinna Pagar OÜ")
    client = as_user(world.accountant)
    url = f"/clients/{target.public_id}/"
    assert 'name="client-registry_country"' in client.get(url).content.decode()
    edit = {"client-name": "Tallinna Pagar OÜ", "client-registry_country": "EE"}
    bad = client.post(url, {**edit, "client-organisation_number": "12345679"})
    assert bad.status_code == 200
    assert (
        "not a valid Estonian registry code"
        in bad.context["details_form"].errors["organisation_number"][0]
    )
    target.refresh_from_db()
    assert (target.registry_country, target.organisation_number) == ("NO", "")
    good = client.post(url, {**edit, "client-organisation_number": "1234 5678"})
    assert good.status_code == 302
    target.refresh_from_db()
    assert (target.registry_country, target.organisation_number) == ("EE", "12345678")
    # Billing settings, on the same page, still save on their own.
    assert client.post(url, {"invoice_email": "arve@pagar.ee"}).status_code == 302
    target.refresh_from_db()
    assert (target.invoice_email, target.organisation_number) == ("arve@pagar.ee", "12345678")
    assert 'value="12345678"' in client.get(url).content.decode()


def test_billing_settings_save_even_when_the_stored_number_no_longer_validates(
    world, as_user
) -> None:
    # A number stored before its rule was known (written past the checks): the billing form,
    # which has no number field, must neither crash nor refuse on its account.
    target = make(world, "Gammel AS")
    with world.scope_a():
        Client.objects.filter(pk=target.pk).update(organisation_number="12345678")
    response = as_user(world.billing).post(
        f"/clients/{target.public_id}/", {"invoice_email": "faktura@gammel.no"}
    )
    assert response.status_code == 302


def test_the_import_warning_speaks_norwegian(world) -> None:
    from django.utils import translation

    data = clean_remote(RemoteCustomer(id="1", name="Ny AS", organisation_number="12345678"))
    with translation.override("nb"):
        warning = registry_warning(data)
    assert "12345678 er ikke et gyldig norsk organisasjonsnummer" in warning
    assert "brukes ikke til å finne klienter" in warning


def test_the_edit_form_shows_the_number_grouped_and_saves_it_compact(world, as_user) -> None:
    from django.urls import reverse

    from clients.forms import RegistryNumberForm
    from clients.models import Client

    with world.scope_a():
        client = Client.objects.create(
            company=world.firm_a, name="Fjord AS", registry_country="NO",
            organisation_number="923609016",
        )  # fmt: skip
        form = RegistryNumberForm(instance=client)
        assert form["organisation_number"].value() == "923 609 016"
        posted = RegistryNumberForm(
            {"registry_country": "NO", "organisation_number": "923 609 016"}, instance=client
        )
        assert posted.is_valid(), posted.errors
        assert posted.cleaned_data["organisation_number"] == "923609016"
        assert not posted.has_changed()
    page = as_user(world.admin).get(reverse("client_detail", args=[client.public_id]))
    assert 'value="923 609 016"' in page.content.decode()
