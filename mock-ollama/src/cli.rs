//! The `mock-ollama` command line, as a library function: the crate's own binary and the Python
//! wheel's (`python/`) are this one call.

use std::{path::PathBuf, process::ExitCode};

use crate::{
    Flavor, MockOllama, RecordMode, Recorder, Scenario, TlsIdentity, UpstreamBounds, drift,
    record::upstream_client, server, tls::TlsListener,
};
use clap::{Args, Parser, Subcommand};
use tokio::net::TcpListener;
use tracing_subscriber::EnvFilter;
use wire::ollama_host::OllamaHost;

/// A deterministic mock of the Ollama server.
///
/// Serves Ollama's native API (/api/chat, /api/generate, /api/embed, /api/tags, /api/show, …) and
/// its OpenAI-compatible layer (/v1/chat/completions, /v1/completions, /v1/embeddings,
/// /v1/models) with scripted or generated replies, realistic timing and injectable faults. With no --fixtures it
/// serves a small built-in model set (llama3.2, qwen3:0.6b, llava:7b, nomic-embed-text), answers
/// prompts containing [fault:429], [fault:503], [fault:mid-stream-error], … with that fault
/// (fixtures/scenarios/30-faults.json), and every other request with a deterministic generated
/// reply.
///
/// Control routes: GET /_mock/requests (journal), PUT /_mock/scenario, POST /_mock/rules,
/// POST /_mock/reset, GET /_mock/expectations. See mock-ollama/README.md.
///
/// `mock-ollama record` records fixtures from a real server; `mock-ollama drift` checks that a
/// real server still answers in the shape its fixtures recorded.
#[derive(Debug, Parser)]
#[command(
    name = "mock-ollama",
    version,
    verbatim_doc_comment,
    args_conflicts_with_subcommands = true
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run a recording proxy in front of a real server (Ollama, vLLM, llama.cpp, any
    /// OpenAI-compatible API): each exchange is forwarded unchanged and written to --out as a
    /// fixture that `mock-ollama --fixtures DIR` replays byte for byte.
    Record(RecordArgs),
    /// Re-send every recorded request to the live server and report, per fixture, differences of
    /// shape (status, content type, keys, event sequence, finish reason, usage), not of text.
    /// Exits 1 when any fixture drifted.
    Drift(DriftArgs),
}

#[derive(Debug, Args)]
struct RecordArgs {
    /// Base URL of the real server, http:// or https://
    #[arg(long, value_name = "URL")]
    upstream: String,

    /// Directory the fixtures are written to (and replayed from)
    #[arg(long, value_name = "DIR")]
    out: PathBuf,

    /// Address to listen on
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:11435")]
    listen: String,

    /// record: forward and record every request; replay: never forward, refuse what is not
    /// recorded; record-on-miss: replay what is recorded, forward and record the rest
    #[arg(long, default_value_t = RecordMode::Record, value_name = "MODE")]
    mode: RecordMode,

    /// Top-level body keys a replayed request must repeat, comma-separated; `*` for the whole body
    #[arg(
        long,
        value_name = "KEYS",
        default_value = "model,messages,prompt,input,suffix,stream,tools"
    )]
    match_keys: String,

    /// Another header never to write to a fixture (Authorization, x-api-key, api-key and cookies
    /// never are); repeatable
    #[arg(long = "redact-header", value_name = "NAME")]
    redact_headers: Vec<String>,

    /// Multiply recorded delays by this factor when replaying; 0 sends replies without sleeping
    #[arg(long, default_value_t = 1.0, value_name = "FACTOR")]
    time_scale: f64,

    #[command(flatten)]
    connection: UpstreamArgs,
}

#[derive(Debug, Args)]
struct DriftArgs {
    /// Fixture file or directory of recorded exchanges (repeatable)
    #[arg(long = "fixtures", value_name = "PATH", required = true)]
    fixtures: Vec<PathBuf>,

    /// Base URL of the live server
    #[arg(long, value_name = "URL")]
    upstream: String,

    /// A header to send with every request, e.g. 'Authorization: Bearer sk-…' (repeatable)
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,

    #[command(flatten)]
    connection: UpstreamArgs,
}

/// How the recorder and drift reach the real server, and how much of it they take.
#[derive(Debug, Args)]
struct UpstreamArgs {
    /// PEM certificate(s) to trust besides the system's roots (a private CA, a self-signed server)
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,

    /// The most body bytes one upstream answer may carry; a longer one is cut (recorded as reset)
    #[arg(
        long,
        default_value_t = UpstreamBounds::DEFAULT_MAX_BODY_BYTES,
        value_name = "BYTES",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    max_body_bytes: u64,

    /// The longest one exchange with the upstream may take, from the request to the body's end
    #[arg(
        long,
        default_value_t = UpstreamBounds::DEFAULT_TIMEOUT.as_millis() as u64,
        value_name = "MS",
        value_parser = clap::value_parser!(u64).range(1..)
    )]
    timeout_ms: u64,
}

impl UpstreamArgs {
    fn bounds(&self) -> UpstreamBounds {
        UpstreamBounds {
            max_body_bytes: self.max_body_bytes,
            timeout: std::time::Duration::from_millis(self.timeout_ms),
        }
    }

    fn ca_cert_pem(&self) -> Result<Option<Vec<u8>>, String> {
        self.ca_cert
            .as_ref()
            .map(|path| {
                std::fs::read(path).map_err(|err| format!("--ca-cert {}: {err}", path.display()))
            })
            .transpose()
    }
}

#[derive(Debug, Args)]
struct ServeArgs {
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

    /// Keep at most this many Responses API responses for previous_response_id and
    /// GET /v1/responses/{id}, oldest out first (0 keeps none)
    #[arg(long, default_value_t = 1_000, value_name = "N")]
    stored_responses: usize,

    /// Timestamps: real (each reply's clock starts when its request arrives) or fixed (from
    /// 2026-01-01T00:00:00Z, so output bytes never depend on when the mock runs)
    #[arg(long, value_enum, default_value_t = Clock::Real)]
    clock: Clock,

    /// Whose OpenAI dialect /v1 speaks: ollama (Ollama's own layer, quirks included), openai
    /// (exactly conformant), llamacpp (llama-cpp-python's server) or vllm; a scenario's
    /// "flavor" overrides it
    #[arg(long, default_value_t = Flavor::Ollama, value_name = "FLAVOR")]
    flavor: Flavor,

    /// Serve https:// with this PEM certificate chain (needs --tls-key)
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    tls_cert: Option<PathBuf>,

    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
}

/// Where reply timestamps start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Clock {
    /// The time each request arrives.
    Real,
    /// 2026-01-01T00:00:00Z for every request.
    Fixed,
}

/// Parses the command line, runs it, and says how it ended: `mock-ollama --help` tells the rest.
#[tokio::main]
pub async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()))
        .with_writer(std::io::stderr)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    let cli = Cli::parse();
    let outcome = match cli.command {
        None => serve(cli.serve).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Record(args)) => record(args).await.map(|()| ExitCode::SUCCESS),
        Some(Command::Drift(args)) => check_drift(args).await,
    };
    match outcome {
        Ok(code) => code,
        Err(message) => {
            tracing::error!("{message}");
            eprintln!("mock-ollama: {message}");
            ExitCode::FAILURE
        }
    }
}

fn check_time_scale(time_scale: f64) -> Result<(), String> {
    if time_scale.is_finite() && time_scale >= 0.0 {
        Ok(())
    } else {
        Err(format!(
            "--time-scale must be a number ≥ 0, got {time_scale}"
        ))
    }
}

async fn bind(listen: &str) -> Result<(TcpListener, std::net::SocketAddr), String> {
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|err| format!("cannot listen on {listen}: {err}"))?;
    let address = listener.local_addr().map_err(|err| err.to_string())?;
    Ok((listener, address))
}

async fn stop_signal() {
    wire::shutdown::signal().await;
    tracing::info!("shutting down");
}

async fn serve_until_signal(
    listener: TcpListener,
    state: std::sync::Arc<crate::state::MockState>,
) -> Result<(), String> {
    server::serve(listener, state, stop_signal())
        .await
        .map_err(|err| format!("server error: {err}"))
}

async fn record(args: RecordArgs) -> Result<(), String> {
    check_time_scale(args.time_scale)?;
    let match_keys = match args.match_keys.trim() {
        "*" => None,
        keys => Some(
            keys.split(',')
                .map(str::trim)
                .filter(|key| !key.is_empty())
                .map(str::to_owned)
                .collect(),
        ),
    };
    let mut recorder = Recorder::new(&args.upstream, &args.out)
        .and_then(|recorder| recorder.mode(args.mode))
        .map_err(|err| err.to_string())?
        .match_keys(match_keys);
    recorder = recorder.bounds(args.connection.bounds());
    if let Some(pem) = args.connection.ca_cert_pem()? {
        recorder = recorder.ca_cert(&pem).map_err(|err| err.to_string())?;
    }
    for name in &args.redact_headers {
        recorder = recorder.redact_header(name);
    }
    let (listener, address) = bind(&args.listen).await?;
    tracing::info!(
        %address,
        upstream = %args.upstream,
        out = %args.out.display(),
        mode = %args.mode,
        recorded = recorder.recorded().exchanges.len(),
        "mock-ollama recording on http://{address}"
    );
    let state = MockOllama::builder()
        .scenario(Scenario::default())
        .strict(true)
        .time_scale(args.time_scale)
        .real_clock(true)
        .recorder(recorder)
        .into_state();
    serve_until_signal(listener, state).await
}

async fn check_drift(args: DriftArgs) -> Result<ExitCode, String> {
    let scenario = Scenario::load_all(&args.fixtures).map_err(|err| err.to_string())?;
    if scenario.exchanges.is_empty() {
        return Err("the fixtures hold no recorded exchanges".to_owned());
    }
    let mut headers = axum::http::HeaderMap::new();
    for header in &args.headers {
        let (name, value) = header
            .split_once(':')
            .ok_or_else(|| format!("--header {header:?} is not 'Name: value'"))?;
        let name = axum::http::HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("--header {header:?}: invalid name"))?;
        let value = axum::http::HeaderValue::from_str(value.trim())
            .map_err(|_| format!("--header {header:?}: invalid value"))?;
        headers.append(name, value);
    }
    let pem = args.connection.ca_cert_pem()?;
    let client = upstream_client(pem.as_deref()).map_err(|err| err.to_string())?;
    let report = drift::drift_within(
        &client,
        &scenario.exchanges,
        &args.upstream,
        &headers,
        args.connection.bounds(),
    )
    .await;
    // The report is the command's output; logs go to stderr.
    std::io::Write::write_all(&mut std::io::stdout(), report.to_string().as_bytes())
        .map_err(|err| format!("cannot write the report: {err}"))?;
    Ok(if report.agrees() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

async fn serve(args: ServeArgs) -> Result<(), String> {
    check_time_scale(args.time_scale)?;
    let scenario = if args.fixtures.is_empty() {
        Scenario::builtin()
    } else {
        Scenario::load_all(&args.fixtures).map_err(|err| err.to_string())?
    };
    let listen = args.listen.unwrap_or_else(|| {
        OllamaHost::parse(&std::env::var("OLLAMA_HOST").unwrap_or_default()).bind_address()
    });
    let (listener, address) = bind(&listen).await?;
    tracing::info!(
        %address,
        models = scenario.models.len(),
        rules = scenario.rules.len(),
        strict = args.strict,
        time_scale = args.time_scale,
        flavor = %args.flavor,
        "mock-ollama listening on {}://{address}",
        if args.tls_cert.is_some() { "https" } else { "http" }
    );
    let state = MockOllama::builder()
        .scenario(scenario)
        .strict(args.strict)
        .time_scale(args.time_scale)
        .seed(args.seed)
        .journal_limit(args.journal_limit)
        .stored_responses(args.stored_responses)
        .flavor(args.flavor)
        .real_clock(args.clock == Clock::Real)
        .into_state();
    if let (Some(cert), Some(key)) = (&args.tls_cert, &args.tls_key) {
        let read = |path: &PathBuf| {
            std::fs::read_to_string(path).map_err(|err| format!("{}: {err}", path.display()))
        };
        let identity = TlsIdentity::from_pem(read(cert)?, read(key)?);
        let listener = TlsListener::new(listener, &identity).map_err(|err| err.to_string())?;
        return server::serve_tls(listener, state, stop_signal())
            .await
            .map_err(|err| format!("server error: {err}"));
    }
    serve_until_signal(listener, state).await
}
