//! Renders a [`Turn`] as Ollama's bytes: one compact JSON object and `\n` per chunk for streams,
//! a single object for `stream: false`. Metrics and `done_reason` appear on the final object only.

use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use wire::{
    go_json,
    ollama::{ChatResponse, GenerateResponse, Message},
};

use crate::{reply::ChunkSpec, turn::Turn};

/// One line to write, with the virtual delay before it.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    /// Unscaled delay before the line.
    pub delay: Duration,
    /// The line, `\n` included.
    pub bytes: Bytes,
}

/// Which endpoint's shape to write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// `/api/chat`: `message{role, content, thinking?, tool_calls?}`.
    Chat,
    /// `/api/generate`: `response`, `thinking?`, `context` on the final chunk.
    Generate,
}

/// Fixed clock: `created_at` is `base` plus the virtual time of the line, so bytes never depend on
/// when the test ran.
#[derive(Debug, Clone, Copy)]
pub struct Clock {
    /// The instant a request "starts".
    pub base: DateTime<Utc>,
}

impl Clock {
    fn at(&self, offset: Duration) -> String {
        let offset = chrono::Duration::from_std(offset).unwrap_or_default();
        go_json::rfc3339_nano(self.base + offset)
    }
}

/// The NDJSON lines of a streamed reply.
pub fn stream_lines(turn: &Turn, shape: Shape, model: &str, clock: Clock) -> Vec<Line> {
    let last_index = turn.chunks.len();
    turn.chunks
        .iter()
        .chain(std::iter::once(&turn.last))
        .enumerate()
        .map(|(index, chunk)| {
            let done = index == last_index;
            let created_at = clock.at(turn.line_offset(index));
            let mut bytes = object(turn, shape, model, chunk, created_at, done);
            bytes.push(b'\n');
            Line {
                delay: turn.delays[index],
                bytes: Bytes::from(bytes),
            }
        })
        .collect()
}

/// The single JSON object of a `stream: false` reply (no trailing newline, as Gin writes it).
pub fn whole(turn: &Turn, shape: Shape, model: &str, clock: Clock) -> Bytes {
    let created_at = clock.at(turn.line_offset(turn.chunks.len()));
    Bytes::from(object(
        turn,
        shape,
        model,
        &turn.aggregate(),
        created_at,
        true,
    ))
}

fn object(
    turn: &Turn,
    shape: Shape,
    model: &str,
    chunk: &ChunkSpec,
    created_at: String,
    done: bool,
) -> Vec<u8> {
    let (done_reason, metrics) = if done {
        (Some(turn.done_reason.clone()), turn.metrics)
    } else {
        Default::default()
    };
    let encoded = match shape {
        Shape::Chat => go_json::to_vec(&ChatResponse {
            model: model.to_owned(),
            created_at,
            message: Message {
                content: chunk.content.clone(),
                thinking: chunk.thinking.clone(),
                tool_calls: chunk.tool_calls.clone(),
                ..Message::assistant("")
            },
            done,
            done_reason,
            metrics,
        }),
        Shape::Generate => go_json::to_vec(&GenerateResponse {
            model: model.to_owned(),
            created_at,
            response: chunk.content.clone(),
            thinking: chunk.thinking.clone(),
            done,
            done_reason,
            context: if done {
                (1..=metrics.prompt_eval_count.min(8) as i64).collect()
            } else {
                Vec::new()
            },
            metrics,
        }),
    };
    // Serializing plain structs of strings and integers cannot fail.
    encoded.unwrap_or_default()
}
