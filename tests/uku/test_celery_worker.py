"""A real Celery worker process consumes from the real Redis (no eager mode here)."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from celery import Celery

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("UKU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


def _start_worker(var_dir: Path, queue: str, *extra: str) -> subprocess.Popen[bytes]:
    """A solo worker on a private queue (parallel runs never steal each other's work), started
    with `--quiet` as docker-compose.yml does, so its output is only what it logs."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uku.settings",
        "DEBUG": "1",
        "LOG_LEVEL": "INFO",
        "CELERY_BROKER_URL": REDIS,
        "CELERY_RESULT_BACKEND": REDIS,
        "UKU_VAR_DIR": str(var_dir),
    }
    env.pop("DATABASE_URL", None)
    return subprocess.Popen(  # noqa: S603
        [
            str(Path(sys.executable).parent / "celery"),
            "--quiet",
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
            *extra,
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )


@pytest.mark.redis
def test_a_real_worker_runs_a_task_sent_through_redis(tmp_path) -> None:
    queue = f"test-{uuid.uuid4().hex}"
    worker = _start_worker(tmp_path, queue)
    try:
        probe = Celery("probe", broker=REDIS, backend=REDIS)
        result = probe.send_task("uku.tasks.ping", args=["hei fra redis"], queue=queue)
        assert result.get(timeout=60) == "hei fra redis"
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    assert "Traceback" not in output, output


@pytest.mark.redis
def test_it_logs_task_output_as_json_without_secrets(tmp_path) -> None:
    """Celery must not install its own plain-text handlers: a task's log lines and the worker's
    report of its failure go through uku's JSON formatter and redaction filter."""
    queue = f"test-{uuid.uuid4().hex}"
    secret = f"c2VjcmV0LXRva2Vu{uuid.uuid4().hex}"
    worker = _start_worker(tmp_path, queue, "--include", "tests.uku.celery_logging_tasks")
    try:
        probe = Celery("probe", broker=REDIS, backend=REDIS)
        result = probe.send_task(
            "tests.uku.celery_logging_tasks.log_credentials", args=[secret], queue=queue
        )
        with pytest.raises(Exception, match="refused"):
            result.get(timeout=60)
    finally:
        worker.terminate()
        output = worker.communicate(timeout=30)[0].decode(errors="replace")
    lines = output.splitlines()
    # Celery's own formatter writes "[2026-06-16 10:00:00,000: WARNING/MainProcess] ..."; what is
    # left outside logging are its direct prints (the root-user warning, "Warm shutdown").
    assert not [line for line in lines if re.match(r"\[\d{4}-\d\d-\d\d", line)], output
    records = [json.loads(line) for line in lines if line.startswith("{")]
    messages = [record["message"] for record in records]
    assert "Calling Tripletex with Authorization: [REDACTED]" in messages, output
    assert any(r["logger"].startswith("celery") and "exception" in r for r in records), output
    assert secret not in output
