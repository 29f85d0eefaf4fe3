"""Another firm's objects are 404, in the UI and in the API, for every registered route."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.isolation import EXEMPT, ROUTES, Route, firm_a_unchanged
from tests.reliability.report import count
from tests.routing import methods_to_prove, url_patterns


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_it_answers_404_for_another_firms_object(route: Route, world, as_user, api_as) -> None:
    url = reverse(route.url_name, kwargs=route.kwargs(world))
    data = route.data(world)
    if route.api:
        client = api_as(world.outsider)
        response = getattr(client, route.method)(url, data, format="json")
    else:
        client = as_user(world.outsider)
        response = getattr(client, route.method)(url, data)
    assert response.status_code == 404, (route.id, response.status_code)
    assert firm_a_unchanged(world)
    count("isolation_routes")


def test_it_registers_every_route_that_takes_an_id() -> None:
    registered = {route.url_name for route in ROUTES}
    missing = []
    for name, pattern in url_patterns():
        if not pattern.pattern.converters and "(?P<" not in str(pattern.pattern):
            continue
        if name in registered or any(
            name == exempt or (exempt.endswith(":") and name.startswith(exempt))
            for exempt in EXEMPT
        ):
            continue
        missing.append(f"{name or '<unnamed>'}: {pattern.pattern}")
    count("isolation_routes_unregistered", len(missing))
    assert not missing, "Register these routes in tests/isolation.py: " + "; ".join(missing)


def test_it_registers_every_method_of_every_registered_route() -> None:
    """GET and every writing method a registered route answers is requested by the 404 test; a
    view answering any method (no `require_http_methods`) needs only GET and POST proven, since
    Django's test client sends the others the same way and those views read no body for them."""
    registered: dict[str, set[str]] = {}
    for route in ROUTES:
        registered.setdefault(route.url_name, set()).add(route.method)
    missing = []
    for name, pattern in url_patterns():
        if name not in registered:
            continue
        methods = methods_to_prove(pattern.callback)
        missing += [f"{method.upper()} {name}" for method in sorted(methods - registered[name])]
    count("isolation_routes_unregistered", len(missing))
    assert not missing, "Register these methods in tests/isolation.py: " + "; ".join(missing)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.id)
def test_the_same_route_works_for_the_firms_own_owner(route: Route, world, as_user, api_as) -> None:
    """The control for the 404 test above: the ids are real, so the 404s are not accidents."""
    url = reverse(route.url_name, kwargs=route.kwargs(world))
    data = route.data(world)
    if route.api:
        response = getattr(api_as(world.owner), route.method)(url, data, format="json")
    else:
        response = getattr(as_user(world.owner), route.method)(url, data)
    # Found and allowed: anything but 403/404/5xx (a 400 for an empty selection is fine here).
    assert response.status_code not in (403, 404) and response.status_code < 500, (
        route.id,
        response.status_code,
    )
