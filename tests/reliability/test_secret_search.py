"""The database search of the canary tests finds a secret wherever it is written in clear."""

from __future__ import annotations

from django_scopes import scopes_disabled

from clients.models import Client
from integrations.models import SyncJob
from tests.reliability.secrets import database_hits

CANARY = "canary-7f3a9c1e5b2d"


def test_it_finds_a_secret_in_a_text_column_and_a_json_column(world) -> None:
    assert database_hits(CANARY) == []
    with scopes_disabled():
        Client.objects.create(company=world.firm_a, name=f"Fjord {CANARY} AS")
        SyncJob.objects.create(
            company=world.firm_a,
            vendor="tripletex",
            kind="connection_test",
            error_details={"nested": [CANARY]},
        )
    hits = database_hits(CANARY)
    assert "clients.Client.name" in hits
    assert any(hit.startswith("integrations.SyncJob.") for hit in hits)


def test_the_leak_watch_finds_a_secret_in_logs_task_messages_and_pages(world) -> None:
    """The watch of the lifecycle test is live: a secret logged (even when the handler redacts
    it), passed to a task, or shown on a page is found."""
    import logging

    from celery.signals import before_task_publish, task_prerun

    from tests.reliability.secrets import LeakWatch

    with LeakWatch() as watch:
        assert watch.leaks(CANARY) == []
        logging.getLogger("uku.test").info("the value is %s", CANARY)
        # What Celery sends when a task is published and started (no task registered for it).
        before_task_publish.send(sender="uku.echo", body=((CANARY,), {}, {}), headers={})
        task_prerun.send(sender=None, task_id="t1", task=None, args=(), kwargs={"k": CANARY})
        watch.see(f"<p>{CANARY}</p>")
    where = {hit.split(":")[0] for hit in watch.leaks(CANARY)}
    assert {"log record", "Celery message", "page, API answer or exception"} <= where
