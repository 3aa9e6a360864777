//! The `conformance` command line, as a library function: the crate's own binary and the Python
//! wheel's (`python/`) are this one call.

use std::{path::PathBuf, process::ExitCode, time::Duration};

use crate::{Conformance, FaultPrompts, Profile, Trust, report};
use clap::Parser;

/// Checks an OpenAI-compatible /v1 endpoint against 141 numbered checks (HTTP, non-stream, SSE
/// framing, streaming chunks, usage, tool calls, errors, request validation, models, headers,
/// CORS, security, embeddings, OpenAI's Responses API and Anthropic's Messages API).
///
/// Prints a table; writes report.json, junit.xml and report.md to --report-dir. Exit status: 0 when
/// no check fails under the profile, 1 when one does, 2 when the target cannot be judged at all.
#[derive(Debug, Parser)]
#[command(
    name = "conformance",
    version,
    subcommand_negates_reqs = true,
    args_conflicts_with_subcommands = true
)]
struct Args {
    #[command(subcommand)]
    command: Option<Command>,

    /// The /v1 root of the target, e.g. http://127.0.0.1:8080/v1
    #[arg(long, env = "CONFORMANCE_BASE_URL", required = true)]
    base_url: Option<String>,

    /// Bearer token for the target (it only supplies the key: see --expect-auth)
    #[arg(long, env = "CONFORMANCE_API_KEY")]
    api_key: Option<String>,

    /// The target must enforce authentication: a request without the key, or with a wrong one,
    /// must be a 401 with the error envelope (HTTP-004). Without it, the report only says whether
    /// keyless requests are accepted
    #[arg(long)]
    expect_auth: bool,

    /// A header sent with every authenticated probe, e.g. 'api-key: …' for servers that do not
    /// take a bearer token (repeatable); never written to a report
    #[arg(long = "header", value_name = "NAME: VALUE")]
    headers: Vec<String>,

    /// PEM certificate(s) to trust besides the system's roots, for an https:// target behind a
    /// private CA or with a self-signed certificate
    #[arg(long, value_name = "FILE")]
    ca_cert: Option<PathBuf>,

    /// Accept any certificate from an https:// target; every report says the run was insecure
    #[arg(long)]
    insecure: bool,

    /// Model used by every chat probe
    #[arg(long, required = true)]
    model: Option<String>,

    /// strict: every MUST and SHOULD violation fails; compat: SHOULD violations only warn
    #[arg(long, value_enum, default_value_t = Profile::Strict)]
    profile: Profile,

    /// Only these checks: comma-separated id prefixes, e.g. "STREAM,ERR-009"
    #[arg(long)]
    checks: Option<String>,

    /// Directory for report.json, junit.xml, report.md and transcript.json
    #[arg(long, value_name = "DIR")]
    report_dir: Option<PathBuf>,

    /// Compare the normalized transcript with this snapshot file (a difference fails the run)
    #[arg(long, value_name = "FILE", conflicts_with = "update_snapshot")]
    snapshot: Option<PathBuf>,

    /// Write the normalized transcript to this snapshot file
    #[arg(long, value_name = "FILE")]
    update_snapshot: Option<PathBuf>,

    /// Per-probe deadline in milliseconds (an endless stream stops here)
    #[arg(long, default_value_t = 30_000)]
    timeout_ms: u64,

    /// Largest body read per probe, in bytes
    #[arg(long, default_value_t = 4 * 1024 * 1024)]
    max_body_bytes: usize,

    /// Attempts per model-capability probe (forced tool call, structured output, stop); 0 skips them
    #[arg(long, default_value_t = 3)]
    capability_repeats: usize,

    /// The target stands in front of mock-ollama, whose built-in fault rules answer
    /// '[fault:mid-stream-error]', '[fault:429]' and '[fault:503]': use them as --fault-prompt,
    /// --rate-limit-prompt and --overload-prompt (which, given, still win)
    #[arg(long)]
    mock_faults: bool,

    /// A prompt that makes the target fail after streaming began (enables ERR-009/ERR-010)
    #[arg(long)]
    fault_prompt: Option<String>,

    /// A prompt that makes the target answer 429 (enables ERR-007)
    #[arg(long)]
    rate_limit_prompt: Option<String>,

    /// The requests per minute the key is limited to: after the other probes, up to N+1 small
    /// chats are sent until one is refused, and that 429 is judged (enables ERR-007 on a real
    /// limit)
    #[arg(long, value_name = "N", conflicts_with = "rate_limit_prompt")]
    rate_limit_burst: Option<u32>,

    /// A prompt that makes the target report an overload (enables ERR-008)
    #[arg(long)]
    overload_prompt: Option<String>,

    /// The model's context window in tokens: a streamed prompt a quarter longer is sent, which
    /// must be refused with a 4xx before any SSE byte (HTTP-003)
    #[arg(long, value_name = "TOKENS", value_parser = clap::value_parser!(u64).range(1..=2_000_000))]
    context_tokens: Option<u64>,

    /// The origin browsers call the target from: the CORS preflight comes from it (without it,
    /// from a foreign origin)
    #[arg(long, value_name = "ORIGIN")]
    origin: Option<String>,

    /// The model /embeddings must serve; given, the target must serve embeddings (without it,
    /// the chat model is tried and a target without embeddings skips their checks)
    #[arg(long, value_name = "MODEL")]
    embedding_model: Option<String>,

    /// The model that thinks when asked; given, its Messages replies must carry thinking blocks
    /// (without it, the chat model is asked and a model that cannot think skips MSG-021)
    #[arg(long, value_name = "MODEL")]
    thinking_model: Option<String>,

    /// Size of the oversized chat request that must be refused with a 413 or 400 envelope
    #[arg(long, value_name = "BYTES", default_value_t = 32 * 1024 * 1024)]
    oversized_body_bytes: usize,

    /// A model the target (a gateway) routes to an upstream that is down: its error replies,
    /// whole and streamed, must not give the gateway's insides away (SEC-001)
    #[arg(long, value_name = "MODEL")]
    unreachable_model: Option<String>,

    /// The dialects to probe and judge, comma-separated (all by default). A selected dialect
    /// whose route answers 404 or 405 is reported as not served, its checks skipped
    #[arg(long, value_enum, value_delimiter = ',', value_name = "DIALECTS")]
    dialects: Vec<crate::Dialect>,
}

#[derive(Debug, clap::Subcommand)]
enum Command {
    /// Compares the report.json files of several runs in one Markdown table (targets as columns)
    Matrix {
        /// report.json files; each column is named after the file's directory
        #[arg(required = true)]
        reports: Vec<PathBuf>,
    },
    /// Compares a real server's report.json with a mock's, check for check: prints both columns
    /// and every disagreement; exits 1 when a disagreement is not explained
    Drift {
        /// report.json of the real server
        real: PathBuf,
        /// report.json of the mock standing in for it
        mock: PathBuf,
        /// Known disagreements: one `CHECK-ID  reason` per line (`#` starts a comment)
        #[arg(long, value_name = "FILE")]
        explained: Option<PathBuf>,
    },
}

/// A report.json file, and the name of its directory (the target's name in run scripts).
fn read_report(path: &std::path::Path) -> Result<(String, serde_json::Value), String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    let report: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let name = path.parent().and_then(|dir| dir.file_name()).map_or_else(
        || path.display().to_string(),
        |name| name.to_string_lossy().into_owned(),
    );
    Ok((name, report))
}

/// Parses the command line, runs it, and says how it ended: `conformance --help` tells the rest.
#[tokio::main]
pub async fn main() -> ExitCode {
    // Only the runner's own warnings by default: a TLS failure is reported once, in the error,
    // not logged again by the certificate verifier for every probe.
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| "conformance=warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = Args::parse();
    match execute(args).await {
        Ok(code) => code,
        Err(message) => {
            eprintln!("conformance: {message}");
            ExitCode::from(2)
        }
    }
}

async fn execute(args: Args) -> Result<ExitCode, String> {
    match &args.command {
        Some(Command::Matrix { reports }) => {
            let columns = reports
                .iter()
                .map(|path| read_report(path))
                .collect::<Result<Vec<_>, _>>()?;
            #[allow(clippy::print_stdout)]
            {
                print!("{}", report::matrix(&columns));
            }
            return Ok(ExitCode::SUCCESS);
        }
        Some(Command::Drift {
            real,
            mock,
            explained,
        }) => {
            let explanations = match explained {
                Some(path) => report::Explanations::parse(
                    &std::fs::read_to_string(path)
                        .map_err(|e| format!("{}: {e}", path.display()))?,
                ),
                None => report::Explanations::default(),
            };
            let drift = report::drift(&read_report(real)?, &read_report(mock)?, &explanations);
            #[allow(clippy::print_stdout)]
            {
                print!("{}", drift.text);
            }
            return Ok(if drift.unexplained == 0 {
                ExitCode::SUCCESS
            } else {
                ExitCode::from(1)
            });
        }
        None => {}
    }
    let headers = args
        .headers
        .iter()
        .map(|header| {
            let (name, value) = header
                .split_once(':')
                .ok_or_else(|| format!("--header {header:?} is not 'Name: value'"))?;
            let (name, value) = (name.trim(), value.trim());
            reqwest::header::HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| format!("--header: {name:?} is not a header name"))?;
            reqwest::header::HeaderValue::from_str(value)
                .map_err(|_| format!("--header {name}: the value is not a header value"))?;
            Ok((name.to_owned(), value.to_owned()))
        })
        .collect::<Result<Vec<_>, String>>()?;
    let ca_cert = match &args.ca_cert {
        Some(path) => {
            Some(std::fs::read(path).map_err(|e| format!("--ca-cert {}: {e}", path.display()))?)
        }
        None => None,
    };
    if args.expect_auth && args.api_key.is_none() && headers.is_empty() {
        return Err("--expect-auth needs the key: give --api-key or --header".to_owned());
    }
    let mock = if args.mock_faults {
        FaultPrompts::mock_ollama()
    } else {
        FaultPrompts::default()
    };
    let faults = FaultPrompts {
        mid_stream: args.fault_prompt.or(mock.mid_stream),
        // A real limit's burst replaces the scripted 429.
        rate_limit: args
            .rate_limit_prompt
            .or(mock.rate_limit.filter(|_| args.rate_limit_burst.is_none())),
        rate_limit_burst: args.rate_limit_burst,
        overload: args.overload_prompt.or(mock.overload),
    };
    let mut conformance = Conformance::new(args.base_url.unwrap_or_default())
        .model(args.model.unwrap_or_default())
        .profile(args.profile)
        .fault_prompts(faults)
        .capability_repeats(args.capability_repeats)
        .timeout(Duration::from_millis(args.timeout_ms))
        .configure(|target| {
            target.api_key = args.api_key;
            target.expect_auth = args.expect_auth;
            target.max_body = args.max_body_bytes;
            target.context_tokens = args.context_tokens;
            target.origin = args.origin;
            target.embedding_model = args.embedding_model;
            target.thinking_model = args.thinking_model;
            target.oversized_body_bytes = args.oversized_body_bytes;
            target.unreachable_model = args.unreachable_model;
            if !args.dialects.is_empty() {
                target.dialects = args.dialects;
            }
            target.headers = headers;
            target.trust = Trust {
                ca_cert,
                insecure: args.insecure,
            };
        });
    if let Some(checks) = args.checks {
        conformance = conformance.checks(checks);
    }
    let report = conformance.run().await.map_err(|err| err.to_string())?;
    #[allow(clippy::print_stdout)]
    {
        print!("{}", report::table(&report));
    }
    let transcript =
        serde_json::to_string_pretty(&report.transcript).map_err(|e| e.to_string())? + "\n";
    if let Some(dir) = &args.report_dir {
        std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        for (file, text) in [
            ("report.json", report::json(&report)),
            ("junit.xml", report::junit(&report)),
            ("report.md", report::markdown(&report)),
            ("transcript.json", transcript.clone()),
        ] {
            let path = dir.join(file);
            std::fs::write(&path, text).map_err(|e| format!("{}: {e}", path.display()))?;
        }
    }
    let mut snapshot_differs = false;
    if let Some(path) = &args.update_snapshot {
        std::fs::write(path, &transcript).map_err(|e| format!("{}: {e}", path.display()))?;
    }
    if let Some(path) = &args.snapshot {
        let stored =
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
        if stored != transcript {
            snapshot_differs = true;
            eprintln!(
                "conformance: the transcript differs from {} (run with --update-snapshot to accept)",
                path.display()
            );
            for (line, (old, new)) in stored.lines().zip(transcript.lines()).enumerate() {
                if old != new {
                    eprintln!("  line {}: -{old}\n  line {}: +{new}", line + 1, line + 1);
                    break;
                }
            }
        }
    }
    Ok(if report.failed() || snapshot_differs {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    })
}
