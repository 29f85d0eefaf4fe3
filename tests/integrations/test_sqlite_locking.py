"""The embedded default (SQLite, web + beat + two worker processes on one file) never fails a
job with "database is locked": writers wait for the lock instead (issue 8, item 4).

Two real processes run read-then-write transactions against one file at the same time, as two
firms' imports do. With SQLite's default deferred transactions one of them is refused at once
(both hold a read lock, neither can upgrade); uku's settings take the write lock at BEGIN
(IMMEDIATE), use WAL and a busy timeout, so both finish.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

WRITER = """
import sys, time
import django
django.setup()
from django.db import connection, transaction
with connection.cursor() as cursor:
    cursor.execute("CREATE TABLE IF NOT EXISTS work (who TEXT, n INTEGER)")
for n in range(25):
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT COUNT(*) FROM work")  # read first, as a batch does
            time.sleep(0.1)
            cursor.execute("INSERT INTO work VALUES (%s, %s)", [sys.argv[1], n])
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    print(cursor.fetchone()[0])
"""


def test_two_processes_writing_at_once_both_finish(tmp_path) -> None:
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "uku.settings",
        "UKU_TESTING": "0",
        "DEBUG": "1",
        "UKU_VAR_DIR": str(tmp_path),
    }
    env.pop("DATABASE_URL", None)  # the embedded default: SQLite under UKU_VAR_DIR
    writers = [
        subprocess.Popen(  # noqa: S603 - our own interpreter
            [sys.executable, "-c", WRITER, name],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for name in ("firm-a", "firm-b")
    ]
    outputs = [w.communicate(timeout=120)[0].decode(errors="replace") for w in writers]
    for writer, output in zip(writers, outputs, strict=True):
        assert writer.returncode == 0, output
        assert "database is locked" not in output
        assert output.strip().splitlines()[-1] == "wal"
