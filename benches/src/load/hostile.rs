//! `load hostile`: what misbehaving upstreams can make the gateway hold. The mock-ollama binary
//! plays upstreams that never end (its `endless` fault: a body or one line without end, chunks
//! that never finish, a body that drips within the idle timeout), once over Ollama's NDJSON and
//! once over its OpenAI layer's SSE; the gateway binary sits in front with a short `total_ms`.
//! Every case sends its requests a few at a time and reports whether each got the well-formed
//! answer it should (a 502/504 envelope, or a stream ending with an error event), how long after
//! the deadline the deadline cases were answered, and the gateway's resident memory: its peak
//! must stay under `--max-rss-mib` although the upstreams send without end.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use super::{
    plan::HostilePlan,
    process::{Server, Usage},
    report::Judged,
    setup::{LoadError, WorkDir, bin_dir, progress, start_gateway},
};

/// What the mock's rules do, keyed by the prompt that selects them.
const SCENARIO: &str = r#"{
  "models": [{"name": "llama3.2:latest", "family": "llama", "parameter_size": "3.2B", "capabilities": ["completion"]},
             {"name": "qwen3:0.6b", "family": "qwen3", "parameter_size": "751.63M", "capabilities": ["completion"]}],
  "rules": [
    {"match": {"last_user_contains": "[hostile:line]"}, "reply": {"text": "Then no end"},
     "faults": [{"kind": "endless", "after": 1, "shape": "line"}]},
    {"match": {"last_user_contains": "[hostile:chunks]"}, "reply": {"text": "Again and again"},
     "faults": [{"kind": "endless", "after": 1, "shape": "lines"}]},
    {"match": {"last_user_contains": "[hostile:paced]"}, "reply": {"text": "Again, steadily"},
     "faults": [{"kind": "endless", "after": 1, "shape": "lines", "pause_ms": 5}]},
    {"match": {"last_user_contains": "[hostile:drip]"}, "reply": {"text": "Slowly"},
     "faults": [{"kind": "endless", "after": 0, "shape": "line", "pause_ms": 100}]}
  ]
}"#;

/// The upstream dialect a case goes through: the backend it names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Dialect {
    /// `kind = "ollama"`, the mock's `/api/chat`.
    Ollama,
    /// `kind = "openai"`, the mock's `/v1/chat/completions`.
    Openai,
}

impl Dialect {
    /// The model the gateway routes to this dialect's backend.
    fn model(self) -> &'static str {
        match self {
            Dialect::Ollama => "llama3.2",
            Dialect::Openai => "qwen3:0.6b",
        }
    }
}

/// The answer a case must get.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Expect {
    /// This status with an OpenAI envelope of this code.
    Refused(u16, &'static str),
    /// A 200 stream whose last event is an error of this code (and no `[DONE]`).
    StreamError(&'static str),
}

impl Expect {
    fn text(self) -> String {
        match self {
            Expect::Refused(status, code) => format!("{status} `{code}`"),
            Expect::StreamError(code) => format!("error event `{code}`"),
        }
    }

    /// Whether the answer ends at the total deadline (so its lateness is measured).
    fn at_deadline(self) -> bool {
        let (Expect::Refused(_, code) | Expect::StreamError(code)) = self;
        code == "upstream_timeout"
    }
}

/// One hostile upstream and the answer it must get.
#[derive(Debug, Clone, Copy)]
struct Case {
    dialect: Dialect,
    stream: bool,
    /// The mock rule's marker, e.g. `[hostile:line]`.
    prompt: &'static str,
    /// What the upstream does, for the report.
    sends: &'static str,
    expect: Expect,
}

const CASES: &[Case] = &[
    Case {
        dialect: Dialect::Ollama,
        stream: false,
        prompt: "[hostile:line]",
        sends: "a body without end",
        expect: Expect::Refused(502, "upstream_too_large"),
    },
    Case {
        dialect: Dialect::Ollama,
        stream: false,
        prompt: "[hostile:chunks]",
        sends: "its object again and again",
        expect: Expect::Refused(502, "upstream_too_large"),
    },
    Case {
        dialect: Dialect::Ollama,
        stream: false,
        prompt: "[hostile:drip]",
        sends: "64 KiB every 100 ms, never the end",
        expect: Expect::Refused(504, "upstream_timeout"),
    },
    Case {
        dialect: Dialect::Ollama,
        stream: true,
        prompt: "[hostile:line]",
        sends: "one NDJSON line without end",
        expect: Expect::StreamError("upstream_protocol_error"),
    },
    Case {
        dialect: Dialect::Ollama,
        stream: true,
        prompt: "[hostile:chunks]",
        sends: "valid chunks, never `done`",
        expect: Expect::StreamError("upstream_timeout"),
    },
    Case {
        dialect: Dialect::Ollama,
        stream: true,
        prompt: "[hostile:paced]",
        sends: "a valid chunk every 5 ms, never `done`",
        expect: Expect::StreamError("upstream_timeout"),
    },
    Case {
        dialect: Dialect::Openai,
        stream: false,
        prompt: "[hostile:line]",
        sends: "a body without end",
        expect: Expect::Refused(502, "upstream_too_large"),
    },
    Case {
        dialect: Dialect::Openai,
        stream: true,
        prompt: "[hostile:line]",
        sends: "one SSE event without end",
        expect: Expect::StreamError("upstream_protocol_error"),
    },
    Case {
        dialect: Dialect::Openai,
        stream: true,
        prompt: "[hostile:chunks]",
        sends: "valid events, never a finish",
        expect: Expect::StreamError("upstream_timeout"),
    },
    Case {
        dialect: Dialect::Openai,
        stream: true,
        prompt: "[hostile:paced]",
        sends: "a valid event every 5 ms, never a finish",
        expect: Expect::StreamError("upstream_timeout"),
    },
];

/// How much of a body's end is kept to judge it: a flooded stream is read, not hoarded.
const TAIL: usize = 256 * 1024;

/// What one request got.
#[derive(Debug)]
struct Answer {
    /// `Ok` when the answer is the one expected, else what came instead.
    verdict: Result<(), String>,
    elapsed: Duration,
}

/// What one case found.
#[derive(Debug)]
struct Found {
    case: Case,
    answers: Vec<Answer>,
    /// The gateway's memory and descriptors right after the case.
    after: Option<Usage>,
}

/// Starts the mock and the gateway, runs every case, and reports.
pub async fn measure(plan: &HostilePlan) -> Result<Judged, LoadError> {
    let bin_dir = bin_dir(plan.bin_dir.as_deref())?;
    let work = WorkDir::create("hostile")?;
    run_in(plan, &bin_dir, work.path()).await
}

async fn run_in(
    plan: &HostilePlan,
    bin_dir: &std::path::Path,
    work: &std::path::Path,
) -> Result<Judged, LoadError> {
    let scenario = work.join("hostile.json");
    std::fs::write(&scenario, SCENARIO)?;
    let mock = Server::start(
        "mock-ollama",
        &bin_dir.join("mock-ollama"),
        &[
            "--listen",
            "127.0.0.1:0",
            "--journal-limit",
            "0",
            "--fixtures",
            &scenario.to_string_lossy(),
        ],
        &[("RUST_LOG", "warn,mock_ollama=info")],
        Duration::from_secs(30),
    )?;
    let config = work.join("gateway.toml");
    std::fs::write(&config, gateway_config(plan, mock.url()))?;
    let gateway = start_gateway(None, bin_dir, &config, &[])?;
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(120))
        .build()
        .map_err(|err| LoadError::Setup(format!("HTTP client: {err}")))?;

    // A well-behaved request first: the setup works, and the idle footprint is known.
    for dialect in [Dialect::Ollama, Dialect::Openai] {
        let answer = client
            .post(format!("{}/v1/chat/completions", gateway.url()))
            .json(&json!({"model": dialect.model(), "messages": [{"role": "user", "content": "Hello"}]}))
            .send()
            .await
            .map_err(|err| LoadError::Setup(format!("a plain chat: {err}")))?;
        if !answer.status().is_success() {
            return Err(LoadError::Setup(format!(
                "a plain chat through the {dialect:?} backend got HTTP {}",
                answer.status()
            )));
        }
    }
    let idle = gateway.usage();

    let mut found = Vec::new();
    for &case in CASES {
        progress(&format!(
            "{:?} {}: {}",
            case.dialect,
            if case.stream { "stream" } else { "whole" },
            case.sends
        ));
        let answers = futures_util::stream::iter(0..plan.requests)
            .map(|_| ask(&client, gateway.url(), case))
            .buffer_unordered(usize::try_from(plan.concurrency).unwrap_or(1))
            .collect()
            .await;
        found.push(Found {
            case,
            answers,
            after: gateway.usage(),
        });
    }
    Ok(render(plan, idle, gateway.usage(), &found))
}

/// Two backends on the mock, one per dialect, with the plan's deadline and body limit.
fn gateway_config(plan: &HostilePlan, mock_url: &str) -> String {
    let limit = plan
        .max_body_bytes
        .map(|bytes| format!("max_body_bytes = {bytes}\n"))
        .unwrap_or_default();
    let backend = |name: &str, kind: &str, base_url: &str, model: &str| {
        format!(
            "[[backends]]\nname = \"{name}\"\nkind = \"{kind}\"\nbase_url = \"{base_url}\"\nmodels = [\"{model}\"]\n{limit}timeouts = {{ total_ms = {} }}\nretry = {{ attempts = 1 }}\n\n",
            plan.total_ms
        )
    };
    let mut config = backend("ollama", "ollama", mock_url, Dialect::Ollama.model());
    config += &backend(
        "openai",
        "openai",
        &format!("{mock_url}/v1"),
        Dialect::Openai.model(),
    );
    config
}

/// Sends one request of `case` and judges its whole answer.
async fn ask(client: &reqwest::Client, gateway: &str, case: Case) -> Answer {
    let started = Instant::now();
    let body = json!({"model": case.dialect.model(), "stream": case.stream,
                      "messages": [{"role": "user", "content": case.prompt}]});
    let verdict = async {
        let response = client
            .post(format!("{gateway}/v1/chat/completions"))
            .json(&body)
            .send()
            .await
            .map_err(|err| format!("no answer: {err}"))?;
        let status = response.status().as_u16();
        let mut body = response.bytes_stream();
        let mut tail = Vec::new();
        while let Some(piece) = body.next().await {
            let piece = piece.map_err(|err| format!("HTTP {status}, the body broke: {err}"))?;
            tail.extend_from_slice(&piece);
            if tail.len() > 2 * TAIL {
                tail.drain(..tail.len() - TAIL);
            }
        }
        // Judged from its last line on when only the tail was kept.
        let text = String::from_utf8_lossy(&tail);
        let text = match tail.len() > TAIL {
            true => text.split_once('\n').map_or("", |(_, rest)| rest),
            false => &text,
        };
        judge(case.expect, status, text)
    }
    .await;
    Answer {
        verdict,
        elapsed: started.elapsed(),
    }
}

/// Whether `status` and `text` are the answer `expect` says.
fn judge(expect: Expect, status: u16, text: &str) -> Result<(), String> {
    let short = |text: &str| text.chars().take(160).collect::<String>();
    match expect {
        Expect::Refused(want, code) => {
            let envelope: Value = serde_json::from_str(text)
                .map_err(|_| format!("HTTP {status}, not JSON: {}", short(text)))?;
            if status == want && envelope["error"]["code"] == code {
                Ok(())
            } else {
                Err(format!("HTTP {status} {}", short(text)))
            }
        }
        Expect::StreamError(code) => {
            let data: Vec<&str> = text
                .lines()
                .filter_map(|line| line.strip_prefix("data: "))
                .collect();
            let last = data.last().copied().unwrap_or_default();
            let ended: Value = serde_json::from_str(last).unwrap_or(Value::Null);
            if status == 200 && ended["error"]["code"] == code && !data.contains(&"[DONE]") {
                Ok(())
            } else {
                Err(format!(
                    "HTTP {status}, {} events, the last {}",
                    data.len(),
                    short(last)
                ))
            }
        }
    }
}

const MIB: f64 = 1024.0 * 1024.0;

fn render(plan: &HostilePlan, idle: Option<Usage>, end: Option<Usage>, found: &[Found]) -> Judged {
    let mib = |usage: Option<Usage>, peak: bool| {
        usage.map_or("?".to_owned(), |usage| {
            format!(
                "{:.0}",
                (if peak { usage.peak_rss } else { usage.rss }) as f64 / MIB
            )
        })
    };
    let mut failures = Vec::new();
    let mut report = format!(
        "### Hostile upstreams\n\n`load hostile --requests {} --concurrency {} --total-ms {}`{}: each \
         case's requests {} at a time; the gateway's `total_ms` is {} ms, its `max_body_bytes` {}.\n\n\
         | backend | request | the upstream sends | answer | well-formed | answered in p50 / max | past `total_ms`, max | gateway RSS after (MiB) | descriptors after |\n\
         |---|---|---|---|---|---|---|---|---|\n",
        plan.requests,
        plan.concurrency,
        plan.total_ms,
        plan.max_body_bytes
            .map(|bytes| format!(" --max-body-bytes {bytes}"))
            .unwrap_or_default(),
        plan.concurrency,
        plan.total_ms,
        plan.max_body_bytes
            .map_or("16 MiB (its default)".to_owned(), |bytes| format!(
                "{bytes} bytes"
            )),
    );
    for Found {
        case,
        answers,
        after,
    } in found
    {
        let mut times: Vec<Duration> = answers.iter().map(|answer| answer.elapsed).collect();
        times.sort();
        let good = answers.iter().filter(|a| a.verdict.is_ok()).count();
        for answer in answers {
            if let Err(what) = &answer.verdict {
                failures.push(format!("{:?} {}: {what}", case.dialect, case.sends));
            }
        }
        let late = if case.expect.at_deadline() {
            let deadline = Duration::from_millis(plan.total_ms);
            times
                .last()
                .map_or("?".to_owned(), |max| millis(max.saturating_sub(deadline)))
        } else {
            "—".to_owned()
        };
        report += &format!(
            "| {:?} | {} | {} | {} | {good} of {} | {} / {} | {late} | {} | {} |\n",
            case.dialect,
            if case.stream { "streamed" } else { "whole" },
            case.sends,
            case.expect.text(),
            answers.len(),
            times
                .get(times.len() / 2)
                .map_or("?".to_owned(), |t| millis(*t)),
            times.last().map_or("?".to_owned(), |t| millis(*t)),
            mib(*after, false),
            after.map_or("?".to_owned(), |usage| usage.fds.to_string()),
        );
    }
    let peak = end.map(|usage| usage.peak_rss);
    report += &format!(
        "\nThe gateway's resident memory: {} MiB idle after one plain chat per backend, {} MiB at the \
         end, {} MiB at its peak (the run fails above {} MiB).\n",
        mib(idle, false),
        mib(end, false),
        mib(end, true),
        plan.max_rss_mib
    );
    match peak {
        Some(peak) if peak > plan.max_rss_mib * 1024 * 1024 => failures.push(format!(
            "the gateway's peak RSS {:.0} MiB passed {} MiB",
            peak as f64 / MIB,
            plan.max_rss_mib
        )),
        Some(_) => {}
        None => failures.push("the gateway's memory could not be read from /proc".to_owned()),
    }
    Judged { report, failures }
}

fn millis(duration: Duration) -> String {
    format!("{} ms", duration.as_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_refusal_is_judged_by_status_and_code() {
        let envelope =
            r#"{"error":{"message":"m","type":"t","param":null,"code":"upstream_too_large"}}"#;
        let expect = Expect::Refused(502, "upstream_too_large");
        assert_eq!(judge(expect, 502, envelope), Ok(()));
        assert!(judge(expect, 504, envelope).is_err());
        assert!(judge(expect, 502, "<html>").is_err());
    }

    #[test]
    fn a_stream_must_end_with_the_error_and_no_done() {
        let expect = Expect::StreamError("upstream_timeout");
        let ended =
            "data: {\"choices\":[]}\n\ndata: {\"error\":{\"code\":\"upstream_timeout\"}}\n\n";
        assert_eq!(judge(expect, 200, ended), Ok(()));
        let done_after = format!("{ended}data: [DONE]\n\n");
        assert!(judge(expect, 200, &done_after).is_err());
        assert!(judge(expect, 200, "data: {\"choices\":[]}\n\n").is_err());
    }

    #[test]
    fn the_scenario_parses_as_the_mock_reads_it() {
        let scenario = mock_ollama::Scenario::from_json("hostile.json", SCENARIO);
        assert!(scenario.is_ok(), "{scenario:?}");
    }
}
