//! Rate limits shared by replicas through a real `redis-server` (started here on a free port,
//! stopped at the end): exact across replicas under concurrency, tokens settled there, and the
//! failure policy while Redis is away — with recovery once it is back, without a restart.
#![allow(clippy::unwrap_used)]

mod common;

use std::{
    net::TcpStream,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use common::chat;
use gateway::{Config, Gateway};
use mock_ollama::MockOllama;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const KEY: &str = "sk-shared-secret";

/// A `redis-server` on `port`, without persistence, killed when dropped.
struct Redis {
    child: Child,
    port: u16,
}

impl Redis {
    fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        Self::start_on(port)
    }

    fn start_on(port: u16) -> Self {
        let child = Command::new("redis-server")
            .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect(
                "redis-server runs (the Debian package, installed by scripts/prerequisites.sh)",
            );
        let deadline = Instant::now() + Duration::from_secs(10);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(
                Instant::now() < deadline,
                "redis-server did not listen on {port}"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Self { child, port }
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// The running total of one of team-a's windows (`requests` or `tokens`).
    async fn total(&self, measure: &str) -> u64 {
        let client = redis::Client::open(self.url()).unwrap();
        let mut connection = client.get_multiplexed_async_connection().await.unwrap();
        let total: Option<u64> = redis::cmd("GET")
            .arg(format!("{{rl:team-a}}:*:{measure}:total"))
            .query_async(&mut connection)
            .await
            .unwrap();
        total.unwrap_or(0)
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `replicas` gateways in front of one mock, sharing the limits in `redis_url`.
async fn replicas(
    mock: &MockOllama,
    redis_url: &str,
    limits: &str,
    policy: &str,
    replicas: usize,
) -> Vec<Gateway> {
    let config = format!(
        "[[backends]]\nname = \"mock\"\nkind = \"ollama\"\nbase_url = \"{}\"\n\
         [auth]\nredis_url = \"{redis_url}\"\nredis_failure = \"{policy}\"\n\
         [[auth.keys]]\nname = \"team-a\"\nkey = \"sha256:{}\"\n{limits}\n",
        mock.url(),
        hex::encode(Sha256::digest(KEY.as_bytes()))
    );
    let config = Config::from_toml("shared.toml", &config).unwrap();
    let mut gateways = Vec::new();
    for _ in 0..replicas {
        gateways.push(Gateway::start(config.clone()).await.unwrap());
    }
    gateways
}

/// Posts `body` to `gateway` with the key: status, headers, body.
async fn post(gateway: &Gateway, body: &Value) -> (u16, reqwest::header::HeaderMap, String) {
    let response = reqwest::Client::new()
        .post(format!("{}/v1/chat/completions", gateway.url()))
        .bearer_auth(KEY)
        .json(body)
        .send()
        .await
        .unwrap();
    common::parts_of(response).await
}

#[tokio::test]
async fn three_replicas_admit_exactly_the_limit_between_them() {
    let redis = Redis::start();
    let mock = MockOllama::builder().start().await.unwrap();
    let gateways = replicas(&mock, &redis.url(), "requests_per_minute = 30", "open", 3).await;
    let hello = chat("llama3.2", "hello", json!({}));
    // 3× the limit, at once, spread over the replicas.
    let offered = (0..90).map(|n| post(&gateways[n % 3], &hello));
    let answers = futures_util::future::join_all(offered).await;
    let mut admitted_by = [0; 3];
    for (n, (status, headers, _)) in answers.iter().enumerate() {
        match status {
            200 => admitted_by[n % 3] += 1,
            429 => assert!(
                headers.get("retry-after").is_some(),
                "a 429 without Retry-After"
            ),
            other => panic!("status {other}"),
        }
    }
    assert_eq!(
        admitted_by.iter().sum::<u32>(),
        30,
        "per replica: {admitted_by:?}"
    );
    assert_eq!(redis.total("requests").await, 30);
    assert_eq!(mock.requests_to("/api/chat").len(), 30);
    let remaining: Vec<u64> = answers
        .iter()
        .filter(|(status, ..)| *status == 200)
        .map(|(_, headers, _)| {
            headers["x-ratelimit-remaining-requests"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    let mut sorted = remaining.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        (0..30).collect::<Vec<u64>>(),
        "each admission saw one fewer left"
    );
}

#[tokio::test]
async fn tokens_are_settled_in_redis_to_what_the_upstream_counted() {
    let redis = Redis::start();
    let mock = MockOllama::builder().start().await.unwrap();
    let gateways = replicas(&mock, &redis.url(), "tokens_per_minute = 100000", "open", 1).await;
    let stream = chat(
        "llama3.2",
        "hello",
        json!({"stream": true, "stream_options": {"include_usage": true}, "max_tokens": 4000}),
    );
    let (status, headers, body) = post(&gateways[0], &stream).await;
    assert_eq!(status, 200);
    let reserved = 100_000
        - headers["x-ratelimit-remaining-tokens"]
            .to_str()
            .unwrap()
            .parse::<u64>()
            .unwrap();
    assert!(
        reserved > 4000,
        "the reservation covers max_tokens: {reserved}"
    );
    let used = body
        .lines()
        .filter_map(|line| line.strip_prefix("data: "))
        .filter_map(|data| serde_json::from_str::<Value>(data).ok())
        .find_map(|event| event["usage"]["total_tokens"].as_u64())
        .unwrap();
    // Settled from the stream's end, in a task of its own.
    let deadline = Instant::now() + Duration::from_secs(5);
    while redis.total("tokens").await != used {
        assert!(
            Instant::now() < deadline,
            "the total stayed at {}",
            redis.total("tokens").await
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn while_redis_is_away_open_admits_unmetered_closed_refuses_and_both_recover() {
    let redis = Redis::start();
    let port = redis.port;
    let mock = MockOllama::builder().start().await.unwrap();
    let open = replicas(&mock, &redis.url(), "requests_per_minute = 100", "open", 1).await;
    let closed = replicas(
        &mock,
        &redis.url(),
        "requests_per_minute = 100",
        "closed",
        1,
    )
    .await;
    let hello = chat("llama3.2", "hello", json!({}));
    for gateway in [&open[0], &closed[0]] {
        let (status, headers, _) = post(gateway, &hello).await;
        assert_eq!(status, 200);
        assert!(headers.contains_key("x-ratelimit-remaining-requests"));
    }
    drop(redis);

    let (status, headers, _) = post(&open[0], &hello).await;
    assert_eq!(status, 200, "open: admitted");
    assert!(
        !headers.contains_key("x-ratelimit-remaining-requests"),
        "and unmetered"
    );
    let (status, headers, body) = post(&closed[0], &hello).await;
    assert_eq!(status, 503, "closed: refused");
    assert_eq!(headers["retry-after"], "1");
    let envelope: Value = serde_json::from_str(&body).unwrap();
    assert_eq!(envelope["error"]["code"], "rate_limits_unavailable");

    let _back = Redis::start_on(port);
    for gateway in [&open[0], &closed[0]] {
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let (status, headers, _) = post(gateway, &hello).await;
            if status == 200 && headers.contains_key("x-ratelimit-remaining-requests") {
                break;
            }
            assert!(Instant::now() < deadline, "no recovery: {status}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
