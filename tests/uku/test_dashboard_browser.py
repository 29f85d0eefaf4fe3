"""The dashboard in Chromium at 1366 px and 390 px, in English and Norwegian: the formats of
dates, money and organisation numbers, and no page wider than its viewport (screenshots in
test-artifacts/screenshots/)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.conf import settings
from django.utils import timezone
from django_scopes import scopes_disabled

from tests.factories import PASSWORD
from tests.uku.test_dashboard import fill

pytestmark = [pytest.mark.browser, pytest.mark.xdist_group("browser")]


@pytest.mark.parametrize("width", [1366, 390])
@pytest.mark.parametrize(
    ("language", "money", "date_format", "heading"),
    [
        ("en", "NOK 2,400.00 outstanding", "%d/%m/%Y", "Recent activity"),
        ("nb", "kr 2 400,00 utestående", "%d.%m.%Y", "Siste aktivitet"),
    ],
    ids=["en", "nb"],
)
def test_the_dashboard_in_each_language_and_width(
    page, screenshot, live_server, world, width, language, money, date_format, heading
) -> None:
    fill(world, 2)
    with scopes_disabled():
        world.firm_a.organisation_number = "923609016"
        world.firm_a.save()
    page.set_viewport_size({"width": width, "height": 900})
    # The language the nav's switcher would set (its cookie).
    page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}]
    )
    page.goto("/accounts/login/")
    page.locator("input[type=email], input[name=username]").first.fill("owner@fjord.no")
    page.locator("input[type=password]").first.fill(PASSWORD)
    page.locator("main form button[type=submit]").first.click()
    page.wait_for_url("**/")
    page.goto("/")
    page.get_by_role("heading", name=heading).wait_for()

    def text(selector: str) -> str:
        return page.locator(selector).inner_text().replace("\xa0", " ")

    assert money in text("#card-invoices")
    assert "923 609 016" in text("#firm-facts")
    expiry = (timezone.localdate() + timedelta(days=5)).strftime(date_format)
    assert expiry in text("#attention")
    assert "p.m." not in text("main") and "a.m." not in text("main")
    # Recent activity: day-first dates and 24-hour times.
    when = page.locator("#activity time").first.inner_text()
    assert when.startswith(timezone.localtime().strftime(date_format))
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"the page is {scroll_width} px wide in a {width} px viewport"
    screenshot(f"{language}-{width}")
