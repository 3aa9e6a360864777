//! Who a TLS client of the toolkit trusts (with the `tls` feature): the system's roots, plus the
//! certificates of a `ca_cert`/`--ca-cert` file. Each of those is a trust anchor, and is also
//! pinned: a server that presents exactly that certificate, for a name it covers, is trusted as
//! itself even when the certificate could not be verified as a chain. That is the self-signed
//! certificate most people make (`openssl req -x509 … -addext subjectAltName=…`, which OpenSSL 3
//! marks `CA:TRUE`): curl and Python's `ssl` accept it as the trusted file, while webpki refuses a
//! CA certificate as the end entity (`CaUsedAsEndEntity`).
//!
//! The handshake's signature is still verified with the presented certificate's key, so the pin
//! proves possession of the pinned certificate's private key, as a chain would.

use std::sync::Arc;

use rustls::{
    DigitallySignedStruct, SignatureScheme,
    client::{
        danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier},
        verify_server_name,
    },
    crypto::{CryptoProvider, verify_tls12_signature, verify_tls13_signature},
    pki_types::{CertificateDer, ServerName, UnixTime, pem::PemObject},
    server::ParsedCertificate,
};

/// Why a trust configuration cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum TrustError {
    /// The file holds no PEM certificate.
    #[error("no PEM certificate in the file")]
    NoCertificate,
    /// A PEM block is not a certificate rustls can read.
    #[error("a certificate in the file cannot be read: {0}")]
    Unreadable(String),
    /// The system's roots or the verifier could not be set up.
    #[error("the TLS verifier cannot be set up: {0}")]
    Verifier(String),
}

/// The certificates of a PEM file (a bundle, or one certificate).
pub fn certificates(pem: &[u8]) -> Result<Vec<CertificateDer<'static>>, TrustError> {
    let certificates = CertificateDer::pem_slice_iter(pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| TrustError::Unreadable(error.to_string()))?;
    if certificates.is_empty() {
        return Err(TrustError::NoCertificate);
    }
    Ok(certificates)
}

/// A client configuration trusting the system's roots and, when given, the certificates of
/// `pem` — as anchors, and pinned as their servers' identities. ALPN offers HTTP/2 and HTTP/1.1,
/// as reqwest does with its own configuration.
pub fn client_config(pem: Option<&[u8]>) -> Result<rustls::ClientConfig, TrustError> {
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let pinned = pem.map(certificates).transpose()?.unwrap_or_default();
    let verifier = PinnedOrVerified::new(pinned, Arc::clone(&provider))?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| TrustError::Verifier(error.to_string()))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform's verification, or else an exact match with a pinned certificate that covers
/// the server's name.
#[derive(Debug)]
struct PinnedOrVerified {
    roots: Arc<dyn ServerCertVerifier>,
    pinned: Vec<CertificateDer<'static>>,
    provider: Arc<CryptoProvider>,
}

impl ServerCertVerifier for PinnedOrVerified {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let verified = self.roots.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        );
        match verified {
            Err(error) if self.is_pinned(end_entity) => {
                let parsed = ParsedCertificate::try_from(end_entity).map_err(|_| error)?;
                verify_server_name(&parsed, server_name)?;
                Ok(ServerCertVerified::assertion())
            }
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls12_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        certificate: &CertificateDer<'_>,
        signature: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        verify_tls13_signature(
            message,
            certificate,
            signature,
            &self.provider.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

impl PinnedOrVerified {
    /// The platform's verification with `pinned` as extra roots, and `pinned` as pins.
    fn new(
        pinned: Vec<CertificateDer<'static>>,
        provider: Arc<CryptoProvider>,
    ) -> Result<Self, TrustError> {
        let roots = rustls_platform_verifier::Verifier::new_with_extra_roots(
            pinned.iter().cloned(),
            Arc::clone(&provider),
        )
        .map_err(|error| TrustError::Verifier(error.to_string()))?;
        Ok(Self {
            roots: Arc::new(roots),
            pinned,
            provider,
        })
    }

    fn is_pinned(&self, presented: &CertificateDer<'_>) -> bool {
        self.pinned
            .iter()
            .any(|pinned| pinned.as_ref() == presented.as_ref())
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, CertificateParams, IsCa, KeyPair};

    use super::*;

    /// A self-signed certificate as `openssl req -x509 -newkey rsa:2048 -nodes -subj
    /// /CN=localhost -addext "subjectAltName=IP:127.0.0.1,DNS:localhost"` makes it: `CA:TRUE`.
    fn openssl_style() -> CertificateDer<'static> {
        let mut params =
            CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
                .expect("names");
        params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        let key = KeyPair::generate().expect("key");
        params.self_signed(&key).expect("certificate").der().clone()
    }

    fn verifier(pinned: CertificateDer<'static>) -> PinnedOrVerified {
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        PinnedOrVerified::new(vec![pinned], provider).expect("verifier")
    }

    #[test]
    fn a_pinned_ca_true_self_signed_certificate_is_trusted_for_the_names_it_covers() {
        let certificate = openssl_style();
        let verifier = verifier(certificate.clone());
        let localhost = ServerName::try_from("localhost").expect("name");
        let as_a_chain =
            verifier
                .roots
                .verify_server_cert(&certificate, &[], &localhost, &[], UnixTime::now());
        assert!(as_a_chain.is_err(), "webpki refuses a CA as the end entity");
        for name in ["localhost", "127.0.0.1"] {
            let name = ServerName::try_from(name).expect("name");
            let verified =
                verifier.verify_server_cert(&certificate, &[], &name, &[], UnixTime::now());
            assert!(verified.is_ok(), "{name:?}: {verified:?}");
        }
        let other = ServerName::try_from("example.com").expect("name");
        assert!(
            verifier
                .verify_server_cert(&certificate, &[], &other, &[], UnixTime::now())
                .is_err()
        );
    }

    #[test]
    fn a_certificate_that_is_not_the_pinned_one_is_refused() {
        let verifier = verifier(openssl_style());
        let stranger = openssl_style();
        let name = ServerName::try_from("localhost").expect("name");
        assert!(
            verifier
                .verify_server_cert(&stranger, &[], &name, &[], UnixTime::now())
                .is_err()
        );
    }

    #[test]
    fn a_file_without_certificates_is_refused_with_a_reason() {
        assert!(matches!(
            certificates(b"no certificate here\n"),
            Err(TrustError::NoCertificate)
        ));
    }
}
