"""Settings for the test suite: the real settings, on PostgreSQL, with test-only speed-ups.

`make test` runs against the machine's PostgreSQL and Redis. `UKU_TEST_DATABASE_URL` and
`UKU_TEST_REDIS_URL` point elsewhere if needed.
"""

import os

os.environ["UKU_TESTING"] = "1"
os.environ.setdefault(
    "DATABASE_URL",
    os.environ.get("UKU_TEST_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/uku"),
)
os.environ.setdefault(
    "REDIS_URL", os.environ.get("UKU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
)

from uku.settings import *  # noqa: F403

# Unit tests run tasks eagerly; tests/uku/test_celery_worker.py runs a real worker on Redis.
CELERY_TASK_ALWAYS_EAGER = True
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
SECURE_SSL_REDIRECT = False
SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
SITE_URL = "http://testserver"
ALLOWED_HOSTS = [*ALLOWED_HOSTS, "testserver"]  # noqa: F405 (the test client's host)
# Each xdist worker keeps its own counters (throttling, reset limits); conftest clears them per test.
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# A made-up second accounting system with no capabilities (tests/fakebooks): the core must serve
# it without naming it anywhere.
UKU_ACCOUNTING_SYSTEMS = [*UKU_ACCOUNTING_SYSTEMS, "tests.fakebooks"]  # noqa: F405
INSTALLED_APPS = [*INSTALLED_APPS, "tests.fakebooks"]  # noqa: F405
# A made-up system that counts work statistics (tests/statbooks), so summary tasks are tested
# against the vendor-neutral contract alone.
UKU_ACCOUNTING_SYSTEMS = [*UKU_ACCOUNTING_SYSTEMS, "tests.statbooks"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.statbooks"]
# A made-up accounting system that receives invoices (tests/fakeinvoices), for the export
# outbox's tests until, and next to, the real vendors' sandboxes.
UKU_ACCOUNTING_SYSTEMS = [*UKU_ACCOUNTING_SYSTEMS, "tests.fakeinvoices"]
INSTALLED_APPS = [*INSTALLED_APPS, "tests.fakeinvoices"]
