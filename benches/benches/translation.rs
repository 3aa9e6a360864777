//! Per-chunk cost of the streaming path (NDJSON line → OpenAI chunk → SSE bytes), the cost of
//! reading an upstream stream into lines and events, and per-request cost of validation +
//! translation, without sockets.

use bytes::BytesMut;
use criterion::{BatchSize, Criterion, Throughput, criterion_group, criterion_main};
use gateway::{
    sse,
    translate::{ReplyHead, StreamTranslator, to_ollama},
};
use std::hint::black_box;
use wire::ollama::OllamaExtensions;
use wire::openai::validate;

fn native_line(content: &str) -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "llama3.2", "created_at": "2026-01-01T00:00:00.021Z",
        "message": {"role": "assistant", "content": content}, "done": false
    }))
    .unwrap_or_default()
}

fn tool_line() -> Vec<u8> {
    serde_json::to_vec(&serde_json::json!({
        "model": "llama3.2", "created_at": "2026-01-01T00:00:00.021Z",
        "message": {"role": "assistant", "content": "", "tool_calls": [{"id": "call_k3j9x0ab",
            "function": {"index": 0, "name": "get_weather", "arguments": {"city": "Paris", "unit": "celsius"}}}]},
        "done": false
    }))
    .unwrap_or_default()
}

fn head() -> ReplyHead {
    ReplyHead {
        id: "chatcmpl-0123456789abcdef0123456789abcdef".to_owned(),
        created: 1_767_225_600,
        model: "llama3.2".to_owned(),
        include_usage: false,
    }
}

fn per_chunk(c: &mut Criterion) {
    let mut group = c.benchmark_group("chunk: ndjson line -> openai chunk -> sse bytes");
    group.throughput(Throughput::Elements(1));
    let long = "lorem ipsum dolor sit amet ".repeat(20);
    let cases = [
        ("short content", native_line(" Hello")),
        ("long content (540 B)", native_line(&long)),
        ("tool call", tool_line()),
    ];
    for (name, line) in cases {
        group.bench_function(name, |b| {
            b.iter_batched_ref(
                || {
                    // A translator past its opening role chunk, as mid-stream.
                    let mut translator = StreamTranslator::new(head(), "bench");
                    let mut warmup = Vec::new();
                    let _ = translator.push_line(&native_line(""), &mut warmup);
                    (
                        translator,
                        Vec::with_capacity(4),
                        BytesMut::with_capacity(1024),
                    )
                },
                |(translator, chunks, out)| {
                    let _ = translator.push_line(black_box(&line), chunks);
                    for chunk in chunks.drain(..) {
                        sse::write_frame(out, &chunk);
                    }
                    black_box(out.len())
                },
                BatchSize::SmallInput,
            )
        });
    }
    group.finish();
}

/// An upstream stream as it arrives: `lines` lines, cut into reads of 4 KiB.
fn reads(lines: &[Vec<u8>]) -> Vec<Vec<u8>> {
    lines.concat().chunks(4096).map(<[u8]>::to_vec).collect()
}

fn per_stream_read(c: &mut Criterion) {
    let mut group = c.benchmark_group("stream: upstream reads -> lines / events");
    let ndjson: Vec<Vec<u8>> = (0..1000)
        .map(|i| [native_line(&format!(" token{i}")), b"\n".to_vec()].concat())
        .collect();
    let sse_lines: Vec<Vec<u8>> = ndjson
        .iter()
        .map(|line| [b"data: ", &line[..line.len() - 1], b"\n\n"].concat())
        .collect();
    for (name, pieces, ndjson) in [
        ("1000 NDJSON lines", reads(&ndjson), true),
        ("1000 SSE events", reads(&sse_lines), false),
    ] {
        group.throughput(Throughput::Elements(1000));
        group.bench_function(name, |b| {
            b.iter(|| {
                let mut count = 0;
                if ndjson {
                    let mut lines = wire::ndjson::LineSplitter::new();
                    for piece in &pieces {
                        let _ = lines.push::<wire::ndjson::LineTooLong>(piece, |line| {
                            count += line.len();
                            Ok(())
                        });
                    }
                } else {
                    let mut events = wire::sse::Decoder::new();
                    let mut out = Vec::new();
                    for piece in &pieces {
                        let _ = events.feed(piece, &mut out);
                        count += out.drain(..).map(|event| event.data.len()).sum::<usize>();
                    }
                }
                black_box(count)
            })
        });
    }
    group.finish();
}

fn per_request(c: &mut Criterion) {
    let mut group = c.benchmark_group("request: validate + translate to ollama");
    let short = serde_json::json!({"model": "llama3.2", "messages": [{"role": "user", "content": "Hello!"}]}).to_string();
    let tools = serde_json::json!({"model": "llama3.2", "stream": true, "temperature": 0.2, "max_completion_tokens": 64,
        "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
        "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"},
            {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            {"role": "tool", "tool_call_id": "call_1", "content": "18C"}]}).to_string();
    let long = serde_json::json!({"model": "llama3.2", "messages": [{"role": "user", "content": "lorem ipsum ".repeat(400)}]}).to_string();
    for (name, body) in [
        ("short", short),
        ("tool round trip", tools),
        ("long content (4.8 KB)", long),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let request = validate::chat_request(black_box(body.as_bytes())).ok();
                request.map(|request| {
                    to_ollama(&request, "llama3.2", &OllamaExtensions::default())
                        .map(|native| native.messages.len())
                })
            })
        });
    }
    group.finish();
}

criterion_group!(benches, per_chunk, per_stream_read, per_request);
criterion_main!(benches);
