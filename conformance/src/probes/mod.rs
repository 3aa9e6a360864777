//! The requests the runner sends, and what it keeps of the replies. Every check reads these
//! observations; no check sends anything itself, so one run costs a fixed, small number of calls.
//!
//! `registry.rs` defines every probe once, name and request; [`observe`] sends them in order and
//! keeps each reply in [`Observations`], streamed ones read into a [`StreamView`].

mod observations;
mod registry;
mod stream_view;

pub use observations::Observations;
pub use registry::{BROWSER_HEADERS, EMBEDDED, FOREIGN_ORIGIN, REQUEST_ID, name, preflight_origin};
pub use stream_view::StreamView;

use serde_json::json;

use crate::exchange::{Exchange, Target, send};
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

/// Sends every probe to `target` through `client` ([`Target::client`]), in the registry's order,
/// then the rate-limit burst when one was asked for, and reads what came back.
pub async fn observe(
    client: &reqwest::Client,
    target: &Target,
    faults: &FaultPrompts,
) -> Observations {
    let prober = Prober::new(target, faults);
    let mut exchanges = Vec::with_capacity(name::ALL.len());
    for request in registry::requests(&prober) {
        exchanges.push(send(client, target, request).await);
    }
    if faults.rate_limit.is_none()
        && let Some(limit) = faults.rate_limit_burst
    {
        exchanges.extend(burst(client, target, &prober, limit).await);
    }
    Observations::of(target, exchanges)
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
