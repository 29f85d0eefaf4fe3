"""Pages carry a Content-Security-Policy that allows only our own origin."""

from __future__ import annotations

import pytest
from django.urls import reverse


def _csp(response) -> dict[str, list[str]]:
    directives = {}
    for part in response["Content-Security-Policy"].split(";"):
        name, *sources = part.split()
        directives[name] = sources
    return directives


@pytest.mark.parametrize("path", [reverse("login"), "/api/docs/", "/no-such-page/"])
def test_pages_restrict_base_forms_and_framing_to_our_origin(db, client, path) -> None:
    csp = _csp(client.get(path))
    # A <base> injected by markup would redirect every relative URL, scripts included.
    assert csp["base-uri"] == ["'self'"]
    assert csp["form-action"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"]
    assert csp["script-src"] == ["'self'"]
