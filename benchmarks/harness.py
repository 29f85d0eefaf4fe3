"""The benchmark's plumbing: a throwaway database, Django set up for it, the section registry,
statement counting, timing and the report."""

from __future__ import annotations

import atexit
import contextlib
import os
import statistics
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from integrations.merit.signing import dump_body, signed_url

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Sizes:
    """How big the run is: `make bench` (full) or `make bench-quick` (smaller, same keys)."""

    quick: bool
    customers: int
    customers_small: int
    clients_small: int
    clients_large: int

    @classmethod
    def for_run(cls, quick: bool) -> Sizes:
        if quick:
            return cls(
                quick=True,
                customers=2500,
                customers_small=1000,
                clients_small=50,
                clients_large=500,
            )
        return cls(
            quick=False, customers=10000, customers_small=1000, clients_small=50, clients_large=5000
        )


@dataclass
class Target:
    """One target of the issue, checked on the figures. `counts_only` targets (calls and
    statements) are asserted by `make bench-quick` in `make test`; times are only reported."""

    name: str
    ok: bool
    detail: str
    counts_only: bool = True
    # A count target the code does not meet yet, with why: reported as MISS on every run (and
    # in var/bench.json) but not failing `make bench-quick`, so CI stays green while the work
    # is open. Remove the note when the code meets the target.
    known_miss: str = ""


@dataclass
class Result:
    key: str
    figures: dict[str, Any]
    targets: list[Target] = field(default_factory=list)


Section = Callable[[Sizes], Result]
SECTIONS: list[tuple[str, Section]] = []


def section(key: str) -> Callable[[Section], Section]:
    """Register a measurement under `key` (its key in var/bench.json)."""

    def register(fn: Section) -> Section:
        SECTIONS.append((key, fn))
        return fn

    return register


# --- Django on a throwaway database ----------------------------------------------------------


def _postgres_answers() -> bool:
    try:
        import psycopg

        with psycopg.connect(
            "postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=2, autocommit=True
        ):
            return True
    except Exception:
        return False


def _fresh_postgres(name: str) -> str:
    import psycopg

    with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db:
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        db.execute(f'CREATE DATABASE "{name}"')
    atexit.register(_drop_postgres, name)
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def _drop_postgres(name: str) -> None:
    import psycopg
    from django.db import connections

    connections.close_all()
    with (
        contextlib.suppress(Exception),
        psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as db,
    ):
        db.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django(database: str = "uku_bench") -> str:
    """Point Django at a fresh database (PostgreSQL when it answers, else SQLite; or
    UKU_BENCH_DATABASE_URL), migrate it and return a label saying which. On PostgreSQL the
    database is `database` plus the process id, created for the run and dropped after it, so
    runs side by side (CI jobs, two checkouts) never drop each other's."""
    workdir = tempfile.mkdtemp(prefix="uku-bench-")
    os.environ.update(DEBUG="1", UKU_VAR_DIR=workdir, DJANGO_SETTINGS_MODULE="uku.settings")
    os.environ.pop("CELERY_BROKER_URL", None)
    url = os.environ.get("UKU_BENCH_DATABASE_URL", "")
    if url:
        label = url.split("://", 1)[0]
    elif _postgres_answers():
        name = f"{database}_{os.getpid()}"
        url, label = _fresh_postgres(name), f"PostgreSQL (127.0.0.1:5432/{name})"
    else:
        url, label = f"sqlite:///{workdir}/bench.sqlite3", "SQLite (PostgreSQL did not answer)"
    os.environ["DATABASE_URL"] = url
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    # The jobs run in this process (Celery eager), so what is timed is uku's own work.
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.ALLOWED_HOSTS = ["*"]
    # DEBUG only let the settings load without production secrets. Off again, as in production:
    # with DEBUG on, Django keeps the text of every statement (a bulk insert of 1,000 rows is a
    # very long string), which would be measured as uku's memory and time.
    settings.DEBUG = False
    call_command("migrate", verbosity=0)
    return label


# --- Raw vendor calls (the floors) -------------------------------------------------------------


class RawMerit:
    """Plain Merit Aktiva v1 calls with `requests`, none of uku's client: the floor uku's Merit
    adapter is timed against. Use as `with RawMerit(url, api_id, api_key) as merit:` so every
    call shares one HTTP session, as uku's client does.

    `call` serialises the payload once, signs those exact bytes with a fresh timestamp (the
    vendor fact sheet, section 2), POSTs them and returns the parsed answer. It does not retry;
    an answer that is not JSON (Merit's 401 is plain text) raises from `Response.json`, so a
    floor never silently times error answers.
    """

    def __init__(self, base_url: str, api_id: str, api_key: str, timeout: float = 60) -> None:
        self.base_url = base_url
        self.api_id = api_id
        self.api_key = api_key
        self.timeout = timeout
        self._http: requests.Session | None = None

    def __enter__(self) -> RawMerit:
        self._http = requests.Session()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._http is not None:
            self._http.close()
            self._http = None

    def call(self, endpoint: str, payload: Any) -> Any:
        if self._http is None:
            raise RuntimeError("RawMerit.call outside `with RawMerit(...)`")
        body = dump_body(payload)
        url = signed_url(self.base_url, endpoint, self.api_id, self.api_key, body)
        return self._http.post(
            url,
            data=body.encode(),
            headers={"Content-Type": "application/json"},
            timeout=self.timeout,
        ).json()


# --- Measuring -----------------------------------------------------------------------------------


class StatementCounter:
    """Counts SQL statements on the default connection without keeping them (a query log of a
    10,000-customer import would itself distort the memory figures)."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        self.count += 1
        return execute(sql, params, many, context)


@contextlib.contextmanager
def counting_statements() -> Iterator[StatementCounter]:
    from django.db import connection

    counter = StatementCounter()
    with connection.execute_wrapper(counter):
        yield counter


@contextlib.contextmanager
def stopwatch() -> Iterator[list[float]]:
    """`with stopwatch() as t: ...` then `t[0]` is the elapsed seconds."""
    elapsed: list[float] = []
    started = time.perf_counter()
    try:
        yield elapsed
    finally:
        elapsed.append(time.perf_counter() - started)


def median_seconds(fn: Callable[[], object], runs: int = 5) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def ratio(value: float, floor: float) -> float:
    return round(value / floor, 2) if floor > 0 else float("inf")


def new_firm(name: str) -> tuple[Any, Any]:
    """A Team-plan firm with its owner, for one measurement."""
    from uku import services as uku_services

    slug = name.lower().replace(" ", "-")
    company, owner, _ = uku_services.create_company(
        name=name, owner_email=f"{slug}@bench.uku.local", plan="team", password="x" * 20
    )
    return company, owner
