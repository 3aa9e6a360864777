//! Pull, push, create, copy and delete change the model list as Ollama's would, report progress as
//! Ollama does, and fail where a scenario says they fail.
#![allow(clippy::unwrap_used)]

mod common;

use common::{builtin_mock, flavored_mock, post, raw};
use mock_ollama::Flavor;
use serde_json::{Value, json};

async fn tags(mock: &mock_ollama::MockOllama) -> Vec<String> {
    raw(mock.addr(), "GET", "/api/tags", "").await.json()["models"]
        .as_array()
        .unwrap()
        .iter()
        .map(|model| model["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn a_pull_streams_ollamas_progress_lines_and_installs_the_model() {
    let mock = builtin_mock().await;
    let reply = post(mock.addr(), "/api/pull", json!({"model": "mistral"})).await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-type"), Some("application/x-ndjson"));
    let lines = reply.json_lines();
    assert_eq!(lines[0], json!({"status": "pulling manifest"}));
    // A layer starts with `completed` omitted (zero), as Go's `omitempty` writes it.
    assert_eq!(lines[1].get("completed"), None);
    assert!(lines[1]["status"].as_str().unwrap().starts_with("pulling "));
    let tail: Vec<&Value> = lines[lines.len() - 3..].iter().collect();
    assert_eq!(
        tail,
        [
            &json!({"status": "verifying sha256 digest"}),
            &json!({"status": "writing manifest"}),
            &json!({"status": "success"}),
        ]
    );
    assert!(tags(&mock).await.contains(&"mistral:latest".to_owned()));
}

#[tokio::test]
async fn a_pull_without_streaming_answers_only_its_last_status() {
    let mock = builtin_mock().await;
    let reply = post(
        mock.addr(),
        "/api/pull",
        json!({"name": "phi3:mini", "stream": false}),
    )
    .await;
    assert_eq!(reply.header("content-type"), Some("application/json"));
    assert_eq!(reply.text(), r#"{"status":"success"}"#);
}

#[tokio::test]
async fn a_registry_limits_what_can_be_pulled() {
    let mock = flavored_mock(
        Flavor::Ollama,
        r#"{"registry": [{"name": "nomic-embed-text:v1.5", "capabilities": ["embedding"]}]}"#,
    )
    .await;
    let missing = post(mock.addr(), "/api/pull", json!({"model": "mistral"})).await;
    assert_eq!(missing.status, 200);
    assert_eq!(
        missing.json_lines(),
        [
            json!({"status": "pulling manifest"}),
            json!({"error": "pull model manifest: file does not exist"})
        ]
    );
    let whole = post(
        mock.addr(),
        "/api/pull",
        json!({"model": "mistral", "stream": false}),
    )
    .await;
    assert_eq!(whole.status, 500);
    assert_eq!(
        whole.json(),
        json!({"error": "pull model manifest: file does not exist"})
    );
    assert!(!tags(&mock).await.contains(&"mistral:latest".to_owned()));
    post(
        mock.addr(),
        "/api/pull",
        json!({"model": "nomic-embed-text:v1.5"}),
    )
    .await;
    let embed = post(
        mock.addr(),
        "/api/embed",
        json!({"model": "nomic-embed-text:v1.5", "input": "x"}),
    )
    .await;
    assert_eq!(embed.status, 200, "the registry's capabilities came along");
}

#[tokio::test]
async fn a_pull_that_fails_halfway_leaves_no_model_behind() {
    let mock = flavored_mock(
        Flavor::Ollama,
        r#"{"rules": [
          {"name": "flaky", "match": {"endpoint": "pull", "model": "mistral"},
           "faults": [{"kind": "error_line", "after": 3, "message": "max retries exceeded: EOF"}]},
          {"name": "gone", "match": {"endpoint": "pull", "model": "gone"},
           "faults": [{"kind": "http_error", "status": 500, "message": "registry down"}]}
        ]}"#,
    )
    .await;
    let lines = post(mock.addr(), "/api/pull", json!({"model": "mistral"}))
        .await
        .json_lines();
    assert_eq!(lines.len(), 4);
    assert_eq!(lines[3], json!({"error": "max retries exceeded: EOF"}));
    assert!(!tags(&mock).await.contains(&"mistral:latest".to_owned()));
    let refused = post(mock.addr(), "/api/pull", json!({"model": "gone"})).await;
    assert_eq!(refused.status, 500);
    assert_eq!(refused.json(), json!({"error": "registry down"}));
    assert_eq!(
        mock.requests_to("/api/pull")[0].rule.as_deref(),
        Some("flaky")
    );
}

#[tokio::test]
async fn delete_removes_and_reset_restores() {
    let mock = builtin_mock().await;
    let deleted = raw(
        mock.addr(),
        "DELETE",
        "/api/delete",
        r#"{"model":"llama3.2"}"#,
    )
    .await;
    assert_eq!(deleted.status, 200);
    assert!(!tags(&mock).await.contains(&"llama3.2:latest".to_owned()));
    let again = raw(
        mock.addr(),
        "DELETE",
        "/api/delete",
        r#"{"model":"llama3.2"}"#,
    )
    .await;
    assert_eq!(again.status, 404);
    assert_eq!(again.json(), json!({"error": "model 'llama3.2' not found"}));
    let chat = post(
        mock.addr(),
        "/api/chat",
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    assert_eq!(chat.status, 404);
    mock.reset();
    assert!(tags(&mock).await.contains(&"llama3.2:latest".to_owned()));
}

#[tokio::test]
async fn copy_and_create_make_models_from_installed_ones() {
    let mock = builtin_mock().await;
    let copied = post(
        mock.addr(),
        "/api/copy",
        json!({"source": "qwen3:0.6b", "destination": "thinker"}),
    )
    .await;
    assert_eq!(copied.status, 200);
    let show = post(mock.addr(), "/api/show", json!({"model": "thinker"})).await;
    assert!(
        show.json()["capabilities"]
            .as_array()
            .unwrap()
            .contains(&json!("thinking"))
    );
    let created = post(
        mock.addr(),
        "/api/create",
        json!({"model": "pirate", "from": "llama3.2", "system": "Arr.", "stream": false}),
    )
    .await;
    assert_eq!(created.text(), r#"{"status":"success"}"#);
    assert!(tags(&mock).await.contains(&"pirate:latest".to_owned()));
    for (path, body, status, error) in [
        (
            "/api/copy",
            json!({"source": "nope", "destination": "x"}),
            404,
            "model \"nope\" not found",
        ),
        (
            "/api/copy",
            json!({"source": "llama3.2"}),
            400,
            "destination \"\" is invalid",
        ),
        (
            "/api/create",
            json!({"model": "x"}),
            400,
            "neither 'from' or 'files' was specified",
        ),
        ("/api/pull", json!({}), 400, "invalid model name"),
    ] {
        let reply = post(mock.addr(), path, body.clone()).await;
        assert_eq!(reply.status, status, "{path} {body}");
        assert_eq!(reply.json(), json!({"error": error}), "{path} {body}");
    }
}
