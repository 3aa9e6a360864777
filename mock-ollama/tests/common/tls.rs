//! A mock served over TLS with a self-signed certificate made for the test, for clients that
//! must reach `https://` servers.

use std::{net::SocketAddr, sync::Arc};

use mock_ollama::{MockBuilder, routes};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::{
    TlsAcceptor,
    rustls::{
        self,
        pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer},
    },
    server::TlsStream,
};

/// A running TLS mock: its `https://127.0.0.1:<port>` URL and the certificate to trust.
pub struct TlsMock {
    pub url: String,
    pub certificate_pem: String,
    pub state: Arc<mock_ollama::state::MockState>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for TlsMock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

struct TlsListener {
    tcp: TcpListener,
    acceptor: TlsAcceptor,
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((tcp, addr)) = self.tcp.accept().await else {
                continue;
            };
            // A failed handshake is the client's problem; keep serving the others.
            if let Ok(tls) = self.acceptor.accept(tcp).await {
                return (tls, addr);
            }
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.tcp.local_addr()
    }
}

/// Serves the mock `builder` describes over TLS on 127.0.0.1, certified for `127.0.0.1` and
/// `localhost` by a certificate generated now.
pub async fn tls_mock(builder: MockBuilder) -> TlsMock {
    let generated =
        rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(
        generated.signing_key.serialize_der(),
    ));
    let certificate = CertificateDer::from(generated.cert.der().to_vec());
    let config = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::aws_lc_rs::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![certificate], key)
    .unwrap();
    let tcp = TcpListener::bind(("127.0.0.1", 0)).await.unwrap();
    let port = tcp.local_addr().unwrap().port();
    let listener = TlsListener {
        tcp,
        acceptor: TlsAcceptor::from(Arc::new(config)),
    };
    let state = builder.into_state();
    let router = routes::router(state.clone());
    let task = tokio::spawn(async move {
        let _ = axum::serve(listener, router).await;
    });
    TlsMock {
        url: format!("https://127.0.0.1:{port}"),
        certificate_pem: generated.cert.pem(),
        state,
        task,
    }
}
