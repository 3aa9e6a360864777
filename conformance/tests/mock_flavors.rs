//! The runner over mock-ollama's `/v1` in each flavour, in-process: the `openai` flavour passes
//! the strict profile; the `ollama` flavour fails exactly where real Ollama's OpenAI layer
//! deviates (each deviation is a row of mock-ollama/README.md's flavour table); and this
//! project's gateway, pointed at either flavour as an OpenAI-compatible upstream, repairs all of
//! them that an upstream does not have to supply.
#![allow(clippy::unwrap_used)]

mod fixture_target;

use conformance::{Profile, Report, Status};
use gateway::{BackendKind, Config, Gateway};
use mock_ollama::{Flavor, MockOllama, Scenario};

async fn mock(flavor: Flavor) -> MockOllama {
    let fixtures = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../fixtures/scenarios");
    MockOllama::builder()
        .scenario(Scenario::load(&fixtures).unwrap())
        .flavor(flavor)
        // `created` must be near the runner's clock (NS-002).
        .real_clock(true)
        .start()
        .await
        .unwrap()
}

async fn judge(base_url: String, profile: Profile) -> Report {
    fixture_target::conformance(base_url)
        .profile(profile)
        .capability_repeats(1)
        .run()
        .await
        .unwrap()
}

/// Where a check stands in the checklist (the report's order).
fn checklist_position(id: &str) -> usize {
    conformance::checks::all()
        .iter()
        .position(|check| check.def.id == id)
        .unwrap_or(usize::MAX)
}

/// Every check of `group` skipped: what a target without its route gets.
fn not_served(group: conformance::Group) -> Vec<(&'static str, Status)> {
    conformance::checks::all()
        .into_iter()
        .filter(|check| check.def.group == group)
        .map(|check| (check.def.id, Status::Skip))
        .collect()
}

/// Neither `/v1/responses` nor `/v1/messages`.
fn dialects_not_served() -> Vec<(&'static str, Status)> {
    [
        not_served(conformance::Group::Responses),
        not_served(conformance::Group::Messages),
    ]
    .concat()
}

fn not_passing(report: &Report) -> Vec<(&'static str, Status)> {
    report
        .verdicts
        .iter()
        .filter(|verdict| verdict.status != Status::Pass)
        .map(|verdict| (verdict.check.id, verdict.status))
        .collect()
}

#[tokio::test]
async fn the_openai_flavor_passes_the_strict_profile() {
    let mock = mock(Flavor::Openai).await;
    let report = judge(format!("{}/v1", mock.url()), Profile::Strict).await;
    // Nothing asks for a key, so HTTP-004 and MSG-021 have nothing to judge.
    assert_eq!(
        not_passing(&report),
        [("HTTP-004", Status::Skip), ("MSG-021", Status::Skip)],
        "{}",
        conformance::report::table(&report)
    );
}

#[tokio::test]
async fn the_ollama_flavor_deviates_exactly_where_ollamas_openai_layer_does() {
    let mock = mock(Flavor::Ollama).await;
    let report = judge(format!("{}/v1", mock.url()), Profile::Compat).await;
    use Status::{Fail, Skip, Unsupported, Warn};
    assert_eq!(
        not_passing(&report),
        [
            // No validation of sampling parameters, so a bad `stream: true` request streams.
            ("HTTP-003", Fail),
            ("HTTP-004", Skip),
            // `n` is ignored: one choice for n = 2.
            ("NS-003", Fail),
            // Choices without `logprobs`, messages without `refusal`.
            ("NS-005", Warn),
            ("NS-008", Warn),
            // `max_completion_tokens` is ignored (ollama/ollama#7125).
            ("NS-011", Fail),
            // `n` is ignored, streamed too.
            ("STREAM-015", Warn),
            // No `"usage": null` on chunks before the usage chunk.
            ("USAGE-003", Warn),
            // Gin's text `404 page not found` for an unknown route, and gin-contrib/cors's empty
            // 403 for a foreign origin: no envelope.
            ("ERR-001", Fail),
            ("ERR-002", Fail),
            ("ERR-003", Fail),
            // A mid-stream error becomes an empty chunk and the stream just ends.
            ("ERR-009", Fail),
            ("ERR-010", Warn),
            // Roles, ranges, `n`, tool-message ids and function names are not checked.
            ("REQ-003", Fail),
            ("REQ-005", Warn),
            ("REQ-006", Warn),
            ("REQ-009", Warn),
            ("REQ-010", Warn),
            // No x-request-id, no browser from a foreign origin, the text 404 again.
            ("HDR-001", Warn),
            ("HDR-002", Warn),
            ("CORS-003", Skip),
            ("SEC-002", Warn),
            // No request size limit: the oversized prompt is truncated and answered.
            ("SEC-003", Warn),
            // `tool_choice` is dropped (a TODO in its source): `none` still lets the model call.
            ("PARAM-002", Fail),
            // Its stateless Responses layer: `tool_choice` ignored, always `completed`,
            // `previous_response_id` ignored (an unknown one too), `store: false` echoed, a body
            // without `input` answered, a mid-stream failure lost.
            ("RESP-012", Fail),
            ("RESP-015", Warn),
            ("RESP-016", Fail),
            ("RESP-017", Fail),
            ("RESP-018", Skip),
            ("RESP-019", Fail),
            ("RESP-020", Fail),
            // Its Messages layer: `tool_choice` unsupported, a stop sequence reported as
            // `end_turn` (`mapStopReason` of the native `stop`), a mid-stream failure lost, no
            // count_tokens route.
            ("MSG-012", Fail),
            ("MSG-014", Warn),
            ("MSG-018", Fail),
            ("MSG-019", Unsupported),
            ("MSG-021", Skip),
            // Its `anthropic.NewError` writes `overloaded_error` under a 503, and its thinking
            // blocks carry no signature.
            ("MSG-022", Warn),
            ("MSG-023", Warn),
        ],
        "{}",
        conformance::report::table(&report)
    );
}

#[tokio::test]
async fn the_llama_cpp_python_flavor_deviates_exactly_where_the_real_llama_cpp_python_server_does()
{
    let mock = mock(Flavor::LlamaCppPython).await;
    let report = judge(format!("{}/v1", mock.url()), Profile::Compat).await;
    use Status::{Fail, Skip, Warn};
    // The llama.cpp column of docs/compatibility.md, and ERR-007..010 judged too: the mock's
    // fault prompts provoke on demand what the real server does only when it breaks (a
    // mid-stream failure cuts the connection: ERR-009 fails, ERR-010 warns).
    assert_eq!(
        not_passing(&report),
        [
            ("HTTP-001", Fail),
            ("HTTP-003", Fail),
            ("HTTP-004", Skip),
            ("NS-003", Fail),
            ("NS-008", Warn),
            ("NS-011", Fail),
            ("STREAM-015", Warn),
            ("USAGE-002", Fail),
            ("USAGE-003", Warn),
            ("USAGE-004", Skip),
            ("TOOL-005", Fail),
            ("TOOL-009", Fail),
            ("ERR-001", Fail),
            ("ERR-002", Fail),
            ("ERR-003", Fail),
            ("ERR-004", Fail),
            // An unknown model is answered by the loaded one: the MUST half (a 4xx) is broken.
            ("ERR-005", Fail),
            ("ERR-006", Fail),
            ("ERR-009", Fail),
            ("ERR-010", Warn),
            ("REQ-001", Warn),
            ("REQ-002", Fail),
            ("REQ-003", Fail),
            // Content parts are a 500 (the chat format concatenates strings): the MUST half.
            ("REQ-004", Fail),
            ("REQ-005", Warn),
            ("REQ-006", Warn),
            ("REQ-009", Warn),
            ("REQ-010", Warn),
            ("MODELS-002", Fail),
            ("MODELS-003", Warn),
            // starlette-context refuses a request id that is not a UUID with an empty 400;
            // Starlette's CORS reflects any origin with credentials; FastAPI's validation errors
            // carry the install path; FastAPI's `{"detail": "Not Found"}`; a chat model answers
            // embeddings with a 500, and pydantic refuses bad input with 500s.
            ("HDR-001", Warn),
            ("HDR-002", Warn),
            ("CORS-002", Fail),
            ("SEC-001", Fail),
            ("SEC-002", Warn),
            ("EMB-001", Fail),
            ("EMB-002", Fail),
            ("EMB-003", Warn),
            ("EMB-004", Fail),
            // `response_format` takes `text` or `json_object` only: pydantic's 500.
            ("PARAM-004", Warn),
        ]
        .into_iter()
        // No `/v1/responses` nor `/v1/messages`: FastAPI's 404, said once for each.
        .chain(dialects_not_served())
        .collect::<Vec<_>>(),
        "{}",
        conformance::report::table(&report)
    );
}

#[tokio::test]
async fn the_vllm_flavor_deviates_where_vllms_source_says_it_does() {
    let mock = mock(Flavor::Vllm).await;
    let report = judge(format!("{}/v1", mock.url()), Profile::Compat).await;
    use Status::{Fail, Skip, Unsupported, Warn};
    assert_eq!(
        not_passing(&report),
        [
            // Unknown roles, empty `messages`, a missing model, five stops, bad function names
            // and `temperature: 3` all reach the model: a bad `stream: true` request streams.
            ("HTTP-003", Fail),
            ("HTTP-004", Skip),
            // No `"usage": null` on chunks before the usage chunk.
            ("USAGE-003", Warn),
            // No `GET /v1/models/{id}`: FastAPI's `{"detail": "Not Found"}`.
            ("ERR-001", Fail),
            ("ERR-002", Fail),
            // `code` is the HTTP status, an integer.
            ("ERR-003", Fail),
            ("ERR-009", Fail),
            ("REQ-001", Warn),
            ("REQ-002", Fail),
            ("REQ-003", Fail),
            ("REQ-005", Warn),
            ("REQ-006", Warn),
            ("REQ-009", Warn),
            ("REQ-010", Warn),
            ("MODELS-003", Warn),
            // No x-request-id (vLLM sends one only with --enable-request-id-headers) and
            // FastAPI's `{"detail": "Not Found"}`.
            ("HDR-001", Warn),
            ("HDR-002", Warn),
            ("SEC-002", Warn),
            // Its Responses store is off by default (no retrieval), a mid-stream failure drops
            // the connection, and the streamed items have ids of their own.
            ("RESP-018", Unsupported),
            ("RESP-020", Fail),
            ("RESP-021", Warn),
            // Its Messages layer: a stop sequence reported as `end_turn`, pydantic's refusals in
            // the OpenAI envelope, an `internal_error` event (no Anthropic type), a
            // `message_start` without type and role.
            ("MSG-014", Warn),
            ("MSG-016", Fail),
            ("MSG-018", Fail),
            ("MSG-020", Warn),
            ("MSG-021", Skip),
            // An overload is a 503 with the chat error's class name as its type.
            ("MSG-022", Warn),
        ],
        "{}",
        conformance::report::table(&report)
    );
}

#[tokio::test]
async fn the_gateway_in_front_of_every_flavor_repairs_all_an_upstream_need_not_supply() {
    // What no gateway can repair: an upstream that ignores `n` answers one choice, which the
    // gateway cannot know before the stream has begun; one that never reports usage in a stream
    // leaves no usage to relay (the same verdicts as the gateway over the real llama.cpp server,
    // docs/compatibility.md).
    use Status::{Fail, Skip};
    // The gateway serves no embeddings yet and allows no browser origin by default.
    let gateway_own = [
        ("CORS-003", Skip),
        ("EMB-001", Skip),
        ("EMB-002", Skip),
        ("EMB-003", Skip),
        ("EMB-004", Skip),
    ];
    let upstream_limits = |flavor| match flavor {
        // Ollama ignores `n`; llama-server honours it and, like OpenAI, reports stream usage.
        Flavor::Ollama => vec![("HTTP-004", Skip), ("NS-003", Fail), ("STREAM-015", Fail)],
        Flavor::Openai | Flavor::Llamacpp => vec![("HTTP-004", Skip)],
        // llama-cpp-python also refuses a `json_schema` response format with pydantic's 500,
        // whose message names its install path: the gateway relays an upstream's message
        // verbatim, so SEC-001 finds the path in the gateway's 502 (an open finding).
        Flavor::LlamaCppPython => vec![
            ("HTTP-004", Skip),
            ("NS-003", Fail),
            ("STREAM-015", Fail),
            ("USAGE-002", Fail),
            ("USAGE-004", Skip),
            ("SEC-001", Fail),
            ("PARAM-004", Fail),
        ],
        Flavor::Vllm => vec![("HTTP-004", Skip)],
    };
    for flavor in Flavor::ALL {
        let mock = mock(flavor).await;
        let mut config = Config::single_ollama("mock", format!("{}/v1", mock.url()));
        config.body_limit_bytes = fixture_target::GATEWAY_BODY_LIMIT;
        config.backends[0].kind = BackendKind::Openai;
        let gateway = Gateway::start(config).await.unwrap();
        let report = judge(format!("{}/v1", gateway.url()), Profile::Strict).await;
        // No `/v1/responses` nor `/v1/messages` in the gateway until #25.
        let mut expected = [
            upstream_limits(flavor),
            gateway_own.to_vec(),
            dialects_not_served(),
        ]
        .concat();
        expected.sort_by_key(|(id, _)| checklist_position(id));
        assert_eq!(
            not_passing(&report),
            expected,
            "gateway over the {flavor} flavour:\n{}",
            conformance::report::table(&report)
        );
    }
}
