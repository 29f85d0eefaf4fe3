"""Roles and plans are enforced in the UI and the API."""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

import pytest
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.test import RequestFactory
from django.urls import reverse
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory
from rest_framework.views import APIView

from uku.api.permissions import HasPlan, PlanRequiredError
from uku.models import Plan, Role
from uku.tenancy import PlanRequired, requires_plan, requires_role

if TYPE_CHECKING:
    from uku.http import TenantRequest


@pytest.mark.parametrize(
    ("who", "status"), [("owner", 200), ("admin", 200), ("accountant", 403), ("billing", 403)]
)
def test_it_lets_only_owners_and_admins_into_firm_settings(world, as_user, who, status) -> None:
    assert as_user(getattr(world, who)).get(reverse("company_settings")).status_code == status


def test_it_forbids_members_to_invite(world, as_user) -> None:
    response = as_user(world.accountant).post(
        reverse("members"), {"email": "x@y.no", "role": "member"}
    )
    assert response.status_code == 403


def test_it_forbids_admins_to_make_owners(world, as_user) -> None:
    url = reverse("member_edit", args=[world.membership(world.accountant).public_id])
    response = as_user(world.admin).post(url, {"role": Role.OWNER, "external_id": ""})
    assert response.status_code == 200  # the form comes back with the error
    assert "Only an owner" in response.content.decode()
    assert world.membership(world.accountant).role == Role.MEMBER


def test_it_keeps_the_last_owner(world, as_user) -> None:
    url = reverse("member_edit", args=[world.membership(world.owner).public_id])
    response = as_user(world.owner).post(url, {"role": Role.ADMIN, "external_id": ""})
    assert "at least one owner" in response.content.decode()
    assert world.membership(world.owner).role == Role.OWNER


def test_it_lets_a_member_set_their_own_external_id_but_not_their_role(world, as_user) -> None:
    url = reverse("member_edit", args=[world.membership(world.accountant).public_id])
    client = as_user(world.accountant)
    response = client.post(url, {"role": Role.OWNER, "external_id": " 4711 "})
    assert response.status_code == 302
    membership = world.membership(world.accountant)
    assert (membership.role, membership.external_id) == (Role.MEMBER, "4711")
    other = reverse("member_edit", args=[world.membership(world.billing).public_id])
    assert client.get(other).status_code == 403


def test_it_changes_a_role_and_external_id_as_admin(world, as_user) -> None:
    url = reverse("member_edit", args=[world.membership(world.billing).public_id])
    as_user(world.admin).post(url, {"role": Role.MEMBER, "external_id": "12"})
    membership = world.membership(world.billing)
    assert (membership.role, membership.external_id) == (Role.MEMBER, "12")


def _view(request):
    return HttpResponse("ok")


def _request(world, user, plan: str):
    # Set up as CompanyMiddleware would.
    request = cast("TenantRequest", RequestFactory().get("/"))
    request.user = user
    world.firm_a.plan = plan
    request.company = world.firm_a
    request.membership = world.membership(user)
    return request


def test_requires_plan_refuses_a_lower_plan_and_names_the_plan_needed(world) -> None:
    view = requires_plan(Plan.TEAM)(_view)
    assert view(_request(world, world.owner, Plan.ELITE)).status_code == 200
    with pytest.raises(PlanRequired) as raised:
        view(_request(world, world.owner, Plan.FREE))
    assert raised.value.minimum == Plan.TEAM


def test_requires_role_refuses_other_roles(world) -> None:
    view = requires_role(Role.BILLING)(_view)
    assert view(_request(world, world.billing, Plan.TEAM)).status_code == 200
    with pytest.raises(PermissionDenied):
        view(_request(world, world.accountant, Plan.TEAM))


def test_the_api_refuses_role_changes_by_members(world, api_as) -> None:
    url = reverse("member-detail", args=[world.membership(world.billing).public_id])
    response = api_as(world.accountant).patch(url, {"role": "admin"}, format="json")
    assert response.status_code == 403
    assert response.json()["code"] == "permission_denied"


def test_the_api_refuses_to_invite_as_billing(world, api_as) -> None:
    response = api_as(world.billing).post(reverse("api-invitations"), {"email": "a@b.no"})
    assert response.status_code == 403


def test_the_api_plan_check_says_which_plan_is_needed(world) -> None:
    world.firm_a.plan = Plan.FREE
    django_request = cast("TenantRequest", APIRequestFactory().get("/"))
    django_request.company = world.firm_a
    request = Request(django_request)
    request.user = world.owner
    with pytest.raises(PlanRequiredError) as raised:
        HasPlan(Plan.TEAM)().has_permission(request, APIView())
    assert "Team" in str(raised.value.detail) and "Free" in str(raised.value.detail)


def _give_external_id(world, user, external_id: str) -> None:
    membership = world.membership(user)
    membership.external_id = external_id
    with world.scope_a():
        membership.save()


def test_a_member_cannot_take_a_colleagues_external_id(world, as_user) -> None:
    _give_external_id(world, world.admin, "4711")
    url = reverse("member_edit", args=[world.membership(world.accountant).public_id])
    response = as_user(world.accountant).post(url, {"role": Role.MEMBER, "external_id": "4711"})
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "already has External ID 4711" in " ".join(errors["external_id"])
    assert world.membership(world.accountant).external_id == ""


def test_the_api_refuses_a_colleagues_external_id_with_a_field_error(world, api_as) -> None:
    _give_external_id(world, world.admin, "4711")
    url = reverse("member-detail", args=[world.membership(world.accountant).public_id])
    response = api_as(world.accountant).patch(url, {"external_id": " 4711 "}, format="json")
    assert response.status_code == 400
    body = response.json()
    assert body["code"] == "invalid"
    assert "already has External ID 4711" in body["fields"]["external_id"][0]


def test_the_same_external_id_is_fine_in_another_firm_and_blank_for_many(world, as_user) -> None:
    from django_scopes import scope

    _give_external_id(world, world.admin, "4711")
    outsider = world.membership(world.outsider, world.firm_b)
    outsider.external_id = "4711"
    with scope(company=world.firm_b):
        outsider.save()  # no error: another firm's ids are its own
    assert (
        world.membership(world.accountant).external_id
        == world.membership(world.billing).external_id
        == ""
    )


def test_the_database_refuses_a_duplicate_external_id_in_one_firm(world) -> None:
    from django.db import IntegrityError, transaction

    _give_external_id(world, world.admin, "4711")
    with pytest.raises(IntegrityError), transaction.atomic():
        _give_external_id(world, world.accountant, "4711")
