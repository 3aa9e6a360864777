//! The load benchmark: mock-ollama, the gateway in front of it and (optionally) LiteLLM in front
//! of the same mock, each in its own process, loaded from this one:
//!
//! 1. non-stream requests, closed loop (the most each serves) and open loop at a fixed rate
//!    (latency percentiles with honest tails);
//! 2. streamed requests at a fixed rate: time to the first non-empty content;
//! 3. thousands of concurrently open streams through the gateway: its memory and descriptors.
//!
//! It prints Markdown: the machine and build, the tables, and the ratios against the direct
//! baseline with the targets they answer. See docs/benchmarks.md; run it with
//! `benches/load/run.sh`.
#![forbid(unsafe_code)]

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use benches::load::{
    generator::{Measured, closed_loop, open_loop},
    probe::{Api, ChatEndpoint},
    process::{Server, Usage},
    report::{Environment, Row, Spread, Verdict, table, verdicts},
    scenario::{self, HELD_PROMPT, INSTANT_PROMPT, MODEL},
};
use clap::Parser;

/// Loads mock-ollama directly, through the gateway, and through LiteLLM, and reports the ratios.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    seconds: u64,
    /// Rounds of the direct/gateway pair, alternating which goes first; targets are judged on the
    /// median of the rounds, and the range is shown.
    #[arg(long, default_value_t = 3)]
    rounds: usize,
    /// Open-loop rate for non-stream requests, per second.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Open-loop rate for streamed requests, per second.
    #[arg(long, default_value_t = 200.0)]
    stream_rate: f64,
    /// Concurrent clients in the closed-loop (throughput) runs.
    #[arg(long, default_value_t = 64)]
    clients: usize,
    /// Streams held open at once through the gateway (0 skips this part).
    #[arg(long, default_value_t = 10_000)]
    open_streams: usize,
    /// HTTP/2 streams per client connection while holding streams open (see docs/benchmarks.md:
    /// over HTTP/1.1 the gateway would need two descriptors per stream).
    #[arg(long, default_value_t = 100)]
    streams_per_connection: usize,
    /// New streams per second while opening them.
    #[arg(long, default_value_t = 2000.0)]
    open_rate: f64,
    /// The `litellm` executable; LiteLLM is left out without it.
    #[arg(long)]
    litellm: Option<PathBuf>,
    /// LiteLLM's version, for the report.
    #[arg(long, default_value = "unknown")]
    litellm_version: String,
    /// LiteLLM's worker processes.
    #[arg(long, default_value_t = 1)]
    litellm_workers: usize,
    /// Where the mock-ollama and gateway executables are [default: beside this one].
    #[arg(long)]
    bin_dir: Option<PathBuf>,
    /// Runtime threads of this load generator.
    #[arg(long, default_value_t = 2)]
    threads: usize,
    /// Also write the report to this file.
    #[arg(long)]
    markdown: Option<PathBuf>,
    /// Run as the TCP relay to this address instead (started by the benchmark itself).
    #[arg(long, hide = true, value_name = "HOST:PORT")]
    relay_to: Option<std::net::SocketAddr>,
    /// Run only this part (for profiling one of them).
    #[arg(long, value_enum)]
    only: Option<Part>,
}

/// The parts of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Part {
    /// Non-stream and streamed requests, direct, through the gateway and through LiteLLM.
    Requests,
    /// Streams held open through the gateway.
    OpenStreams,
}

/// Why the benchmark could not run.
#[derive(Debug, thiserror::Error)]
enum LoadError {
    #[error(transparent)]
    Start(#[from] benches::load::process::StartError),
    #[error("{0}")]
    Setup(String),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
}

fn main() -> ExitCode {
    let args = Args::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(args.threads.max(1))
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(err) => {
            eprintln!("load: cannot start a runtime: {err}");
            return ExitCode::from(2);
        }
    };
    if let Some(upstream) = args.relay_to {
        return match runtime.block_on(serve_relay(upstream)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(err) => {
                eprintln!("load: relay: {err}");
                ExitCode::from(2)
            }
        };
    }
    match runtime.block_on(run(&args)) {
        Ok(report) => {
            if let Some(path) = &args.markdown
                && let Err(err) = std::fs::write(path, &report)
            {
                eprintln!("load: cannot write {}: {err}", path.display());
                return ExitCode::from(2);
            }
            #[allow(clippy::print_stdout)]
            {
                println!("{report}");
            }
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("load: {err}");
            ExitCode::from(2)
        }
    }
}

/// The relay mode: listens on a loopback port of the OS's choosing, says where, relays.
async fn serve_relay(upstream: std::net::SocketAddr) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    eprintln!("tcp relay listening on http://{}", listener.local_addr()?);
    benches::load::relay::relay(listener, upstream).await
}

/// What one server measured under the three loads.
struct Measurements {
    name: String,
    throughput: Measured,
    clients: usize,
    fixed: Measured,
    rate: f64,
    first_content: Measured,
    stream_rate: f64,
}

/// Which of a target's measurements a row or a target reads.
type Pick = fn(&Measurements) -> &Measured;
/// Which target of a round.
type Via = fn(&Round) -> &Measurements;

/// One round: the mock directly, through a TCP relay, and through the gateway.
struct Round {
    direct: Measurements,
    relayed: Measurements,
    gateway: Measurements,
}

impl Measurements {
    /// The rounds of one target as one: histograms merged, counts and durations added.
    fn merge(rounds: &[&Measurements]) -> Option<Measurements> {
        let (first, rest) = rounds.split_first()?;
        let mut merged = Measurements {
            name: first.name.clone(),
            throughput: first.throughput.clone(),
            clients: first.clients,
            fixed: first.fixed.clone(),
            rate: first.rate,
            first_content: first.first_content.clone(),
            stream_rate: first.stream_rate,
        };
        for round in rest {
            merged.throughput.absorb(&round.throughput);
            merged.fixed.absorb(&round.fixed);
            merged.first_content.absorb(&round.first_content);
        }
        Some(merged)
    }
}

/// A target from the issue: a limit and its unit.
#[derive(Debug, Clone, Copy)]
enum Target {
    AtMost(f64, &'static str),
    AtLeast(f64, &'static str),
}

impl Target {
    fn judge(self, what: &str, measured: Spread) -> Verdict {
        match self {
            Target::AtMost(limit, unit) => Verdict::at_most(what, measured, limit, unit),
            Target::AtLeast(limit, unit) => Verdict::at_least(what, measured, limit, unit),
        }
    }
}

async fn run(args: &Args) -> Result<String, LoadError> {
    let environment = Environment::detect();
    let bin_dir = match &args.bin_dir {
        Some(dir) => dir.clone(),
        None => std::env::current_exe()?
            .parent()
            .map(Path::to_path_buf)
            .ok_or_else(|| LoadError::Setup("cannot tell where this executable is".into()))?,
    };
    let work = std::env::temp_dir().join(format!("llm-gateway-load-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let fixtures = work.join("load.json");
    std::fs::write(&fixtures, scenario::scenario_json())?;

    let mock = Server::start(
        "mock-ollama",
        &bin_dir.join("mock-ollama"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--journal-limit",
            "0",
            "--fixtures",
            &fixtures.to_string_lossy(),
        ],
        &[("RUST_LOG", "warn,mock_ollama=info")],
        Duration::from_secs(30),
    )?;
    let mock_host = mock.url().trim_start_matches("http://").to_owned();
    let gateway = Server::start(
        "gateway",
        &bin_dir.join("gateway"),
        &["--listen", "127.0.0.1:0"],
        &[
            ("OLLAMA_HOST", &mock_host),
            ("RUST_LOG", "warn,gateway=info"),
        ],
        Duration::from_secs(30),
    )?;
    let client = http1_client()?;
    let direct = ChatEndpoint::new(Api::Ollama, mock.url(), MODEL, client.clone());
    let through = ChatEndpoint::new(Api::OpenAi, gateway.url(), MODEL, client.clone());

    let wants = |part: Part| args.only.is_none_or(|only| only == part);
    let mut rounds = Vec::new();
    if wants(Part::Requests) {
        let relay = Server::start(
            "tcp relay",
            &std::env::current_exe()?,
            &["--relay-to", &mock_host],
            &[],
            Duration::from_secs(30),
        )?;
        let relayed = ChatEndpoint::new(Api::Ollama, relay.url(), MODEL, client.clone());
        let targets = [
            ("direct to mock", &direct),
            ("mock through a TCP relay", &relayed),
            ("gateway", &through),
        ];
        for round in 0..args.rounds {
            // Rotating the order keeps a drift over the run from favouring one target.
            let mut measured: [Option<Measurements>; 3] = Default::default();
            for step in 0..targets.len() {
                let at = (round + step) % targets.len();
                let (name, endpoint) = targets[at];
                measured[at] = Some(measure(args, name, endpoint, |_| args.rate).await);
            }
            if let [Some(direct), Some(relayed), Some(gateway)] = measured {
                rounds.push(Round {
                    direct,
                    relayed,
                    gateway,
                });
            }
        }
    }
    let idle = gateway.usage();
    let held = if args.open_streams > 0 && wants(Part::OpenStreams) {
        Some(hold_streams(args, &gateway).await?)
    } else {
        None
    };

    let mut litellm = None;
    let mut litellm_note = String::new();
    if let Some(program) = args.litellm.as_ref().filter(|_| wants(Part::Requests)) {
        let server = start_litellm(args, program, &mock_host, &work)?;
        let endpoint = ChatEndpoint::new(Api::OpenAi, server.url(), MODEL, client.clone())
            .with_bearer("sk-load");
        // Open loop above what a server can serve only measures its queue; LiteLLM is loaded at
        // half the throughput it just showed, or at --rate if that is lower.
        litellm = Some(
            measure(args, "LiteLLM", &endpoint, |throughput| {
                (throughput.throughput() / 2.0).clamp(1.0, args.rate)
            })
            .await,
        );
        litellm_note = format!(
            "- LiteLLM {} (`litellm[proxy]`), {} worker process(es), provider `ollama_chat` on the same mock\n",
            args.litellm_version, args.litellm_workers
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(render(
        args,
        &environment,
        &litellm_note,
        &rounds,
        litellm.as_ref(),
        idle,
        held.as_ref(),
    ))
}

fn http1_client() -> Result<reqwest::Client, LoadError> {
    reqwest::Client::builder()
        .tcp_nodelay(true)
        .pool_max_idle_per_host(usize::MAX)
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|err| LoadError::Setup(format!("HTTP client: {err}")))
}

fn progress(what: &str) {
    eprintln!("==> {what}");
}

/// Warms `endpoint` up, then measures its throughput (closed loop), its latency at the rate
/// `rate_for` picks from that throughput (open loop), and its time to first content (open loop).
async fn measure(
    args: &Args,
    name: &str,
    endpoint: &ChatEndpoint,
    rate_for: impl FnOnce(&Measured) -> f64,
) -> Measurements {
    let seconds = Duration::from_secs(args.seconds);
    let whole = {
        let endpoint = endpoint.clone();
        move || endpoint.whole(INSTANT_PROMPT)
    };
    let first_content = {
        let endpoint = endpoint.clone();
        move || endpoint.first_content(INSTANT_PROMPT)
    };
    progress(&format!("{name}: warming up"));
    closed_loop(8, Duration::from_secs(1), whole.clone()).await;
    progress(&format!(
        "{name}: closed loop, {} clients, {} s",
        args.clients, args.seconds
    ));
    let throughput = closed_loop(args.clients, seconds, whole.clone()).await;
    let rate = rate_for(&throughput);
    progress(&format!(
        "{name}: open loop, {rate:.0} req/s, {} s",
        args.seconds
    ));
    let fixed = open_loop(rate, seconds, whole).await;
    let stream_rate = args.stream_rate.min(rate);
    progress(&format!(
        "{name}: streams, open loop, {stream_rate:.0}/s, {} s",
        args.seconds
    ));
    let first_content = open_loop(stream_rate, seconds, first_content).await;
    Measurements {
        name: name.to_owned(),
        throughput,
        clients: args.clients,
        fixed,
        rate,
        first_content,
        stream_rate,
    }
}

/// What holding many streams open through the gateway showed.
struct Held {
    streams: usize,
    opened: usize,
    ok: usize,
    failed: usize,
    first_failure: Option<String>,
    connections: usize,
    while_open: Option<Usage>,
    ramp: Duration,
}

/// Opens `--open-streams` paced streams through the gateway over HTTP/2 connections, reads the
/// gateway's memory while all are open, then reads every stream to its end.
async fn hold_streams(args: &Args, gateway: &Server) -> Result<Held, LoadError> {
    let streams = args.open_streams;
    let per_connection = args.streams_per_connection.max(1);
    let connections = streams.div_ceil(per_connection);
    progress(&format!(
        "gateway: opening {streams} streams over {connections} HTTP/2 connections at {:.0}/s",
        args.open_rate
    ));
    // One client per connection: a client keeps one HTTP/2 connection per host.
    let endpoints = (0..connections)
        .map(|_| {
            reqwest::Client::builder()
                .http2_prior_knowledge()
                .tcp_nodelay(true)
                .timeout(Duration::from_secs(120))
                .build()
                .map(|client| ChatEndpoint::new(Api::OpenAi, gateway.url(), MODEL, client))
                .map_err(|err| LoadError::Setup(format!("HTTP/2 client: {err}")))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let opened = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let interval = Duration::from_secs_f64(1.0 / args.open_rate);
    let mut tasks = Vec::with_capacity(streams);
    for n in 0..streams {
        tokio::time::sleep_until((started + interval * n as u32).into()).await;
        let endpoint = endpoints[n % connections].clone();
        let opened = Arc::clone(&opened);
        tasks.push(tokio::spawn(async move {
            endpoint
                .hold_stream(HELD_PROMPT, move |_| {
                    opened.fetch_add(1, Ordering::Relaxed);
                })
                .await
        }));
    }
    // Every stream lasts HELD_CHUNKS seconds from its first content; wait until all are open (or
    // the first of them is about to end), settle, then read the gateway's memory.
    let deadline = started + interval * streams as u32 + scenario::HELD_CHUNK_DELAY * 10;
    while opened.load(Ordering::Relaxed) < streams && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let ramp = started.elapsed();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let while_open = gateway.usage();
    let opened = opened.load(Ordering::Relaxed);
    progress(&format!(
        "gateway: {opened} streams open after {:.1} s; reading them to the end",
        ramp.as_secs_f64()
    ));
    let (mut ok, mut failed, mut first_failure) = (0, 0, None);
    for task in tasks {
        match task.await {
            Ok(Ok(_)) => ok += 1,
            Ok(Err(error)) => {
                failed += 1;
                first_failure.get_or_insert_with(|| error.to_string());
            }
            Err(error) => {
                failed += 1;
                first_failure.get_or_insert_with(|| error.to_string());
            }
        }
    }
    Ok(Held {
        streams,
        opened,
        ok,
        failed,
        first_failure,
        connections,
        while_open,
        ramp,
    })
}

/// LiteLLM's proxy routed to the mock, on a free loopback port.
fn start_litellm(
    args: &Args,
    program: &Path,
    mock_host: &str,
    work: &Path,
) -> Result<Server, LoadError> {
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let config = work.join("litellm.yaml");
    std::fs::write(
        &config,
        format!(
            "model_list:\n  - model_name: {MODEL}\n    litellm_params:\n      model: ollama_chat/{MODEL}\n      api_base: http://{mock_host}\n\
             litellm_settings:\n  telemetry: false\n  drop_params: true\n  request_timeout: 60\n\
             general_settings:\n  master_key: sk-load\n"
        ),
    )?;
    progress("LiteLLM: starting (this takes a while)");
    Ok(Server::start(
        "LiteLLM",
        program,
        &[
            "--config",
            &config.to_string_lossy(),
            "--host",
            "127.0.0.1",
            "--port",
            &port.to_string(),
            "--num_workers",
            &args.litellm_workers.to_string(),
        ],
        &[],
        Duration::from_secs(300),
    )?)
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

fn render(
    args: &Args,
    environment: &Environment,
    litellm_note: &str,
    rounds: &[Round],
    litellm: Option<&Measurements>,
    idle: Option<Usage>,
    held: Option<&Held>,
) -> String {
    let mut out = String::from("# Load benchmark\n\n");
    out += &environment.render();
    out += litellm_note;
    out += &format!(
        "- servers: mock-ollama and the gateway from {}; request logs off (`RUST_LOG=warn`); this generator on {} runtime threads, on the same cores\n\
         - {} rounds of {} s per measurement, direct, relayed and gateway taking turns to go first; tables merge the rounds, targets take the median of the rounds\n\n",
        environment.profile,
        args.threads,
        rounds.len(),
        args.seconds
    );

    // Each target's rounds merged into one, for the tables.
    let merged: Vec<Measurements> = [
        rounds.iter().map(|r| &r.direct).collect::<Vec<_>>(),
        rounds.iter().map(|r| &r.relayed).collect(),
        rounds.iter().map(|r| &r.gateway).collect(),
        litellm.into_iter().collect(),
    ]
    .into_iter()
    .filter_map(|parts| Measurements::merge(&parts))
    .collect();
    let rows = |pick: fn(&Measurements) -> (&Measured, String)| -> Vec<Row> {
        merged
            .iter()
            .map(|m| {
                let (measured, load) = pick(m);
                Row {
                    target: m.name.clone(),
                    load,
                    measured: measured.clone(),
                }
            })
            .collect()
    };
    out += "## Non-stream requests (16-chunk reply)\n\nLatency is from sending the request to the last byte of the reply. *Own time* is what the gateway reports in `Server-Timing: gateway;dur=…`: from the request reaching it to its response head, minus the time spent waiting on the mock.\n\n";
    let mut non_stream = rows(|m| (&m.throughput, format!("closed loop, {} clients", m.clients)));
    non_stream.extend(rows(|m| {
        (&m.fixed, format!("open loop, {:.0} req/s", m.rate))
    }));
    out += &table(&non_stream);
    out += "\n## Streamed requests (16 chunks): time to first content\n\nLatency is from sending the request to the first non-empty content delta; own time is the gateway's, up to its response head.\n\n";
    out += &table(&rows(|m| {
        (
            &m.first_content,
            format!("open loop, {:.0} streams/s", m.stream_rate),
        )
    }));

    let mut checks = Vec::new();
    // One value per round, from that round's three measurements.
    let per_round = |value: &dyn Fn(&Round) -> f64| {
        let values: Vec<f64> = rounds.iter().map(value).collect();
        Spread::of(&values)
    };
    // What `via` adds to the direct path at percentile `p` of a measurement.
    let added = |via: Via, p: f64, of: Pick| {
        per_round(&|round| {
            of(via(round)).latency_us(p) as f64 - of(&round.direct).latency_us(p) as f64
        })
    };
    let gateway: Via = |round| &round.gateway;
    let relayed: Via = |round| &round.relayed;
    let own = |p: f64| per_round(&|r| r.gateway.fixed.server_time.value_at_percentile(p) as f64);
    let at_rate = |what: &str| format!("{what} at {:.0} req/s", args.rate);
    if !rounds.is_empty() {
        out += "\n## What one more hop costs here\n\nThe same requests to the mock through a TCP relay that copies bytes without reading them: the least any proxy adds on this machine. Medians of the rounds, with their range.\n\n| added to the direct path | by the TCP relay | by the gateway |\n|---|---:|---:|\n";
        let hop_rows: [(String, Pick, f64); 3] = [
            (at_rate("p50"), |m| &m.fixed, 50.0),
            (at_rate("p99"), |m| &m.fixed, 99.0),
            (
                "time to first content, p50".to_owned(),
                |m| &m.first_content,
                50.0,
            ),
        ];
        for (what, of, p) in hop_rows {
            let show = |spread: Option<Spread>| spread.map_or("–".to_owned(), |s| s.render("µs"));
            out += &format!(
                "| {what} | {} | {} |\n",
                show(added(relayed, p, of)),
                show(added(gateway, p, of))
            );
        }
    }
    let judged = [
        (
            "non-stream throughput, gateway ÷ direct".to_owned(),
            per_round(&|r| r.gateway.throughput.throughput() / r.direct.throughput.throughput()),
            Target::AtLeast(0.6, "×"),
        ),
        (
            at_rate("added p50"),
            added(gateway, 50.0, |m| &m.fixed),
            Target::AtMost(100.0, "µs"),
        ),
        (
            at_rate("added p99"),
            added(gateway, 99.0, |m| &m.fixed),
            Target::AtMost(1000.0, "µs"),
        ),
        (
            "added time to first content, p50".to_owned(),
            added(gateway, 50.0, |m| &m.first_content),
            Target::AtMost(200.0, "µs"),
        ),
        (
            at_rate("gateway's own time (Server-Timing), p50"),
            own(50.0),
            Target::AtMost(100.0, "µs"),
        ),
        (
            at_rate("gateway's own time (Server-Timing), p99"),
            own(99.0),
            Target::AtMost(1000.0, "µs"),
        ),
        (
            "non-stream throughput, gateway ÷ LiteLLM".to_owned(),
            litellm.and_then(|litellm| {
                per_round(&|r| r.gateway.throughput.throughput() / litellm.throughput.throughput())
            }),
            Target::AtLeast(50.0, "×"),
        ),
    ];
    for (what, measured, target) in judged {
        if let Some(measured) = measured {
            checks.push(target.judge(&what, measured));
        }
    }
    if !rounds.is_empty() {
        let failures: u64 = merged
            .iter()
            .map(|m| m.throughput.failed + m.fixed.failed + m.first_content.failed)
            .sum();
        checks.push(Verdict::at_most(
            "failed requests, all of the above",
            Spread::once(failures as f64),
            0.0,
            "",
        ));
    }

    if let Some(held) = held {
        out += &format!(
            "\n## {} streams held open through the gateway\n\nEach stream is paced at one chunk per second for {} s; the clients multiplex {} streams per HTTP/2 connection ({} connections); the gateway holds one HTTP/1.1 connection to the mock per stream.\n\n",
            held.streams,
            scenario::HELD_CHUNKS,
            args.streams_per_connection,
            held.connections
        );
        out += "| | RSS MiB | peak RSS MiB | open descriptors |\n|---|---:|---:|---:|\n";
        for (when, usage) in [
            ("gateway before (idle, after the runs above)", idle),
            ("gateway with all streams open", held.while_open),
        ] {
            match usage {
                Some(u) => {
                    out += &format!(
                        "| {when} | {:.1} | {:.1} | {} |\n",
                        mib(u.rss),
                        mib(u.peak_rss),
                        u.fds
                    )
                }
                None => out += &format!("| {when} | – | – | – |\n"),
            }
        }
        out += &format!(
            "\nopened {} of {} in {:.1} s; {} ended properly, {} failed{}\n",
            held.opened,
            held.streams,
            held.ramp.as_secs_f64(),
            held.ok,
            held.failed,
            held.first_failure
                .as_ref()
                .map(|f| format!(" (first: {f})"))
                .unwrap_or_default()
        );
        if let Some(usage) = held.while_open {
            checks.push(Verdict::at_most(
                &format!("gateway RSS with {} streams open", held.streams),
                Spread::once(mib(usage.rss)),
                150.0,
                "MiB",
            ));
        }
        checks.push(Verdict::at_most(
            "streams that failed or never opened",
            Spread::once((held.failed + held.streams - held.opened.min(held.streams)) as f64),
            0.0,
            "",
        ));
    }
    out += "\n## Ratios and targets\n\n";
    out += &verdicts(&checks);
    out
}
