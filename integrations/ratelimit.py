"""The shared rate-limit budget: one per vendor credential, shared by every worker and process.

Vendors such as Tripletex count requests per credential (per employee token and API consumer),
not per process. If each Celery worker only honoured the 429s it saw itself, ten workers would
each burn through the period and each be told to wait. So every client reports the vendor's
rate-limit headers here after each response, and reserves one call here before each request
(`reserve`: threads and workers sending at once cannot all spend the same last calls, which
answers still in flight have not yet counted); the state lives where every worker sees it:

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

# A wait shorter than this is not slept (a millisecond: what float rounding leaves over).
_NEGLIGIBLE_WAIT = 0.001

#: When a period is over, the first reservation starts the next one with `limit - 1` left
#: and this provisional reset (seconds), until the first answer of the new period says when it
#: really ends. Only an exhausted new period with no answer yet waits this long.
PROVISIONAL_PERIOD_SECONDS = 5.0


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

    def _take(self, key: str, now: float) -> float:
        """Take one request from the period's known count at `now`, atomically for every
        worker: 0 when taken (or when nothing is known: a request may go), else the seconds to
        wait before trying again (a block, or an exhausted period's reset).

        This default only reads `state` (what `wait` does), taking nothing: a backend that
        can take atomically overrides it, as `RedisBudget` and `DatabaseBudget` do."""
        return self.state(key).wait_seconds(now)

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

    def reserve(self, key: str, max_wait: float | None = None) -> float:
        """Call before each request, instead of `wait`: takes one request from the period's
        known remaining count, so that workers and threads sending at once cannot all spend the
        same last calls (each response's `update` then says what the vendor counted). When the
        known count is spent, or a 429 blocked the key, it sleeps until the reset or the block's
        end and tries again; raises `RateLimited(retry_after=...)` instead when the waits would
        exceed `max_wait` seconds in all (`None`: `max_inline_wait`). Returns the seconds slept.

        After a sleep the next try counts time from the sleep's end even when the clock has not
        moved (tests inject a sleep that returns at once), so one wait is never slept twice."""
        limit = self.max_inline_wait if max_wait is None else max_wait
        start = self.clock()
        slept = 0.0
        while True:
            delay = self._take(key, max(self.clock(), start + slept))
            if delay < _NEGLIGIBLE_WAIT:  # what rounding leaves of a wait just slept
                return slept
            if slept + delay > limit:
                raise rate_limited(delay)
            self.sleep(delay)
            slept += delay


def _merged_remaining(
    current: int | None, current_reset: float | None, reported: int, now: float
) -> int:
    """The count to keep when a response reports `reported` calls left: within a period
    that is still running, never more than what is already known, since reservations made
    after that response was sent have spent some of it (headers of answers in flight are
    older than the count); otherwise (a new period, nothing known) the vendor's count."""
    if current is not None and current_reset is not None and current_reset > now:
        return min(current, reported)
    return reported


def _reported(
    remaining: int | None, reset_seconds: float | None
) -> tuple[int | None, float | None]:
    """A response's remaining count and reset, or neither when it describes a period already
    over (an answer that was in flight across the reset): it must not hold the new period."""
    if reset_seconds is not None and reset_seconds <= 0:
        return None, None
    return remaining, reset_seconds


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

    # Take one request (see `RateLimitBudget._take`), atomically. KEYS: the period hash, the
    # block key; ARGV: now, the provisional period, the TTL margin. Answers a string (Lua
    # numbers become integers in replies): "0" when taken, else the seconds to wait.
    _TAKE_SCRIPT = """
local now = tonumber(ARGV[1])
local blocked = tonumber(redis.call('GET', KEYS[2]) or '0')
if blocked > now then return string.format('%.17g', blocked - now) end
local v = redis.call('HMGET', KEYS[1], 'limit', 'remaining', 'reset_at')
local limit, remaining, reset_at = tonumber(v[1]), tonumber(v[2]), tonumber(v[3])
if remaining == nil then return '0' end
if reset_at ~= nil and reset_at <= now then
  if limit == nil then return '0' end
  local provisional = now + tonumber(ARGV[2])
  redis.call('HSET', KEYS[1], 'remaining', limit - 1, 'reset_at', string.format('%.17g', provisional))
  redis.call('EXPIRE', KEYS[1], math.ceil(tonumber(ARGV[2])) + tonumber(ARGV[3]))
  return '0'
end
if remaining > 0 then
  redis.call('HINCRBY', KEYS[1], 'remaining', -1)
  return '0'
end
if reset_at == nil then return '0' end
return string.format('%.17g', reset_at - now)
"""

    # Record a response's headers (see `update`) with the count merged as `_merged_remaining`
    # does. KEYS: the period hash; ARGV: now, limit, remaining, reset_at ('' when absent), TTL.
    _UPDATE_SCRIPT = """
local now = tonumber(ARGV[1])
if ARGV[2] ~= '' then redis.call('HSET', KEYS[1], 'limit', ARGV[2]) end
if ARGV[3] ~= '' then
  local reported = tonumber(ARGV[3])
  local v = redis.call('HMGET', KEYS[1], 'remaining', 'reset_at')
  local current, current_reset = tonumber(v[1]), tonumber(v[2])
  if current ~= nil and current_reset ~= nil and current_reset > now and current < reported then
    reported = current
  end
  redis.call('HSET', KEYS[1], 'remaining', reported)
end
if ARGV[4] ~= '' then redis.call('HSET', KEYS[1], 'reset_at', ARGV[4]) end
redis.call('EXPIRE', KEYS[1], ARGV[5])
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
        # EVALSHA once loaded: the script's text is not sent with every call.
        self._take_script: Any = self.redis.register_script(self._TAKE_SCRIPT)
        self._update_script: Any = self.redis.register_script(self._UPDATE_SCRIPT)

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
        remaining, reset_seconds = _reported(remaining, reset_seconds)
        if limit is None and remaining is None and reset_seconds is None:
            return
        now = self.clock()
        period_key, _block_key = self._keys(key)
        ttl = math.ceil(max(0.0, reset_seconds or 0)) + _TTL_MARGIN
        args = [
            repr(now),
            "" if limit is None else str(limit),
            "" if remaining is None else str(remaining),
            "" if reset_seconds is None else repr(now + reset_seconds),
            ttl,
        ]
        try:
            self._update_script(keys=[period_key], args=args)
        except RedisError:
            logger.warning("rate-limit budget: Redis unavailable, update lost", exc_info=True)

    def _take(self, key: str, now: float) -> float:
        period_key, block_key = self._keys(key)
        try:
            answer = self._take_script(
                keys=[period_key, block_key],
                args=[repr(now), repr(PROVISIONAL_PERIOD_SECONDS), _TTL_MARGIN],
            )
        except RedisError:
            logger.warning("rate-limit budget: Redis unavailable, not waiting", exc_info=True)
            return 0.0
        return max(0.0, float(answer.decode() if isinstance(answer, bytes) else answer))

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


class _Estimates:
    """This process's own count per key (every `DatabaseBudget` of it): key -> (remaining,
    reset_at), fed by every response's headers and by every reservation. While it is roomy a
    reservation only takes one from it, in memory: the database is not written once per call;
    once it is low, reservations take from the shared row, atomically. Registered with
    `clear_process_caches`."""

    def __init__(self) -> None:
        self.values: dict[str, tuple[int, float]] = {}
        self.lock = threading.Lock()
        _process_caches.append(self)

    def clear(self) -> None:
        with self.lock:
            self.values.clear()


_estimates = _Estimates()


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
        from django.db import connection

        from integrations.models import RateLimitState

        remaining, reset_seconds = _reported(remaining, reset_seconds)
        if limit is None and remaining is None and reset_seconds is None:
            return
        now = self.clock()
        reset_at = None if reset_seconds is None else now + reset_seconds
        if remaining is not None and reset_at is not None:
            with _estimates.lock:
                current = _estimates.values.get(key)
                known, known_reset = current if current is not None else (None, None)
                merged = _merged_remaining(known, known_reset, remaining, now)
                _estimates.values[key] = (merged, reset_at)
        if not self._must_write(key, limit, remaining):
            return
        # One statement (an upsert on the key), not a locking read and a write: this runs
        # after every call a vendor client makes whose count is not roomy. Within a running
        # period the stored count only goes down (`_merged_remaining`): reservations made
        # while this answer was in flight have spent part of what it reports.
        ops = connection.ops
        table, q = ops.quote_name(RateLimitState._meta.db_table), ops.quote_name
        lim, rem, res, upd = q("limit"), q("remaining"), q("reset_at"), q("updated_at")
        sql = (
            f"INSERT INTO {table} ({q('key')}, {lim}, {rem}, {res}, {upd}) "  # noqa: S608 - names quoted, values bound
            f"VALUES (%s, %s, %s, %s, %s) ON CONFLICT ({q('key')}) DO UPDATE SET "
            f"{lim} = COALESCE(excluded.{lim}, {table}.{lim}), "
            f"{rem} = CASE WHEN excluded.{rem} IS NULL THEN {table}.{rem} "
            f"WHEN {table}.{rem} IS NOT NULL AND {table}.{res} IS NOT NULL "
            f"AND {table}.{res} > %s AND {table}.{rem} < excluded.{rem} THEN {table}.{rem} "
            f"ELSE excluded.{rem} END, "
            f"{res} = COALESCE(excluded.{res}, {table}.{res}), "
            f"{upd} = excluded.{upd}"
        )
        at = ops.adapt_datetimefield_value
        params = [
            key,
            limit,
            remaining,
            None if reset_at is None else at(self._dt(reset_at)),
            at(self._dt(now)),
            at(self._dt(now)),
        ]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)

    def _take(self, key: str, now: float) -> float:
        state = self.state(key)  # one read, as `wait` always made
        if state.blocked_until is not None and state.blocked_until > now:
            return state.blocked_until - now
        remaining, reset_at = state.remaining, state.reset_at
        with _estimates.lock:
            local = _estimates.values.get(key)
            if local is not None and local[1] > now:
                if remaining is None or reset_at is None or reset_at <= now:
                    remaining, reset_at = local  # the row is older than this process's count
                else:
                    remaining = min(remaining, local[0])
            if remaining is None:
                return 0.0  # nothing known: a request may go
            if reset_at is not None and reset_at <= now:
                if state.limit is None:
                    return 0.0
                # The period is over: this request starts the next one.
                remaining, reset_at = state.limit, now + PROVISIONAL_PERIOD_SECONDS
            if remaining <= 0:
                return 0.0 if reset_at is None else reset_at - now
            if reset_at is None:
                return 0.0  # no reset known: nothing to wait for
            if self._roomy(state.limit, remaining - 1):
                _estimates.values[key] = (remaining - 1, reset_at)
                return 0.0
        taken = self._take_shared(key, now, remaining, reset_at)
        if taken is not None:
            with _estimates.lock:
                _estimates.values[key] = taken
            return 0.0
        # Another worker took the last one (or blocked the key) since the read.
        fresh = self.state(key)
        if fresh.blocked_until is not None and fresh.blocked_until > now:
            return fresh.blocked_until - now
        if fresh.remaining is not None and fresh.remaining <= 0 and fresh.reset_at:
            return max(0.0, fresh.reset_at - now)
        return 0.0

    def _take_shared(
        self, key: str, now: float, remaining: int, reset_at: float
    ) -> tuple[int, float] | None:
        """Take one from the row in one statement, the database serialising it: from the
        row's count while its period runs (capped by what this process knows, `remaining`),
        else from `remaining` with `reset_at` (the new period this process knows of, or a
        provisional one). The count and reset left, or None when none was left."""
        from django.db import connection

        from integrations.models import RateLimitState

        ops = connection.ops
        table, q = ops.quote_name(RateLimitState._meta.db_table), ops.quote_name
        rem, res, blk = q("remaining"), q("reset_at"), q("blocked_until")
        over = f"({res} IS NULL OR {res} <= %s OR {rem} IS NULL)"
        sql = (
            f"UPDATE {table} SET "  # noqa: S608 - names quoted, values bound
            f"{rem} = CASE WHEN {over} THEN %s WHEN {rem} < %s THEN {rem} - 1 ELSE %s END, "
            f"{res} = CASE WHEN {over} THEN %s ELSE {res} END "
            f"WHERE {q('key')} = %s AND ({blk} IS NULL OR {blk} <= %s) "
            f"AND ({over} OR {rem} > 0) "
            f"RETURNING {rem}, {res}"
        )
        at = ops.adapt_datetimefield_value
        now_p, reset_p = at(self._dt(now)), at(self._dt(reset_at))
        params = [now_p, remaining - 1, remaining, remaining - 1, now_p, reset_p]
        params += [key, now_p, now_p]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if row is None:
            return None
        left, until = row
        if isinstance(until, str):  # SQLite answers text
            until = datetime.fromisoformat(until)
        if until.tzinfo is None:
            until = until.replace(tzinfo=UTC)
        return int(left), until.timestamp()

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
