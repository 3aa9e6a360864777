//! The `conformance` binary as a CI job would run it: exit codes, report files, snapshot modes,
//! and a clear message (no stack trace) for a target it cannot judge.
#![allow(clippy::unwrap_used)]

mod reference;

use std::process::Command;

/// The `conformance` binary, ready for arguments.
fn conformance() -> Command {
    Command::new(env!("CARGO_BIN_EXE_conformance"))
}

/// Runs `command` off the async runtime, so in-process servers keep serving.
async fn output_of(mut command: Command) -> std::process::Output {
    tokio::task::spawn_blocking(move || command.output().unwrap())
        .await
        .unwrap()
}

/// Runs the binary against the reference server's key, fault prompts, context, origin,
/// embedding and thinking models and body limit, and `extra` flags.
async fn runner(url: &str, extra: &[&str]) -> std::process::Output {
    let context = reference::CONTEXT.to_string();
    let oversized = (2 * reference::BODY_LIMIT).to_string();
    let mut command = conformance();
    command
        .args([
            "--base-url",
            url,
            "--model",
            reference::MODEL,
            "--api-key",
            reference::KEY,
            "--expect-auth",
        ])
        .args([
            "--fault-prompt",
            reference::FAULT,
            "--rate-limit-prompt",
            reference::RATE,
            "--overload-prompt",
            reference::OVERLOAD,
        ])
        .args(["--context-tokens", &context, "--origin", reference::ORIGIN])
        .args(["--embedding-model", reference::MODEL])
        .args(["--thinking-model", reference::THINKER])
        .args(["--oversized-body-bytes", &oversized])
        .args(extra);
    output_of(command).await
}

/// A fresh directory for a test's files, removed (with the guard) when the test ends.
fn scratch(name: &str) -> (tempfile::TempDir, std::path::PathBuf) {
    let guard = tempfile::tempdir().unwrap();
    let dir = guard.path().join(name);
    std::fs::create_dir_all(&dir).unwrap();
    (guard, dir)
}

#[tokio::test]
async fn a_conformant_target_exits_0_and_writes_every_report() {
    let url = reference::start("").await;
    let (_scratch, dir) = scratch("ok");
    let output = runner(&url, &["--report-dir", dir.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("144 pass, 0 fail"), "{stdout}");
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert_eq!(junit.matches("<testcase ").count(), 144);
    assert!(junit.contains("failures=\"0\""));
    assert!(
        junit.contains("classname=\"responses.RESP\""),
        "test cases carry their dialect"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(json["verdicts"].as_array().unwrap().len(), 144);
    assert!(
        std::fs::read_to_string(dir.join("report.md"))
            .unwrap()
            .contains("| STREAM-006 | MUST | pass |")
    );
    assert!(dir.join("transcript.json").exists());
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_failing_must_exits_1_and_junit_names_it() {
    let url = reference::start("STREAM-006").await;
    let (_scratch, dir) = scratch("fail");
    let output = runner(&url, &["--report-dir", dir.to_str().unwrap()]).await;
    assert_eq!(output.status.code(), Some(1));
    let junit = std::fs::read_to_string(dir.join("junit.xml")).unwrap();
    assert!(
        junit.contains(
            "name=\"STREAM-006 the first delta of each choice has role assistant\"><failure"
        ),
        "{junit}"
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn a_should_deviation_only_warns_under_compat() {
    let url = reference::start("NS-008").await;
    assert_eq!(runner(&url, &[]).await.status.code(), Some(1));
    let compat = runner(&url, &["--profile", "compat"]).await;
    assert_eq!(compat.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&compat.stdout).contains("NS-008      SHOULD warn"));
}

#[tokio::test]
async fn the_check_filter_selects_by_prefix() {
    let url = reference::start("").await;
    let output = runner(&url, &["--checks", "SSE,MODELS-001"]).await;
    assert!(String::from_utf8_lossy(&output.stdout).contains("10 pass, 0 fail"));
}

#[tokio::test]
async fn snapshots_are_written_then_compared() {
    let url = reference::start("").await;
    let (_scratch, dir) = scratch("snap");
    let snapshot = dir.join("reference.json");
    assert_eq!(
        runner(&url, &["--update-snapshot", snapshot.to_str().unwrap()])
            .await
            .status
            .code(),
        Some(0)
    );
    assert_eq!(
        runner(&url, &["--snapshot", snapshot.to_str().unwrap()])
            .await
            .status
            .code(),
        Some(0)
    );
    let changed = reference::start("STREAM-013").await;
    let output = runner(
        &changed,
        &["--snapshot", snapshot.to_str().unwrap(), "--checks", "HTTP"],
    )
    .await;
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).contains("differs from"));
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_unreachable_target_is_a_one_line_error_with_exit_2() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    drop(listener);
    let output = runner(&url, &[]).await;
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.starts_with("conformance: cannot reach"), "{stderr}");
    assert!(!stderr.contains("panicked"));
}

#[tokio::test]
async fn matrix_compares_runs_side_by_side() {
    let (_scratch, dir) = scratch("matrix");
    let good = dir.join("reference");
    let bad = dir.join("deviant");
    runner(
        &reference::start("").await,
        &["--report-dir", good.to_str().unwrap()],
    )
    .await;
    runner(
        &reference::start("TOOL-005").await,
        &["--report-dir", bad.to_str().unwrap()],
    )
    .await;
    let output = conformance()
        .args([
            "matrix",
            good.join("report.json").to_str().unwrap(),
            bad.join("report.json").to_str().unwrap(),
        ])
        .output()
        .unwrap();
    let table = String::from_utf8(output.stdout).unwrap();
    assert!(
        table.starts_with("| check | severity | reference | deviant |"),
        "{table}"
    );
    assert!(
        table.contains("| TOOL-005 | MUST | pass | **FAIL** |"),
        "{table}"
    );
    assert!(table.contains("- **TOOL-005** fail: event #"), "{table}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[tokio::test]
async fn an_https_target_is_judged_when_its_certificate_is_trusted_and_refused_otherwise() {
    let identity = mock_ollama::TlsIdentity::localhost().unwrap();
    let url = reference::start_tls("", &identity).await;
    let (_scratch, dir) = scratch("tls");
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, &identity.certificate_pem).unwrap();

    let trusted = runner(&url, &["--ca-cert", ca.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&trusted.stdout);
    assert_eq!(trusted.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("144 pass, 0 fail"), "{stdout}");
    assert!(!stdout.contains("INSECURE"), "{stdout}");

    let untrusted = runner(&url, &[]).await;
    let stderr = String::from_utf8_lossy(&untrusted.stderr);
    assert_eq!(untrusted.status.code(), Some(2), "{stderr}");
    assert_eq!(stderr.trim().lines().count(), 1, "one line: {stderr}");
    assert!(stderr.contains("certificate"), "{stderr}");

    let report_dir = dir.join("insecure");
    let insecure = runner(
        &url,
        &["--insecure", "--report-dir", report_dir.to_str().unwrap()],
    )
    .await;
    let stdout = String::from_utf8_lossy(&insecure.stdout);
    assert_eq!(insecure.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("INSECURE"), "the table says so: {stdout}");
    for file in ["report.md", "junit.xml"] {
        let text = std::fs::read_to_string(report_dir.join(file)).unwrap();
        assert!(text.contains("INSECURE"), "{file} says so");
    }
    let json = std::fs::read_to_string(report_dir.join("report.json")).unwrap();
    assert!(json.contains("\"tls_verified\": false"), "{json}");
}

#[tokio::test]
async fn an_openssl_made_self_signed_certificate_works_as_ca_cert() {
    let identity = mock_ollama::TlsIdentity::openssl_style().unwrap();
    let url = reference::start_tls("", &identity).await;
    let (_scratch, dir) = scratch("openssl-tls");
    let ca = dir.join("self-signed.pem");
    std::fs::write(&ca, &identity.certificate_pem).unwrap();
    let trusted = runner(&url, &["--ca-cert", ca.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&trusted.stdout);
    assert_eq!(trusted.status.code(), Some(0), "{stdout}");
    assert!(stdout.contains("144 pass, 0 fail"), "{stdout}");
}

#[tokio::test]
async fn extra_headers_reach_the_target_but_never_a_report() {
    let mock = mock_ollama::MockOllama::builder()
        .flavor(mock_ollama::Flavor::Openai)
        .start()
        .await
        .unwrap();
    let (_scratch, dir) = scratch("headers");
    let mut command = conformance();
    command
        .args([
            "--base-url",
            &format!("{}/v1", mock.url()),
            "--model",
            "llama3.2",
        ])
        .args([
            "--header",
            "api-key: azure-secret-0123456789",
            "--checks",
            "NS,MODELS",
        ])
        .args([
            "--capability-repeats",
            "0",
            "--report-dir",
            dir.to_str().unwrap(),
        ]);
    let output = output_of(command).await;
    assert!(
        matches!(output.status.code(), Some(0 | 1)),
        "judged: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let sent = mock.requests_to("/v1/chat/completions");
    assert!(!sent.is_empty());
    // Every probe carries it but the three that must not: no key, a wrong key, and the
    // browser's preflight.
    let keyed = sent
        .iter()
        .filter(|entry| {
            entry.headers.get("api-key").map(String::as_str) == Some("azure-secret-0123456789")
        })
        .count();
    assert_eq!(keyed, sent.len() - 3);
    for file in std::fs::read_dir(&dir).unwrap() {
        let text = std::fs::read_to_string(file.unwrap().path()).unwrap();
        assert!(!text.contains("0123456789"), "{text}");
    }
    assert!(!String::from_utf8_lossy(&output.stdout).contains("0123456789"));
}

#[tokio::test]
async fn a_server_sending_random_bytes_gets_a_report_and_exit_1() {
    use std::sync::atomic::{AtomicU64, Ordering};
    // Every reply: a status, a content type claiming the API, and bytes from a fixed-seed
    // generator (so a failure reproduces), SSE-looking or not.
    static REQUESTS: AtomicU64 = AtomicU64::new(0);
    let app = axum::Router::new().fallback(|| async {
        let n = REQUESTS.fetch_add(1, Ordering::Relaxed);
        let mut state = n.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let mut bytes: Vec<u8> = (0..64 + n % 200)
            .map(|_| {
                state ^= state << 13;
                state ^= state >> 7;
                state ^= state << 17;
                (state >> 24) as u8
            })
            .collect();
        if n.is_multiple_of(3) {
            bytes.splice(0..0, b"data: {\"choices\":[".iter().copied());
        }
        let content_type = ["text/event-stream", "application/json"][(n % 2) as usize];
        let status = [200u16, 200, 400, 500][(n % 4) as usize];
        (
            axum::http::StatusCode::from_u16(status).unwrap(),
            [("content-type", content_type)],
            bytes,
        )
    });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/v1", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let (_scratch, dir) = scratch("random");
    let output = runner(&url, &["--report-dir", dir.to_str().unwrap()]).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(1),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(
        report["verdicts"].as_array().unwrap().len(),
        144,
        "every check judged"
    );
}

#[tokio::test]
async fn proxies_come_from_the_environment() {
    // The proxy: mock-ollama's recorder forwarding to the reference server. The target's host
    // does not resolve, so a judged run proves every probe went through HTTP_PROXY.
    let url = reference::start("").await;
    let upstream = url.trim_end_matches("/v1");
    let (_scratch, dir) = scratch("proxy");
    let proxy = mock_ollama::MockOllama::builder()
        .recorder(mock_ollama::Recorder::new(upstream, dir.join("seen")).unwrap())
        .start()
        .await
        .unwrap();
    let mut command = conformance();
    command
        .env("HTTP_PROXY", proxy.url())
        .env_remove("NO_PROXY")
        .env_remove("no_proxy")
        .args(["--base-url", "http://conformance-target.invalid/v1"])
        .args(["--model", reference::MODEL, "--api-key", reference::KEY])
        .args(["--checks", "NS,MODELS", "--capability-repeats", "0"]);
    let output = output_of(command).await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(
        output.status.code(),
        Some(0),
        "{stdout}{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(
        !proxy.requests_to("/v1/models").is_empty(),
        "went through the proxy"
    );
}

#[tokio::test]
async fn flag_mistakes_are_one_line_errors_with_exit_2() {
    for (flags, message) in [
        (
            &["--header", "no-colon"][..],
            "--header \"no-colon\" is not 'Name: value'",
        ),
        (&["--expect-auth"][..], "--expect-auth needs the key"),
    ] {
        let mut command = conformance();
        command
            .args(["--base-url", "http://127.0.0.1:9/v1", "--model", "m"])
            .args(flags)
            .env_remove("CONFORMANCE_API_KEY");
        let output = output_of(command).await;
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{flags:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(stderr.contains(message), "{stderr}");
    }
}

#[tokio::test]
async fn dialects_left_out_or_not_served_are_said_once_and_their_checks_skipped() {
    let url = reference::start("").await;
    let (_scratch, dir) = scratch("dialects");
    let output = runner(
        &url,
        &["--dialects", "chat", "--report-dir", dir.to_str().unwrap()],
    )
    .await;
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("100 pass, 0 fail, 0 warn, 44 skip"),
        "{stdout}"
    );
    assert!(
        stdout.contains("- responses not selected: left out by --dialects"),
        "{stdout}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("report.json")).unwrap()).unwrap();
    assert_eq!(report["dialects"][1]["dialect"], "responses");
    assert_eq!(report["dialects"][1]["status"], "not selected");
    assert_eq!(report["dialects"][2]["dialect"], "messages");

    // llama-cpp-python has no /v1/responses: its 404 is said once.
    let mock = mock_ollama::MockOllama::builder()
        .flavor(mock_ollama::Flavor::LlamaCppPython)
        .start()
        .await
        .unwrap();
    let base = format!("{}/v1", mock.url());
    let mut command = Command::new(env!("CARGO_BIN_EXE_conformance"));
    command.args([
        "--base-url",
        &base,
        "--model",
        "llama3.2",
        "--dialects",
        "responses",
    ]);
    let unserved = output_of(command).await;
    let stdout = String::from_utf8_lossy(&unserved.stdout);
    assert_eq!(
        unserved.status.code(),
        Some(0),
        "skips fail nothing: {stdout}"
    );
    assert!(
        stdout.contains("- responses not served: POST /responses answered HTTP 404"),
        "{stdout}"
    );
    assert_eq!(
        stdout.matches("not served").count(),
        22,
        "one note, 21 skipped checks: {stdout}"
    );
}
