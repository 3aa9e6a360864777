//! Judging a server that serves the committed fixtures (`fixtures/scenarios`): its target and the
//! prompts its fault rules answer (`fixtures/scenarios/30-faults.json`, built into the mock).
#![allow(dead_code)]

use std::time::Duration;

use conformance::{Conformance, FaultPrompts};

/// The largest request body the gateways under test read (their `body_limit_bytes`).
pub const GATEWAY_BODY_LIMIT: usize = 1 << 20;

/// `base_url` judged with model `llama3.2` (and `qwen3:0.6b`, which thinks), the prompts of the
/// fixtures' fault rules, a 20 s probe
/// deadline, and an oversized body twice [`GATEWAY_BODY_LIMIT`] (the fixtures' models have far
/// smaller contexts than it has words).
pub fn conformance(base_url: String) -> Conformance {
    Conformance::new(base_url)
        .model("llama3.2")
        .fault_prompts(FaultPrompts::mock_ollama())
        .timeout(Duration::from_secs(20))
        .configure(|target| {
            target.max_body = 1 << 20;
            target.thinking_model = Some("qwen3:0.6b".to_owned());
            target.oversized_body_bytes = 2 * GATEWAY_BODY_LIMIT;
        })
}
