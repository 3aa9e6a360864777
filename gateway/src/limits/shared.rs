//! The windows kept in Redis, shared by every replica pointed at it. Each window is three keys —
//! its log (a sorted set of charge ids by time), their amounts (a hash) and their running total —
//! and every admission or settlement is one Lua script, so that Redis runs it atomically: no
//! replica ever reads a window another is changing. Times are Redis's own (`TIME`), so replicas'
//! clocks need not agree. A window's keys expire when it has been idle for two window lengths.
//!
//! The keys of one API key share a hash tag (`{rl:<name>}`), so a Redis Cluster keeps them on
//! one node, as a script touching several keys requires.

use std::time::Duration;

use redis::{Client, RedisError, Script, aio::ConnectionManager};

use super::{
    Check, Measure, Scope, Verdict,
    window::{Fit, Level, WINDOW_MS},
};

/// How long one script may take, connecting included, before the limits count as unavailable.
const REDIS_TIMEOUT: Duration = Duration::from_millis(250);

/// Forgets the charges that left a window; its total after. Shared by both scripts.
const EXPIRE: &str = r"
local function expire(log, amounts, total_key, now, window)
  local total = tonumber(redis.call('GET', total_key) or '0')
  local before = total
  while true do
    local gone = redis.call('ZRANGEBYSCORE', log, '-inf', now - window, 'LIMIT', 0, 500)
    if #gone == 0 then break end
    local held = redis.call('HMGET', amounts, unpack(gone))
    for i = 1, #gone do total = total - tonumber(held[i] or '0') end
    redis.call('ZREM', log, unpack(gone))
    redis.call('HDEL', amounts, unpack(gone))
  end
  if total < 0 then total = 0 end
  if total ~= before then redis.call('SET', total_key, total, 'KEEPTTL') end
  return total
end
local function keep(log, amounts, total_key, window)
  for _, key in ipairs({log, amounts, total_key}) do redis.call('PEXPIRE', key, 2 * window) end
end
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
";

/// KEYS: three per window. ARGV: the window's length, the charge's id, then each window's limit
/// and amount. Returns, per window: its fit (0 now, -1 never, else the wait in ms), its total
/// (after the charge when every window fits) and the ms until it empties.
const ADMIT: &str = r"
local window, member = tonumber(ARGV[1]), ARGV[2]
local count = #KEYS / 3
local fits, totals = {}, {}
local admitted = true
for i = 1, count do
  local log, amounts, total_key = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  local limit, amount = tonumber(ARGV[1 + 2 * i]), tonumber(ARGV[2 + 2 * i])
  local total = expire(log, amounts, total_key, now, window)
  local fit = 0
  if amount > limit then
    fit = -1
  elseif total + amount > limit then
    local excess = total + amount - limit
    fit = window
    local start = 0
    while excess > 0 do
      local page = redis.call('ZRANGE', log, start, start + 99, 'WITHSCORES')
      if #page == 0 then break end
      local ids = {}
      for j = 1, #page, 2 do ids[#ids + 1] = page[j] end
      local held = redis.call('HMGET', amounts, unpack(ids))
      for j = 1, #ids do
        excess = excess - tonumber(held[j] or '0')
        if excess <= 0 then
          fit = math.max(tonumber(page[2 * j]) + window - now, 1)
          break
        end
      end
      start = start + 100
    end
  end
  fits[i], totals[i] = fit, total
  if fit ~= 0 then admitted = false end
end
local result = {}
for i = 1, count do
  local log, amounts, total_key = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  if admitted then
    local amount = tonumber(ARGV[2 + 2 * i])
    redis.call('ZADD', log, now, member)
    redis.call('HSET', amounts, member, amount)
    totals[i] = redis.call('INCRBY', total_key, amount)
    keep(log, amounts, total_key, window)
  end
  local newest = redis.call('ZRANGE', log, -1, -1, 'WITHSCORES')
  local reset = 0
  if #newest > 0 then reset = math.max(tonumber(newest[2]) + window - now, 0) end
  result[#result + 1] = fits[i]
  result[#result + 1] = totals[i]
  result[#result + 1] = reset
end
return result
";

/// KEYS: three per token window. ARGV: the window's length, the charge's id, what it reserved,
/// what it came to, and a fresh id for a charge that already left its window.
const SETTLE: &str = r"
local window, member = tonumber(ARGV[1]), ARGV[2]
local reserved, actual, fresh = tonumber(ARGV[3]), tonumber(ARGV[4]), ARGV[5]
for i = 1, #KEYS / 3 do
  local log, amounts, total_key = KEYS[3 * i - 2], KEYS[3 * i - 1], KEYS[3 * i]
  expire(log, amounts, total_key, now, window)
  local held = redis.call('HGET', amounts, member)
  if held then
    redis.call('HSET', amounts, member, actual)
    redis.call('INCRBY', total_key, actual - tonumber(held))
  elseif actual > reserved then
    redis.call('ZADD', log, now, fresh)
    redis.call('HSET', amounts, fresh, actual - reserved)
    redis.call('INCRBY', total_key, actual - reserved)
    keep(log, amounts, total_key, window)
  end
end
return 0
";

/// The windows in one Redis.
pub struct SharedWindows {
    redis: ConnectionManager,
    admit: Script,
    settle: Script,
}

impl std::fmt::Debug for SharedWindows {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedWindows").finish_non_exhaustive()
    }
}

/// A failed exchange with Redis.
#[derive(Debug, thiserror::Error)]
pub enum SharedError {
    /// Redis answered with an error, or the connection failed.
    #[error(transparent)]
    Redis(#[from] RedisError),
    /// No answer within [`REDIS_TIMEOUT`].
    #[error("Redis did not answer within {} ms", REDIS_TIMEOUT.as_millis())]
    Timeout,
    /// The script's answer is not what it returns.
    #[error("unexpected answer from the admission script: {0:?}")]
    Answer(Vec<i64>),
}

impl SharedWindows {
    /// Windows at `url` (`redis://…`); connects on first use, and again whenever the connection
    /// is lost, so a Redis that was down is used again as soon as it is back.
    pub fn new(url: &str) -> Result<Self, RedisError> {
        let client = Client::open(url)?;
        let config = redis::aio::ConnectionManagerConfig::new()
            .set_connection_timeout(Some(REDIS_TIMEOUT))
            .set_response_timeout(Some(REDIS_TIMEOUT))
            .set_number_of_retries(1);
        let redis = client.get_connection_manager_lazy(config)?;
        Ok(Self {
            redis,
            admit: Script::new(&format!("{EXPIRE}{ADMIT}")),
            settle: Script::new(&format!("{EXPIRE}{SETTLE}")),
        })
    }

    /// Tests every check, and charges each under `member` when all fit, in one script.
    pub async fn admit(&self, checks: &[Check], member: &str) -> Result<Verdict, SharedError> {
        let mut invocation = self.admit.prepare_invoke();
        invocation.arg(WINDOW_MS).arg(member);
        for check in checks {
            invocation.key(&keys(&check.scope, check.measure)[..]);
            invocation.arg(check.limit).arg(check.amount);
        }
        let mut redis = self.redis.clone();
        let answer: Vec<i64> =
            tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async(&mut redis))
                .await
                .map_err(|_| SharedError::Timeout)??;
        if answer.len() != 3 * checks.len() {
            return Err(SharedError::Answer(answer));
        }
        let (fits, levels) = answer
            .chunks_exact(3)
            .zip(checks)
            .map(|(window, check)| {
                let fit = match window[0] {
                    0 => Fit::Now,
                    ms if ms < 0 => Fit::Never,
                    ms => Fit::After(ms.unsigned_abs()),
                };
                let total = window[1].max(0).unsigned_abs();
                let level = Level {
                    limit: check.limit,
                    remaining: check.limit.saturating_sub(total),
                    reset_ms: window[2].max(0).unsigned_abs(),
                };
                (fit, level)
            })
            .unzip();
        Ok(Verdict { fits, levels })
    }

    /// Settles charge `member` of each token window of `scopes` from `reserved` to `actual`.
    pub async fn settle(
        &self,
        scopes: &[Scope],
        member: &str,
        reserved: u64,
        actual: u64,
        fresh_member: &str,
    ) -> Result<(), SharedError> {
        let mut invocation = self.settle.prepare_invoke();
        invocation
            .arg(WINDOW_MS)
            .arg(member)
            .arg(reserved)
            .arg(actual)
            .arg(fresh_member);
        for scope in scopes {
            invocation.key(&keys(scope, Measure::Tokens)[..]);
        }
        let mut redis = self.redis.clone();
        let _: i64 = tokio::time::timeout(REDIS_TIMEOUT, invocation.invoke_async(&mut redis))
            .await
            .map_err(|_| SharedError::Timeout)??;
        Ok(())
    }
}

/// A window's three keys: `{rl:<key>}:<model or *>:<measure>:{log,amounts,total}`.
fn keys(scope: &Scope, measure: Measure) -> [String; 3] {
    let model = scope.model.as_deref().unwrap_or("*");
    let measure = match measure {
        Measure::Requests => "requests",
        Measure::Tokens => "tokens",
    };
    let base = format!("{{rl:{}}}:{model}:{measure}", scope.key);
    [
        format!("{base}:log"),
        format!("{base}:amounts"),
        format!("{base}:total"),
    ]
}
