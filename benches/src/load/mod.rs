//! The load benchmark's parts: servers in their own processes, probes that check what they
//! measure, open- and closed-loop generators, and the report. `src/bin/load.rs` runs them.

pub mod generator;
pub mod probe;
pub mod process;
pub mod relay;
pub mod report;
pub mod scenario;
