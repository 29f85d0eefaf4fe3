"""The reliability report: each test counts what it proved, `make reliability` adds it up.

A test calls ``count("fault_cells")`` (or ``count("fuzz_cases", n)``) at the point where the
thing it counts has been asserted, so a figure in ``var/reliability.json`` is always a number of
checks that ran and passed, never a number typed in. Counting is off unless
``UKU_RELIABILITY_PARTS`` names a directory (``make reliability`` sets it); then every pytest
worker appends JSON lines to its own file there, and ``python -m tests.reliability.report``
sums them into ``var/reliability.json``.

Keys (issue 14, section 6): ``fault_cells``, ``fault_cells_passed``, ``records_lost``,
``orders_duplicated``, ``isolation_routes``, ``isolation_routes_unregistered``,
``role_plan_cases``, ``secret_leaks``, ``fuzz_cases``, ``fuzz_server_errors``. A key that no test
counted is reported as 0, except that the summary fails when a key is missing entirely, so a
section that silently stopped running cannot look clean.
"""

from __future__ import annotations

import json
import os
import sys
from collections import Counter
from pathlib import Path

KEYS = (
    "fault_cells",
    "fault_cells_passed",
    "records_lost",
    "orders_duplicated",
    "isolation_routes",
    "isolation_routes_unregistered",
    "role_plan_cases",
    "secret_leaks",
    "fuzz_cases",
    "fuzz_server_errors",
)

# Keys that may legitimately be counted as zero (the clean outcome); every other key must have
# been counted at least once for the report to be complete.
ZERO_IS_CLEAN = {
    "records_lost",
    "orders_duplicated",
    "isolation_routes_unregistered",
    "secret_leaks",
    "fuzz_server_errors",
}


def count(key: str, n: int = 1) -> None:
    """Add ``n`` to ``key`` in this run's report (a no-op outside ``make reliability``).

    Call it with ``n=0`` for a clean outcome (``count("secret_leaks", 0)``) so the report knows
    the check ran.
    """
    if key not in KEYS:
        raise KeyError(f"unknown reliability key {key!r}; add it to tests/reliability/report.py")
    parts = os.environ.get("UKU_RELIABILITY_PARTS")
    if not parts:
        return
    directory = Path(parts)
    directory.mkdir(parents=True, exist_ok=True)
    worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    with (directory / f"{worker}-{os.getpid()}.jsonl").open("a", encoding="utf-8") as out:
        out.write(json.dumps({"key": key, "n": n}) + "\n")


def fuzz_budget(quick: int = 25, full: int = 300) -> int:
    """How many examples a property-based test tries: small in `make test`, large in
    `make reliability` (``UKU_FUZZ_EXAMPLES``)."""
    value = os.environ.get("UKU_FUZZ_EXAMPLES")
    return int(value) if value else quick if not os.environ.get("UKU_RELIABILITY_PARTS") else full


def summarise(parts: Path) -> dict[str, int]:
    totals: Counter[str] = Counter()
    seen: set[str] = set()
    for path in sorted(parts.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                entry = json.loads(line)
                totals[entry["key"]] += int(entry["n"])
                seen.add(entry["key"])
    missing = [key for key in KEYS if key not in seen]
    if missing:
        raise SystemExit(f"reliability report incomplete: nothing counted {', '.join(missing)}")
    return {key: totals[key] for key in KEYS}


def main(argv: list[str]) -> int:
    parts = Path(argv[1] if len(argv) > 1 else "var/reliability-parts")
    target = Path(argv[2] if len(argv) > 2 else "var/reliability.json")
    report = summarise(parts)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    width = max(len(key) for key in report)
    for key, value in report.items():
        print(f"{key:<{width}}  {value}")
    from tests.reliability.matrix import describe

    for line in describe():
        print(line)
    failed = [key for key in ZERO_IS_CLEAN if report[key]]
    failed += [k for k in ("fault_cells",) if report["fault_cells_passed"] != report["fault_cells"]]
    if failed:
        print(f"reliability: FAILED ({', '.join(failed)})")
        return 1
    print(f"reliability: written to {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
