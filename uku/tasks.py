"""Periodic housekeeping of the firm package."""

from __future__ import annotations

from celery import shared_task

from uku import services


@shared_task(acks_late=True, time_limit=300, soft_time_limit=270)
def purge_expired_invitations() -> int:
    """Delete long-expired invitations. Safe to run twice."""
    return services.purge_expired_invitations()


@shared_task(acks_late=True, time_limit=30, soft_time_limit=25, ignore_result=False)
def ping(value: str) -> str:
    """Echo: proves that a worker is consuming from the broker (see tests/uku/test_celery_worker.py)."""
    return value
