//! The requests the runner sends, and what it keeps of the replies. Every check reads these
//! observations; no check sends anything itself, so one run costs a fixed, small number of calls.
//!
//! `registry.rs` defines every probe once, name and request; [`observe`] sends them in order and
//! keeps each reply in [`Observations`], streamed ones read into a [`StreamView`].

mod observations;
mod registry;
mod stream_view;

pub use observations::Observations;
pub use registry::{
    BROWSER_HEADERS, EMBEDDED, FOREIGN_ORIGIN, REQUEST_ID, dialect, name, preflight_origin,
};
pub use stream_view::StreamView;

use serde_json::json;

use crate::{
    check::Dialect,
    exchange::{Exchange, Target, send},
};
use registry::Prober;

/// Prompts that make a scriptable target misbehave on purpose (e.g. mock-ollama's fixtures), so
/// the error checks that need a failure can run.
#[derive(Debug, Clone, Default)]
pub struct FaultPrompts {
    /// Makes a stream fail after it started.
    pub mid_stream: Option<String>,
    /// Makes the target answer 429.
    pub rate_limit: Option<String>,
    /// The requests per minute the target limits the key to (a real limit, not a scripted
    /// 429): after every other probe, up to one more than that many small chats are sent until
    /// one is refused, and that answer is judged (ERR-007).
    pub rate_limit_burst: Option<u32>,
    /// Makes the target report an overload.
    pub overload: Option<String>,
}

impl FaultPrompts {
    /// The prompts mock-ollama's built-in fault rules answer (`fixtures/scenarios/30-faults.json`):
    /// for a target standing in front of mock-ollama, whose faults it must pass on.
    pub fn mock_ollama() -> Self {
        Self {
            mid_stream: Some("[fault:mid-stream-error]".to_owned()),
            rate_limit: Some("[fault:429]".to_owned()),
            rate_limit_burst: None,
            overload: Some("[fault:503]".to_owned()),
        }
    }
}

/// Sends every probe of the target's dialects to `target` through `client`
/// ([`Target::client`]), one at a time in the registry's order (a row may read an earlier
/// reply), then the rate-limit burst when one was asked for, and reads what came back.
pub async fn observe(
    client: &reqwest::Client,
    target: &Target,
    faults: &FaultPrompts,
) -> Observations {
    let mut prober = Prober::new(target, faults);
    // A dialect whose first probe finds no route (404, 405) is not served: its other probes
    // would only repeat that.
    let mut probed: Vec<Dialect> = Vec::new();
    let mut unserved: Vec<Dialect> = Vec::new();
    for &probe in name::ALL {
        let dialect = dialect(probe);
        if !target.dialects.contains(&dialect) || unserved.contains(&dialect) {
            continue;
        }
        if let Some(request) = registry::request(&prober, probe) {
            let exchange = send(client, target, request).await;
            if !probed.contains(&dialect) {
                probed.push(dialect);
                if dialect != Dialect::Chat && matches!(exchange.status, Some(404 | 405)) {
                    unserved.push(dialect);
                }
            }
            prober.record(exchange);
        }
    }
    let mut exchanges = Vec::new();
    if faults.rate_limit.is_none()
        && target.dialects.contains(&Dialect::Chat)
        && let Some(limit) = faults.rate_limit_burst
    {
        exchanges = burst(client, target, &prober, limit).await;
    }
    let mut sent = prober.into_sent();
    sent.extend(exchanges);
    Observations::of(target, sent)
}

/// Up to `limit + 1` small chats under the rate-limit probe's name, until one is refused with a
/// 429: a real limit, judged on the refusal (ERR-007).
async fn burst(
    client: &reqwest::Client,
    target: &Target,
    prober: &Prober<'_>,
    limit: u32,
) -> Vec<Exchange> {
    let mut exchanges = Vec::new();
    for _ in 0..=limit {
        let small = json!({"messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 1});
        let exchange = send(client, target, prober.chat(name::RATE_LIMIT, small)).await;
        let refused = exchange.status == Some(429);
        exchanges.push(exchange);
        if refused {
            break;
        }
    }
    exchanges
}
