"""Background work of billing: the invoice export outbox (see `billing.exports`)."""

from __future__ import annotations

from typing import Any

from celery import shared_task
from celery.signals import worker_ready

from billing import exports


@shared_task(bind=True, acks_late=True, time_limit=240, soft_time_limit=200)
def export_invoice(self: Any, export_id: int) -> str:
    """Export one outbox row by id. Safe to run twice and from two workers at once: only one
    run claims the row, and a run after an unknown outcome adopts what the first one made.
    The hard time limit stays under `UKU_INVOICE_EXPORT_STALL_SECONDS`, so a row still in
    flight after that is certainly abandoned."""
    return exports.run_export(export_id, eager=bool(self.request.is_eager))


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def sweep_invoice_exports() -> int:
    """Every minute: re-queue exports stuck in flight and resend lost ones."""
    return exports.sweep_exports()


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def start_daily_invoice_status_checks() -> int:
    """Hourly: one status job per firm whose daily check is due in its own time zone (the
    hour is a billing setting); a firm already checked today is skipped, so a second run in
    the same hour, or a beat that was down, changes nothing."""
    from billing import statuses

    return statuses.start_daily_checks()


@worker_ready.connect
def _sweep_on_start(**_kwargs: object) -> None:
    """A worker that starts (typically after one was killed) sweeps at once."""
    sweep_invoice_exports.delay()
