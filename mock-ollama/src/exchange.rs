//! Recorded exchanges: a request as a client sent it and the reply exactly as a server wrote it,
//! write by write, with the delay before each write.
//!
//! An exchange is scenario data (`"exchanges"` in a scenario file), so recorded and hand-written
//! fixtures load, merge and validate the same way. The recorder writes one file per exchange with
//! sorted keys so a re-recording diffs line by line; see `mock-ollama/README.md` for the format.

use std::collections::BTreeMap;

use base64::Engine;
use bytes::Bytes;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::seed::hash_parts;

/// One recorded request and its reply.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Exchange {
    /// Name in the journal and in drift reports; the recorder uses the file's stem.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// What the client sent, and which parts of it a replayed request must repeat.
    pub request: RecordedRequest,
    /// What the server answered.
    pub response: RecordedResponse,
}

/// A request as recorded (secrets removed).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedRequest {
    /// `GET`, `POST`, …
    pub method: String,
    /// Path and query, e.g. `/v1/chat/completions`.
    pub path: String,
    /// Headers worth re-sending (lower-case names); credentials are never recorded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// The body, when it is JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
    /// The body as text, when it is not JSON.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_text: Option<String>,
    /// The top-level JSON body keys a request must repeat to be answered by this exchange (a key
    /// absent here must be absent there); absent: the whole body must be equal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub match_keys: Option<Vec<String>>,
}

/// A reply as the client received it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedResponse {
    /// HTTP status.
    pub status: u16,
    /// Response headers (lower-case names) except the hop-by-hop ones and `date`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub headers: BTreeMap<String, String>,
    /// Milliseconds from sending the request to receiving the response head.
    #[serde(default)]
    pub head_ms: f64,
    /// The body, one entry per write the server made, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub chunks: Vec<RecordedChunk>,
    /// How the body ended.
    #[serde(default, skip_serializing_if = "BodyEnd::is_complete")]
    pub end: BodyEnd,
}

/// One write of a recorded body.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordedChunk {
    /// Milliseconds since the previous chunk (the first: since the response head).
    #[serde(default)]
    pub delay_ms: f64,
    /// The bytes, when they are UTF-8.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// The bytes in standard base64, when they are not UTF-8 (a character split between writes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base64: Option<String>,
}

/// How a recorded body ended.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum BodyEnd {
    /// The body ended normally.
    #[default]
    Complete,
    /// The connection broke before the body ended (a reset, or fewer bytes than announced).
    Reset,
}

impl BodyEnd {
    fn is_complete(&self) -> bool {
        *self == BodyEnd::Complete
    }
}

/// Request headers that are never recorded: they carry credentials.
pub const SECRET_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "x-api-key",
    "api-key",
    "cookie",
    "set-cookie",
];

/// Headers that describe one connection, not the exchange: a proxy neither forwards nor records
/// them.
pub const HOP_BY_HOP_HEADERS: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
    "te",
    "trailer",
    "upgrade",
    "host",
];

/// Headers forwarded but not recorded: `date` changes every second and would make every
/// re-recording a diff.
pub const UNRECORDED_HEADERS: &[&str] = &["date", "accept-encoding"];

/// Top-level body keys a recorded request is matched on by default: what decides the reply's
/// content and shape, not sampling knobs a test may tweak.
pub const DEFAULT_MATCH_KEYS: &[&str] = &[
    "model", "messages", "prompt", "input", "suffix", "stream", "tools",
];

/// A received request, as exchanges look at it.
#[derive(Debug, Clone, Copy)]
pub struct Incoming<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path and query.
    pub path: &'a str,
    /// The raw body.
    pub body: &'a [u8],
    /// The body parsed as JSON, when it is.
    pub json: Option<&'a Value>,
}

impl RecordedRequest {
    /// Records a request: JSON bodies as values, others as text.
    pub fn new(
        method: &str,
        path: &str,
        headers: BTreeMap<String, String>,
        body: &[u8],
        match_keys: Option<Vec<String>>,
    ) -> Self {
        let (body, body_text) = match serde_json::from_slice::<Value>(body) {
            Ok(json) => (Some(json), None),
            Err(_) if body.is_empty() => (None, None),
            Err(_) => (None, Some(String::from_utf8_lossy(body).into_owned())),
        };
        Self {
            method: method.to_owned(),
            path: path.to_owned(),
            headers,
            // Keys only select within a JSON object body.
            match_keys: match_keys.filter(|_| body.as_ref().is_some_and(Value::is_object)),
            body,
            body_text,
        }
    }

    /// True when `incoming` repeats this request: method, path and query, and the body (all of
    /// it, or the `match_keys` of a JSON body).
    pub fn matches(&self, incoming: &Incoming<'_>) -> bool {
        if !self.method.eq_ignore_ascii_case(incoming.method) || self.path != incoming.path {
            return false;
        }
        match (&self.body, &self.body_text) {
            (Some(recorded), _) => incoming.json.is_some_and(|sent| match &self.match_keys {
                None => sent == recorded,
                Some(keys) => keys
                    .iter()
                    .all(|key| sent.get(key) == recorded.get(key.as_str())),
            }),
            (None, Some(text)) => incoming.body == text.as_bytes(),
            (None, None) => incoming.body.is_empty(),
        }
    }

    /// The body bytes to re-send.
    pub fn body_bytes(&self) -> Vec<u8> {
        match (&self.body, &self.body_text) {
            (Some(json), _) => serde_json::to_vec(json).unwrap_or_default(),
            (None, Some(text)) => text.as_bytes().to_vec(),
            (None, None) => Vec::new(),
        }
    }

    /// What a replayed request must repeat, as one value: the basis of a stable file name.
    fn match_basis(&self) -> String {
        let body = match (&self.body, &self.match_keys) {
            (Some(Value::Object(body)), Some(keys)) => Value::Object(
                keys.iter()
                    .filter_map(|key| Some((key.clone(), body.get(key)?.clone())))
                    .collect(),
            )
            .to_string(),
            (Some(body), _) => body.to_string(),
            (None, _) => self.body_text.clone().unwrap_or_default(),
        };
        format!("{} {} {body}", self.method, self.path)
    }
}

impl RecordedChunk {
    /// Records one write.
    pub fn new(delay_ms: f64, bytes: &[u8]) -> Self {
        let (text, base64) = match std::str::from_utf8(bytes) {
            Ok(text) => (Some(text.to_owned()), None),
            Err(_) => (
                None,
                Some(base64::engine::general_purpose::STANDARD.encode(bytes)),
            ),
        };
        Self {
            delay_ms: round_ms(delay_ms),
            text,
            base64,
        }
    }

    /// The bytes of this write (validated at load, so never an error here).
    pub fn bytes(&self) -> Bytes {
        match (&self.text, &self.base64) {
            (Some(text), _) => Bytes::copy_from_slice(text.as_bytes()),
            (None, Some(encoded)) => base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map(Bytes::from)
                .unwrap_or_default(),
            (None, None) => Bytes::new(),
        }
    }
}

impl RecordedResponse {
    /// The whole body, concatenated.
    pub fn body(&self) -> Vec<u8> {
        self.chunks
            .iter()
            .flat_map(|chunk| chunk.bytes().to_vec())
            .collect()
    }
}

/// Milliseconds kept to a tenth: finer is noise, and shorter numbers diff better.
pub fn round_ms(ms: f64) -> f64 {
    (ms * 10.0).round() / 10.0
}

impl Exchange {
    /// Checks what serde cannot, so a broken fixture fails at load and never at request time.
    pub fn validate(&self) -> Result<(), String> {
        let request = &self.request;
        if axum::http::Method::from_bytes(request.method.as_bytes()).is_err() {
            return Err(format!("method {:?} is not an HTTP method", request.method));
        }
        if !request.path.starts_with('/') {
            return Err(format!("path {:?} must start with /", request.path));
        }
        if request.body.is_some() && request.body_text.is_some() {
            return Err("request has both `body` and `body_text`; use one".to_owned());
        }
        let response = &self.response;
        if axum::http::StatusCode::from_u16(response.status).is_err() {
            return Err(format!("status {} is not an HTTP status", response.status));
        }
        for (name, value) in &response.headers {
            if axum::http::HeaderName::from_bytes(name.as_bytes()).is_err()
                || axum::http::HeaderValue::from_str(value).is_err()
            {
                return Err(format!("response header {name:?}: {value:?} is not valid"));
            }
        }
        if !(response.head_ms.is_finite() && response.head_ms >= 0.0) {
            return Err("response.head_ms must be a number ≥ 0".to_owned());
        }
        for (index, chunk) in response.chunks.iter().enumerate() {
            let problem = match (&chunk.text, &chunk.base64) {
                (Some(_), Some(_)) => Some("has both `text` and `base64`"),
                (None, None) => Some("has neither `text` nor `base64`"),
                (None, Some(encoded))
                    if base64::engine::general_purpose::STANDARD
                        .decode(encoded)
                        .is_err() =>
                {
                    Some("has invalid base64")
                }
                _ if !(chunk.delay_ms.is_finite() && chunk.delay_ms >= 0.0) => {
                    Some("has a delay_ms that is not a number ≥ 0")
                }
                _ => None,
            };
            if let Some(problem) = problem {
                return Err(format!("response chunk {index} {problem}"));
            }
        }
        Ok(())
    }

    /// A file stem naming the request and what it must repeat, e.g.
    /// `post-v1-chat-completions-1a2b3c4d`: the same request re-recorded lands in the same file.
    pub fn stem(&self) -> String {
        let mut slug = self.request.method.to_ascii_lowercase();
        let path = self.request.path.split('?').next().unwrap_or_default();
        for part in path.split(|c: char| !c.is_ascii_alphanumeric() && c != '.') {
            if !part.is_empty() {
                slug.push('-');
                slug.push_str(&part.to_ascii_lowercase());
            }
        }
        let hash = hash_parts(&[&self.request.match_basis()]);
        format!("{slug}-{:08x}", hash as u32)
    }

    /// The exchange as a scenario file of its own: pretty JSON with every object's keys sorted.
    pub fn to_fixture_text(&self) -> String {
        let mut file = serde_json::json!({ "exchanges": [self] });
        sort_keys(&mut file);
        let mut text = serde_json::to_string_pretty(&file).unwrap_or_default();
        text.push('\n');
        text
    }
}

fn sort_keys(value: &mut Value) {
    match value {
        Value::Object(map) => {
            map.sort_keys();
            map.values_mut().for_each(sort_keys);
        }
        Value::Array(items) => items.iter_mut().for_each(sort_keys),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat_request(match_keys: Option<Vec<String>>) -> RecordedRequest {
        RecordedRequest::new(
            "POST",
            "/api/chat",
            BTreeMap::new(),
            br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"options":{"seed":1}}"#,
            match_keys,
        )
    }

    fn incoming<'a>(body: &'a [u8], json: Option<&'a Value>) -> Incoming<'a> {
        Incoming {
            method: "POST",
            path: "/api/chat",
            body,
            json,
        }
    }

    #[test]
    fn match_keys_ignore_other_fields_but_not_absence() {
        let recorded = chat_request(Some(vec!["messages".into(), "stream".into()]));
        let same = serde_json::json!({"model":"other","messages":[{"role":"user","content":"hi"}]});
        assert!(recorded.matches(&incoming(b"{}", Some(&same))));
        let streaming =
            serde_json::json!({"messages":[{"role":"user","content":"hi"}],"stream":false});
        assert!(!recorded.matches(&incoming(b"{}", Some(&streaming))));
    }

    #[test]
    fn without_match_keys_the_whole_body_must_be_equal() {
        let recorded = chat_request(None);
        let mut sent = recorded.body.clone().expect("json body");
        assert!(recorded.matches(&incoming(b"{}", Some(&sent))));
        sent["options"]["seed"] = 2.into();
        assert!(!recorded.matches(&incoming(b"{}", Some(&sent))));
    }

    #[test]
    fn text_bodies_match_byte_for_byte() {
        let recorded = RecordedRequest::new("POST", "/api/chat", BTreeMap::new(), b"{oops", None);
        assert_eq!(recorded.body_text.as_deref(), Some("{oops"));
        assert!(recorded.matches(&incoming(b"{oops", None)));
        assert!(!recorded.matches(&incoming(b"{oops ", None)));
    }

    #[test]
    fn chunks_that_split_a_character_keep_their_bytes() {
        let bytes = "é".as_bytes();
        let first = RecordedChunk::new(1.04, &bytes[..1]);
        assert_eq!(first.text, None);
        assert_eq!(first.bytes().as_ref(), &bytes[..1]);
        assert_eq!(first.delay_ms, 1.0);
    }

    #[test]
    fn fixture_text_has_sorted_keys_and_a_stable_stem() {
        let exchange = Exchange {
            name: None,
            request: chat_request(Some(vec!["messages".into()])),
            response: RecordedResponse {
                status: 200,
                headers: BTreeMap::new(),
                head_ms: 0.0,
                chunks: vec![RecordedChunk::new(0.0, b"{}")],
                end: BodyEnd::Complete,
            },
        };
        let text = exchange.to_fixture_text();
        let keys: Vec<&str> = text
            .lines()
            .filter(|line| line.starts_with("      \""))
            .map(str::trim)
            .collect();
        let mut sorted = keys.clone();
        sorted.sort();
        assert_eq!(keys, sorted);
        assert!(exchange.stem().starts_with("post-api-chat-"));
        let mut tweaked = exchange.clone();
        tweaked.request.body.as_mut().expect("json")["options"]["seed"] = 9.into();
        assert_eq!(tweaked.stem(), exchange.stem(), "seed is not a match key");
    }

    proptest::proptest! {
        /// Any reply, cut into writes anywhere (through UTF-8 characters too), survives its file.
        #[test]
        fn every_recorded_body_round_trips_through_its_fixture_file(
            body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..64),
            cuts in proptest::collection::vec(0usize..64, 0..6),
            status in 100u16..600,
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().filter(|&cut| cut < body.len()).collect();
            cuts.push(body.len());
            cuts.sort_unstable();
            cuts.dedup();
            let mut chunks = Vec::new();
            let mut start = 0;
            for cut in cuts {
                chunks.push(RecordedChunk::new(0.25, &body[start..cut]));
                start = cut;
            }
            let exchange = Exchange {
                name: Some("any".to_owned()),
                request: chat_request(None),
                response: RecordedResponse {
                    status,
                    headers: BTreeMap::new(),
                    head_ms: 1.0,
                    chunks,
                    end: BodyEnd::Reset,
                },
            };
            let text = exchange.to_fixture_text();
            let loaded = crate::Scenario::from_json("roundtrip", &text).expect("a valid fixture");
            proptest::prop_assert_eq!(&loaded.exchanges[0], &exchange);
            proptest::prop_assert_eq!(loaded.exchanges[0].response.body(), body);
        }
    }
}
