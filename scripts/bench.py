"""`make bench`: import 10,000 customers from the Tripletex sandbox and report what it cost.

Runs the real preview and confirm jobs (Celery eager) against an in-process sandbox on a throwaway
SQLite database (or UKU_BENCH_DATABASE_URL), and prints wall time, peak Python memory (tracemalloc),
Tripletex calls per endpoint, and SQL statements per page of customers.
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
CUSTOMERS = int(os.environ.get("UKU_BENCH_CUSTOMERS", "10000"))


def main() -> None:
    workdir = tempfile.mkdtemp(prefix="uku-bench-")
    os.environ.update(DEBUG="1", UKU_VAR_DIR=workdir, DJANGO_SETTINGS_MODULE="uku.settings")
    os.environ.setdefault(
        "DATABASE_URL",
        os.environ.get("UKU_BENCH_DATABASE_URL", f"sqlite:///{workdir}/bench.sqlite3"),
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django_scopes import scope

    settings.CELERY_TASK_ALWAYS_EAGER = True
    call_command("migrate", verbosity=0)
    from clients import services as client_services
    from integrations import services
    from integrations.tripletex.sandbox import start_sandbox
    from uku import services as uku_services

    server = start_sandbox(seed="demo", customers=CUSTOMERS)
    settings.TRIPLETEX_TEST_URL = server.url
    settings.TRIPLETEX_CONSUMER_TOKEN_TEST = server.store.consumer_token
    company, owner, _ = uku_services.create_company(
        name="Bench AS", owner_email="bench@uku.local", plan="team", password="x" * 20
    )
    with scope(company=company):
        services.enable_integration(company=company, actor=owner, vendor="tripletex")
        services.save_connection(
            company=company,
            actor=owner,
            vendor="tripletex",
            environment="test",
            credentials={"employee_token": server.store.create_employee_token()["token"]},
            expires_on=None,
        )
        server.store.clear_requests()
        tracemalloc.start()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as preview_sql:
            preview, _ = client_services.start_customer_import(
                company=company, actor=owner, full=True, vendor="tripletex"
            )
        preview_seconds = time.perf_counter() - started
        preview.refresh_from_db()
        calls = server.store.request_counts()
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as confirm_sql:
            confirm, _ = client_services.confirm_customer_import(
                company=company, actor=owner, preview=preview, select="all"
            )
        confirm_seconds = time.perf_counter() - started
        _current, peak = tracemalloc.get_traced_memory()
        confirm.refresh_from_db()
    pages = calls.get("GET /customer", 0)
    print(f"customers in sandbox:        {CUSTOMERS}")
    print(
        f"preview:  {preview.status}, {preview.counts.get('total')} rows in {preview_seconds:.1f} s"
    )
    print(
        f"confirm:  {confirm.status}, created {confirm.counts.get('created')}, failed {confirm.counts.get('failed')} in {confirm_seconds:.1f} s"
    )
    print(f"Tripletex calls:             {dict(calls)}")
    print(
        f"SQL statements, preview:     {len(preview_sql)} ({len(preview_sql) / max(pages, 1):.1f} per page of customers)"
    )
    print(
        f"SQL statements, confirm:     {len(confirm_sql)} ({len(confirm_sql) / max(1, -(-CUSTOMERS // 500)):.1f} per batch of 500)"
    )
    print(f"peak Python memory:          {peak / 1e6:.1f} MB")
    server.stop()


if __name__ == "__main__":
    main()
