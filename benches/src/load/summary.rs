//! The load benchmark's results and their report: what each target measured per round, the
//! open streams, and the Markdown with the ratios judged against the targets.

use std::time::Duration;

use super::{
    generator::Measured,
    plan::{Plan, Upstream},
    process::Usage,
    report::{Environment, Row, Spread, Verdict, table, verdicts},
    scenario::{INSTANT_CHUNKS, LONG_CHUNKS},
};

/// What one server measured under the three loads.
#[derive(Debug, Clone)]
pub(crate) struct Measurements {
    pub(crate) name: String,
    pub(crate) throughput: Measured,
    pub(crate) clients: usize,
    pub(crate) fixed: Measured,
    pub(crate) rate: f64,
    pub(crate) first_content: Measured,
    pub(crate) stream_rate: f64,
    /// Streamed requests (16 chunks), closed loop.
    pub(crate) streamed: Measured,
    /// Streamed requests of 64 chunks, closed loop: with `streamed`, the cost of a chunk.
    pub(crate) long_streamed: Measured,
}

impl Measurements {
    /// CPU of the target's process per relayed chunk: the difference between a 64-chunk and a
    /// 16-chunk stream, per chunk, so that the per-request part cancels out.
    pub(crate) fn cpu_per_chunk_us(&self) -> Option<f64> {
        let short = self.streamed.cpu_per_answer_us()?;
        let long = self.long_streamed.cpu_per_answer_us()?;
        Some((long - short) / (LONG_CHUNKS - INSTANT_CHUNKS) as f64)
    }
}

/// Which of a target's measurements a row or a target reads.
type Pick = fn(&Measurements) -> &Measured;
/// Which target of a round.
type Via = fn(&Round) -> &Measurements;

/// One round: the mock directly, through a TCP relay, and through the gateway.
#[derive(Debug)]
pub(crate) struct Round {
    pub(crate) direct: Measurements,
    pub(crate) relayed: Measurements,
    pub(crate) gateway: Measurements,
}

impl Measurements {
    /// The rounds of one target as one: histograms merged, counts and durations added.
    pub(crate) fn merge(rounds: &[&Measurements]) -> Option<Measurements> {
        let (first, rest) = rounds.split_first()?;
        let mut merged = (*first).clone();
        for round in rest {
            merged.throughput.absorb(&round.throughput);
            merged.fixed.absorb(&round.fixed);
            merged.first_content.absorb(&round.first_content);
            merged.streamed.absorb(&round.streamed);
            merged.long_streamed.absorb(&round.long_streamed);
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

/// What holding many streams open through the gateway showed.
#[derive(Debug)]
pub(crate) struct Held {
    pub(crate) streams: usize,
    pub(crate) opened: usize,
    pub(crate) ok: usize,
    pub(crate) failed: usize,
    pub(crate) first_failure: Option<String>,
    pub(crate) connections: usize,
    pub(crate) while_open: Option<Usage>,
    pub(crate) ramp: Duration,
}

fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

pub(crate) fn render(
    plan: &Plan,
    environment: &Environment,
    peer_notes: &str,
    rounds: &[Round],
    peers: &[Measurements],
    idle: Option<Usage>,
    held: Option<&Held>,
) -> String {
    let mut out = String::from("# Load benchmark\n\n");
    out += &environment.render();
    out += peer_notes;
    out += &format!(
        "- upstream: {}\n\
         - servers: mock-ollama and the gateway from {}; request logs off (`RUST_LOG=warn`); gateway worker threads: {}; this generator on {} runtime threads, on the same cores\n\
         - {} rounds of {} s per measurement, direct, relayed and gateway taking turns to go first; tables merge the rounds, targets take the median of the rounds\n\n",
        match plan.upstream {
            Upstream::Ollama =>
                "mock-ollama's native API (`/api/chat`, NDJSON); the gateway's backend `kind = \"ollama\"`",
            Upstream::Openai =>
                "mock-ollama's OpenAI layer, exact-OpenAI flavour (`/v1/chat/completions`, SSE); the gateway's backend `kind = \"openai\"`",
        },
        environment.profile,
        plan.gateway_worker_threads
            .map_or_else(|| "one per CPU".to_owned(), |n| n.to_string()),
        plan.threads,
        rounds.len(),
        plan.seconds
    );

    // Each target's rounds merged into one, for the tables.
    let merged: Vec<Measurements> = [
        rounds.iter().map(|r| &r.direct).collect::<Vec<_>>(),
        rounds.iter().map(|r| &r.relayed).collect(),
        rounds.iter().map(|r| &r.gateway).collect(),
    ]
    .into_iter()
    .filter_map(|parts| Measurements::merge(&parts))
    .chain(peers.iter().cloned())
    .collect();
    let litellm = peers.iter().find(|peer| peer.name == "LiteLLM");
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
    // Only the parts that ran have tables.
    if !merged.is_empty() {
        out += "## Non-stream requests (16-chunk reply)\n\nLatency is from sending the request to the last byte of the reply. *Own time* is what the gateway reports in `Server-Timing: gateway;dur=…`: from the request reaching it to its response head, minus the time spent waiting on the mock.\n\n";
        let mut non_stream =
            rows(|m| (&m.throughput, format!("closed loop, {} clients", m.clients)));
        non_stream.extend(rows(|m| {
            (&m.fixed, format!("open loop, {:.0} req/s", m.rate))
        }));
        out += &table(&non_stream);
        out += "\n## Streamed requests (16 chunks)\n\nClosed loop: latency to the end of the stream. Open loop: latency to the first non-empty content delta (*time to first content*). Own time is the gateway's, up to its response head.\n\n";
        let mut streamed = rows(|m| (&m.streamed, format!("closed loop, {} clients", m.clients)));
        streamed.extend(rows(|m| {
            (
                &m.first_content,
                format!("open loop, {:.0} streams/s", m.stream_rate),
            )
        }));
        out += &table(&streamed);
        out += "\n## CPU per request and per chunk\n\nEach target's own process (the mock, the relay, the gateway, LiteLLM), from its CPU time in `/proc/<pid>/stat` over the closed-loop runs, divided by the answers. Per chunk: a 64-chunk stream against a 16-chunk one, per extra chunk.\n\n| target | non-stream µs/request | streamed µs/request | µs per relayed chunk |\n|---|---:|---:|---:|\n";
        let micros = |value: Option<f64>| value.map_or("–".to_owned(), |v| format!("{v:.1}"));
        for m in &merged {
            out += &format!(
                "| {} | {} | {} | {} |\n",
                m.name,
                micros(m.throughput.cpu_per_answer_us()),
                micros(m.streamed.cpu_per_answer_us()),
                micros(m.cpu_per_chunk_us())
            );
        }
    }

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
    let at_rate = |what: &str| format!("{what} at {:.0} req/s", plan.rate);
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
            "streamed throughput, gateway ÷ direct".to_owned(),
            per_round(&|r| r.gateway.streamed.throughput() / r.direct.streamed.throughput()),
            Target::AtLeast(0.5, "×"),
        ),
        (
            at_rate("added p50"),
            added(gateway, 50.0, |m| &m.fixed),
            Target::AtMost(60.0, "µs"),
        ),
        (
            at_rate("added p99"),
            added(gateway, 99.0, |m| &m.fixed),
            Target::AtMost(1000.0, "µs"),
        ),
        (
            "added time to first content, p50".to_owned(),
            added(gateway, 50.0, |m| &m.first_content),
            Target::AtMost(150.0, "µs"),
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
            .map(|m| {
                m.throughput.failed
                    + m.fixed.failed
                    + m.first_content.failed
                    + m.streamed.failed
                    + m.long_streamed.failed
            })
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
            held.streams, plan.hold_seconds, plan.streams_per_connection, held.connections
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
    if !checks.is_empty() {
        out += "\n## Ratios and targets\n\n";
        out += &verdicts(&checks);
    }
    out
}
