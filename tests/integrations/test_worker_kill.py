"""A real Celery worker is killed with SIGKILL in the middle of a customer import; a new worker
resumes the job from its last committed batch, and every row is imported exactly once.

Run on Redis (production) and on the filesystem broker of `make run` (which loses the message a
killed worker had taken: only the database knows the job is unfinished). Fails on code that
trusts the broker to redeliver, or joins a dead job.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from celery import Celery
from django.db import connection
from django_scopes import scopes_disabled

from clients.importing import CONFIRM, PREVIEW, clean_remote
from clients.models import Client, CustomerImportRow, ExternalLink, ImportClassification
from integrations import services
from integrations.base import RemoteCustomer
from integrations.models import SyncJob
from tests.reliability.report import count

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("UKU_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
ROWS = 3007
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.xdist_group("worker-kill")]


def _database_url() -> str:
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _wait_for(
    what: str, test: Callable[[], bool], timeout: float, output: Callable[[], str]
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if test():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}\n{output()}")


class Worker:
    """`celery worker` as `make run` starts it (prefork), in its own process group."""

    def __init__(self, env: dict[str, str], log: Path) -> None:
        self.env, self.log = env, log
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        handle = self.log.open("ab")
        self.process = subprocess.Popen(  # noqa: S603 - our own command
            [str(Path(sys.executable).parent / "celery"), "-A", "uku", "worker", "--pool",
             "prefork", "--concurrency", "1", "--without-gossip", "--without-mingle",
             "--loglevel", "INFO"],
            cwd=ROOT, env=self.env, stdout=handle, stderr=subprocess.STDOUT,
            start_new_session=True,
        )  # fmt: skip

    def kill(self) -> None:
        """SIGKILL the worker and its pool children at once: no cleanup, no ack, no goodbye."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()  # warm shutdown: the main process stops its own children
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)

    def output(self) -> str:
        return self.log.read_text(errors="replace")[-4000:]


@pytest.fixture(params=["redis", "filesystem"])
def broker(request, tmp_path) -> Iterator[tuple[dict[str, str], Celery]]:
    """The worker's environment and a client app that sends to the same queue."""
    queue = f"kill-{uuid.uuid4().hex}"  # private queue: parallel runs never share messages
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uku.settings",
        "UKU_TESTING": "0",
        "DEBUG": "1",
        "DATABASE_URL": _database_url(),
        "UKU_VAR_DIR": str(tmp_path),
        "CELERY_TASK_DEFAULT_QUEUE": queue,
        "UKU_JOB_HEARTBEAT_SECONDS": "0.5",
        "UKU_JOB_STALL_SECONDS": "3",
    }
    if request.param == "redis":
        env["CELERY_BROKER_URL"] = REDIS
        sender = Celery("sender", broker=REDIS, set_as_current=False)
    else:
        env["CELERY_BROKER_URL"] = "filesystem://"
        folders = {
            "data_folder_in": str(tmp_path / "celery" / "queue"),
            "data_folder_out": str(tmp_path / "celery" / "queue"),
            "control_folder": str(tmp_path / "celery" / "control"),
        }
        for folder in folders.values():
            Path(folder).mkdir(parents=True, exist_ok=True)
        sender = Celery("sender", broker="filesystem://", set_as_current=False)
        sender.conf.broker_transport_options = folders
    sender.conf.task_default_queue = queue
    yield env, sender
    sender.close()


def _confirm_job(world) -> tuple[SyncJob, SyncJob]:
    """A finished preview of ROWS new customers, all selected, and its queued confirm job."""
    with world.scope_a():
        preview = SyncJob.objects.create(
            company=world.firm_a, vendor="tripletex", kind=PREVIEW, status="succeeded"
        )
        CustomerImportRow.objects.bulk_create(
            CustomerImportRow(
                company=world.firm_a,
                job=preview,
                vendor="tripletex",
                remote_id=str(1000 + n),
                name=f"Kunde {n} AS",
                data=clean_remote(RemoteCustomer(id=str(1000 + n), name=f"Kunde {n} AS")),
                classification=ImportClassification.NEW,
                selected=True,
            )
            for n in range(ROWS)
        )
        confirm, _ = services.start_job(
            company=world.firm_a,
            actor=world.admin,
            vendor="tripletex",
            kind=CONFIRM,
            scope=str(preview.public_id),
        )
    return preview, confirm


def _job(pk: int) -> SyncJob:
    with scopes_disabled():
        return SyncJob.objects.get(pk=pk)


@pytest.mark.redis
def test_a_killed_worker_loses_no_row_and_imports_none_twice(
    world, saved_connection, broker, tmp_path, settings
) -> None:
    count("fault_cells")  # a cell of the fault matrix (issue 14): worker SIGKILL mid-job
    env, sender = broker
    settings.UKU_JOB_STALL_SECONDS = float(env["UKU_JOB_STALL_SECONDS"])
    saved_connection()
    preview, confirm = _confirm_job(world)
    worker = Worker(env, tmp_path / "worker.log")
    try:
        worker.start()
        sender.send_task("integrations.jobs.run_sync_job", args=[confirm.pk])
        _wait_for(
            "the first committed batch",
            lambda: _job(confirm.pk).progress_done >= 500,
            timeout=90,
            output=worker.output,
        )
        worker.kill()
        killed = _job(confirm.pk)
        assert killed.status == "running" and killed.progress_done < ROWS, "finished too soon"

        # The dead job is not joined: it shows as stalled, and a new worker takes it over.
        _wait_for("the job to stall", lambda: _job(confirm.pk).is_stalled, 30, worker.output)
        worker.start()
        _wait_for(
            "the resumed job to finish",
            lambda: _job(confirm.pk).status == "succeeded",
            timeout=120,
            output=worker.output,
        )
    finally:
        worker.stop()

    done = _job(confirm.pk)
    with scopes_disabled():
        clients = Client.objects.filter(company=world.firm_a)
        links = ExternalLink.objects.filter(company=world.firm_a)
        rows = CustomerImportRow.objects.filter(job=preview)
        assert clients.count() == ROWS
        assert links.count() == ROWS
        assert links.values("remote_id").distinct().count() == ROWS
        assert not rows.filter(outcome="").exists()
        assert rows.filter(outcome="created").count() == ROWS
    assert done.resumes >= 1 and done.counts["created"] == ROWS
    assert (done.progress_done, done.progress_total) == (ROWS, ROWS)
    assert "Traceback" not in worker.output(), worker.output()
    with scopes_disabled():
        count("records_lost", ROWS - links.count())
        count("orders_duplicated", links.count() - links.values("remote_id").distinct().count())
    count("fault_cells_passed")
