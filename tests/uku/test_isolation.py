"""Another firm's objects are 404, in the UI and in the API, for every registered route."""

from __future__ import annotations

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.isolation import EXEMPT, ROUTES, Route, firm_a_unchanged
from tests.reliability.report import count

WRITING_METHODS = ("post", "put", "patch", "delete")


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
    count("isolation_routes_unregistered", len(missing))
    assert not missing, "Register these routes in tests/isolation.py: " + "; ".join(missing)


def _methods(callback: object) -> set[str]:
    """The HTTP methods a view answers: a viewset's action map, an APIView's handlers, or the
    list given to Django's `require_http_methods` (found through the decorators' `__wrapped__`).
    A function view with no such list answers every method: GET and every writing method."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        # `http_method_names` narrows what the class answers (405 for the rest).
        allowed = set(view_class.http_method_names) & {"get", *WRITING_METHODS}
        actions = getattr(callback, "actions", None)
        if actions:
            return set(actions) & allowed
        return {m for m in allowed if hasattr(view_class, m)}
    function = callback
    while function is not None:
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            cells = dict(zip(code.co_freevars, function.__closure__ or (), strict=True))
            listed = cells["request_method_list"].cell_contents
            return {m.lower() for m in listed} - {"head", "options"}
        function = getattr(function, "__wrapped__", None)
    return {"get", *WRITING_METHODS}


def test_it_registers_every_method_of_every_registered_route() -> None:
    """GET and every writing method a registered route answers is requested by the 404 test; a
    view answering any method (no `require_http_methods`) needs only GET and POST proven, since
    Django's test client sends the others the same way and those views read no body for them."""
    registered: dict[str, set[str]] = {}
    for route in ROUTES:
        registered.setdefault(route.url_name, set()).add(route.method)
    missing = []
    for name, pattern in _patterns(get_resolver()):
        if name not in registered:
            continue
        methods = _methods(pattern.callback)
        if methods == {"get", *WRITING_METHODS} and not hasattr(pattern.callback, "cls"):
            methods = {"get", "post"}
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
