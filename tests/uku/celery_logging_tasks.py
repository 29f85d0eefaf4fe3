"""A task for tests/uku/test_celery_worker.py only: it logs and raises with credentials in the
text, so the test can prove that a real worker's output keeps them out. Loaded into the test's
worker with `--include`; never autodiscovered by a running system."""

from __future__ import annotations

from celery import shared_task
from celery.utils.log import get_task_logger

logger = get_task_logger(__name__)


@shared_task(acks_late=True, time_limit=30, soft_time_limit=25, ignore_result=False)
def log_credentials(token: str) -> str:
    """Log `token` the ways a careless integration might, then fail with it in the error."""
    logger.warning("Calling Tripletex with Authorization: Basic %s", token)
    logger.warning("session created from employee_token=%s", token)
    raise ValueError(f"refused: employee_token={token}")
