//! What the load benchmark runs: its command line.

use std::path::PathBuf;

use clap::Parser;

use super::limits::LimitsPlan;

/// Loads mock-ollama directly, through a TCP relay, through the gateway and through LiteLLM, and
/// reports the ratios.
#[derive(Debug, Parser)]
#[command(name = "load", version)]
pub struct Plan {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 5)]
    pub seconds: u64,
    /// Rounds of the direct/gateway pair, alternating which goes first; targets are judged on the
    /// median of the rounds, and the range is shown.
    #[arg(long, default_value_t = 3)]
    pub rounds: usize,
    /// Open-loop rate for non-stream requests, per second.
    #[arg(long, default_value_t = 1000.0, value_parser = per_second)]
    pub rate: f64,
    /// Open-loop rate for streamed requests, per second.
    #[arg(long, default_value_t = 200.0, value_parser = per_second)]
    pub stream_rate: f64,
    /// Concurrent clients in the closed-loop (throughput) runs.
    #[arg(long, default_value_t = 64)]
    pub clients: usize,
    /// Streams held open at once through the gateway (0 skips this part).
    #[arg(long, default_value_t = 10_000)]
    pub open_streams: usize,
    /// How long each held-open stream lasts, in seconds (one chunk per second).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(2..))]
    pub hold_seconds: u64,
    /// HTTP/2 streams per client connection while holding streams open (see docs/benchmarks.md:
    /// over HTTP/1.1 the gateway would need two descriptors per stream).
    #[arg(long, default_value_t = 100)]
    pub streams_per_connection: usize,
    /// New streams per second while opening them.
    #[arg(long, default_value_t = 2000.0, value_parser = per_second)]
    pub open_rate: f64,
    /// The `litellm` executable; LiteLLM is left out without it.
    #[arg(long)]
    pub litellm: Option<PathBuf>,
    /// LiteLLM's version, for the report.
    #[arg(long, default_value = "unknown")]
    pub litellm_version: String,
    /// The `crabllm` executable; crabllm is left out without it. It relays OpenAI-compatible
    /// upstreams only, so it runs with `--upstream openai`.
    #[arg(long)]
    pub crabllm: Option<PathBuf>,
    /// crabllm's version, for the report.
    #[arg(long, default_value = "unknown")]
    pub crabllm_version: String,
    /// What the gateway (and the peers) relay to: the mock's native Ollama API (the gateway's
    /// `kind = "ollama"`), or its OpenAI layer (`kind = "openai"`, where crabllm can relay too).
    #[arg(long, value_enum, default_value_t = Upstream::Ollama)]
    pub upstream: Upstream,
    /// LiteLLM's worker processes.
    #[arg(long, default_value_t = 1)]
    pub litellm_workers: usize,
    /// The `redis-server` executable for the `keys` part's Redis variant (left out, with a
    /// note, when it cannot start).
    #[arg(long, default_value = "redis-server")]
    pub redis_server: PathBuf,
    /// Where the mock-ollama and gateway executables are [default: beside this one].
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
    /// The gateway's worker threads (its `TOKIO_WORKER_THREADS`) [default: one per CPU].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub gateway_worker_threads: Option<u16>,
    /// Runtime threads of this load generator.
    #[arg(long, default_value_t = 2)]
    pub threads: usize,
    /// Also write the report to this file.
    #[arg(long)]
    pub markdown: Option<PathBuf>,
    /// Run as the TCP relay to this address instead (started by the benchmark itself).
    #[arg(long, hide = true, value_name = "HOST:PORT")]
    pub relay_to: Option<std::net::SocketAddr>,
    /// Run only this part (for profiling one of them).
    #[arg(long, value_enum)]
    pub only: Option<Part>,
    /// Measure something else than the throughput benchmark.
    #[command(subcommand)]
    pub mode: Option<Mode>,
}

/// The benchmark's other modes.
#[derive(Debug, clap::Subcommand)]
pub enum Mode {
    /// How exactly a running gateway keeps a key's rate limits, through one or several
    /// replicas; the table is printed, and appended to --markdown when given.
    Limits(LimitsPlan),
    /// What upstreams that never end make the gateway hold: its answers, their lateness past
    /// the deadline and its memory; exits 1 when an answer is not the one expected or the
    /// memory passes its bound.
    Hostile(HostilePlan),
    /// Mixed traffic, upstream faults, clients that hang up and an upstream killed and
    /// restarted, for a bounded time: every answer judged whole and against the mock's journal,
    /// the gateway's memory and descriptors flat; exits 1 on any failure.
    Soak(SoakPlan),
}

/// The command line of `load soak`.
#[derive(Debug, Clone, clap::Args)]
pub struct SoakPlan {
    /// How long the traffic runs.
    #[arg(long, default_value_t = 1800, value_parser = clap::value_parser!(u64).range(10..))]
    pub seconds: u64,
    /// Clients sending at once.
    #[arg(long, default_value_t = 8, value_parser = clap::value_parser!(u64).range(1..=4096))]
    pub concurrency: u64,
    /// Requests per second, all clients together (each paces itself to its share).
    #[arg(long, default_value_t = 100.0, value_parser = per_second)]
    pub rate: f64,
    /// The upstream is killed and restarted on its port this often.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(2..))]
    pub restart_every_seconds: u64,
    /// How long the upstream stays down each time.
    #[arg(long, default_value_t = 500)]
    pub down_ms: u64,
    /// The run fails when the gateway's RSS grows more than this after the warm-up.
    #[arg(long, default_value_t = 24)]
    pub max_rss_growth_mib: u64,
    /// Where the mock-ollama and gateway executables are [default: beside this one].
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
}

/// The command line of `load hostile`.
#[derive(Debug, Clone, clap::Args)]
pub struct HostilePlan {
    /// Requests per case.
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u64).range(1..))]
    pub requests: u64,
    /// Requests of a case in flight at once: by default each alone, so the peak memory is what
    /// one hostile upstream can make the gateway hold; with more, expect about that much more
    /// per request in flight (docs/benchmarks.md).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u64).range(1..))]
    pub concurrency: u64,
    /// The gateway's `total_ms` on both backends.
    #[arg(long, default_value_t = 3_000)]
    pub total_ms: u64,
    /// The gateway's `max_body_bytes` on both backends [default: the gateway's, 16 MiB].
    #[arg(long)]
    pub max_body_bytes: Option<u64>,
    /// The run fails when the gateway's peak resident memory passes this many MiB.
    #[arg(long, default_value_t = 200)]
    pub max_rss_mib: u64,
    /// Where the mock-ollama and gateway executables are [default: beside this one].
    #[arg(long)]
    pub bin_dir: Option<PathBuf>,
}

/// The upstream dialect the servers under test relay to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Upstream {
    /// mock-ollama's native API (`/api/chat`, NDJSON).
    Ollama,
    /// mock-ollama's OpenAI layer in its exact-OpenAI flavour (`/v1/chat/completions`, SSE).
    Openai,
}

/// The parts of the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Part {
    /// Non-stream and streamed requests, direct, through the gateway and through LiteLLM.
    Requests,
    /// Streams held open through the gateway.
    OpenStreams,
    /// Non-stream requests through the gateway without `[auth]`, with a key and limits in
    /// memory, and with the limits in Redis.
    Keys,
}

/// A rate: a finite number above zero.
fn per_second(text: &str) -> Result<f64, String> {
    match text.parse::<f64>() {
        Ok(rate) if rate.is_finite() && rate > 0.0 => Ok(rate),
        _ => Err(format!("{text:?} is not a rate; give a number above 0")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_must_be_positive_numbers() {
        assert!(Plan::try_parse_from(["load", "--rate", "250.5"]).is_ok());
        for bad in ["0", "-3", "inf", "NaN", "fast"] {
            let error = Plan::try_parse_from(["load", "--stream-rate", bad]);
            assert!(error.is_err(), "{bad} was accepted");
        }
    }
}
