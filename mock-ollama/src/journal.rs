//! The request journal: every request the mock received, in order, with what it did about it.
//!
//! Tests read it to assert what a gateway sent upstream (and whether it hung up early). It is
//! bounded (`limit` newest entries) so a load test cannot grow it without end.

use std::{
    collections::{BTreeMap, VecDeque},
    sync::{
        Arc, Mutex, MutexGuard,
        atomic::{AtomicU64, Ordering},
    },
    time::Instant,
};

use axum::http::{HeaderMap, Method, Uri};
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// One received request.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JournalEntry {
    /// Position among all requests since start (or the last clear), from 0.
    pub seq: u64,
    /// HTTP method.
    pub method: String,
    /// Path and query.
    pub path: String,
    /// Header names (lower case) to values; repeated headers joined with `, `.
    pub headers: BTreeMap<String, String>,
    /// The body parsed as JSON; a string when it is not JSON; `null` when empty.
    pub body: Value,
    /// Milliseconds since the mock started.
    pub received_at_ms: f64,
    /// Name of the rule that answered, if any.
    pub rule: Option<String>,
    /// True when the client closed the connection before the response body ended.
    pub client_disconnected: bool,
}

/// The bounded, shared journal.
#[derive(Debug)]
pub struct Journal {
    entries: Mutex<VecDeque<JournalEntry>>,
    next_seq: AtomicU64,
    limit: usize,
    started: Instant,
}

impl Journal {
    /// A journal keeping the newest `limit` entries.
    pub fn new(limit: usize) -> Self {
        Self {
            entries: Mutex::new(VecDeque::new()),
            next_seq: AtomicU64::new(0),
            limit,
            started: Instant::now(),
        }
    }

    fn lock(&self) -> MutexGuard<'_, VecDeque<JournalEntry>> {
        // A panic while holding the lock cannot leave an entry half-written; keep serving.
        self.entries
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Records a request and returns its sequence number.
    pub fn record(&self, method: &Method, uri: &Uri, headers: &HeaderMap, body: &[u8]) -> u64 {
        let seq = self.next_seq.fetch_add(1, Ordering::Relaxed);
        if self.limit == 0 {
            return seq;
        }
        let mut header_map: BTreeMap<String, String> = BTreeMap::new();
        for (name, value) in headers {
            let value = String::from_utf8_lossy(value.as_bytes());
            header_map
                .entry(name.as_str().to_owned())
                .and_modify(|joined| {
                    joined.push_str(", ");
                    joined.push_str(&value);
                })
                .or_insert_with(|| value.into_owned());
        }
        let body = if body.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(body)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(body).into_owned()))
        };
        let entry = JournalEntry {
            seq,
            method: method.to_string(),
            path: uri
                .path_and_query()
                .map_or_else(|| uri.path().to_owned(), |pq| pq.to_string()),
            headers: header_map,
            body,
            received_at_ms: self.started.elapsed().as_secs_f64() * 1000.0,
            rule: None,
            client_disconnected: false,
        };
        let mut entries = self.lock();
        // Concurrent requests may record out of order; keep the deque sorted by seq.
        let position = entries.partition_point(|existing| existing.seq < seq);
        entries.insert(position, entry);
        while entries.len() > self.limit {
            entries.pop_front();
        }
        seq
    }

    fn update(&self, seq: u64, change: impl FnOnce(&mut JournalEntry)) {
        let mut entries = self.lock();
        let position = entries.partition_point(|existing| existing.seq < seq);
        if let Some(entry) = entries.get_mut(position).filter(|entry| entry.seq == seq) {
            change(entry);
        }
    }

    /// Notes which rule answered request `seq`.
    pub fn set_rule(&self, seq: u64, rule: String) {
        self.update(seq, |entry| entry.rule = Some(rule));
    }

    /// Notes that the client of request `seq` went away before the body ended.
    pub fn mark_disconnected(&self, seq: u64) {
        self.update(seq, |entry| entry.client_disconnected = true);
    }

    /// A copy of the entries, oldest first.
    pub fn entries(&self) -> Vec<JournalEntry> {
        self.lock().iter().cloned().collect()
    }

    /// Forgets every entry (sequence numbers keep counting).
    pub fn clear(&self) {
        self.lock().clear();
    }
}

/// Held by a response body while it streams; if it is dropped before [`BodyGuard::finish`], the
/// client went away and the journal says so.
#[derive(Debug)]
pub struct BodyGuard {
    journal: Arc<Journal>,
    seq: u64,
    finished: bool,
}

impl BodyGuard {
    /// Watches request `seq`'s body.
    pub fn new(journal: Arc<Journal>, seq: u64) -> Self {
        Self {
            journal,
            seq,
            finished: false,
        }
    }

    /// The body ended as scripted (normally or by a scripted fault).
    pub fn finish(&mut self) {
        self.finished = true;
    }
}

impl Drop for BodyGuard {
    fn drop(&mut self) {
        if !self.finished {
            tracing::info!(seq = self.seq, "client went away before the response ended");
            self.journal.mark_disconnected(self.seq);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_only_the_newest_entries() {
        let journal = Journal::new(2);
        for _ in 0..3 {
            journal.record(
                &Method::GET,
                &Uri::from_static("/x"),
                &HeaderMap::new(),
                b"",
            );
        }
        let seqs: Vec<u64> = journal.entries().iter().map(|e| e.seq).collect();
        assert_eq!(seqs, vec![1, 2]);
    }

    #[test]
    fn non_json_bodies_are_kept_as_text() {
        let journal = Journal::new(10);
        journal.record(
            &Method::POST,
            &Uri::from_static("/api/chat"),
            &HeaderMap::new(),
            b"{oops",
        );
        assert_eq!(journal.entries()[0].body, Value::String("{oops".into()));
    }

    #[test]
    fn dropping_an_unfinished_guard_marks_disconnect() {
        let journal = Arc::new(Journal::new(10));
        let seq = journal.record(
            &Method::POST,
            &Uri::from_static("/a"),
            &HeaderMap::new(),
            b"",
        );
        drop(BodyGuard::new(journal.clone(), seq));
        assert!(journal.entries()[0].client_disconnected);
        let seq = journal.record(
            &Method::POST,
            &Uri::from_static("/b"),
            &HeaderMap::new(),
            b"",
        );
        let mut guard = BodyGuard::new(journal.clone(), seq);
        guard.finish();
        drop(guard);
        assert!(!journal.entries()[1].client_disconnected);
    }
}
