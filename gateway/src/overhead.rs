//! What the gateway itself costs: the time from a request's arrival at the router to its response
//! head, minus the time spent waiting on upstreams. Reported per response in a `Server-Timing`
//! header and aggregated in a Prometheus histogram served at `GET /metrics`.
//!
//! Handlers find an [`UpstreamClock`] in the request's extensions and time their upstream waits
//! with it (sending and reading the head, reading a whole body). Model discovery is not counted as
//! upstream time: it is the gateway's own lookup. For streams the measurement ends at the head;
//! per-chunk translation is measured by the criterion benchmarks.

use std::{
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use axum::{
    extract::{Request, State},
    http::HeaderValue,
    middleware::Next,
    response::Response,
};

use crate::metrics::Metrics;

/// Upstream wait accumulated by one request.
#[derive(Debug, Clone, Default)]
pub struct UpstreamClock(Arc<AtomicU64>);

impl UpstreamClock {
    /// Adds a wait.
    pub fn add(&self, waited: Duration) {
        self.0.fetch_add(
            waited.as_nanos().min(u64::MAX as u128) as u64,
            Ordering::Relaxed,
        );
    }

    /// All waits so far.
    pub fn total(&self) -> Duration {
        Duration::from_nanos(self.0.load(Ordering::Relaxed))
    }

    /// Runs `wait`, counting its duration as upstream time.
    pub async fn time<F: std::future::Future>(&self, wait: F) -> F::Output {
        let started = Instant::now();
        let output = wait.await;
        self.add(started.elapsed());
        output
    }
}

/// Handlers take the clock as an extractor: the one the layer installed, or a detached one when
/// the layer is absent (a router built without it, in a test).
impl<S: Send + Sync> axum::extract::FromRequestParts<S> for UpstreamClock {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<UpstreamClock>()
            .cloned()
            .unwrap_or_default())
    }
}

/// The layer: starts the clock, hands handlers an [`UpstreamClock`], then records and reports.
pub async fn measure(
    State(metrics): State<Arc<Metrics>>,
    mut request: Request,
    next: Next,
) -> Response {
    let started = Instant::now();
    let clock = UpstreamClock::default();
    request.extensions_mut().insert(clock.clone());
    let mut response = next.run(request).await;
    let upstream = clock.total();
    let overhead = started.elapsed().saturating_sub(upstream);
    metrics.observe_request(overhead, upstream);
    let timing = format!(
        "gateway;dur={:.3}, upstream;dur={:.3}",
        overhead.as_secs_f64() * 1000.0,
        upstream.as_secs_f64() * 1000.0
    );
    if let Ok(value) = HeaderValue::from_str(&timing) {
        response.headers_mut().insert("server-timing", value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_clock_adds_timed_waits() {
        let clock = UpstreamClock::default();
        clock.add(Duration::from_millis(2));
        clock.time(async {}).await;
        assert!(clock.total() >= Duration::from_millis(2));
    }
}
