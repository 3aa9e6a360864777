//! The windows kept in this process: one mutex over every key's windows, held for one
//! admission's tests and charges, so that concurrent requests are admitted one at a time.

use std::{
    collections::HashMap,
    sync::{Mutex, MutexGuard},
    time::Instant,
};

use super::{
    Check, Measure, Scope, Verdict,
    window::{Fit, Window},
};

/// Every window of every key, in this process.
#[derive(Debug)]
pub struct LocalWindows {
    windows: Mutex<HashMap<(Scope, Measure), Window>>,
    started: Instant,
}

impl Default for LocalWindows {
    fn default() -> Self {
        Self {
            windows: Mutex::new(HashMap::new()),
            started: Instant::now(),
        }
    }
}

impl LocalWindows {
    fn now_ms(&self) -> u64 {
        u64::try_from(self.started.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<(Scope, Measure), Window>> {
        self.windows
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Tests every check, and charges each under `id` when all fit.
    pub fn admit(&self, checks: &[Check], id: u64) -> Verdict {
        let now = self.now_ms();
        let mut windows = self.lock();
        let fits: Vec<Fit> = checks
            .iter()
            .map(|check| {
                let window = windows
                    .entry((check.scope.clone(), check.measure))
                    .or_default();
                window.fit(now, check.limit, check.amount)
            })
            .collect();
        let admitted = fits.iter().all(|fit| *fit == Fit::Now);
        let levels = checks
            .iter()
            .map(|check| {
                let window = windows
                    .entry((check.scope.clone(), check.measure))
                    .or_default();
                if admitted {
                    window.charge(now, id, check.amount);
                }
                window.level(now, check.limit)
            })
            .collect();
        Verdict { fits, levels }
    }

    /// Settles charge `id` of each token window of `scopes` from `reserved` to `actual`.
    pub fn settle(&self, scopes: &[Scope], id: u64, reserved: u64, actual: u64, fresh_id: u64) {
        let now = self.now_ms();
        let mut windows = self.lock();
        for scope in scopes {
            if let Some(window) = windows.get_mut(&(scope.clone(), Measure::Tokens)) {
                window.settle(now, id, reserved, actual, fresh_id);
            }
        }
    }
}
