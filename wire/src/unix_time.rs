//! The wall clock as the wire writes it: Unix time, as OpenAI's `created` fields count it in
//! seconds. One reading for every crate, so that a reply's `created` and a judge's "now" agree.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// The time since the Unix epoch (zero on a clock set before it).
pub fn since_epoch() -> Duration {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default()
}

/// Unix seconds now.
pub fn unix_seconds() -> u64 {
    since_epoch().as_secs()
}
