"""`manage.py merit_sandbox` prints working demo credentials per country, and keeps them across
restarts (the secret lives under the var dir, 0600), so a saved demo connection survives `make run`."""

from __future__ import annotations

import os
import re
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import requests

from integrations.merit import signing

ROOT = Path(__file__).resolve().parents[3]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(var_dir: Path, *args: str) -> tuple[subprocess.Popen[str], dict[str, dict[str, str]]]:
    """Start the command; return the process and, per country, the base URL, API ID and key it printed."""
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "UKU_VAR_DIR": str(var_dir), "PYTHONUNBUFFERED": "1"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    process = subprocess.Popen(  # noqa: S603 - our own command
        [sys.executable, "manage.py", "merit_sandbox", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    printed: dict[str, dict[str, str]] = {}
    country = ""
    deadline = time.monotonic() + 60
    for line in process.stdout:
        assert time.monotonic() < deadline
        if found := re.match(r"\s+(EE|FI|PL) ", line):
            country = found.group(1)
            printed[country] = {}
        elif found := re.match(r"\s+(base URL|API ID|API key):\s+(\S+)", line):
            printed[country][found.group(1)] = found.group(2)
        elif line.startswith("Serving until Ctrl-C."):
            return process, printed
    raise AssertionError(f"the sandbox printed no credentials (exit {process.wait()})")


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    process.communicate(timeout=30)


def _taxes(creds: dict[str, str]) -> requests.Response:
    url = signing.signed_url(creds["base URL"], "gettaxes", creds["API ID"], creds["API key"], "{}")
    return requests.post(url, data="{}", timeout=10)


def test_it_prints_working_credentials_per_country_stable_across_restarts(tmp_path: Path) -> None:
    process, first = _run(tmp_path, "--seed", "demo")
    try:
        assert set(first) == {"EE", "FI", "PL"}
        for country, creds in first.items():
            assert creds["base URL"].endswith(f"/{country.lower()}/api/v1/")
            assert _taxes(creds).status_code == 200
    finally:
        _stop(process)
    secret = tmp_path / "merit-sandbox" / "token-secret"
    assert stat.S_IMODE(secret.stat().st_mode) == 0o600

    process, again = _run(tmp_path, "--country", "FI")
    try:
        assert set(again) == {"FI"}
        assert again["FI"]["API key"] == first["FI"]["API key"]
        assert _taxes(first["FI"] | {"base URL": again["FI"]["base URL"]}).status_code == 200
    finally:
        _stop(process)


def test_a_fresh_var_dir_gets_its_own_credentials(tmp_path: Path) -> None:
    process, one = _run(tmp_path / "one", "--country", "EE")
    _stop(process)
    process, two = _run(tmp_path / "two", "--country", "EE")
    _stop(process)

    assert one["EE"]["API ID"] != two["EE"]["API ID"]
    assert one["EE"]["API key"] != two["EE"]["API key"]
