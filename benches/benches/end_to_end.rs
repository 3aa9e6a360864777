//! The gateway's cost on top of its backend, in one runtime: client → mock directly against
//! client → gateway → mock, for non-stream requests, streamed replies of 16 and 256 chunks (time to
//! the first content byte and to the end), and 1, 64 and 512 concurrent streams.

use std::time::{Duration, Instant};

use benches::{chat_body, gateway_for, mock_with_replies};
use criterion::{Criterion, criterion_group, criterion_main};
use futures_util::StreamExt;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap_or_else(|err| panic!("runtime: {err}"))
}

/// Sends one request and reads the body; returns (time to the first body byte that carries
/// content, time to the end).
async fn exchange(
    client: &reqwest::Client,
    url: &str,
    body: &serde_json::Value,
) -> (Duration, Duration) {
    let started = Instant::now();
    let Ok(response) = client.post(url).json(body).send().await else {
        return (started.elapsed(), started.elapsed());
    };
    let mut stream = response.bytes_stream();
    let mut first = None;
    while let Some(Ok(bytes)) = stream.next().await {
        // The first piece naming the first word: the first non-empty content.
        if first.is_none() && bytes.windows(2).any(|w| w == b"w0") {
            first = Some(started.elapsed());
        }
    }
    let total = started.elapsed();
    (first.unwrap_or(total), total)
}

/// Picks one duration out of (time to first content, total).
type Phase = fn((Duration, Duration)) -> Duration;

fn overhead(c: &mut Criterion) {
    let rt = runtime();
    let (mock, gateway) = rt.block_on(async {
        let mock = mock_with_replies(&[16, 256]).await;
        let gateway = gateway_for(&mock).await;
        (mock, gateway)
    });
    let client = reqwest::Client::new();
    let direct = format!("{}/api/chat", mock.url());
    let through = format!("{}/v1/chat/completions", gateway.url());
    let ollama_body = |words: usize, stream: bool| chat_body(words, stream);

    let mut group = c.benchmark_group("non-stream request (16-word reply)");
    for (name, url) in [("direct to mock", &direct), ("through gateway", &through)] {
        group.bench_function(name, |b| {
            b.to_async(&rt)
                .iter(|| async { exchange(&client, url, &ollama_body(16, false)).await })
        });
    }
    group.finish();

    for words in [16usize, 256] {
        let mut group = c.benchmark_group(format!("stream of {words} chunks"));
        for (name, url) in [("direct to mock", &direct), ("through gateway", &through)] {
            let phases: [(&str, Phase); 2] = [
                ("time to first content", |(first, _)| first),
                ("total", |(_, total)| total),
            ];
            for (phase, pick) in phases {
                group.bench_function(format!("{name}: {phase}"), |b| {
                    b.to_async(&rt).iter_custom(|iterations| {
                        let client = client.clone();
                        let url = url.clone();
                        async move {
                            let mut sum = Duration::ZERO;
                            for _ in 0..iterations {
                                sum +=
                                    pick(exchange(&client, &url, &ollama_body(words, true)).await);
                            }
                            sum
                        }
                    })
                });
            }
        }
        group.finish();
    }

    let mut group = c.benchmark_group("concurrent streams through the gateway (16 chunks each)");
    group.sample_size(10);
    for streams in [1usize, 64, 512] {
        group.bench_function(format!("{streams} at once"), |b| {
            b.to_async(&rt).iter(|| {
                let client = client.clone();
                let url = through.clone();
                async move {
                    let tasks: Vec<_> = (0..streams)
                        .map(|_| {
                            let client = client.clone();
                            let url = url.clone();
                            tokio::spawn(async move {
                                exchange(&client, &url, &chat_body(16, true)).await
                            })
                        })
                        .collect();
                    for task in tasks {
                        let _ = task.await;
                    }
                }
            })
        });
    }
    group.finish();
    drop(gateway);
    drop(mock);
}

criterion_group!(benches, overhead);
criterion_main!(benches);
