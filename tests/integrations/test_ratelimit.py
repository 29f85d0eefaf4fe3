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
