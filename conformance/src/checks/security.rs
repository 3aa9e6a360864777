//! Security hygiene (SEC-001..004): what an error tells an attacker, how unknown routes and
//! oversized bodies are answered, and whether a key comes back.

use std::sync::LazyLock;

use regex::Regex;

use super::{Check, check, exchange, need};
use crate::{
    check::Outcome,
    exchange::Exchange,
    probes::{Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "SEC-001",
        Security,
        Must,
        "error replies leak no stack trace, file path or internal URL",
        sec_001
    ),
    check!(
        "SEC-002",
        Security,
        Should,
        "an unknown route gets a JSON 404 with the error envelope",
        sec_002
    ),
    check!(
        "SEC-003",
        Security,
        Must,
        "an oversized body gets a 4xx envelope, never a reset or a 5xx (SHOULD: 413 or 400)",
        sec_003
    ),
    check!(
        "SEC-004",
        Security,
        Must,
        "no reply echoes a key, right or wrong",
        sec_004
    ),
];

/// What gives a server's insides away, by kind.
static LEAKS: LazyLock<Vec<(&'static str, Regex)>> = LazyLock::new(|| {
    [
        (
            "a stack trace",
            r"Traceback \(most recent call last\)|panicked at |stack backtrace:|goroutine \d+ \[|Exception in thread |\n\s+at [\w$.<>]+\(|File .[^\n]*., line \d+, in ",
        ),
        (
            "a file path",
            r#"(?:^|[\s"'(=:])/(?:home|root|usr|var|opt|srv|tmp|etc|app|workspace|build)/[^\s"']+|\b[A-Za-z]:\\[^\s"']+|\b[\w./-]+\.(?:py|rs|go|js|ts|java|rb|cpp|cc|c|h):\d+"#,
        ),
        (
            "an internal address",
            r"(?:^|[^\w.:/])(?:localhost|127(?:\.\d{1,3}){3}|10(?:\.\d{1,3}){3}|192\.168(?:\.\d{1,3}){2}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|0\.0\.0\.0|\[::1?\]):\d{2,5}\b",
        ),
        (
            "an HTTP library's error chain",
            r"error sending request for url|client error \((?:Connect|SendRequest)\)|hyper::Error|reqwest::Error|Os \{ code: \d+|OtherError\(|CaUsedAsEndEntity|UnknownIssuer",
        ),
        (
            "an internal URL",
            r#"https?://(?:localhost|127(?:\.\d{1,3}){3}|10(?:\.\d{1,3}){3}|192\.168(?:\.\d{1,3}){2}|172\.(?:1[6-9]|2\d|3[01])(?:\.\d{1,3}){2}|0\.0\.0\.0|\[::1?\]|[\w.-]+\.(?:internal|local|svc|lan))(?::\d+)?[^\s"']*"#,
        ),
    ]
    .into_iter()
    .map(|(kind, pattern)| (kind, Regex::new(pattern).expect("leak pattern compiles")))
    .collect()
});

/// What in `text` gives the server's insides away; the target's own URL is not a leak.
fn leak(text: &str, base_url: &str) -> Option<String> {
    let own = base_url
        .split("://")
        .nth(1)
        .and_then(|rest| rest.split('/').next())
        .unwrap_or("");
    LEAKS.iter().find_map(|(kind, pattern)| {
        pattern
            .find_iter(text)
            .map(|found| found.as_str().trim())
            .find(|found| {
                !kind.starts_with("an internal") || own.is_empty() || !found.contains(own)
            })
            .map(|found| format!("{kind}: {:?}", crate::exchange::clip(found.to_owned(), 80)))
    })
}

/// Every error a client can read: non-2xx bodies and error events inside streams.
fn error_texts(o: &Observations) -> Vec<(&'static str, String)> {
    let mut texts: Vec<(&'static str, String)> = o
        .exchanges
        .values()
        .filter(|e| e.status.is_some_and(|s| s >= 400))
        .map(|e| (e.probe, e.text()))
        .collect();
    for (probe, view) in &o.streams {
        for (_, error) in &view.errors {
            texts.push((probe, error.to_string()));
        }
    }
    texts
}

fn sec_001(o: &Observations) -> Outcome {
    let texts = error_texts(o);
    let leaks: Vec<String> = texts
        .iter()
        .filter_map(|(probe, text)| leak(text, &o.base_url).map(|l| format!("{probe}: {l}")))
        .collect();
    super::all_clear(texts.len(), leaks, "error replies")
}

fn enveloped(exchange: &Exchange) -> bool {
    exchange
        .json()
        .is_some_and(|body| body["error"]["message"].is_string())
}

fn sec_002(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::UNKNOWN_ROUTE));
    Outcome::expect(
        exchange.status == Some(404) && enveloped(exchange),
        exchange.summary(),
    )
}

fn sec_003(o: &Observations) -> Outcome {
    let exchange = need!(exchange(o, name::OVERSIZED_BODY));
    if let Some(cut) = exchange.cut() {
        return Outcome::Skip(format!("{}: {cut}", name::OVERSIZED_BODY));
    }
    let evidence = exchange.summary();
    match exchange.status {
        Some(413 | 400) if enveloped(exchange) => Outcome::Pass(evidence),
        Some(400..=499) if enveloped(exchange) => Outcome::FailShould(evidence),
        Some(200..=299) => Outcome::FailShould(format!(
            "accepted an oversized body (no request size limit below it): {evidence}"
        )),
        _ => Outcome::Fail(evidence),
    }
}

fn sec_004(o: &Observations) -> Outcome {
    let mut echoes = Vec::new();
    for exchange in o.exchanges.values() {
        let body = exchange.text();
        for secret in &o.secrets {
            let in_headers = exchange
                .headers
                .iter()
                .any(|(_, value)| value.contains(&secret.0));
            if in_headers || body.contains(&secret.0) {
                let which = if secret.0 == crate::exchange::WRONG_KEY {
                    "the wrong key"
                } else {
                    "a key or --header value"
                };
                let place = if in_headers { "headers" } else { "body" };
                echoes.push(format!("{}: {which} in the {place}", exchange.probe));
            }
        }
    }
    super::all_clear(o.exchanges.len(), echoes, "replies without a key")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leaks_are_found_and_public_urls_and_the_targets_own_are_not() {
        let base = "http://127.0.0.1:8080/v1";
        for (text, kind) in [
            (
                "Traceback (most recent call last):\n  File \"/app/x.py\", line 3, in f",
                "a stack trace",
            ),
            ("thread 'main' panicked at src/main.rs:3:5", "a stack trace"),
            ("cannot open /home/ci/models/llama.gguf", "a file path"),
            ("error at server/routes.go:2117", "a file path"),
            (
                "upstream http://10.0.3.7:11434/api/chat refused",
                "an internal URL",
            ),
            ("upstream http://localhost:11434 refused", "an internal URL"),
            (
                "backend at 10.0.3.7:11434 could not be reached",
                "an internal address",
            ),
            (
                "error sending request for url (https://api.example.com/v1/chat/completions)",
                "an HTTP library's error chain",
            ),
            (
                "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
                "an HTTP library's error chain",
            ),
        ] {
            let found = leak(text, base).unwrap_or_default();
            assert!(found.starts_with(kind), "{text:?}: {found:?}");
        }
        for clean in [
            "Incorrect API key provided",
            "see https://errors.pydantic.dev/2.11/v/string_type",
            "Unknown request URL: GET http://127.0.0.1:8080/v1/nope",
            "This model's maximum context length is 4096 tokens.",
            "upstream_unavailable: the backend ollama-1 refused the connection",
            "try 127.0.0.1:8080 again later",
            "version 1.2.3.4:5 of the schema",
        ] {
            assert_eq!(leak(clean, base), None, "{clean:?}");
        }
    }
}
