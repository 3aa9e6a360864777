//! `gateway`: the OpenAI-compatible gateway as a server.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use gateway::Config;
use tracing_subscriber::EnvFilter;

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
    /// [env: GATEWAY_CONFIG]
    #[arg(long, value_name = "FILE")]
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
    let mut config = match Config::resolve(args.config.as_deref()).map_err(|e| e.to_string())? {
        Some(config) => config,
        None => {
            let (mock, config) = embedded::start(&args).await?;
            _embedded_mock = Some(mock);
            config
        }
    };
    if let Some(listen) = args.listen {
        config.listen = listen;
    }
    gateway::run(config, wire::shutdown::signal())
        .await
        .map_err(|err| err.to_string())
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
