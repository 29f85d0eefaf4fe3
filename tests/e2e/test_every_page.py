"""Every main page in Chromium at a 1366 px desktop and a 390 px phone, in English and
Norwegian (issue 16): no page is wider than its viewport, the console shows no
Content-Security-Policy violation (htmx swaps and the API docs included), and the pages walk
a client, the import, the month of summary tasks, an invoice and History. Screenshots of each
land in test-artifacts/screenshots/every-page/<language>-<width>/."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.test import Client as DjangoClient
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import Page, expect

from tests.browser import SCREENSHOTS

VIEWPORTS = {"desktop": (1366, 900), "phone": (390, 844)}
CSP_MARKERS = ("Content Security Policy", "Content-Security-Policy", "Refused to")


@pytest.fixture
def firm(world, saved_connection) -> dict[str, Any]:
    """Firm A with something on every page: clients (one linked, one with a long name), an
    import preview with rows, a month of summary tasks, a draft and an issued invoice, finished
    and failed jobs with API calls, notifications."""
    from billing import invoices
    from billing.invoices import LineInput
    from clients.models import Client, CustomerImportRow, ExternalLink
    from integrations import jobs, services
    from integrations.base import TransientError
    from integrations.http import FAILURE_TEXTS
    from integrations.models import SyncJobCall
    from summarytasks import schedule
    from summarytasks.models import CustomTaskField, SummaryTask, SummaryTaskValue
    from uku.i18n import every_language

    saved_connection(expires_on=timezone.localdate() + timedelta(days=10))
    with world.scope_a():
        clients = [
            Client.objects.create(
                company=world.firm_a,
                name=name,
                organisation_number=number,
                email=email,
                customer_number=str(i + 1000),
            )
            for i, (name, number, email) in enumerate(
                [
                    (
                        "Ærlig Økonomi og Rådgivning Aksjeselskap Avdeling Vestlandet",
                        "923609016",
                        "post@aerlig-okonomi-og-radgivning.no",
                    ),
                    ("Bølgen Bygg AS", "", "faktura@bolgen.no"),
                    ("Åsen Gård", "", ""),
                ]
            )
        ]
        ExternalLink.objects.create(
            company=world.firm_a,
            client=clients[0],
            vendor="tripletex",
            remote_id="17",
            remote_name=clients[0].name,
            remote_number="17",
        )
        preview, _ = services.start_job(
            company=world.firm_a,
            actor=world.admin,
            vendor="tripletex",
            kind="customer_import_preview",
        )
        for n, (name, classification) in enumerate(
            [
                ("Fjellvann Regnskapstjenester og Rådgivning AS", "new"),
                ("Bølgen Bygg AS", "existing"),
            ]
        ):
            CustomerImportRow.objects.create(
                company=world.firm_a,
                job=preview,
                vendor="tripletex",
                remote_id=str(100 + n),
                name=name,
                data={"name": name, "email": f"kontakt{n}@eksempel-med-langt-domenenavn.no"},
                classification=classification,
                client=clients[1] if classification == "existing" else None,
                match_rule="email" if classification == "existing" else "",
                changes={"phone": ["", "+47 55 55 55 55"]} if classification == "existing" else {},
            )
        services.finish_job(preview, counts={"total": 2, "new": 1, "existing": 1})
        SyncJobCall.objects.create(
            company=world.firm_a, job=preview, method="GET", path="/customer", status=503
        )
        SyncJobCall.objects.create(
            company=world.firm_a, job=preview, method="GET", path="/customer", status=200
        )
        failed, _ = services.start_job(
            company=world.firm_a, actor=world.admin, vendor="tripletex", kind="product_import"
        )
        # The seam's own timeout text, made in every language as a real failure's is.
        timeout = every_language(lambda: FAILURE_TEXTS["timeout"] % {"vendor": "Tripletex"})
        services.finish_job(failed, error=TransientError(timeout))
        jobs._notify_end(preview)
        jobs._notify_end(failed)

        period = schedule.previous_month(timezone.localdate().replace(day=1))
        field = CustomTaskField.objects.create(company=world.firm_a, name="Bilag (antall)")
        money = CustomTaskField.objects.create(company=world.firm_a, name="Omsetning", type="money")
        for client, status in zip(clients, ("done", "in_progress", "open"), strict=True):
            task = SummaryTask.objects.create(
                company=world.firm_a,
                client=client,
                period=period,
                title=f"{client.name}: {period:%B %Y}",
                status=status,
            )
            SummaryTaskValue.objects.create(
                company=world.firm_a, task=task, field=field, number=Decimal("120")
            )
            SummaryTaskValue.objects.create(
                company=world.firm_a, task=task, field=money, number=Decimal("1200000.50")
            )
        draft = invoices.create_draft(
            company=world.firm_a,
            actor=world.owner,
            client=clients[0],
            lines=[
                LineInput(description="Regnskapsføring, månedlig", unit_price=Decimal("1200")),
                LineInput(description="Årsoppgjør og skattemelding", unit_price=Decimal("8500")),
            ],
        )
    return {
        "client": clients[0],
        "preview": preview,
        "failed": failed,
        "invoice": draft,
        "period": period,
    }


def _pages(firm: dict[str, Any]) -> dict[str, str]:
    client = firm["client"].public_id
    return {
        "01-overview": "/",
        "02-clients": "/clients/",
        "03-client": f"/clients/{client}/",
        "04-client-summary-tasks": f"/clients/{client}/summary-tasks/",
        "05-import": "/settings/apps/tripletex/?tab=import",
        "06-summary-month": f"/summary-tasks/?period={firm['period']:%Y-%m}",
        "07-invoices": "/invoices/",
        "08-invoice": f"/invoices/{firm['invoice'].public_id}/",
        "09-history": "/settings/apps/tripletex/?tab=history",
        "10-job": reverse("integration_job", args=["tripletex", firm["preview"].public_id]),
        "11-notifications": "/notifications/",
        "12-settings-apps": "/settings/apps/",
        "13-integration": "/settings/apps/tripletex/",
        "14-connect": "/settings/apps/tripletex/?tab=connect",
        "15-billing": "/settings/apps/billing/",
        "16-members": "/members/",
        "17-firm-settings": reverse("company_settings"),
        "18-api-docs": "/api/docs/",
    }


# What each language shows on the pages of the walk: the result of a job in words, the status
# vocabulary, the live state of the connection.
EXPECTED = {
    "en": {
        "05-import": ["New", "Existing"],
        "06-summary-month": ["Done", "In progress", "Open"],
        "08-invoice": ["Draft"],
        "09-history": [
            "2 read, 1 new, 1 existing",
            "1 failed call",
            "Failed",
            "Tripletex did not answer in time.",
        ],
        "10-job": ["2 read, 1 new, 1 existing"],
        "11-notifications": ["Unread"],
        "12-settings-apps": ["Last sync", "Linked clients", "Token expires"],
    },
    "nb": {
        "05-import": ["Ny", "Eksisterende"],
        "06-summary-month": ["Ferdig", "Åpen"],
        "08-invoice": ["Utkast"],
        "09-history": [
            "2 lest inn, 1 ny, 1 eksisterende",
            "1 kall feilet",
            "Tripletex svarte ikke i tide.",
        ],
        "10-job": ["2 lest inn, 1 ny, 1 eksisterende"],
        "11-notifications": ["Ulest"],
        "12-settings-apps": ["Siste synkronisering", "Koblede klienter", "Tokenet utløper"],
    },
}


@pytest.fixture
def session_cookie(world, live_server) -> str:
    client = DjangoClient()
    client.force_login(world.admin, backend="uku.auth.EmailBackend")
    return client.cookies["sessionid"].value


@pytest.fixture
def open_context(browser, live_server, session_cookie) -> Iterator[Any]:
    """`open_context(width, height, language)` -> (page, console messages), logged in as the
    admin of firm A."""
    contexts = []

    def make(width: int, height: int, language: str) -> tuple[Page, list[str]]:
        context = browser.new_context(
            base_url=live_server.url,
            locale="nb-NO" if language == "nb" else "en-GB",
            viewport={"width": width, "height": height},
        )
        host = live_server.url.split("//")[1].split(":")[0]
        context.add_cookies(
            [
                {"name": "sessionid", "value": session_cookie, "domain": host, "path": "/"},
                {"name": "django_language", "value": language, "domain": host, "path": "/"},
            ]
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(10_000)
        messages: list[str] = []
        page.on("console", lambda message: messages.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: messages.append(f"pageerror: {error}"))
        return page, messages

    yield make
    for context in contexts:
        context.close()


def _csp_violations(messages: list[str]) -> list[str]:
    return [m for m in messages if any(marker in m for marker in CSP_MARKERS)]


def _page_width(page: Page) -> int:
    return int(page.evaluate("document.scrollingElement.scrollWidth"))


@pytest.mark.parametrize("language", ["en", "nb"])
@pytest.mark.parametrize("size", ["desktop", "phone"])
def test_every_main_page_fits_its_viewport_without_csp_violations(
    open_context, firm, size, language
) -> None:
    width, height = VIEWPORTS[size]
    page, messages = open_context(width, height, language)
    folder = SCREENSHOTS / "every-page" / f"{language}-{width}"
    folder.mkdir(parents=True, exist_ok=True)
    too_wide: dict[str, int] = {}
    violations: dict[str, list[str]] = {}
    for name, url in _pages(firm).items():
        messages.clear()
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        page.wait_for_load_state("networkidle")
        if name == "18-api-docs":  # drf-spectacular's page, in English only
            expect(page.locator(".swagger-ui .opblock").first).to_be_visible()
        else:
            assert page.evaluate("document.documentElement.lang") == language, name
        for text in EXPECTED[language].get(name, []):
            expect(page.locator("main")).to_contain_text(text)
        if _page_width(page) > width:
            too_wide[name] = _page_width(page)
        if _csp_violations(messages):
            violations[name] = _csp_violations(messages)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert too_wide == {}, f"pages wider than {width} px: {too_wide}"
    assert violations == {}


def test_htmx_swaps_cause_no_csp_violation(open_context, firm) -> None:
    """The swaps of the main flows: the bell's dropdown and the import's selection (hx-post)."""
    page, messages = open_context(1366, 900, "en")
    page.goto("/clients/")
    page.wait_for_load_state("networkidle")
    page.locator("#notification-bell").click()
    menu = page.locator("#notification-menu")
    expect(menu).to_be_visible()
    expect(menu).to_contain_text("2 read, 1 new, 1 existing")
    expect(menu.locator('[data-status="unread"]').first).to_be_visible()
    page.keyboard.press("Escape")
    page.goto("/settings/apps/tripletex/?tab=import")
    box = page.locator('input[name="remote_id"]').first
    with page.expect_response(lambda r: "/select" in r.url and r.request.method == "POST"):
        box.check()
    expect(page.locator("[data-bulk-count], .import-selected").first).to_contain_text("1 selected")
    assert _csp_violations(messages) == []


def test_the_confirmation_dialog_traps_focus_and_returns_it(open_context, firm, world) -> None:
    page, _messages = open_context(1366, 900, "en")
    page.goto("/settings/apps/tripletex/")
    disable = page.get_by_role("button", name="Disable")
    disable.click()
    dialog = page.locator("#uku-confirm-dialog")
    expect(dialog).to_be_visible()
    expect(dialog).to_contain_text("Disable the integration?")
    focused = []
    for _ in range(4):
        page.keyboard.press("Tab")
        focused.append(page.evaluate("document.activeElement.closest('dialog') !== null"))
    assert all(focused)  # Tab never leaves the dialog
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()
    assert page.evaluate("document.activeElement.textContent.trim()") == "Disable"
    with world.scope_a():
        from integrations.models import IntegrationConnection

        assert IntegrationConnection.objects.get(vendor="tripletex").enabled  # cancelled


def test_captions_stand_above_their_tables_and_sorted_headers_say_so(open_context, firm) -> None:
    page, _messages = open_context(1366, 900, "en")
    page.goto("/clients/?sort=-name")
    caption = page.locator("#client-table caption")
    assert caption.evaluate("c => getComputedStyle(c).captionSide") == "top"
    header = page.locator('#client-table th[aria-sort="descending"]')
    expect(header).to_contain_text("Name")
    header.get_by_role("link").click()
    expect(page.locator('#client-table th[aria-sort="ascending"]')).to_contain_text("Name")


def test_the_import_table_puts_its_decisions_first_on_a_phone(open_context, firm) -> None:
    page, _messages = open_context(390, 844, "en")
    page.goto("/settings/apps/tripletex/?tab=import")
    headers = page.locator("#import-confirm-form table thead th").all_inner_texts()
    assert [h.strip() for h in headers[:3]] == ["Select", "Status", "Customer"]
    status_cell = page.locator("#import-confirm-form table tbody tr").first.locator("td").nth(1)
    box = status_cell.bounding_box()
    assert box is not None and box["x"] + box["width"] <= 390  # visible without scrolling


def _list_pages(firm: dict[str, Any]) -> dict[str, str]:
    """Every page with a table, beside the walk's: the lists of the settings and the logs."""
    client = firm["client"].public_id
    return {
        **{name: url for name, url in _pages(firm).items() if name != "18-api-docs"},
        "19-suggestions": reverse("link_suggestions", args=["tripletex"]),
        "20-catalogue": "/settings/apps/billing/?tab=products",
        "21-api-tokens": reverse("api_tokens"),
        "22-audit-log": reverse("audit_log"),
        "23-client-tasks": f"/clients/{client}/summary-tasks/",
        "24-mapping": "/settings/apps/tripletex/?tab=settings",
    }


# A table wider than its scrolling box: on a phone a person must scroll it sideways to see
# what the row says. Every table must fit (deciding columns first, or rows as cards).
TABLES_SCROLLING_SIDEWAYS = """() => Array.from(document.querySelectorAll("main table"))
  .filter((t) => t.offsetParent !== null)
  .map((t) => {
    const box = t.closest(".table-responsive") || t.parentElement;
    const right = t.getBoundingClientRect().right;
    return {id: t.id || (t.querySelector("caption") || {}).textContent || t.className,
            over: Math.max(box.scrollWidth - box.clientWidth, Math.ceil(right - innerWidth))};
  })
  .filter((t) => t.over > 1)"""


@pytest.mark.parametrize("language", ["en", "nb"])
def test_no_table_scrolls_sideways_on_a_phone(open_context, firm, language) -> None:
    page, _messages = open_context(390, 844, language)
    folder = SCREENSHOTS / "tables-390" / language
    folder.mkdir(parents=True, exist_ok=True)
    scrolling: dict[str, Any] = {}
    for name, url in _list_pages(firm).items():
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        page.wait_for_load_state("networkidle")
        found = page.evaluate(TABLES_SCROLLING_SIDEWAYS)
        if found:
            scrolling[name] = found
        assert _page_width(page) <= 390, (name, _page_width(page))
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
    assert scrolling == {}


# Issue 16's "Done when": at 1366 px and 390 px, in English and Norwegian, the dashboard, a
# client, the import, the month of summary tasks, an invoice and History show dates, times,
# money and organisation numbers the language's way (nb: dd.mm.åååå, 24-hour, "kr 1 200,00";
# en: day first, 24-hour, "NOK 1,200.00"), no page is wider than its viewport and the console
# shows no CSP violation. Screenshots: var/shots/done-when/ in the repository (not committed)
# and, when UKU_NOTES_SHOTS names a folder, there too.
REPO = Path(__file__).resolve().parents[2]
SHOT_DIRS = [REPO / "var" / "shots" / "done-when"] + (
    [Path(os.environ["UKU_NOTES_SHOTS"])] if os.environ.get("UKU_NOTES_SHOTS") else []
)

FORMATS: dict[str, dict[str, Any]] = {
    "en": {
        "date": "%d/%m/%Y",
        "date_re": r"\b\d{2}/\d{2}/\d{4}\b",
        "money": lambda whole, cents: f"NOK {whole:,}.{cents:02d}",
        "orgnr": "923 609 016",
    },
    "nb": {
        "date": "%d.%m.%Y",
        "date_re": r"\b\d{2}\.\d{2}\.\d{4}\b",
        "money": lambda whole, cents: "kr " + f"{whole:,}".replace(",", " ") + f",{cents:02d}",
        "orgnr": "923 609 016",
    },
}
TWELVE_HOUR = re.compile(r"\b\d{1,2}(:\d{2})?\s*(a\.m\.|p\.m\.|am|pm|AM|PM)(?!\w)")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")
TIME_24 = re.compile(r"\b([01]\d|2[0-3]):[0-5]\d\b")


def _walk(firm: dict[str, Any]) -> dict[str, str]:
    return {
        "1-dashboard": "/",
        "2-client": f"/clients/{firm['client'].public_id}/",
        "3-import": "/settings/apps/tripletex/?tab=import",
        "4-summary-month": f"/summary-tasks/?period={firm['period']:%Y-%m}",
        "5-invoice": f"/invoices/{firm['invoice'].public_id}/",
        "6-history": "/settings/apps/tripletex/?tab=history",
    }


def _expected(firm: dict[str, Any], language: str) -> dict[str, list[str]]:
    f = FORMATS[language]
    money = f["money"]
    today = timezone.localdate()
    invoice = firm["invoice"]
    started = timezone.localtime(firm["preview"].created_at)
    return {
        "1-dashboard": [f["orgnr"], (today + timedelta(days=10)).strftime(f["date"])],
        "2-client": [f["orgnr"]],
        "4-summary-month": [money(1_200_000, 50), money(3_600_001, 50)],
        "5-invoice": [
            money(1200, 0),
            money(9700, 0),
            invoice.issue_date.strftime(f["date"]),
            invoice.due_date.strftime(f["date"]),
        ],
        "6-history": [started.strftime(f"{f['date']} %H:%M")],
    }


@pytest.mark.parametrize("language", ["en", "nb"])
@pytest.mark.parametrize("width", [1366, 390])
def test_the_done_when_walk(open_context, firm, world, width, language) -> None:
    with world.scope_a():
        world.firm_a.country = "NO"
        world.firm_a.organisation_number = "923609016"
        world.firm_a.save()
    page, messages = open_context(width, 900 if width > 500 else 844, language)
    expected = _expected(firm, language)
    problems: dict[str, list[str]] = {}
    for name, url in _walk(firm).items():
        messages.clear()
        response = page.goto(url)
        assert response is not None and response.status == 200, (name, url)
        page.wait_for_load_state("networkidle")
        # What a person reads: the text, and the values in the form fields.
        values = page.eval_on_selector_all(
            "main input:not([type=hidden]):not([type=checkbox])", "els => els.map(e => e.value)"
        )
        text = " ".join([page.locator("main").inner_text(), *values])
        text = text.replace("\xa0", " ").replace("\u202f", " ")
        found: list[str] = []
        for wanted in expected.get(name, []):
            if wanted not in text:
                found.append(f"missing {wanted!r}")
        found += [f"12-hour time {m.group(0)!r}" for m in TWELVE_HOUR.finditer(text)]
        found += [f"ISO date {m!r}" for m in ISO_DATE.findall(text)]
        other = FORMATS["nb" if language == "en" else "en"]["date_re"]
        found += [f"the other language's date {m!r}" for m in re.findall(other, text)]
        if name == "6-history" and not TIME_24.search(text):
            found.append("no 24-hour time")
        if _page_width(page) > width:
            found.append(f"{_page_width(page)} px wide in a {width} px viewport")
        found += _csp_violations(messages)
        for folder in SHOT_DIRS:
            folder.mkdir(parents=True, exist_ok=True)
            page.screenshot(path=str(folder / f"{language}-{width}-{name}.png"), full_page=True)
        if found:
            problems[name] = found
    assert problems == {}
