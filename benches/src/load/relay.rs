//! The cheapest possible proxy: a TCP relay that copies bytes both ways without reading them.
//! Loading the mock through it shows what one more loopback hop costs on the machine, so the
//! gateway's added latency can be split into the hop and the gateway's own work.

use std::net::SocketAddr;

use tokio::net::{TcpListener, TcpStream};

/// Accepts on `listener` forever; each connection is relayed to `upstream` until either side
/// closes it.
pub async fn relay(listener: TcpListener, upstream: SocketAddr) -> std::io::Result<()> {
    loop {
        let (mut inbound, _) = listener.accept().await?;
        tokio::spawn(async move {
            let Ok(mut outbound) = TcpStream::connect(upstream).await else {
                return;
            };
            // Small writes must leave at once, as with the servers (see the gateway's serve).
            let _ = inbound.set_nodelay(true);
            let _ = outbound.set_nodelay(true);
            let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
        });
    }
}

/// The relay as a process of its own: listens on a loopback port of the OS's choosing and says
/// where in the `listening on http://…` line the benchmark waits for.
pub async fn serve_relay(upstream: SocketAddr) -> std::io::Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    eprintln!("tcp relay listening on http://{}", listener.local_addr()?);
    relay(listener, upstream).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn bytes_cross_unchanged_both_ways() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};

        let echo = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let echo_addr = echo.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(async move {
            if let Ok((mut socket, _)) = echo.accept().await {
                let mut buf = [0u8; 5];
                if socket.read_exact(&mut buf).await.is_ok() {
                    buf.reverse();
                    let _ = socket.write_all(&buf).await;
                }
            }
        });
        let front = TcpListener::bind("127.0.0.1:0")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let front_addr = front.local_addr().unwrap_or_else(|e| panic!("{e}"));
        tokio::spawn(relay(front, echo_addr));

        let mut client = TcpStream::connect(front_addr)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        client
            .write_all(b"hello")
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        let mut answer = [0u8; 5];
        client
            .read_exact(&mut answer)
            .await
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(&answer, b"olleh");
    }
}
