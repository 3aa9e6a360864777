//! Drift: re-sends every recorded request to the live server and compares the shape of what it
//! answers now with the shape of what it answered then (see [`crate::shape`]), never the text.

use std::fmt;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method};
use futures_util::StreamExt;
use wire::error_chain::error_chain;

use crate::{
    exchange::{BodyEnd, Exchange},
    record::UpstreamBounds,
    shape::{Difference, Shape},
};

/// How one fixture compares with the live server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixtureDrift {
    /// The exchange's name.
    pub name: String,
    /// `METHOD /path` of the request.
    pub request: String,
    /// Every difference of shape; empty when the server still answers alike.
    pub differences: Vec<Difference>,
}

/// The drift of a whole fixture set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DriftReport {
    /// One entry per recorded exchange, in fixture order.
    pub fixtures: Vec<FixtureDrift>,
}

impl DriftReport {
    /// True when no fixture drifted.
    pub fn agrees(&self) -> bool {
        self.fixtures
            .iter()
            .all(|fixture| fixture.differences.is_empty())
    }
}

impl fmt::Display for DriftReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for fixture in &self.fixtures {
            let verdict = if fixture.differences.is_empty() {
                "same shape"
            } else {
                "DRIFTED"
            };
            writeln!(f, "{verdict:<10} {} ({})", fixture.name, fixture.request)?;
            for difference in &fixture.differences {
                writeln!(f, "    {}:", difference.aspect)?;
                writeln!(f, "        recorded: {}", difference.recorded)?;
                writeln!(f, "        live:     {}", difference.live)?;
            }
        }
        let drifted = self
            .fixtures
            .iter()
            .filter(|fixture| !fixture.differences.is_empty())
            .count();
        writeln!(f, "{} fixture(s), {drifted} drifted", self.fixtures.len())
    }
}

/// Re-sends each exchange's request to `upstream` through `client` (see
/// [`upstream_client`](crate::record::upstream_client)) with `extra_headers` (e.g. the key the
/// recording left out) and compares the shapes, within the default [`UpstreamBounds`].
pub async fn drift(
    client: &reqwest::Client,
    exchanges: &[Exchange],
    upstream: &str,
    extra_headers: &HeaderMap,
) -> DriftReport {
    drift_within(
        client,
        exchanges,
        upstream,
        extra_headers,
        UpstreamBounds::default(),
    )
    .await
}

/// [`drift`] within `bounds`: an answer longer than `bounds.max_body_bytes`, or still arriving
/// after `bounds.timeout`, is reported as no reply, with the bound it passed.
pub async fn drift_within(
    client: &reqwest::Client,
    exchanges: &[Exchange],
    upstream: &str,
    extra_headers: &HeaderMap,
    bounds: UpstreamBounds,
) -> DriftReport {
    let upstream = upstream.trim_end_matches('/');
    let mut report = DriftReport::default();
    for (index, exchange) in exchanges.iter().enumerate() {
        let recorded = &exchange.response;
        let recorded_shape = Shape::of(
            recorded.status,
            recorded
                .headers
                .get("content-type")
                .map_or("", String::as_str),
            &recorded.body(),
            recorded.end,
        );
        let live_shape = match resend(client, upstream, exchange, extra_headers, bounds).await {
            Ok(shape) => shape,
            Err(reason) => Shape {
                status: 0,
                content_type: format!("(no reply: {reason})"),
                end: BodyEnd::Reset,
                items: Vec::new(),
                finish_reasons: Default::default(),
                usage: false,
            },
        };
        report.fixtures.push(FixtureDrift {
            name: exchange
                .name
                .clone()
                .unwrap_or_else(|| format!("exchange-{index}")),
            request: format!("{} {}", exchange.request.method, exchange.request.path),
            differences: recorded_shape.differences(&live_shape),
        });
    }
    report
}

async fn resend(
    client: &reqwest::Client,
    upstream: &str,
    exchange: &Exchange,
    extra_headers: &HeaderMap,
    bounds: UpstreamBounds,
) -> Result<Shape, String> {
    let request = &exchange.request;
    let method = Method::from_bytes(request.method.as_bytes()).map_err(|e| e.to_string())?;
    let mut headers = HeaderMap::new();
    for (name, value) in &request.headers {
        if let (Ok(name), Ok(value)) = (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(value),
        ) {
            headers.insert(name, value);
        }
    }
    for (name, value) in extra_headers {
        headers.insert(name.clone(), value.clone());
    }
    let response = client
        .request(method, format!("{upstream}{}", request.path))
        .headers(headers)
        .body(request.body_bytes())
        .timeout(bounds.timeout)
        .send()
        .await
        .map_err(|error| {
            if error.is_timeout() {
                late(bounds)
            } else {
                error_chain(&error)
            }
        })?;
    let status = response.status().as_u16();
    let content_type = response
        .headers()
        .get("content-type")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    let mut body = Vec::new();
    let mut end = BodyEnd::Complete;
    let mut chunks = response.bytes_stream();
    while let Some(chunk) = chunks.next().await {
        match chunk {
            Ok(bytes) if (body.len() + bytes.len()) as u64 > bounds.max_body_bytes => {
                return Err(format!(
                    "the body passed the limit of {} bytes",
                    bounds.max_body_bytes
                ));
            }
            Ok(bytes) => body.extend_from_slice(&bytes),
            Err(error) if error.is_timeout() => return Err(late(bounds)),
            Err(_) => {
                end = BodyEnd::Reset;
                break;
            }
        }
    }
    Ok(Shape::of(status, &content_type, &body, end))
}

fn late(bounds: UpstreamBounds) -> String {
    format!(
        "no complete answer within the deadline of {} ms",
        bounds.timeout.as_millis()
    )
}
