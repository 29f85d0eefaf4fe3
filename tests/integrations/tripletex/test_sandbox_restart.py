"""`manage.py tripletex_sandbox` (what `make run` starts) keeps the demo's employee token across
restarts, so the connection the demo firm saved still works; a fresh var dir gets its own."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import requests

ROOT = Path(__file__).resolve().parents[3]
CONSUMER = "test-uku-sandbox-consumer"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _run_sandbox(var_dir: Path) -> tuple[subprocess.Popen[str], str, str]:
    """Start the command; return the process, its API base URL and the employee token it printed."""
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "UKU_VAR_DIR": str(var_dir)}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "tripletex_sandbox", "--port", str(port), "--seed", "demo"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 60
    for line in process.stdout:
        found = re.search(r"employee token:\s+(\S+)", line)
        if found:
            return process, f"http://127.0.0.1:{port}/v2", found.group(1)
        assert time.monotonic() < deadline
    raise AssertionError(f"the sandbox printed no token (exit {process.wait()})")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=30)


def _session(url: str, token: str) -> requests.Response:
    return requests.put(
        f"{url}/token/session/:create",
        params={
            "consumerToken": CONSUMER,
            "employeeToken": token,
            "expirationDate": (date.today() + timedelta(days=2)).isoformat(),
        },
        timeout=10,
    )


def _customers(url: str, session: str) -> list[dict[str, Any]]:
    """Every customer, active and inactive (the list answers active ones unless asked)."""
    values: list[dict[str, Any]] = []
    for inactive in ("false", "true"):
        answer = requests.get(
            f"{url}/customer",
            params={"count": 10000, "isInactive": inactive, "fields": "id,name,organizationNumber"},
            auth=("0", session),
            timeout=30,
        )
        answer.raise_for_status()
        values += answer.json()["values"]
    return values


def test_it_keeps_the_demo_token_and_data_across_a_restart(tmp_path) -> None:
    var_dir = tmp_path / "var"
    first, url, token = _run_sandbox(var_dir)
    try:
        created = _session(url, token)
        assert created.status_code == 200, created.text
        before = _customers(url, created.json()["value"]["token"])
    finally:
        _stop(first)
    assert len(before) == 220

    again, url, token_again = _run_sandbox(var_dir)
    try:
        assert token_again == token
        created = _session(url, token)  # the token saved before the restart
        assert created.status_code == 200, created.text
        assert _customers(url, created.json()["value"]["token"]) == before
    finally:
        _stop(again)


def test_a_fresh_var_dir_gets_its_own_token(tmp_path) -> None:
    one, _url, token = _run_sandbox(tmp_path / "one")
    _stop(one)
    other, url, other_token = _run_sandbox(tmp_path / "other")
    try:
        assert other_token != token
        refused = _session(url, token)
        assert refused.status_code == 422
        assert refused.json()["validationMessages"][0]["field"] == "arg:employeeToken"
    finally:
        _stop(other)
