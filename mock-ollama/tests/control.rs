//! The library API and the `/_mock` control routes: journal, scenario loading, reset and
//! wiremock-style expectations.
#![allow(clippy::unwrap_used)]

mod common;

use common::{builtin_mock, post, raw};
use mock_ollama::{MockOllama, Rule, Scenario};
use serde_json::json;

fn chat(content: &str) -> serde_json::Value {
    json!({"model": "llama3.2", "stream": false, "messages": [{"role": "user", "content": content}]})
}

async fn mock_expecting(times: u64) -> MockOllama {
    let scenario = Scenario::from_json(
        "expect",
        &format!(r#"{{"models":[{{"name":"llama3.2"}}],"rules":[{{"name":"hello","match":{{"last_user_contains":"hello"}},"reply":{{"text":"hi"}},"expect":{times}}}]}}"#),
    )
    .unwrap();
    MockOllama::builder()
        .scenario(scenario)
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn verify_passes_when_the_rule_was_hit_exactly_as_expected() {
    let mock = mock_expecting(2).await;
    post(mock.addr(), "/api/chat", chat("hello")).await;
    post(mock.addr(), "/api/chat", chat("hello again")).await;
    post(mock.addr(), "/api/chat", chat("unrelated")).await;
    mock.verify().unwrap();
}

#[tokio::test]
async fn verify_reports_the_rule_and_the_counts() {
    let mock = mock_expecting(2).await;
    post(mock.addr(), "/api/chat", chat("hello")).await;
    let error = mock.verify().unwrap_err();
    assert_eq!(
        error.to_string(),
        r#"mock-ollama expectations not met: rule "hello" expected 2 hit(s), got 1"#
    );
    let over_http = raw(mock.addr(), "GET", "/_mock/expectations", "").await;
    assert_eq!(over_http.status, 417);
    assert_eq!(
        over_http.json()["rules"][0],
        json!({"rule": "hello", "expected": 2, "actual": 1})
    );
    mock.reset();
    post(mock.addr(), "/api/chat", chat("hello")).await;
    post(mock.addr(), "/api/chat", chat("hello")).await;
}

#[tokio::test]
#[should_panic(expected = "expectations not met")]
async fn dropping_a_mock_with_unmet_expectations_panics() {
    let _mock = mock_expecting(1).await;
}

#[tokio::test]
async fn journal_is_served_over_http_and_can_be_cleared() {
    let mock = builtin_mock().await;
    post(mock.addr(), "/api/chat", chat("x")).await;
    let journal = raw(mock.addr(), "GET", "/_mock/requests", "").await.json();
    assert_eq!(
        journal.as_array().unwrap().len(),
        1,
        "control requests are not journaled"
    );
    assert_eq!(journal[0]["body"]["messages"][0]["content"], "x");
    assert_eq!(
        journal[0]["rule"],
        serde_json::Value::Null,
        "generated reply"
    );
    assert_eq!(
        raw(mock.addr(), "DELETE", "/_mock/requests", "")
            .await
            .status,
        204
    );
    assert!(mock.journal().is_empty());
}

#[tokio::test]
async fn scenario_can_be_replaced_and_extended_over_http() {
    let mock = builtin_mock().await;
    let scenario = json!({"models": [{"name": "only:1b"}], "rules": [{"name": "r", "reply": {"text": "scripted"}}]});
    let put = raw(mock.addr(), "PUT", "/_mock/scenario", &scenario.to_string()).await;
    assert_eq!(
        (put.status, put.json()),
        (200, json!({"models": 1, "rules": 1}))
    );
    let tags = raw(mock.addr(), "GET", "/api/tags", "").await.json();
    assert_eq!(tags["models"][0]["name"], "only:1b");
    let reply = post(mock.addr(), "/api/chat", json!({"model": "only:1b", "stream": false, "messages": [{"role": "user", "content": "x"}]})).await;
    assert_eq!(reply.json()["message"]["content"], "scripted");
    assert_eq!(mock.journal().last().unwrap().rule.as_deref(), Some("r"));

    let rule =
        json!({"name": "second", "match": {"last_user_contains": "two"}, "reply": {"text": "2"}});
    let added = raw(mock.addr(), "POST", "/_mock/rules", &rule.to_string()).await;
    assert_eq!(added.status, 201);
    assert_eq!(mock.state().scenario().rules.len(), 2);

    let reset = raw(mock.addr(), "POST", "/_mock/reset", "").await;
    assert_eq!(reset.status, 204);
    let tags = raw(mock.addr(), "GET", "/api/tags", "").await.json();
    assert_eq!(
        tags["models"].as_array().unwrap().len(),
        4,
        "built-in models again"
    );
}

#[tokio::test]
async fn a_broken_scenario_over_http_is_a_400_naming_the_problem() {
    let mock = builtin_mock().await;
    let response = raw(
        mock.addr(),
        "PUT",
        "/_mock/scenario",
        r#"{"rules":[{"reply":{"txet":"x"}}]}"#,
    )
    .await;
    assert_eq!(response.status, 400);
    assert!(
        response.json()["error"]
            .as_str()
            .unwrap()
            .contains("unknown field `txet`")
    );
    let duplicate = json!({"name": "a"});
    raw(mock.addr(), "POST", "/_mock/rules", &duplicate.to_string()).await;
    let again = raw(mock.addr(), "POST", "/_mock/rules", &duplicate.to_string()).await;
    assert_eq!(again.status, 400);
}

#[tokio::test]
async fn rules_added_in_code_match_after_existing_ones() {
    let mock = builtin_mock().await;
    let rule: Rule = serde_json::from_value(json!({"reply": {"text": "from code"}})).unwrap();
    mock.add_rule(rule);
    let reply = post(mock.addr(), "/api/chat", chat("anything"))
        .await
        .json();
    assert_eq!(reply["message"]["content"], "from code");
    assert_eq!(mock.requests_to("/api/chat").len(), 1);
}

#[tokio::test]
async fn sequences_answer_the_nth_call_differently() {
    let scenario = Scenario::from_json(
        "seq",
        r#"{"models":[{"name":"llama3.2","capabilities":["completion","tools"]}],"rules":[
            {"name":"first","match":{"nth":1},"reply":{"text":"one"}},
            {"name":"second","match":{"nth":2},"reply":{"text":"two"}},
            {"name":"after","reply":{"text":"many"}}]}"#,
    )
    .unwrap();
    let mock = MockOllama::builder()
        .scenario(scenario)
        .start()
        .await
        .unwrap();
    let mut replies = Vec::new();
    for _ in 0..3 {
        let reply = post(mock.addr(), "/api/chat", chat("x")).await.json();
        replies.push(reply["message"]["content"].as_str().unwrap().to_owned());
    }
    assert_eq!(replies, ["one", "two", "many"]);
}

#[tokio::test]
async fn shutdown_stops_the_server() {
    let mock = builtin_mock().await;
    let addr = mock.addr();
    mock.shutdown().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[test]
fn a_broken_fixture_file_names_the_file_and_the_problem() {
    let dir = std::env::temp_dir().join(format!("mock-ollama-fixture-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("broken.json");
    std::fs::write(&file, "{\"rules\": [ {\"reply\": }").unwrap();
    let error = Scenario::load(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).unwrap();
    assert!(error.contains("broken.json"), "{error}");
    assert!(error.contains("line 1"), "{error}");
}

#[test]
fn every_committed_fixture_loads() {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let scenario = Scenario::load(&fixtures).unwrap();
    assert!(!scenario.rules.is_empty());
}
