"""Settings of a real Celery worker in the tests (tests/billing/test_export_worker_kill.py):
production settings plus the fake invoice vendor, so the worker can export to it."""

from uku.settings import *  # noqa: F403

UKU_ACCOUNTING_SYSTEMS = [*UKU_ACCOUNTING_SYSTEMS, "tests.fakeinvoices"]  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "tests.fakeinvoices"]  # noqa: F405
