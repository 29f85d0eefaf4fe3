"""Roles x plans over every action, generated from the one table in tests/reliability/roles_plans.py.

Each action is requested by Owner, Admin, Member and Billing of firm A on Free, Team and Elite
(with Tripletex connected), each case inside a savepoint rolled back afterwards so that one
case's writes never decide the next. A deny is a 403 (the API's `permission_denied` or
`plan_required`, the plan page in the UI); an allow is anything else but a 404 or a server error.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.db import transaction
from django.urls import reverse

from integrations.base import iter_vendors
from tests.isolation import ROUTES
from tests.reliability.report import count
from tests.reliability.roles_plans import ACTIONS, NOT_IN_MATRIX, VENDOR, Action
from tests.routing import methods_to_prove, static_checks, url_patterns
from uku.models import Plan, Role

CASES = [
    (role, plan)
    for role in (Role.OWNER, Role.ADMIN, Role.MEMBER, Role.BILLING)
    for plan in Plan.values
]
ROLE_USER = {
    Role.OWNER: "owner",
    Role.ADMIN: "admin",
    Role.MEMBER: "accountant",
    Role.BILLING: "billing",
}


def _registered(action: Action) -> Any:
    for route in ROUTES:
        if (route.url_name, route.method, route.api) == (
            action.url_name,
            action.method,
            action.api,
        ):
            return route
    return None


def _request(action: Action, world: Any, client: Any) -> Any:
    route = _registered(action)
    build = action.kwargs or (route.kwargs if route else None)
    assert build is not None, (
        f"{action.id}: give kwargs= or register the route in tests/isolation.py"
    )
    url = reverse(action.url_name, kwargs=build(world))
    data = (action.data or (route.data if route else None) or (lambda w: {}))(world)
    if action.api:
        return getattr(client, action.method)(url, data, format="json")
    return getattr(client, action.method)(url, data)


@pytest.mark.parametrize("action", ACTIONS, ids=lambda a: ("api " if a.api else "") + a.id)
def test_the_role_and_plan_decide_as_the_table_says(
    action: Action, world, saved_connection, as_user, api_as, django_user_model
) -> None:
    saved_connection()
    wrong = []
    for role, plan in CASES:
        user = getattr(world, ROLE_USER[role])
        with transaction.atomic():
            world.firm_a.plan = plan
            world.firm_a.save(update_fields=["plan"])
            client = api_as(user) if action.api else as_user(user)
            response = _request(action, world, client)
            transaction.set_rollback(True)
        allowed = action.allows(role, plan)
        status = response.status_code
        if allowed and (status in (403, 404) or status >= 500):
            wrong.append(f"{role}/{plan}: {status}, expected allowed")
        elif not allowed and status != 403:
            wrong.append(f"{role}/{plan}: {status}, expected 403")
        else:
            count("role_plan_cases")
    assert not wrong, f"{action.id}: " + "; ".join(wrong)


def _matrix_name(name: str) -> str:
    """A vendor route's name with the matrix's vendor: every vendor's routes share the views."""
    keys = "|".join(re.escape(v.key) for v in iter_vendors())
    return re.sub(rf"^api-({keys})-", f"api-{VENDOR}-", name)


def test_every_guarded_route_is_in_the_matrix() -> None:
    in_table = {(a.url_name, a.method) for a in ACTIONS}
    missing = []
    for name, pattern in url_patterns():
        if name.startswith("admin:") or not static_checks(pattern.callback):
            continue
        for method in sorted(methods_to_prove(pattern.callback)):
            if method == "get" and name in NOT_IN_MATRIX:
                continue
            if (
                _matrix_name(name),
                method,
            ) not in in_table and f"{method} {name}" not in NOT_IN_MATRIX:
                missing.append(f"{method.upper()} {name}")
    assert not missing, "Add these to tests/reliability/roles_plans.py: " + "; ".join(missing)


def test_a_firm_below_the_vendors_plan_can_still_remove_its_credentials(
    world, saved_connection, as_user
) -> None:
    """A downgraded firm must be able to withdraw uku's key into its books (it was refused)."""
    from django_scopes import scopes_disabled

    from integrations.models import IntegrationCredential

    saved_connection()
    world.firm_a.plan = Plan.FREE
    world.firm_a.save(update_fields=["plan"])
    response = as_user(world.owner).post(reverse("integration_disconnect", args=["tripletex"]))
    assert response.status_code == 302
    with scopes_disabled():
        assert not IntegrationCredential.objects.filter(company=world.firm_a).exists()
