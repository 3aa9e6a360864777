//! Cross-origin access (CORS-001..003), probed with a foreign `Origin` and a browser's preflight.
//! A target may refuse browsers altogether; what it must never do is let any site call it with
//! the user's credentials.

use super::{Check, check, exchange, need};
use crate::{
    check::Outcome,
    exchange::Exchange,
    probes::{BROWSER_HEADERS, FOREIGN_ORIGIN, Observations, name},
};

pub const CHECKS: &[Check] = &[
    check!(
        "CORS-001",
        Cors,
        Must,
        "never Access-Control-Allow-Origin: * together with Allow-Credentials: true",
        cors_001
    ),
    check!(
        "CORS-002",
        Cors,
        Must,
        "a foreign origin is never reflected together with Allow-Credentials: true",
        cors_002
    ),
    check!(
        "CORS-003",
        Cors,
        Should,
        "where browsers are allowed, the preflight allows POST and the headers an OpenAI browser client sends",
        cors_003
    ),
];

fn credentialed(exchange: &Exchange) -> bool {
    exchange
        .header("access-control-allow-credentials")
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

fn allowed_origin(exchange: &Exchange) -> Option<&str> {
    exchange
        .header("access-control-allow-origin")
        .map(str::trim)
}

fn cors_001(o: &Observations) -> Outcome {
    let wildcard_with_credentials: Vec<&str> = o
        .exchanges
        .values()
        .filter(|e| allowed_origin(e) == Some("*") && credentialed(e))
        .map(|e| e.probe)
        .collect();
    Outcome::expect(
        wildcard_with_credentials.is_empty(),
        if wildcard_with_credentials.is_empty() {
            "no reply allows any origin with credentials".to_owned()
        } else {
            format!(
                "Allow-Origin: * with Allow-Credentials: true on {}",
                wildcard_with_credentials.join(", ")
            )
        },
    )
}

fn cors_002(o: &Observations) -> Outcome {
    let mut judged = Vec::new();
    let mut reflected = Vec::new();
    for probe in [name::CORS_FOREIGN, name::CORS_PREFLIGHT] {
        let exchange = need!(exchange(o, probe));
        if probe == name::CORS_PREFLIGHT && o.preflight_origin != FOREIGN_ORIGIN {
            continue;
        }
        judged.push(format!(
            "{probe}: Allow-Origin {:?}, Allow-Credentials {:?}",
            allowed_origin(exchange),
            exchange.header("access-control-allow-credentials")
        ));
        if allowed_origin(exchange) == Some(FOREIGN_ORIGIN) && credentialed(exchange) {
            reflected.push(probe);
        }
    }
    let evidence = format!("origin {FOREIGN_ORIGIN}: {}", judged.join("; "));
    Outcome::expect(reflected.is_empty(), evidence)
}

/// The names of a comma-separated header list, lower-cased.
fn listed(exchange: &Exchange, header: &str) -> Vec<String> {
    exchange
        .header(header)
        .unwrap_or("")
        .split(',')
        .map(|item| item.trim().to_ascii_lowercase())
        .filter(|item| !item.is_empty())
        .collect()
}

fn cors_003(o: &Observations) -> Outcome {
    let preflight = need!(exchange(o, name::CORS_PREFLIGHT));
    let origin = o.preflight_origin.as_str();
    let allowed = allowed_origin(preflight);
    if allowed.is_none_or(|a| a != "*" && a != origin) {
        let answer = format!(
            "the preflight from {origin} got {}, Allow-Origin {allowed:?}",
            preflight.summary()
        );
        return if origin == FOREIGN_ORIGIN {
            Outcome::Skip(format!(
                "{answer}: browsers are not allowed (give --origin to judge an origin that should be)"
            ))
        } else {
            Outcome::Fail(format!(
                "{answer}: the origin given by --origin is not allowed"
            ))
        };
    }
    // `*` means "any" only for requests without credentials.
    let wildcard_counts = !credentialed(preflight);
    let methods = listed(preflight, "access-control-allow-methods");
    let headers = listed(preflight, "access-control-allow-headers");
    let mut problems = Vec::new();
    if !preflight.is_success() {
        problems.push(format!("status {}", preflight.status.unwrap_or(0)));
    }
    let any = |list: &[String]| wildcard_counts && list.iter().any(|item| item == "*");
    if !(methods.iter().any(|m| m == "post") || any(&methods)) {
        problems.push(format!("Allow-Methods {methods:?} lacks POST"));
    }
    if !any(&headers) {
        let missing: Vec<&str> = BROWSER_HEADERS
            .iter()
            .copied()
            .filter(|h| !headers.iter().any(|allowed| allowed == h))
            .collect();
        if !missing.is_empty() {
            problems.push(format!("Allow-Headers lacks {}", missing.join(", ")));
        }
    }
    Outcome::expect(
        problems.is_empty(),
        if problems.is_empty() {
            format!("{origin} may POST with the SDK's headers")
        } else {
            format!("preflight from {origin}: {}", problems.join("; "))
        },
    )
}
