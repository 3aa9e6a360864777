//! Everything the probes saw, kept by probe name, and what the operator stated about the target:
//! what every check reads.

use std::collections::BTreeMap;

use serde_json::Value;

use super::{registry::preflight_origin, stream_view::StreamView};
use crate::{
    check::Dialect,
    exchange::{Exchange, Secret, Target, WRONG_KEY},
};

/// Everything the probes saw, and what the operator stated about the target.
#[derive(Debug, Default)]
pub struct Observations {
    /// The target's `/v1` root.
    pub base_url: String,
    /// Model the chat probes used.
    pub model: String,
    /// Whether the target is expected to enforce authentication (`--expect-auth`).
    pub expect_auth: bool,
    /// Whether the target is expected to serve embeddings (`--embedding-model`).
    pub expect_embeddings: bool,
    /// Whether the model probed for thinking is known to think (`--thinking-model`).
    pub expect_thinking: bool,
    /// The origin the CORS preflight came from.
    pub preflight_origin: String,
    /// What no reply may echo: the key, the values of `--header`, the wrong key probed.
    pub secrets: Vec<Secret>,
    /// The dialects probed (`--dialects`).
    pub dialects: Vec<Dialect>,
    /// Captured exchanges by probe name.
    pub exchanges: BTreeMap<&'static str, Exchange>,
    /// Parsed streams by probe name (for `stream: true` requests and `text/event-stream` replies).
    pub streams: BTreeMap<&'static str, StreamView>,
}

impl Observations {
    /// What these exchanges with `target` show: each kept under its probe's name, each body of a
    /// streamed request or with a `text/event-stream` label read as a stream.
    pub fn of(target: &Target, exchanges: impl IntoIterator<Item = Exchange>) -> Self {
        let secrets = target
            .api_key
            .iter()
            .chain(target.headers.iter().map(|(_, value)| value))
            .map(String::as_str)
            .chain([WRONG_KEY])
            .filter(|secret| secret.len() >= 8)
            .map(|secret| Secret(secret.to_owned()))
            .collect();
        let mut observations = Observations {
            base_url: target.base_url.clone(),
            model: target.model.clone(),
            expect_auth: target.expect_auth,
            expect_embeddings: target.embedding_model.is_some(),
            expect_thinking: target.thinking_model.is_some(),
            preflight_origin: preflight_origin(target).to_owned(),
            secrets,
            dialects: target.dialects.clone(),
            ..Observations::default()
        };
        for exchange in exchanges {
            // A body is read as a stream when one was asked for, whatever its label says.
            if exchange.request["stream"] == true
                || exchange.media_type().as_deref() == Some("text/event-stream")
            {
                observations
                    .streams
                    .insert(exchange.probe, StreamView::read(&exchange.body));
            }
            observations.exchanges.insert(exchange.probe, exchange);
        }
        observations
    }

    /// The exchanges of the Chat Completions probes (and the models, embeddings, CORS and
    /// header probes that go with them): what the checks that look across every reply read,
    /// since each other dialect has its own envelope and its own checks.
    pub fn chat_exchanges(&self) -> impl Iterator<Item = &Exchange> {
        self.exchanges
            .values()
            .filter(|exchange| super::dialect(exchange.probe) == Dialect::Chat)
    }

    /// A probe's exchange.
    pub fn get(&self, probe: &str) -> Option<&Exchange> {
        self.exchanges.get(probe)
    }

    /// A probe's successful JSON reply.
    pub fn json(&self, probe: &str) -> Option<Value> {
        self.get(probe)
            .filter(|e| e.is_success())
            .and_then(Exchange::json)
    }

    /// A probe's parsed stream.
    pub fn stream(&self, probe: &str) -> Option<&StreamView> {
        self.streams.get(probe)
    }
}
