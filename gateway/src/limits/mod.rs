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

pub mod window;

use std::{
    collections::HashMap,
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use wire::openai::ChatCompletionRequest;

use crate::{auth::ApiKey, config::RateLimits, error::GatewayError};
use window::{Fit, Level, Window};

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

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Measure {
    /// Requests per minute.
    Requests,
    /// Tokens per minute.
    Tokens,
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Measure::Requests => "requests per min (RPM)",
            Measure::Tokens => "tokens per min (TPM)",
        })
    }
}

/// Where the key stands against its limits: the tightest window of each measure, as OpenAI's
/// `x-ratelimit-*` headers say it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// Requests, when limited.
    pub requests: Option<Level>,
    /// Tokens, when limited.
    pub tokens: Option<Level>,
}

impl Quota {
    /// Adds the `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        for (level, suffix) in [(self.requests, "requests"), (self.tokens, "tokens")] {
            let Some(level) = level else { continue };
            for (name, value) in [
                ("limit", level.limit.to_string()),
                ("remaining", level.remaining.to_string()),
                ("reset", duration_text(level.reset_ms)),
            ] {
                if let (Ok(name), Ok(value)) = (
                    HeaderName::try_from(format!("x-ratelimit-{name}-{suffix}")),
                    HeaderValue::try_from(value),
                ) {
                    headers.insert(name, value);
                }
            }
        }
    }

    fn tighten(slot: &mut Option<Level>, level: Level) {
        if slot.is_none_or(|held| level.remaining < held.remaining) {
            *slot = Some(level);
        }
    }
}

/// A duration as OpenAI's reset headers write it: `20ms`, `1s`, `6m0s`, `1.5s`.
pub fn duration_text(ms: u64) -> String {
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let (minutes, ms) = (ms / 60_000, ms % 60_000);
    let seconds = if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        let text = format!("{:.3}", ms as f64 / 1_000.0);
        format!("{}s", text.trim_end_matches('0'))
    };
    if minutes > 0 {
        format!("{minutes}m{seconds}")
    } else {
        seconds
    }
}

/// A refused demand (see [`GatewayError::RateLimited`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The key's name.
    pub key: String,
    /// The model, when the limit is the key × model one.
    pub model: Option<String>,
    /// Which limit.
    pub measure: Measure,
    /// Its value.
    pub limit: u64,
    /// What the request asked of it.
    pub requested: u64,
    /// Milliseconds until it fits; `None` when it never will.
    pub retry_after_ms: Option<u64>,
    /// The key's standing, for the headers.
    pub quota: Quota,
}

/// The windows of one key, or one key × model.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Scope {
    key: Arc<str>,
    model: Option<Arc<str>>,
}

#[derive(Debug, Default)]
struct Windows {
    requests: Window,
    tokens: Window,
}

/// The limits of every key, kept in this process.
#[derive(Debug)]
pub struct Limiter {
    windows: Mutex<HashMap<Scope, Windows>>,
    started: Instant,
    next_id: AtomicU64,
}

impl Default for Limiter {
    fn default() -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
            started: Instant::now(),
            next_id: AtomicU64::new(1),
        }
    }
}

impl Limiter {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    /// Admits `demand`, charging it to every window it falls under, or refuses it.
    pub fn admit(self: &Arc<Self>, demand: Demand<'_>) -> Result<Allowance, Box<Refusal>> {
        let scopes = scopes(demand.key, demand.model);
        let now = self.now_ms();
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        let mut refusal: Option<Refusal> = None;
        for (scope, limits) in &scopes {
            let held = windows.entry(scope.clone()).or_default();
            let tests = [
                (
                    Measure::Requests,
                    limits.requests_per_minute,
                    &mut held.requests,
                    1,
                ),
                (
                    Measure::Tokens,
                    limits.tokens_per_minute,
                    &mut held.tokens,
                    demand.reserved_tokens,
                ),
            ];
            for (measure, limit, window, amount) in tests {
                let Some(limit) = limit else { continue };
                let retry_after_ms = match window.fit(now, limit, amount) {
                    Fit::Now => continue,
                    Fit::After(ms) => Some(ms),
                    Fit::Never => None,
                };
                let worse = refusal.as_ref().is_none_or(|known| {
                    known.retry_after_ms.is_some()
                        && retry_after_ms.is_none_or(|ms| Some(ms) > known.retry_after_ms)
                });
                if worse {
                    refusal = Some(Refusal {
                        key: demand.key.name.to_string(),
                        model: scope.model.as_deref().map(str::to_owned),
                        measure,
                        limit,
                        requested: amount,
                        retry_after_ms,
                        quota: Quota::default(),
                    });
                }
            }
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut quota = Quota::default();
        let mut charged = Vec::new();
        for (scope, limits) in &scopes {
            let held = windows.entry(scope.clone()).or_default();
            if let Some(limit) = limits.requests_per_minute {
                if refusal.is_none() {
                    held.requests.charge(now, id, 1);
                }
                Quota::tighten(&mut quota.requests, held.requests.level(now, limit));
            }
            if let Some(limit) = limits.tokens_per_minute {
                if refusal.is_none() {
                    held.tokens.charge(now, id, demand.reserved_tokens);
                    charged.push(scope.clone());
                }
                Quota::tighten(&mut quota.tokens, held.tokens.level(now, limit));
            }
        }
        if let Some(mut refusal) = refusal {
            refusal.quota = quota;
            return Err(Box::new(refusal));
        }
        Ok(Allowance {
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
        })
    }

    fn settle(&self, scopes: &[Scope], id: u64, reserved: u64, actual: u64) {
        let now = self.now_ms();
        let fresh = self.next_id.fetch_add(1, Ordering::Relaxed);
        let mut windows = self
            .windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        for scope in scopes {
            if let Some(held) = windows.get_mut(scope) {
                held.tokens.settle(now, id, reserved, actual, fresh);
            }
        }
    }
}

/// The scopes `key` falls under for `model`, with their limits.
fn scopes(key: &ApiKey, model: &str) -> Vec<(Scope, RateLimits)> {
    let mut scopes = vec![(
        Scope {
            key: Arc::clone(&key.name),
            model: None,
        },
        key.limits,
    )];
    if let Some((name, limits)) = key.limits_on(model) {
        scopes.push((
            Scope {
                key: Arc::clone(&key.name),
                model: Some(Arc::clone(name)),
            },
            *limits,
        ));
    }
    scopes
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
            self.limiter
                .settle(&self.charged, self.id, self.reserved, actual);
        }
    }
}

impl Drop for Ticket {
    fn drop(&mut self) {
        let received = self.prompt_tokens + self.received;
        self.settle_to(received);
    }
}

impl From<Box<Refusal>> for GatewayError {
    fn from(refusal: Box<Refusal>) -> Self {
        GatewayError::RateLimited(refusal)
    }
}
