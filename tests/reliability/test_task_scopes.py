"""Every Celery task re-enters its firm's scope from ids, and exits quietly for an object that is
gone or belongs to another firm. The table lists every task registered with the Celery app: a
new task fails `test_every_task_is_in_the_table` until it has a case here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django_scopes import scopes_disabled

from uku.celery import app

MISSING = 2_147_000_000  # an id no row has


def _foreign_statistics(world: Any) -> tuple[Any, ...]:
    """Firm B's id with firm A's client: the task must not read or write firm A's data."""
    from clients.models import Client

    with scopes_disabled():
        client = Client.objects.create(company=world.firm_a, name="Fjord Bakeri AS")
    return (world.firm_b.id, client.id, "tripletex", "2026-01-01")


# task name -> how to build the arguments of a call that must end quietly (no exception, nothing
# written for another firm). Tasks without ids run over every firm, inside each firm's scope.
CASES: dict[str, list[Callable[[Any], tuple[Any, ...]]]] = {
    "billing.tasks.export_invoice": [lambda w: (MISSING,)],
    "billing.tasks.start_daily_invoice_status_checks": [lambda w: ()],
    "billing.tasks.sweep_invoice_exports": [lambda w: ()],
    "integrations.jobs.run_sync_job": [lambda w: (MISSING,)],
    "integrations.tasks.resume_stalled_jobs": [lambda w: ()],
    "integrations.tasks.warn_expiring_tokens": [lambda w: ()],
    "integrations.tasks.warn_expiring_tokens_for_company": [
        lambda w: (MISSING, "2026-12-02"),
        lambda w: (w.firm_b.id, "2026-12-02"),
    ],
    "summarytasks.tasks.import_client_statistics": [
        lambda w: (w.firm_a.id, MISSING, "tripletex", "2026-01-01"),
        lambda w: (MISSING, MISSING, "tripletex", "2026-01-01"),
        _foreign_statistics,
    ],
    "summarytasks.tasks.reload_part": [lambda w: (MISSING,)],
    "summarytasks.tasks.schedule_monthly_imports": [lambda w: ()],
    "uku.tasks.ping": [lambda w: ("x",)],
    "uku.tasks.purge_expired_invitations": [lambda w: ()],
}


def _tasks() -> list[str]:
    app.loader.import_default_modules()
    return sorted(name for name in app.tasks if not name.startswith("celery."))


def test_every_task_is_in_the_table() -> None:
    missing = [name for name in _tasks() if name not in CASES]
    assert not missing, "Add a case to tests/reliability/test_task_scopes.py for: " + ", ".join(
        missing
    )
    assert not [name for name in CASES if name not in _tasks()], "a listed task no longer exists"


@pytest.mark.parametrize(
    ("name", "index"),
    [(name, i) for name, builders in CASES.items() for i in range(len(builders))],
)
def test_a_task_for_a_gone_or_foreign_object_exits_quietly(world, name: str, index: int) -> None:
    from summarytasks.models import SummaryTask

    args = CASES[name][index](world)
    app.loader.import_default_modules()
    # Outside any scope, as a worker runs it: the task must enter the scope itself.
    result = app.tasks[name].apply(args=args, throw=True)
    assert result.successful(), (name, result.result)
    with scopes_disabled():
        assert not SummaryTask.objects.filter(company=world.firm_a).exists()
