//! The load benchmark's probes and generators against the real servers, in-process: they count
//! correct answers as correct and wrong ones as failures, over HTTP/1.1 and over HTTP/2.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::Duration,
};

use benches::load::{
    generator::{closed_loop, open_loop},
    probe::{Api, ChatEndpoint},
    scenario::{self, HELD_PROMPT, INSTANT_PROMPT, MODEL},
};
use gateway::{Config, Gateway};
use mock_ollama::{MockOllama, Scenario};

async fn servers() -> (MockOllama, Gateway) {
    let scenario = Scenario::from_json("load", &scenario::scenario_json(20))
        .unwrap_or_else(|err| panic!("scenario: {err}"));
    let mock = MockOllama::builder()
        .scenario(scenario)
        .time_scale(0.001)
        .start()
        .await
        .unwrap_or_else(|err| panic!("mock starts: {err}"));
    let gateway = Gateway::start(Config::single_ollama("mock", mock.url()))
        .await
        .unwrap_or_else(|err| panic!("gateway starts: {err}"));
    (mock, gateway)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_counts_direct_and_through_the_gateway() {
    let (mock, gateway) = servers().await;
    let client = reqwest::Client::new();
    for endpoint in [
        ChatEndpoint::new(Api::Ollama, &mock.url(), MODEL, client.clone()),
        ChatEndpoint::new(Api::OpenAi, &gateway.url(), MODEL, client.clone()),
    ] {
        let whole = endpoint.whole(INSTANT_PROMPT);
        let fixed = open_loop(100.0, Duration::from_millis(300), whole.clone()).await;
        assert_eq!(
            (fixed.ok, fixed.failed),
            (30, 0),
            "{:?}",
            fixed.first_failure
        );
        let busy = closed_loop(4, Duration::from_millis(100), whole).await;
        assert!(busy.ok >= 4 && busy.failed == 0, "{:?}", busy.first_failure);
        let streams = open_loop(
            100.0,
            Duration::from_millis(100),
            endpoint.first_content(INSTANT_PROMPT),
        )
        .await;
        assert_eq!(
            (streams.ok, streams.failed),
            (10, 0),
            "{:?}",
            streams.first_failure
        );
    }
}

#[tokio::test]
async fn a_wrong_model_is_a_failure_not_a_fast_answer() {
    let (mock, gateway) = servers().await;
    let client = reqwest::Client::new();
    for endpoint in [
        ChatEndpoint::new(Api::Ollama, &mock.url(), "missing", client.clone()),
        ChatEndpoint::new(Api::OpenAi, &gateway.url(), "missing", client.clone()),
    ] {
        let failed = open_loop(
            100.0,
            Duration::from_millis(50),
            endpoint.whole(INSTANT_PROMPT),
        )
        .await;
        assert_eq!((failed.ok, failed.failed), (0, 5));
        assert_eq!(failed.first_failure.as_deref(), Some("HTTP 404"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_gateway_holds_streams_multiplexed_over_one_http2_connection() {
    let (_mock, gateway) = servers().await;
    let client = reqwest::Client::builder()
        .http2_prior_knowledge()
        .build()
        .unwrap_or_else(|err| panic!("client: {err}"));
    let endpoint = ChatEndpoint::new(Api::OpenAi, &gateway.url(), MODEL, client);
    let opened = Arc::new(AtomicUsize::new(0));
    let streams: Vec<_> = (0..20)
        .map(|_| {
            let endpoint = endpoint.clone();
            let opened = Arc::clone(&opened);
            tokio::spawn(async move {
                endpoint
                    .hold_stream(HELD_PROMPT, move |_| {
                        opened.fetch_add(1, Ordering::Relaxed);
                    })
                    .await
            })
        })
        .collect();
    for stream in streams {
        let ended = stream.await.unwrap_or_else(|err| panic!("task: {err}"));
        assert!(ended.is_ok(), "{ended:?}");
    }
    assert_eq!(opened.load(Ordering::Relaxed), 20);
}
