"""Start-up configuration: production refuses to start without its secrets."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _start(
    var_dir: Path, code: str = "print('started')", **env: str
) -> subprocess.CompletedProcess[str]:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("UKU_", "DJANGO_"))}
    clean.pop("SECRET_KEY", None)
    clean.pop("DATABASE_URL", None)
    clean.update(env, DJANGO_SETTINGS_MODULE="uku.settings", UKU_VAR_DIR=str(var_dir))
    return subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("env", "missing"),
    [
        ({"DEBUG": "0", "UKU_ENCRYPTION_KEYS": "x" * 44}, "SECRET_KEY"),
        ({"DEBUG": "0", "SECRET_KEY": "s" * 50}, "UKU_ENCRYPTION_KEYS"),
    ],
)
def test_it_refuses_to_start_in_production_without_a_secret(env, missing, tmp_path) -> None:
    result = _start(tmp_path, **env)
    assert result.returncode != 0
    assert f"The environment variable {missing} is required when DEBUG is off" in result.stderr


def test_it_starts_in_debug_on_sqlite_without_any_configuration(tmp_path) -> None:
    result = _start(tmp_path, DEBUG="1")
    assert result.returncode == 0, result.stderr
    assert "started" in result.stdout


def test_it_uses_sqlite_under_var_without_database_url_and_postgres_with_it(tmp_path) -> None:
    code = "from django.conf import settings; print(settings.DATABASES['default']['ENGINE'])"
    base = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"}
    base.update(DJANGO_SETTINGS_MODULE="uku.settings", DEBUG="1", UKU_VAR_DIR=str(tmp_path))
    sqlite = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env=base,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert sqlite.stdout.strip() == "django.db.backends.sqlite3"
    postgres = subprocess.run(  # noqa: S603
        [sys.executable, "-c", f"import django; django.setup(); {code}"],
        cwd=ROOT,
        env={**base, "DATABASE_URL": "postgres://u@127.0.0.1/x"},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert postgres.stdout.strip() == "django.db.backends.postgresql"


_GOOD_KEY = "ZGV2LW9ubHktZmVybmV0LWtleS0zMi1ieXRlcy0hISE="


@pytest.mark.parametrize(
    "keys", ["not-a-fernet-key-but-a-secret", f"{_GOOD_KEY},c2hvcnQtc2VjcmV0LXZhbHVl", " , "]
)
def test_it_refuses_to_start_with_a_malformed_encryption_key(keys, tmp_path) -> None:
    result = _start(tmp_path, DEBUG="0", SECRET_KEY="s" * 50, UKU_ENCRYPTION_KEYS=keys)
    assert result.returncode != 0
    assert "UKU_ENCRYPTION_KEYS" in result.stderr
    for secret in ("not-a-fernet-key-but-a-secret", "c2hvcnQtc2VjcmV0LXZhbHVl"):
        assert secret not in result.stderr + result.stdout


def test_check_deploy_fails_on_a_malformed_encryption_key(tmp_path) -> None:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("UKU_", "DJANGO_"))}
    clean.update(
        DEBUG="0",
        SECRET_KEY="s" * 60,
        UKU_ENCRYPTION_KEYS="bad-key",
        ALLOWED_HOSTS="uku.example.no",
        UKU_VAR_DIR=str(tmp_path),
        DJANGO_SETTINGS_MODULE="uku.settings",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy"],
        cwd=ROOT,
        env=clean,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "UKU_ENCRYPTION_KEYS: key 1 of 1 is not a valid Fernet key" in result.stderr


def test_testserver_is_not_an_allowed_host_in_production(tmp_path) -> None:
    result = _start(
        tmp_path,
        code="from django.conf import settings; print(settings.ALLOWED_HOSTS)",
        DEBUG="0",
        SECRET_KEY="s" * 50,
        UKU_ENCRYPTION_KEYS=_GOOD_KEY,
    )
    assert result.returncode == 0, result.stderr
    assert "testserver" not in result.stdout
    assert "localhost" in result.stdout
