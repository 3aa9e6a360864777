//! What a refusal says, and how a key's standing is written: the measures, OpenAI's
//! `x-ratelimit-*` headers and their duration text. A leaf, so that the error envelope
//! ([`crate::error`]) can describe a refusal without knowing how limits are kept.

use axum::http::{HeaderMap, HeaderName, HeaderValue};

use super::window::Level;

/// Which limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Measure {
    /// Requests per minute.
    Requests,
    /// Tokens per minute.
    Tokens,
}

impl std::fmt::Display for Measure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Measure::Requests => "requests per min (RPM)",
            Measure::Tokens => "tokens per min (TPM)",
        })
    }
}

/// Where the key stands against its limits: the tightest window of each measure, as OpenAI's
/// `x-ratelimit-*` headers say it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Quota {
    /// Requests, when limited.
    pub requests: Option<Level>,
    /// Tokens, when limited.
    pub tokens: Option<Level>,
}

impl Quota {
    /// Adds the `x-ratelimit-{limit,remaining,reset}-{requests,tokens}` headers.
    pub fn write_headers(&self, headers: &mut HeaderMap) {
        let measures = [
            (
                self.requests,
                [
                    "x-ratelimit-limit-requests",
                    "x-ratelimit-remaining-requests",
                    "x-ratelimit-reset-requests",
                ],
            ),
            (
                self.tokens,
                [
                    "x-ratelimit-limit-tokens",
                    "x-ratelimit-remaining-tokens",
                    "x-ratelimit-reset-tokens",
                ],
            ),
        ];
        for (level, [limit, remaining, reset]) in measures {
            let Some(level) = level else { continue };
            headers.insert(
                HeaderName::from_static(limit),
                HeaderValue::from(level.limit),
            );
            headers.insert(
                HeaderName::from_static(remaining),
                HeaderValue::from(level.remaining),
            );
            if let Ok(value) = HeaderValue::try_from(duration_text(level.reset_ms)) {
                headers.insert(HeaderName::from_static(reset), value);
            }
        }
    }

    pub(super) fn tighten(slot: &mut Option<Level>, level: Level) {
        if slot.is_none_or(|held| level.remaining < held.remaining) {
            *slot = Some(level);
        }
    }
}

/// A duration as OpenAI's reset headers write it: `20ms`, `1s`, `6m0s`, `1.5s`.
pub fn duration_text(ms: u64) -> String {
    if ms < 1_000 {
        return format!("{ms}ms");
    }
    let (minutes, ms) = (ms / 60_000, ms % 60_000);
    let seconds = if ms % 1_000 == 0 {
        format!("{}s", ms / 1_000)
    } else {
        let text = format!("{:.3}", ms as f64 / 1_000.0);
        format!("{}s", text.trim_end_matches('0'))
    };
    if minutes > 0 {
        format!("{minutes}m{seconds}")
    } else {
        seconds
    }
}

/// A refused demand (see [`GatewayError::RateLimited`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// The key's name.
    pub key: String,
    /// The model, when the limit is the key × model one.
    pub model: Option<String>,
    /// Which limit.
    pub measure: Measure,
    /// Its value.
    pub limit: u64,
    /// What the request asked of it.
    pub requested: u64,
    /// Milliseconds until it fits; `None` when it never will.
    pub retry_after_ms: Option<u64>,
    /// The key's standing, for the headers.
    pub quota: Quota,
}
