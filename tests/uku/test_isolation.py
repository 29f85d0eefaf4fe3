"""Another firm's objects are 404, in the UI and in the API, for every registered route."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.isolation import EXEMPT, ROUTES, Route, firm_a_unchanged


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


def _patterns(resolver: URLResolver, prefix: str = "") -> list[tuple[str, URLPattern]]:
    found = []
    for entry in resolver.url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            found += _patterns(entry, prefix + namespace)
        else:
            found.append((prefix + (entry.name or ""), entry))
    return found


def test_it_registers_every_route_that_takes_an_id() -> None:
    registered = {route.url_name for route in ROUTES}
    missing = []
    for name, pattern in _patterns(get_resolver()):
        if not pattern.pattern.converters and "(?P<" not in str(pattern.pattern):
            continue
        if name in registered or any(
            name == exempt or (exempt.endswith(":") and name.startswith(exempt))
            for exempt in EXEMPT
        ):
            continue
        missing.append(f"{name or '<unnamed>'}: {pattern.pattern}")
    assert not missing, "Register these routes in tests/isolation.py: " + "; ".join(missing)


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
