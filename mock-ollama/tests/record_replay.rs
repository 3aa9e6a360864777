//! Record and replay: whatever a client got through the recorder, it gets again from a mock
//! replaying the fixtures — the same status, headers that matter, body bytes and chunk
//! boundaries, for JSON, NDJSON and SSE, errors and broken streams included.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};

use common::{DIALECT_RULES, RawResponse, chat, raw, raw_with_headers};
use mock_ollama::{
    Flavor, MockOllama, RecordMode, Recorder, Scenario, TlsIdentity, UpstreamBounds,
};
use serde_json::{Value, json};

/// The upstream's rules: the shared dialect rules plus a stream that breaks after two chunks and
/// a conversation that answers differently the second time.
async fn upstream() -> MockOllama {
    let mut scenario = Scenario::builtin();
    scenario.merge(serde_json::from_str(DIALECT_RULES).unwrap());
    scenario.merge(
        serde_json::from_str(
            r#"{"rules": [
              {"name": "cut", "match": {"last_user_contains": "[cut]"}, "reply": {"text": "one two three four"},
               "faults": [{"kind": "disconnect", "after": 2}]},
              {"name": "first", "match": {"last_user_contains": "count", "nth": 1}, "reply": {"text": "one"}},
              {"name": "again", "match": {"last_user_contains": "count"}, "reply": {"text": "two"}}
            ]}"#,
        )
        .unwrap(),
    );
    MockOllama::builder()
        .scenario(scenario)
        .time_scale(0.0)
        .start()
        .await
        .unwrap()
}

/// A fresh directory for a test's fixtures, removed when the test ends.
fn fixture_dir() -> (tempfile::TempDir, PathBuf) {
    let temp = tempfile::tempdir().unwrap();
    let dir = temp.path().join("fixtures");
    (temp, dir)
}

async fn recorder(upstream: &MockOllama, dir: &Path, mode: RecordMode) -> MockOllama {
    let recorder = Recorder::new(&upstream.url(), dir)
        .unwrap()
        .mode(mode)
        .unwrap();
    MockOllama::builder()
        .recorder(recorder)
        .start()
        .await
        .unwrap()
}

async fn replaying(dir: &Path) -> MockOllama {
    MockOllama::builder()
        .scenario(Scenario::load(dir).unwrap())
        .strict(true)
        .start()
        .await
        .unwrap()
}

/// Everything a client can observe about a reply, but the `date` header.
#[derive(Debug, PartialEq)]
struct Observed {
    status: u16,
    headers: Vec<(String, String)>,
    chunks: Vec<Vec<u8>>,
    terminated: bool,
}

impl From<RawResponse> for Observed {
    fn from(response: RawResponse) -> Self {
        let mut headers: Vec<(String, String)> = response
            .headers
            .iter()
            .filter(|(name, _)| !name.eq_ignore_ascii_case("date"))
            .map(|(name, value)| (name.to_ascii_lowercase(), value.clone()))
            .collect();
        headers.sort();
        Observed {
            status: response.status,
            headers,
            chunks: response.chunks,
            terminated: response.terminated,
        }
    }
}

/// `(method, path, body)` of every kind of reply: NDJSON, JSON, SSE, a 429, a stream that ends
/// in an error line, one that breaks, a GET, and a body that is not JSON.
fn requests() -> Vec<(&'static str, &'static str, String)> {
    let native = |prompt: &str, extra: Value| {
        let mut body = chat("llama3.2", prompt, extra);
        body.as_object_mut().unwrap().remove("stream_options");
        body.to_string()
    };
    vec![
        ("POST", "/api/chat", native("hello", json!({}))),
        (
            "POST",
            "/api/chat",
            native("hello", json!({"stream": false})),
        ),
        ("POST", "/api/chat", native("[error]", json!({}))),
        ("POST", "/api/chat", native("[cut]", json!({}))),
        ("POST", "/api/chat", native("[429]", json!({}))),
        (
            "POST",
            "/v1/chat/completions",
            chat(
                "llama3.2",
                "hello",
                json!({"stream": true, "stream_options": {"include_usage": true}}),
            )
            .to_string(),
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat("llama3.2", "hello", json!({})).to_string(),
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat("llama3.2", "[cut]", json!({"stream": true})).to_string(),
        ),
        (
            "POST",
            "/v1/chat/completions",
            chat("llama3.2", "[429]", json!({})).to_string(),
        ),
        ("GET", "/api/tags", String::new()),
        ("GET", "/v1/models", String::new()),
        ("POST", "/api/chat", "{\"model\": oops".to_owned()),
    ]
}

async fn observe_all(mock: &MockOllama) -> Vec<Observed> {
    let mut seen = Vec::new();
    for (method, path, body) in requests() {
        seen.push(
            raw_with_headers(mock.addr(), method, path, &[], &body)
                .await
                .into(),
        );
    }
    seen
}

#[tokio::test]
async fn replay_repeats_every_reply_byte_for_byte_and_chunk_for_chunk() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let live = observe_all(&recorder(&upstream, &dir, RecordMode::Record).await).await;
    let replayed = observe_all(&replaying(&dir).await).await;
    for ((live, replayed), (method, path, body)) in live.iter().zip(&replayed).zip(requests()) {
        assert_eq!(live, replayed, "{method} {path} {body}");
    }
    // The cases really cover what they claim.
    assert!(live[0].chunks.len() > 2, "NDJSON in several chunks");
    assert!(!live[3].terminated, "the broken stream is cut");
    assert_eq!(live[4].status, 429);
    assert!(
        live[4]
            .headers
            .contains(&("retry-after".to_owned(), "2".to_owned()))
    );
    assert!(live[5].chunks.len() > 2, "SSE in several chunks");
    assert_eq!(live[11].status, 400);
    assert_eq!(std::fs::read_dir(&dir).unwrap().count(), requests().len());
}

#[tokio::test]
async fn fixtures_never_contain_credentials_but_the_upstream_gets_them() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let recorder = Recorder::new(&upstream.url(), &dir)
        .unwrap()
        .redact_header("x-tenant-token");
    let mock = MockOllama::builder()
        .recorder(recorder)
        .start()
        .await
        .unwrap();
    let secrets = [
        ("Authorization", "Bearer sk-live-0123456789"),
        ("x-api-key", "xak-0123456789"),
        ("api-key", "azure-0123456789"),
        ("x-tenant-token", "tenant-0123456789"),
    ];
    let body = chat("llama3.2", "hello", json!({"stream": true})).to_string();
    let reply =
        raw_with_headers(mock.addr(), "POST", "/v1/chat/completions", &secrets, &body).await;
    assert_eq!(reply.status, 200);

    let sent = &upstream.requests_to("/v1/chat/completions")[0].headers;
    assert_eq!(sent["authorization"], "Bearer sk-live-0123456789");
    assert_eq!(sent["x-tenant-token"], "tenant-0123456789");
    for file in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert!(text.contains("\"content-type\""), "other headers are kept");
        assert!(
            !text.contains("0123456789"),
            "a credential was written:\n{text}"
        );
    }
}

#[tokio::test]
async fn replay_mode_never_forwards_and_refuses_in_the_protocols_format() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    std::fs::create_dir_all(&dir).unwrap();
    let mock = recorder(&upstream, &dir, RecordMode::Replay).await;

    let native = raw_with_headers(
        mock.addr(),
        "POST",
        "/api/chat",
        &[],
        &chat("llama3.2", "hello", json!({})).to_string(),
    )
    .await;
    assert_eq!(native.status, 500);
    assert_eq!(
        native.json(),
        json!({"error": "mock-ollama replay: no recorded exchange matches POST /api/chat"})
    );
    let openai = common::post_chat(&mock, chat("llama3.2", "hello", json!({}))).await;
    assert_eq!(openai.status, 500);
    assert_eq!(
        openai.json()["error"]["message"],
        "mock-ollama replay: no recorded exchange matches POST /v1/chat/completions"
    );
    assert!(upstream.journal().is_empty(), "nothing was forwarded");
}

#[tokio::test]
async fn record_on_miss_asks_the_upstream_once_per_request() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let mock = recorder(&upstream, &dir, RecordMode::RecordOnMiss).await;
    let body = chat("llama3.2", "hello", json!({"stream": false}));
    let first = common::post_chat(&mock, body.clone()).await;
    let second = common::post_chat(&mock, body).await;
    assert_eq!(first.body, second.body);
    assert_eq!(upstream.requests_to("/v1/chat/completions").len(), 1);

    // A new recorder in the same mode starts from the files.
    let again = recorder(&upstream, &dir, RecordMode::RecordOnMiss).await;
    let third =
        common::post_chat(&again, chat("llama3.2", "hello", json!({"stream": false}))).await;
    assert_eq!(third.body, first.body);
    assert_eq!(upstream.requests_to("/v1/chat/completions").len(), 1);
}

#[tokio::test]
async fn a_request_recorded_twice_replays_its_replies_in_order_then_the_last_again() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let mock = recorder(&upstream, &dir, RecordMode::Record).await;
    let body = || chat("llama3.2", "count", json!({"stream": false}));
    let content = |reply: RawResponse| reply.json()["choices"][0]["message"]["content"].clone();
    assert_eq!(content(common::post_chat(&mock, body()).await), "one");
    assert_eq!(content(common::post_chat(&mock, body()).await), "two");

    let replay = replaying(&dir).await;
    let replies = [
        content(common::post_chat(&replay, body()).await),
        content(common::post_chat(&replay, body()).await),
        content(common::post_chat(&replay, body()).await),
    ];
    assert_eq!(replies, ["one", "two", "two"]);
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|file| file.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    files.sort();
    assert_eq!(files.len(), 2);
    assert!(files[1].ends_with("_002.json"), "{files:?}");
}

#[tokio::test]
async fn replayed_requests_must_repeat_the_match_keys_only() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let mock = recorder(&upstream, &dir, RecordMode::Record).await;
    common::post_chat(
        &mock,
        chat("llama3.2", "hello", json!({"temperature": 0.1})),
    )
    .await;

    let replay = recorder(&upstream, &dir, RecordMode::Replay).await;
    let tweaked = common::post_chat(
        &replay,
        chat("llama3.2", "hello", json!({"temperature": 0.9})),
    )
    .await;
    assert_eq!(tweaked.status, 200, "temperature is not a match key");
    let streamed =
        common::post_chat(&replay, chat("llama3.2", "hello", json!({"stream": true}))).await;
    assert_eq!(
        streamed.status,
        500,
        "stream is a match key: {}",
        String::from_utf8_lossy(&streamed.body)
    );
}

#[tokio::test]
async fn each_flavour_replays_through_its_own_dialect() {
    // Recording works on any OpenAI-compatible server, not only Ollama's layer.
    let upstream = common::flavored_mock(Flavor::Vllm, DIALECT_RULES).await;
    let (_temp, dir) = fixture_dir();
    let mock = recorder(&upstream, &dir, RecordMode::Record).await;
    let body = chat("llama3.2", "hello", json!({"stream": true}));
    let live: Observed = common::post_chat(&mock, body.clone()).await.into();
    let replayed: Observed = common::post_chat(&replaying(&dir).await, body).await.into();
    assert_eq!(live, replayed);
}

#[tokio::test]
async fn an_openssl_made_self_signed_certificate_is_trusted_as_the_recorders_ca_cert() {
    let identity = TlsIdentity::openssl_style().unwrap();
    let upstream = MockOllama::builder().start_tls(&identity).await.unwrap();
    let (_temp, dir) = fixture_dir();
    let recorder = Recorder::new(&upstream.url(), &dir)
        .unwrap()
        .ca_cert(identity.certificate_pem.as_bytes())
        .unwrap();
    let recording = MockOllama::builder()
        .recorder(recorder)
        .start()
        .await
        .unwrap();
    let reply = common::post_chat(&recording, chat("llama3.2", "hello", json!({}))).await;
    assert_eq!(
        reply.status,
        200,
        "{}",
        String::from_utf8_lossy(&reply.body)
    );
}

#[tokio::test]
async fn an_https_upstream_is_recorded_when_its_certificate_is_trusted() {
    let identity = TlsIdentity::localhost().unwrap();
    let upstream = MockOllama::builder().start_tls(&identity).await.unwrap();
    assert!(upstream.url().starts_with("https://"));
    let (_temp, dir) = fixture_dir();
    let untrusted = MockOllama::builder()
        .recorder(Recorder::new(&upstream.url(), &dir).unwrap())
        .start()
        .await
        .unwrap();
    let refused = common::post_chat(&untrusted, chat("llama3.2", "hello", json!({}))).await;
    assert_eq!(
        refused.status, 502,
        "a self-signed server is not trusted by default"
    );
    let message = refused.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(message.contains("certificate"), "{message}");

    let trusted = MockOllama::builder()
        .recorder(
            Recorder::new(&upstream.url(), &dir)
                .unwrap()
                .ca_cert(identity.certificate_pem.as_bytes())
                .unwrap(),
        )
        .start()
        .await
        .unwrap();
    let body = chat("llama3.2", "hello", json!({"stream": true}));
    let live: Observed = common::post_chat(&trusted, body.clone()).await.into();
    assert_eq!(live.status, 200);
    let replayed: Observed = common::post_chat(&replaying(&dir).await, body).await.into();
    assert_eq!(live, replayed);
}

/// The one fixture a test recorded.
fn only_exchange(dir: &Path) -> mock_ollama::Exchange {
    let mut exchanges = Scenario::load(dir).unwrap().exchanges;
    assert_eq!(exchanges.len(), 1);
    exchanges.remove(0)
}

/// A mock recording `upstream` into `dir` within `bounds`.
async fn bounded_recording(
    upstream: &MockOllama,
    dir: &Path,
    bounds: UpstreamBounds,
) -> MockOllama {
    MockOllama::builder()
        .recorder(Recorder::new(&upstream.url(), dir).unwrap().bounds(bounds))
        .start()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_body_without_end_is_cut_at_the_recorders_limit_and_recorded_as_reset() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let limit = 64 * 1024;
    let bounds = UpstreamBounds {
        max_body_bytes: limit,
        ..UpstreamBounds::default()
    };
    let recording = bounded_recording(&upstream, &dir, bounds).await;
    let body = json!({"model": "llama3.2", "messages": [{"role": "user", "content": "[fault:endless-line]"}]});
    let reply = raw(recording.addr(), "POST", "/api/chat", &body.to_string()).await;
    assert_eq!(reply.status, 200);
    assert!(
        !reply.terminated,
        "the client's body breaks, it does not end"
    );
    assert!(
        reply.body.len() as u64 <= limit,
        "{} bytes",
        reply.body.len()
    );

    let exchange = only_exchange(&dir);
    assert_eq!(exchange.response.end, mock_ollama::BodyEnd::Reset);
    assert_eq!(
        exchange.response.body().len() as u64,
        limit,
        "what fit is kept"
    );
}

#[tokio::test]
async fn a_body_still_arriving_at_the_recorders_deadline_is_cut_and_recorded_as_reset() {
    let upstream = common::flavored_mock(
        Flavor::Ollama,
        r#"{"rules": [{"match": {"last_user_contains": "slowly forever"}, "reply": {"text": "ok"},
            "faults": [{"kind": "endless", "after": 1, "shape": "lines", "pause_ms": 20}]}]}"#,
    )
    .await;
    let (_temp, dir) = fixture_dir();
    let bounds = UpstreamBounds {
        timeout: std::time::Duration::from_millis(400),
        ..UpstreamBounds::default()
    };
    let recording = bounded_recording(&upstream, &dir, bounds).await;
    let body =
        json!({"model": "llama3.2", "messages": [{"role": "user", "content": "slowly forever"}]});
    let reply = raw(recording.addr(), "POST", "/api/chat", &body.to_string()).await;
    assert_eq!(reply.status, 200);
    assert!(!reply.terminated);
    assert!(
        reply.lines().len() > 2,
        "the lines before the deadline pass"
    );

    let exchange = only_exchange(&dir);
    assert_eq!(exchange.response.end, mock_ollama::BodyEnd::Reset);
    assert!(exchange.response.chunks.len() > 2);
}

#[tokio::test]
async fn an_upstream_without_a_head_by_the_recorders_deadline_gets_the_client_a_504() {
    let upstream = common::flavored_mock(
        Flavor::Ollama,
        r#"{"rules": [{"match": {"last_user_contains": "think long"}, "reply": {"text": "ok"},
            "faults": [{"kind": "stall", "after": 0, "ms": 5000}]}]}"#,
    )
    .await;
    let (_temp, dir) = fixture_dir();
    let bounds = UpstreamBounds {
        timeout: std::time::Duration::from_millis(300),
        ..UpstreamBounds::default()
    };
    let recording = bounded_recording(&upstream, &dir, bounds).await;
    let reply = common::post_chat(&recording, chat("llama3.2", "think long", json!({}))).await;
    assert_eq!(reply.status, 504);
    let message = reply.json()["error"]["message"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        message.contains("no answer within the deadline"),
        "{message}"
    );
    assert!(
        !dir.exists(),
        "nothing was answered, so nothing is recorded"
    );
}

/// The `mock-ollama` binary on a free port, killed when dropped.
struct Binary {
    child: std::process::Child,
    url: String,
}

impl Drop for Binary {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn binary(args: &[&str]) -> Binary {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let listen = format!("127.0.0.1:{port}");
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_mock-ollama"))
        .args(args)
        .args(["--listen", &listen])
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    for _ in 0..200 {
        if tokio::net::TcpStream::connect(&listen).await.is_ok() {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    Binary {
        child,
        url: format!("http://{listen}"),
    }
}

#[tokio::test]
async fn the_record_command_records_and_its_replay_mode_serves_the_recordings() {
    let upstream = upstream().await;
    let (_temp, dir) = fixture_dir();
    let out = dir.to_str().unwrap();
    let body = chat("llama3.2", "hello", json!({"stream": true})).to_string();
    let key = [("Authorization", "Bearer sk-cli-0123456789")];
    let live = {
        let recorder = binary(&["record", "--upstream", &upstream.url(), "--out", out]).await;
        let addr = recorder.url.trim_start_matches("http://").parse().unwrap();
        Observed::from(raw_with_headers(addr, "POST", "/v1/chat/completions", &key, &body).await)
    };
    assert_eq!(live.status, 200);
    assert_eq!(upstream.requests_to("/v1/chat/completions").len(), 1);

    let replayer = binary(&[
        "record",
        "--mode",
        "replay",
        "--upstream",
        &upstream.url(),
        "--out",
        out,
        "--time-scale",
        "0",
    ])
    .await;
    let addr = replayer.url.trim_start_matches("http://").parse().unwrap();
    let replayed =
        Observed::from(raw_with_headers(addr, "POST", "/v1/chat/completions", &key, &body).await);
    assert_eq!(live, replayed);
    let unrecorded = raw_with_headers(addr, "GET", "/api/tags", &[], "").await;
    assert_eq!(unrecorded.status, 500);
    assert_eq!(upstream.journal().len(), 1, "replay mode never forwards");
    for file in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert!(!text.contains("0123456789"), "{text}");
    }
}

#[tokio::test]
async fn responses_and_messages_replay_byte_for_byte_with_their_event_names() {
    let mut scenario = Scenario::builtin();
    scenario.merge(serde_json::from_str(DIALECT_RULES).unwrap());
    let upstream = MockOllama::builder()
        .scenario(scenario)
        .flavor(Flavor::Openai)
        .time_scale(0.0)
        .start()
        .await
        .unwrap();
    let (_temp, dir) = fixture_dir();
    let keyed = [
        ("x-api-key", "sk-ant-secret"),
        ("anthropic-version", "2023-06-01"),
    ];
    let messages = |prompt: &str, stream: bool| {
        json!({"model": "llama3.2", "max_tokens": 64, "stream": stream,
               "messages": [{"role": "user", "content": prompt}]})
        .to_string()
    };
    let responses = |prompt: &str, stream: bool| {
        json!({"model": "llama3.2", "input": prompt, "stream": stream}).to_string()
    };
    let cases = [
        ("/v1/responses", responses("hello", false)),
        ("/v1/responses", responses("hello", true)),
        ("/v1/responses", responses("[error]", true)),
        ("/v1/messages", messages("hello", false)),
        ("/v1/messages", messages("hello", true)),
        ("/v1/messages", messages("[error]", true)),
        ("/v1/messages?beta=true", messages("[429]", false)),
        (
            "/v1/messages/count_tokens",
            json!({"model": "llama3.2", "messages": [{"role": "user", "content": "hi"}]})
                .to_string(),
        ),
    ];
    let observe = |mock: MockOllama| {
        let cases = cases.clone();
        async move {
            let mut seen: Vec<Observed> = Vec::new();
            for (path, body) in &cases {
                let reply = raw_with_headers(mock.addr(), "POST", path, &keyed, body).await;
                seen.push(reply.into());
            }
            seen
        }
    };
    let live = observe(recorder(&upstream, &dir, RecordMode::Record).await).await;
    let replayed = observe(replaying(&dir).await).await;
    for ((live, replayed), (path, body)) in live.iter().zip(&replayed).zip(&cases) {
        assert_eq!(live, replayed, "POST {path} {body}");
    }
    let text = |observed: &Observed| String::from_utf8(observed.chunks.concat()).unwrap();
    assert!(text(&live[1]).starts_with("event: response.created\ndata: "));
    assert!(text(&live[2]).contains("event: error\n"));
    assert!(text(&live[4]).starts_with("event: message_start\ndata: "));
    assert!(text(&live[5]).contains("event: error\n"));
    assert_eq!(live[6].status, 429);
    let written: String = std::fs::read_dir(&dir)
        .unwrap()
        .map(|entry| std::fs::read_to_string(entry.unwrap().path()).unwrap())
        .collect();
    assert!(
        !written.contains("sk-ant-secret"),
        "the key is never written"
    );
}
