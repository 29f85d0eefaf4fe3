"""How `make run` starts the Merit emulator for the demo (read by `scripts/run_all.py`).

`COMMAND` is the management command; `environment(port)` points each country instance of uku's
Merit integration at the emulator (unless the environment already says otherwise), so the demo
firm connects with the API ID and key the command prints.
"""

from __future__ import annotations

COMMAND = ["merit_sandbox", "--seed", "demo"]


def environment(port: int) -> dict[str, str]:
    """`MERIT_EE_URL`, `MERIT_FI_URL` and `MERIT_PL_URL` for the emulator on `port`."""
    base = f"http://127.0.0.1:{port}"
    return {
        "MERIT_EE_URL": f"{base}/ee/api/v1/",
        "MERIT_FI_URL": f"{base}/fi/api/v1/",
        "MERIT_PL_URL": f"{base}/pl/api/v1/",
    }
