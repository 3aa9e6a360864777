//! Why a connection to an upstream failed, read off the transport's error chain: a stable reason
//! for the client ([`Unreachable`]), while the chain itself — addresses, URLs, the TLS library's
//! words — goes to the log, under the request's span and id.

use std::io;

use crate::error::Unreachable;

/// The reason `error` (with its sources) gives for an upstream that could not be reached.
pub fn reason(error: &(dyn std::error::Error + 'static)) -> Unreachable {
    let mut source = Some(error);
    while let Some(cause) = source {
        if let Some(io) = cause.downcast_ref::<io::Error>() {
            match io.kind() {
                io::ErrorKind::ConnectionRefused => return Unreachable::Refused,
                io::ErrorKind::TimedOut => return Unreachable::ConnectTimeout,
                io::ErrorKind::ConnectionReset
                | io::ErrorKind::ConnectionAborted
                | io::ErrorKind::BrokenPipe
                | io::ErrorKind::UnexpectedEof => return Unreachable::Closed,
                _ => {}
            }
        }
        source = cause.source();
    }
    let text = wire::error_chain::error_chain(error).to_lowercase();
    let says = |words: &[&str]| words.iter().any(|word| text.contains(word));
    // rustls says "invalid peer certificate: UnknownIssuer" (or CaUsedAsEndEntity, Expired…).
    if says(&["certificate"]) {
        Unreachable::CertificateNotTrusted
    } else if says(&["tls", "handshake", "alert"]) {
        Unreachable::Tls
    } else if says(&["dns", "failed to lookup", "name or service not known"]) {
        Unreachable::NameNotResolved
    } else if says(&["timed out"]) {
        Unreachable::ConnectTimeout
    } else if says(&["connection refused"]) {
        Unreachable::Refused
    } else if says(&["closed", "reset", "eof"]) {
        Unreachable::Closed
    } else {
        Unreachable::Failed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, thiserror::Error)]
    #[error("error sending request for url (https://10.0.0.7:8443/v1/chat/completions)")]
    struct Wrapped(#[source] Box<dyn std::error::Error + Send + Sync>);

    fn wrapped(inner: impl std::error::Error + Send + Sync + 'static) -> Wrapped {
        Wrapped(Box::new(inner))
    }

    #[test]
    fn socket_errors_are_read_by_their_kind_however_deep() {
        for (kind, reason) in [
            (io::ErrorKind::ConnectionRefused, Unreachable::Refused),
            (io::ErrorKind::TimedOut, Unreachable::ConnectTimeout),
            (io::ErrorKind::ConnectionReset, Unreachable::Closed),
        ] {
            let error = wrapped(io::Error::new(kind, "os error"));
            assert_eq!(super::reason(&error), reason, "{kind:?}");
        }
    }

    #[test]
    fn tls_failures_say_whether_the_certificate_was_the_cause() {
        let untrusted = wrapped(io::Error::other(
            "invalid peer certificate: Other(OtherError(CaUsedAsEndEntity))",
        ));
        assert_eq!(reason(&untrusted), Unreachable::CertificateNotTrusted);
        let handshake = wrapped(io::Error::other("received fatal alert: HandshakeFailure"));
        assert_eq!(reason(&handshake), Unreachable::Tls);
        let unknown = wrapped(io::Error::other("something else"));
        assert_eq!(reason(&unknown), Unreachable::Failed);
    }

    #[test]
    fn what_a_client_is_told_names_no_address_and_no_library() {
        let error = crate::error::GatewayError::UpstreamUnavailable {
            backend: "vllm".to_owned(),
            reason: reason(&wrapped(io::Error::other(
                "invalid peer certificate: UnknownIssuer",
            ))),
        };
        assert_eq!(
            error.to_string(),
            "The upstream vllm could not be reached: TLS certificate not trusted."
        );
    }
}
