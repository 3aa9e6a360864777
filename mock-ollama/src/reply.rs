//! What a scripted reply is made of — its chunks, its final chunk, its reason and its stats — as
//! a scenario file writes it. A leaf: the loader ([`crate::scenario`]) reads these, and the
//! renderers (`turn`, `ndjson`, the `/v1` dialects) take them without knowing where they came
//! from.

use serde::{Deserialize, Serialize};
use wire::ollama::ToolCall;

/// The reply of a rule: NDJSON chunks, the final chunk, its reason and its stats.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Reply {
    /// Shorthand: text split into word tokens, one chunk each.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub text: String,
    /// Shorthand: reasoning text split into word tokens, streamed before `text`.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thinking: String,
    /// The `done:false` chunks, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<ChunkSpec>,
    /// Message fields carried by the `done:true` chunk itself.
    #[serde(default)]
    pub done: ChunkSpec,
    /// `stop` (default), `length`, `load` or `unload`.
    #[serde(default = "default_done_reason")]
    pub done_reason: String,
    /// Metrics of the final chunk; unset fields are computed.
    #[serde(default)]
    pub stats: Stats,
    /// Write tool calls without `id` and `index`, as servers before mid-2025 did.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub legacy_tool_calls: bool,
}

impl Default for Reply {
    fn default() -> Self {
        Self {
            text: String::new(),
            thinking: String::new(),
            chunks: Vec::new(),
            done: ChunkSpec::default(),
            done_reason: default_done_reason(),
            stats: Stats::default(),
            legacy_tool_calls: false,
        }
    }
}

fn default_done_reason() -> String {
    "stop".to_owned()
}

/// The message fields of one NDJSON chunk.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ChunkSpec {
    /// Text delta.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub content: String,
    /// Reasoning delta.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub thinking: String,
    /// Whole tool calls; `id` and `index` are filled in unless the reply is legacy.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_calls: Vec<ToolCall>,
    /// Delay before this chunk, in (unscaled) milliseconds; overrides the timing model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<f64>,
}

impl ChunkSpec {
    /// True when the chunk carries nothing.
    pub fn is_empty(&self) -> bool {
        self.content.is_empty() && self.thinking.is_empty() && self.tool_calls.is_empty()
    }
}

/// Final-chunk metrics; each unset field is computed from the request and the timing.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Stats {
    /// Input tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_count: Option<u64>,
    /// Output tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_count: Option<u64>,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_duration: Option<u64>,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub load_duration: Option<u64>,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_eval_duration: Option<u64>,
    /// Nanoseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub eval_duration: Option<u64>,
}
