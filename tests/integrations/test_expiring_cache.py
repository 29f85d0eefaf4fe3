"""`integrations.base.ExpiringCache`: the per-process cache of rarely changing vendor lookups."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest

from integrations.base import ExpiringCache


def test_threads_asking_for_a_key_being_loaded_wait_for_that_load() -> None:
    cache: ExpiringCache[int] = ExpiringCache(60)
    loads: list[str] = []
    started = threading.Event()

    def slow_load() -> int:
        loads.append("company-1")
        started.set()
        time.sleep(0.2)
        return 7

    with ThreadPoolExecutor(5) as pool:
        first = pool.submit(cache.get, "owner:1", slow_load)
        started.wait(5)
        others = [pool.submit(cache.get, "owner:1", slow_load) for _ in range(3)]
        # Another key is not held up by the load in flight.
        other_key = pool.submit(cache.get, "owner:2", lambda: 9)
        assert other_key.result(timeout=0.15) == 9
        assert [first.result(), *(f.result() for f in others)] == [7, 7, 7, 7]
    assert loads == ["company-1"]  # one vendor listing, not four


def test_an_entry_expires_and_a_failed_load_stores_nothing() -> None:
    now = [1000.0]
    cache: ExpiringCache[str] = ExpiringCache(60, clock=lambda: now[0])
    assert cache.get("k", lambda: "first") == "first"
    now[0] += 59
    assert cache.get("k", lambda: "second") == "first"
    now[0] += 2
    assert cache.get("k", lambda: "second") == "second"

    def refused() -> str:
        raise RuntimeError("vendor busy")

    with pytest.raises(RuntimeError):
        cache.get("other", refused)
    assert cache.get("other", lambda: "later") == "later"
    cache.forget("k")
    assert cache.get("k", lambda: "third") == "third"
