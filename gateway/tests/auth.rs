//! API keys and rate limits, kept in the gateway's process: who gets in, what they may use, how
//! much, and what every answer tells them about it.
#![allow(clippy::unwrap_used)]

mod common;

use std::time::Duration;

use common::{Harness, chat, harness_with};
use gateway::Config;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const TEAM_A: &str = "sk-team-a-secret";
const TEAM_B: &str = "sk-team-b-secret";

fn digest(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

/// The built-in mock (replying instantly) behind a gateway whose `[auth]` section is `auth`
/// (keys given as `{TEAM_A}`/`{TEAM_B}` digests), with `rules` for the mock.
async fn keyed(auth: &str, rules: &str) -> Harness {
    keyed_at(auth, rules, 0.0).await
}

/// Same, with the mock's delays scaled by `time_scale`.
async fn keyed_at(auth: &str, rules: &str, time_scale: f64) -> Harness {
    let auth = auth
        .replace("{TEAM_A}", &format!("sha256:{}", digest(TEAM_A)))
        .replace("{TEAM_B}", &format!("sha256:{}", digest(TEAM_B)));
    let parsed = Config::from_toml("auth.toml", &auth).unwrap();
    harness_with(rules, move |config| config.auth = parsed.auth, time_scale).await
}

fn client(key: &str) -> reqwest::Client {
    let mut headers = HeaderMap::new();
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {key}")).unwrap(),
    );
    reqwest::Client::builder()
        .default_headers(headers)
        .build()
        .unwrap()
}

/// Posts `body` to the chat route with `client`: status, headers, and the body as text.
async fn post(h: &Harness, client: &reqwest::Client, body: &Value) -> (u16, HeaderMap, String) {
    let response = client
        .post(h.url("/v1/chat/completions"))
        .json(body)
        .send()
        .await
        .unwrap();
    common::parts_of(response).await
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> &'h str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("no {name}"))
        .to_str()
        .unwrap()
}

fn number(headers: &HeaderMap, name: &str) -> u64 {
    header(headers, name).parse().unwrap()
}

const TWO_KEYS: &str = r#"
[auth]
[[auth.keys]]
name = "team-a"
key = "{TEAM_A}"
models = ["llama3.2"]
[[auth.keys]]
name = "team-b"
key = "{TEAM_B}"
"#;

#[tokio::test]
async fn without_a_known_key_every_route_but_the_open_ones_answers_401() {
    let h = keyed(TWO_KEYS, "{}").await;
    let hello = chat("llama3.2", "hello", json!({}));
    let anonymous = reqwest::Client::new();
    for (client, message) in [
        (&anonymous, "You didn't provide an API key"),
        (&client("sk-wrong"), "Incorrect API key provided"),
        (&client(""), "You didn't provide an API key"),
    ] {
        for (method, path) in [
            ("POST", "/v1/chat/completions"),
            ("GET", "/v1/models"),
            ("GET", "/metrics"),
            ("GET", "/nowhere"),
        ] {
            let request = client.request(method.parse().unwrap(), h.url(path));
            let response = request.json(&hello).send().await.unwrap();
            assert_eq!(response.status(), 401, "{method} {path}");
            let envelope: Value = response.json().await.unwrap();
            assert_eq!(envelope["error"]["code"], "invalid_api_key");
            assert_eq!(envelope["error"]["type"], "invalid_request_error");
            let said = envelope["error"]["message"].as_str().unwrap();
            assert!(said.starts_with(message), "{said}");
            assert!(
                !said.contains("sk-wrong"),
                "the key is never echoed: {said}"
            );
        }
    }
    for path in ["/health", "/"] {
        assert_eq!(
            anonymous.get(h.url(path)).send().await.unwrap().status(),
            200,
            "{path}"
        );
    }
    assert!(
        h.mock.requests_to("/api/chat").is_empty(),
        "nothing reached the backend"
    );
}

#[tokio::test]
async fn a_known_key_is_accepted_as_a_bearer_token_or_as_x_api_key() {
    let h = keyed(TWO_KEYS, "{}").await;
    let hello = chat("llama3.2", "hello", json!({}));
    let (status, ..) = post(&h, &client(TEAM_B), &hello).await;
    assert_eq!(status, 200);
    let response = reqwest::Client::new()
        .post(h.url("/v1/chat/completions"))
        .header("x-api-key", TEAM_A)
        .json(&hello)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn a_model_outside_the_keys_list_is_as_unknown_as_a_model_nobody_serves() {
    let h = keyed(TWO_KEYS, "{}").await;
    let team_a = client(TEAM_A);
    let (status, _, body) = post(&h, &team_a, &chat("qwen3:0.6b", "hello", json!({}))).await;
    assert_eq!(status, 404);
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["error"]["code"], "model_not_found");
    let listed: Value = team_a
        .get(h.url("/v1/models"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let ids: Vec<&str> = listed["data"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["id"].as_str())
        .collect();
    assert_eq!(
        ids,
        ["llama3.2:latest"],
        "`llama3.2` in the list covers its `:latest` tag"
    );
    let hidden = team_a
        .get(h.url("/v1/models/qwen3:0.6b"))
        .send()
        .await
        .unwrap();
    assert_eq!(hidden.status(), 404);
    let (status, ..) = post(&h, &client(TEAM_B), &chat("qwen3:0.6b", "hello", json!({}))).await;
    assert_eq!(status, 200, "team-b may use every model");
}

#[tokio::test]
async fn the_requests_limit_admits_exactly_its_count_then_429s_with_when_to_retry() {
    let h = keyed(
        r#"
        [auth]
        [[auth.keys]]
        name = "team-a"
        key = "{TEAM_A}"
        requests_per_minute = 3
        [[auth.keys]]
        name = "team-b"
        key = "{TEAM_B}"
        "#,
        "{}",
    )
    .await;
    let team_a = client(TEAM_A);
    let hello = chat("llama3.2", "hello", json!({}));
    for remaining in [2, 1, 0] {
        let (status, headers, _) = post(&h, &team_a, &hello).await;
        assert_eq!(status, 200);
        assert_eq!(number(&headers, "x-ratelimit-limit-requests"), 3);
        assert_eq!(
            number(&headers, "x-ratelimit-remaining-requests"),
            remaining
        );
        let reset = header(&headers, "x-ratelimit-reset-requests");
        assert!(reset.ends_with('s') && reset.len() > 1, "{reset}");
        assert!(
            headers.get("x-ratelimit-limit-tokens").is_none(),
            "no token limit, no token headers"
        );
    }
    let (status, headers, body) = post(&h, &team_a, &hello).await;
    assert_eq!(status, 429);
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["error"]["code"], "rate_limit_exceeded");
    assert_eq!(envelope["error"]["type"], "requests");
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("key team-a") && message.contains("Limit 3"),
        "{message}"
    );
    let retry_after = number(&headers, "retry-after");
    let retry_after_ms = number(&headers, "retry-after-ms");
    assert!((1..=60).contains(&retry_after), "{retry_after}");
    assert!(
        retry_after_ms > 55_000 && retry_after_ms <= 60_000,
        "{retry_after_ms}"
    );
    assert_eq!(retry_after, retry_after_ms.div_ceil(1000));
    assert_eq!(number(&headers, "x-ratelimit-remaining-requests"), 0);
    assert_eq!(
        h.mock.requests_to("/api/chat").len(),
        3,
        "the refused request never reached the backend"
    );
    let (status, headers, _) = post(&h, &client(TEAM_B), &hello).await;
    assert_eq!(status, 200, "another key has its own budget");
    assert!(headers.get("x-ratelimit-limit-requests").is_none());
}

#[tokio::test]
async fn concurrent_requests_never_slip_past_the_limit() {
    let h = keyed(
        "[auth]\n[[auth.keys]]\nname = \"team-a\"\nkey = \"{TEAM_A}\"\nrequests_per_minute = 7\n",
        "{}",
    )
    .await;
    let team_a = client(TEAM_A);
    let hello = chat("llama3.2", "hello", json!({"stream": true}));
    let attempts = (0..40).map(|_| post(&h, &team_a, &hello));
    let statuses: Vec<u16> = futures_util::future::join_all(attempts)
        .await
        .into_iter()
        .map(|(status, ..)| status)
        .collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 200).count(),
        7,
        "{statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 429).count(),
        33,
        "{statuses:?}"
    );
}

const TOKENS: &str = r#"
[auth]
[[auth.keys]]
name = "team-a"
key = "{TEAM_A}"
tokens_per_minute = 100000
per_model = { "llama3.2" = { tokens_per_minute = 50000 } }
"#;

/// The usage a stream reported in its usage chunk.
fn streamed_usage(body: &str) -> u64 {
    body.lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .find_map(|event| event["usage"]["total_tokens"].as_u64())
        .expect("a usage chunk")
}

/// What admitting `body` reserves: a quarter of its bytes, plus its completion cap.
fn reservation(body: &Value) -> u64 {
    (body.to_string().len() as u64).div_ceil(4) + body["max_tokens"].as_u64().unwrap_or(0)
}

#[tokio::test]
async fn streamed_requests_are_charged_the_tokens_the_upstream_counted() {
    let h = keyed(TOKENS, "{}").await;
    let team_a = client(TEAM_A);
    let stream = chat(
        "llama3.2",
        "hello",
        json!({"stream": true, "stream_options": {"include_usage": true}, "max_tokens": 900}),
    );
    let (status, headers, body) = post(&h, &team_a, &stream).await;
    assert_eq!(status, 200);
    assert_eq!(
        number(&headers, "x-ratelimit-limit-tokens"),
        50_000,
        "the tighter, per-model window"
    );
    assert_eq!(
        number(&headers, "x-ratelimit-remaining-tokens"),
        50_000 - reservation(&stream),
        "reserved at admission"
    );
    let used = streamed_usage(&body);
    let next = chat("llama3.2", "hello again", json!({}));
    let (_, headers, _) = post(&h, &team_a, &next).await;
    assert_eq!(
        number(&headers, "x-ratelimit-remaining-tokens"),
        50_000 - used - reservation(&next),
        "the stream was settled to its usage ({used}), the reservation released"
    );
    // A stream whose client did not ask for usage is charged just the same.
    let quiet = chat("llama3.2", "hello", json!({"stream": true}));
    let (_, before, body) = post(&h, &team_a, &quiet).await;
    assert!(!body.contains("\"usage\""), "no usage chunk was asked for");
    let remaining_before = number(&before, "x-ratelimit-remaining-tokens") + reservation(&quiet);
    let (_, after, _) = post(&h, &team_a, &next).await;
    assert_eq!(
        number(&after, "x-ratelimit-remaining-tokens"),
        remaining_before - used - reservation(&next)
    );
}

#[tokio::test]
async fn a_client_that_hangs_up_mid_stream_is_charged_what_it_received() {
    let h = keyed_at(
        TOKENS,
        r#"{"rules": [{"match": {"last_user_contains": "[slow]"},
            "reply": {"chunks": [{"content": "a"}, {"content": "b", "delay_ms": 400}, {"content": "c"}]}}]}"#,
        1.0,
    )
    .await;
    let team_a = client(TEAM_A);
    let slow = chat(
        "llama3.2",
        "[slow]",
        json!({"stream": true, "max_tokens": 5000}),
    );
    let mut response = team_a
        .post(h.url("/v1/chat/completions"))
        .json(&slow)
        .send()
        .await
        .unwrap();
    let mut received = String::new();
    while !received.contains("\"content\":\"a\"") {
        let chunk = response.chunk().await.unwrap().expect("more");
        received.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    drop(response);
    // The gateway notices the hang-up by the next chunk at the latest.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let next = chat("llama3.2", "hello", json!({}));
    let (_, headers, _) = post(&h, &team_a, &next).await;
    let prompt = (slow.to_string().len() as u64).div_ceil(4);
    let charged = 50_000 - reservation(&next) - number(&headers, "x-ratelimit-remaining-tokens");
    assert_eq!(
        charged,
        prompt + 1,
        "the prompt's estimate and the one token received"
    );
}

#[tokio::test]
async fn a_request_larger_than_the_token_limit_is_told_to_shrink_not_to_wait() {
    let h = keyed(TOKENS, "{}").await;
    let huge = chat("llama3.2", "hello", json!({"max_tokens": 60_000}));
    let (status, headers, body) = post(&h, &client(TEAM_A), &huge).await;
    assert_eq!(status, 429);
    assert!(
        headers.get("retry-after").is_none(),
        "waiting would not help"
    );
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["error"]["type"], "tokens");
    let message = envelope["error"]["message"].as_str().unwrap();
    assert!(
        message.starts_with("Request too large for key team-a on model llama3.2"),
        "{message}"
    );
    assert!(h.mock.requests_to("/api/chat").is_empty());
}

/// The gateway binary with `config` and every log level on, until dropped; its stderr is
/// collected as it comes.
struct LoggedGateway {
    child: std::process::Child,
    log: std::sync::Arc<std::sync::Mutex<String>>,
    url: String,
}

impl LoggedGateway {
    fn start(config: &str, env: &[(&str, &str)]) -> Self {
        use std::io::BufRead;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gateway.toml");
        std::fs::write(&path, config).unwrap();
        let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_gateway"))
            .arg("--config")
            .arg(&path)
            .args(["--listen", "127.0.0.1:0"])
            .env("RUST_LOG", "trace")
            .envs(env.iter().copied())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let log = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
        let (address_tx, address_rx) = std::sync::mpsc::channel();
        let lines = std::io::BufReader::new(child.stderr.take().unwrap()).lines();
        let collected = std::sync::Arc::clone(&log);
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if let Some((_, url)) = line.split_once("gateway listening on ") {
                    let url = url.split_whitespace().next().unwrap_or_default();
                    let _ = address_tx.send(url.to_owned());
                }
                let mut log = collected.lock().unwrap();
                log.push_str(&line);
                log.push('\n');
            }
        });
        let url = address_rx
            .recv_timeout(Duration::from_secs(20))
            .expect("the gateway listens");
        drop(dir);
        Self { child, log, url }
    }

    fn log(&self) -> String {
        self.log.lock().unwrap().clone()
    }
}

impl Drop for LoggedGateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test]
async fn no_key_appears_in_any_log_line_even_at_trace_level() {
    let mock = mock_ollama::MockOllama::builder().start().await.unwrap();
    let config = format!(
        "[[backends]]\nname = \"mock\"\nkind = \"ollama\"\nbase_url = \"{}\"\n\
         [auth]\n[[auth.keys]]\nname = \"team-a\"\nkey = \"env:GATEWAY_TEST_TEAM_A\"\nrequests_per_minute = 2\n",
        mock.url()
    );
    let gateway = LoggedGateway::start(&config, &[("GATEWAY_TEST_TEAM_A", TEAM_A)]);
    let hello = chat("llama3.2", "hello", json!({}));
    let url = format!("{}/v1/chat/completions", gateway.url);
    let mut statuses = Vec::new();
    for (name, value) in [
        ("authorization", format!("Bearer {TEAM_A}")),
        ("x-api-key", TEAM_A.to_owned()),
        ("authorization", format!("Bearer {TEAM_A}")),
        ("authorization", "Bearer sk-presented-but-wrong".to_owned()),
        ("x-api-key", "sk-presented-but-wrong".to_owned()),
    ] {
        let response = reqwest::Client::new()
            .post(&url)
            .header(name, value)
            .json(&hello)
            .send()
            .await
            .unwrap();
        statuses.push(response.status().as_u16());
    }
    assert_eq!(statuses, [200, 200, 429, 401, 401]);
    tokio::time::sleep(Duration::from_millis(200)).await;
    let log = gateway.log();
    assert!(
        log.contains("team-a"),
        "requests are logged with the key's name:\n{log}"
    );
    for secret in [TEAM_A, "sk-presented-but-wrong"] {
        assert!(!log.contains(secret), "{secret} is in the log:\n{log}");
    }
}
