"""URL introspection shared by the route matrices (tenant isolation, roles x plans).

`url_patterns()` lists every named pattern with its view; `view_methods(view)` says which HTTP
methods it answers; `static_checks(view)` says which role or plan checks guard it before the view
body runs (`uku.tenancy.requires_role` / `requires_plan`, DRF `HasRole` / `HasPlan`).
"""

from __future__ import annotations

from typing import Any

from django.urls import URLPattern, URLResolver, get_resolver

WRITING_METHODS = ("post", "put", "patch", "delete")
ALL_METHODS = ("get", *WRITING_METHODS)


def url_patterns(
    resolver: URLResolver | None = None, prefix: str = ""
) -> list[tuple[str, URLPattern]]:
    """(namespaced name, pattern) of every URL pattern, in resolution order."""
    found = []
    for entry in (resolver or get_resolver()).url_patterns:
        if isinstance(entry, URLResolver):
            namespace = f"{entry.namespace}:" if entry.namespace else ""
            found += url_patterns(entry, prefix + namespace)
        else:
            found.append((prefix + (entry.name or ""), entry))
    return found


def _decorated(callback: Any) -> list[Any]:
    """The view and every function it wraps (functools.wraps sets `__wrapped__`)."""
    chain = []
    function = callback
    while function is not None:
        chain.append(function)
        function = getattr(function, "__wrapped__", None)
    return chain


def _cells(function: Any) -> dict[str, Any]:
    code = function.__code__
    return {
        name: cell.cell_contents
        for name, cell in zip(code.co_freevars, function.__closure__ or (), strict=True)
    }


def view_methods(callback: Any) -> set[str]:
    """The HTTP methods a view answers: a viewset's action map or an APIView's handlers (narrowed
    by `http_method_names`), or the list given to Django's `require_http_methods`. A function
    view with no such list answers every method."""
    view_class = getattr(callback, "cls", None) or getattr(callback, "view_class", None)
    if view_class is not None:
        allowed = set(view_class.http_method_names) & set(ALL_METHODS)
        actions = getattr(callback, "actions", None)
        if actions:
            return set(actions) & allowed
        return {m for m in allowed if hasattr(view_class, m)}
    for function in _decorated(callback):
        code = getattr(function, "__code__", None)
        if code is not None and "request_method_list" in code.co_freevars:
            listed = _cells(function)["request_method_list"]
            return {m.lower() for m in listed} & set(ALL_METHODS)
    return set(ALL_METHODS)


def static_checks(callback: Any) -> list[str]:
    """The role and plan checks that guard a view before its body runs, e.g.
    ``["role:owner,admin"]`` or ``["HasRole_owner_admin"]``; empty for a view that lets every
    member in (its service may still refuse: those actions are in the matrix by hand)."""
    found = []
    for function in _decorated(callback):
        qualname = getattr(getattr(function, "__code__", None), "co_qualname", "")
        if qualname.startswith("requires_role."):
            found.append("role:" + ",".join(str(r) for r in _cells(function)["roles"]))
        elif qualname.startswith("requires_plan."):
            found.append("plan:" + str(_cells(function)["minimum"]))
    view_class = getattr(callback, "cls", None)
    if view_class is not None:
        classes = getattr(callback, "initkwargs", {}).get(
            "permission_classes", view_class.permission_classes
        )
        found += [
            cls.__name__ for cls in classes if cls.__name__.startswith(("HasRole", "HasPlan"))
        ]
        if "get_permissions" in view_class.__dict__:
            found.append("get_permissions")
    return found


def methods_to_prove(callback: Any) -> set[str]:
    """`view_methods`, except that a function view answering any method needs only GET and POST
    proven: Django's test client sends PUT, PATCH and DELETE to it the same way as POST, and no
    such view reads a body for them."""
    methods = view_methods(callback)
    if methods == set(ALL_METHODS) and not hasattr(callback, "cls"):
        return {"get", "post"}
    return methods
