//! proptest strategies for replies and requests, shared by the property suites.

use chrono::{TimeZone, Utc};
use mock_ollama::{ChunkSpec, Reply, Timing, ndjson::Clock, turn::TurnContext};
use proptest::prelude::*;
use serde_json::json;
use wire::ollama::ToolCall;

pub fn tool_call() -> impl Strategy<Value = ToolCall> {
    ("[a-z_]{1,8}", "[a-zA-Z <>&é]{0,6}").prop_map(|(name, city)| {
        serde_json::from_value(json!({"function": {"name": name, "arguments": {"city": city}}}))
            .unwrap()
    })
}

pub fn chunk() -> impl Strategy<Value = ChunkSpec> {
    (
        "[a-zA-Z ,.<>&\"\\\\\n]{0,12}",
        prop_oneof![Just(String::new()), "[a-z ]{1,8}"],
        prop::collection::vec(tool_call(), 0..2),
        prop::option::of(0.0f64..50.0),
    )
        .prop_map(|(content, thinking, tool_calls, delay_ms)| ChunkSpec {
            content,
            thinking,
            tool_calls,
            delay_ms,
        })
}

pub fn reply() -> impl Strategy<Value = Reply> {
    (
        prop::collection::vec(chunk(), 0..8),
        chunk(),
        prop_oneof![Just("stop"), Just("length")],
        any::<bool>(),
    )
        .prop_map(|(chunks, done, reason, legacy)| Reply {
            chunks,
            done,
            done_reason: reason.to_owned(),
            legacy_tool_calls: legacy,
            ..Reply::default()
        })
}

pub fn context() -> impl Strategy<Value = TurnContext> {
    (
        any::<u64>(),
        1u64..500,
        prop::option::of(1u64..10),
        any::<bool>(),
    )
        .prop_map(
            |(seed, prompt_tokens, num_predict, has_tools)| TurnContext {
                seed,
                prompt_tokens,
                num_predict,
                has_tools,
            },
        )
}

pub fn clock() -> Clock {
    Clock {
        base: Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
    }
}

pub fn timing() -> Timing {
    Timing {
        jitter_ms: 3.0,
        ..Timing::default()
    }
}
