//! Retries and failover before the first byte. A chat request goes to the backends serving its
//! model, in configuration order; an attempt that fails before any byte reached the client — the
//! upstream could not be reached, its first-byte deadline passed, it answered 429, 502 or 503, or
//! it was at its bound of requests in flight — is tried again, on the next backend at once or on
//! the same one after a wait, within each backend's [`RetryPolicy`]:
//!
//! - every backend is tried at most `retry.attempts` times per request;
//! - the next attempt goes to the backend that is ready soonest (configuration order on ties):
//!   a backend that just failed waits `backoff_ms`, doubled per further try up to
//!   `max_backoff_ms` and jittered down by up to half; one that sent `Retry-After` waits that
//!   long, or is not tried again when it asks for more than `max_retry_after_ms`; a backend at
//!   its bound is not tried again for this request;
//! - anything else (a 4xx other than 429, an upstream 500, a reply that began) is the answer.
//!
//! Nothing is retried once a reply has begun: a stream's frames are the client's. Each failed
//! attempt is logged and counted in `gateway_upstream_attempts_total{backend,outcome}`.

use std::{sync::Arc, time::Duration};

use tokio::time::Instant;
use wire::openai::ChatCompletionRequest;

use crate::{
    backend::Backend,
    call::{ChatCall, ChatReply},
    config::RetryPolicy,
    error::{GatewayError, TimeoutPhase},
    metrics::Metrics,
};

/// Why an attempt may be tried again, and when.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Retry {
    /// Try this backend again after its backoff.
    AfterBackoff,
    /// Try this backend again after the upstream's `Retry-After`.
    After(Duration),
    /// Do not try this backend again for this request; another may serve it.
    Elsewhere,
}

/// Whether (and how) a failed attempt may be retried, with the label it is counted under; `None`
/// when the error is the answer.
pub fn classify(error: &GatewayError, policy: &RetryPolicy) -> Option<(Retry, &'static str)> {
    match error {
        GatewayError::UpstreamUnavailable { .. } => Some((Retry::AfterBackoff, "unreachable")),
        GatewayError::Timeout {
            phase: TimeoutPhase::FirstByte,
            ..
        } => Some((Retry::AfterBackoff, "first_byte_timeout")),
        GatewayError::BackendBusy { .. } => Some((Retry::Elsewhere, "busy")),
        GatewayError::Upstream {
            status: status @ (429 | 502 | 503),
            retry_after,
            ..
        } => {
            let outcome = match status {
                429 => "status_429",
                502 => "status_502",
                _ => "status_503",
            };
            let retry = match retry_after.as_deref().and_then(parse_retry_after) {
                None => Retry::AfterBackoff,
                Some(wait) if wait <= Duration::from_millis(policy.max_retry_after_ms) => {
                    Retry::After(wait)
                }
                Some(_) => Retry::Elsewhere,
            };
            Some((retry, outcome))
        }
        _ => None,
    }
}

/// A `Retry-After` value: delay seconds (fractions tolerated, as the OpenAI SDKs do) or an
/// HTTP date.
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<f64>() {
        return (seconds.is_finite() && seconds >= 0.0).then(|| Duration::from_secs_f64(seconds));
    }
    let date = httpdate::parse_http_date(value).ok()?;
    Some(
        date.duration_since(std::time::SystemTime::now())
            .unwrap_or(Duration::ZERO),
    )
}

/// The wait before try number `tries + 1` of a backend that failed `tries` times: the policy's
/// backoff doubled per earlier failure, capped, then jittered into its upper half so clients
/// that failed together do not come back together.
pub fn backoff(policy: &RetryPolicy, tries: u32) -> Duration {
    let doubled = policy
        .backoff_ms
        .saturating_mul(1u64 << tries.saturating_sub(1).min(20));
    let ceiling = doubled.min(policy.max_backoff_ms);
    Duration::from_millis(ceiling - fastrand::u64(0..=ceiling / 2))
}

/// One backend's standing within one request.
#[derive(Debug)]
struct Candidate {
    backend: Arc<Backend>,
    tries: u32,
    ready_at: Instant,
    retired: bool,
}

impl Candidate {
    fn may_try(&self) -> bool {
        !self.retired && self.tries < self.backend.config.retry.attempts
    }
}

/// Answers `request` from `backends` (those serving its model, in configuration order), retrying
/// and failing over as the module describes; the last failure when every try failed.
pub async fn chat(
    backends: Vec<Arc<Backend>>,
    request: &ChatCompletionRequest,
    call: &ChatCall,
    metrics: &Metrics,
) -> Result<ChatReply, GatewayError> {
    let now = Instant::now();
    let mut candidates: Vec<Candidate> = backends
        .into_iter()
        .map(|backend| Candidate {
            backend,
            tries: 0,
            ready_at: now,
            retired: false,
        })
        .collect();
    let mut last_error = None;
    loop {
        // The candidate ready soonest; the first in configuration order among equals.
        let Some(next) = candidates
            .iter_mut()
            .filter(|candidate| candidate.may_try())
            .min_by_key(|candidate| candidate.ready_at)
        else {
            return Err(
                last_error.unwrap_or_else(|| GatewayError::ModelNotFound(call.model.clone()))
            );
        };
        // Only a wait that is due: sleeping until "now" would still cost a timer tick (~1 ms).
        if next.ready_at > Instant::now() {
            tokio::time::sleep_until(next.ready_at).await;
        }
        next.tries += 1;
        let backend = next.backend.clone();
        let error = match backend.chat(request, call.clone()).await {
            Ok(reply) => {
                metrics.count_attempt(backend.name(), "ok");
                return Ok(reply);
            }
            Err(error) => error,
        };
        let policy = backend.config.retry;
        let Some((retry, outcome)) = classify(&error, &policy) else {
            metrics.count_attempt(backend.name(), "answered_error");
            return Err(error);
        };
        metrics.count_attempt(backend.name(), outcome);
        match retry {
            Retry::AfterBackoff => next.ready_at = Instant::now() + backoff(&policy, next.tries),
            Retry::After(wait) => next.ready_at = Instant::now() + wait,
            Retry::Elsewhere => next.retired = true,
        }
        tracing::warn!(
            backend = backend.name(),
            attempt = next.tries,
            outcome,
            %error,
            retry = next.may_try(),
            "upstream attempt failed before the first byte"
        );
        last_error = Some(error);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Unreachable;

    fn policy() -> RetryPolicy {
        RetryPolicy {
            attempts: 3,
            backoff_ms: 100,
            max_backoff_ms: 300,
            max_retry_after_ms: 5_000,
        }
    }

    fn upstream(status: u16, retry_after: Option<&str>) -> GatewayError {
        GatewayError::Upstream {
            status,
            message: "m".to_owned(),
            retry_after: retry_after.map(str::to_owned),
        }
    }

    #[test]
    fn failures_before_the_first_byte_are_retried_and_answers_are_not() {
        let policy = policy();
        let retried = |error: GatewayError| classify(&error, &policy).map(|(retry, _)| retry);
        let unreachable = GatewayError::UpstreamUnavailable {
            backend: "b".to_owned(),
            reason: Unreachable::Refused,
        };
        assert_eq!(retried(unreachable), Some(Retry::AfterBackoff));
        let slow = |phase| GatewayError::Timeout {
            backend: "b".to_owned(),
            phase,
        };
        assert_eq!(
            retried(slow(TimeoutPhase::FirstByte)),
            Some(Retry::AfterBackoff)
        );
        assert_eq!(retried(slow(TimeoutPhase::Total)), None);
        assert_eq!(retried(upstream(503, None)), Some(Retry::AfterBackoff));
        assert_eq!(
            retried(upstream(429, Some("2"))),
            Some(Retry::After(Duration::from_secs(2)))
        );
        assert_eq!(retried(upstream(502, Some("60"))), Some(Retry::Elsewhere));
        let busy = GatewayError::BackendBusy {
            backend: "b".to_owned(),
            limit: 1,
        };
        assert_eq!(retried(busy), Some(Retry::Elsewhere));
        for answer in [
            upstream(400, None),
            upstream(404, None),
            upstream(500, None),
            GatewayError::ModelNotFound("m".to_owned()),
            GatewayError::UpstreamIncomplete {
                backend: "b".to_owned(),
            },
        ] {
            assert_eq!(retried(answer.clone()), None, "{answer:?}");
        }
    }

    #[test]
    fn retry_after_is_seconds_or_an_http_date() {
        assert_eq!(parse_retry_after("3"), Some(Duration::from_secs(3)));
        assert_eq!(parse_retry_after(" 0.5 "), Some(Duration::from_millis(500)));
        assert_eq!(parse_retry_after("-1"), None);
        assert_eq!(parse_retry_after("soon"), None);
        let in_a_minute = std::time::SystemTime::now() + Duration::from_secs(60);
        let wait = parse_retry_after(&httpdate::fmt_http_date(in_a_minute)).expect("a date");
        assert!(
            wait > Duration::from_secs(55) && wait <= Duration::from_secs(60),
            "{wait:?}"
        );
        assert_eq!(
            parse_retry_after("Thu, 01 Jan 1970 00:00:00 GMT"),
            Some(Duration::ZERO)
        );
    }

    #[test]
    fn backoff_doubles_up_to_its_cap_and_jitters_within_the_upper_half() {
        let policy = policy();
        for _ in 0..200 {
            let first = backoff(&policy, 1);
            assert!((50..=100).contains(&first.as_millis()), "{first:?}");
            let second = backoff(&policy, 2);
            assert!((100..=200).contains(&second.as_millis()), "{second:?}");
            let capped = backoff(&policy, 30);
            assert!((150..=300).contains(&capped.as_millis()), "{capped:?}");
        }
    }
}
