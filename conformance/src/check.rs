//! What a check is (id, group, severity, description), what it found (an [`Outcome`] with
//! evidence), and how a profile turns that into a verdict.

use serde::Serialize;

/// How binding a rule is (openai-conformance.md §0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Severity {
    /// Required by the schema, or its violation breaks the official SDKs or strict clients.
    #[serde(rename = "MUST")]
    Must,
    /// OpenAI's behaviour or intent that compatible servers may relax.
    #[serde(rename = "SHOULD")]
    Should,
}

/// The checklist's sections.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Group {
    /// HTTP / transport.
    #[serde(rename = "HTTP")]
    Http,
    /// Non-streaming response.
    #[serde(rename = "NS")]
    NonStream,
    /// SSE framing.
    #[serde(rename = "SSE")]
    Sse,
    /// Streaming chunks.
    #[serde(rename = "STREAM")]
    Stream,
    /// Usage in streams.
    #[serde(rename = "USAGE")]
    Usage,
    /// Tool calls.
    #[serde(rename = "TOOL")]
    Tool,
    /// Errors.
    #[serde(rename = "ERR")]
    Err,
    /// Request validation.
    #[serde(rename = "REQ")]
    Req,
    /// Models.
    #[serde(rename = "MODELS")]
    Models,
    /// Response headers: request ids, rate-limit headers, `Retry-After`.
    #[serde(rename = "HDR")]
    Headers,
    /// Cross-origin access from browsers.
    #[serde(rename = "CORS")]
    Cors,
    /// Security hygiene.
    #[serde(rename = "SEC")]
    Security,
    /// `/v1/embeddings`.
    #[serde(rename = "EMB")]
    Embeddings,
    /// Chat request parameters judged by their effect, streamed and whole.
    #[serde(rename = "PARAM")]
    Param,
    /// OpenAI's Responses API (`/v1/responses`).
    #[serde(rename = "RESP")]
    Responses,
    /// Anthropic's Messages API (`/v1/messages`).
    #[serde(rename = "MSG")]
    Messages,
}

impl Group {
    /// The dialect whose probes the group judges.
    pub fn dialect(self) -> Dialect {
        match self {
            Group::Responses => Dialect::Responses,
            Group::Messages => Dialect::Messages,
            _ => Dialect::Chat,
        }
    }
}

/// An API a target may speak, each probed and judged on its own.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    /// Chat Completions and what goes with it (models, embeddings, CORS, headers).
    Chat,
    /// OpenAI's Responses API.
    Responses,
    /// Anthropic's Messages API.
    Messages,
}

impl Dialect {
    /// Every dialect, in the order they are probed.
    pub const ALL: [Dialect; 3] = [Dialect::Chat, Dialect::Responses, Dialect::Messages];

    /// Its name on the command line and in reports.
    pub fn name(self) -> &'static str {
        match self {
            Dialect::Chat => "chat",
            Dialect::Responses => "responses",
            Dialect::Messages => "messages",
        }
    }

    /// The route its first probe posts to, below the `/v1` root.
    pub fn path(self) -> &'static str {
        match self {
            Dialect::Chat => "/chat/completions",
            Dialect::Responses => "/responses",
            Dialect::Messages => "/messages",
        }
    }
}

/// A check's identity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct CheckDef {
    /// e.g. `STREAM-006`.
    pub id: &'static str,
    /// Section.
    pub group: Group,
    /// MUST or SHOULD.
    pub severity: Severity,
    /// One line.
    pub description: &'static str,
}

/// What a check found, before a profile grades it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "outcome", content = "evidence", rename_all = "snake_case")]
pub enum Outcome {
    /// The behaviour is as specified; the evidence says what was looked at.
    Pass(String),
    /// The behaviour is wrong; the evidence names the bytes, chunk or field.
    Fail(String),
    /// Only the SHOULD half of a rule with two severities is broken (a 422 where 400 is due, a
    /// 400 where 404 is due): fails `strict`, warns `compat`, whatever the check's severity.
    FailShould(String),
    /// Nothing to judge (the probe did not apply, or its prerequisite failed).
    Skip(String),
    /// The target declines an optional feature explicitly.
    Unsupported(String),
}

impl Outcome {
    /// Pass when `ok`, otherwise fail with `evidence`.
    pub fn expect(ok: bool, evidence: impl Into<String>) -> Self {
        if ok {
            Outcome::Pass(evidence.into())
        } else {
            Outcome::Fail(evidence.into())
        }
    }

    /// What the outcome rests on.
    pub fn evidence(&self) -> &str {
        match self {
            Outcome::Pass(evidence)
            | Outcome::Fail(evidence)
            | Outcome::FailShould(evidence)
            | Outcome::Skip(evidence)
            | Outcome::Unsupported(evidence) => evidence,
        }
    }
}

/// Which deviations fail the run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Profile {
    /// Every MUST and SHOULD violation fails.
    Strict,
    /// MUST violations fail, SHOULD violations warn.
    Compat,
}

/// A graded result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// As specified.
    Pass,
    /// Fails the run.
    Fail,
    /// A SHOULD deviation under the compat profile.
    Warn,
    /// Not judged.
    Skip,
    /// Optional feature declined.
    Unsupported,
}

impl Status {
    /// A short label for tables.
    pub fn label(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "FAIL",
            Status::Warn => "warn",
            Status::Skip => "skip",
            Status::Unsupported => "unsupported",
        }
    }
}

/// One check's verdict under a profile.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Verdict {
    /// The check.
    #[serde(flatten)]
    pub check: CheckDef,
    /// Graded status.
    pub status: Status,
    /// What decided it.
    pub evidence: String,
}

impl Verdict {
    /// Grades `outcome` of `check` under `profile`.
    pub fn grade(check: CheckDef, outcome: Outcome, profile: Profile) -> Self {
        let (status, evidence) = match outcome {
            Outcome::Pass(evidence) => (Status::Pass, evidence),
            Outcome::Fail(evidence) => match (check.severity, profile) {
                (Severity::Should, Profile::Compat) => (Status::Warn, evidence),
                _ => (Status::Fail, evidence),
            },
            Outcome::FailShould(evidence) => match profile {
                Profile::Compat => (Status::Warn, format!("SHOULD: {evidence}")),
                Profile::Strict => (Status::Fail, format!("SHOULD: {evidence}")),
            },
            Outcome::Skip(evidence) => (Status::Skip, evidence),
            Outcome::Unsupported(evidence) => (Status::Unsupported, evidence),
        };
        Verdict {
            check,
            status,
            evidence,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOULD: CheckDef = CheckDef {
        id: "X-1",
        group: Group::Http,
        severity: Severity::Should,
        description: "d",
    };

    #[test]
    fn compat_downgrades_should_failures_to_warnings() {
        let fail = || Outcome::Fail("e".into());
        assert_eq!(
            Verdict::grade(SHOULD, fail(), Profile::Compat).status,
            Status::Warn
        );
        assert_eq!(
            Verdict::grade(SHOULD, fail(), Profile::Strict).status,
            Status::Fail
        );
        let must = CheckDef {
            severity: Severity::Must,
            ..SHOULD
        };
        assert_eq!(
            Verdict::grade(must, fail(), Profile::Compat).status,
            Status::Fail
        );
    }

    #[test]
    fn a_broken_should_half_fails_strict_and_warns_compat_even_on_a_must_check() {
        let must = CheckDef {
            severity: Severity::Must,
            ..SHOULD
        };
        let half = || Outcome::FailShould("422".into());
        let strict = Verdict::grade(must, half(), Profile::Strict);
        assert_eq!(strict.status, Status::Fail);
        assert_eq!(strict.evidence, "SHOULD: 422");
        assert_eq!(
            Verdict::grade(must, half(), Profile::Compat).status,
            Status::Warn
        );
    }
}
