//! `https://` upstreams: a backend whose certificate is trusted through its `ca_cert` is reached
//! (both kinds, whole and streamed), one whose certificate is not is a 502 that says why, and a
//! `ca_cert` that cannot be read is refused at start.
#![allow(clippy::unwrap_used)]

mod common;

use common::{Harness, chat};
use gateway::{BackendKind, Config, Gateway};
use mock_ollama::{Flavor, MockOllama, Scenario, TlsIdentity};
use serde_json::json;

/// A mock over TLS with a fresh self-signed certificate, behind a gateway whose one backend of
/// `kind` trusts it through `ca_cert` when `trusted`.
async fn harness(kind: BackendKind, trusted: bool) -> (Harness, tempfile::TempDir) {
    harness_with(TlsIdentity::localhost().unwrap(), kind, trusted).await
}

/// [`harness`] with the upstream presenting `identity`.
async fn harness_with(
    identity: TlsIdentity,
    kind: BackendKind,
    trusted: bool,
) -> (Harness, tempfile::TempDir) {
    let mock = MockOllama::builder()
        .scenario(Scenario::builtin())
        .flavor(Flavor::Openai)
        .start_tls(&identity)
        .await
        .unwrap();
    assert!(mock.url().starts_with("https://"));
    let dir = tempfile::tempdir().unwrap();
    let ca_cert = dir.path().join("upstream-ca.pem");
    std::fs::write(&ca_cert, &identity.certificate_pem).unwrap();
    let base_url = match kind {
        BackendKind::Ollama => mock.url(),
        BackendKind::Openai => format!("{}/v1", mock.url()),
    };
    let mut config = Config::single_ollama("tls", base_url);
    config.backends[0].kind = kind;
    config.backends[0].ca_cert = trusted.then_some(ca_cert);
    let gateway = Gateway::start(config).await.unwrap();
    let harness = Harness {
        mock,
        gateway,
        client: reqwest::Client::new(),
    };
    (harness, dir)
}

#[tokio::test]
async fn a_backend_whose_certificate_is_its_ca_cert_answers_whole_and_streamed() {
    for kind in [BackendKind::Ollama, BackendKind::Openai] {
        let (h, _dir) = harness(kind, true).await;
        let whole = h
            .post(
                "/v1/chat/completions",
                &chat("llama3.2", "hello", json!({})),
            )
            .await;
        assert_eq!(whole.status, 200, "{kind:?}: {}", whole.body);
        assert!(whole.json()["choices"][0]["message"]["content"].is_string());
        let streamed = h
            .post(
                "/v1/chat/completions",
                &chat("llama3.2", "hello", json!({"stream": true})),
            )
            .await;
        assert_eq!(streamed.status, 200, "{kind:?}: {}", streamed.body);
        assert_eq!(streamed.events().last(), Some(&json!("[DONE]")));
        let chat_path = match kind {
            BackendKind::Ollama => "/api/chat",
            BackendKind::Openai => "/v1/chat/completions",
        };
        assert_eq!(
            h.mock.requests_to(chat_path).len(),
            2,
            "{kind:?}: both reached the mock"
        );
    }
}

#[tokio::test]
async fn an_openssl_made_self_signed_certificate_is_trusted_as_ca_cert() {
    for kind in [BackendKind::Ollama, BackendKind::Openai] {
        let identity = TlsIdentity::openssl_style().unwrap();
        let (h, _dir) = harness_with(identity, kind, true).await;
        for stream in [false, true] {
            let reply = h
                .post(
                    "/v1/chat/completions",
                    &chat("llama3.2", "hello", json!({"stream": stream})),
                )
                .await;
            assert_eq!(
                reply.status, 200,
                "{kind:?} stream={stream}: {}",
                reply.body
            );
        }
    }
}

#[tokio::test]
async fn an_untrusted_certificate_is_a_502_naming_the_certificate_and_no_address() {
    let (h, _dir) = harness(BackendKind::Ollama, false).await;
    let reply = h
        .post(
            "/v1/chat/completions",
            &chat("llama3.2", "hello", json!({})),
        )
        .await;
    assert_eq!(reply.status, 502, "{}", reply.body);
    let error = &reply.json()["error"];
    assert_eq!(error["code"], "upstream_unavailable");
    assert_eq!(
        error["message"],
        "The upstream tls could not be reached: TLS certificate not trusted."
    );
    assert!(h.mock.journal().is_empty(), "no request got through");
}

#[tokio::test]
async fn a_ca_cert_that_cannot_be_used_is_refused_at_start() {
    let dir = tempfile::tempdir().unwrap();
    let not_pem = dir.path().join("not.pem");
    std::fs::write(&not_pem, "no certificate here\n").unwrap();
    for (path, expected) in [
        (dir.path().join("missing.pem"), "missing.pem"),
        (not_pem, "no PEM certificate"),
    ] {
        let mut config = Config::single_ollama("tls", "https://127.0.0.1:9".to_owned());
        config.backends[0].ca_cert = Some(path);
        let error = Gateway::start(config).await.unwrap_err().to_string();
        assert!(error.contains("backend \"tls\""), "{error}");
        assert!(error.contains(expected), "{error}");
    }
}
