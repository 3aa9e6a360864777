//! The shape of a reply, generated text aside: status, content type, how the body ended, and the
//! key paths and value types of each JSON object, event or line it carries, in order, with runs
//! of same-shaped items folded (a longer answer is more content deltas, not another shape).

use std::collections::BTreeSet;

use serde_json::Value;
use wire::sse::Decoder;

use crate::exchange::BodyEnd;

/// Object keys whose own keys are data, not shape (a tool call's arguments, a model's metadata).
const OPAQUE_KEYS: &[&str] = &["arguments", "model_info", "metadata", "logit_bias"];

/// What a reply looks like, text aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Shape {
    /// HTTP status.
    pub status: u16,
    /// `Content-Type`, lower case, without spaces.
    pub content_type: String,
    /// Whether the body ended or broke.
    pub end: BodyEnd,
    /// The items of the body in order, runs folded: one for a JSON body, one per event or line
    /// for a stream, `text` for anything else.
    pub items: Vec<Item>,
    /// Every `finish_reason` and `done_reason` given.
    pub finish_reasons: BTreeSet<String>,
    /// Whether any item reports token usage (`usage`, or Ollama's `eval_count`).
    pub usage: bool,
}

/// One JSON object, event or line of a body, as a set of `path: type` entries.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Item {
    /// The SSE `event:` name, when there is one.
    pub event: Option<String>,
    /// `a.b[].c: string` entries, sorted; `[DONE]` or `text` for bodies that are not JSON.
    pub keys: BTreeSet<String>,
}

impl std::fmt::Display for Item {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(event) = &self.event {
            write!(f, "event {event}: ")?;
        }
        let keys: Vec<&str> = self.keys.iter().map(String::as_str).collect();
        write!(f, "{{{}}}", keys.join(", "))
    }
}

impl Shape {
    /// The shape of a reply.
    pub fn of(status: u16, content_type: &str, body: &[u8], end: BodyEnd) -> Self {
        let content_type: String = content_type
            .to_ascii_lowercase()
            .chars()
            .filter(|c| !c.is_whitespace())
            .collect();
        let values: Vec<(Option<String>, Option<Value>)> =
            if content_type.starts_with("text/event-stream") {
                sse_items(body)
            } else if content_type.starts_with("application/x-ndjson") {
                body.split(|&byte| byte == b'\n')
                    .filter(|line| !line.iter().all(u8::is_ascii_whitespace))
                    .map(|line| (None, serde_json::from_slice(line).ok()))
                    .collect()
            } else if body.is_empty() {
                Vec::new()
            } else {
                vec![(None, serde_json::from_slice(body).ok())]
            };
        let mut shape = Shape {
            status,
            content_type,
            end,
            items: Vec::new(),
            finish_reasons: BTreeSet::new(),
            usage: false,
        };
        for (event, value) in values {
            let mut keys = BTreeSet::new();
            match &value {
                Some(value) => {
                    key_paths(value, "", &mut keys);
                    shape.note_reasons_and_usage(value);
                }
                None => {
                    keys.insert("text".to_owned());
                }
            }
            let item = Item { event, keys };
            if shape.items.last() != Some(&item) {
                shape.items.push(item);
            }
        }
        shape
    }

    fn note_reasons_and_usage(&mut self, value: &Value) {
        match value {
            Value::Object(map) => {
                for (key, value) in map {
                    match (key.as_str(), value) {
                        ("finish_reason" | "done_reason", Value::String(reason)) => {
                            self.finish_reasons.insert(reason.clone());
                        }
                        ("usage", Value::Object(_)) | ("eval_count", Value::Number(_)) => {
                            self.usage = true;
                        }
                        _ => {}
                    }
                    self.note_reasons_and_usage(value);
                }
            }
            Value::Array(items) => items
                .iter()
                .for_each(|item| self.note_reasons_and_usage(item)),
            _ => {}
        }
    }

    /// What differs between a recorded shape (`self`) and a live one, as `(aspect, recorded,
    /// live)`; empty when they have the same shape.
    pub fn differences(&self, live: &Shape) -> Vec<Difference> {
        let mut found = Vec::new();
        let mut differ = |aspect: &str, recorded: String, live: String| {
            if recorded != live {
                found.push(Difference {
                    aspect: aspect.to_owned(),
                    recorded,
                    live,
                });
            }
        };
        differ("status", self.status.to_string(), live.status.to_string());
        differ(
            "content type",
            self.content_type.clone(),
            live.content_type.clone(),
        );
        differ(
            "body end",
            format!("{:?}", self.end),
            format!("{:?}", live.end),
        );
        differ(
            "finish reason",
            format!("{:?}", self.finish_reasons),
            format!("{:?}", live.finish_reasons),
        );
        differ("usage", present(self.usage), present(live.usage));
        if self.items != live.items {
            let at = self
                .items
                .iter()
                .zip(&live.items)
                .position(|(recorded, live)| recorded != live)
                .unwrap_or(self.items.len().min(live.items.len()));
            // Name only what one side has and the other lacks: items are long.
            let describe = |items: &[Item], other: &[Item]| match (items.get(at), other.get(at)) {
                (Some(item), Some(counterpart)) => {
                    let only: Vec<&str> = item
                        .keys
                        .difference(&counterpart.keys)
                        .map(String::as_str)
                        .collect();
                    let event = match (&item.event, &counterpart.event) {
                        (Some(event), theirs) if Some(event) != theirs.as_ref() => {
                            format!(" event {event}")
                        }
                        _ => String::new(),
                    };
                    format!(
                        "item {at} of {}{event}, only here: {{{}}}",
                        items.len(),
                        only.join(", ")
                    )
                }
                (Some(item), None) => format!("item {at} of {}: {item}", items.len()),
                (None, _) => format!("{} items, nothing at {at}", items.len()),
            };
            found.push(Difference {
                aspect: "body shape".to_owned(),
                recorded: describe(&self.items, &live.items),
                live: describe(&live.items, &self.items),
            });
        }
        found
    }
}

fn present(yes: bool) -> String {
    if yes { "present" } else { "absent" }.to_owned()
}

/// One way a live reply differs from its recording.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    /// What differs: `status`, `content type`, `body end`, `finish reason`, `usage`, `body shape`.
    pub aspect: String,
    /// The recording's side.
    pub recorded: String,
    /// The live server's side.
    pub live: String,
}

/// The events of an SSE body as `(event name, data as JSON)`; data that is not JSON (`[DONE]`)
/// becomes `None`, which [`Shape::of`] shows as `text`.
fn sse_items(body: &[u8]) -> Vec<(Option<String>, Option<Value>)> {
    Decoder::decode_all(body)
        .into_iter()
        .map(|event| {
            let name = (event.event != "message").then_some(event.event);
            (name, serde_json::from_str(&event.data).ok())
        })
        .collect()
}

/// Adds `path: type` for every leaf under `value`; array elements share the path `name[]`.
fn key_paths(value: &Value, path: &str, into: &mut BTreeSet<String>) {
    let leaf = |kind: &str| format!("{}: {kind}", if path.is_empty() { "." } else { path });
    match value {
        Value::Object(map) if map.is_empty() => {
            into.insert(leaf("{}"));
        }
        Value::Object(map) => {
            for (key, value) in map {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                if OPAQUE_KEYS.contains(&key.as_str()) && value.is_object() {
                    into.insert(format!("{child}: object"));
                } else {
                    key_paths(value, &child, into);
                }
            }
        }
        Value::Array(items) if items.is_empty() => {
            into.insert(leaf("[]"));
        }
        Value::Array(items) => {
            let child = format!("{path}[]");
            for item in items {
                key_paths(item, &child, into);
            }
        }
        Value::String(_) => {
            into.insert(leaf("string"));
        }
        Value::Number(_) => {
            into.insert(leaf("number"));
        }
        Value::Bool(_) => {
            into.insert(leaf("boolean"));
        }
        Value::Null => {
            into.insert(leaf("null"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sse(events: &[&str]) -> Vec<u8> {
        events
            .iter()
            .map(|data| format!("data: {data}\n\n"))
            .collect::<String>()
            .into_bytes()
    }

    #[test]
    fn longer_answers_have_the_same_shape() {
        let delta = r#"{"choices":[{"delta":{"content":"x"},"finish_reason":null}]}"#;
        let last = r#"{"choices":[{"delta":{},"finish_reason":"stop"}]}"#;
        let short = Shape::of(
            200,
            "text/event-stream",
            &sse(&[delta, last, "[DONE]"]),
            BodyEnd::Complete,
        );
        let long = Shape::of(
            200,
            "text/event-stream",
            &sse(&[delta, delta, delta, last, "[DONE]"]),
            BodyEnd::Complete,
        );
        assert_eq!(short.differences(&long), vec![]);
        assert_eq!(short.items.len(), 3);
        assert_eq!(short.finish_reasons, BTreeSet::from(["stop".to_owned()]));
    }

    #[test]
    fn a_missing_usage_chunk_is_a_difference() {
        let delta = r#"{"choices":[{"delta":{"content":"x"}}]}"#;
        let usage = r#"{"choices":[],"usage":{"total_tokens":3}}"#;
        let with = Shape::of(
            200,
            "text/event-stream",
            &sse(&[delta, usage, "[DONE]"]),
            BodyEnd::Complete,
        );
        let without = Shape::of(
            200,
            "text/event-stream",
            &sse(&[delta, "[DONE]"]),
            BodyEnd::Complete,
        );
        let aspects: Vec<String> = with
            .differences(&without)
            .into_iter()
            .map(|difference| difference.aspect)
            .collect();
        assert_eq!(aspects, vec!["usage", "body shape"]);
    }

    #[test]
    fn tool_arguments_are_data_not_shape() {
        let call = |args: &str| {
            format!(
                r#"{{"message":{{"tool_calls":[{{"function":{{"name":"f","arguments":{args}}}}}]}}}}"#
            )
        };
        let one = Shape::of(
            200,
            "application/json",
            call(r#"{"city":"Paris"}"#).as_bytes(),
            BodyEnd::Complete,
        );
        let other = Shape::of(
            200,
            "application/json",
            call(r#"{"town":"Oslo"}"#).as_bytes(),
            BodyEnd::Complete,
        );
        assert_eq!(one.differences(&other), vec![]);
    }

    #[test]
    fn ndjson_lines_and_status_are_compared() {
        let lines = b"{\"done\":false,\"message\":{\"content\":\"a\"}}\n{\"done\":true,\"done_reason\":\"stop\",\"eval_count\":1}\n";
        let ok = Shape::of(200, "application/x-ndjson", lines, BodyEnd::Complete);
        let error = Shape::of(
            404,
            "application/json; charset=utf-8",
            br#"{"error":"model 'x' not found"}"#,
            BodyEnd::Complete,
        );
        let aspects: Vec<String> = ok
            .differences(&error)
            .into_iter()
            .map(|d| d.aspect)
            .collect();
        assert_eq!(
            aspects,
            vec![
                "status",
                "content type",
                "finish reason",
                "usage",
                "body shape"
            ]
        );
        assert!(ok.usage);
    }
}
