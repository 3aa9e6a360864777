//! Properties of the OpenAI layer over random replies, in every flavour: a stream adds up to the
//! whole reply of the same turn (text, reasoning, tool calls, finish reason, usage, id), and every
//! event is one JSON object on one `data:` line.
#![allow(clippy::unwrap_used)]

mod common;

use std::collections::BTreeMap;

use common::arbitrary::{clock, context, reply, timing};
use mock_ollama::{
    Flavor,
    openai::{
        chat::{self, ReplyContext},
        flavor::ReasoningField,
    },
    turn::Turn,
};
use proptest::prelude::*;
use serde_json::{Value, json};

/// What a client accumulates from a stream's choice 0.
#[derive(Debug, Default)]
struct Accumulated {
    content: String,
    reasoning: String,
    /// index → (id, name, arguments)
    calls: BTreeMap<u64, (String, String, String)>,
    finish_reasons: Vec<Value>,
    usage: Vec<Value>,
    ids: Vec<Value>,
}

fn accumulate(bytes: &[u8], reasoning_key: &str) -> (Accumulated, bool) {
    let text = String::from_utf8(bytes.to_vec()).unwrap();
    let mut seen = Accumulated::default();
    let mut done = false;
    for event in text.split("\n\n").filter(|e| !e.is_empty()) {
        let data = event.strip_prefix("data: ").unwrap();
        assert!(!data.contains('\n'), "one line per event: {data:?}");
        assert!(!done, "nothing after [DONE]");
        if data == "[DONE]" {
            done = true;
            continue;
        }
        let chunk: Value = serde_json::from_str(data).unwrap();
        seen.ids.push(chunk["id"].clone());
        if chunk["choices"] == json!([]) {
            seen.usage.push(chunk["usage"].clone());
            continue;
        }
        let choice = &chunk["choices"][0];
        let delta = &choice["delta"];
        seen.content
            .push_str(delta["content"].as_str().unwrap_or(""));
        seen.reasoning
            .push_str(delta[reasoning_key].as_str().unwrap_or(""));
        for call in delta["tool_calls"].as_array().into_iter().flatten() {
            let entry = seen
                .calls
                .entry(call["index"].as_u64().unwrap())
                .or_default();
            if let Some(id) = call["id"].as_str() {
                entry.0 = id.to_owned();
            }
            if let Some(name) = call["function"]["name"].as_str() {
                entry.1 = name.to_owned();
            }
            entry
                .2
                .push_str(call["function"]["arguments"].as_str().unwrap_or(""));
        }
        if !choice["finish_reason"].is_null() {
            seen.finish_reasons.push(choice["finish_reason"].clone());
        }
    }
    (seen, done)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn every_flavors_stream_adds_up_to_its_whole_reply(
        reply in reply(),
        ctx in context(),
        include_usage in any::<bool>(),
    ) {
        let turn = Turn::new(&reply, &timing(), ctx);
        for flavor in Flavor::ALL {
            let dialect = flavor.dialect();
            let reply_ctx = ReplyContext {
                dialect,
                model: "m",
                seed: ctx.seed,
                clock: clock(),
                choices: 1,
                logprobs: (ctx.seed % 2 == 0).then_some(2),
            };
            let whole = chat::whole(&reply_ctx, &turn);
            let message = &whole["choices"][0]["message"];
            let logprobs = &whole["choices"][0]["logprobs"];
            if reply_ctx.logprobs.is_some() {
                let tokens: String = logprobs["content"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|entry| entry["token"].as_str().unwrap_or("?"))
                    .collect();
                prop_assert_eq!(&tokens, message["content"].as_str().unwrap_or(""), "{}: logprobs spell the text", flavor);
            } else {
                prop_assert!(logprobs.is_null(), "{flavor}: logprobs only when asked");
            }
            let stream = chat::stream(&reply_ctx, &turn, include_usage);
            let bytes: Vec<u8> = stream.lines.iter().flat_map(|line| line.bytes.to_vec()).collect();
            let key = match dialect.reasoning {
                ReasoningField::Named(key) => key,
                ReasoningField::InContent => "reasoning",
            };
            let (seen, done) = accumulate(&bytes, key);
            prop_assert!(done, "{flavor}: ends with [DONE]");
            prop_assert_eq!(&seen.content, message["content"].as_str().unwrap_or(""), "{}", flavor);
            prop_assert_eq!(&seen.reasoning, message[key].as_str().unwrap_or(""), "{}", flavor);
            let whole_calls: Vec<(String, String, String)> = message["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|c| (
                    c["id"].as_str().unwrap().to_owned(),
                    c["function"]["name"].as_str().unwrap().to_owned(),
                    c["function"]["arguments"].as_str().unwrap().to_owned(),
                ))
                .collect();
            let streamed_calls: Vec<_> = seen.calls.into_values().collect();
            prop_assert_eq!(streamed_calls, whole_calls, "{}", flavor);
            prop_assert_eq!(&seen.finish_reasons, &vec![whole["choices"][0]["finish_reason"].clone()], "{}", flavor);
            let wants_usage = include_usage && dialect.usage_chunk;
            prop_assert_eq!(seen.usage.len(), usize::from(wants_usage), "{}", flavor);
            if let Some(usage) = seen.usage.first() {
                for key in ["prompt_tokens", "completion_tokens", "total_tokens"] {
                    prop_assert_eq!(&usage[key], &whole["usage"][key], "{} {}", flavor, key);
                }
            }
            prop_assert!(seen.ids.iter().all(|id| *id == whole["id"]), "{flavor}: one id");
        }
    }
}
