//! HTTP/1.1 as bytes, with no socket: a request encoded into one buffer, a response head parsed
//! off the front of what was read, and a body's framing (`Content-Length`, chunked coding, or the
//! connection's close, RFC 9112 §6.3) decoded piece by piece. hyper keeps the same split:
//! `proto/h1` knows bytes, `client/pool` knows connections.

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, header};
use bytes::{Buf, Bytes, BytesMut};

use super::error::Http1Error;

/// The largest response head accepted.
const MAX_HEAD: usize = 64 * 1024;
/// The most header fields in a response head.
const MAX_HEADERS: usize = 100;
/// The longest chunk-size or trailer line accepted.
const MAX_CHUNK_LINE: usize = 4096;

/// The request line, the headers, `Content-Length` and the body, in one buffer.
pub(super) fn encode(request: &Request<Bytes>) -> Vec<u8> {
    let body = request.body();
    let path = request
        .uri()
        .path_and_query()
        .map_or("/", |path| path.as_str());
    let mut out = Vec::with_capacity(256 + body.len());
    out.extend_from_slice(request.method().as_str().as_bytes());
    out.push(b' ');
    out.extend_from_slice(path.as_bytes());
    out.extend_from_slice(b" HTTP/1.1\r\n");
    for (name, value) in request.headers() {
        out.extend_from_slice(name.as_str().as_bytes());
        out.extend_from_slice(b": ");
        out.extend_from_slice(value.as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    if !body.is_empty() || !matches!(*request.method(), Method::GET | Method::HEAD) {
        out.extend_from_slice(format!("content-length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A response head, with how its body is framed and whether the connection outlives it.
#[derive(Debug)]
pub(super) struct Head {
    pub(super) status: StatusCode,
    pub(super) headers: HeaderMap,
    pub(super) framing: Framing,
    pub(super) keep_alive: bool,
}

/// Takes a complete response head off the front of `unread`, or `None` while it is partial.
pub(super) fn parse_head(
    unread: &mut BytesMut,
    method: &Method,
) -> Result<Option<Head>, Http1Error> {
    let malformed = |what: &dyn std::fmt::Display| Http1Error::MalformedHead(what.to_string());
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut parsed = httparse::Response::new(&mut fields);
    let length = match parsed.parse(unread) {
        Ok(httparse::Status::Complete(length)) => length,
        Ok(httparse::Status::Partial) if unread.len() > MAX_HEAD => {
            return Err(Http1Error::HeadTooLarge(MAX_HEAD));
        }
        Ok(httparse::Status::Partial) => return Ok(None),
        Err(error) => return Err(malformed(&error)),
    };
    let status =
        StatusCode::from_u16(parsed.code.unwrap_or_default()).map_err(|e| malformed(&e))?;
    let http11 = parsed.version == Some(1);
    let mut headers = HeaderMap::with_capacity(parsed.headers.len());
    for field in parsed.headers.iter() {
        let name = HeaderName::from_bytes(field.name.as_bytes()).map_err(|e| malformed(&e))?;
        let value = HeaderValue::from_bytes(field.value).map_err(|e| malformed(&e))?;
        headers.append(name, value);
    }
    unread.advance(length);
    let framing = Framing::of(status, &headers, method)?;
    let keep_alive = !matches!(framing, Framing::UntilClose)
        && if http11 {
            !has_token(&headers, header::CONNECTION, "close")
        } else {
            has_token(&headers, header::CONNECTION, "keep-alive")
        };
    Ok(Some(Head {
        status,
        headers,
        framing,
        keep_alive,
    }))
}

/// Whether a comma-separated header lists `token` (case-insensitively).
fn has_token(headers: &HeaderMap, name: HeaderName, token: &str) -> bool {
    headers
        .get_all(name)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(','))
        .any(|listed| listed.trim().eq_ignore_ascii_case(token))
}

/// How a body's end is known, and how far the decoding got.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Framing {
    /// This many bytes are still to come.
    Length(u64),
    /// Chunked coding, in this state.
    Chunked(Chunked),
    /// Everything until the upstream closes the connection.
    UntilClose,
    /// Over.
    Ended,
}

/// Where chunked decoding stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Chunked {
    /// Expecting a chunk-size line.
    Size,
    /// Inside a chunk's data, this many bytes to go.
    Data(u64),
    /// Expecting the CRLF after a chunk's data.
    DataEnd,
    /// After the last chunk: trailer fields until an empty line.
    Trailers,
}

/// What decoding the bytes at hand gave.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Decoded {
    /// A piece of the body.
    Data(Bytes),
    /// Nothing until more is read.
    NeedMore,
    /// The body is complete.
    End,
}

impl Framing {
    /// The framing RFC 9112 §6.3 gives the response to `method` with this head.
    fn of(status: StatusCode, headers: &HeaderMap, method: &Method) -> Result<Self, Http1Error> {
        if *method == Method::HEAD
            || status.is_informational()
            || status == StatusCode::NO_CONTENT
            || status == StatusCode::NOT_MODIFIED
        {
            return Ok(Self::Ended);
        }
        if headers.contains_key(header::TRANSFER_ENCODING) {
            let last = headers
                .get_all(header::TRANSFER_ENCODING)
                .iter()
                .filter_map(|value| value.to_str().ok())
                .flat_map(|value| value.split(','))
                .last()
                .map(str::trim);
            return Ok(match last {
                Some(coding) if coding.eq_ignore_ascii_case("chunked") => {
                    Self::Chunked(Chunked::Size)
                }
                _ => Self::UntilClose,
            });
        }
        let mut lengths = headers.get_all(header::CONTENT_LENGTH).iter().map(|value| {
            value
                .to_str()
                .ok()
                .and_then(|text| text.trim().parse::<u64>().ok())
        });
        match lengths.next() {
            None => Ok(Self::UntilClose),
            Some(Some(length)) if lengths.all(|other| other == Some(length)) => {
                Ok(Self::Length(length))
            }
            Some(_) => Err(Http1Error::MalformedHead(
                "an invalid or conflicting Content-Length".to_owned(),
            )),
        }
    }

    /// Takes the next piece of the body off the front of `unread`.
    pub(super) fn decode(&mut self, unread: &mut BytesMut) -> Result<Decoded, Http1Error> {
        loop {
            match self {
                Self::Ended => return Ok(Decoded::End),
                Self::Length(0) => *self = Self::Ended,
                Self::Length(left) => return Ok(take(unread, left)),
                Self::UntilClose if unread.is_empty() => return Ok(Decoded::NeedMore),
                Self::UntilClose => return Ok(Decoded::Data(unread.split().freeze())),
                Self::Chunked(state) => match *state {
                    Chunked::Size => match httparse::parse_chunk_size(unread) {
                        Ok(httparse::Status::Complete((length, size))) => {
                            unread.advance(length);
                            *state = if size == 0 {
                                Chunked::Trailers
                            } else {
                                Chunked::Data(size)
                            };
                        }
                        Ok(httparse::Status::Partial) if unread.len() > MAX_CHUNK_LINE => {
                            return Err(Http1Error::MalformedChunk("a chunk-size line too long"));
                        }
                        Ok(httparse::Status::Partial) => return Ok(Decoded::NeedMore),
                        Err(_) => return Err(Http1Error::MalformedChunk("an invalid chunk size")),
                    },
                    Chunked::Data(0) => *state = Chunked::DataEnd,
                    Chunked::Data(ref mut left) => return Ok(take(unread, left)),
                    Chunked::DataEnd if unread.len() < 2 => return Ok(Decoded::NeedMore),
                    Chunked::DataEnd if unread.starts_with(b"\r\n") => {
                        unread.advance(2);
                        *state = Chunked::Size;
                    }
                    Chunked::DataEnd => {
                        return Err(Http1Error::MalformedChunk("no CRLF after a chunk's data"));
                    }
                    Chunked::Trailers => match unread.windows(2).position(|pair| pair == b"\r\n") {
                        Some(0) => {
                            unread.advance(2);
                            *self = Self::Ended;
                        }
                        Some(line) => unread.advance(line + 2),
                        None if unread.len() > MAX_CHUNK_LINE => {
                            return Err(Http1Error::MalformedChunk("a trailer line too long"));
                        }
                        None => return Ok(Decoded::NeedMore),
                    },
                },
            }
        }
    }
}

/// Up to `left` bytes of data off the front of `unread`.
fn take(unread: &mut BytesMut, left: &mut u64) -> Decoded {
    if unread.is_empty() {
        return Decoded::NeedMore;
    }
    let length = usize::try_from(*left).map_or(unread.len(), |left| left.min(unread.len()));
    *left -= length as u64;
    Decoded::Data(unread.split_to(length).freeze())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// Decodes `body` fed in pieces cut at `cuts`: the data, or the first error.
    fn decode_in_pieces(
        mut framing: Framing,
        body: &[u8],
        cuts: &[usize],
    ) -> Result<(Vec<u8>, bool), Http1Error> {
        let mut unread = BytesMut::new();
        let mut data = Vec::new();
        let mut fed = 0;
        let mut ends = cuts.to_vec();
        ends.push(body.len());
        ends.sort_unstable();
        for end in ends {
            unread.extend_from_slice(&body[fed..end.min(body.len()).max(fed)]);
            fed = end.min(body.len()).max(fed);
            loop {
                match framing.decode(&mut unread)? {
                    Decoded::Data(piece) => data.extend_from_slice(&piece),
                    Decoded::NeedMore => break,
                    Decoded::End => return Ok((data, true)),
                }
            }
        }
        Ok((data, false))
    }

    fn chunked(pieces: &[&[u8]], trailer: &str) -> Vec<u8> {
        let mut body = Vec::new();
        for piece in pieces {
            body.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
            body.extend_from_slice(piece);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("0\r\n{trailer}\r\n").as_bytes());
        body
    }

    proptest! {
        #[test]
        fn chunked_bodies_decode_the_same_however_the_reads_cut_them(
            pieces in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 1..300), 0..8),
            cuts in proptest::collection::vec(0usize..3000, 0..12),
            with_trailer in any::<bool>(),
        ) {
            let slices: Vec<&[u8]> = pieces.iter().map(Vec::as_slice).collect();
            let body = chunked(&slices, if with_trailer { "x-checksum: 1\r\n" } else { "" });
            let decoded = decode_in_pieces(Framing::Chunked(Chunked::Size), &body, &cuts).unwrap();
            prop_assert_eq!(decoded, (pieces.concat(), true));
        }

        #[test]
        fn a_content_length_body_ends_at_its_length(
            body in proptest::collection::vec(any::<u8>(), 0..2000),
            cuts in proptest::collection::vec(0usize..2000, 0..8),
        ) {
            let framing = Framing::Length(body.len() as u64);
            let mut wire = body.clone();
            wire.extend_from_slice(b"HTTP/1.1 200 OK\r\n");
            let (data, ended) = decode_in_pieces(framing, &wire, &cuts).unwrap();
            prop_assert!(ended);
            prop_assert_eq!(data, body);
        }
    }

    #[test]
    fn broken_chunked_coding_is_an_error() {
        for (body, why) in [
            (&b"zz\r\nab\r\n0\r\n\r\n"[..], "an invalid chunk size"),
            (b"2\r\nabXY0\r\n\r\n", "no CRLF after a chunk's data"),
        ] {
            let error = decode_in_pieces(Framing::Chunked(Chunked::Size), body, &[]).unwrap_err();
            assert!(
                matches!(error, Http1Error::MalformedChunk(said) if said == why),
                "{error}"
            );
        }
    }

    fn head(text: &str, method: Method) -> Result<Option<Head>, Http1Error> {
        parse_head(&mut BytesMut::from(text), &method)
    }

    #[test]
    fn the_head_says_how_the_body_is_framed_and_whether_the_connection_is_kept() {
        let cases = [
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\ncontent-length: 5\r\n\r\n",
                Method::POST,
                Framing::Chunked(Chunked::Size),
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\n\r\n",
                Method::POST,
                Framing::UntilClose,
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\ntransfer-encoding: gzip\r\n\r\n",
                Method::POST,
                Framing::UntilClose,
                false,
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\nconnection: Close\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                false,
            ),
            (
                "HTTP/1.0 200 OK\r\ncontent-length: 5\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                false,
            ),
            (
                "HTTP/1.0 200 OK\r\ncontent-length: 5\r\nconnection: keep-alive\r\n\r\n",
                Method::POST,
                Framing::Length(5),
                true,
            ),
            (
                "HTTP/1.1 204 No Content\r\n\r\n",
                Method::POST,
                Framing::Ended,
                true,
            ),
            (
                "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\n",
                Method::HEAD,
                Framing::Ended,
                true,
            ),
        ];
        for (text, method, framing, keep_alive) in cases {
            let head = head(text, method).unwrap().unwrap();
            assert_eq!(
                (head.framing, head.keep_alive),
                (framing, keep_alive),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_partial_head_waits_and_a_bad_one_is_an_error() {
        assert!(
            head("HTTP/1.1 200 OK\r\ncontent-le", Method::GET)
                .unwrap()
                .is_none()
        );
        for bad in [
            "HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\n",
            "HTTP/1.1 200 OK\r\ncontent-length: five\r\n\r\n",
            "SMTP ready\r\n\r\n",
        ] {
            assert!(
                matches!(head(bad, Method::GET), Err(Http1Error::MalformedHead(_))),
                "{bad:?}"
            );
        }
        let endless = format!("HTTP/1.1 200 OK\r\n{}", "x-filler: yes\r\n".repeat(5000));
        assert!(matches!(
            head(&endless, Method::GET),
            Err(Http1Error::MalformedHead(_) | Http1Error::HeadTooLarge(_))
        ));
    }
}
