//! The runner as other crates' tests use it: [`Conformance`] says what to judge and how, step by
//! step, and [`Report::assert_conformant`] fails a test with the report's table.
//!
//! ```no_run
//! # async fn example() -> Result<(), conformance::RunError> {
//! use conformance::{Conformance, FaultPrompts, Profile};
//!
//! Conformance::new("http://127.0.0.1:8080/v1")
//!     .model("llama3.2")
//!     .profile(Profile::Strict)
//!     .fault_prompts(FaultPrompts::mock_ollama())
//!     .run()
//!     .await?
//!     .assert_conformant();
//! # Ok(())
//! # }
//! ```

use std::time::Duration;

use crate::{
    check::{Profile, Status, Verdict},
    exchange::Target,
    probes::FaultPrompts,
    report,
    runner::{self, Report, RunError},
};

/// The model [`Conformance::new`] probes until [`Conformance::model`] names another: the chat
/// model mock-ollama serves out of the box.
pub const DEFAULT_MODEL: &str = "llama3.2";

/// A conformance run of one endpoint, configured step by step; [`Conformance::run`] probes it.
#[derive(Debug, Clone)]
pub struct Conformance {
    target: Target,
    profile: Profile,
    checks: Option<String>,
    faults: FaultPrompts,
    capability_repeats: usize,
}

impl Conformance {
    /// Judges the endpoint whose `/v1` root is `base_url` (e.g. `http://127.0.0.1:8080/v1`), with
    /// model [`DEFAULT_MODEL`], under the strict profile, every check, no fault prompts, and
    /// the [`Target::new`] defaults for everything else.
    pub fn new(base_url: impl Into<String>) -> Self {
        Self {
            target: Target::new(base_url, DEFAULT_MODEL),
            profile: Profile::Strict,
            checks: None,
            faults: FaultPrompts::default(),
            capability_repeats: 3,
        }
    }

    /// The model every chat probe asks for.
    pub fn model(mut self, model: impl Into<String>) -> Self {
        self.target.model = model.into();
        self
    }

    /// The grading profile: [`Profile::Strict`] fails every MUST and SHOULD violation,
    /// [`Profile::Compat`] only warns on SHOULDs.
    pub fn profile(mut self, profile: Profile) -> Self {
        self.profile = profile;
        self
    }

    /// The key sent as `Authorization: Bearer`.
    pub fn api_key(mut self, key: impl Into<String>) -> Self {
        self.target.api_key = Some(key.into());
        self
    }

    /// The endpoint must refuse requests without the key, or with a wrong one, with a 401
    /// envelope (HTTP-004); without this the report only says whether it accepts them.
    pub fn expect_auth(mut self) -> Self {
        self.target.expect_auth = true;
        self
    }

    /// Only the checks whose ids start with one of these comma-separated prefixes
    /// (`"STREAM,ERR-009"`).
    pub fn checks(mut self, prefixes: impl Into<String>) -> Self {
        self.checks = Some(prefixes.into());
        self
    }

    /// Probes and judges only these dialects (all by default), as `--dialects` does.
    pub fn dialects(mut self, dialects: impl IntoIterator<Item = crate::Dialect>) -> Self {
        self.target.dialects = dialects.into_iter().collect();
        self
    }

    /// The prompts that make the endpoint fail on purpose, for the error checks that need a
    /// failure; [`FaultPrompts::mock_ollama`] when it stands in front of mock-ollama.
    pub fn fault_prompts(mut self, faults: FaultPrompts) -> Self {
        self.faults = faults;
        self
    }

    /// Attempts per model-capability probe (forced tool call, structured output, stop); 0
    /// skips them. Capabilities are informational: they never fail a run.
    pub fn capability_repeats(mut self, repeats: usize) -> Self {
        self.capability_repeats = repeats;
        self
    }

    /// The per-probe deadline (an endless stream stops here).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.target.timeout = timeout;
        self
    }

    /// Anything else about the target: its extra headers, certificates, CORS origin, context
    /// window, embedding model, body sizes (every [`Target`] field is public).
    pub fn configure(mut self, change: impl FnOnce(&mut Target)) -> Self {
        change(&mut self.target);
        self
    }

    /// Probes the endpoint and judges it. An error means nothing could be judged: the endpoint
    /// did not answer, or does not speak OpenAI's API at all.
    pub async fn run(&self) -> Result<Report, RunError> {
        runner::run(
            &self.target,
            self.profile,
            self.checks.as_deref(),
            &self.faults,
            self.capability_repeats,
        )
        .await
    }
}

impl Report {
    /// The verdicts that failed under the run's profile.
    pub fn failures(&self) -> Vec<&Verdict> {
        self.verdicts
            .iter()
            .filter(|verdict| verdict.status == Status::Fail)
            .collect()
    }

    /// Panics, with the report's table and every failure's evidence in full, when any check
    /// failed under the run's profile; for tests.
    #[track_caller]
    pub fn assert_conformant(&self) {
        let failures = self.failures();
        if failures.is_empty() {
            return;
        }
        let mut message = format!(
            "{} of {} checks failed under the {:?} profile\n\n{}",
            failures.len(),
            self.verdicts.len(),
            self.profile,
            report::table(self)
        );
        for verdict in failures {
            message += &format!(
                "\n{} {}: {}\n  {}\n",
                verdict.check.id,
                verdict.status.label(),
                verdict.check.description,
                verdict.evidence
            );
        }
        panic!("{message}");
    }
}
