"""The fake vendor's state: a JSON file shared by every process that opens it (the test and a
real Celery worker), locked with `fcntl` for each read-modify-write.

`objects` are the invoices the vendor holds; `faults` are queued per operation ("export",
"find", "statuses") and each is used once, in order; `calls` counts calls per operation.
"""

from __future__ import annotations

import fcntl
import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

EMPTY: dict[str, Any] = {"objects": [], "faults": {}, "calls": {}, "next_id": 1000, "statuses": {}}


class FakeStore:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.exists():
            self.path.write_text(json.dumps(EMPTY))

    @contextmanager
    def state(self) -> Iterator[dict[str, Any]]:
        """The state, locked; written back when the block ends (also after an exception)."""
        with open(self.path.with_suffix(".lock"), "a") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                data = json.loads(self.path.read_text())
                try:
                    yield data
                finally:
                    self.path.write_text(json.dumps(data))
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def read(self) -> dict[str, Any]:
        with self.state() as data:
            return json.loads(json.dumps(data))

    def add_faults(self, operation: str, *faults: str) -> None:
        with self.state() as data:
            data["faults"].setdefault(operation, []).extend(faults)

    def set_status(self, remote_id: str, **status: Any) -> None:
        with self.state() as data:
            data["statuses"][remote_id] = status

    @property
    def objects(self) -> list[dict[str, Any]]:
        return self.read()["objects"]

    def calls(self, operation: str) -> int:
        return int(self.read()["calls"].get(operation, 0))
