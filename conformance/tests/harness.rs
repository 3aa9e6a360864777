//! The builder other crates' tests use (`conformance::Conformance`), as they use it: the README's
//! test, and the assertion's failure message.
#![allow(clippy::unwrap_used)]

use conformance::{Conformance, FaultPrompts, Profile};
use gateway::{Config, Gateway};
use mock_ollama::{Flavor, MockOllama};

/// The out-of-the-box mock with `/v1` in `flavor`'s dialect, its clock real (NS-002 compares
/// `created` with the runner's).
async fn mock_speaking(flavor: Flavor) -> MockOllama {
    MockOllama::builder()
        .flavor(flavor)
        .real_clock(true)
        .start()
        .await
        .unwrap()
}

/// conformance/README.md's example, with this project's gateway as "your gateway".
#[tokio::test]
async fn a_gateway_in_front_of_the_out_of_the_box_mock_is_judged_in_a_few_lines() {
    let mock = MockOllama::builder().start().await.unwrap();
    let gateway = Gateway::start(Config::single_ollama("mock", mock.url()))
        .await
        .unwrap();
    let report = Conformance::new(format!("{}/v1", gateway.url()))
        .model("llama3.2")
        .fault_prompts(FaultPrompts::mock_ollama())
        .run()
        .await
        .unwrap();
    report.assert_conformant();
    // The fault prompts reached the mock's built-in fault rules: the error checks that need a
    // failure were judged, not skipped.
    for id in ["ERR-007", "ERR-008", "ERR-009", "ERR-010"] {
        let verdict = report.verdict(id).unwrap();
        assert_eq!(
            verdict.status,
            conformance::Status::Pass,
            "{id}: {verdict:?}"
        );
    }
}

#[tokio::test]
async fn a_deviating_endpoint_fails_the_assertion_with_the_table_and_each_failure() {
    // mock-ollama's `ollama` flavour is Ollama's own OpenAI layer, deviations included.
    let mock = mock_speaking(Flavor::Ollama).await;
    let report = Conformance::new(format!("{}/v1", mock.url()))
        .profile(Profile::Strict)
        .capability_repeats(0)
        .run()
        .await
        .unwrap();
    let failures: Vec<&str> = report.failures().iter().map(|v| v.check.id).collect();
    assert!(!failures.is_empty());
    let panic =
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| report.assert_conformant()))
            .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.starts_with(&format!(
            "{} of {} checks failed under the Strict profile",
            failures.len(),
            report.verdicts.len()
        )),
        "{message}"
    );
    assert!(message.contains("CHECK       SEV    STATUS"), "{message}");
    for id in failures {
        assert!(
            message.contains(&format!("\n{id} FAIL: ")),
            "{id} in {message}"
        );
    }
}

#[tokio::test]
async fn only_the_chosen_checks_are_judged() {
    let mock = mock_speaking(Flavor::Openai).await;
    let report = Conformance::new(format!("{}/v1", mock.url()))
        .checks("STREAM-00,ERR-007")
        .capability_repeats(0)
        .fault_prompts(FaultPrompts::mock_ollama())
        .run()
        .await
        .unwrap();
    let ids: Vec<&str> = report.verdicts.iter().map(|v| v.check.id).collect();
    assert!(!ids.is_empty());
    assert!(
        ids.iter()
            .all(|id| id.starts_with("STREAM-00") || *id == "ERR-007"),
        "{ids:?}"
    );
    report.assert_conformant();
}
