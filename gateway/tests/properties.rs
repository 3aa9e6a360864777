//! Properties over random scenarios and random bodies, through the real gateway and mock:
//! stream and non-stream agree on everything a client keeps; no invalid body gets a 5xx.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::OnceLock;

use common::{Harness, harness};
use mock_ollama::Scenario;
use proptest::prelude::*;
use serde_json::{Value, json};
use tokio::runtime::Runtime;

fn shared() -> &'static (Runtime, Harness) {
    static SHARED: OnceLock<(Runtime, Harness)> = OnceLock::new();
    SHARED.get_or_init(|| {
        let runtime = Runtime::new().unwrap();
        let harness = runtime.block_on(harness("{}"));
        (runtime, harness)
    })
}

fn chunk() -> impl Strategy<Value = Value> {
    (
        "[a-zA-Z ,.<>&\"\\\\é]{0,10}",
        prop_oneof![Just(String::new()), "[a-z ]{1,8}"],
        prop::option::of(("[a-z_]{1,6}", "[a-z ]{0,6}")),
    )
        .prop_map(|(content, thinking, call)| {
            let mut chunk = json!({"content": content, "thinking": thinking});
            if let Some((name, city)) = call {
                chunk["tool_calls"] =
                    json!([{"function": {"name": name, "arguments": {"city": city}}}]);
            }
            chunk
        })
}

fn reply() -> impl Strategy<Value = Value> {
    (
        prop::collection::vec(chunk(), 0..6),
        chunk(),
        prop_oneof![Just("stop"), Just("length"), Just("load")],
        any::<bool>(),
        1u64..100,
        1u64..100,
    )
        .prop_map(|(chunks, done, reason, legacy, prompt, eval)| {
            json!({"chunks": chunks, "done": done, "done_reason": reason, "legacy_tool_calls": legacy,
                   "stats": {"prompt_eval_count": prompt, "eval_count": eval}})
        })
}

/// A tool call as a client uses it: name and parsed arguments.
fn call_essence(call: &Value) -> Value {
    let arguments: Value =
        serde_json::from_str(call["function"]["arguments"].as_str().unwrap()).unwrap();
    json!([call["function"]["name"], arguments])
}

/// What a client keeps from a reply: text, reasoning, calls (name, parsed args), finish, usage.
fn essence_of_whole(body: &Value) -> Value {
    let choice = &body["choices"][0];
    let calls: Vec<Value> = choice["message"]["tool_calls"]
        .as_array()
        .cloned()
        .unwrap_or_default()
        .iter()
        .map(call_essence)
        .collect();
    json!({
        "content": choice["message"]["content"].as_str().unwrap_or(""),
        "reasoning": choice["message"]["reasoning_content"].as_str().unwrap_or(""),
        "calls": calls,
        "finish": choice["finish_reason"],
        "usage": body["usage"],
    })
}

fn essence_of_stream(events: &[Value]) -> Value {
    let deltas: Vec<&Value> = events
        .iter()
        .filter_map(|e| e["choices"].get(0))
        .map(|c| &c["delta"])
        .collect();
    let text = |key: &str| -> String { deltas.iter().filter_map(|d| d[key].as_str()).collect() };
    let calls: Vec<Value> = deltas
        .iter()
        .filter_map(|d| d["tool_calls"].as_array())
        .flatten()
        .map(call_essence)
        .collect();
    let finish = events.iter().find_map(|e| {
        e["choices"]
            .get(0)
            .map(|c| c["finish_reason"].clone())
            .filter(|f| !f.is_null())
    });
    json!({
        "content": text("content"),
        "reasoning": text("reasoning_content"),
        "calls": calls,
        "finish": finish,
        "usage": events[events.len() - 2]["usage"],
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(48))]

    #[test]
    fn stream_and_non_stream_agree_for_any_scenario(reply in reply(), with_tools in any::<bool>()) {
        let (runtime, h) = shared();
        let scenario = json!({"models": [{"name": "llama3.2", "capabilities": ["completion", "tools", "thinking"]}],
                              "rules": [{"reply": reply}]});
        h.mock.set_scenario(Scenario::from_json("prop", &scenario.to_string()).unwrap());
        let mut body = json!({"model": "llama3.2", "messages": [{"role": "user", "content": "q"}]});
        if with_tools {
            body["tools"] = common::weather_tool();
        }
        let (whole, events) = runtime.block_on(async {
            let whole = h.post("/v1/chat/completions", &body).await;
            let mut streaming = body.clone();
            streaming["stream"] = json!(true);
            streaming["stream_options"] = json!({"include_usage": true});
            let streamed = h.post("/v1/chat/completions", &streaming).await;
            (whole, streamed)
        });
        prop_assert_eq!(whole.status, 200, "{}", whole.body);
        let events = events.events();
        prop_assert_eq!(events.last(), Some(&json!("[DONE]")));
        prop_assert_eq!(essence_of_whole(&whole.json()), essence_of_stream(&events));
    }

    #[test]
    fn random_bodies_never_get_a_5xx(body in prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64).prop_map(|b| String::from_utf8_lossy(&b).into_owned()),
        any_value().prop_map(|v| v.to_string()),
        (any_value(), any_value(), any_value()).prop_map(|(a, b, c)| json!({"model": "llama3.2", "messages": a, "temperature": b, "stop": c}).to_string()),
        (any_value(), any_value()).prop_map(|(a, b)| json!({"model": "llama3.2", "messages": [{"role": "user", "content": a}], "tools": b}).to_string()),
    ]) {
        let (runtime, h) = shared();
        let reply = runtime.block_on(h.post_raw("/v1/chat/completions", body.clone()));
        prop_assert!(reply.status < 500, "{} for {}: {}", reply.status, body, reply.body);
        if reply.status >= 400 {
            let error = &reply.json()["error"];
            prop_assert!(error["message"].is_string() && error["type"].is_string());
            prop_assert!(error["code"].is_null() || error["code"].is_string());
        }
    }
}

/// Arbitrary JSON, biased towards chat-message keys.
fn any_value() -> BoxedStrategy<Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(|f| json!(f)),
        "[a-z]{0,6}".prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..3).prop_map(Value::Array),
            prop::collection::btree_map(
                prop_oneof![
                    Just("role".to_owned()),
                    Just("content".to_owned()),
                    Just("type".to_owned()),
                    "[a-z]{1,4}"
                ],
                inner,
                0..3
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
    .boxed()
}
