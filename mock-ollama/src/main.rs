//! `mock-ollama`: the mock as a standalone server for offline development and CI.

use std::{path::PathBuf, process::ExitCode};

use clap::Parser;
use mock_ollama::{Flavor, MockOllama, Scenario, server};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use wire::ollama_host::OllamaHost;

/// A deterministic mock of the Ollama server.
///
/// Serves Ollama's native API (/api/chat, /api/generate, /api/embed, /api/tags, /api/show, …) and
/// its OpenAI-compatible layer (/v1/chat/completions, /v1/completions, /v1/embeddings,
/// /v1/models) with scripted or generated replies, realistic timing and injectable faults. With no --fixtures it
/// serves a small built-in model set (llama3.2, qwen3:0.6b, llava:7b, nomic-embed-text) and
/// answers every request with a deterministic generated reply.
///
/// Control routes: GET /_mock/requests (journal), PUT /_mock/scenario, POST /_mock/rules,
/// POST /_mock/reset, GET /_mock/expectations. See mock-ollama/README.md.
#[derive(Debug, Parser)]
#[command(name = "mock-ollama", version, verbatim_doc_comment)]
struct Args {
    /// Address to listen on [default: $OLLAMA_HOST as Ollama reads it, else 127.0.0.1:11434]
    #[arg(long, value_name = "HOST:PORT")]
    listen: Option<String>,

    /// Scenario file or directory of *.json scenarios (repeatable; merged in order)
    #[arg(long = "fixtures", value_name = "PATH")]
    fixtures: Vec<PathBuf>,

    /// Answer requests no rule matches with an error instead of a generated reply
    #[arg(long)]
    strict: bool,

    /// Multiply every scripted delay by this factor; 0 sends replies without sleeping
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    time_scale: f64,

    /// Seed for generated replies, tool call ids and jitter
    #[arg(long, default_value_t = 0)]
    seed: u64,

    /// Keep at most this many requests in the journal (0 disables it)
    #[arg(long, default_value_t = 10_000, value_name = "N")]
    journal_limit: usize,

    /// Timestamps: real (each reply's clock starts when its request arrives) or fixed (from
    /// 2026-01-01T00:00:00Z, so output bytes never depend on when the mock runs)
    #[arg(long, value_enum, default_value_t = Clock::Real)]
    clock: Clock,

    /// Whose OpenAI dialect /v1 speaks: ollama (Ollama's own layer, quirks included), openai
    /// (exactly conformant), llamacpp (llama-cpp-python's server) or vllm; a scenario's
    /// "flavor" overrides it
    #[arg(long, default_value_t = Flavor::Ollama, value_name = "FLAVOR")]
    flavor: Flavor,
}

/// Where reply timestamps start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Clock {
    /// The time each request arrives.
    Real,
    /// 2026-01-01T00:00:00Z for every request.
    Fixed,
}

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let args = Args::parse();
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("mock-ollama: {message}");
            ExitCode::FAILURE
        }
    }
}

async fn run(args: Args) -> Result<(), String> {
    if !(args.time_scale.is_finite() && args.time_scale >= 0.0) {
        return Err(format!(
            "--time-scale must be a number ≥ 0, got {}",
            args.time_scale
        ));
    }
    let scenario = if args.fixtures.is_empty() {
        Scenario::builtin()
    } else {
        let mut merged = Scenario::default();
        for path in &args.fixtures {
            merged.merge(Scenario::load(path).map_err(|err| err.to_string())?);
        }
        merged
            .validate()
            .map_err(|problem| format!("fixtures: {problem}"))?;
        merged
    };
    let listen = args.listen.unwrap_or_else(|| {
        OllamaHost::parse(&std::env::var("OLLAMA_HOST").unwrap_or_default()).bind_address()
    });
    let listener = TcpListener::bind(&listen)
        .await
        .map_err(|err| format!("cannot listen on {listen}: {err}"))?;
    let address = listener.local_addr().map_err(|err| err.to_string())?;
    tracing::info!(
        %address,
        models = scenario.models.len(),
        rules = scenario.rules.len(),
        strict = args.strict,
        time_scale = args.time_scale,
        flavor = %args.flavor,
        "mock-ollama listening on http://{address}"
    );
    let state = MockOllama::builder()
        .scenario(scenario)
        .strict(args.strict)
        .time_scale(args.time_scale)
        .seed(args.seed)
        .journal_limit(args.journal_limit)
        .flavor(args.flavor)
        .real_clock(args.clock == Clock::Real)
        .into_state();
    server::serve(listener, state, async {
        server::shutdown_signal().await;
        tracing::info!("shutting down");
    })
    .await
    .map_err(|err| format!("server error: {err}"))
}
