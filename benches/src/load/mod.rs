//! The load benchmark's parts: servers in their own processes, probes that check what they
//! measure, open- and closed-loop generators, a TCP relay baseline, and the report. `run::run`
//! runs them; `src/bin/load.rs` is its command line.

pub mod generator;
mod keys;
pub mod limits;
pub mod plan;
pub mod probe;
pub mod process;
pub mod relay;
pub mod report;
pub mod run;
pub mod scenario;
mod summary;
