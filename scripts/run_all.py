"""Run uku's processes in the foreground for `make run`: web, worker, beat and the Tripletex sandbox.

Ctrl-C (or SIGTERM) stops all of them; if one dies, the others are stopped too, so a half-running
demo never hides an error.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def commands() -> dict[str, list[str]]:
    port = os.environ.get("PORT", "8000")
    sandbox_port = os.environ.get("SANDBOX_PORT", "8765")
    procs = {
        "web": [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        "worker": [
            str(BIN / "celery"),
            "-A",
            "uku",
            "worker",
            "--loglevel",
            "INFO",
            "--concurrency",
            "2",
        ],
        "beat": [str(BIN / "celery"), "-A", "uku", "beat", "--loglevel", "INFO"],
    }
    if (ROOT / "integrations/management/commands/tripletex_sandbox.py").exists():
        procs["sandbox"] = [
            sys.executable,
            "manage.py",
            "tripletex_sandbox",
            "--port",
            sandbox_port,
            "--seed",
            "demo",
        ]
    return procs


def sandbox_environment() -> None:
    """Point the Test environment at the bundled Tripletex sandbox (unless configured otherwise),
    so the demo firm can connect with the employee token the sandbox prints."""
    port = os.environ.get("SANDBOX_PORT", "8765")
    os.environ.setdefault("TRIPLETEX_TEST_URL", f"http://127.0.0.1:{port}/v2")
    os.environ.setdefault("TRIPLETEX_CONSUMER_TOKEN_TEST", "test-uku-sandbox-consumer")


def main() -> int:
    sandbox_environment()
    children: dict[str, subprocess.Popen[bytes]] = {}
    stopping = False

    def stop(*_args: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for name, cmd in commands().items():
        print(f"[run] starting {name}: {' '.join(cmd[1:] if cmd[0] == sys.executable else cmd)}")
        children[name] = subprocess.Popen(cmd, cwd=ROOT)  # noqa: S603 - our own commands
    port = os.environ.get("PORT", "8000")
    print(f"[run] uku is at http://127.0.0.1:{port}/  (Ctrl-C stops everything)", flush=True)
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"[run] {name} exited with {child.returncode}; stopping the rest.")
                exit_code = child.returncode or 1
                stopping = True
                break
        time.sleep(0.5)
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    deadline = time.monotonic() + 10
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
