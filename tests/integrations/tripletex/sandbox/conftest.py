"""Fixtures for the Tripletex sandbox tests: a fresh demo server per test, talked to over HTTP.

No Django and no database: the sandbox is plain Python behind a real socket.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from integrations.tripletex.sandbox import SandboxServer, start_sandbox

#: The sandbox clock in every test, so seeded data and date ranges are reproducible.
TODAY = date(2025, 6, 16)


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    """A fresh sandbox (seed demo, test environment) on a free port, stopped afterwards."""
    server = start_sandbox(seed="demo", today=TODAY)
    try:
        yield server
    finally:
        server.stop()


def create_session(
    server: SandboxServer, employee_token: str | None = None, expiration: date | None = None
) -> requests.Response:
    """`PUT /token/session/:create` with the sandbox's consumer token."""
    if employee_token is None:
        employee_token = server.store.create_employee_token()["token"]
    return requests.put(
        f"{server.url}/token/session/:create",
        params={
            "consumerToken": server.store.consumer_token,
            "employeeToken": employee_token,
            "expirationDate": (expiration or TODAY + timedelta(days=1)).isoformat(),
        },
        timeout=5,
    )


@dataclass
class Api:
    """A tiny Tripletex client: Basic auth `<company>:<session token>` on a requests.Session."""

    server: SandboxServer
    token: str
    company: int = 0

    def __post_init__(self) -> None:
        self.http = requests.Session()

    def as_company(self, company: int) -> Api:
        return Api(self.server, self.token, company)

    def request(self, method: str, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.http.request(
            method,
            f"{self.server.url}{path}",
            params=params,
            json=json,
            auth=(str(self.company), self.token),
            timeout=10,
        )

    def get(self, path: str, **params: Any) -> requests.Response:
        return self.request("GET", path, **params)

    def put(self, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.request("PUT", path, json=json, **params)

    def post(self, path: str, json: Any = None, **params: Any) -> requests.Response:
        return self.request("POST", path, json=json, **params)

    def values(self, path: str, **params: Any) -> list[dict[str, Any]]:
        response = self.get(path, **params)
        assert response.status_code == 200, response.text
        return response.json()["values"]


@pytest.fixture
def api(sandbox: SandboxServer) -> Api:
    """An authenticated client for the firm's admin employee (username 0 = own company)."""
    response = create_session(sandbox)
    assert response.status_code == 200, response.text
    return Api(sandbox, response.json()["value"]["token"])


@pytest.fixture
def control(sandbox: SandboxServer) -> Any:
    """`control(method, path, json=None)` -> response from the `/_sandbox` control API."""

    def call(method: str, path: str, json: Any = None) -> requests.Response:
        return requests.request(method, f"{sandbox.base_url}/_sandbox{path}", json=json, timeout=10)

    return call
