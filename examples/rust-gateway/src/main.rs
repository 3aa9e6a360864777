//! `UPSTREAM=http://127.0.0.1:8000 LISTEN=127.0.0.1:8080 cargo run`: the relay on its own.

use example_rust_gateway::{Behaviour, router};

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let upstream = std::env::var("UPSTREAM").unwrap_or_else(|_| "http://127.0.0.1:8000".into());
    let listen = std::env::var("LISTEN").unwrap_or_else(|_| "127.0.0.1:8080".into());
    let listener = tokio::net::TcpListener::bind(&listen).await?;
    eprintln!("relaying http://{listen}/v1 to {upstream}/v1");
    axum::serve(listener, router(&upstream, Behaviour::from_env())).await
}
