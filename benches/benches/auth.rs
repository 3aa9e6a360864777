//! What API keys and rate limits cost per request, in one runtime: the same non-stream request
//! through the same gateway without `[auth]`, with a key (no limits), with a key and limits kept
//! in the process, and with the limits in Redis (a `redis-server` started on a free port; that
//! variant is left out, with a note, when `redis-server` is not installed). The limits are set
//! high enough never to refuse: what is measured is the admission and the settlement.

use std::path::Path;

use benches::{chat_body, load::process::start_redis, mock_with_replies};
use criterion::{Criterion, criterion_group, criterion_main};
use gateway::{Config, Gateway};
use mock_ollama::MockOllama;

const KEY: &str = "sk-bench-key";
/// sha256 of [`KEY`].
fn digest() -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(KEY.as_bytes()))
}

/// The gateway over `mock` with `auth` (TOML of an `[auth]` section, or none).
async fn gateway(mock: &MockOllama, auth: Option<String>) -> Gateway {
    let mut config = Config::single_ollama("mock", mock.url());
    config.backends[0].models = Some(vec!["bench".to_owned()]);
    if let Some(auth) = auth {
        config.auth = Config::from_toml("bench.toml", &auth)
            .unwrap_or_else(|err| panic!("auth config: {err}"))
            .auth;
    }
    Gateway::start(config)
        .await
        .unwrap_or_else(|err| panic!("gateway starts: {err}"))
}

fn keyed(limits: &str, redis_url: Option<&str>) -> String {
    let redis = redis_url
        .map(|url| format!("redis_url = \"{url}\"\n"))
        .unwrap_or_default();
    format!(
        "[auth]\n{redis}[[auth.keys]]\nname = \"bench\"\nkey = \"sha256:{}\"\n{limits}\n",
        digest()
    )
}

fn auth_cost(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("runtime: {err}"));
    let redis = start_redis(Path::new("redis-server"))
        .inspect_err(|error| eprintln!("{error}: the Redis variant is left out"))
        .ok();
    let limits = "requests_per_minute = 1000000000\ntokens_per_minute = 1000000000000";
    let (mock, variants) = rt.block_on(async {
        let mock = mock_with_replies(&[16]).await;
        let mut variants = vec![
            ("without [auth]", gateway(&mock, None).await),
            (
                "with a key, no limits",
                gateway(&mock, Some(keyed("", None))).await,
            ),
            (
                "with a key and limits in memory",
                gateway(&mock, Some(keyed(limits, None))).await,
            ),
            (
                "with a key and a request limit in memory",
                gateway(&mock, Some(keyed("requests_per_minute = 1000000000", None))).await,
            ),
        ];
        if let Some(redis) = &redis {
            variants.push((
                "with a key and limits in Redis",
                gateway(&mock, Some(keyed(limits, Some(redis.url())))).await,
            ));
        }
        (mock, variants)
    });
    let client = reqwest::Client::new();
    let mut group = c.benchmark_group("non-stream request through the gateway (16-word reply)");
    for (name, gateway) in &variants {
        let url = format!("{}/v1/chat/completions", gateway.url());
        group.bench_function(*name, |b| {
            b.to_async(&rt).iter(|| async {
                let response = client
                    .post(&url)
                    .bearer_auth(KEY)
                    .json(&chat_body(16, false))
                    .send()
                    .await
                    .unwrap_or_else(|err| panic!("request: {err}"));
                assert!(response.status().is_success(), "{}", response.status());
                response.bytes().await.unwrap_or_default()
            })
        });
    }
    group.finish();
    drop(variants);
    drop(mock);
}

criterion_group!(benches, auth_cost);
criterion_main!(benches);
