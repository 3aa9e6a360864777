//! What each probe saw, normalized for snapshots: the event-type sequence of a stream, the
//! message reassembled per choice (tool calls merged by index), and JSON bodies with the fields
//! that vary between runs replaced by placeholders once the checks have validated them.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::{Value, json};

use crate::probes::{Observations, StreamView};

/// Every probe's normalized view, by probe name.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Transcript {
    /// Probe name → view.
    pub probes: BTreeMap<String, ProbeView>,
}

/// One probe, normalized.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProbeView {
    /// HTTP status (or null when none arrived).
    pub status: Option<u16>,
    /// Media type.
    pub content_type: Option<String>,
    /// For JSON replies: the body with `id`, `created` (its own and its list items')
    /// and `system_fingerprint` replaced.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// For streams: one label per client event (`role`, `content`, `reasoning`, `tool_call`,
    /// `finish:<reason>`, `usage`, `error:<code>`, `[DONE]`, `invalid`).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub events: Vec<String>,
    /// For streams: the reassembled message per choice index.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub messages: BTreeMap<u64, Value>,
    /// For streams: the usage chunk's usage.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage: Option<Value>,
    /// Transport failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why the runner stopped reading early (its deadline or body cap), if it did.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cut: Option<String>,
}

/// Replaces volatile fields of a JSON body.
pub fn redact(mut body: Value) -> Value {
    if let Some(object) = body.as_object_mut() {
        for (key, placeholder) in [
            ("id", "[id]"),
            ("created", "[created]"),
            ("created_at", "[created]"),
            ("completed_at", "[completed]"),
            ("request_id", "[request id]"),
            ("system_fingerprint", "[fingerprint]"),
        ] {
            if object.contains_key(key) {
                object.insert(key.to_owned(), json!(placeholder));
            }
        }
        // A list's items (models) carry when each was made: a server's start time, often.
        let items = object.get_mut("data").and_then(Value::as_array_mut);
        for item in items.into_iter().flatten() {
            if let Some(created) = item.get_mut("created") {
                *created = json!("[created]");
            }
        }
        if let Some(choices) = object.get_mut("choices").and_then(Value::as_array_mut) {
            for choice in choices {
                // `get_mut`, not indexing: indexing a missing key would insert a null.
                let calls = choice
                    .get_mut("message")
                    .and_then(|message| message.get_mut("tool_calls"))
                    .and_then(Value::as_array_mut);
                for call in calls.into_iter().flatten() {
                    if let Some(call) = call.as_object_mut() {
                        call.insert("id".to_owned(), json!("[call id]"));
                    }
                }
            }
        }
    }
    body
}

fn labels(view: &StreamView) -> Vec<String> {
    view.client_events
        .iter()
        .map(|(_, data)| {
            if data == "[DONE]" {
                return "[DONE]".to_owned();
            }
            let Ok(value) = serde_json::from_str::<Value>(data) else {
                return "invalid".to_owned();
            };
            if let Some(error) = value.get("error").filter(|e| !e.is_null()) {
                return format!("error:{}", error["code"].as_str().unwrap_or("null"));
            }
            // The Responses and Messages events name themselves.
            if value.get("choices").is_none()
                && let Some(kind) = value["type"].as_str()
            {
                return kind.to_owned();
            }
            let Some(choice) = value["choices"].get(0) else {
                return if value["usage"].is_object() {
                    "usage".to_owned()
                } else {
                    "empty".to_owned()
                };
            };
            let delta = &choice["delta"];
            let mut parts = Vec::new();
            if delta["role"].is_string() {
                parts.push("role".to_owned());
            }
            if delta["reasoning_content"]
                .as_str()
                .or(delta["reasoning"].as_str())
                .is_some_and(|r| !r.is_empty())
            {
                parts.push("reasoning".to_owned());
            }
            if delta["content"].as_str().is_some_and(|c| !c.is_empty()) {
                parts.push("content".to_owned());
            }
            if delta["tool_calls"]
                .as_array()
                .is_some_and(|c| !c.is_empty())
            {
                parts.push("tool_call".to_owned());
            }
            if let Some(reason) = choice["finish_reason"].as_str() {
                parts.push(format!("finish:{reason}"));
            }
            if parts.is_empty() {
                "empty".to_owned()
            } else {
                parts.join("+")
            }
        })
        .collect()
}

fn messages(view: &StreamView) -> BTreeMap<u64, Value> {
    let mut indices: Vec<u64> = view
        .chunks
        .iter()
        .flat_map(|(_, c)| c["choices"].as_array().into_iter().flatten())
        .map(|c| c["index"].as_u64().unwrap_or(0))
        .collect();
    indices.sort_unstable();
    indices.dedup();
    indices
        .into_iter()
        .map(|index| {
            let reasoning: String = view
                .deltas(index)
                .filter_map(|d| d["reasoning_content"].as_str().or(d["reasoning"].as_str()))
                .collect();
            let calls: Vec<Value> = view
                .tool_calls(index)
                .into_values()
                .map(|(name, arguments)| json!({"name": name, "arguments": arguments}))
                .collect();
            let finish = view
                .finishes(index)
                .first()
                .map(|(_, r)| r.clone())
                .unwrap_or(Value::Null);
            let mut message = json!({"content": view.text(index), "finish_reason": finish});
            if !reasoning.is_empty() {
                message["reasoning"] = json!(reasoning);
            }
            if !calls.is_empty() {
                message["tool_calls"] = Value::Array(calls);
            }
            (index, message)
        })
        .collect()
}

impl Transcript {
    /// Normalizes every probe.
    pub fn of(observations: &Observations) -> Self {
        let probes = observations
            .exchanges
            .iter()
            .map(|(name, exchange)| {
                let json = exchange.json();
                // A whole JSON body (an error, or JSON where a stream was asked for) is no stream.
                let stream = observations.stream(name).filter(|_| json.is_none());
                let view = ProbeView {
                    status: exchange.status,
                    content_type: exchange.media_type(),
                    body: json.map(redact),
                    events: stream.map(labels).unwrap_or_default(),
                    messages: stream.map(messages).unwrap_or_default(),
                    usage: stream.and_then(|view| {
                        view.chunks
                            .iter()
                            .find(|(_, c)| c["choices"].as_array().is_some_and(Vec::is_empty))
                            .map(|(_, c)| c["usage"].clone())
                    }),
                    error: exchange.error.clone(),
                    cut: exchange.cut(),
                };
                ((*name).to_owned(), view)
            })
            .collect();
        Transcript { probes }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redaction_replaces_volatile_fields_and_adds_nothing() {
        let body = json!({"id": "chatcmpl-1", "created": 5, "choices": [
            {"message": {"content": "x"}},
            {"message": {"tool_calls": [{"id": "call_9", "function": {}}]}}
        ]});
        assert_eq!(
            redact(body),
            json!({"id": "[id]", "created": "[created]", "choices": [
                {"message": {"content": "x"}},
                {"message": {"tool_calls": [{"id": "[call id]", "function": {}}]}}
            ]})
        );
    }
}
