//! The relay judged by the conformance runner, in front of mock-ollama speaking exact OpenAI.

use conformance::{Conformance, FaultPrompts};
use example_rust_gateway::{Behaviour, spawn};
use mock_ollama::{Flavor, MockOllama};

async fn judged(behaviour: Behaviour) -> conformance::Report {
    let mock = MockOllama::builder()
        .flavor(Flavor::Openai)
        .real_clock(true);
    let mock = mock.start().await.expect("the mock starts");
    let gateway = spawn(&mock.url(), behaviour)
        .await
        .expect("the relay starts");
    Conformance::new(format!("http://{gateway}/v1"))
        .model("llama3.2")
        .fault_prompts(FaultPrompts::mock_ollama())
        .run()
        .await
        .expect("the relay answers")
}

#[tokio::test]
async fn the_relay_is_openai_conformant() {
    judged(Behaviour::Faithful).await.assert_conformant();
}

#[tokio::test]
#[should_panic(expected = "checks failed under the Strict profile")]
async fn a_relay_that_hides_upstream_errors_is_caught() {
    judged(Behaviour::HideUpstreamErrors)
        .await
        .assert_conformant();
}
