//! Scripted delays are really applied between flushed lines. Only lower bounds are asserted (a
//! slow machine cannot make them fail), on delays long enough to be unmistakable.
#![allow(clippy::unwrap_used)]

use std::time::{Duration, Instant};

use mock_ollama::{MockOllama, Scenario};
use serde_json::json;

async fn paced_mock(time_scale: f64) -> MockOllama {
    let scenario = Scenario::from_json(
        "paced",
        r#"{"models":[{"name":"m"}],"timing":{"ttft_ms":150,"chunk_delay_ms":100},
            "rules":[{"reply":{"chunks":[{"content":"a"},{"content":"b"},{"content":"c","delay_ms":200}]}}]}"#,
    )
    .unwrap();
    MockOllama::builder()
        .scenario(scenario)
        .time_scale(time_scale)
        .start()
        .await
        .unwrap()
}

async fn arrival_gaps(mock: &MockOllama) -> Vec<Duration> {
    let started = Instant::now();
    let mut response = reqwest::Client::new()
        .post(format!("{}/api/chat", mock.url()))
        .json(&json!({"model": "m", "messages": [{"role": "user", "content": "x"}]}))
        .send()
        .await
        .unwrap();
    let mut arrivals = Vec::new();
    while let Some(chunk) = response.chunk().await.unwrap() {
        assert!(chunk.ends_with(b"\n"), "one whole line per read");
        arrivals.push(started.elapsed());
    }
    let mut previous = Duration::ZERO;
    arrivals
        .into_iter()
        .map(|at| {
            let gap = at - previous;
            previous = at;
            gap
        })
        .collect()
}

#[tokio::test]
async fn each_line_waits_for_its_scripted_delay() {
    let mock = paced_mock(1.0).await;
    let gaps = arrival_gaps(&mock).await;
    assert_eq!(gaps.len(), 4, "three chunks and the done line");
    let expected = [150, 100, 200, 100].map(Duration::from_millis);
    for (gap, minimum) in gaps.iter().zip(expected) {
        assert!(
            *gap >= minimum - Duration::from_millis(5),
            "gap {gap:?} < {minimum:?}"
        );
    }
}

#[tokio::test]
async fn time_scale_multiplies_delays() {
    let mock = paced_mock(2.0).await;
    let gaps = arrival_gaps(&mock).await;
    assert!(
        gaps[0] >= Duration::from_millis(295),
        "ttft doubled, got {:?}",
        gaps[0]
    );
}

#[tokio::test]
async fn reported_durations_follow_the_virtual_timeline_not_the_clock() {
    let mock = paced_mock(0.0).await;
    let response: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/chat", mock.url()))
        .json(
            &json!({"model": "m", "stream": false, "messages": [{"role": "user", "content": "x"}]}),
        )
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(response["prompt_eval_duration"], 150_000_000);
    assert_eq!(response["eval_duration"], 400_000_000);
    assert_eq!(response["total_duration"], 551_000_000);
    assert_eq!(response["created_at"], "2026-01-01T00:00:00.551Z");
}
