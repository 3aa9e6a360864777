//! Requests and tokens per minute, per API key and per key × model.
//!
//! Each limit is a sliding-window log ([`window`]): a demand is admitted when the charges of the
//! last 60 seconds plus the demand stay within the limit. Admission is all or nothing across the
//! windows a request falls under (the key's, and the key × model's when `per_model` names the
//! model): one refusing refuses the request, and none is charged.
//!
//! Tokens are charged twice. At admission the request *reserves* an estimate: a quarter of its
//! body's bytes for the prompt (an upper bound for English text and JSON) plus its
//! `max_completion_tokens`/`max_tokens`. When the reply ends the reservation is *settled* to the
//! usage the upstream reported; a stream the client hung up on is settled to the prompt estimate
//! plus the chunks it received (one token each, as Ollama and OpenAI-compatible servers stream
//! them). A request whose reservation alone is over a token limit can never be admitted: it gets
//! a 429 without `Retry-After`, telling the client to reduce it.

mod local;
pub mod refusal;
mod shared;
mod window;

pub use refusal::{Measure, Quota, Refusal};

use std::sync::{
    Arc,
    atomic::{AtomicBool, AtomicU64, Ordering},
};

use wire::openai::ChatCompletionRequest;

use crate::{
    auth::ApiKey,
    config::{AuthConfig, ConfigError, RedisFailure},
    error::GatewayError,
    metrics::Metrics,
};
use local::LocalWindows;
use shared::{SharedError, SharedWindows};
use window::{Fit, Level};

/// What a request asks of the limits.
#[derive(Debug, Clone, Copy)]
pub struct Demand<'a> {
    /// Whose request.
    pub key: &'a ApiKey,
    /// For which model.
    pub model: &'a str,
    /// The prompt's estimated tokens.
    pub prompt_tokens: u64,
    /// The tokens reserved: the prompt's estimate plus the completion's cap.
    pub reserved_tokens: u64,
}

impl<'a> Demand<'a> {
    /// The demand of `request`, `body_bytes` long, by `key`.
    pub fn of(
        key: &'a ApiKey,
        model: &'a str,
        request: &ChatCompletionRequest,
        body_bytes: usize,
    ) -> Self {
        let prompt_tokens = (body_bytes as u64).div_ceil(4);
        let completion_cap = request
            .max_completion_tokens
            .or(request.max_tokens)
            .and_then(|cap| u64::try_from(cap).ok())
            .unwrap_or(0);
        Self {
            key,
            model,
            prompt_tokens,
            reserved_tokens: prompt_tokens + completion_cap,
        }
    }
}

/// The windows of one key, or one key × model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Scope {
    key: Arc<str>,
    model: Option<Arc<str>>,
}

/// One window a demand is tested against: whose, which measure, its limit, and the demand's
/// amount (1 request, or the tokens reserved).
#[derive(Debug, Clone)]
pub struct Check {
    scope: Scope,
    measure: Measure,
    limit: u64,
    amount: u64,
}

/// What a store found: each check's fit, and each window's level (after the charges when every
/// check fitted, as it stands otherwise).
#[derive(Debug)]
pub struct Verdict {
    fits: Vec<Fit>,
    levels: Vec<Level>,
}

/// Where the windows are kept.
#[derive(Debug)]
enum Store {
    /// In this process.
    Local(LocalWindows),
    /// In Redis, shared by every replica using it.
    Shared(SharedWindows),
}

/// The keys' limits: admission, and the settlement of token charges.
#[derive(Debug)]
pub struct Limiter {
    store: Store,
    /// What a Redis failure means.
    failure: RedisFailure,
    /// This process's prefix of charge ids in Redis (unique across replicas).
    replica: String,
    next_id: AtomicU64,
    /// Whether the last exchange with Redis failed (so each outage is logged once).
    unavailable: AtomicBool,
    metrics: Arc<Metrics>,
}

impl Limiter {
    /// The limits `auth` configures: in Redis with a `redis_url`, else in this process.
    pub fn new(auth: Option<&AuthConfig>, metrics: Arc<Metrics>) -> Result<Self, ConfigError> {
        let store = match auth.and_then(|auth| auth.redis_url.as_deref()) {
            Some(url) => Store::Shared(
                SharedWindows::new(url)
                    .map_err(|error| ConfigError::Invalid(format!("auth.redis_url: {error}")))?,
            ),
            None => Store::Local(LocalWindows::default()),
        };
        Ok(Self {
            store,
            failure: auth.map(|auth| auth.redis_failure).unwrap_or_default(),
            replica: uuid::Uuid::new_v4().simple().to_string(),
            next_id: AtomicU64::new(1),
            unavailable: AtomicBool::new(false),
            metrics,
        })
    }

    fn member(&self, id: u64) -> String {
        format!("{}:{id}", self.replica)
    }

    /// Admits `demand`, charging it to every window it falls under, or refuses it. `None` when
    /// nothing limits the key — or Redis cannot be reached and `redis_failure = "open"`.
    pub async fn admit(
        self: &Arc<Self>,
        demand: Demand<'_>,
    ) -> Result<Option<Allowance>, GatewayError> {
        let checks = checks(&demand);
        if checks.is_empty() {
            return Ok(None);
        }
        let key = &*demand.key.name;
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let verdict = match &self.store {
            Store::Local(windows) => windows.admit(&checks, id),
            Store::Shared(windows) => match windows.admit(&checks, &self.member(id)).await {
                Ok(verdict) => {
                    self.reachable();
                    verdict
                }
                Err(error) => {
                    self.unreachable(&error);
                    return match self.failure {
                        RedisFailure::Open => {
                            self.metrics.count_limit(key, "unmetered");
                            Ok(None)
                        }
                        RedisFailure::Closed => {
                            self.metrics.count_limit(key, "unavailable");
                            Err(GatewayError::LimitsUnavailable)
                        }
                    };
                }
            },
        };
        let mut quota = Quota::default();
        for (check, level) in checks.iter().zip(&verdict.levels) {
            match check.measure {
                Measure::Requests => Quota::tighten(&mut quota.requests, *level),
                Measure::Tokens => Quota::tighten(&mut quota.tokens, *level),
            }
        }
        if let Some(mut refusal) = refusal(&demand, &checks, &verdict.fits) {
            self.metrics.count_limit(key, "refused");
            refusal.quota = quota;
            return Err(GatewayError::RateLimited(Box::new(refusal)));
        }
        self.metrics.count_limit(key, "admitted");
        let charged = checks
            .iter()
            .filter(|check| check.measure == Measure::Tokens)
            .map(|check| check.scope.clone())
            .collect();
        Ok(Some(Allowance {
            quota,
            ticket: Ticket {
                limiter: Arc::clone(self),
                charged,
                id,
                reserved: demand.reserved_tokens,
                prompt_tokens: demand.prompt_tokens,
                received: 0,
                settled: false,
            },
        }))
    }

    fn reachable(&self) {
        if self.unavailable.swap(false, Ordering::Relaxed) {
            tracing::info!("Redis answers again: rate limits are shared again");
        }
    }

    fn unreachable(&self, error: &SharedError) {
        if !self.unavailable.swap(true, Ordering::Relaxed) {
            let policy = match self.failure {
                RedisFailure::Open => "admitting requests unmetered (redis_failure = \"open\")",
                RedisFailure::Closed => "refusing requests with 503 (redis_failure = \"closed\")",
            };
            tracing::warn!(%error, "Redis cannot be reached for the rate limits: {policy} until it answers again");
        }
    }

    /// Settles a token charge; to Redis in a task of its own, since a hang-up settles it from a
    /// destructor.
    fn settle(self: &Arc<Self>, scopes: Vec<Scope>, id: u64, reserved: u64, actual: u64) {
        let fresh = self.next_id.fetch_add(1, Ordering::Relaxed);
        match &self.store {
            Store::Local(windows) => windows.settle(&scopes, id, reserved, actual, fresh),
            Store::Shared(_) => {
                let Ok(runtime) = tokio::runtime::Handle::try_current() else {
                    return;
                };
                let limiter = Arc::clone(self);
                runtime.spawn(async move {
                    let Store::Shared(windows) = &limiter.store else {
                        return;
                    };
                    let (member, fresh) = (limiter.member(id), limiter.member(fresh));
                    match windows
                        .settle(&scopes, &member, reserved, actual, &fresh)
                        .await
                    {
                        Ok(()) => limiter.reachable(),
                        Err(error) => limiter.unreachable(&error),
                    }
                });
            }
        }
    }
}

/// The windows `demand` is tested against: the key's, then the key × model's when `per_model`
/// names the model; requests and tokens where limited.
fn checks(demand: &Demand<'_>) -> Vec<Check> {
    let key = demand.key;
    let own = (None, &key.limits);
    let on_model = key
        .limits_on(demand.model)
        .map(|(model, limits)| (Some(model), limits));
    let mut checks = Vec::new();
    for (model, limits) in std::iter::once(own).chain(on_model) {
        let scope = Scope {
            key: Arc::clone(&key.name),
            model: model.cloned(),
        };
        let measures = [
            (Measure::Requests, limits.requests_per_minute, 1),
            (
                Measure::Tokens,
                limits.tokens_per_minute,
                demand.reserved_tokens,
            ),
        ];
        for (measure, limit, amount) in measures {
            if let Some(limit) = limit {
                checks.push(Check {
                    scope: scope.clone(),
                    measure,
                    limit,
                    amount,
                });
            }
        }
    }
    checks
}

/// The refusal a verdict's fits call for: one that can never fit first, else the longest wait.
fn refusal(demand: &Demand<'_>, checks: &[Check], fits: &[Fit]) -> Option<Refusal> {
    let rank = |fit: &Fit| match fit {
        Fit::Now => 0,
        Fit::After(ms) => 1 + *ms,
        Fit::Never => u64::MAX,
    };
    let (check, fit) = checks
        .iter()
        .zip(fits)
        .filter(|(_, fit)| **fit != Fit::Now)
        .max_by_key(|(_, fit)| rank(fit))?;
    Some(Refusal {
        key: demand.key.name.to_string(),
        model: check.scope.model.as_deref().map(str::to_owned),
        measure: check.measure,
        limit: check.limit,
        requested: check.amount,
        retry_after_ms: match fit {
            Fit::After(ms) => Some(*ms),
            _ => None,
        },
        quota: Quota::default(),
    })
}

/// An admitted request: its standing (for the headers) and its token charge to settle.
#[derive(Debug)]
pub struct Allowance {
    /// For the response's `x-ratelimit-*` headers.
    pub quota: Quota,
    /// Settles the token reservation.
    pub ticket: Ticket,
}

/// A token reservation to settle when the reply ends. Dropped unsettled (the client hung up),
/// it settles to the prompt's estimate plus what was received.
#[derive(Debug)]
pub struct Ticket {
    limiter: Arc<Limiter>,
    charged: Vec<Scope>,
    id: u64,
    reserved: u64,
    prompt_tokens: u64,
    received: u64,
    settled: bool,
}

impl Ticket {
    /// Counts `tokens` more delivered to the client.
    pub fn received(&mut self, tokens: u64) {
        self.received += tokens;
    }

    /// Settles to the upstream's count of the whole exchange.
    pub fn settle(mut self, total_tokens: u64) {
        self.settle_to(total_tokens);
    }

    fn settle_to(&mut self, actual: u64) {
        if self.settled {
            return;
        }
        self.settled = true;
        if !self.charged.is_empty() {
            let scopes = std::mem::take(&mut self.charged);
            self.limiter.settle(scopes, self.id, self.reserved, actual);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let received = self.prompt_tokens + self.received;
        self.settle_to(received);
    }
}
