//! Shared set-up for the benchmarks: a mock Ollama scripted with replies of a given length, and a
//! gateway in front of it, both in one runtime; and the load benchmark's parts ([`load`]).
#![forbid(unsafe_code)]

pub mod load;

use gateway::{Config, Gateway};
use mock_ollama::{MockOllama, Scenario};

/// A mock whose replies have `words` one-word chunks (prompt `"n<words>"`), with no sleeping.
pub async fn mock_with_replies(lengths: &[usize]) -> MockOllama {
    let rules: Vec<serde_json::Value> = lengths
        .iter()
        .map(|words| {
            let text = (0..*words).map(|i| format!("w{i}")).collect::<Vec<_>>().join(" ");
            serde_json::json!({"name": format!("n{words}"), "match": {"last_user_contains": format!("n{words}")}, "reply": {"text": text}})
        })
        .collect();
    let scenario = serde_json::json!({"models": [{"name": "bench", "capabilities": ["completion", "tools"]}], "rules": rules});
    let scenario = Scenario::from_json("bench", &scenario.to_string()).unwrap_or_default();
    MockOllama::builder()
        .scenario(scenario)
        .journal_limit(0)
        .verify_on_drop(false)
        .start()
        .await
        .unwrap_or_else(|err| panic!("mock starts: {err}"))
}

/// A gateway in front of `mock`.
pub async fn gateway_for(mock: &MockOllama) -> Gateway {
    let mut config = Config::single_ollama("mock", mock.url());
    config.backends[0].models = Some(vec!["bench".to_owned()]);
    Gateway::start(config)
        .await
        .unwrap_or_else(|err| panic!("gateway starts: {err}"))
}

/// The chat body for a reply of `words` chunks.
pub fn chat_body(words: usize, stream: bool) -> serde_json::Value {
    serde_json::json!({"model": "bench", "stream": stream, "messages": [{"role": "user", "content": format!("n{words}")}]})
}
