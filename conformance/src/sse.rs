//! Server-sent events read two ways: byte by byte, to judge the framing itself (line endings,
//! blank-line termination, comments, fields, what follows `[DONE]`), and with `eventsource-stream`,
//! a spec-following parser, for the payloads the checks judge. A malformed stream yields findings,
//! never a panic.

use std::collections::BTreeSet;

use futures_util::StreamExt;
use serde::Serialize;

/// One dispatched event, as the byte-level reader saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Frame {
    /// Position among dispatched events.
    pub index: usize,
    /// `data:` lines joined with `\n`; `None` without any.
    pub data: Option<String>,
    /// How many `data:` lines it had.
    pub data_lines: usize,
    /// The `event:` value.
    pub event: Option<String>,
    /// The `id:` value.
    pub id: Option<String>,
    /// Non-standard field names (anything but data, event, id, retry).
    pub other_fields: Vec<String>,
}

/// The framing of a whole body.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Framing {
    /// Events terminated by a blank line.
    pub frames: Vec<Frame>,
    /// Text of a trailing event without its blank line (discarded by compliant parsers).
    pub unterminated: Option<String>,
    /// Comment lines (`:` first).
    pub comments: Vec<String>,
    /// Which line endings occur: `LF`, `CRLF`, `CR`.
    pub line_endings: BTreeSet<&'static str>,
}

impl Framing {
    /// Reads the framing of `body`.
    pub fn read(body: &[u8]) -> Self {
        let text = String::from_utf8_lossy(body);
        let mut framing = Framing::default();
        let mut current = Frame::default();
        let mut has_fields = false;
        let mut pending = String::new();
        let mut chars = text.chars().peekable();
        let mut lines: Vec<(String, bool)> = Vec::new();
        while let Some(c) = chars.next() {
            match c {
                '\r' => {
                    if chars.peek() == Some(&'\n') {
                        chars.next();
                        framing.line_endings.insert("CRLF");
                    } else {
                        framing.line_endings.insert("CR");
                    }
                    lines.push((std::mem::take(&mut pending), true));
                }
                '\n' => {
                    framing.line_endings.insert("LF");
                    lines.push((std::mem::take(&mut pending), true));
                }
                other => pending.push(other),
            }
        }
        if !pending.is_empty() {
            lines.push((pending, false));
        }
        let mut tail = String::new();
        for (line, _terminated) in lines {
            if line.is_empty() {
                if has_fields {
                    current.index = framing.frames.len();
                    framing.frames.push(std::mem::take(&mut current));
                    has_fields = false;
                }
                tail.clear();
                continue;
            }
            tail.push_str(&line);
            tail.push('\n');
            if let Some(comment) = line.strip_prefix(':') {
                framing.comments.push(comment.trim_start().to_owned());
                continue;
            }
            has_fields = true;
            let (name, value) = match line.split_once(':') {
                Some((name, value)) => (
                    name.to_owned(),
                    value.strip_prefix(' ').unwrap_or(value).to_owned(),
                ),
                None => (line.clone(), String::new()),
            };
            match name.as_str() {
                "data" => {
                    current.data_lines += 1;
                    match &mut current.data {
                        Some(data) => {
                            data.push('\n');
                            data.push_str(&value);
                        }
                        None => current.data = Some(value),
                    }
                }
                "event" => current.event = Some(value),
                "id" => current.id = Some(value),
                "retry" => {}
                other => current.other_fields.push(other.to_owned()),
            }
        }
        if has_fields {
            framing.unterminated = Some(tail.trim_end().to_owned());
        }
        framing
    }

    /// Index of the first `[DONE]` event.
    pub fn done_index(&self) -> Option<usize> {
        self.frames
            .iter()
            .position(|frame| frame.data.as_deref() == Some("[DONE]"))
    }
}

/// The events a spec-following client (eventsource-stream) dispatches: `(event name, data)`.
pub async fn client_events(body: &[u8]) -> Vec<(String, String)> {
    let bytes = bytes::Bytes::copy_from_slice(body);
    let source = futures_util::stream::iter([Ok::<_, std::convert::Infallible>(bytes)]);
    eventsource_stream::Eventsource::eventsource(source)
        .filter_map(|event| async move { event.ok().map(|event| (event.event, event.data)) })
        .collect()
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_conformant_framing() {
        let framing = Framing::read(b"data: {\"a\":1}\n\n: ping\n\ndata: [DONE]\n\n");
        assert_eq!(framing.frames.len(), 2);
        assert_eq!(framing.frames[0].data.as_deref(), Some("{\"a\":1}"));
        assert_eq!(framing.comments, vec!["ping".to_owned()]);
        assert_eq!(framing.done_index(), Some(1));
        assert!(framing.unterminated.is_none());
        assert_eq!(
            framing.line_endings.iter().copied().collect::<Vec<_>>(),
            ["LF"]
        );
    }

    #[test]
    fn finds_framing_faults() {
        let framing = Framing::read(
            b"data:x\r\nerror: {\"bad\":1}\r\n\r\n{\"unframed\":true}\n\ndata: [DONE]",
        );
        assert_eq!(framing.frames[0].data.as_deref(), Some("x"));
        assert_eq!(framing.frames[0].other_fields, vec!["error".to_owned()]);
        assert_eq!(
            framing.frames[1].other_fields,
            vec!["{\"unframed\"".to_owned()]
        );
        assert_eq!(framing.unterminated.as_deref(), Some("data: [DONE]"));
        assert!(framing.line_endings.contains("CRLF") && framing.line_endings.contains("LF"));
    }

    #[test]
    fn survives_garbage() {
        let framing = Framing::read(&[0xff, 0xfe, b'\n', b'\n', 0x00]);
        assert!(framing.frames.len() <= 1);
    }

    #[tokio::test]
    async fn the_client_parser_drops_unterminated_events() {
        let events = client_events(b"data: a\n\ndata: b").await;
        assert_eq!(events, vec![("message".to_owned(), "a".to_owned())]);
    }
}
