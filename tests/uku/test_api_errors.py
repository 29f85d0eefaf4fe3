"""Every error the API answers is in the one error shape with a JSON content type."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable

import pytest
from django.core.exceptions import RequestDataTooBig
from django.http import HttpResponse
from django.urls import get_resolver, reverse

from uku.models import Role


@pytest.fixture
def api(world, api_as):
    """The owner's API client, answering a 500 as a response instead of raising it."""
    client = api_as(world.owner)
    client.raise_request_exception = False
    return client


def _error(response, status: int) -> dict:
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    body = json.loads(response.content)
    assert set(body) <= {"code", "detail", "fields"} and body["detail"]
    return body


def test_it_answers_deeply_nested_json_with_400(api) -> None:
    response = api.post(
        reverse("api-invitations"),
        data="[" * 50_000 + "]" * 50_000,
        content_type="application/json",
    )
    assert _error(response, 400)["code"] == "parse_error"


def test_it_explains_the_error_in_the_users_language(api, settings) -> None:
    deep = api.post(
        reverse("api-invitations"),
        data="[" * 50_000 + "]" * 50_000,
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert "nøstet for dypt" in _error(deep, 400)["detail"]
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    big = api.post(
        reverse("api-invitations"),
        data=json.dumps({"email": "x" * 2000}),
        content_type="application/json",
        HTTP_ACCEPT_LANGUAGE="nb",
    )
    assert "for stor" in _error(big, 413)["detail"]


def test_it_answers_malformed_json_with_400(api) -> None:
    response = api.post(
        reverse("api-invitations"), data='{"email": ', content_type="application/json"
    )
    assert _error(response, 400)["code"] == "parse_error"


def test_it_answers_a_body_over_the_upload_limit_with_413(api, settings) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    body = json.dumps({"email": "x" * 2000 + "@fjord.no", "role": Role.BILLING})
    response = api.post(reverse("api-invitations"), data=body, content_type="application/json")
    assert _error(response, 413)["code"] == "request_too_large"


def test_django_answers_a_body_too_large_outside_a_view_with_413(rf) -> None:
    # A middleware reading the body raises before DRF runs; Django then calls handler400.
    # Django calls handler400 with (request, exception); the stubs type it with the request only.
    handler: Callable[..., HttpResponse] = get_resolver().resolve_error_handler(400)
    response = handler(rf.post("/api/v1/invitations/"), RequestDataTooBig("too big"))
    assert _error(response, 413)["code"] == "request_too_large"
    page = handler(rf.post("/accounts/login/"), RequestDataTooBig("too big"))
    assert page.status_code == 400 and page["Content-Type"].startswith("text/html")


def test_it_answers_an_unknown_api_path_with_404(api) -> None:
    assert _error(api.get("/api/v1/no-such-thing/"), 404)["code"] == "not_found"
    assert _error(api.get("/api/nothing-here"), 404)["code"] == "not_found"


def test_it_answers_an_unknown_method_with_405(api) -> None:
    assert _error(api.put(reverse("api-me")), 405)["code"] == "method_not_allowed"


def test_it_answers_an_unhandled_exception_with_500_and_logs_it(api, monkeypatch, caplog) -> None:
    def explode(user):
        raise RuntimeError("the-secret-internals")

    monkeypatch.setattr("uku.api.views.memberships_of", explode)
    with caplog.at_level(logging.ERROR, logger="django.request"):
        response = api.get(reverse("api-me"))
    assert _error(response, 500)["code"] == "server_error"
    assert b"the-secret-internals" not in response.content
    assert b"Traceback" not in response.content
    # The log filter redacts the traceback into exc_text (and drops exc_info) before caplog sees it.
    logged = [r for r in caplog.records if r.name == "django.request" and r.levelname == "ERROR"]
    assert logged and "RuntimeError: the-secret-internals" in (logged[0].exc_text or "")


def test_pages_keep_their_html_404(db, client) -> None:
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"Page not found" in response.content


def test_pages_keep_their_html_500(world, as_user, monkeypatch) -> None:
    def explode(*args, **kwargs):
        raise RuntimeError("the-secret-internals")

    monkeypatch.setattr("uku.views.render", explode)
    client = as_user(world.owner)
    client.raise_request_exception = False
    response = client.get(reverse("home"))
    assert response.status_code == 500
    assert response["Content-Type"].startswith("text/html")
    assert b"the-secret-internals" not in response.content
