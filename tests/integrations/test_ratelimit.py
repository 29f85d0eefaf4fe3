"""The shared rate-limit budget, in Redis and in the database, with a fake clock: two budget
instances stand for two workers sharing one vendor credential."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator

import pytest

from integrations.base import RateLimited
from integrations.models import RateLimitState
from integrations.ratelimit import DatabaseBudget, RateLimitBudget, RedisBudget, get_budget

KEY = "tripletex:" + "ab" * 20
START = 1_800_000_000.0


class FakeTime:
    """A clock that only moves when something sleeps, and remembers every sleep."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


@pytest.fixture
def fake() -> FakeTime:
    return FakeTime()


@pytest.fixture
def redis_budgets(settings) -> Iterator[Callable[[FakeTime], RateLimitBudget]]:
    prefix = f"uku:test:{uuid.uuid4().hex}:"
    made: list[RedisBudget] = []

    def make(fake: FakeTime) -> RateLimitBudget:
        budget = RedisBudget(settings.REDIS_URL, prefix=prefix, clock=fake.clock, sleep=fake.sleep)
        made.append(budget)
        return budget

    yield make
    if made:
        for key in made[0].redis.scan_iter(f"{prefix}*"):
            made[0].redis.delete(key)


@pytest.fixture
def database_budgets(db) -> Callable[[FakeTime], RateLimitBudget]:
    return lambda fake: DatabaseBudget(clock=fake.clock, sleep=fake.sleep)


@pytest.fixture(
    params=[
        pytest.param("redis_budgets", marks=pytest.mark.redis),
        pytest.param("database_budgets", marks=pytest.mark.django_db),
    ]
)
def two_workers(request, fake) -> tuple[RateLimitBudget, RateLimitBudget]:
    make = request.getfixturevalue(request.param)
    return make(fake), make(fake)


def test_it_lets_requests_through_while_the_period_has_room(two_workers, fake) -> None:
    first, second = two_workers
    assert second.wait(KEY) == 0  # nothing known yet
    first.update(KEY, limit=100, remaining=3, reset_seconds=40)
    assert second.wait(KEY) == 0 and fake.sleeps == []


def test_it_makes_every_worker_wait_for_an_exhausted_period(two_workers, fake) -> None:
    first, second = two_workers
    first.update(KEY, limit=100, remaining=0, reset_seconds=12)
    assert second.state(KEY).limit == 100
    assert second.wait(KEY) == pytest.approx(12)
    assert fake.sleeps == [pytest.approx(12)]
    assert first.wait(KEY) == 0  # the period has reset


def test_it_blocks_every_worker_after_a_429(two_workers, fake) -> None:
    first, second = two_workers
    first.update(KEY, limit=100, remaining=50, reset_seconds=60)
    first.block(KEY, 5)
    assert second.wait(KEY) == pytest.approx(5)
    assert first.wait(KEY) == 0


def test_it_never_shortens_a_block(two_workers, fake) -> None:
    first, second = two_workers
    first.block(KEY, 20)
    second.block(KEY, 5)
    assert first.state(KEY).blocked_until == pytest.approx(START + 20)


def test_it_raises_rate_limited_instead_of_sleeping_past_the_inline_wait(two_workers, fake) -> None:
    first, second = two_workers
    first.block(KEY, 120)
    with pytest.raises(RateLimited) as raised:
        second.wait(KEY, max_wait=30)  # the vendor client passes its own inline wait
    assert raised.value.retry_after == 120 and raised.value.permanent is False
    assert "120 seconds" in raised.value.message
    assert fake.sleeps == []
    fake.now += 100  # a later retry waits out the rest inline
    assert second.wait(KEY, max_wait=30) == pytest.approx(20)


def test_it_takes_the_inline_wait_from_the_caller_over_its_default(two_workers, fake) -> None:
    first, second = two_workers
    first.block(KEY, 20)
    with pytest.raises(RateLimited):
        second.wait(KEY, max_wait=10)
    assert fake.sleeps == []
    assert second.wait(KEY) == pytest.approx(20)  # DEFAULT_MAX_INLINE_WAIT is 30 seconds


def test_it_keeps_budgets_of_different_keys_apart(two_workers, fake) -> None:
    first, second = two_workers
    first.block(KEY, 10)
    assert second.wait("tripletex:" + "cd" * 20) == 0


@pytest.mark.redis
def test_it_lets_redis_forget_a_budget_after_it_stops_mattering(redis_budgets, fake) -> None:
    budget = redis_budgets(fake)
    budget.update(KEY, limit=10, remaining=0, reset_seconds=30)
    budget.block(KEY, 7)
    ttls = [budget.redis.ttl(key) for key in budget.redis.scan_iter(f"{budget.prefix}*")]
    assert len(ttls) == 2 and all(0 < ttl <= 30 + 60 for ttl in ttls)


@pytest.mark.django_db
def test_it_keeps_one_database_row_per_key(fake) -> None:
    budget = DatabaseBudget(clock=fake.clock, sleep=fake.sleep)
    budget.update(KEY, limit=10, remaining=9, reset_seconds=30)
    budget.block(KEY, 3)
    budget.update(KEY, limit=10, remaining=8, reset_seconds=29)
    row = RateLimitState.objects.get()
    assert (row.key, row.remaining) == (KEY, 8) and row.blocked_until is not None


def test_it_chooses_redis_when_configured_and_the_database_otherwise(settings) -> None:
    settings.REDIS_URL = "redis://127.0.0.1:6379/15"
    assert isinstance(get_budget(), RedisBudget)
    settings.REDIS_URL = ""
    assert isinstance(get_budget(), DatabaseBudget)


@pytest.mark.django_db
def test_a_response_costs_the_database_budget_one_statement(fake) -> None:
    """Every vendor call reports its headers: one upsert, whether the row exists or not, and a
    block set earlier survives it."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    budget = DatabaseBudget(clock=fake.clock, sleep=fake.sleep)
    with CaptureQueriesContext(connection) as first:
        budget.update(KEY, limit=10, remaining=9, reset_seconds=30)
    budget.block(KEY, 3)
    with CaptureQueriesContext(connection) as second:
        budget.update(KEY, limit=10, remaining=8, reset_seconds=29)
    assert len(first.captured_queries) == len(second.captured_queries) == 1
    row = RateLimitState.objects.get()
    assert (row.remaining, row.limit) == (8, 10) and row.blocked_until is not None


@pytest.mark.django_db
def test_a_roomy_count_is_written_only_every_few_seconds(fake) -> None:
    """A reload's calls each report a count far from the limit: the database budget writes
    one of them every ROOMY_WRITE_SECONDS instead of committing once per call, and writes a
    count that may make others wait (or the first roomy one after it) at once."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from integrations.ratelimit import ROOMY_WRITE_SECONDS

    budget = DatabaseBudget(clock=fake.clock, sleep=fake.sleep)
    with CaptureQueriesContext(connection) as roomy:
        for remaining in range(900, 890, -1):
            budget.update(KEY, limit=1000, remaining=remaining, reset_seconds=60)
        # Another adapter's budget in this process (a reload builds one per client-month).
        DatabaseBudget(clock=fake.clock, sleep=fake.sleep).update(KEY, 1000, 890, 59)
    assert len(roomy.captured_queries) == 1
    assert RateLimitState.objects.get().remaining == 900
    fake.now += ROOMY_WRITE_SECONDS
    budget.update(KEY, limit=1000, remaining=850, reset_seconds=55)
    assert RateLimitState.objects.get().remaining == 850
    budget.update(KEY, limit=1000, remaining=50, reset_seconds=54)  # 5 %: others may wait
    budget.update(KEY, limit=1000, remaining=0, reset_seconds=54)
    assert RateLimitState.objects.get().remaining == 0
    assert budget.wait(KEY, max_wait=60) == pytest.approx(54)
    budget.update(KEY, limit=1000, remaining=999, reset_seconds=60)  # a new period
    budget.update(KEY, limit=1000, remaining=998, reset_seconds=60)
    assert RateLimitState.objects.get().remaining == 999
    assert budget.wait(KEY) == 0


# --- Reservations: each request takes one before it is sent -------------------------------------


@pytest.fixture
def committed_database_budgets(transactional_db) -> Callable[[FakeTime], RateLimitBudget]:
    """Database budgets whose rows other threads see (each thread has its own connection)."""
    return lambda fake: DatabaseBudget(clock=fake.clock, sleep=fake.sleep)


@pytest.fixture(
    params=[
        pytest.param("redis_budgets", marks=pytest.mark.redis),
        pytest.param("committed_database_budgets", marks=pytest.mark.django_db(transaction=True)),
    ]
)
def workers(request, fake) -> Callable[[], RateLimitBudget]:
    make = request.getfixturevalue(request.param)
    return lambda: make(fake)


def _reserve_at_once(budgets: list[RateLimitBudget]) -> list[float]:
    """Each budget reserves in its own thread, all released together; the seconds each slept."""
    import threading

    from django.db import connection

    barrier = threading.Barrier(len(budgets))
    slept: list[float] = []
    errors: list[BaseException] = []

    def run(budget: RateLimitBudget) -> None:
        try:
            barrier.wait()
            slept.append(budget.reserve(KEY, max_wait=60))
        except BaseException as exc:  # re-raised in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(b,)) for b in budgets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]
    return sorted(slept)


def test_concurrent_reservations_never_spend_more_than_the_known_remaining(workers, fake) -> None:
    """Three workers about to send while the vendor said 2 calls are left: two go at once and
    the third waits for the period's reset, instead of all three sending and one getting a
    429 (what `wait`, which only reads, let happen)."""
    budgets = [workers() for _n in range(3)]
    budgets[0].update(KEY, limit=100, remaining=2, reset_seconds=12)
    assert _reserve_at_once(budgets) == [0, 0, pytest.approx(12)]


def test_an_older_answer_does_not_give_back_what_was_reserved(two_workers, fake) -> None:
    """An answer in flight reports a count from before the reservations made since: within
    the period the smaller count holds, so the next request still waits for the reset."""
    first, second = two_workers
    first.update(KEY, limit=100, remaining=2, reset_seconds=12)
    assert first.reserve(KEY) == 0 and second.reserve(KEY) == 0
    first.update(KEY, limit=100, remaining=1, reset_seconds=11)  # sent before the second
    assert second.state(KEY).remaining == 0
    assert second.reserve(KEY, max_wait=60) == pytest.approx(11)


def test_a_new_period_is_reserved_from_the_limit_until_its_first_answer(two_workers, fake) -> None:
    """Once the period is over the first reservation starts the next one from the limit; the
    new period's first answer can only lower that count, and an answer from the old period
    (still in flight across the reset) changes nothing."""
    first, second = two_workers
    first.update(KEY, limit=3, remaining=0, reset_seconds=5)
    assert first.reserve(KEY, max_wait=60) == pytest.approx(5)  # slept to the reset, took one
    assert second.reserve(KEY) == 0
    first.update(KEY, limit=3, remaining=0, reset_seconds=0)  # the old period's last answer
    assert second.state(KEY).remaining == 1
    second.update(KEY, limit=3, remaining=2, reset_seconds=10)  # the new period's first
    assert first.state(KEY).remaining == 1
    assert first.reserve(KEY) == 0
    with pytest.raises(RateLimited):
        second.reserve(KEY, max_wait=5)  # spent: the next waits the reset (10 s), not 5
    assert second.reserve(KEY, max_wait=60) == pytest.approx(10)


def test_a_reservation_sleeps_out_a_429_block_once(two_workers) -> None:
    """A sleep that returns at once (tests inject one) still counts as the wait it was asked
    for: the block is slept out once, not again and again on a clock that did not move."""
    import time

    sleeps: list[float] = []
    first, second = two_workers
    for budget in (first, second):
        budget.clock, budget.sleep = time.time, sleeps.append
    first.update(KEY, limit=100, remaining=0, reset_seconds=2)
    first.block(KEY, 2)
    assert second.reserve(KEY) == pytest.approx(2, abs=0.1)
    assert len(sleeps) == 1


@pytest.mark.django_db
def test_a_roomy_reservation_costs_the_database_no_write(fake) -> None:
    """While plenty of calls are left a reservation takes one from this process's count: one
    read, as `wait` made, and no write (a reload must not commit once per call)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    budget = DatabaseBudget(clock=fake.clock, sleep=fake.sleep)
    budget.update(KEY, limit=1000, remaining=900, reset_seconds=60)
    with CaptureQueriesContext(connection) as reserving:
        for _n in range(10):
            assert budget.reserve(KEY) == 0
    sql = [q["sql"].lstrip().upper() for q in reserving.captured_queries]
    assert len(sql) == 10 and all(s.startswith("SELECT") for s in sql)
    # Low counts are taken from the shared row, so other processes see them at once.
    budget.update(KEY, limit=1000, remaining=3, reset_seconds=50)
    assert budget.reserve(KEY) == 0
    assert RateLimitState.objects.get().remaining == 2
