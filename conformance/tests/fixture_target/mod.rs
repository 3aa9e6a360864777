//! Judging a server that serves the committed fixtures (`fixtures/scenarios`): its target and the
//! prompts its fault rules answer (`fixtures/scenarios/30-faults.json`).
#![allow(dead_code)]

use std::time::Duration;

use conformance::{Target, probes::FaultPrompts};

/// The largest request body the gateways under test read (their `body_limit_bytes`).
pub const GATEWAY_BODY_LIMIT: usize = 1 << 20;

/// `base_url` judged with model `llama3.2`, a 20 s probe deadline, and an oversized body twice
/// [`GATEWAY_BODY_LIMIT`] (the fixtures' models have far smaller contexts than it has words).
pub fn target(base_url: String) -> Target {
    Target {
        timeout: Duration::from_secs(20),
        max_body: 1 << 20,
        oversized_body_bytes: 2 * GATEWAY_BODY_LIMIT,
        ..Target::new(base_url, "llama3.2")
    }
}

/// The prompts that make the fixtures fail mid-stream, rate-limit and report an overload.
pub fn fault_prompts() -> FaultPrompts {
    FaultPrompts {
        mid_stream: Some("[fault:mid-stream-error]".to_owned()),
        rate_limit: Some("[fault:429]".to_owned()),
        rate_limit_burst: None,
        overload: Some("[fault:503]".to_owned()),
    }
}
