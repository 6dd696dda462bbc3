//! The Lua scripts: each decision is one atomic step on the Redis server.
//!
//! Every counter (one username, or one client address) is two sorted sets:
//!
//! - `…:f`, the failures: member = the reservation's id, score = when it
//!   failed (µs since the epoch). Pruned to the window and to the newest
//!   `limit` members on every write: that is all the decision needs.
//! - `…:h`, the attempts in flight ("holds"): member = the reservation's id,
//!   score = when the hold lapses by itself (µs). A hold is removed by its
//!   decision (fail, succeed, release); one whose process died lapses.
//!
//! Both keys get a TTL on every write (the window, the hold time), so a
//! counter nobody touches disappears, and no key grows: an attempt is only
//! admitted while failures + holds < limit.

use std::sync::LazyLock;

use redis::Script;

/// Admits an attempt or says how long to wait.
///
/// `KEYS`: failures and holds of each counter (2 or 4 keys).
/// `ARGV`: now (µs), window (µs), hold (µs), the reservation id, then the
/// limit of each counter. Returns 0 (admitted: a hold was added to every
/// counter) or the seconds to wait (nothing written but the pruning).
const RESERVE: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
local hold = tonumber(ARGV[3])
local wait = 0
for i = 1, #KEYS / 2 do
  local fails, holds, limit = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[4 + i])
  redis.call('ZREMRANGEBYSCORE', fails, '-inf', now - window)
  redis.call('ZREMRANGEBYSCORE', holds, '-inf', now)
  local nf = redis.call('ZCARD', fails)
  local nh = redis.call('ZCARD', holds)
  if nf + nh >= limit then
    -- Attempts in flight hold the free places: decided within one
    -- password verification.
    local w = 1
    if nf >= limit then
      -- Free again when the oldest of the last `limit` failures leaves.
      local oldest = redis.call('ZRANGE', fails, nf - limit, nf - limit, 'WITHSCORES')
      w = math.ceil((tonumber(oldest[2]) + window - now) / 1000000)
      if w < 1 then w = 1 end
    end
    if w > wait then wait = w end
  end
end
if wait > 0 then return wait end
for i = 1, #KEYS / 2 do
  redis.call('ZADD', KEYS[2 * i], now + hold, ARGV[4])
  redis.call('PEXPIRE', KEYS[2 * i], math.ceil(hold / 1000))
end
return 0
";

/// The attempt failed: its holds become failures.
///
/// `KEYS` as for [`RESERVE`]; `ARGV`: now (µs), window (µs), the reservation
/// id, then the limit of each counter.
const FAIL: &str = r"
local now = tonumber(ARGV[1])
local window = tonumber(ARGV[2])
for i = 1, #KEYS / 2 do
  local fails, holds, limit = KEYS[2 * i - 1], KEYS[2 * i], tonumber(ARGV[3 + i])
  redis.call('ZREM', holds, ARGV[3])
  redis.call('ZADD', fails, now, ARGV[3])
  redis.call('ZREMRANGEBYSCORE', fails, '-inf', now - window)
  local extra = redis.call('ZCARD', fails) - math.max(limit, 1)
  if extra > 0 then redis.call('ZREMRANGEBYRANK', fails, 0, extra - 1) end
  redis.call('PEXPIRE', fails, math.ceil(window / 1000))
end
return 0
";

/// Releases the holds (`KEYS[1..n]`) of reservation `ARGV[1]`, and deletes
/// the keys `KEYS[n+1..]` (the username's failures, on a success), where
/// `n` = `ARGV[2]`.
const RELEASE: &str = r"
local n = tonumber(ARGV[2])
for i = 1, #KEYS do
  if i <= n then
    redis.call('ZREM', KEYS[i], ARGV[1])
  else
    redis.call('DEL', KEYS[i])
  end
end
return 0
";

pub(crate) static RESERVE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RESERVE));
pub(crate) static FAIL_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(FAIL));
pub(crate) static RELEASE_SCRIPT: LazyLock<Script> = LazyLock::new(|| Script::new(RELEASE));
