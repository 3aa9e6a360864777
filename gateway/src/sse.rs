//! Server-sent events as OpenAI writes them: `data: <json>\n\n` frames, no `event:` or `id:`
//! lines, `data: [DONE]\n\n` at the end of a successful stream. A failure after the head was sent
//! becomes one `data: {"error": {...}}` frame and the stream ends there — deliberately without
//! `[DONE]`, so no client mistakes a failed stream for a finished one.
//!
//! This is the one place a reply's chunks become bytes: each `Batch` is encoded into one
//! buffer, so that what the upstream delivered together leaves in one write.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::{Stream, StreamExt};
use serde::Serialize;

use crate::call::Batch;

/// The terminating frame.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Appends one `data:` frame for `value`.
pub fn write_frame<T: Serialize>(out: &mut BytesMut, value: &T) {
    out.put_slice(b"data: ");
    // Serializing our own wire structs into memory cannot fail.
    let _ = serde_json::to_writer((&mut *out).writer(), value);
    out.put_slice(b"\n\n");
}

/// A batch's frames: its chunks, then `[DONE]` or the error frame when it is the last.
pub(crate) fn encode(batch: Batch) -> Bytes {
    // A content chunk's frame is ~150–250 bytes; this rarely grows.
    let mut out = BytesMut::with_capacity(256 * batch.chunks.len() + 32);
    for chunk in &batch.chunks {
        write_frame(&mut out, chunk);
    }
    match batch.end {
        None => {}
        Some(Ok(())) => out.put_slice(DONE),
        Some(Err(error)) => write_frame(&mut out, &error.envelope()),
    }
    out.freeze()
}

/// A `200 text/event-stream` response over a stream of encoded frames.
pub(crate) fn response<S>(frames: S) -> Response
where
    S: Stream<Item = Bytes> + Send + 'static,
{
    let frames = frames.map(Ok::<_, std::convert::Infallible>);
    (
        StatusCode::OK,
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static("text/event-stream"),
            ),
            (header::CACHE_CONTROL, HeaderValue::from_static("no-cache")),
            // Tell buffering proxies (nginx) to pass frames through as they come.
            (
                header::HeaderName::from_static("x-accel-buffering"),
                HeaderValue::from_static("no"),
            ),
        ],
        Body::from_stream(frames),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::GatewayError;

    #[test]
    fn a_failed_last_batch_ends_with_the_envelope_and_no_done() {
        let failed = Batch {
            chunks: Vec::new(),
            end: Some(Err(GatewayError::UpstreamStream {
                message: "runner died".into(),
            })),
            usage: None,
        };
        assert_eq!(
            &encode(failed)[..],
            &br#"data: {"error":{"message":"runner died","type":"api_error","param":null,"code":"upstream_error"}}

"#[..]
        );
    }

    #[test]
    fn a_clean_last_batch_ends_with_done_and_a_middle_one_with_neither() {
        let head = crate::translate::ReplyHead {
            id: "chatcmpl-1".into(),
            created: 1,
            model: "m".into(),
            include_usage: false,
        };
        let middle = encode(Batch {
            chunks: vec![head.chunk(Vec::new()), head.chunk(Vec::new())],
            end: None,
            usage: None,
        });
        let text = std::str::from_utf8(&middle).expect("utf8");
        assert_eq!(text.matches("data: {").count(), 2, "{text}");
        assert!(!text.contains("[DONE]"));
        let last = encode(Batch {
            chunks: Vec::new(),
            end: Some(Ok(())),
            usage: None,
        });
        assert_eq!(&last[..], DONE);
    }
}
