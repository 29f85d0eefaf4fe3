"""Access logs print request paths; invitation and password-reset links carry their token there.

The redaction filter masks those path segments, and both servers route their access lines
through it: runserver's `django.server` logger (settings.LOGGING) and gunicorn (gunicorn.conf.py).
"""

from __future__ import annotations

import io
import json
import logging
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from uku.logging import JsonFormatter, RedactSecretsFilter, RequestIdFilter

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "Zq7Xk2pL9vB4nR8tW1yC5dF3gH6jK0mN2aS4eU7iO9"


def _format(logger: str, message: str, *args: object) -> str:
    record = logging.LogRecord(logger, logging.INFO, __file__, 1, message, args, None)
    for f in (RequestIdFilter(), RedactSecretsFilter()):
        f.filter(record)
    return JsonFormatter().format(record)


@pytest.mark.parametrize(
    ("request_line", "kept"),
    [
        (f"GET /invitations/{TOKEN}/ HTTP/1.1", "/invitations/[REDACTED]/"),
        (
            f"GET /accounts/login/?next=/invitations/{TOKEN}/ HTTP/1.1",
            "next=/invitations/[REDACTED]/",
        ),
        (f"GET /accounts/login/?next=%2Finvitations%2F{TOKEN}%2F HTTP/1.1", "%2F[REDACTED]%2F"),
        (f"GET /accounts/reset/MQ/{TOKEN}/ HTTP/1.1", "/accounts/reset/MQ/[REDACTED]/"),
    ],
)
def test_it_masks_path_tokens_in_an_access_line(request_line: str, kept: str) -> None:
    line = json.loads(_format("django.server", '"%s" %s %s', request_line, 404, 179))
    assert TOKEN not in line["message"]
    assert kept in line["message"]


def test_it_keeps_paths_without_secrets_readable() -> None:
    cancel = "POST /invitations/3f2a1c9e-1b2c-4d5e-8f90-123456789abc/cancel/ HTTP/1.1"
    assert json.loads(_format("gunicorn.access", cancel))["message"] == cancel
    for path in ("/accounts/reset/MQ/set-password/", "/accounts/reset/done/"):
        assert json.loads(_format("gunicorn.access", path))["message"] == path


def test_it_sends_runserver_access_lines_through_the_redaction_filter() -> None:
    """Django's own `django.server` handler prints plain text with no filter; ours must apply."""
    logger = logging.getLogger("django.server")
    assert logger.handlers
    buffer = io.StringIO()
    streams = {
        h: h.setStream(buffer) for h in logger.handlers if isinstance(h, logging.StreamHandler)
    }
    try:
        logger.info('"%s" %s %s', f"GET /invitations/{TOKEN}/ HTTP/1.1", 404, 179)
    finally:
        for handler, stream in streams.items():
            handler.setStream(stream)
    output = buffer.getvalue()
    assert TOKEN not in output
    assert json.loads(output.splitlines()[0])["logger"] == "django.server"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - loopback
            return response.status
    except urllib.error.HTTPError as exc:
        return exc.code


def test_gunicorn_logs_requests_as_json_without_path_tokens(tmp_path) -> None:
    env = {**os.environ, "DEBUG": "1", "UKU_VAR_DIR": str(tmp_path), "LOG_LEVEL": "INFO"}
    env.pop("DATABASE_URL", None)  # SQLite under the temporary var dir
    env.pop("DJANGO_SETTINGS_MODULE", None)
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"], cwd=ROOT, env=env, check=True
    )
    port = _free_port()
    server = subprocess.Popen(  # noqa: S603 - the image's own command line
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "gunicorn.conf.py",
            "uku.wsgi:application",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                _get(f"{base}/healthz")
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, (
                    "gunicorn did not start"
                )
                time.sleep(0.2)
        assert _get(f"{base}/invitations/{TOKEN}/") == 404
        assert _get(f"{base}/accounts/reset/MQ/{TOKEN}/") == 200
    finally:
        server.terminate()
        stdout, stderr = (s.decode(errors="replace") for s in server.communicate(timeout=30))
    access = [json.loads(line) for line in stdout.splitlines() if line.strip()]  # all JSON
    paths = " ".join(r["message"] for r in access if r["logger"] == "gunicorn.access")
    assert "/invitations/[REDACTED]/" in paths and "/accounts/reset/MQ/[REDACTED]/" in paths
    assert TOKEN not in stdout and TOKEN not in stderr


def test_the_image_and_the_compose_file_start_gunicorn_with_this_logging() -> None:
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "-c gunicorn.conf.py" in compose["services"]["web"]["command"]
    assert '"-c", "gunicorn.conf.py"' in (ROOT / "Dockerfile").read_text()
