"""The shell in a real browser: log in, switch firm, see the nav."""

from __future__ import annotations

from playwright.sync_api import expect

from tests.factories import PASSWORD, MembershipFactory
from uku.models import Role


def test_it_logs_in_switches_firm_and_shows_the_nav(page, screenshot, world) -> None:
    MembershipFactory(company=world.firm_b, user=world.admin, role=Role.MEMBER)
    page.goto("/")
    expect(page).to_have_url("/accounts/login/?next=/")
    page.get_by_label("E-mail").fill("admin@fjord.no")
    page.get_by_label("Password").fill(PASSWORD)
    screenshot("login")
    page.get_by_role("button", name="Log in").click()

    nav = page.get_by_role("navigation", name="Main")
    firm_button = nav.locator("#firm-switcher")
    expect(firm_button).to_contain_text("Bergen Byrå AS")  # first firm by name
    expect(nav.get_by_role("link", name="Members")).to_be_visible()
    expect(nav.get_by_role("link", name="Firm settings")).to_have_count(0)  # Member there
    screenshot("home-bergen")

    firm_button.click()
    page.get_by_role("button", name="Fjord Regnskap AS").click()
    expect(page.get_by_role("alert")).to_contain_text("Switched to Fjord Regnskap AS")
    expect(firm_button).to_contain_text("Fjord Regnskap AS")
    expect(nav.get_by_role("link", name="Firm settings")).to_be_visible()  # Admin here
    nav.get_by_role("link", name="Members").click()
    expect(page.get_by_role("cell", name="owner@fjord.no", exact=True)).to_be_visible()
    screenshot("members-fjord")
