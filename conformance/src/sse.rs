//! Server-sent events read as the WHATWG spec says a client reads them — a leading BOM dropped,
//! lines ended by CR, LF or CRLF, `:` comments ignored, one space after the colon stripped, an
//! event dispatched at a blank line only when it has data — while keeping what a judge needs on
//! top: the line endings used, the comments, non-standard fields, a trailing event without its
//! blank line. [`Framing::client_events`] is what a spec-following client dispatches.
//!
//! The reader is the runner's own, not a dependency's: the judge must not share the parser of what
//! it judges, and the common crate (`eventsource-stream` 0.2) panics on a BOM and drops an event
//! ended by CRs at the end of the body. Any byte sequence yields findings, never a panic.

use std::collections::BTreeSet;

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
    /// Events terminated by a blank line: every block with data, and every block with a
    /// non-standard field (which a client ignores, so its payload is lost).
    pub frames: Vec<Frame>,
    /// Blocks with only `id:`, `event:` or `retry:` fields: legal, and never dispatched.
    pub dataless_blocks: usize,
    /// The body started with a byte order mark (legal; clients skip it).
    pub bom: bool,
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
        let text = match text.strip_prefix('\u{feff}') {
            Some(rest) => {
                framing.bom = true;
                rest
            }
            None => &text,
        };
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
                    if current.data.is_some() || !current.other_fields.is_empty() {
                        current.index = framing.frames.len();
                        framing.frames.push(std::mem::take(&mut current));
                    } else {
                        framing.dataless_blocks += 1;
                        current = Frame::default();
                    }
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

impl Framing {
    /// The events a spec-following client dispatches, `(event name, data)`: every terminated
    /// block with data, named `message` unless an `event:` field says otherwise.
    pub fn client_events(&self) -> Vec<(String, String)> {
        self.frames
            .iter()
            .filter_map(|frame| {
                let data = frame.data.clone()?;
                let name = frame
                    .event
                    .clone()
                    .filter(|name| !name.is_empty())
                    .unwrap_or_else(|| "message".to_owned());
                Some((name, data))
            })
            .collect()
    }
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

    fn events(body: &[u8]) -> Vec<(String, String)> {
        Framing::read(body).client_events()
    }

    fn message(data: &str) -> (String, String) {
        ("message".to_owned(), data.to_owned())
    }

    #[test]
    fn the_client_view_drops_unterminated_events() {
        assert_eq!(events(b"data: a\n\ndata: b"), vec![message("a")]);
    }

    #[test]
    fn a_leading_bom_is_skipped() {
        let framing = Framing::read(b"\xEF\xBB\xBFdata: a\n\n");
        assert!(framing.bom);
        assert_eq!(framing.client_events(), vec![message("a")]);
        assert!(framing.frames[0].other_fields.is_empty());
    }

    #[test]
    fn every_line_ending_dispatches_alike() {
        for body in [
            &b"data: a\r\rdata: b\r\r"[..],
            b"data: a\r\n\r\ndata: b\r\n\r\n",
            b"data: a\n\ndata: b\n\n",
        ] {
            assert_eq!(events(body), vec![message("a"), message("b")], "{body:?}");
        }
    }

    #[test]
    fn blocks_without_data_are_legal_and_not_dispatched() {
        let framing = Framing::read(b"retry: 3000\n\nid: 7\nevent: ping\n\ndata:x\n\n");
        assert_eq!(framing.dataless_blocks, 2);
        assert_eq!(framing.client_events(), vec![message("x")]);
        assert_eq!(framing.frames.len(), 1);
    }

    #[test]
    fn an_empty_data_field_is_still_an_event_and_names_default_to_message() {
        assert_eq!(events(b"data\n\n"), vec![message("")]);
        assert_eq!(
            events(b"event:\ndata: a\n\nevent: error\ndata: b\n\n"),
            vec![message("a"), ("error".to_owned(), "b".to_owned())]
        );
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_without_panicking(body in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..512)) {
            let framing = Framing::read(&body);
            let dispatched = framing.client_events().len();
            proptest::prop_assert!(dispatched <= framing.frames.len());
        }

        #[test]
        fn any_sse_like_text_is_read_without_panicking(
            body in "(\u{feff})?((data|event|id|retry|error|:)?(: ?)?[a-z{}\\[\\]\":]{0,8}(\r\n|\r|\n)){0,12}"
        ) {
            let framing = Framing::read(body.as_bytes());
            proptest::prop_assert!(framing.client_events().len() <= framing.frames.len());
        }
    }
}
