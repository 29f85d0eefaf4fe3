"""Tenancy: scoped queries, the current firm, switching firms."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django_scopes import scope
from django_scopes.exceptions import ScopeError

from tests.factories import MembershipFactory
from uku.models import Membership, Role
from uku.tenancy import SESSION_KEY


def test_it_raises_on_a_tenant_query_outside_a_scope(world) -> None:
    with pytest.raises(ScopeError):
        list(Membership.objects.all())


def test_it_scopes_queries_to_the_active_firm(world) -> None:
    with scope(company=world.firm_a):
        emails = set(Membership.objects.values_list("user__email", flat=True))
    assert emails == {"owner@fjord.no", "admin@fjord.no", "member@fjord.no", "billing@fjord.no"}


def test_it_shows_the_current_firm_and_switches_between_firms(world, as_user) -> None:
    MembershipFactory(company=world.firm_b, user=world.accountant, role=Role.ADMIN)
    client = as_user(world.accountant)
    page = client.get(reverse("home")).content.decode()
    assert "Bergen Byrå AS" in page  # first by name, and in the switcher
    response = client.post(
        reverse("switch_company"), {"company": str(world.firm_a.public_id), "next": "/members/"}
    )
    assert response.status_code == 302 and response["Location"] == "/members/"
    assert client.session[SESSION_KEY] == str(world.firm_a.public_id)
    members = client.get(reverse("members")).content.decode()
    assert "owner@fjord.no" in members and "owner@bergen.no" not in members


def test_it_answers_404_when_switching_to_someone_elses_firm(world, as_user) -> None:
    client = as_user(world.accountant)
    response = client.post(reverse("switch_company"), {"company": str(world.firm_b.public_id)})
    assert response.status_code == 404
    assert client.session.get(SESSION_KEY) is None


def test_it_refuses_an_open_redirect_after_switching(world, as_user) -> None:
    client = as_user(world.owner)
    response = client.post(
        reverse("switch_company"),
        {"company": str(world.firm_a.public_id), "next": "https://evil.example/"},
    )
    assert response["Location"] == reverse("home")


def test_it_sends_a_user_without_a_firm_to_the_no_firm_page(world, as_user) -> None:
    client = as_user(world.nobody)
    assert client.get(reverse("members"))["Location"] == reverse("no_company")
    assert "not in a firm yet" in client.get(reverse("no_company")).content.decode()


def test_it_sends_anonymous_visitors_to_login(db, client) -> None:
    response = client.get(reverse("members"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_it_renders_templates_inside_the_firms_scope(world, as_user) -> None:
    # The home page counts members lazily in the template: that query needs the scope.
    page = as_user(world.owner).get(reverse("home"))
    assert page.status_code == 200
    assert page.context["board"].member_count == 4
