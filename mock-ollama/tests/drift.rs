//! `mock-ollama drift`: a fixture set agrees with the server it was recorded from and reports a
//! server that answers in another shape, through the library and through the command's exit code.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{DIALECT_RULES, chat, flavored_mock, post, post_chat, raw};
use mock_ollama::{Flavor, MockOllama, Recorder, Scenario, drift};
use serde_json::json;

/// Records a native stream, an SSE stream with usage, a JSON reply, a 429 and a model list from
/// `upstream` into a fresh directory, removed when the returned guard drops.
async fn record_from(upstream: &MockOllama) -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("fixtures");
    let mock = MockOllama::builder()
        .recorder(Recorder::new(&upstream.url(), &dir).unwrap())
        .start()
        .await
        .unwrap();
    post(
        mock.addr(),
        "/api/chat",
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hello"}]}),
    )
    .await;
    post_chat(
        &mock,
        chat(
            "llama3.2",
            "hello",
            json!({"stream": true, "stream_options": {"include_usage": true}}),
        ),
    )
    .await;
    post_chat(&mock, chat("llama3.2", "hello", json!({}))).await;
    post_chat(&mock, chat("llama3.2", "[429]", json!({}))).await;
    raw(mock.addr(), "GET", "/v1/models", "").await;
    (temp, dir)
}

/// `mock-ollama drift --fixtures DIR ARGS…`, run to its end.
async fn drift_command(dir: PathBuf, args: Vec<String>) -> std::process::Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_mock-ollama"))
            .args(["drift", "--fixtures"])
            .arg(&dir)
            .args(&args)
            .output()
            .unwrap()
    })
    .await
    .unwrap()
}

fn client() -> reqwest::Client {
    mock_ollama::upstream_client(None).unwrap()
}

fn exchanges(dir: &Path) -> Vec<mock_ollama::Exchange> {
    Scenario::load(dir).unwrap().exchanges
}

#[tokio::test]
async fn a_server_agrees_with_its_own_recording_even_when_its_text_changes() {
    let recorded_from = flavored_mock(Flavor::Ollama, DIALECT_RULES).await;
    let (_temp, dir) = record_from(&recorded_from).await;
    // Another run of the same server whose greeting is longer: same shape, other text.
    let longer = DIALECT_RULES.replace("Hi there, friend.", "Hi there, my dear old friend.");
    let same_server = flavored_mock(Flavor::Ollama, &longer).await;
    let report = drift(
        &client(),
        &exchanges(&dir),
        &same_server.url(),
        &Default::default(),
    )
    .await;
    assert!(report.agrees(), "{report}");
    assert_eq!(report.fixtures.len(), 5);
}

#[tokio::test]
async fn a_server_answering_in_another_shape_is_reported_per_fixture() {
    let recorded_from = flavored_mock(Flavor::Ollama, DIALECT_RULES).await;
    let (_temp, dir) = record_from(&recorded_from).await;
    let other_dialect = flavored_mock(Flavor::Openai, DIALECT_RULES).await;
    let report = drift(
        &client(),
        &exchanges(&dir),
        &other_dialect.url(),
        &Default::default(),
    )
    .await;
    assert!(!report.agrees(), "{report}");
    let native = report
        .fixtures
        .iter()
        .find(|fixture| fixture.request == "POST /api/chat")
        .unwrap();
    assert!(
        native.differences.is_empty(),
        "the native API did not change: {report}"
    );
    let text = report.to_string();
    assert!(
        text.contains("live:     text/event-stream;charset=utf-8"),
        "{text}"
    );
    assert!(
        text.contains("only here: {choices[].logprobs: null"),
        "{text}"
    );
    assert!(text.contains("5 fixture(s), 3 drifted"), "{text}");
}

#[tokio::test]
async fn the_drift_command_exits_zero_on_agreement_and_one_on_drift() {
    let recorded_from = flavored_mock(Flavor::Ollama, DIALECT_RULES).await;
    let (_temp, dir) = record_from(&recorded_from).await;
    let without_the_model = MockOllama::builder()
        .scenario(Scenario::from_json("empty", r#"{"models": [{"name": "other"}]}"#).unwrap())
        .start()
        .await
        .unwrap();
    let run = |upstream: String| {
        drift_command(
            dir.clone(),
            vec![
                "--upstream".into(),
                upstream,
                "--header".into(),
                "Authorization: Bearer sk-drift".into(),
            ],
        )
    };
    let agreed = run(recorded_from.url()).await;
    let stdout = String::from_utf8_lossy(&agreed.stdout);
    assert_eq!(agreed.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("5 fixture(s), 0 drifted"), "{stdout}");
    assert!(
        recorded_from.journal().iter().all(|entry| entry
            .headers
            .get("authorization")
            .is_none_or(|key| key == "Bearer sk-drift")),
        "--header is sent"
    );

    let drifted = run(without_the_model.url()).await;
    let stdout = String::from_utf8_lossy(&drifted.stdout);
    assert_eq!(drifted.status.code(), Some(1), "{stdout}");
    assert!(stdout.contains("DRIFTED"), "{stdout}");
    assert!(stdout.contains("status:"), "{stdout}");
}

#[tokio::test]
async fn a_live_answer_without_end_is_reported_at_the_drift_commands_bounds() {
    let recorded_from = flavored_mock(Flavor::Ollama, DIALECT_RULES).await;
    let (_temp, dir) = record_from(&recorded_from).await;
    let endless = |fault: &str| {
        format!(
            r#"{{"rules": [{{"match": {{"last_user_contains": "hello"}}, "reply": {{"text": "hi"}},
                "faults": [{fault}]}}]}}"#
        )
    };
    let one_endless_line = flavored_mock(
        Flavor::Ollama,
        &endless(r#"{"kind": "endless", "after": 1, "shape": "line"}"#),
    )
    .await;
    let slow_forever = flavored_mock(
        Flavor::Ollama,
        &endless(r#"{"kind": "endless", "after": 1, "shape": "lines", "pause_ms": 20}"#),
    )
    .await;

    let too_long = drift_command(
        dir.clone(),
        vec![
            "--upstream".into(),
            one_endless_line.url(),
            "--max-body-bytes".into(),
            "65536".into(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&too_long.stdout);
    assert_eq!(too_long.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("(no reply: the body passed the limit of 65536 bytes)"),
        "{stdout}"
    );

    let too_slow = drift_command(
        dir,
        vec![
            "--upstream".into(),
            slow_forever.url(),
            "--timeout-ms".into(),
            "300".into(),
        ],
    )
    .await;
    let stdout = String::from_utf8_lossy(&too_slow.stdout);
    assert_eq!(too_slow.status.code(), Some(1), "{stdout}");
    assert!(
        stdout.contains("(no reply: no complete answer within the deadline of 300 ms)"),
        "{stdout}"
    );
}
