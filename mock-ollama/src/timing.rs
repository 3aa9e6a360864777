//! When each line leaves: time to first chunk, per-chunk delay or token rate, seeded jitter.
//!
//! A reply has a *virtual* timeline computed from the scenario; it decides `created_at` and the
//! reported durations, so output bytes never depend on the machine. Real sleeps are the virtual
//! delays multiplied by the mock's global time scale (0 = no sleeping, for tests).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::seed::DetRng;

/// How a reply is paced. All values are unscaled milliseconds (or tokens per second).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Timing {
    /// Delay before the first chunk (prompt evaluation).
    pub ttft_ms: f64,
    /// Delay between chunks; when unset, derived from `tokens_per_second`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub chunk_delay_ms: Option<f64>,
    /// Generation speed; one chunk is one token.
    pub tokens_per_second: f64,
    /// Each delay is moved by a seeded uniform amount in `[-jitter_ms, +jitter_ms]` (never below 0).
    pub jitter_ms: f64,
    /// Reported model load time.
    pub load_ms: f64,
}

impl Default for Timing {
    fn default() -> Self {
        Self {
            ttft_ms: 20.0,
            chunk_delay_ms: None,
            tokens_per_second: 50.0,
            jitter_ms: 0.0,
            load_ms: 1.0,
        }
    }
}

impl Timing {
    /// Delay before the first chunk, with jitter.
    pub fn first_chunk(&self, rng: &mut DetRng) -> Duration {
        self.jittered(self.ttft_ms, rng)
    }

    /// Delay between two chunks, with jitter.
    pub fn between_chunks(&self, rng: &mut DetRng) -> Duration {
        let base = self.chunk_delay_ms.unwrap_or_else(|| {
            if self.tokens_per_second > 0.0 {
                1000.0 / self.tokens_per_second
            } else {
                0.0
            }
        });
        self.jittered(base, rng)
    }

    /// Model load time.
    pub fn load(&self) -> Duration {
        millis(self.load_ms)
    }

    fn jittered(&self, base_ms: f64, rng: &mut DetRng) -> Duration {
        if self.jitter_ms > 0.0 {
            millis(base_ms + self.jitter_ms * rng.signed_unit())
        } else {
            millis(base_ms)
        }
    }
}

/// Milliseconds as a duration, clamping negatives and NaN to zero.
pub fn millis(ms: f64) -> Duration {
    if ms.is_finite() && ms > 0.0 {
        Duration::from_secs_f64(ms / 1000.0)
    } else {
        Duration::ZERO
    }
}

/// Scales a virtual delay into a real one.
pub fn scaled(delay: Duration, time_scale: f64) -> Duration {
    if time_scale > 0.0 && time_scale.is_finite() {
        delay.mul_f64(time_scale)
    } else {
        Duration::ZERO
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn token_rate_sets_the_gap_unless_a_delay_is_given() {
        let mut rng = DetRng::new(1);
        let timing = Timing {
            tokens_per_second: 100.0,
            ..Timing::default()
        };
        assert_eq!(timing.between_chunks(&mut rng), Duration::from_millis(10));
        let fixed = Timing {
            chunk_delay_ms: Some(3.0),
            ..timing
        };
        assert_eq!(fixed.between_chunks(&mut rng), Duration::from_millis(3));
    }

    #[test]
    fn jitter_stays_within_bounds_and_is_seeded() {
        let timing = Timing {
            chunk_delay_ms: Some(10.0),
            jitter_ms: 4.0,
            ..Timing::default()
        };
        let mut a = DetRng::new(9);
        let mut b = DetRng::new(9);
        for _ in 0..100 {
            let gap = timing.between_chunks(&mut a);
            assert!(gap >= Duration::from_millis(6) && gap <= Duration::from_millis(14));
            assert_eq!(gap, timing.between_chunks(&mut b));
        }
    }

    #[test]
    fn zero_scale_means_no_sleeping() {
        assert_eq!(scaled(Duration::from_secs(5), 0.0), Duration::ZERO);
        assert_eq!(
            scaled(Duration::from_millis(10), 0.5),
            Duration::from_millis(5)
        );
    }
}
