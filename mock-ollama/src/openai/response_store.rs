//! The responses the exact flavour keeps, as OpenAI does for `store: true` (its default): each
//! one's object, the input items it was asked with, and the whole conversation up to and
//! including its output, which a later `previous_response_id` continues.
//!
//! Bounded twice, oldest first out: by count (`--stored-responses`) and by the encoded size of
//! what is kept, so a client that chains long conversations cannot make the mock grow without
//! end (vLLM's store, by its own comment, is never evicted).

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard},
};

use wire::openai::responses::{Item, Response};

/// Encoded bytes the store keeps at most, whatever the count bound.
pub const MAX_STORED_BYTES: usize = 256 * 1024 * 1024;

/// One kept response.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredResponse {
    /// The response object as it was last written.
    pub response: Response,
    /// The items of the request's `input`, each with its id.
    pub input_items: Vec<Item>,
    /// The conversation a continuation starts from: every earlier item, then this response's
    /// input, then its output.
    pub conversation: Vec<Item>,
}

impl StoredResponse {
    /// What keeping it costs, roughly: its object's and items' encoded size.
    fn bytes(&self) -> usize {
        encoded_len(&self.response)
            + encoded_len(&self.input_items)
            + encoded_len(&self.conversation)
    }
}

fn encoded_len(value: &impl serde::Serialize) -> usize {
    serde_json::to_vec(value).map_or(0, |bytes| bytes.len())
}

/// The kept responses, by id.
#[derive(Debug)]
pub struct ResponseStore {
    max_responses: usize,
    inner: Mutex<Inner>,
}

#[derive(Debug, Default)]
struct Inner {
    by_id: HashMap<String, (Arc<StoredResponse>, usize)>,
    /// Ids oldest first; a removed id stays until it reaches the front.
    order: VecDeque<String>,
    bytes: usize,
}

impl ResponseStore {
    /// A store keeping at most `max_responses` responses (0 keeps none).
    pub fn new(max_responses: usize) -> Self {
        Self {
            max_responses,
            inner: Mutex::new(Inner::default()),
        }
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Keeps `stored` under its response's id (replacing one with that id), then lets the oldest
    /// go until both bounds hold.
    pub fn insert(&self, stored: StoredResponse) {
        if self.max_responses == 0 {
            return;
        }
        let bytes = stored.bytes();
        let id = stored.response.id.clone();
        let mut inner = self.lock();
        if let Some((_, old)) = inner.by_id.remove(&id) {
            inner.bytes -= old;
            inner.order.retain(|kept| kept != &id);
        }
        inner.by_id.insert(id.clone(), (Arc::new(stored), bytes));
        inner.order.push_back(id);
        inner.bytes += bytes;
        while inner.by_id.len() > self.max_responses || inner.bytes > MAX_STORED_BYTES {
            let Some(oldest) = inner.order.pop_front() else {
                break;
            };
            if let Some((_, freed)) = inner.by_id.remove(&oldest) {
                inner.bytes -= freed;
            }
        }
    }

    /// The response kept under `id`.
    pub fn get(&self, id: &str) -> Option<Arc<StoredResponse>> {
        self.lock().by_id.get(id).map(|(stored, _)| stored.clone())
    }

    /// The item with `id` among the kept responses' input and output items, the newest
    /// response's first: what an `item_reference` refers to.
    pub fn item(&self, id: &str) -> Option<Item> {
        let inner = self.lock();
        inner
            .order
            .iter()
            .rev()
            .filter_map(|kept| inner.by_id.get(kept))
            .flat_map(|(stored, _)| stored.input_items.iter().chain(&stored.response.output))
            .find(|item| item.id() == Some(id) && !matches!(item, Item::ItemReference { .. }))
            .cloned()
    }

    /// Forgets `id`; whether it was kept.
    pub fn remove(&self, id: &str) -> bool {
        let mut inner = self.lock();
        match inner.by_id.remove(id) {
            Some((_, freed)) => {
                inner.bytes -= freed;
                true
            }
            None => false,
        }
    }

    /// Forgets every response.
    pub fn clear(&self) {
        *self.lock() = Inner::default();
    }

    /// How many responses are kept.
    pub fn len(&self) -> usize {
        self.lock().by_id.len()
    }

    /// Whether none is.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(id: &str) -> StoredResponse {
        let response: Response = serde_json::from_value(serde_json::json!({
            "id": id, "object": "response", "created_at": 0, "status": "completed",
            "model": "m", "output": [], "parallel_tool_calls": true, "tool_choice": "auto",
            "tools": []
        }))
        .expect("a response");
        StoredResponse {
            response,
            input_items: Vec::new(),
            conversation: Vec::new(),
        }
    }

    #[test]
    fn the_oldest_response_goes_first_when_the_count_is_reached() {
        let store = ResponseStore::new(2);
        for id in ["resp_a", "resp_b", "resp_c"] {
            store.insert(stored(id));
        }
        assert!(store.get("resp_a").is_none());
        assert!(store.get("resp_b").is_some() && store.get("resp_c").is_some());
        assert_eq!(store.len(), 2);
    }

    #[test]
    fn storing_an_id_again_replaces_it_and_renews_its_place() {
        let store = ResponseStore::new(2);
        store.insert(stored("resp_a"));
        store.insert(stored("resp_b"));
        store.insert(stored("resp_a"));
        store.insert(stored("resp_c"));
        assert!(store.get("resp_b").is_none(), "b was the oldest");
        assert!(store.get("resp_a").is_some());
    }

    #[test]
    fn a_removed_response_is_gone_and_frees_its_place() {
        let store = ResponseStore::new(1);
        store.insert(stored("resp_a"));
        assert!(store.remove("resp_a"));
        assert!(!store.remove("resp_a"));
        assert!(store.is_empty());
        store.insert(stored("resp_b"));
        assert!(store.get("resp_b").is_some());
    }

    #[test]
    fn a_store_of_no_responses_keeps_none() {
        let store = ResponseStore::new(0);
        store.insert(stored("resp_a"));
        assert!(store.get("resp_a").is_none());
    }
}
