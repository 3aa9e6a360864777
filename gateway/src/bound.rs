//! A bound on what is in flight, answered at once instead of queued: the primitive behind the
//! gateway's `server.max_concurrent_requests` (taken by [`crate::routes`]) and each backend's
//! `max_concurrent_requests` (taken by [`crate::backend`]). A request over a bound gets a 503
//! envelope with `Retry-After: 1` (the OpenAI SDKs wait, then retry); a stream holds its place
//! until its last frame is sent or its client hangs up.

use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore, TryAcquireError};

/// A bound on requests in flight.
#[derive(Debug, Clone)]
pub struct Bound {
    places: Arc<Semaphore>,
    limit: usize,
}

/// A place taken in a [`Bound`]; freed when dropped.
#[derive(Debug)]
pub struct Place {
    _permit: OwnedSemaphorePermit,
}

impl Bound {
    /// At most `limit` places.
    pub fn new(limit: usize) -> Self {
        Self {
            places: Arc::new(Semaphore::new(limit)),
            limit,
        }
    }

    /// The number of places.
    pub fn limit(&self) -> usize {
        self.limit
    }

    /// A place, or `None` when all are taken.
    pub fn try_take(&self) -> Option<Place> {
        match self.places.clone().try_acquire_owned() {
            Ok(permit) => Some(Place { _permit: permit }),
            Err(TryAcquireError::NoPermits | TryAcquireError::Closed) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_bound_gives_its_places_then_none_until_one_is_freed() {
        let bound = Bound::new(2);
        let first = bound.try_take().expect("first place");
        let _second = bound.try_take().expect("second place");
        assert!(bound.try_take().is_none(), "full");
        drop(first);
        assert!(bound.try_take().is_some(), "freed");
    }
}
