//! One limit's sliding-window log, in this process: every charge of the last 60 seconds with its
//! time and amount (1 per request; tokens per reply). A demand is admitted when the charges still
//! inside the window plus the demand stay within the limit, so no 60 seconds ever hold more
//! than the limit — what "600 requests per minute" means to whoever configured it, with no
//! doubled burst at a fixed window's edge and no approximation. The cost is one entry per
//! admitted request in the window, bounded by the requests per minute themselves.

use std::collections::VecDeque;

/// The window's length.
pub const WINDOW_MS: u64 = 60_000;

/// Whether a demand fits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fit {
    /// Now.
    Now,
    /// After this many milliseconds, when enough charges have left the window.
    After(u64),
    /// Never: the demand alone is over the limit.
    Never,
}

/// What the window holds, for the `x-ratelimit-*` headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Level {
    /// The limit.
    pub limit: u64,
    /// What may still be charged now.
    pub remaining: u64,
    /// Milliseconds until every charge now in the window has left it.
    pub reset_ms: u64,
}

#[derive(Debug, Clone, Copy)]
struct Charge {
    at_ms: u64,
    id: u64,
    amount: u64,
}

/// The charges of the last [`WINDOW_MS`], oldest first.
#[derive(Debug, Default)]
pub struct Window {
    charges: VecDeque<Charge>,
    total: u64,
}

impl Window {
    /// Forgets the charges that left the window by `now_ms`.
    fn expire(&mut self, now_ms: u64) {
        while let Some(oldest) = self.charges.front()
            && oldest.at_ms + WINDOW_MS <= now_ms
        {
            self.total -= oldest.amount;
            self.charges.pop_front();
        }
    }

    /// Whether `amount` more fits under `limit` at `now_ms`, or when it will.
    pub fn fit(&mut self, now_ms: u64, limit: u64, amount: u64) -> Fit {
        self.expire(now_ms);
        if amount > limit {
            return Fit::Never;
        }
        let mut excess = (self.total + amount).saturating_sub(limit);
        if excess == 0 {
            return Fit::Now;
        }
        for charge in &self.charges {
            excess = excess.saturating_sub(charge.amount);
            if excess == 0 {
                return Fit::After((charge.at_ms + WINDOW_MS).saturating_sub(now_ms).max(1));
            }
        }
        Fit::After(WINDOW_MS)
    }

    /// Records a charge of `amount` at `now_ms`, under `id` (ids only grow).
    pub fn charge(&mut self, now_ms: u64, id: u64, amount: u64) {
        self.charges.push_back(Charge {
            at_ms: now_ms,
            id,
            amount,
        });
        self.total += amount;
    }

    /// Replaces charge `id`'s amount by `actual`. A charge that already left the window (a
    /// reply longer than it) is charged again, at `now_ms`, for what `actual` exceeds
    /// `reserved` by, under `fresh_id`.
    pub fn settle(&mut self, now_ms: u64, id: u64, reserved: u64, actual: u64, fresh_id: u64) {
        self.expire(now_ms);
        match self.charges.binary_search_by_key(&id, |charge| charge.id) {
            Ok(position) => {
                let charge = &mut self.charges[position];
                self.total = self.total - charge.amount + actual;
                charge.amount = actual;
            }
            Err(_) if actual > reserved => self.charge(now_ms, fresh_id, actual - reserved),
            Err(_) => {}
        }
    }

    /// The window's level under `limit` at `now_ms`.
    pub fn level(&mut self, now_ms: u64, limit: u64) -> Level {
        self.expire(now_ms);
        Level {
            limit,
            remaining: limit.saturating_sub(self.total),
            reset_ms: self.charges.back().map_or(0, |newest| {
                (newest.at_ms + WINDOW_MS).saturating_sub(now_ms)
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn a_full_window_frees_room_as_its_oldest_charges_leave() {
        let mut window = Window::default();
        window.charge(0, 1, 1);
        window.charge(10_000, 2, 1);
        assert_eq!(window.fit(20_000, 2, 1), Fit::After(40_000));
        assert_eq!(window.fit(60_000, 2, 1), Fit::Now, "the first charge left");
        assert_eq!(window.fit(60_000, 2, 3), Fit::Never);
        assert_eq!(
            window.level(60_000, 2),
            Level {
                limit: 2,
                remaining: 1,
                reset_ms: 10_000
            }
        );
    }

    #[test]
    fn settling_replaces_a_reservation_and_recharges_one_that_left() {
        let mut window = Window::default();
        window.charge(0, 1, 100);
        window.settle(1_000, 1, 100, 30, 9);
        assert_eq!(window.level(1_000, 100).remaining, 70);
        window.settle(70_000, 1, 100, 130, 10);
        assert_eq!(
            window.level(70_000, 100).remaining,
            70,
            "30 over the reservation"
        );
        window.settle(70_000, 1, 100, 50, 11);
        assert_eq!(
            window.level(70_000, 100).remaining,
            70,
            "under it: nothing more"
        );
    }

    proptest! {
        /// Whatever the arrivals, no 60 seconds ever hold more than the limit, and a demand
        /// refused now fits at the time it was told.
        #[test]
        fn no_window_holds_more_than_the_limit(
            gaps in proptest::collection::vec(0u64..5_000, 1..300),
            amounts in proptest::collection::vec(1u64..5, 300),
            limit in 1u64..40,
        ) {
            let mut window = Window::default();
            let mut admitted: Vec<(u64, u64)> = Vec::new();
            let mut now = 0;
            for (id, (gap, amount)) in gaps.iter().zip(&amounts).enumerate() {
                now += gap;
                match window.fit(now, limit, *amount) {
                    Fit::Now => {
                        window.charge(now, id as u64, *amount);
                        admitted.push((now, *amount));
                    }
                    Fit::After(wait) => {
                        prop_assert!(wait >= 1);
                        let mut later = Window { charges: window.charges.clone(), total: window.total };
                        prop_assert_eq!(later.fit(now + wait, limit, *amount), Fit::Now);
                    }
                    Fit::Never => prop_assert!(*amount > limit),
                }
                let held: u64 = admitted
                    .iter()
                    .filter(|(at, _)| at + WINDOW_MS > now)
                    .map(|(_, amount)| amount)
                    .sum();
                prop_assert!(held <= limit, "{held} > {limit} at {now}");
            }
        }
    }
}
