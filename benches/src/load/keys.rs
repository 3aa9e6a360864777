//! The `keys` part: what `[auth]` costs the gateway per request. Three gateways relay to the same
//! mock: one without `[auth]`, one with a key whose request and token limits are kept in its
//! memory, and one with the same limits kept in Redis. The limits are set far above the load, so
//! nothing is refused: what differs is only the work of checking the key, admitting, and
//! settling the tokens. The three take turns going first in each round, and each round
//! measures the CPU per request (closed loop), the latency at `--rate` (open loop), and the
//! gateway's own time from `Server-Timing`, in which the Redis round trips are included.

use std::{path::Path, time::Duration};

use super::{
    generator::{Measured, closed_loop, open_loop},
    plan::Plan,
    probe::{Api, ChatEndpoint},
    process::start_redis,
    report::Spread,
    scenario::{INSTANT_PROMPT, MODEL},
    setup::{LoadError, counting_cpu, gateway_config, progress, start_gateway},
};

/// The key every request presents, to the gateways with `[auth]` and without.
const KEY: &str = "sk-load-keys";

/// Limits no load here comes near: 10⁹ requests and 10¹² tokens a minute.
const LIMITS: &str = "requests_per_minute = 1000000000\ntokens_per_minute = 1000000000000\n";

/// Where a variant keeps its limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Store {
    /// No `[auth]` at all: the baseline.
    Open,
    /// A key, its limits in the gateway's memory.
    Memory,
    /// A key, its limits in Redis.
    Redis,
}

impl Store {
    fn name(self) -> &'static str {
        match self {
            Store::Open => "without `[auth]`",
            Store::Memory => "key + limits in memory",
            Store::Redis => "key + limits in Redis",
        }
    }

    /// The `[auth]` section, if any, with Redis at `redis_url`.
    fn auth_section(self, redis_url: &str) -> String {
        let redis = match self {
            Store::Open => return String::new(),
            Store::Memory => String::new(),
            Store::Redis => format!("redis_url = \"{redis_url}\"\n"),
        };
        format!(
            "\n[auth]\n{redis}\n[[auth.keys]]\nname = \"load\"\nkey = \"env:LOAD_KEY\"\n{LIMITS}"
        )
    }
}

/// One variant's measurements of one round.
#[derive(Debug)]
struct Sample {
    /// Non-stream requests, closed loop, with the gateway's CPU time.
    throughput: Measured,
    /// Non-stream requests, open loop at `--rate`.
    fixed: Measured,
}

/// Starts the variants over the mock at `upstream` (Redis with `plan.redis_server`, left out
/// with a note when it cannot start), measures them in turns, and returns the report's section.
pub(crate) async fn measure(
    plan: &Plan,
    bin_dir: &Path,
    upstream: &str,
    work: &Path,
    client: &reqwest::Client,
) -> Result<String, LoadError> {
    let redis = start_redis(&plan.redis_server).map_err(|error| error.to_string());
    let redis_url = redis.as_ref().map_or(String::new(), |r| r.url().to_owned());
    let stores: Vec<Store> = [Store::Open, Store::Memory, Store::Redis]
        .into_iter()
        .filter(|store| *store != Store::Redis || redis.is_ok())
        .collect();
    let mut gateways = Vec::with_capacity(stores.len());
    for store in &stores {
        let config = work.join(format!("gateway-keys-{}.toml", gateways.len()));
        let text = gateway_config(plan, upstream) + &store.auth_section(&redis_url);
        std::fs::write(&config, text)?;
        gateways.push(start_gateway(
            plan.gateway_worker_threads,
            bin_dir,
            &config,
            &[("LOAD_KEY", KEY)],
        )?);
    }
    let endpoints: Vec<ChatEndpoint> = gateways
        .iter()
        .map(|gateway| {
            ChatEndpoint::new(Api::OpenAi, gateway.url(), MODEL, client.clone()).with_bearer(KEY)
        })
        .collect();

    let seconds = Duration::from_secs(plan.seconds);
    let mut samples: Vec<Vec<Sample>> = stores.iter().map(|_| Vec::new()).collect();
    for round in 0..plan.rounds {
        for step in 0..stores.len() {
            let at = (round + step) % stores.len();
            let (name, endpoint) = (stores[at].name(), &endpoints[at]);
            let whole = endpoint.whole(INSTANT_PROMPT);
            progress(&format!("keys, {name}: warming up"));
            closed_loop(8, Duration::from_secs(1), whole.clone()).await;
            let throughput = counting_cpu(
                plan,
                &format!("keys, {name}: non-stream"),
                gateways[at].pid(),
                whole.clone(),
            )
            .await;
            progress(&format!(
                "keys, {name}: open loop, {:.0} req/s, {} s",
                plan.rate, plan.seconds
            ));
            let fixed = open_loop(plan.rate, seconds, whole).await;
            samples[at].push(Sample { throughput, fixed });
        }
    }
    let note = match &redis {
        Ok(server) => format!("redis-server at {}", server.url()),
        Err(why) => format!("the Redis variant is left out: {why}"),
    };
    Ok(render(plan, &stores, &samples, &note))
}

/// The section: per variant, the medians of the rounds with their ranges, and what the variant
/// adds to the one without `[auth]`, round by round.
fn render(plan: &Plan, stores: &[Store], samples: &[Vec<Sample>], note: &str) -> String {
    let spread = |values: Vec<f64>, unit: &str| {
        Spread::of(&values).map_or_else(|| "–".to_owned(), |s| s.render(unit))
    };
    let cpu = |sample: &Sample| sample.throughput.cpu_per_answer_us().unwrap_or(f64::NAN);
    let own = |sample: &Sample| sample.fixed.server_time.value_at_percentile(50.0) as f64;
    let baseline = &samples[0];
    let mut out = format!(
        "\n## What keys and limits cost\n\nThe same non-stream request through three gateways over the same mock: {}. Limits of 10⁹ requests and 10¹² tokens a minute, so nothing is refused. {} rounds, the variants taking turns to go first; medians of the rounds with their ranges. *Added* is the variant minus the one without `[auth]`, in the same round. {note}.\n\n\
         | variant | closed loop, {} clients | CPU per request | p50 at {:.0} req/s | p99 at {:.0} req/s | own time p50 | added CPU per request | added own time p50 |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|\n",
        stores
            .iter()
            .map(|store| store.name())
            .collect::<Vec<_>>()
            .join(", "),
        plan.rounds,
        plan.clients,
        plan.rate,
        plan.rate,
    );
    for (store, rounds) in stores.iter().zip(samples) {
        let added = |of: &dyn Fn(&Sample) -> f64| {
            if *store == Store::Open {
                return "–".to_owned();
            }
            spread(
                rounds
                    .iter()
                    .zip(baseline)
                    .map(|(variant, open)| of(variant) - of(open))
                    .collect(),
                "µs",
            )
        };
        out += &format!(
            "| {} | {} | {} | {} | {} | {} | {} | {} |\n",
            store.name(),
            spread(
                rounds.iter().map(|s| s.throughput.throughput()).collect(),
                "req/s"
            ),
            spread(rounds.iter().map(cpu).collect(), "µs"),
            spread(
                rounds
                    .iter()
                    .map(|s| s.fixed.latency_us(50.0) as f64)
                    .collect(),
                "µs"
            ),
            spread(
                rounds
                    .iter()
                    .map(|s| s.fixed.latency_us(99.0) as f64)
                    .collect(),
                "µs"
            ),
            spread(rounds.iter().map(own).collect(), "µs"),
            added(&cpu),
            added(&own),
        );
    }
    let failed: u64 = samples
        .iter()
        .flatten()
        .map(|s| s.throughput.failed + s.fixed.failed)
        .sum();
    out += &format!("\nfailed requests: {failed}\n");
    if let Some(failure) = samples.iter().flatten().find_map(|s| {
        s.throughput
            .first_failure
            .as_ref()
            .or(s.fixed.first_failure.as_ref())
    }) {
        out += &format!("first failure: {failure}\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use clap::Parser;
    use gateway::Config;

    use super::*;

    #[test]
    fn each_variant_is_a_configuration_the_gateway_accepts() {
        let plan = Plan::try_parse_from(["load"]).unwrap_or_else(|error| panic!("{error}"));
        for store in [Store::Open, Store::Memory, Store::Redis] {
            let text = gateway_config(&plan, "http://127.0.0.1:9")
                + &store.auth_section("redis://127.0.0.1:6");
            let config = Config::from_toml(store.name(), &text)
                .unwrap_or_else(|error| panic!("{}: {error}\n{text}", store.name()));
            let redis_url = config.auth.as_ref().and_then(|auth| auth.redis_url.clone());
            match store {
                Store::Open => assert!(config.auth.is_none()),
                Store::Memory => assert_eq!((config.auth.is_some(), redis_url), (true, None)),
                Store::Redis => assert_eq!(redis_url.as_deref(), Some("redis://127.0.0.1:6")),
            }
        }
    }
}
