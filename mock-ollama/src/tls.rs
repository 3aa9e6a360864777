//! Serving over TLS: a mock at an `https://` URL, for testing clients that must reach HTTPS
//! servers (a gateway's upstream leg, a conformance run, a recorder).
//!
//! [`TlsIdentity::self_signed`] makes a certificate on the spot; clients trust it through its PEM.

use std::{net::SocketAddr, sync::Arc, time::Duration};

use tokio::{
    net::{TcpListener, TcpStream},
    task::JoinSet,
};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, pem::PemObject},
    },
    server::TlsStream,
};

/// Why a TLS identity could not be made or used.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate could not be generated.
    #[error("cannot generate a certificate: {0}")]
    Generate(#[from] rcgen::Error),
    /// The PEM files hold no usable certificate or key.
    #[error("invalid PEM: {0}")]
    Pem(String),
    /// rustls refused the pair.
    #[error("unusable certificate and key: {0}")]
    Config(#[from] rustls::Error),
}

/// A certificate chain and its private key, PEM-encoded.
#[derive(Debug, Clone)]
pub struct TlsIdentity {
    /// The certificate chain; clients of a self-signed identity trust this.
    pub certificate_pem: String,
    key_pem: String,
}

impl TlsIdentity {
    /// A certificate and key read from PEM text.
    pub fn from_pem(certificate_pem: String, key_pem: String) -> Self {
        Self {
            certificate_pem,
            key_pem,
        }
    }

    /// A fresh self-signed certificate for these names (DNS names or IP addresses).
    pub fn self_signed(names: &[&str]) -> Result<Self, TlsError> {
        let names: Vec<String> = names.iter().map(|&name| name.to_owned()).collect();
        let generated = rcgen::generate_simple_self_signed(names)?;
        Ok(Self {
            certificate_pem: generated.cert.pem(),
            key_pem: generated.signing_key.serialize_pem(),
        })
    }

    /// A self-signed certificate as most people make one, and as OpenSSL 3 marks it:
    /// `openssl req -x509 -newkey rsa:2048 -nodes -subj /CN=localhost -addext
    /// "subjectAltName=IP:127.0.0.1,DNS:localhost"` — an RSA key, `CN=localhost`, both names,
    /// and `CA:TRUE`, which webpki refuses as the end entity unless the client pins it.
    pub fn openssl_style() -> Result<Self, TlsError> {
        let mut params =
            rcgen::CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])?;
        params
            .distinguished_name
            .push(rcgen::DnType::CommonName, "localhost");
        params.is_ca = rcgen::IsCa::Ca(rcgen::BasicConstraints::Unconstrained);
        let key = rcgen::KeyPair::generate_for(&rcgen::PKCS_RSA_SHA256)?;
        let certificate = params.self_signed(&key)?;
        Ok(Self {
            certificate_pem: certificate.pem(),
            key_pem: key.serialize_pem(),
        })
    }

    /// A self-signed certificate for `127.0.0.1` and `localhost`, where tests listen.
    pub fn localhost() -> Result<Self, TlsError> {
        Self::self_signed(&["127.0.0.1", "localhost"])
    }

    /// The rustls server configuration (HTTP/1.1 and HTTP/2 offered by ALPN).
    pub fn server_config(&self) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let chain = CertificateDer::pem_slice_iter(self.certificate_pem.as_bytes())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| TlsError::Pem(error.to_string()))?;
        if chain.is_empty() {
            return Err(TlsError::Pem("no certificate".to_owned()));
        }
        let key = PrivateKeyDer::from_pem_slice(self.key_pem.as_bytes())
            .map_err(|error| TlsError::Pem(error.to_string()))?;
        let mut config = rustls::ServerConfig::builder_with_provider(Arc::new(
            rustls::crypto::aws_lc_rs::default_provider(),
        ))
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

/// How long a client may take to finish its handshake.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);

type Handshake = (std::io::Result<TlsStream<TcpStream>>, SocketAddr);

/// A TCP listener that hands axum connections whose TLS handshake is done. Handshakes run
/// side by side, so a slow or silent client never holds up the others.
pub struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    handshakes: JoinSet<Handshake>,
}

impl std::fmt::Debug for TlsListener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsListener")
            .field("tcp", &self.tcp)
            .field("handshakes", &self.handshakes.len())
            .finish_non_exhaustive()
    }
}

impl TlsListener {
    /// Serves `identity` on an already bound listener.
    pub fn new(tcp: TcpListener, identity: &TlsIdentity) -> Result<Self, TlsError> {
        Ok(Self {
            tcp,
            acceptor: TlsAcceptor::from(identity.server_config()?),
            handshakes: JoinSet::new(),
        })
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            tokio::select! {
                accepted = self.tcp.accept() => match accepted {
                    Ok((tcp, addr)) => {
                        if let Err(error) = tcp.set_nodelay(true) {
                            tracing::debug!(%error, "cannot set TCP_NODELAY");
                        }
                        let acceptor = self.acceptor.clone();
                        self.handshakes.spawn(async move {
                            let shaken = tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(tcp))
                                .await
                                .unwrap_or_else(|_| Err(std::io::ErrorKind::TimedOut.into()));
                            (shaken, addr)
                        });
                    }
                    Err(error) => {
                        // Out of file descriptors and the like: wait, as axum's own listener does.
                        tracing::error!(%error, "accept failed");
                        tokio::time::sleep(Duration::from_millis(50)).await;
                    }
                },
                Some(done) = self.handshakes.join_next(), if !self.handshakes.is_empty() => {
                    match done {
                        Ok((Ok(tls), addr)) => return (tls, addr),
                        // A client that does not trust us is its own problem; serve the others.
                        Ok((Err(error), addr)) => {
                            tracing::debug!(%error, %addr, "TLS handshake failed");
                        }
                        Err(error) => tracing::debug!(%error, "TLS handshake task failed"),
                    }
                }
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}
