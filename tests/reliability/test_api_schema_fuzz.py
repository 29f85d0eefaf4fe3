"""schemathesis over `/api/schema/` (issue 14, section 4): every operation, for a signed-in user
of each role (Owner, Admin, Member, Billing), with valid and invalid input.

The schema is loaded from the app itself (schemathesis' WSGI loader, in this process), so each
request runs inside the test's transaction and sees the seeded firm: firm A with a connected
Tripletex account on a sandbox, and one object behind every API route with an id (built by the
isolation registry, tests/isolation.py). Half the cases aim a path id at that real object, the
others at whatever schemathesis generated. Each case runs in a savepoint rolled back afterwards,
so a DELETE or a role change never decides the next case.

Every answer must be: no server error, a status the operation documents, a body that matches the
documented schema, and every 4xx in the API's one error shape (`uku.api.errors`: `code` and
`detail` strings, optionally `fields` and `remote`, nothing else). Failures are collected over
all operations and reported together. Counted as `fuzz_cases` / `fuzz_server_errors`.

Budget: a few cases per operation and mode in `make test`; `UKU_FUZZ_BUDGET=full` (or
`make reliability`, which sets `UKU_RELIABILITY_PARTS`) runs many more.
"""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections, transaction
from django.urls import reverse
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import (
    response_schema_conformance,
    status_code_conformance,
)

from tests.isolation import ROUTES
from tests.reliability.report import count
from uku import services
from uku.models import Role

ROLE_USER = {
    Role.OWNER: "owner",
    Role.ADMIN: "admin",
    Role.MEMBER: "accountant",
    Role.BILLING: "billing",
}
ERROR_KEYS = {"code", "detail", "fields", "remote"}
CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance]


def budget() -> int:
    """Examples per operation and generation mode (`UKU_FUZZ_EXAMPLES` sets it exactly)."""
    if os.environ.get("UKU_FUZZ_EXAMPLES"):
        return int(os.environ["UKU_FUZZ_EXAMPLES"])
    full = os.environ.get("UKU_FUZZ_BUDGET") == "full" or os.environ.get("UKU_RELIABILITY_PARTS")
    return 10 if full else 1


@contextmanager
def in_process_requests() -> Iterator[None]:
    """Requests through the WSGI handler inside the test's transaction: Django closes the
    connection at the end of a request (it would end the test's transaction), as its own test
    client avoids too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def error_shape_problem(response: Any) -> str | None:
    """Why a 4xx body is not in the one error shape, or None."""
    try:
        body = json.loads(response.content or b"")
    except ValueError:
        return f"not JSON: {response.content[:200]!r}"
    if not isinstance(body, dict):
        return f"not an object: {body!r}"[:300]
    extra = set(body) - ERROR_KEYS
    if extra:
        return f"keys outside the error shape: {sorted(extra)}"
    if not isinstance(body.get("code"), str) or not isinstance(body.get("detail"), str):
        return f"code and detail must be strings: {body!r}"[:300]
    fields = body.get("fields", {})
    if not isinstance(fields, dict) or not all(
        isinstance(v, list) and all(isinstance(m, str) for m in v) for v in fields.values()
    ):
        return f"fields must map names to lists of strings: {fields!r}"[:300]
    return None


def describe(failure: Failure) -> str:
    title = getattr(failure, "title", type(failure).__name__)
    message = getattr(failure, "message", "") or str(failure)
    return f"{title}: {message}"[:1200]


def real_ids(world: Any) -> dict[str, dict[str, str]]:
    """Path template -> path parameters of firm A's object for every registered API route."""
    urls: dict[str, dict[str, str]] = {}
    built: dict[int, dict[str, str]] = {}
    for route in ROUTES:
        if route.api:
            # One object per builder: several methods of a route share it.
            if id(route.kwargs) not in built:
                built[id(route.kwargs)] = {k: str(v) for k, v in route.kwargs(world).items()}
            kwargs = built[id(route.kwargs)]
            urls.setdefault(reverse(route.url_name, kwargs=kwargs), kwargs)
    return urls


def ids_for(template: str, urls: dict[str, dict[str, str]]) -> dict[str, str] | None:
    pattern = re.compile(
        "^" + re.sub(r"\\\{(\w+)\\\}", r"(?P<\1>[^/]+)", re.escape(template)) + "$"
    )
    for url in urls:
        match = pattern.match(url)
        if match:
            return match.groupdict()
    return None


@dataclass
class Tally:
    cases: int = 0
    server_errors: int = 0
    failures: list[str] = field(default_factory=list)


def fuzz(
    operation: Any,
    mode: GenerationMode,
    ids: dict[str, str] | None,
    auth: dict[str, str],
    tally: Tally,
) -> None:
    """`budget()` cases of `operation` in `mode`, each checked and tallied."""

    @settings(
        max_examples=budget(),
        deadline=None,
        database=None,
        derandomize=True,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), real=st.booleans())
    def run(case: Any, real: bool) -> None:
        if real and ids:
            case.path_parameters = {**(case.path_parameters or {}), **ids}
        with transaction.atomic():
            response = case.call(headers=auth)
            transaction.set_rollback(True)
        tally.cases += 1
        label = f"{operation.label} [{mode.value}] -> {response.status_code}"
        if response.status_code >= 500:
            tally.server_errors += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=auth)
        except FailureGroup as group:
            tally.failures += [f"{label}: {describe(failure)}" for failure in group.exceptions]
        except Failure as failure:
            tally.failures.append(f"{label}: {describe(failure)}")
        if 400 <= response.status_code < 500:
            problem = error_shape_problem(response)
            if problem:
                tally.failures.append(f"{label}: {problem}")

    try:
        run()
    except Unsatisfiable:
        # Nothing to make invalid (no parameters, no body): positive cases only.
        assert mode is GenerationMode.NEGATIVE, operation.label


def modes(operation: Any) -> list[GenerationMode]:
    """Valid input always; invalid input where there is something to make invalid (hypothesis
    would otherwise spend hundreds of attempts before giving up)."""
    parts = (operation.path_parameters, operation.query, operation.body)
    if any(len(list(part)) for part in parts):
        return [GenerationMode.POSITIVE, GenerationMode.NEGATIVE]
    return [GenerationMode.POSITIVE]


@pytest.mark.parametrize("role", list(ROLE_USER), ids=str)
def test_every_operation_answers_as_documented(
    role: Role, world, saved_connection, tx, settings_override
) -> None:
    saved_connection()
    user = getattr(world, ROLE_USER[role])
    with world.scope_a():
        _token, raw = services.create_api_token(company=world.firm_a, actor=user, name="fuzz")
    auth = {"Authorization": f"Token {raw}"}
    urls = real_ids(world)
    app = get_wsgi_application()
    tally = Tally()
    with in_process_requests():
        schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", app, headers=auth)
        results = list(schema.get_all_operations())
        assert all(isinstance(result, Ok) for result in results), results
        operations = [result.ok() for result in results if isinstance(result, Ok)]
        assert len(operations) > 50
        for operation in operations:
            for mode in modes(operation):
                fuzz(operation, mode, ids_for(operation.path, urls), auth, tally)
    count("fuzz_cases", tally.cases)
    count("fuzz_server_errors", tally.server_errors)
    assert not tally.failures, f"{len(tally.failures)} of {tally.cases} cases failed:\n\n" + (
        "\n\n".join(tally.failures[:60])
    )


@pytest.fixture
def settings_override(settings):
    """No throttling during the fuzz (429 is documented everywhere and would hide the rest)."""
    rest = dict(settings.REST_FRAMEWORK)
    rest["DEFAULT_THROTTLE_RATES"] = {"anon": "100000/minute", "user": "100000/minute"}
    settings.REST_FRAMEWORK = rest
    return settings
