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
    let gateway = Gateway::start(Config::single_ollama("mock", mock.url()))
        .await
        .unwrap();
    (mock, gateway)
}

#[tokio::test]
async fn the_gateway_passes_the_strict_profile() {
    let (_mock, gateway) = gateway_over_mock().await;
    let target = fixture_target::target(format!("{}/v1", gateway.url()));
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
    // The gateway has no authentication, so HTTP-004 has nothing to judge.
    assert_eq!(
        not_passing,
        [&("HTTP-004".to_owned(), Status::Skip)],
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
