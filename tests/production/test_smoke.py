"""Production-mode smoke test: the app as the Dockerfile builds and runs it.

Unit tests run with DEBUG-like static storage (no manifest), so they cannot see what breaks only in
production: `collectstatic` under the manifest storage failing on a dangling `sourceMappingURL`, or
every `{% static %}` raising "Missing staticfiles manifest entry" and turning each page into a 500.
This test builds the static files under DEBUG=0 in a temporary directory, migrates a throwaway
SQLite database and serves the app with real gunicorn on a free loopback port, then fetches pages
and their assets over HTTP.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin

import pytest
import requests
from cryptography.fernet import Fernet
from django.utils.crypto import get_random_string

BASE_DIR = Path(__file__).resolve().parents[2]
# The whole module shares one server; keep it on one xdist worker.
pytestmark = pytest.mark.xdist_group("production-smoke")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _production_env(var_dir: Path) -> dict[str, str]:
    """A clean production environment: nothing inherited from the test settings (UKU_TESTING,
    the test DATABASE_URL, ...), throwaway secrets, and only the two knobs plain HTTP on loopback
    needs. Production defaults (secure cookies, HSTS) stay as they are."""
    env = {key: os.environ[key] for key in ("PATH", "HOME", "LANG", "TMPDIR") if key in os.environ}
    env.update(
        {
            "DJANGO_SETTINGS_MODULE": "uku.settings",
            "DEBUG": "0",
            "SECRET_KEY": get_random_string(60),
            "UKU_ENCRYPTION_KEYS": Fernet.generate_key().decode(),
            "ALLOWED_HOSTS": "127.0.0.1",
            "UKU_VAR_DIR": str(var_dir),
            "DATABASE_URL": f"sqlite:///{var_dir / 'smoke.sqlite3'}",
            # Plain HTTP on loopback: no redirect to https that nothing here would answer.
            "SECURE_SSL_REDIRECT": "0",
            "PYTHONDONTWRITEBYTECODE": "1",
        }
    )
    return env


def _manage(env: dict[str, str], *args: str) -> None:
    result = subprocess.run(  # noqa: S603 (our own interpreter and manage.py)
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    if result.returncode != 0:
        pytest.fail(
            f"manage.py {' '.join(args)} failed under DEBUG=0:\n{result.stdout[-2000:]}"
            f"\n{result.stderr[-4000:]}"
        )


@dataclass
class Server:
    url: str
    static_root: Path

    def get(self, path: str) -> requests.Response:
        return requests.get(urljoin(self.url, path), timeout=10, allow_redirects=False)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    var_dir = tmp_path_factory.mktemp("production")
    env = _production_env(var_dir)
    _manage(env, "collectstatic", "--noinput")
    _manage(env, "migrate", "--noinput")

    port = _free_port()
    log = (var_dir / "gunicorn.log").open("w+")
    process = subprocess.Popen(  # noqa: S603
        [
            sys.executable,
            "-m",
            "gunicorn",
            "uku.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
            "--timeout",
            "60",
        ],
        cwd=BASE_DIR,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own process group: teardown stops the master and workers
    )
    try:
        url = f"http://127.0.0.1:{port}/"
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                log.seek(0)
                pytest.fail(f"gunicorn exited with {process.returncode}:\n{log.read()[-4000:]}")
            try:
                # The first request imports the whole app in the worker: slow on a busy machine.
                requests.get(url + "healthz", timeout=30)
                break
            except (requests.ConnectionError, requests.Timeout):
                if time.monotonic() > deadline:
                    pytest.fail("gunicorn did not answer within 60 seconds")
                time.sleep(0.2)
        yield Server(url=url, static_root=var_dir / "static")
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        log.close()


class _Assets(HTMLParser):
    """Collects the stylesheets (`<link rel=stylesheet href>`) and scripts (`<script src>`)."""

    def __init__(self) -> None:
        super().__init__()
        self.stylesheets: list[str] = []
        self.scripts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if (
            tag == "link"
            and "stylesheet" in (values.get("rel") or "").split()
            and values.get("href")
        ):
            self.stylesheets.append(str(values["href"]))
        if tag == "script" and values.get("src"):
            self.scripts.append(str(values["src"]))


def _assets(response: requests.Response) -> _Assets:
    parser = _Assets()
    parser.feed(response.text)
    return parser


def _assert_assets_answer(server: Server, page: requests.Response) -> _Assets:
    assets = _assets(page)
    assert assets.stylesheets, "the page links no stylesheet"
    for href in assets.stylesheets:
        asset = server.get(urljoin(page.url, href))
        assert asset.status_code == 200, href
        assert asset.headers["Content-Type"].startswith("text/css"), href
    for src in assets.scripts:
        asset = server.get(urljoin(page.url, src))
        assert asset.status_code == 200, src
        assert "javascript" in asset.headers["Content-Type"], src
    return assets


def test_it_serves_the_login_page_with_its_css_and_scripts(server: Server) -> None:
    page = server.get("accounts/login/")
    assert page.status_code == 200
    assert page.headers["Content-Type"].startswith("text/html")
    assets = _assert_assets_answer(server, page)
    # Hashed names from the manifest: the files can be cached forever.
    assert any(re.search(r"bootstrap\.min\.[0-9a-f]{12}\.css$", h) for h in assets.stylesheets)


def test_it_renders_the_404_page_with_its_css(server: Server) -> None:
    page = server.get("no-such-page/")
    assert page.status_code == 404
    assert page.headers["Content-Type"].startswith("text/html")
    assert "Page not found" in page.text
    _assert_assets_answer(server, page)


def test_it_serves_the_api_docs_with_their_css_and_scripts(server: Server) -> None:
    page = server.get("api/docs/")
    assert page.status_code == 200
    assets = _assert_assets_answer(server, page)
    assert any("swagger-ui" in s for s in assets.scripts)


def test_it_answers_api_errors_in_the_error_shape(server: Server) -> None:
    response = server.get("api/v1/no-such-thing/")
    assert response.status_code == 404
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["code"] == "not_found"


def test_its_pages_carry_the_content_security_policy(server: Server) -> None:
    policy = server.get("accounts/login/").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "base-uri 'self'" in policy


def test_its_manifest_has_every_static_file_the_templates_name(server: Server) -> None:
    """Pages the smoke does not fetch would still 500 on a `{% static %}` the manifest lacks."""
    manifest = json.loads((server.static_root / "staticfiles.json").read_text())["paths"]
    named = {
        match.group(2)
        for template in (BASE_DIR / "templates").rglob("*.html")
        for match in re.finditer(
            r"""{%\s*static\s+(['"])([^'"]+)\1""", template.read_text(encoding="utf-8")
        )
    }
    assert named, "no {% static %} found in templates/"
    assert sorted(named - manifest.keys()) == []
