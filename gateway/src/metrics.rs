//! Everything the gateway counts, in one Prometheus registry served at `GET /metrics`: its own
//! overhead per request (see [`crate::overhead`]), every upstream attempt and how it ended (see
//! [`crate::failover`]), and every request turned away to protect the gateway or a backend.

use std::{sync::Arc, time::Duration};

use axum::{
    extract::State,
    http::{HeaderValue, header},
    response::{IntoResponse, Response},
};
use prometheus::{
    Encoder, Histogram, HistogramOpts, IntCounterVec, Opts, Registry, TextEncoder, core::Collector,
};

/// The registry and its instruments.
#[derive(Debug, Clone)]
pub struct Metrics {
    registry: Registry,
    overhead: Histogram,
    upstream: Histogram,
    attempts: IntCounterVec,
    shed: IntCounterVec,
    limits: IntCounterVec,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// Fresh instruments, all at zero.
    pub fn new() -> Self {
        // 10 µs .. ~1.3 s, doubling: the interesting range is tens to hundreds of µs.
        let buckets = prometheus::exponential_buckets(0.000_01, 2.0, 18).unwrap_or_default();
        let histogram = |name: &str, help: &str| {
            Histogram::with_opts(HistogramOpts::new(name, help).buckets(buckets.clone()))
                .expect("static histogram options are valid")
        };
        let counters = |name: &str, help: &str, labels: &[&str]| {
            IntCounterVec::new(Opts::new(name, help), labels)
                .expect("static counter options are valid")
        };
        let metrics = Self {
            registry: Registry::new(),
            overhead: histogram(
                "gateway_overhead_seconds",
                "Time from arrival to response head minus time waiting on upstreams",
            ),
            upstream: histogram(
                "gateway_upstream_wait_seconds",
                "Time a request spent waiting on upstreams before its response head",
            ),
            attempts: counters(
                "gateway_upstream_attempts_total",
                "Upstream attempts by backend and outcome (ok, or why the attempt failed before the first byte)",
                &["backend", "outcome"],
            ),
            shed: counters(
                "gateway_requests_shed_total",
                "Requests answered 503 because a concurrency bound was reached, by bound",
                &["bound"],
            ),
            limits: counters(
                "gateway_rate_limit_decisions_total",
                "Rate-limit decisions by key and outcome (admitted, refused, or, while Redis is unreachable, unmetered or unavailable)",
                &["key", "outcome"],
            ),
        };
        let collectors: [Box<dyn Collector>; 5] = [
            Box::new(metrics.overhead.clone()),
            Box::new(metrics.upstream.clone()),
            Box::new(metrics.attempts.clone()),
            Box::new(metrics.shed.clone()),
            Box::new(metrics.limits.clone()),
        ];
        for collector in collectors {
            if let Err(error) = metrics.registry.register(collector) {
                tracing::error!(%error, "cannot register a metric");
            }
        }
        metrics
    }

    /// One request's overhead and upstream wait before its response head.
    pub fn observe_request(&self, overhead: Duration, upstream: Duration) {
        self.overhead.observe(overhead.as_secs_f64());
        self.upstream.observe(upstream.as_secs_f64());
    }

    /// One upstream attempt on `backend` and how it ended.
    pub fn count_attempt(&self, backend: &str, outcome: &str) {
        self.attempts.with_label_values(&[backend, outcome]).inc();
    }

    /// One request turned away at `bound` (`gateway`, or `backend:<name>`).
    pub fn count_shed(&self, bound: &str) {
        self.shed.with_label_values(&[bound]).inc();
    }

    /// One rate-limit decision for `key`.
    pub fn count_limit(&self, key: &str, outcome: &str) {
        self.limits.with_label_values(&[key, outcome]).inc();
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = Vec::new();
        if let Err(error) = TextEncoder::new().encode(&self.registry.gather(), &mut out) {
            tracing::error!(%error, "cannot encode metrics");
        }
        String::from_utf8(out).unwrap_or_default()
    }
}

/// `GET /metrics`.
pub async fn serve(State(metrics): State<Arc<Metrics>>) -> Response {
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("text/plain; version=0.0.4"),
        )],
        metrics.render(),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_instrument_renders_in_prometheus_text() {
        let metrics = Metrics::new();
        metrics.observe_request(Duration::from_micros(50), Duration::ZERO);
        metrics.count_attempt("local", "status_503");
        metrics.count_shed("gateway");
        let text = metrics.render();
        assert!(text.contains("gateway_overhead_seconds_count 1"), "{text}");
        assert!(
            text.contains("gateway_overhead_seconds_bucket{le=\"0.00008\"} 1"),
            "{text}"
        );
        assert!(
            text.contains("gateway_upstream_wait_seconds_count 1"),
            "{text}"
        );
        assert!(
            text.contains(
                "gateway_upstream_attempts_total{backend=\"local\",outcome=\"status_503\"} 1"
            ),
            "{text}"
        );
        assert!(
            text.contains("gateway_requests_shed_total{bound=\"gateway\"} 1"),
            "{text}"
        );
    }
}
