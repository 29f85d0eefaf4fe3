"""The shared rate-limit budget: one per vendor credential, shared by every worker and process.

Vendors such as Tripletex count requests per credential (per employee token and API consumer),
not per process. If each Celery worker only honoured the 429s it saw itself, ten workers would
each burn through the period and each be told to wait. So every client reports the vendor's
rate-limit headers here after each response, and asks here before each request; the state lives
where every worker sees it:

* `RedisBudget` when `settings.REDIS_URL` is set (production): two small keys per credential,
  each with a TTL, so nothing needs cleaning up;
* `DatabaseBudget` otherwise (the embedded default): one `RateLimitState` row per credential.

A key is always a hash of the credential (callers build it, e.g. `tripletex:<sha256>`), never
the credential itself: keys show up in Redis, the database and logs.

A budget never sleeps longer than the caller's maximum inline wait in one call (the vendor client
passes it: Tripletex's comes from `settings.TRIPLETEX_MAX_INLINE_WAIT`; without one,
`DEFAULT_MAX_INLINE_WAIT`): a longer wait raises `RateLimited(retry_after=...)`, so a Celery task
can retry later instead of holding a worker hostage. The clock and sleep are injectable so tests
need not wait.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils.translation import gettext as _
from redis.exceptions import RedisError

from integrations.base import RateLimited, _process_caches

logger = logging.getLogger(__name__)

Clock = Callable[[], float]  # seconds since the epoch, like time.time
Sleep = Callable[[float], None]

# Seconds a budget may sleep inline when neither the caller nor the budget says otherwise.
DEFAULT_MAX_INLINE_WAIT = 30.0

# Keep state a little past its reset so a late worker still sees the last known numbers.
_TTL_MARGIN = 60


@dataclass(frozen=True)
class BudgetState:
    """What a budget knows about one key. Times are epoch seconds; `None` means unknown."""

    limit: int | None = None
    remaining: int | None = None
    reset_at: float | None = None
    blocked_until: float | None = None

    def wait_seconds(self, now: float) -> float:
        """How long a request must wait now: until a 429 block ends, or until an exhausted
        period resets. 0 when a request may go."""
        until = self.blocked_until or 0.0
        if self.remaining is not None and self.remaining <= 0 and self.reset_at is not None:
            until = max(until, self.reset_at)
        return max(0.0, until - now)


class RateLimitBudget:
    """Interface of the shared budget. Subclasses store `BudgetState` somewhere shared.

    All methods are safe to call from many threads and processes at once; `update` and `block`
    are idempotent for the same arguments.
    """

    def __init__(
        self,
        *,
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        max_inline_wait: float | None = None,
    ) -> None:
        self.clock: Clock = clock if clock is not None else time.time
        self.sleep: Sleep = sleep if sleep is not None else time.sleep
        self._max_inline_wait = max_inline_wait

    @property
    def max_inline_wait(self) -> float:
        """The longest inline sleep when `wait` is given no `max_wait`: the constructor's value,
        else `DEFAULT_MAX_INLINE_WAIT`. Vendor settings belong to the vendor client, which
        passes its own to `wait`, so one budget can serve vendors with different limits."""
        if self._max_inline_wait is not None:
            return self._max_inline_wait
        return DEFAULT_MAX_INLINE_WAIT

    # --- storage, per backend -------------------------------------------------------------------

    def state(self, key: str) -> BudgetState:
        """The shared state for `key` (an empty state when nothing is known)."""
        raise NotImplementedError

    def update(
        self, key: str, limit: int | None, remaining: int | None, reset_seconds: float | None
    ) -> None:
        """Record the vendor's rate-limit headers from a response (`X-Rate-Limit-Limit`,
        `-Remaining`, `-Reset` in seconds). Missing values are ignored. Idempotent."""
        raise NotImplementedError

    def block(self, key: str, seconds: float) -> None:
        """Stop every worker using `key` for `seconds` (after a 429). Never shortens an existing
        block. Idempotent."""
        raise NotImplementedError

    # --- shared behaviour -----------------------------------------------------------------------

    def wait(self, key: str, max_wait: float | None = None) -> float:
        """Call before each request. Returns at once when the budget allows a request; sleeps
        until the period resets or the block ends when that is short; raises
        `RateLimited(retry_after=...)` when the wait would exceed `max_wait` seconds (`None`:
        `max_inline_wait`). Returns the seconds slept. Makes no request and changes no state."""
        delay = self.state(key).wait_seconds(self.clock())
        if delay <= 0:
            return 0.0
        limit = self.max_inline_wait if max_wait is None else max_wait
        if delay > limit:
            raise rate_limited(delay)
        self.sleep(delay)
        return delay


def rate_limited(retry_after: float) -> RateLimited:
    """The `RateLimited` error with a user-facing message (whole seconds, at least 1)."""
    seconds = max(1, math.ceil(retry_after))
    return RateLimited(
        _(
            "The accounting system asked uku to slow down (rate limit). "
            "uku will try again in %(seconds)d seconds."
        )
        % {"seconds": seconds},
        retry_after=float(seconds),
        details={"retry_after": seconds},
    )


# --- Redis -------------------------------------------------------------------------------------------


class RedisBudget(RateLimitBudget):
    """Budget state in Redis: a hash `<prefix><key>` (limit, remaining, reset_at) and a string
    `<prefix><key>:blocked` (epoch seconds), each expiring shortly after it stops mattering."""

    # Raise the block atomically: only ever move `blocked_until` later (two workers may both see
    # a 429 with different Retry-After values; the longer one must win).
    _BLOCK_SCRIPT = """
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then
  redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[2])
end
return 1
"""

    def __init__(
        self,
        url: str | None = None,
        *,
        prefix: str = "uku:ratelimit:",
        clock: Clock | None = None,
        sleep: Sleep | None = None,
        max_inline_wait: float | None = None,
    ) -> None:
        super().__init__(clock=clock, sleep=sleep, max_inline_wait=max_inline_wait)
        self.redis: Any = _redis_client(url or settings.REDIS_URL)
        self.prefix = prefix

    def _keys(self, key: str) -> tuple[str, str]:
        return f"{self.prefix}{key}", f"{self.prefix}{key}:blocked"

    def state(self, key: str) -> BudgetState:
        period_key, block_key = self._keys(key)
        pipe = self.redis.pipeline()
        pipe.hgetall(period_key)
        pipe.get(block_key)
        try:
            values, blocked = pipe.execute()
        except RedisError:
            # Fail open: an unreachable Redis must not stop every sync; the vendor's own 429s
            # still protect it, and each is honoured by the client that receives it.
            logger.warning("rate-limit budget: Redis unavailable, not waiting", exc_info=True)
            return BudgetState()
        values = {k.decode(): v.decode() for k, v in (values or {}).items()}
        return BudgetState(
            limit=_int(values.get("limit")),
            remaining=_int(values.get("remaining")),
            reset_at=_float(values.get("reset_at")),
            blocked_until=_float(blocked.decode() if blocked else None),
        )

    def update(
        self, key: str, limit: int | None, remaining: int | None, reset_seconds: float | None
    ) -> None:
        mapping: dict[str, str] = {}
        if limit is not None:
            mapping["limit"] = str(limit)
        if remaining is not None:
            mapping["remaining"] = str(remaining)
        if reset_seconds is not None:
            mapping["reset_at"] = repr(self.clock() + reset_seconds)
        if not mapping:
            return
        period_key, _block_key = self._keys(key)
        ttl = math.ceil(reset_seconds or 0) + _TTL_MARGIN
        pipe = self.redis.pipeline()
        pipe.hset(period_key, mapping=mapping)
        pipe.expire(period_key, ttl)
        try:
            pipe.execute()
        except RedisError:
            logger.warning("rate-limit budget: Redis unavailable, update lost", exc_info=True)

    def block(self, key: str, seconds: float) -> None:
        _period_key, block_key = self._keys(key)
        until = self.clock() + max(0.0, seconds)
        ttl = math.ceil(max(0.0, seconds)) + _TTL_MARGIN
        try:
            self.redis.eval(self._BLOCK_SCRIPT, 1, block_key, repr(until), ttl)
        except RedisError:
            logger.warning("rate-limit budget: Redis unavailable, block lost", exc_info=True)


# --- Database ----------------------------------------------------------------------------------------


#: A response leaving more than this share of the period's limit (and at least
#: `ROOMY_REMAINING_MIN` calls) cannot make any worker wait: the database budget writes it
#: only every `ROOMY_WRITE_SECONDS` per key, so a reload does not commit once per vendor call.
ROOMY_REMAINING_SHARE = 0.1
ROOMY_REMAINING_MIN = 20
ROOMY_WRITE_SECONDS = 5.0


class _WrittenCounts:
    """What this process last wrote per key (every `DatabaseBudget` of it: a reload builds
    an adapter, so a budget, per client-month): key -> (when, whether roomy, the limit).
    Registered with `clear_process_caches`."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[float, bool, int | None]] = {}
        self.lock = threading.Lock()
        _process_caches.append(self)

    def clear(self) -> None:
        with self.lock:
            self.values.clear()


_written = _WrittenCounts()


class DatabaseBudget(RateLimitBudget):
    """Budget state in the `RateLimitState` table (one row per key), for deployments without
    Redis. Writes are single `UPDATE`/`INSERT` statements, so concurrent workers cannot lose a
    block. A response with plenty of calls left is written at most every
    `ROOMY_WRITE_SECONDS` per key by this process: what others read then is an older count that
    was roomy too, and no worker waits on a roomy count (`BudgetState.wait_seconds`)."""

    @staticmethod
    def _roomy(limit: int | None, remaining: int | None) -> bool:
        if remaining is None:
            return False
        return remaining > max(ROOMY_REMAINING_MIN, (limit or 0) * ROOMY_REMAINING_SHARE)

    def _must_write(self, key: str, limit: int | None, remaining: int | None) -> bool:
        """Whether this response's headers must reach the table: a count that is not roomy
        (others may have to wait on it), the first roomy count after one that was not (so
        nobody keeps waiting on a stale low count), a changed limit, or a stale row."""
        now = self.clock()
        roomy = self._roomy(limit, remaining)
        with _written.lock:
            last = _written.values.get(key)
            if (
                roomy
                and last is not None
                and last[1]
                and last[2] == limit
                and 0 <= now - last[0] < ROOMY_WRITE_SECONDS
            ):
                return False
            _written.values[key] = (now, roomy, limit)
            return True

    def _dt(self, seconds: float) -> datetime:
        return datetime.fromtimestamp(seconds, UTC)

    def state(self, key: str) -> BudgetState:
        from integrations.models import RateLimitState

        row = RateLimitState.objects.filter(key=key).first()
        if row is None:
            return BudgetState()
        return BudgetState(
            limit=row.limit,
            remaining=row.remaining,
            reset_at=row.reset_at.timestamp() if row.reset_at else None,
            blocked_until=row.blocked_until.timestamp() if row.blocked_until else None,
        )

    def update(
        self, key: str, limit: int | None, remaining: int | None, reset_seconds: float | None
    ) -> None:
        from integrations.models import RateLimitState

        defaults: dict[str, object] = {}
        if limit is not None:
            defaults["limit"] = limit
        if remaining is not None:
            defaults["remaining"] = remaining
        if reset_seconds is not None:
            defaults["reset_at"] = self._dt(self.clock() + reset_seconds)
        if defaults and self._must_write(key, limit, remaining):
            # One statement (an upsert on the key), not a locking read and a write: this runs
            # after every call a vendor client makes whose count is not roomy.
            RateLimitState.objects.bulk_create(
                [RateLimitState(key=key, **defaults)],
                update_conflicts=True,
                unique_fields=["key"],
                update_fields=[*defaults, "updated_at"],
            )

    def block(self, key: str, seconds: float) -> None:
        from integrations.models import RateLimitState

        until = self._dt(self.clock() + max(0.0, seconds))
        RateLimitState.objects.get_or_create(key=key)
        # A conditional UPDATE: the database serialises it, and a shorter block never wins.
        RateLimitState.objects.filter(key=key).filter(
            Q(blocked_until__isnull=True) | Q(blocked_until__lt=until)
        ).update(blocked_until=until)


def get_budget(*, clock: Clock | None = None, sleep: Sleep | None = None) -> RateLimitBudget:
    """The budget this deployment shares between workers: Redis when `settings.REDIS_URL` is
    set, else the database. Cheap to call; makes no connection until used."""
    if getattr(settings, "REDIS_URL", ""):
        return RedisBudget(settings.REDIS_URL, clock=clock, sleep=sleep)
    return DatabaseBudget(clock=clock, sleep=sleep)


_redis_clients: dict[str, Any] = {}
_redis_lock = threading.Lock()


def _redis_client(url: str) -> Any:
    """One client (one connection pool) per URL and process: budgets are created per API
    client, and a pool per API client would open a Redis connection per Tripletex call."""
    with _redis_lock:
        client = _redis_clients.get(url)
        if client is None:
            import redis

            client = _redis_clients[url] = redis.Redis.from_url(
                url, socket_timeout=5, socket_connect_timeout=5
            )
        return client


def _int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


def _float(value: str | None) -> float | None:
    try:
        return float(value) if value not in (None, "") else None
    except ValueError:
        return None
