//! What the mock answers under load: `bench` replies instantly with 16 one-word chunks (the
//! gateway's cost is then all there is to see), and a held stream paced one chunk per second, to
//! keep thousands of streams open at once.

use std::time::Duration;

/// The model every request names.
pub const MODEL: &str = "bench";
/// The prompt of the instant 16-chunk reply.
pub const INSTANT_PROMPT: &str = "n16";
/// The prompt of the instant 64-chunk reply: against the 16-chunk one, what one more chunk costs.
pub const LONG_PROMPT: &str = "n64";
/// Chunks of the two instant replies.
pub const INSTANT_CHUNKS: usize = 16;
/// See [`LONG_PROMPT`].
pub const LONG_CHUNKS: usize = 64;
/// The prompt of the paced reply.
pub const HELD_PROMPT: &str = "hold";
/// Between the paced reply's chunks.
pub const HELD_CHUNK_DELAY: Duration = Duration::from_secs(1);

/// The scenario, as the mock's `--fixtures` file reads it; the paced reply has `held_chunks`
/// chunks, one per [`HELD_CHUNK_DELAY`].
pub fn scenario_json(held_chunks: usize) -> String {
    let words = |n: usize| {
        (0..n)
            .map(|i| format!("w{i}"))
            .collect::<Vec<_>>()
            .join(" ")
    };
    serde_json::json!({
        "models": [{"name": MODEL, "capabilities": ["completion"]}],
        "rules": [
            {
                "name": "instant",
                "match": {"last_user_contains": INSTANT_PROMPT},
                "timing": {"ttft_ms": 0, "chunk_delay_ms": 0},
                "reply": {"text": words(INSTANT_CHUNKS)},
            },
            {
                "name": "long",
                "match": {"last_user_contains": LONG_PROMPT},
                "timing": {"ttft_ms": 0, "chunk_delay_ms": 0},
                "reply": {"text": words(LONG_CHUNKS)},
            },
            {
                "name": "held",
                "match": {"last_user_contains": HELD_PROMPT},
                "timing": {"ttft_ms": 0, "chunk_delay_ms": HELD_CHUNK_DELAY.as_millis() as u64},
                "reply": {"text": words(held_chunks)},
            },
        ],
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_mock_accepts_the_scenario() {
        let scenario = mock_ollama::Scenario::from_json("load", &scenario_json(20));
        assert!(scenario.is_ok(), "{scenario:?}");
    }
}
