//! Running the load benchmark: the servers in their own processes, the loads in turn, the
//! streams held open, and LiteLLM last.

use std::{
    sync::{
        Arc,
        atomic::{AtomicUsize, Ordering},
    },
    time::{Duration, Instant},
};

use super::{
    generator::{Measured, closed_loop, open_loop},
    plan::{Part, Plan, Upstream},
    probe::{Api, ChatEndpoint},
    process::Server,
    report::Environment,
    scenario::{self, HELD_PROMPT, INSTANT_PROMPT, LONG_PROMPT, MODEL},
    setup::{
        LoadError, bin_dir, counting_cpu, gateway_config, http1_client, progress, start_crabllm,
        start_gateway, start_litellm,
    },
    summary::{Held, Measurements, Round, render},
};

/// Starts the servers, loads them as `plan` says, stops them, and returns the Markdown report.
/// The TCP relay is this executable started again with `--relay-to`, so only the `load` binary
/// can call this.
pub async fn run(plan: &Plan) -> Result<String, LoadError> {
    let environment = Environment::detect();
    let bin_dir = bin_dir(plan.bin_dir.as_deref())?;
    let work = std::env::temp_dir().join(format!("llm-gateway-load-{}", std::process::id()));
    std::fs::create_dir_all(&work)?;
    let fixtures = work.join("load.json");
    let held_chunks = usize::try_from(plan.hold_seconds).unwrap_or(usize::MAX);
    std::fs::write(&fixtures, scenario::scenario_json(held_chunks))?;

    let fixtures = fixtures.to_string_lossy();
    let mut mock_args = vec![
        "--listen",
        "127.0.0.1:0",
        "--journal-limit",
        "0",
        "--fixtures",
        &fixtures,
    ];
    // The upstream API every target speaks to the mock (the direct path and the relay too).
    let upstream_api = match plan.upstream {
        Upstream::Ollama => Api::Ollama,
        Upstream::Openai => {
            mock_args.extend(["--flavor", "openai"]);
            Api::OpenAi
        }
    };
    let mock = Server::start(
        "mock-ollama",
        &bin_dir.join("mock-ollama"),
        &mock_args,
        &[("RUST_LOG", "warn,mock_ollama=info")],
        Duration::from_secs(30),
    )?;
    let mock_host = mock.url().trim_start_matches("http://").to_owned();
    let gateway_config_path = work.join("gateway.toml");
    std::fs::write(&gateway_config_path, gateway_config(plan, mock.url()))?;
    let gateway = start_gateway(
        plan.gateway_worker_threads,
        &bin_dir,
        &gateway_config_path,
        &[],
    )?;
    let client = http1_client()?;
    let direct = ChatEndpoint::new(upstream_api, mock.url(), MODEL, client.clone());
    let through = ChatEndpoint::new(Api::OpenAi, gateway.url(), MODEL, client.clone());

    let wants = |part: Part| plan.only.is_none_or(|only| only == part);
    let mut rounds = Vec::new();
    if wants(Part::Requests) {
        let relay = Server::start(
            "tcp relay",
            &std::env::current_exe()?,
            &["--relay-to", &mock_host],
            &[],
            Duration::from_secs(30),
        )?;
        let relayed = ChatEndpoint::new(upstream_api, relay.url(), MODEL, client.clone());
        let targets = [
            ("direct to mock", &direct, mock.pid()),
            ("mock through a TCP relay", &relayed, relay.pid()),
            ("gateway", &through, gateway.pid()),
        ];
        for round in 0..plan.rounds {
            // Rotating the order keeps a drift over the run from favouring one target.
            let mut measured: [Option<Measurements>; 3] = Default::default();
            for step in 0..targets.len() {
                let at = (round + step) % targets.len();
                let (name, endpoint, pid) = targets[at];
                measured[at] = Some(measure(plan, name, endpoint, pid, |_| plan.rate).await);
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
    let keys = if wants(Part::Keys) {
        Some(super::keys::measure(plan, &bin_dir, mock.url(), &work, &client).await?)
    } else {
        None
    };
    let idle = gateway.usage();
    let held = if plan.open_streams > 0 && wants(Part::OpenStreams) {
        Some(hold_streams(plan, &gateway).await?)
    } else {
        None
    };

    let mut peers = Vec::new();
    let mut peer_notes = format!("- gateway after the rounds: {}\n", memory(idle));
    if let Some(program) = plan.litellm.as_ref().filter(|_| wants(Part::Requests)) {
        let server = start_litellm(plan, program, mock.url(), &work)?;
        let endpoint = ChatEndpoint::new(Api::OpenAi, server.url(), MODEL, client.clone())
            .with_bearer("sk-load");
        // Open loop above what a server can serve only measures its queue; LiteLLM is loaded at
        // half the throughput it just showed, or at --rate if that is lower.
        peers.push(
            measure(plan, "LiteLLM", &endpoint, server.pid(), |throughput| {
                (throughput.throughput() / 2.0).clamp(1.0, plan.rate)
            })
            .await,
        );
        peer_notes += &format!(
            "- LiteLLM {} (`litellm[proxy]`), {} worker process(es), provider `{}` on the same mock; {}\n",
            plan.litellm_version,
            plan.litellm_workers,
            match plan.upstream {
                Upstream::Ollama => "ollama_chat",
                Upstream::Openai => "openai",
            },
            memory(server.usage())
        );
    }
    let crabllm = plan
        .crabllm
        .as_ref()
        .filter(|_| wants(Part::Requests) && plan.upstream == Upstream::Openai);
    if let Some(program) = crabllm {
        let server = start_crabllm(program, mock.url(), &work)?;
        let endpoint = ChatEndpoint::new(Api::OpenAi, server.url(), MODEL, client.clone())
            .with_bearer("sk-load");
        peers.push(measure(plan, "crabllm", &endpoint, server.pid(), |_| plan.rate).await);
        peer_notes += &format!(
            "- crabllm {} (`cargo install crabllm --locked`), provider kind `openai` on the same mock, in-memory storage, no extensions; {}\n",
            plan.crabllm_version,
            memory(server.usage())
        );
    }
    let _ = std::fs::remove_dir_all(&work);
    Ok(render(
        plan,
        &environment,
        &peer_notes,
        &rounds,
        &peers,
        idle,
        held.as_ref(),
    ) + keys.as_deref().unwrap_or_default())
}

/// Warms `endpoint` up, then measures its throughput (closed loop), its latency at the rate
/// `rate_for` picks from that throughput (open loop), its time to first content (open loop),
/// and its streamed throughput (closed loop, 16- and 64-chunk streams). Closed loops also
/// count the CPU time of the target's process `pid`.
async fn measure(
    plan: &Plan,
    name: &str,
    endpoint: &ChatEndpoint,
    pid: u32,
    rate_for: impl FnOnce(&Measured) -> f64,
) -> Measurements {
    let seconds = Duration::from_secs(plan.seconds);
    let whole = endpoint.whole(INSTANT_PROMPT);
    let first_content = endpoint.first_content(INSTANT_PROMPT);
    progress(&format!("{name}: warming up"));
    closed_loop(8, Duration::from_secs(1), whole.clone()).await;
    let throughput = counting_cpu(plan, &format!("{name}: non-stream"), pid, whole.clone()).await;
    let rate = rate_for(&throughput);
    progress(&format!(
        "{name}: open loop, {rate:.0} req/s, {} s",
        plan.seconds
    ));
    let fixed = open_loop(rate, seconds, whole).await;
    let stream_rate = plan.stream_rate.min(rate);
    progress(&format!(
        "{name}: streams, open loop, {stream_rate:.0}/s, {} s",
        plan.seconds
    ));
    let streamed = counting_cpu(
        plan,
        &format!("{name}: streams of 16 chunks"),
        pid,
        first_content.clone(),
    )
    .await;
    let long_streamed = counting_cpu(
        plan,
        &format!("{name}: streams of 64 chunks"),
        pid,
        endpoint.first_content(LONG_PROMPT),
    )
    .await;
    let first_content = open_loop(stream_rate, seconds, first_content).await;
    Measurements {
        name: name.to_owned(),
        throughput,
        clients: plan.clients,
        fixed,
        rate,
        first_content,
        stream_rate,
        streamed,
        long_streamed,
    }
}

/// Opens `--open-streams` paced streams through the gateway over HTTP/2 connections, reads the
/// gateway's memory while all are open, then reads every stream to its end.
async fn hold_streams(plan: &Plan, gateway: &Server) -> Result<Held, LoadError> {
    let streams = plan.open_streams;
    let per_connection = plan.streams_per_connection.max(1);
    let connections = streams.div_ceil(per_connection);
    progress(&format!(
        "gateway: opening {streams} streams over {connections} HTTP/2 connections at {:.0}/s",
        plan.open_rate
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
    let interval = Duration::from_secs_f64(1.0 / plan.open_rate);
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
    // Every stream lasts --hold-seconds from its first content: wait until all are open (or half
    // that time past the ramp), settle for a second, then read the gateway's memory.
    let deadline = started
        + interval * streams as u32
        + scenario::HELD_CHUNK_DELAY * u32::try_from(plan.hold_seconds / 2).unwrap_or(u32::MAX);
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
        let failure = match task.await {
            Ok(Ok(_)) => None,
            Ok(Err(error)) => Some(error.to_string()),
            Err(panicked) => Some(panicked.to_string()),
        };
        match failure {
            None => ok += 1,
            Some(failure) => {
                failed += 1;
                first_failure.get_or_insert(failure);
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

/// A process's memory as the report states it.
fn memory(usage: Option<super::process::Usage>) -> String {
    let mib = |bytes: u64| bytes as f64 / (1024.0 * 1024.0);
    usage.map_or_else(
        || "RSS unknown".to_owned(),
        |usage| {
            format!(
                "RSS {:.1} MiB (peak {:.1} MiB)",
                mib(usage.rss),
                mib(usage.peak_rss)
            )
        },
    )
}
