//! One run: probe the target, judge every selected check, grade under a profile.

use serde::Serialize;

use crate::{
    capability::{self, CapabilityResult},
    check::{Dialect, Outcome, Profile, Status, Verdict},
    checks,
    exchange::{Exchange, Target},
    probes::{self, FaultPrompts, Observations},
    transcript::Transcript,
};

/// Why a run could not judge anything.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// The HTTP client could not be set up (a bad `--ca-cert`).
    #[error("{0}")]
    Client(String),
    /// Nothing answered.
    #[error("cannot reach {url}: {detail}")]
    Unreachable {
        /// Base URL.
        url: String,
        /// Transport error.
        detail: String,
    },
    /// Something answered, but not with OpenAI's API.
    #[error("{url} does not look like an OpenAI-compatible API: {detail}")]
    NotOpenAi {
        /// Base URL.
        url: String,
        /// What came back instead.
        detail: String,
    },
}

/// The result of a run.
#[derive(Debug, Serialize)]
pub struct Report {
    /// Base URL.
    pub target: String,
    /// False when the run accepted any certificate (`--insecure`): an `https://` target's
    /// identity was not checked.
    pub tls_verified: bool,
    /// Model probed.
    pub model: String,
    /// Grading profile.
    pub profile: Profile,
    /// One verdict per selected check, in checklist order.
    pub verdicts: Vec<Verdict>,
    /// Each dialect: judged, not selected, or not served (its checks then skipped, said once
    /// here rather than in every check).
    pub dialects: Vec<DialectStatus>,
    /// Model-capability scores (informational: they do not fail the run).
    pub capabilities: Vec<CapabilityResult>,
    /// Probes whose reply the runner stopped reading at its own limits (`--timeout-ms`,
    /// `--max-body-bytes`), each with why: the checks reading them are skipped, not failed.
    pub cut: Vec<String>,
    /// What every probe saw, normalized.
    pub transcript: Transcript,
}

impl Report {
    /// True when any check failed under the profile.
    pub fn failed(&self) -> bool {
        self.verdicts.iter().any(|v| v.status == Status::Fail)
    }

    /// Counts per status: pass, fail, warn, skip, unsupported.
    pub fn counts(&self) -> [(Status, usize); 5] {
        [
            Status::Pass,
            Status::Fail,
            Status::Warn,
            Status::Skip,
            Status::Unsupported,
        ]
        .map(|status| {
            (
                status,
                self.verdicts.iter().filter(|v| v.status == status).count(),
            )
        })
    }

    /// The verdict of one check.
    pub fn verdict(&self, id: &str) -> Option<&Verdict> {
        self.verdicts.iter().find(|v| v.check.id == id)
    }
}

/// Whether a dialect was judged, and why not when it was not.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DialectStatus {
    /// The dialect.
    pub dialect: Dialect,
    /// `judged`, `not selected` or `not served`.
    pub status: &'static str,
    /// What decided it: the route's answer when it is not served.
    pub evidence: String,
}

impl DialectStatus {
    /// Whether its checks were judged.
    pub fn judged(&self) -> bool {
        self.status == "judged"
    }
}

/// Each dialect's status: not selected when `--dialects` left it out, not served when its first
/// probe's route answered 404 or 405 (the target has no such route), else judged. Chat is
/// always judged when selected: it is the API the runner exists for.
pub fn dialects(observations: &Observations) -> Vec<DialectStatus> {
    Dialect::ALL
        .into_iter()
        .map(|dialect| {
            let status = |status, evidence: String| DialectStatus {
                dialect,
                status,
                evidence,
            };
            if !observations.dialects.contains(&dialect) {
                return status("not selected", "left out by --dialects".to_owned());
            }
            let first = match dialect {
                Dialect::Chat => None,
                Dialect::Responses => observations.get(probes::name::RESP_BASIC),
                Dialect::Messages => observations.get(probes::name::MSG_BASIC),
            };
            match first {
                Some(exchange) if matches!(exchange.status, Some(404 | 405)) => status(
                    "not served",
                    format!("POST {} answered {}", dialect.path(), exchange.summary()),
                ),
                _ => status("judged", String::new()),
            }
        })
        .collect()
}

/// True when `id` is selected by `filter` (comma-separated prefixes such as `STREAM,ERR-00`).
pub fn selected(id: &str, filter: Option<&str>) -> bool {
    filter.is_none_or(|filter| {
        filter
            .split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .any(|prefix| id.starts_with(prefix))
    })
}

/// Judges already-made observations; the checks of a dialect that was not judged are skipped,
/// naming why.
pub fn judge(observations: &Observations, profile: Profile, filter: Option<&str>) -> Vec<Verdict> {
    let dialects = dialects(observations);
    checks::all()
        .into_iter()
        .filter(|check| selected(check.def.id, filter))
        .map(|check| {
            let dialect = check.def.group.dialect();
            let outcome = match dialects.iter().find(|d| d.dialect == dialect) {
                Some(unjudged) if !unjudged.judged() => {
                    Outcome::Skip(format!("{} {}", dialect.name(), unjudged.status))
                }
                _ => (check.run)(observations),
            };
            Verdict::grade(check.def, outcome, profile)
        })
        .collect()
}

/// Each reply the runner cut at its own limits, as `probe: why`.
pub fn cut(observations: &Observations) -> Vec<String> {
    observations
        .exchanges
        .values()
        .filter_map(|e| e.cut().map(|cut| format!("{}: {cut}", e.probe)))
        .collect()
}

/// Probes `target` and judges it; `capability_repeats` attempts per capability probe (0: none).
pub async fn run(
    target: &Target,
    profile: Profile,
    filter: Option<&str>,
    faults: &FaultPrompts,
    capability_repeats: usize,
) -> Result<Report, RunError> {
    let client = target.client().map_err(RunError::Client)?;
    let observations = probes::observe(&client, target, faults).await;
    let answered: Vec<_> = observations
        .exchanges
        .values()
        .filter(|e| e.status.is_some())
        .collect();
    if answered.is_empty() {
        let detail = observations
            .exchanges
            .values()
            .find_map(|e| e.error.clone())
            .unwrap_or_else(|| "no response".to_owned());
        return Err(RunError::Unreachable {
            url: target.base_url.clone(),
            detail,
        });
    }
    // Something that claims to speak the API (a JSON or SSE content type) is judged, however
    // broken; a web page answering every path is not the API at all.
    let claims_the_api = |e: &&Exchange| {
        e.json().is_some_and(|body| body.is_object())
            || matches!(
                e.media_type().as_deref(),
                Some("application/json" | "text/event-stream")
            )
    };
    if !answered.iter().any(claims_the_api) {
        let detail = observations
            .get(probes::name::NS_BASIC)
            .map(|e| e.summary())
            .unwrap_or_default();
        return Err(RunError::NotOpenAi {
            url: target.base_url.clone(),
            detail: format!("no JSON object in any reply; chat answered {detail}"),
        });
    }
    Ok(Report {
        target: target.base_url.clone(),
        tls_verified: !target.trust.insecure,
        model: target.model.clone(),
        profile,
        verdicts: judge(&observations, profile, filter),
        dialects: dialects(&observations),
        // The capability probes are chats.
        capabilities: if target.dialects.contains(&Dialect::Chat) {
            capability::probe(&client, target, capability_repeats).await
        } else {
            Vec::new()
        },
        cut: cut(&observations),
        transcript: Transcript::of(&observations),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_are_prefixes() {
        assert!(selected("STREAM-001", Some("STREAM")));
        assert!(selected("ERR-009", Some("NS, ERR-00")));
        assert!(!selected("ERR-010", Some("ERR-00")));
        assert!(selected("X", None));
    }
}
