//! The whole suite against this project's gateway in front of mock-ollama (serving the committed
//! fixtures), in-process: it must pass the strict profile, and what every probe saw is pinned by
//! snapshots (ids, timestamps and per-run evidence redacted).
#![allow(clippy::unwrap_used)]

mod fixture_target;

use conformance::{FaultPrompts, Profile, Score, Status};
use gateway::{Config, Gateway};
use mock_ollama::{MockOllama, Scenario};
use sha2::Digest;

async fn gateway_over_mock_with(tweak: impl FnOnce(&mut Config)) -> (MockOllama, Gateway) {
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
    tweak(&mut config);
    let gateway = Gateway::start(config).await.unwrap();
    (mock, gateway)
}

/// The origin the gateway lets browsers call it from.
const BROWSER_ORIGIN: &str = "https://chat.example";

/// The model only the gateway's dead backend serves.
const OFFLINE_MODEL: &str = "offline-model";

/// A second backend, serving [`OFFLINE_MODEL`], at a port nothing listens on.
fn with_a_dead_backend(config: &mut Config) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap();
    let mut dead = config.backends[0].clone();
    dead.name = "offline".to_owned();
    dead.base_url = format!("http://{closed}");
    dead.models = Some(vec![OFFLINE_MODEL.to_owned()]);
    config.backends.push(dead);
}

#[tokio::test]
async fn the_gateway_passes_the_strict_profile() {
    let (_mock, gateway) = gateway_over_mock_with(with_a_dead_backend).await;
    let report = fixture_target::conformance(format!("{}/v1", gateway.url()))
        .profile(Profile::Strict)
        .configure(|target| {
            target.origin = Some(BROWSER_ORIGIN.to_owned());
            target.unreachable_model = Some(OFFLINE_MODEL.to_owned());
        })
        .capability_repeats(2)
        .run()
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
    // No /v1/responses nor /v1/messages either (#25): their checks are skipped as not served.
    let skipped = |id: &str| (id.to_owned(), Status::Skip);
    let expected: Vec<(String, Status)> = ["HTTP-004", "EMB-001", "EMB-002", "EMB-003", "EMB-004"]
        .into_iter()
        .map(skipped)
        .chain(
            conformance::checks::all()
                .into_iter()
                .filter(|check| {
                    matches!(
                        check.def.group,
                        conformance::Group::Responses | conformance::Group::Messages
                    )
                })
                .map(|check| skipped(check.def.id)),
        )
        .collect();
    assert_eq!(
        not_passing,
        expected.iter().collect::<Vec<_>>(),
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

/// The key the keyed gateway knows.
const KEY: &str = "sk-conformance-known-key";
/// Its requests per minute: more than the suite's own chats, so that only the burst is refused.
const REQUESTS_PER_MINUTE: u32 = 200;

#[tokio::test]
async fn with_a_key_and_a_real_limit_auth_and_429_are_judged_for_real() {
    let auth = format!(
        "[auth]\n[[auth.keys]]\nname = \"conformance\"\nkey = \"sha256:{}\"\nrequests_per_minute = {REQUESTS_PER_MINUTE}\n",
        hex::encode(sha2::Sha256::digest(KEY.as_bytes()))
    );
    let auth = Config::from_toml("auth.toml", &auth).unwrap().auth;
    let (mock, gateway) = gateway_over_mock_with(|config| config.auth = auth).await;
    let report = fixture_target::conformance(format!("{}/v1", gateway.url()))
        .configure(|target| target.origin = Some(BROWSER_ORIGIN.to_owned()))
        .api_key(KEY)
        .expect_auth()
        .fault_prompts(FaultPrompts {
            rate_limit: None,
            rate_limit_burst: Some(REQUESTS_PER_MINUTE),
            ..FaultPrompts::mock_ollama()
        })
        .capability_repeats(2)
        .run()
        .await
        .unwrap();
    let table = conformance::report::table(&report);
    let status = |id: &str| {
        report
            .verdicts
            .iter()
            .find(|v| v.check.id == id)
            .map(|v| v.status)
    };
    assert_eq!(status("HTTP-004"), Some(Status::Pass), "{table}");
    assert_eq!(status("ERR-007"), Some(Status::Pass), "{table}");
    assert_eq!(status("HDR-003"), Some(Status::Pass), "{table}");
    let failing: Vec<&str> = report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| v.check.id)
        .collect();
    assert!(failing.is_empty(), "{failing:?}\n{table}");
    // A few admitted probes are refused while being translated for Ollama (invalid tool-call
    // arguments, say) and never reach it, so at most the limit did.
    let chats = mock.requests_to("/api/chat").len();
    assert!(
        chats <= REQUESTS_PER_MINUTE as usize,
        "{chats} chats reached the backend"
    );
}
