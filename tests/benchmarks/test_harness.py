"""The benchmark's raw vendor client: the floor is only a floor if its calls are real, signed
calls that the vendor accepts."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests

from benchmarks.harness import RawMerit
from integrations.merit.sandbox import SandboxServer, start_sandbox


@pytest.fixture
def sandbox() -> Iterator[SandboxServer]:
    server = start_sandbox(seed="demo")
    try:
        yield server
    finally:
        server.stop()


def test_it_signs_every_call_and_returns_the_parsed_answer(sandbox: SandboxServer) -> None:
    creds = sandbox.store.demo_credentials("EE")

    with RawMerit(sandbox.urls["EE"], creds["api_id"], creds["api_key"]) as merit:
        first = merit.call("gettaxes", {})
        second = merit.call("gettaxes", {})

    assert first == second
    assert {t["Id"] for t in first} == {str(t["Id"]) for t in sandbox.store.firm("EE").taxes}
    assert sandbox.store.request_counts() == {"EE gettaxes": 2}


def test_it_sends_the_payload_it_signed(sandbox: SandboxServer) -> None:
    creds = sandbox.store.demo_credentials("EE")
    name = "Ülo Šokk / Kaubandus OÜ"  # non-ASCII and a slash: the bytes signed are the bytes sent
    sandbox.store.create_customer("EE", Name=name)

    with RawMerit(sandbox.urls["EE"], creds["api_id"], creds["api_key"]) as merit:
        found = merit.call("getcustomers", {"Name": name})

    assert [c["Name"] for c in found] == [name]


def test_it_raises_on_an_answer_that_is_not_json(sandbox: SandboxServer) -> None:
    creds = sandbox.store.demo_credentials("EE")

    with (
        RawMerit(sandbox.urls["EE"], creds["api_id"], "not-the-key") as merit,
        pytest.raises(requests.JSONDecodeError),
    ):
        merit.call("gettaxes", {})


def test_it_refuses_a_call_outside_its_session() -> None:
    merit = RawMerit("http://127.0.0.1:9/api/v1/", "id", "key")

    with pytest.raises(RuntimeError):
        merit.call("gettaxes", {})
