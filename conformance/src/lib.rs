//! A conformance runner for OpenAI-compatible Chat Completions endpoints.
//!
//! [`probes::observe`] sends a fixed set of requests and keeps the bytes; the 79 [`checks`] of
//! openai-conformance.md §9 judge them, each with evidence; a [`check::Profile`] grades them;
//! [`report`] writes the table, JSON, JUnit XML and Markdown; [`transcript`] normalizes what was
//! seen for snapshots. Checks never crash on a malformed target: anything unexpected is a finding.
//! Other crates' tests start from [`Conformance`], the builder in [`harness`].
#![forbid(unsafe_code)]

pub mod capability;
pub mod check;
pub mod checks;
pub mod cli;
pub mod exchange;
pub mod harness;
pub mod probes;
pub mod report;
pub mod runner;
pub mod sse;
pub mod transcript;

pub use check::{Outcome, Profile, Status, Verdict};
pub use exchange::{Target, Trust};
pub use harness::Conformance;
pub use probes::FaultPrompts;
pub use runner::{Report, RunError, run};
