"""The fault matrix's table, free of Django so `python -m tests.reliability.report` can print it.

`JOB_KEYS` x `FAULTS` x the vendors of `tests.reliability.jobs.VENDORS` are the cells of
`test_fault_matrix.py`; `NOT_APPLICABLE` lists the cells that do not apply, with why, and
`PROCESS_FAULTS` what `test_process_faults.py` (and the worker-kill tests) cover instead.
"""

from __future__ import annotations

JOB_KEYS = (
    "customer_preview",
    "customer_confirm",
    "product_import",
    "vat_import",
    "statistics_import",
    "reload",
    "invoice_export",
    "invoice_status",
)
# Jobs whose faulted call is a write to the vendor.
WRITE_JOBS = frozenset({"invoice_export"})
FAULTS = (
    "429_retry_after",
    "429_no_retry_after",
    "500",
    "503_html",
    "read_timeout",
    "dropped_connection",
    "malformed_json",
    "401",
    "lose_response",
)
PERMANENT = frozenset({"401"})

# (job, fault) -> why the cell does not apply, for every vendor.
NOT_APPLICABLE: dict[tuple[str, str], str] = {
    **{
        (job, "lose_response"): "a read: a lost answer to it is a dropped connection, covered there"
        for job in JOB_KEYS
        if job not in WRITE_JOBS
    },
    **{
        ("customer_confirm", fault): "the confirm calls no vendor: it imports the rows its "
        "preview read (a fault on that read is the preview's cell); its process faults are in "
        "test_process_faults.py"
        for fault in FAULTS
    },
}

# Process faults: where each is proved, or why it is not.
PROCESS_FAULTS: dict[str, str] = {
    "worker SIGKILL mid-job": "tests/integrations/test_worker_kill.py (customer import, reload) "
    "and tests/billing/test_export_worker_kill.py (invoice export): a real Celery worker on "
    "Redis killed and restarted",
    "database connection dropped mid-job": "tests/reliability/test_process_faults.py, every "
    "job x vendor: pg_terminate_backend from a side connection while uku waits for the job's "
    "own vendor call (the export: its write), and for the confirm between two batches; each "
    "job retries on a new connection and ends done, nothing lost or written twice",
    "broker down on enqueue": "tests/reliability/test_process_faults.py: a sync job fails "
    "visibly with 'could not be queued', and a new request runs; an invoice export waits "
    "pending in its outbox row and the sweeper sends it, once, when the broker is back",
    "Redis restarted mid-job": "NOT APPLICABLE as a restart: the machine's Redis is shared by "
    "every test run, so it is never restarted; a job's truth is its database row (the broker "
    "only wakes a worker), so a lost message is the 'broker down on enqueue' cell, and a lost "
    "running task is the SIGKILL cell (the sweeper resends both)",
}


def describe() -> list[str]:
    """The cells that do not apply and the process faults, as lines for the report."""
    lines = [
        f"not applicable: {job} x {fault}: {why}" for (job, fault), why in NOT_APPLICABLE.items()
    ]
    lines += [f"process fault: {name}: {where}" for name, where in PROCESS_FAULTS.items()]
    return lines
