"""How `make run` starts this vendor's emulator for the demo (read by `scripts/run_all.py`).

A vendor that ships an emulator has `sandbox/demo.py` with `COMMAND` (its management command)
and `environment(port)`, the settings that point uku at the emulator, so the runner names no
vendor.
"""

from __future__ import annotations

COMMAND = ["tripletex_sandbox", "--seed", "demo"]


def environment(port: int) -> dict[str, str]:
    """Point uku's Test environment at the sandbox (unless configured otherwise)."""
    return {
        "TRIPLETEX_TEST_URL": f"http://127.0.0.1:{port}/v2",
        "TRIPLETEX_CONSUMER_TOKEN_TEST": "test-uku-sandbox-consumer",
    }
