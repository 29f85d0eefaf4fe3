"""Run uku's processes in the foreground for `make run`: web, worker, beat and each accounting
system's emulator (those in `settings.UKU_ACCOUNTING_SYSTEMS` with a `sandbox/demo.py`; the first
listens on SANDBOX_PORT, the next on the port after it, ...).

Ctrl-C (or SIGTERM) stops all of them; if one dies, the others are stopped too, so a half-running
demo never hides an error.
"""

from __future__ import annotations

import importlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # run as a script: make the project importable
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
    for name, (listen_port, demo) in sandboxes(int(sandbox_port)).items():
        procs[f"{name} sandbox"] = [
            sys.executable,
            "manage.py",
            *demo.COMMAND,
            "--port",
            str(listen_port),
        ]
    return procs


def sandboxes(first_port: int) -> dict[str, tuple[int, ModuleType]]:
    """Each registered accounting system that ships an emulator: its port and `sandbox.demo`."""
    import django
    from django.conf import settings

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "uku.settings")
    django.setup()
    found: dict[str, tuple[int, ModuleType]] = {}
    for package in settings.UKU_ACCOUNTING_SYSTEMS:
        try:
            demo = importlib.import_module(f"{package}.sandbox.demo")
        except ModuleNotFoundError as missing:
            if missing.name not in (f"{package}.sandbox", f"{package}.sandbox.demo"):
                raise  # a broken import inside the emulator must not hide it
            continue
        found[package.rpartition(".")[2]] = (first_port + len(found), demo)
    return found


def sandbox_environment() -> None:
    """Point each accounting system at its bundled emulator (unless configured otherwise), so the
    demo firm can connect with the credentials the emulator prints."""
    for port, demo in sandboxes(int(os.environ.get("SANDBOX_PORT", "8765"))).values():
        for name, value in demo.environment(port).items():
            os.environ.setdefault(name, value)


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
