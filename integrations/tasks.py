"""Background work of the integration core. Periodic tasks only fan out; per-firm tasks are safe
to run twice."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from celery import shared_task
from celery.signals import worker_ready
from django.utils import timezone
from django_scopes import scope, scopes_disabled

from integrations import jobs, services
from integrations.models import IntegrationCredential
from uku.models import Company

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def warn_expiring_tokens() -> int:
    """Daily: one task per firm that has a token expiring within 14 days (or expired)."""
    today = timezone.localdate()
    horizon = today + timedelta(days=services.EXPIRY_THRESHOLDS[0])
    with scopes_disabled():
        company_ids = set(
            IntegrationCredential.objects.filter(
                expires_on__isnull=False,
                expires_on__lte=horizon,
                connection__enabled=True,
            ).values_list("company_id", flat=True)
        )
    for company_id in company_ids:
        warn_expiring_tokens_for_company.delay(company_id, today.isoformat())
    return len(company_ids)


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def warn_expiring_tokens_for_company(company_id: int, today: str) -> int:
    company = Company.objects.filter(pk=company_id).first()
    if company is None:
        return 0  # the firm is gone: nothing to warn
    with scope(company=company):
        return services.warn_expiring_tokens(
            company=company, today=datetime.fromisoformat(today).date()
        )


@shared_task(acks_late=True, time_limit=120, soft_time_limit=100)
def resume_stalled_jobs() -> int:
    """Every minute: resume the jobs whose worker died (see `integrations.jobs.resume_stalled`).
    Safe to run twice and from several workers: each take-over is a conditional update."""
    return jobs.resume_stalled()


@worker_ready.connect
def _resume_stalled_on_start(**_kwargs: object) -> None:
    """A worker that starts (typically after one was killed) resumes stalled jobs at once
    rather than at the next sweep."""
    resume_stalled_jobs.delay()
