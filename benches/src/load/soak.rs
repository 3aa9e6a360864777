//! `load soak`: the gateway under hours of ordinary trouble, shortened to a bounded run. Mixed
//! traffic — whole and streamed chats over both upstream dialects, slow streams, upstream 429s
//! and 503s, streams that break midway, clients that hang up — goes through the gateway binary to
//! the mock-ollama binary, which is killed and restarted on the same port every
//! `--restart-every-seconds`. Every answer is judged whole, and against the mock's journal: a
//! complete reply is exactly the scripted text (no event lost or repeated) from exactly one
//! upstream request, a broken stream carries a prefix of it and ends in an error event, and a
//! client's hang-up reaches the upstream. The gateway's memory and descriptors are sampled
//! throughout and must stay flat after the warm-up.

use std::{
    collections::{BTreeMap, HashMap},
    sync::{
        Arc, Mutex,
        atomic::{AtomicU64, Ordering},
    },
    time::{Duration, Instant},
};

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{
    plan::SoakPlan,
    process::{Server, Usage, free_port},
    report::Judged,
    setup::{LoadError, WorkDir, bin_dir, progress, start_gateway},
};

/// The scripted text of every reply that is not a fault.
const TEXT: &str = "Soak one two three four five six seven eight nine ten.";

/// The mock's rules, selected by the kind's marker in the prompt. Slow streams pause 40 ms
/// between chunks, so a hang-up meets a stream still running.
const SCENARIO: &str = r#"{
  "models": [{"name": "llama3.2:latest", "family": "llama", "parameter_size": "3.2B", "capabilities": ["completion"]},
             {"name": "qwen3:0.6b", "family": "qwen3", "parameter_size": "751.63M", "capabilities": ["completion"]}],
  "timing": {"ttft_ms": 0, "chunk_delay_ms": 0, "jitter_ms": 0, "load_ms": 0},
  "rules": [
    {"name": "plain", "match": {"last_user_contains": "[soak:plain]"},
     "reply": {"text": "Soak one two three four five six seven eight nine ten."}},
    {"name": "slow", "match": {"last_user_contains": "[soak:slow]"},
     "reply": {"text": "Soak one two three four five six seven eight nine ten."},
     "timing": {"ttft_ms": 0, "chunk_delay_ms": 40, "jitter_ms": 0, "load_ms": 0}},
    {"name": "429", "match": {"last_user_contains": "[soak:429]"},
     "faults": [{"kind": "http_error", "status": 429, "retry_after": "1"}]},
    {"name": "503", "match": {"last_user_contains": "[soak:503]"},
     "faults": [{"kind": "http_error", "status": 503}]},
    {"name": "mid-stream", "match": {"last_user_contains": "[soak:mid-stream]"},
     "reply": {"text": "Soak one two three four five six seven eight nine ten."},
     "faults": [{"kind": "error_line", "after": 3, "message": "the model runner crashed"}]}
  ]
}"#;

/// What a request of the mix asks for, and what it must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Kind {
    /// The scripted text, whole.
    Whole,
    /// The scripted text, streamed.
    Stream,
    /// The scripted text, streamed 40 ms a chunk.
    SlowStream,
    /// An upstream 429: an error envelope.
    RateLimited,
    /// An upstream 503: an error envelope.
    Overloaded,
    /// A stream the upstream breaks after three chunks: a prefix, then an error event.
    BrokenStream,
    /// A slow stream the client leaves after its first content.
    HangUp,
}

/// The mix, each client taking the next in turn: six ordinary replies in ten.
const MIX: &[Kind] = &[
    Kind::Whole,
    Kind::Stream,
    Kind::SlowStream,
    Kind::Whole,
    Kind::Stream,
    Kind::RateLimited,
    Kind::Overloaded,
    Kind::BrokenStream,
    Kind::HangUp,
    Kind::Stream,
];

impl Kind {
    fn marker(self) -> &'static str {
        match self {
            Kind::Whole | Kind::Stream => "[soak:plain]",
            Kind::SlowStream | Kind::HangUp => "[soak:slow]",
            Kind::RateLimited => "[soak:429]",
            Kind::Overloaded => "[soak:503]",
            Kind::BrokenStream => "[soak:mid-stream]",
        }
    }

    /// The mock rule that answers it.
    fn rule(self) -> &'static str {
        match self {
            Kind::Whole | Kind::Stream => "plain",
            Kind::SlowStream | Kind::HangUp => "slow",
            Kind::RateLimited => "429",
            Kind::Overloaded => "503",
            Kind::BrokenStream => "mid-stream",
        }
    }

    fn stream(self) -> bool {
        !matches!(self, Kind::Whole | Kind::RateLimited | Kind::Overloaded)
    }

    /// Whether its answer, when the upstream is up, is the scripted text in full.
    fn succeeds(self) -> bool {
        matches!(self, Kind::Whole | Kind::Stream | Kind::SlowStream)
    }
}

/// How one answer ended, as the client read it.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ending {
    /// The scripted text in full: a 200 reply, or a stream ending in `[DONE]`.
    Complete,
    /// A non-2xx error envelope with this code (or type).
    Refused(String),
    /// A 200 stream that carried a prefix of the text, then an error event with this code.
    StreamError(String),
    /// The client left after the first content, as planned.
    LeftEarly,
    /// Anything else: what was wrong.
    Malformed(String),
}

/// One request and what it got.
#[derive(Debug)]
struct Outcome {
    tag: String,
    kind: Kind,
    ending: Ending,
    /// When it was sent.
    sent: Instant,
    /// When the client was done with it.
    done: Instant,
}

/// The mock's journal entries of one tag: the rule that answered, and whether the gateway left.
type Journal = HashMap<String, Vec<(Option<String>, bool)>>;

/// One sample of the gateway's usage, seconds into the run.
#[derive(Debug, Clone, Copy)]
struct Sample {
    at: f64,
    usage: Usage,
}

/// Starts the mock and the gateway, runs the soak, and reports.
pub async fn measure(plan: &SoakPlan) -> Result<Judged, LoadError> {
    let bin_dir = bin_dir(plan.bin_dir.as_deref())?;
    let work = WorkDir::create("soak")?;
    run_in(plan, &bin_dir, work.path()).await
}

/// The mock-ollama binary on `port`, its journal large enough for one lifetime.
fn start_mock(
    bin_dir: &std::path::Path,
    scenario: &std::path::Path,
    port: u16,
) -> Result<Server, LoadError> {
    Ok(Server::start(
        "mock-ollama",
        &bin_dir.join("mock-ollama"),
        &[
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--journal-limit",
            "1000000",
            "--fixtures",
            &scenario.to_string_lossy(),
        ],
        &[("RUST_LOG", "warn,mock_ollama=info")],
        Duration::from_secs(30),
    )?)
}

/// Two backends on the mock, one per dialect, each request sent upstream once (no retries, so
/// the journal holds one entry per answered request).
fn gateway_config(mock_url: &str) -> String {
    let backend = |name: &str, kind: &str, base_url: &str, model: &str| {
        format!(
            "[[backends]]\nname = \"{name}\"\nkind = \"{kind}\"\nbase_url = \"{base_url}\"\nmodels = [\"{model}\"]\ntimeouts = {{ total_ms = 30000 }}\nretry = {{ attempts = 1 }}\n\n"
        )
    };
    backend("ollama", "ollama", mock_url, "llama3.2")
        + &backend("openai", "openai", &format!("{mock_url}/v1"), "qwen3:0.6b")
}

async fn run_in(
    plan: &SoakPlan,
    bin_dir: &std::path::Path,
    work: &std::path::Path,
) -> Result<Judged, LoadError> {
    let scenario = work.join("soak.json");
    std::fs::write(&scenario, SCENARIO)?;
    let port = free_port()?;
    let mock = start_mock(bin_dir, &scenario, port)?;
    let mock_url = mock.url().to_owned();
    let config = work.join("gateway.toml");
    std::fs::write(&config, gateway_config(&mock_url))?;
    let gateway = start_gateway(None, bin_dir, &config, &[])?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(60))
        .build()
        .map_err(|err| LoadError::Setup(format!("HTTP client: {err}")))?;
    let gateway_url = gateway.url().to_owned();
    for model in ["llama3.2", "qwen3:0.6b"] {
        let answer = ask(&client, &gateway_url, model, Kind::Whole, "warm-up").await;
        if answer != Ending::Complete {
            return Err(LoadError::Setup(format!(
                "a plain chat for {model} through the gateway got {answer:?}"
            )));
        }
    }
    let quiet_before = gateway.usage();

    let started = Instant::now();
    let deadline = started + Duration::from_secs(plan.seconds);
    progress(&format!(
        "soak: {} s, {} clients at {} req/s, the upstream restarted every {} s",
        plan.seconds, plan.concurrency, plan.rate, plan.restart_every_seconds
    ));
    let outcomes = Arc::new(Mutex::new(Vec::<Outcome>::new()));
    let next = Arc::new(AtomicU64::new(0));
    let interval = Duration::from_secs_f64(plan.concurrency as f64 / plan.rate);
    let clients: Vec<_> = (0..plan.concurrency)
        .map(|_| {
            let (client, url, outcomes, next) = (
                client.clone(),
                gateway_url.clone(),
                outcomes.clone(),
                next.clone(),
            );
            tokio::spawn(async move {
                let mut tick = tokio::time::interval(interval);
                tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                while Instant::now() < deadline {
                    tick.tick().await;
                    let index = next.fetch_add(1, Ordering::Relaxed);
                    let kind = MIX[(index as usize) % MIX.len()];
                    let model = if index % 2 == 0 {
                        "llama3.2"
                    } else {
                        "qwen3:0.6b"
                    };
                    let tag = format!("soak-{index:08}");
                    let sent = Instant::now();
                    let ending = ask(&client, &url, model, kind, &tag).await;
                    let outcome = Outcome {
                        tag,
                        kind,
                        ending,
                        sent,
                        done: Instant::now(),
                    };
                    outcomes
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .push(outcome);
                }
            })
        })
        .collect();

    // The upstream's lives: each one's journal is read just before it is killed.
    let mut journal = Journal::new();
    let mut reads = Vec::new();
    let mut samples = Vec::new();
    let mut mock = Some(mock);
    let mut outages = Vec::new();
    let mut next_restart = started + Duration::from_secs(plan.restart_every_seconds);
    while Instant::now() < deadline {
        tokio::time::sleep(Duration::from_secs(1)).await;
        if let Some(usage) = gateway.usage() {
            samples.push(Sample {
                at: started.elapsed().as_secs_f64(),
                usage,
            });
        }
        if Instant::now() >= next_restart && Instant::now() + Duration::from_secs(2) < deadline {
            let read = Instant::now();
            read_journal(&client, &mock_url, &mut journal).await?;
            let killed = Instant::now();
            drop(mock.take());
            reads.push((read, killed));
            tokio::time::sleep(Duration::from_millis(plan.down_ms)).await;
            mock = Some(start_mock(bin_dir, &scenario, port)?);
            outages.push((killed, Instant::now()));
            next_restart = Instant::now() + Duration::from_secs(plan.restart_every_seconds);
        }
    }
    for client in clients {
        let _ = client.await;
    }
    // Hang-ups reach the mock a chunk later.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let read = Instant::now();
    read_journal(&client, &mock_url, &mut journal).await?;
    reads.push((read, read));
    tokio::time::sleep(Duration::from_secs(2)).await;
    let quiet_after = gateway.usage();
    let outcomes = std::mem::take(&mut *outcomes.lock().unwrap_or_else(|p| p.into_inner()));
    Ok(render(
        plan,
        &Run {
            started,
            outcomes,
            journal,
            reads,
            outages,
            samples,
            quiet_before,
            quiet_after,
        },
    ))
}

/// Adds what the mock's journal holds to `journal`, by tag.
async fn read_journal(
    client: &reqwest::Client,
    mock_url: &str,
    journal: &mut Journal,
) -> Result<(), LoadError> {
    let entries: Vec<Value> = client
        .get(format!("{mock_url}/_mock/requests"))
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|err| LoadError::Setup(format!("the mock's journal: {err}")))?
        .json()
        .await
        .map_err(|err| LoadError::Setup(format!("the mock's journal: {err}")))?;
    for entry in entries {
        let text = entry["body"].to_string();
        let Some(at) = text.find("soak-") else {
            continue;
        };
        let tag = text[at..]
            .chars()
            .take("soak-".len() + 8)
            .collect::<String>();
        journal.entry(tag).or_default().push((
            entry["rule"].as_str().map(str::to_owned),
            entry["client_disconnected"].as_bool().unwrap_or(false),
        ));
    }
    Ok(())
}

/// Sends one request of `kind` tagged `tag` and reads its answer to the end (or, for a hang-up,
/// to its first content).
async fn ask(
    client: &reqwest::Client,
    gateway: &str,
    model: &str,
    kind: Kind,
    tag: &str,
) -> Ending {
    let body = json!({"model": model, "stream": kind.stream(),
                      "messages": [{"role": "user", "content": format!("{tag} {}", kind.marker())}]});
    let response = match client
        .post(format!("{gateway}/v1/chat/completions"))
        .json(&body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(err) => return Ending::Malformed(format!("no answer: {err}")),
    };
    let status = response.status().as_u16();
    if status != 200 {
        return match response.json::<Value>().await {
            Ok(envelope) if envelope["error"]["message"].is_string() => Ending::Refused(
                envelope["error"]["code"]
                    .as_str()
                    .or(envelope["error"]["type"].as_str())
                    .unwrap_or("?")
                    .to_owned(),
            ),
            _ => Ending::Malformed(format!("HTTP {status} without an error envelope")),
        };
    }
    if !kind.stream() {
        return match response.json::<Value>().await {
            Ok(reply) if reply["choices"][0]["message"]["content"] == TEXT => Ending::Complete,
            Ok(reply) => Ending::Malformed(format!("a whole reply of another text: {reply}")),
            Err(err) => Ending::Malformed(format!("a whole reply that does not read: {err}")),
        };
    }
    let mut decoder = wire::sse::Decoder::default();
    let mut events = Vec::new();
    let mut body = response.bytes_stream();
    let mut content = String::new();
    while let Some(piece) = body.next().await {
        let piece = match piece {
            Ok(piece) => piece,
            Err(err) => return Ending::Malformed(format!("the stream broke: {err}")),
        };
        events.clear();
        if let Err(err) = decoder.feed(&piece, &mut events) {
            return Ending::Malformed(err.to_string());
        }
        for event in &events {
            if event.data == "[DONE]" {
                return if content == TEXT {
                    Ending::Complete
                } else {
                    Ending::Malformed(format!("[DONE] after {content:?}"))
                };
            }
            let Ok(chunk) = serde_json::from_str::<Value>(&event.data) else {
                return Ending::Malformed(format!("an event that is not JSON: {}", event.data));
            };
            if let Some(error) = chunk.get("error") {
                let code = error["code"]
                    .as_str()
                    .or(error["type"].as_str())
                    .unwrap_or("?");
                return if TEXT.starts_with(&content) {
                    Ending::StreamError(code.to_owned())
                } else {
                    Ending::Malformed(format!(
                        "{content:?} before the error is not the text's start"
                    ))
                };
            }
            if let Some(delta) = chunk["choices"][0]["delta"]["content"].as_str() {
                content.push_str(delta);
                if !TEXT.starts_with(&content) {
                    return Ending::Malformed(format!("{content:?} lost or repeated a chunk"));
                }
                if kind == Kind::HangUp && !delta.is_empty() {
                    return Ending::LeftEarly;
                }
            }
        }
    }
    Ending::Malformed(format!("the stream ended without [DONE] after {content:?}"))
}

/// Everything a soak saw.
struct Run {
    started: Instant,
    outcomes: Vec<Outcome>,
    journal: Journal,
    /// When each of the mock's journals was read, and when that mock was killed (the last one:
    /// read at the end, never killed).
    reads: Vec<(Instant, Instant)>,
    /// When the upstream was killed, and when it listened again.
    outages: Vec<(Instant, Instant)>,
    samples: Vec<Sample>,
    quiet_before: Option<Usage>,
    quiet_after: Option<Usage>,
}

/// Whether `outcome` agrees with what the mock's journal says it did. `None` when the journal
/// cannot tell: the request was sent between a read of the journal and that mock's kill, or
/// its answer ended after the journal of the mock it went to was read.
fn journal_agrees(outcome: &Outcome, run: &Run) -> Option<Result<(), String>> {
    // A hang-up reaches the mock only at its next chunk.
    let settled = match outcome.ending {
        Ending::LeftEarly => outcome.done + Duration::from_millis(200),
        _ => outcome.done,
    };
    let &(read, _) = run
        .reads
        .iter()
        .find(|(_, killed)| *killed >= outcome.sent)?;
    if outcome.sent >= read || read <= settled {
        return None;
    }
    let entries = run.journal.get(&outcome.tag).map_or(&[][..], Vec::as_slice);
    let rule = outcome.kind.rule();
    Some(match &outcome.ending {
        Ending::Complete | Ending::StreamError(_) | Ending::LeftEarly if entries.len() != 1 => {
            let at =
                |instant: Instant| instant.saturating_duration_since(run.started).as_secs_f64();
            Err(format!(
                "{} upstream requests for one answer (sent at {:.3} s, done at {:.3} s, that \
                 upstream's journal read at {:.3} s)",
                entries.len(),
                at(outcome.sent),
                at(outcome.done),
                at(read)
            ))
        }
        _ if entries
            .iter()
            .any(|(answered, _)| answered.as_deref() != Some(rule)) =>
        {
            Err(format!("answered upstream by {entries:?}, not rule {rule}"))
        }
        Ending::LeftEarly if !entries[0].1 => {
            Err("the client left, but the upstream stream went on".to_owned())
        }
        _ => Ok(()),
    })
}

const MIB: f64 = 1024.0 * 1024.0;

fn render(plan: &SoakPlan, run: &Run) -> Judged {
    let mut failures = Vec::new();
    #[derive(Default)]
    struct Row {
        sent: usize,
        complete: usize,
        refused: BTreeMap<String, usize>,
        stream_errors: BTreeMap<String, usize>,
        left: usize,
        malformed: usize,
        judged: usize,
        agree: usize,
    }
    let mut rows: BTreeMap<Kind, Row> = BTreeMap::new();
    for outcome in &run.outcomes {
        let row = rows.entry(outcome.kind).or_default();
        row.sent += 1;
        match &outcome.ending {
            Ending::Complete => row.complete += 1,
            Ending::Refused(code) => *row.refused.entry(code.clone()).or_default() += 1,
            Ending::StreamError(code) => *row.stream_errors.entry(code.clone()).or_default() += 1,
            Ending::LeftEarly => row.left += 1,
            Ending::Malformed(what) => {
                row.malformed += 1;
                failures.push(format!("{} {:?}: {what}", outcome.tag, outcome.kind));
            }
        }
        if outcome.kind.succeeds() && outcome.ending != Ending::Complete {
            // Only the upstream's death may cost an ordinary request its reply: it was in
            // flight when the upstream was killed, or sent while it was down (or within a
            // second of its return, over a pooled connection to the dead one).
            let grace = Duration::from_secs(1);
            let by_the_kill = run
                .outages
                .iter()
                .any(|(killed, back)| outcome.sent <= *back + grace && outcome.done >= *killed);
            if !by_the_kill && !matches!(outcome.ending, Ending::Malformed(_)) {
                failures.push(format!(
                    "{} {:?}: {:?} while it should succeed",
                    outcome.tag, outcome.kind, outcome.ending
                ));
            }
        }
        if let Some(verdict) = journal_agrees(outcome, run) {
            row.judged += 1;
            match verdict {
                Ok(()) => row.agree += 1,
                Err(what) => failures.push(format!("{} {:?}: {what}", outcome.tag, outcome.kind)),
            }
        }
    }
    let counts = |map: &BTreeMap<String, usize>| {
        if map.is_empty() {
            "—".to_owned()
        } else {
            map.iter()
                .map(|(code, n)| format!("{n} `{code}`"))
                .collect::<Vec<_>>()
                .join(", ")
        }
    };
    let total = run.outcomes.len();
    let mut report = format!(
        "### Soak\n\n`load soak --seconds {} --concurrency {} --rate {} --restart-every-seconds {} --down-ms {}`: \
         {total} requests in {} s, the upstream killed and restarted {} times.\n\n\
         | request | sent | complete | error answers | stream error events | left early | malformed | agree with the journal |\n\
         |---|---:|---:|---|---|---:|---:|---:|\n",
        plan.seconds,
        plan.concurrency,
        plan.rate,
        plan.restart_every_seconds,
        plan.down_ms,
        plan.seconds,
        run.outages.len(),
    );
    for (kind, row) in &rows {
        report += &format!(
            "| {kind:?} | {} | {} | {} | {} | {} | {} | {} of {} |\n",
            row.sent,
            row.complete,
            counts(&row.refused),
            counts(&row.stream_errors),
            row.left,
            row.malformed,
            row.agree,
            row.judged,
        );
    }

    // Flat after the warm-up: the first tenth of the run (at least five seconds).
    let warm_up = (plan.seconds as f64 / 10.0).max(5.0);
    let after: Vec<&Sample> = run.samples.iter().filter(|s| s.at >= warm_up).collect();
    let mib = |bytes: u64| format!("{:.1}", bytes as f64 / MIB);
    match (
        after.first(),
        after.iter().map(|s| s.usage.rss).max(),
        after.last(),
    ) {
        (Some(first), Some(max_rss), Some(last)) => {
            let max_fds = after.iter().map(|s| s.usage.fds).max().unwrap_or(0);
            report += &format!(
                "\nThe gateway after the {warm_up:.0} s warm-up: RSS {} MiB, at most {} MiB, {} MiB at the end \
                 (the run fails if it grows {} MiB); descriptors {}, at most {}, {} at the end.\n",
                mib(first.usage.rss),
                mib(max_rss),
                mib(last.usage.rss),
                plan.max_rss_growth_mib,
                first.usage.fds,
                max_fds,
                last.usage.fds,
            );
            if max_rss > first.usage.rss + plan.max_rss_growth_mib * 1024 * 1024 {
                failures.push(format!(
                    "the gateway's RSS grew from {} MiB to {} MiB after the warm-up",
                    mib(first.usage.rss),
                    mib(max_rss)
                ));
            }
        }
        _ => failures
            .push("too short a run, or /proc unreadable: no sample after the warm-up".to_owned()),
    }
    if let (Some(before), Some(after)) = (run.quiet_before, run.quiet_after) {
        // Idle pooled connections may stay open; a leak grows with the requests.
        let slack = 2 * plan.concurrency as usize + 8;
        report += &format!(
            "At rest, before and after: {} and {} descriptors, RSS {} and {} MiB.\n",
            before.fds,
            after.fds,
            mib(before.rss),
            mib(after.rss)
        );
        if after.fds > before.fds + slack {
            failures.push(format!(
                "the gateway holds {} descriptors at rest after the soak, {} before",
                after.fds, before.fds
            ));
        }
    }
    if !failures.is_empty() {
        report += &format!(
            "\n{} failure(s); the first: {}\n",
            failures.len(),
            failures[0]
        );
    }
    Judged { report, failures }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_scenario_parses_as_the_mock_reads_it() {
        let scenario = mock_ollama::Scenario::from_json("soak.json", SCENARIO);
        assert!(scenario.is_ok(), "{scenario:?}");
        assert!(
            SCENARIO.matches(TEXT).count() == 3,
            "every reply is the scripted text"
        );
    }

    fn run_with(journal: Journal, read_after: bool) -> (Run, Instant) {
        let done = Instant::now();
        let read = if read_after {
            done + Duration::from_secs(1)
        } else {
            done
        };
        let reads = vec![(read, read)];
        let run = Run {
            started: done,
            outcomes: Vec::new(),
            journal,
            reads,
            outages: Vec::new(),
            samples: Vec::new(),
            quiet_before: None,
            quiet_after: None,
        };
        (run, done)
    }

    #[test]
    fn a_reply_must_come_from_exactly_one_upstream_request_of_its_rule() {
        let outcome = |done| Outcome {
            tag: "soak-00000001".into(),
            kind: Kind::Stream,
            ending: Ending::Complete,
            sent: done,
            done,
        };
        let once = Journal::from([(
            "soak-00000001".to_owned(),
            vec![(Some("plain".to_owned()), false)],
        )]);
        let (run, done) = run_with(once, true);
        assert_eq!(journal_agrees(&outcome(done), &run), Some(Ok(())));

        let twice = Journal::from([(
            "soak-00000001".to_owned(),
            vec![(Some("plain".to_owned()), false); 2],
        )]);
        let (run, done) = run_with(twice, true);
        assert!(matches!(journal_agrees(&outcome(done), &run), Some(Err(_))));

        let (run, done) = run_with(Journal::new(), false);
        assert_eq!(
            journal_agrees(&outcome(done), &run),
            None,
            "no read after it: not judged"
        );
    }

    #[test]
    fn a_hang_up_must_reach_the_upstream() {
        let left = |done| Outcome {
            tag: "soak-00000002".into(),
            kind: Kind::HangUp,
            ending: Ending::LeftEarly,
            sent: done,
            done,
        };
        let went_on = Journal::from([(
            "soak-00000002".to_owned(),
            vec![(Some("slow".to_owned()), false)],
        )]);
        let (run, done) = run_with(went_on, true);
        assert!(matches!(journal_agrees(&left(done), &run), Some(Err(_))));
        let stopped = Journal::from([(
            "soak-00000002".to_owned(),
            vec![(Some("slow".to_owned()), true)],
        )]);
        let (run, done) = run_with(stopped, true);
        assert_eq!(journal_agrees(&left(done), &run), Some(Ok(())));
    }
}
