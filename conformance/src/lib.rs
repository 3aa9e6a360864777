//! A conformance runner for OpenAI-compatible endpoints: Chat Completions, OpenAI's
//! Responses API and Anthropic's Messages API ([`Dialect`]).
//!
//! [`probes::observe`] sends a fixed set of requests and keeps the bytes; the 141 [`checks`]
//! (openai-conformance.md §9, the runner's own additions, the Responses and Messages groups) judge them,
//! each with evidence; a
//! [`Profile`] grades them; [`report`] writes the table, JSON, JUnit XML and Markdown;
//! [`transcript`] normalizes what was seen for snapshots. Checks never crash on a malformed
//! target: anything unexpected is a finding. Other crates' tests start from [`Conformance`], the
//! builder; the binary is [`cli::main`].
//!
//! The judge reads the wire with its own parsers (its SSE reader is `sse.rs`, its JSON views are
//! `serde_json` values), never with the `wire` types of what it judges; it takes only the
//! error-chain and clock helpers from `wire`.
//!
//! # Rooms
//!
//! Imports run from the top of this list down, never back up (a check in `scripts/` fails the
//! tests when a circle appears):
//!
//! - `cli.rs` → `harness.rs` (the builder) → `runner.rs` (probe, judge, score) → `report.rs`,
//!   `transcript.rs` (what a run writes).
//! - `checks/` (one file per section of the checklist; `mod.rs` holds the registry and the
//!   helpers every check uses) → `capability.rs` (repeated probes of optional features).
//! - `probes/` (`registry.rs` every probe once, name and request; `mod.rs` sends them;
//!   `observations.rs` keeps the replies; `stream_view.rs` reads a stream) → `exchange.rs` (one
//!   request sent and its reply kept, the target and its TLS trust) → `sse.rs` (the SSE reader).
//! - Floor: `check.rs` (a check's definition, outcome, verdict and the profiles).
#![forbid(unsafe_code)]

mod capability;
mod check;
pub mod checks;
pub mod cli;
mod exchange;
mod harness;
pub mod probes;
pub mod report;
pub mod runner;
mod sse;
pub mod transcript;

pub use capability::{CapabilityResult, Score};
pub use check::{CheckDef, Dialect, Group, Outcome, Profile, Severity, Status, Verdict};
pub use exchange::{Body, Credentials, Exchange, ProbeRequest, Secret, Target, Trust};
pub use harness::{Conformance, DEFAULT_MODEL};
pub use probes::FaultPrompts;
pub use runner::{DialectStatus, Report, RunError, run};
pub use sse::{Frame, Framing};
