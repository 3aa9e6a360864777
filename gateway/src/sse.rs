//! Server-sent events as OpenAI writes them: `data: <json>\n\n` frames, no `event:` or `id:`
//! lines, `data: [DONE]\n\n` at the end of a successful stream. A failure after the head was sent
//! becomes one `data: {"error": {...}}` frame and the stream ends there — deliberately without
//! `[DONE]`, so no client mistakes a failed stream for a finished one.

use axum::{
    body::Body,
    http::{HeaderValue, StatusCode, header},
    response::{IntoResponse, Response},
};
use bytes::{BufMut, Bytes, BytesMut};
use futures_util::Stream;
use serde::Serialize;

use crate::error::GatewayError;

/// The terminating frame.
pub const DONE: &[u8] = b"data: [DONE]\n\n";

/// Appends one `data:` frame for `value`.
pub fn write_frame<T: Serialize>(out: &mut BytesMut, value: &T) {
    out.put_slice(b"data: ");
    // Serializing our own wire structs into memory cannot fail.
    let _ = serde_json::to_writer((&mut *out).writer(), value);
    out.put_slice(b"\n\n");
}

/// The frame that reports a failure mid-stream.
pub fn error_frame(error: &GatewayError) -> Bytes {
    let mut out = BytesMut::with_capacity(256);
    write_frame(&mut out, &error.envelope());
    out.freeze()
}

/// A `200 text/event-stream` response over a stream of frames.
pub fn response<S>(frames: S) -> Response
where
    S: Stream<Item = Result<Bytes, std::convert::Infallible>> + Send + 'static,
{
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

    #[test]
    fn error_frames_carry_the_envelope() {
        let frame = error_frame(&GatewayError::UpstreamStream {
            message: "runner died".into(),
        });
        assert_eq!(
            &frame[..],
            &br#"data: {"error":{"message":"runner died","type":"api_error","param":null,"code":"upstream_error"}}

"#[..]
        );
    }
}
