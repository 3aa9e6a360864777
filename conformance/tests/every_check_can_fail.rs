//! Proof that every check can fail: a reference server that passes them all under the strict
//! profile, then, for each of the 144 checks, the same server breaking exactly that check's rule.
//! The runner must flag that check — and nothing unrelated. Where one broken behaviour truly
//! violates two rules (a lost `[DONE]` is also an unterminated event), the pair is listed.
#![allow(clippy::unwrap_used)]

mod reference;

use std::{collections::BTreeSet, time::Duration};

use conformance::{Profile, Status, Target, checks, probes::FaultPrompts, run};

fn target(url: String) -> Target {
    Target {
        api_key: Some(reference::KEY.to_owned()),
        expect_auth: true,
        timeout: Duration::from_secs(10),
        max_body: 1 << 20,
        context_tokens: Some(reference::CONTEXT),
        origin: Some(reference::ORIGIN.to_owned()),
        embedding_model: Some(reference::MODEL.to_owned()),
        thinking_model: Some(reference::THINKER.to_owned()),
        oversized_body_bytes: 2 * reference::BODY_LIMIT,
        ..Target::new(url, reference::MODEL)
    }
}

fn faults() -> FaultPrompts {
    FaultPrompts {
        mid_stream: Some(reference::FAULT.to_owned()),
        rate_limit: Some(reference::RATE.to_owned()),
        rate_limit_burst: None,
        overload: Some(reference::OVERLOAD.to_owned()),
    }
}

async fn failing(deviation: &'static str) -> BTreeSet<String> {
    let report = run(
        &target(reference::start(deviation).await),
        Profile::Strict,
        None,
        &faults(),
        0,
    )
    .await
    .unwrap();
    report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| format!("{} ({})", v.check.id, v.evidence))
        .collect()
}

/// Behaviours that break two rules at once, by nature.
fn also_failing(id: &str) -> &'static [&'static str] {
    match id {
        // A `[DONE]` without its blank line is discarded by clients: no [DONE] either.
        "SSE-002" => &["SSE-006"],
        // A keep-alive comment sent as data is also a payload that is not JSON.
        "SSE-009" => &["SSE-005"],
        // A first delta with role "" has no assistant role either.
        "STREAM-008" => &["STREAM-006"],
        // Re-sent arguments also make the reassembled arguments invalid JSON.
        "TOOL-008" => &["TOOL-006"],
        // A failure disguised as a normal end is also a failure not delivered as an error event.
        "ERR-010" => &["ERR-009"],
        // A 5xx for a client's request is also a client error reported as a server error.
        "REQ-008" | "REQ-011" => &["ERR-006"],
        // An unknown route answered with a text 404 is also an error without the envelope.
        "SEC-002" => &["ERR-001", "ERR-002", "ERR-003"],
        // Tool input fragments that do not join also leave the streamed tool use without input.
        "MSG-010" => &["MSG-011"],
        _ => &[],
    }
}

/// A strict run with every fault prompt and no capability probes.
async fn strict_report(url: String) -> conformance::Report {
    run(&target(url), Profile::Strict, None, &faults(), 0)
        .await
        .unwrap()
}

/// The ids of the checks that failed, in checklist order.
fn failed_checks(report: &conformance::Report) -> Vec<&'static str> {
    report
        .verdicts
        .iter()
        .filter(|v| v.status == Status::Fail)
        .map(|v| v.check.id)
        .collect()
}

/// `CHECK status: evidence` of every verdict that is not a pass.
fn not_passing(report: &conformance::Report) -> Vec<String> {
    report
        .verdicts
        .iter()
        .filter(|v| v.status != Status::Pass)
        .map(|v| format!("{} {:?}: {}", v.check.id, v.status, v.evidence))
        .collect()
}

#[tokio::test]
async fn the_reference_server_passes_every_check_strictly() {
    let report = strict_report(reference::start("").await).await;
    let not_passing = not_passing(&report);
    assert!(not_passing.is_empty(), "{not_passing:#?}");
    assert_eq!(report.verdicts.len(), checks::all().len());
}

#[tokio::test]
async fn a_broken_should_half_fails_strict_and_warns_compat_only_on_its_check() {
    let mut problems = Vec::new();
    for &(id, deviation) in reference::SHOULD_HALVES {
        let url = reference::start(deviation).await;
        for (profile, expected) in [
            (Profile::Strict, Status::Fail),
            (Profile::Compat, Status::Warn),
        ] {
            let report = run(&target(url.clone()), profile, None, &faults(), 0)
                .await
                .unwrap();
            let off: Vec<String> = report
                .verdicts
                .iter()
                .filter(|v| {
                    let wanted = if v.check.id == id {
                        expected
                    } else {
                        Status::Pass
                    };
                    v.status != wanted
                })
                .map(|v| {
                    format!(
                        "{deviation} {profile:?}: {} {:?} {}",
                        v.check.id, v.status, v.evidence
                    )
                })
                .collect();
            problems.extend(off);
        }
    }
    assert!(problems.is_empty(), "{problems:#?}");
}

#[tokio::test]
async fn legal_sse_a_naive_reader_gets_wrong_passes_strictly() {
    for &variant in reference::LEGAL_SSE_VARIANTS {
        let report = strict_report(reference::start(variant).await).await;
        let not_passing = not_passing(&report);
        assert!(not_passing.is_empty(), "{variant}: {not_passing:#?}");
    }
}

#[tokio::test]
async fn a_valid_request_answered_wrongly_is_a_finding_never_a_skip() {
    for &(misbehaviour, expected) in reference::MISBEHAVIOURS {
        let report = strict_report(reference::start(misbehaviour).await).await;
        assert_eq!(
            failed_checks(&report),
            expected,
            "{misbehaviour}: {:#?}",
            not_passing(&report)
        );
        let not_failed_not_passed: Vec<String> = not_passing(&report)
            .into_iter()
            .filter(|line| !line.contains(" Fail: "))
            .collect();
        assert!(
            not_failed_not_passed.is_empty(),
            "{misbehaviour}: {not_failed_not_passed:#?}"
        );
    }
}

#[tokio::test]
async fn a_check_over_several_probes_names_each_probes_outcome() {
    let report = strict_report(reference::start("misbehave:n2-500").await).await;
    let evidence = &report.verdict("SSE-001").unwrap().evidence;
    for line in [
        "stream_basic: ok",
        "stream_usage: ok",
        "stream_tool: ok",
        "not judged, stream_n2: HTTP 500",
        "stream_logprobs: ok",
    ] {
        assert!(evidence.contains(line), "{line:?} not in {evidence}");
    }
}

#[tokio::test]
async fn every_check_fails_on_its_own_deviation_and_only_there() {
    let mut problems = Vec::new();
    for check in checks::all() {
        let id = check.def.id;
        let failed = failing(id).await;
        let failed_ids: BTreeSet<&str> = failed
            .iter()
            .map(|f| f.split(' ').next().unwrap())
            .collect();
        let mut expected: BTreeSet<&str> = also_failing(id).iter().copied().collect();
        expected.insert(id);
        if failed_ids != expected {
            problems.push(format!("{id}: expected {expected:?}, got {failed:#?}"));
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[tokio::test]
async fn auth_is_judged_only_when_expected_and_then_both_keyless_and_wrong_keys_fail() {
    let url = reference::start("HTTP-004:keyless").await;
    let expected = strict_report(url.clone()).await;
    let verdict = expected.verdict("HTTP-004").unwrap();
    assert_eq!(verdict.status, Status::Fail, "{}", verdict.evidence);
    assert!(
        verdict.evidence.contains("without key: HTTP 200"),
        "{}",
        verdict.evidence
    );

    let not_expected = Target {
        expect_auth: false,
        ..target(url)
    };
    let report = run(&not_expected, Profile::Strict, None, &faults(), 0)
        .await
        .unwrap();
    let verdict = report.verdict("HTTP-004").unwrap();
    assert_eq!(verdict.status, Status::Skip);
    assert!(
        verdict.evidence.contains("keyless requests are accepted"),
        "{}",
        verdict.evidence
    );
}

#[tokio::test]
async fn a_prompt_over_the_context_must_be_refused_before_any_sse_byte() {
    let report = strict_report(reference::start("HTTP-003:context").await).await;
    assert_eq!(
        failed_checks(&report),
        ["HTTP-003"],
        "{:#?}",
        not_passing(&report)
    );
    let evidence = &report.verdict("HTTP-003").unwrap().evidence;
    assert!(
        evidence.starts_with("over_context_stream: HTTP 200"),
        "{evidence}"
    );
}

#[tokio::test]
async fn compat_turns_should_failures_into_warnings() {
    let url = reference::start("NS-005").await;
    let report = run(&target(url), Profile::Compat, None, &faults(), 0)
        .await
        .unwrap();
    assert_eq!(report.verdict("NS-005").unwrap().status, Status::Warn);
    assert!(!report.failed());
}

/// Runs against a target expected to be impossible to judge, returning the runner's error.
async fn unjudgeable(url: String) -> conformance::RunError {
    run(
        &target(url),
        Profile::Strict,
        None,
        &FaultPrompts::default(),
        0,
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn an_unreachable_target_is_a_runner_error_not_a_crash() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let error = unjudgeable(url).await;
    assert!(error.to_string().starts_with("cannot reach"), "{error}");
}

#[tokio::test]
async fn an_html_server_is_not_openai_compatible() {
    let app = axum::Router::new()
        .fallback(|| async { axum::response::Html("<html><body>Welcome to nginx!</body></html>") });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let error = unjudgeable(url).await;
    assert!(
        error
            .to_string()
            .contains("does not look like an OpenAI-compatible API"),
        "{error}"
    );
}

/// A server whose `/v1/chat/completions` streams what `body` makes and whose `/v1/models` lists
/// nothing.
async fn streaming_server<S>(body: fn() -> S) -> String
where
    S: futures_util::Stream<Item = Result<String, std::convert::Infallible>> + Send + 'static,
{
    use axum::{body::Body, response::IntoResponse};
    let app = axum::Router::new()
        .route(
            "/v1/chat/completions",
            axum::routing::post(move || async move {
                (
                    [("content-type", "text/event-stream")],
                    Body::from_stream(body()),
                )
                    .into_response()
            }),
        )
        .route(
            "/v1/models",
            axum::routing::get(|| async {
                axum::Json(serde_json::json!({"object": "list", "data": []}))
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    url
}

/// The verdict of SSE-006 (a stream ends in `[DONE]`) on `target`.
async fn sse_006(target: &Target) -> conformance::Verdict {
    let report = run(
        target,
        Profile::Strict,
        Some("SSE-006,HTTP-001"),
        &FaultPrompts::default(),
        0,
    )
    .await
    .unwrap();
    report.verdict("SSE-006").unwrap().clone()
}

#[tokio::test]
async fn an_endless_stream_is_reported_as_cut_at_the_probe_deadline_not_blamed_on_the_server() {
    let forever = || {
        futures_util::stream::unfold((), |()| async {
            tokio::time::sleep(Duration::from_millis(20)).await;
            let event = "data: {\"object\":\"chat.completion.chunk\"}\n\n";
            Some((Ok(event.to_owned()), ()))
        })
    };
    let mut target = target(streaming_server(forever).await);
    target.timeout = Duration::from_millis(300);
    // The runner stopped reading, not the server: the stream is reported as cut, not as a
    // stream without [DONE].
    let verdict = sse_006(&target).await;
    assert_eq!(verdict.status, Status::Skip, "{}", verdict.evidence);
    assert!(
        verdict.evidence.contains("cut by the runner after")
            && verdict.evidence.contains("--timeout-ms"),
        "{}",
        verdict.evidence
    );
}

#[tokio::test]
async fn a_stream_whose_one_line_never_ends_is_reported_as_cut_at_the_body_limit() {
    // `data: xxxx…` with no newline, as fast as the runner reads.
    let one_line = || {
        let start = std::iter::once("data: ".to_owned());
        futures_util::stream::iter(
            start
                .chain(std::iter::repeat_with(|| "x".repeat(1024)))
                .map(Ok),
        )
    };
    let mut target = target(streaming_server(one_line).await);
    target.max_body = 256 * 1024;
    let verdict = sse_006(&target).await;
    assert_eq!(verdict.status, Status::Skip, "{}", verdict.evidence);
    assert!(
        verdict
            .evidence
            .contains("cut by the runner at 262144 bytes (--max-body-bytes)"),
        "{}",
        verdict.evidence
    );
}
