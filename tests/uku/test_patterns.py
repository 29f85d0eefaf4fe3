"""One set of patterns (issue 16): one status vocabulary, one pager, one sortable header with
its direction, one empty state per kind, live state on the integration cards and the next step
after connecting."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.template import Context, Template
from django.test import RequestFactory
from django.urls import reverse
from django.utils import timezone

from billing.models import ExportState, InvoiceStatus
from clients.models import Client, ExternalLink
from integrations import services
from integrations.models import SyncJobStatus
from summarytasks.models import TaskStatus
from uku.status import VOCABULARY, status_of


@pytest.mark.parametrize(
    ("kind", "values"),
    [
        ("job", SyncJobStatus.values),
        ("invoice", InvoiceStatus.values),
        ("export", ExportState.values),
        ("task", TaskStatus.values),
        ("connection", ["plan_required", "not_enabled", "not_connected", "connected", "error"]),
    ],
)
def test_every_status_value_has_one_word_and_one_tone(kind, values) -> None:
    for value in values:
        shown = status_of(kind, value)
        assert str(shown.word) and shown.tone in ("ok", "info", "warn", "bad", "muted")


def test_off_is_called_the_same_everywhere() -> None:
    assert str(VOCABULARY["connection"]["not_enabled"].word) == "Not enabled"
    assert str(VOCABULARY["app"]["not_active"].word) == "Not enabled"


def test_the_status_tag_shows_the_word_in_its_colour() -> None:
    html = Template('{% load patterns %}{% status "invoice" "paid" %}').render(Context())
    assert html == '<span class="status status-ok" data-status="paid">Paid</span>'
    with pytest.raises(KeyError):
        Template('{% load patterns %}{% status "invoice" "lost" %}').render(Context())


def test_pager_and_sort_links_keep_the_filters_and_restart_at_page_one() -> None:
    request = RequestFactory().get("/clients/?q=fjord&sort=name&page=3")
    html = Template(
        "{% load patterns %}{% page_href 4 %}|{% sort_href 'name' %}|{% sort_state 'name' %}|"
        "{% sort_href 'orgnr' %}|{% sort_state 'orgnr' %}"
    ).render(Context({"request": request, "sort": "name"}))
    assert (
        html
        == "?q=fjord&amp;sort=name&amp;page=4|?q=fjord&amp;sort=-name|ascending|?q=fjord&amp;sort=orgnr|"
    )


def _clients(world, n: int) -> None:
    with world.scope_a():
        Client.objects.bulk_create(
            Client(company=world.firm_a, name=f"Klient {i:02d} AS") for i in range(n)
        )


def test_the_client_list_sorts_by_its_headers_and_says_the_direction(world, as_user) -> None:
    _clients(world, 3)
    page = as_user(world.admin).get(reverse("client_list"), {"sort": "-name"}).content.decode()
    header = re.search(r'<th scope="col" class="sortable" aria-sort="descending">.*?</th>', page)
    assert header and "Name" in header[0] and "▼" in header[0] and "sort=name" in header[0]
    assert page.index("Klient 02 AS") < page.index("Klient 00 AS")
    assert page.count('class="sortable"') == 3  # name, organisation number, customer number


def test_the_client_list_pages_with_the_one_pager_keeping_the_search(world, as_user) -> None:
    _clients(world, 60)
    page = as_user(world.admin).get(reverse("client_list"), {"q": "Klient"}).content.decode()
    assert 'class="pager"' in page and "Page 1 of 2" in page
    assert 'href="?q=Klient&amp;page=2"' in page


def test_an_empty_list_says_whether_nothing_is_there_or_nothing_matches(world, as_user) -> None:
    client = as_user(world.admin)
    empty = client.get(reverse("client_list")).content.decode()
    assert "empty-none" in empty and "No clients yet." in empty and "Import clients" in empty
    _clients(world, 1)
    nothing = client.get(reverse("client_list"), {"q": "zzz"}).content.decode()
    assert "empty-filtered" in nothing and "Clear filters" in nothing


def test_a_connected_card_and_overview_show_the_live_state(
    world, as_user, saved_connection
) -> None:
    saved_connection(expires_on=timezone.localdate() + timedelta(days=40))
    with world.scope_a():
        client = Client.objects.create(company=world.firm_a, name="Lenket AS")
        ExternalLink.objects.create(
            company=world.firm_a, client=client, vendor="tripletex", remote_id="1"
        )
        job, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
        services.finish_job(job, counts={})
    admin = as_user(world.admin)
    apps = admin.get(reverse("integrations")).content.decode()
    card = apps.split('data-vendor="tripletex"')[1].split("data-vendor=")[0]
    assert 'data-fact="linked_clients"' in card and ">1</a>" in card
    assert 'data-fact="last_sync"' in card and "Succeeded" in card
    assert 'data-fact="token_expiry"' in card and "(in 40 days)" in card
    assert 'data-fact="next_import"' in card  # Tripletex counts statistics: the next import
    overview = admin.get(reverse("integration_detail", args=["tripletex"])).content.decode()
    assert 'id="live-state-heading"' in overview and 'data-fact="linked_clients"' in overview
    merit = apps.split('data-vendor="merit"')[1].split("data-vendor=")[0]
    assert "data-fact=" not in merit and "Not enabled" in merit


def test_after_connecting_the_connect_tab_names_the_next_step(
    world, as_user, saved_connection
) -> None:
    saved_connection()
    page = (
        as_user(world.admin)
        .get(reverse("integration_detail", args=["tripletex"]), {"tab": "connect"})
        .content.decode()
    )
    step = page.split('id="next-step"')[1].split("</div>")[0]
    assert "Next step:" in step and 'href="/settings/apps/tripletex/?tab=import"' in step


def test_no_template_or_script_asks_with_the_browsers_confirm() -> None:
    """Every confirmation goes through the shared <dialog> (static/js/uku.js), which is
    accessible and traps focus; the native confirm() is neither."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2]
    native = re.compile(r"(?<![\w.-])confirm\s*\(|hx-confirm|onclick=")
    found = [
        str(path.relative_to(root))
        for folder in ("templates", "static/js")
        for path in (root / folder).rglob("*")
        if path.suffix in {".html", ".js"}
        and ".min." not in path.name
        and native.search(re.sub(r"//.*", "", path.read_text()))
    ]
    assert found == []


def test_every_bulk_action_bar_is_the_shared_one_and_its_actions_ask_first() -> None:
    """A form over many rows (checkboxes) shows the shared bar with a count, and each of its
    submitting actions opens the confirmation dialog (data-confirm / data-confirm-modal)."""
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    bars = {
        "billing/invoice_list.html": "billing/_invoice_bulk_actions.html",
        "clients/suggestions.html": "clients/_suggestion_actions.html",
        "clients/_import_panel.html": "clients/_import_actions.html",
    }
    for page, actions in bars.items():
        assert '"includes/bulk_bar.html" with name=' in (root / page).read_text(), page
        for line in (root / actions).read_text().splitlines():
            if 'type="submit"' in line and "formaction" not in line:
                assert "data-confirm" in line, (actions, line)
    draft_many = (root / "billing/invoice_bulk.html").read_text()
    assert "data-confirm=" in draft_many


def test_the_import_tab_counts_its_selection_in_the_shared_bar(world, as_user) -> None:
    from django.template.loader import render_to_string

    html = render_to_string(
        "includes/bulk_bar.html",
        {
            "name": "remote_id",
            "actions": "includes/empty.html",
            "count_id": "import-selected-top",
            "selected_count": 3,
            "live": True,
        },
    )
    assert 'data-bulk-bar="remote_id"' in html and 'id="import-selected-top"' in html
    assert "3 selected" in html and 'role="status"' in html
    assert "data-check-all" not in html  # the server keeps this selection, across pages
