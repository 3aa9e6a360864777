//! A streamed reply as the checks read it: its byte framing, the events a spec-following client
//! dispatches, and the chunks, errors and `[DONE]` among them, with helpers that reassemble a
//! choice's text, finish reasons and tool calls.

use std::collections::BTreeMap;

use serde_json::Value;

use crate::sse::Framing;

/// A parsed stream.
#[derive(Debug, Clone)]
pub struct StreamView {
    /// Byte-level framing.
    pub framing: Framing,
    /// What a spec-following client dispatches: `(event name, data)`.
    pub client_events: Vec<(String, String)>,
    /// JSON chunks (client events that parsed, are objects, and are not errors), with their
    /// position among client events.
    pub chunks: Vec<(usize, Value)>,
    /// Error payloads (`{"error": …}`), with their position.
    pub errors: Vec<(usize, Value)>,
    /// Payloads that are neither JSON nor `[DONE]`, with their position.
    pub invalid: Vec<(usize, String)>,
    /// Position of the first `[DONE]` among client events.
    pub done: Option<usize>,
}

impl StreamView {
    /// Reads a streamed body.
    pub fn read(body: &[u8]) -> Self {
        let framing = Framing::read(body);
        let client_events = framing.client_events();
        let mut view = StreamView {
            framing,
            client_events,
            chunks: Vec::new(),
            errors: Vec::new(),
            invalid: Vec::new(),
            done: None,
        };
        for (index, (_, data)) in view.client_events.iter().enumerate() {
            if data == "[DONE]" {
                view.done.get_or_insert(index);
                continue;
            }
            match serde_json::from_str::<Value>(data) {
                Ok(value) if value.get("error").is_some_and(|e| !e.is_null()) => {
                    view.errors.push((index, value))
                }
                Ok(value) if value.is_object() => view.chunks.push((index, value)),
                _ => view.invalid.push((index, data.clone())),
            }
        }
        view
    }

    /// Chunks that carry choices (not the usage chunk), in order.
    pub fn choice_chunks(&self) -> impl Iterator<Item = &(usize, Value)> {
        self.chunks
            .iter()
            .filter(|(_, chunk)| chunk["choices"].as_array().is_some_and(|c| !c.is_empty()))
    }

    /// Every `(event position, choice)` of every chunk, in order.
    pub fn choices(&self) -> impl Iterator<Item = (usize, &Value)> {
        self.chunks.iter().flat_map(|(position, chunk)| {
            chunk["choices"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |choice| (*position, choice))
        })
    }

    /// Every `(event position, choice)` of choice `index`.
    pub fn choices_of(&self, index: u64) -> impl Iterator<Item = (usize, &Value)> {
        self.choices()
            .filter(move |(_, choice)| choice["index"].as_u64().unwrap_or(0) == index)
    }

    /// Concatenated `delta.content` of choice `index`.
    pub fn text(&self, index: u64) -> String {
        self.deltas(index)
            .filter_map(|delta| delta["content"].as_str())
            .collect()
    }

    /// Every delta of choice `index`, in order.
    pub fn deltas(&self, index: u64) -> impl Iterator<Item = &Value> {
        self.choices_of(index).map(|(_, choice)| &choice["delta"])
    }

    /// The non-null finish reasons of choice `index`, with chunk positions.
    pub fn finishes(&self, index: u64) -> Vec<(usize, Value)> {
        self.choices_of(index)
            .filter(|(_, choice)| !choice["finish_reason"].is_null())
            .map(|(position, choice)| (position, choice["finish_reason"].clone()))
            .collect()
    }

    /// Tool-call arguments reassembled per tool index for choice `index`: `(name, arguments)`.
    pub fn tool_calls(&self, index: u64) -> BTreeMap<u64, (String, String)> {
        let mut calls: BTreeMap<u64, (String, String)> = BTreeMap::new();
        for delta in self.deltas(index) {
            for (position, call) in delta["tool_calls"]
                .as_array()
                .into_iter()
                .flatten()
                .enumerate()
            {
                let key = call["index"].as_u64().unwrap_or(position as u64);
                let entry = calls.entry(key).or_default();
                if let Some(name) = call["function"]["name"].as_str() {
                    entry.0.push_str(name);
                }
                if let Some(arguments) = call["function"]["arguments"].as_str() {
                    entry.1.push_str(arguments);
                }
            }
        }
        calls
    }
}
