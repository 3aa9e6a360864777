//! `gateway`: the OpenAI-compatible gateway as a server.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use clap::Parser;
use gateway::{AppState, Config, serve};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use wire::ollama_host::OllamaHost;

// Every request allocates its headers, bodies and JSON trees; mimalloc's thread-local free lists
// cost less per allocation than glibc's arenas (see docs/benchmarks.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// An OpenAI-compatible /v1 gateway over Ollama and OpenAI-compatible servers (vLLM, llama.cpp).
///
/// Backends come from --config (TOML). Without one, OLLAMA_HOST (as Ollama reads it) means one
/// Ollama backend there; with neither, an embedded mock Ollama is started in-process so the
/// gateway answers real requests out of the box.
#[derive(Debug, Parser)]
#[command(name = "gateway", version)]
struct Args {
    /// TOML configuration file
    #[arg(long, env = "GATEWAY_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,

    /// Listen address [default: the config's `listen`, else 127.0.0.1:8080]
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,

    /// Scenario fixtures for the embedded mock (only used when no backend is configured)
    #[cfg(feature = "embedded-mock")]
    #[arg(long, value_name = "PATH")]
    mock_fixtures: Vec<PathBuf>,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            EnvFilter::try_from_default_env().unwrap_or_else(|_| "info,tower_http=info".into()),
        )
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("gateway: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    // Kept alive until the server stops (when `run` returns).
    let mut _embedded_mock = None;
    let mut config = match &args.config {
        Some(path) => Config::load(path).map_err(|err| err.to_string())?,
        None => match std::env::var("OLLAMA_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
        {
            Some(host) => {
                let url = OllamaHost::parse(&host).base_url();
                tracing::info!(%url, "no --config: using the Ollama at OLLAMA_HOST");
                Config::single_ollama("ollama", url)
            }
            None => {
                let (mock, config) = embedded::start(&args).await?;
                _embedded_mock = Some(mock);
                config
            }
        },
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    let grace = Duration::from_millis(config.shutdown_grace_ms);
    let listener = TcpListener::bind(&config.listen)
        .await
        .map_err(|err| format!("cannot listen on {}: {err}", config.listen))?;
    let address = listener.local_addr().map_err(|err| err.to_string())?;
    let backends: Vec<String> = config
        .backends
        .iter()
        .map(|b| format!("{} ({:?} at {})", b.name, b.kind, b.base_url))
        .collect();
    let state = AppState::new(config).map_err(|err| err.to_string())?;
    tracing::info!(%address, backends = ?backends, "gateway listening on http://{address}");
    if state.keyring.is_none() && !address.ip().is_loopback() {
        tracing::warn!(
            %address,
            "no [auth] section: every route is open to whoever reaches {address}; add API keys (gateway/README.md, \"API keys and rate limits\")"
        );
    }
    serve(listener, state, wire::shutdown::signal(), grace)
        .await
        .map_err(|err| format!("server error: {err}"))?;
    Ok(())
}

/// The in-process mock Ollama served when no backend is configured.
#[cfg(feature = "embedded-mock")]
mod embedded {
    use gateway::Config;
    use mock_ollama::{MockOllama, Scenario};

    /// Starts the mock (with `--mock-fixtures`, else the built-in scenario) and a configuration
    /// with it as the one backend.
    pub async fn start(args: &super::Args) -> Result<(MockOllama, Config), String> {
        let scenario = if args.mock_fixtures.is_empty() {
            Scenario::builtin()
        } else {
            Scenario::load_all(&args.mock_fixtures).map_err(|err| err.to_string())?
        };
        let mock = MockOllama::builder()
            .scenario(scenario)
            .time_scale(1.0)
            .verify_on_drop(false)
            .start()
            .await
            .map_err(|err| format!("cannot start the embedded mock: {err}"))?;
        tracing::warn!(
            url = %mock.url(),
            "no backend configured (no --config, no OLLAMA_HOST): serving the embedded mock Ollama"
        );
        let config = Config::single_ollama("embedded-mock", mock.url());
        Ok((mock, config))
    }
}

/// Built without the embedded mock: a backend must be configured.
#[cfg(not(feature = "embedded-mock"))]
mod embedded {
    use gateway::Config;

    /// Nothing to serve: says how to configure a backend.
    pub async fn start(_: &super::Args) -> Result<((), Config), String> {
        Err("no backend configured: pass --config FILE or set OLLAMA_HOST (this build has no embedded mock)".to_owned())
    }
}
