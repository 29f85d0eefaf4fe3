"""A real Celery worker process consumes from the real Redis (no eager mode here)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("UKU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.mark.redis
def test_a_real_worker_runs_a_task_sent_through_redis(tmp_path) -> None:
    queue = f"test-{uuid.uuid4().hex}"  # private queue: parallel runs never steal each other's work
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uku.settings",
        "DEBUG": "1",
        "CELERY_BROKER_URL": REDIS,
        "CELERY_RESULT_BACKEND": REDIS,
        "UKU_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)
    worker = subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "celery"),
            "-A",
            "uku",
            "worker",
            "--pool",
            "solo",
            "-Q",
            queue,
            "--without-heartbeat",
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        probe = Celery("probe", broker=REDIS, backend=REDIS)
        result = probe.send_task("uku.tasks.ping", args=["hei fra redis"], queue=queue)
        assert result.get(timeout=60) == "hei fra redis"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output
