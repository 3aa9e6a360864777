//! The reply an unscripted request gets outside strict mode: deterministic, seeded from the
//! request, and shaped by it, so a gateway can be exercised end to end with no scenario written.
//!
//! - a request that offers tools and ends with a `user` message gets one whole call of the first
//!   tool, with arguments valid against its schema;
//! - otherwise a sentence of 8–24 words (after a `tool` message too), preceded by 6–12 words of
//!   reasoning when the model thinks;
//! - with `format`, the text is JSON instead: a value valid against the schema, or for `"json"`
//!   an object holding the sentence — as constrained decoding would produce;
//! - `options.num_predict` then truncates it like any scripted reply.

use serde_json::Value;
use wire::ollama::{ToolCall, ToolCallFunction};

use crate::{
    matching::RequestView,
    reply::{ChunkSpec, Reply},
    schema,
    seed::DetRng,
};

const VOCABULARY: &[&str] = &[
    "the",
    "mock",
    "model",
    "answers",
    "quickly",
    "with",
    "a",
    "steady",
    "stream",
    "of",
    "words",
    "that",
    "look",
    "like",
    "language",
    "but",
    "carry",
    "no",
    "meaning",
    "beyond",
    "being",
    "deterministic",
    "for",
    "every",
    "request",
    "so",
    "tests",
    "can",
    "compare",
    "bytes",
    "and",
    "gateways",
    "relay",
    "chunks",
    "in",
    "order",
    "while",
    "timing",
    "stays",
    "scripted",
];

/// Builds the generated reply for a request.
pub fn reply(request: &RequestView<'_>, thinking: bool, rng: &mut DetRng) -> Reply {
    if let (Some(tool), "user") = (request.tools.first(), request.last_role) {
        let arguments = match schema::example(&tool.function.parameters, rng) {
            Value::Object(arguments) => arguments,
            _ => serde_json::Map::new(),
        };
        let call = ToolCall {
            id: None,
            function: ToolCallFunction {
                index: None,
                name: tool.function.name.clone(),
                arguments,
            },
        };
        return Reply {
            chunks: vec![ChunkSpec {
                tool_calls: vec![call],
                ..ChunkSpec::default()
            }],
            ..Reply::default()
        };
    }
    let reasoning = if thinking {
        let count = rng.between(6, 12) as usize;
        sentence(count, rng)
    } else {
        String::new()
    };
    let count = rng.between(8, 24) as usize;
    let text = match request.format {
        Some(schema @ Value::Object(_)) => schema::example(schema, rng).to_string(),
        Some(Value::String(kind)) if kind == "json" => {
            serde_json::json!({"answer": sentence(count, rng)}).to_string()
        }
        _ => sentence(count, rng),
    };
    Reply {
        thinking: reasoning,
        text,
        done_reason: "stop".to_owned(),
        ..Reply::default()
    }
}

fn sentence(words: usize, rng: &mut DetRng) -> String {
    let mut text = String::new();
    for position in 0..words {
        let word = VOCABULARY[rng.below(VOCABULARY.len() as u64) as usize];
        if position == 0 {
            let mut chars = word.chars();
            if let Some(first) = chars.next() {
                text.extend(first.to_uppercase());
                text.push_str(chars.as_str());
            }
        } else {
            text.push(' ');
            text.push_str(word);
        }
    }
    text.push('.');
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::Endpoint;
    use wire::ollama::Tool;

    fn view<'a>(tools: &'a [Tool], last_role: &'a str) -> RequestView<'a> {
        RequestView {
            endpoint: Endpoint::Chat,
            model: "m",
            last_user: "hi",
            last_role,
            tools,
            format: None,
        }
    }

    #[test]
    fn same_seed_same_reply() {
        let a = reply(&view(&[], "user"), false, &mut DetRng::new(5));
        let b = reply(&view(&[], "user"), false, &mut DetRng::new(5));
        assert_eq!(a.text, b.text);
        let words = a.text.split_whitespace().count();
        assert!((8..=24).contains(&words), "{}", a.text);
    }

    #[test]
    fn a_schema_format_gives_a_valid_json_text() {
        let schema = serde_json::json!({"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]});
        let request = RequestView {
            format: Some(&schema),
            ..view(&[], "user")
        };
        let reply = reply(&request, false, &mut DetRng::new(2));
        let value: Value = serde_json::from_str(&reply.text).expect("JSON text");
        assert!(value["city"].is_string());
    }

    #[test]
    fn tools_with_user_last_give_a_call_and_tool_last_gives_text() {
        let tools: Vec<Tool> = serde_json::from_value(serde_json::json!([{
            "type": "function",
            "function": {"name": "get_weather", "parameters": {"type": "object",
                "properties": {"city": {"type": "string"}}, "required": ["city"]}}
        }]))
        .expect("valid");
        let call = reply(&view(&tools, "user"), false, &mut DetRng::new(1));
        let function = &call.chunks[0].tool_calls[0].function;
        assert_eq!(function.name, "get_weather");
        assert!(function.arguments["city"].is_string());
        let text = reply(&view(&tools, "tool"), false, &mut DetRng::new(1));
        assert!(text.chunks.is_empty() && !text.text.is_empty());
    }
}
