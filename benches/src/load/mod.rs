//! The load benchmark's parts: servers in their own processes, probes that check what they
//! measure, open- and closed-loop generators, a TCP relay baseline, and the report. `run::run`
//! runs them; `src/bin/load.rs` is its command line.
//!
//! Imports run one way: `run.rs` (the default parts) and `keys.rs`, `limits.rs`, `hostile.rs`,
//! `soak.rs` (parts of their own) → `setup.rs` (starting the servers under test, the CPU-counting loop, progress) →
//! `probe.rs` (requests that check what they measure) and `generator.rs` (open and closed loops)
//! → `answer.rs` (what one request resolves to); `summary.rs`/`report.rs` render (`report::Judged` is what a judged part returns), and
//! `process.rs`, `plan.rs`, `scenario.rs`, `relay.rs` are floors.

pub mod answer;
pub mod generator;
pub mod hostile;
mod keys;
pub mod limits;
pub mod plan;
pub mod probe;
pub mod process;
pub mod relay;
pub mod report;
pub mod run;
pub mod scenario;
mod setup;
pub mod soak;
mod summary;
