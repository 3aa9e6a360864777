//! The whole suite against this project's gateway in front of mock-ollama (serving the committed
//! fixtures), in-process: it must pass the strict profile, and what every probe saw is pinned by
//! snapshots (ids, timestamps and per-run evidence redacted).
#![allow(clippy::unwrap_used)]

mod fixture_target;

use conformance::{Profile, Status, capability::Score, run};
use gateway::{Config, Gateway};
use mock_ollama::{MockOllama, Scenario};

async fn gateway_over_mock() -> (MockOllama, Gateway) {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    let mock = MockOllama::builder()
        .scenario(Scenario::load(&fixtures).unwrap())
        .start()
        .await
        .unwrap();
    let mut config = Config::single_ollama("mock", mock.url());
    config.body_limit_bytes = fixture_target::GATEWAY_BODY_LIMIT;
    config.cors.allowed_origins = vec![BROWSER_ORIGIN.to_owned()];
    config.cors.allow_credentials = true;
    let gateway = Gateway::start(config).await.unwrap();
    (mock, gateway)
}

/// The origin the gateway lets browsers call it from.
const BROWSER_ORIGIN: &str = "https://chat.example";

#[tokio::test]
async fn the_gateway_passes_the_strict_profile() {
    let (_mock, gateway) = gateway_over_mock().await;
    let target = conformance::Target {
        origin: Some(BROWSER_ORIGIN.to_owned()),
        ..fixture_target::target(format!("{}/v1", gateway.url()))
    };
    let faults = fixture_target::fault_prompts();
    let report = run(&target, Profile::Strict, None, &faults, 2)
        .await
        .unwrap();
    let verdicts: Vec<(String, Status)> = report
        .verdicts
        .iter()
        .map(|v| (v.check.id.to_owned(), v.status))
        .collect();
    let not_passing: Vec<&(String, Status)> = verdicts
        .iter()
        .filter(|(_, s)| *s != Status::Pass)
        .collect();
    // The gateway has no authentication, so HTTP-004 has nothing to judge, and no
    // /v1/embeddings yet.
    let skipped = |id: &str| (id.to_owned(), Status::Skip);
    assert_eq!(
        not_passing,
        [
            &skipped("HTTP-004"),
            &skipped("EMB-001"),
            &skipped("EMB-002"),
            &skipped("EMB-003"),
            &skipped("EMB-004"),
        ],
        "{}",
        conformance::report::table(&report)
    );
    insta::assert_json_snapshot!("gateway_verdicts", verdicts);
    // mock-ollama's generated replies honour tools, JSON schemas and (trivially) stop sequences.
    let scores: Vec<(&str, Score)> = report
        .capabilities
        .iter()
        .map(|c| (c.name, c.score))
        .collect();
    assert_eq!(
        scores,
        [
            ("forced_tool_call", Score::Pass),
            ("structured_output", Score::Pass),
            ("stop_adherence", Score::Pass)
        ],
        "{:#?}",
        report.capabilities
    );
    // The transcript already replaced ids, timestamps and fingerprints after the checks read them.
    insta::assert_json_snapshot!("gateway_transcript", report.transcript);
}
