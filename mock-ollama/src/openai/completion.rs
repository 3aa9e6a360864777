//! A [`Turn`] of `/api/generate` written as legacy `/v1/completions` (`text_completion`
//! objects). For Ollama: `ToCompletion`, `ToCompleteChunk` (`openai/openai.go:401-447`) and
//! `CompleteWriter` (`middleware/openai.go:185-245`): the finish reason rides on the last text
//! chunk, every chunk's `created` is its own time, and with `include_usage` every chunk carries a
//! zero usage before the real one.

use bytes::Bytes;
use serde_json::{Map, Value, json};

use super::{
    chat::{ReplyContext, SseFraming, SseReply, usage},
    encode,
};
use crate::{ndjson::Line, turn::Turn};

fn choice(ctx: &ReplyContext<'_>, text: &str, finish_reason: Value) -> Value {
    let mut choice = Map::new();
    choice.insert("text".to_owned(), json!(text));
    choice.insert("index".to_owned(), json!(0));
    for key in ctx.dialect.choice_nulls {
        choice.insert((*key).to_owned(), Value::Null);
    }
    choice.insert("finish_reason".to_owned(), finish_reason);
    Value::Object(choice)
}

fn reason(ctx: &ReplyContext<'_>, turn: &Turn) -> Value {
    match turn.done_reason.as_str() {
        "" if !ctx.dialect.finish_reason_enum_only => Value::Null,
        reason => ctx.finish_reason(reason, false),
    }
}

/// The `text_completion` object of a `stream: false` reply.
pub fn whole(ctx: &ReplyContext<'_>, turn: &Turn) -> Value {
    let text = turn.aggregate().content;
    let created = ctx.created(turn, turn.chunks.len());
    let mut object = ctx.object(
        &ctx.id("cmpl"),
        "text_completion",
        created,
        vec![choice(ctx, &text, reason(ctx, turn))],
    );
    object.insert("usage".to_owned(), usage(turn));
    Value::Object(object)
}

/// The events of a streamed reply, one group per native line, and the framing of its faults.
pub fn stream(ctx: &ReplyContext<'_>, turn: &Turn, include_usage: bool) -> SseReply {
    let id = ctx.id("cmpl");
    let last_index = turn.chunks.len();
    let zero_usage = json!({"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0});
    let chunk = |created: i64, choices: Vec<Value>, usage: Option<Value>| {
        let mut object = ctx.object(&id, "text_completion", created, choices);
        if let Some(usage) = usage {
            object.insert("usage".to_owned(), usage);
        }
        Value::Object(object)
    };
    // Ollama's quirk: a zero usage on every chunk before the real one.
    let zero_usage_on_chunks = include_usage && ctx.dialect.flavor == super::Flavor::Ollama;
    let running_usage = || zero_usage_on_chunks.then(|| zero_usage.clone());
    let lines = turn
        .chunks
        .iter()
        .chain(std::iter::once(&turn.last))
        .enumerate()
        .map(|(index, spec)| {
            let created = ctx.created(turn, index);
            let done = index == last_index;
            let finish = if done { reason(ctx, turn) } else { Value::Null };
            let text_chunk = chunk(
                created,
                vec![choice(ctx, &spec.content, finish)],
                running_usage(),
            );
            let mut events = encode::event(ctx.dialect, &text_chunk);
            if done {
                if include_usage && ctx.dialect.usage_chunk {
                    let usage_chunk = chunk(created, Vec::new(), Some(usage(turn)));
                    events.extend(encode::event(ctx.dialect, &usage_chunk));
                }
                events.extend_from_slice(encode::DONE);
            }
            Line {
                delay: turn.delays[index],
                bytes: Bytes::from(events),
            }
        })
        .collect();
    let mut lost_chunk = ctx.object(
        &id,
        "text_completion",
        ctx.created(turn, 0),
        vec![choice(ctx, "", Value::Null)],
    );
    lost_chunk.insert("model".to_owned(), json!(""));
    SseReply {
        lines,
        framing: SseFraming::new(ctx.dialect, Value::Object(lost_chunk)),
    }
}
