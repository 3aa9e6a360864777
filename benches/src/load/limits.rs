//! `load limits`: how exactly any OpenAI-compatible gateway keeps a key's rate limit. It offers
//! a multiple of the limit through one or several replicas, evenly spread over a window, and
//! reports what was admitted against the limit (per replica and in total), the 429s with and
//! without `Retry-After`, and whether `x-ratelimit-remaining-requests` went down as requests
//! were admitted. A request held past [`ANSWER_TIMEOUT`] counts as unanswered: a gateway that
//! queues what it should refuse shows there, not as admitted. The token limit is measured the same way with streamed requests, counting the
//! tokens each admitted stream's usage chunk reports.
//!
//! A limit of L per minute, offered 3L within 60 seconds from a fresh start, should admit L: more
//! is a limit that leaks (per-process counters behind a balancer, a fixed window's doubled edge,
//! races), less is one that over-counts.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

/// How long a request may wait for its answer (its whole body) before it counts as unanswered:
/// a minute, the span of the limit being measured.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(60);

/// The command line of `load limits`.
#[derive(Debug, Clone, clap::Args)]
pub struct LimitsPlan {
    /// A replica's base URL (requests go to `<URL>/v1/chat/completions`); repeat for several,
    /// which are offered the load in turn.
    #[arg(long = "url", required = true, value_name = "URL")]
    pub urls: Vec<String>,
    /// The API key whose limit is measured.
    #[arg(long, env = "LOAD_LIMITS_KEY")]
    pub key: String,
    /// The model to ask for.
    #[arg(long, default_value = "llama3.2")]
    pub model: String,
    /// The key's configured requests per minute: measured with non-stream requests.
    #[arg(long, value_name = "L")]
    pub requests_per_minute: Option<u64>,
    /// The key's configured tokens per minute: measured with streamed requests.
    #[arg(long, value_name = "T")]
    pub tokens_per_minute: Option<u64>,
    /// How long the load is offered, at most the limit's minute: all of it falls in one 60 s
    /// window, which must admit exactly the limit.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=60))]
    pub window_seconds: u64,
    /// The load offered, in multiples of the limit.
    #[arg(long, default_value_t = 3.0)]
    pub offered_factor: f64,
    /// The name the report gives the target.
    #[arg(long, default_value = "target")]
    pub name: String,
    /// Start each measure half a window before a UTC minute begins, where limiters that count
    /// per calendar minute start afresh: a fixed window then shows its doubled edge.
    #[arg(long)]
    pub straddle_minute: bool,
}

/// One answer.
#[derive(Debug, Clone)]
struct Answer {
    replica: usize,
    /// `None` when no answer came: the connection failed, or [`ANSWER_TIMEOUT`] passed.
    status: Option<u16>,
    /// Whether [`ANSWER_TIMEOUT`] passed before the answer (or its body) was complete.
    timed_out: bool,
    retry_after: bool,
    remaining: Option<u64>,
    /// Tokens the stream's usage chunk reported (streamed requests).
    tokens: u64,
}

/// What one measure found.
#[derive(Debug)]
pub struct Accuracy {
    /// `requests` or `tokens`.
    pub measure: &'static str,
    /// The configured limit.
    pub limit: u64,
    /// Requests offered.
    pub offered: usize,
    /// Admitted amount (requests, or tokens) per replica.
    pub admitted_by_replica: Vec<u64>,
    /// 429s with a `Retry-After`.
    pub refused_with_retry_after: usize,
    /// 429s without one.
    pub refused_without_retry_after: usize,
    /// Requests held past [`ANSWER_TIMEOUT`].
    pub unanswered: usize,
    /// Answers that were neither 2xx nor 429, and failed connections.
    pub other: usize,
    /// Whether `x-ratelimit-remaining-requests` went down along a replica's admissions: `None`
    /// when no admitted answer carried it.
    pub remaining_decreases: Option<bool>,
}

impl Accuracy {
    /// Admitted in total.
    pub fn admitted(&self) -> u64 {
        self.admitted_by_replica.iter().sum()
    }
}

/// Runs the measures `plan` asks for, one after the other, and returns them.
pub async fn measure(plan: &LimitsPlan) -> Result<Vec<Accuracy>, String> {
    let client = reqwest::Client::builder()
        .timeout(ANSWER_TIMEOUT)
        .build()
        .map_err(|error| error.to_string())?;
    let mut found = Vec::new();
    if let Some(limit) = plan.requests_per_minute {
        straddle(plan).await;
        let body = json!({"model": plan.model, "messages": [{"role": "user", "content": "Say OK."}], "max_tokens": 8});
        let offered = offered(plan, limit as f64);
        let answers = offer(&client, plan, &body, offered).await;
        found.push(summarize("requests", limit, offered, &answers, |_| 1));
    }
    if let Some(limit) = plan.tokens_per_minute {
        let body = json!({"model": plan.model, "messages": [{"role": "user", "content": "Say hello."}],
                          "stream": true, "stream_options": {"include_usage": true}});
        straddle(plan).await;
        // One stream first tells what a request costs; it is part of the window.
        let first = send(&client, plan, 0, &body).await;
        if !first
            .status
            .is_some_and(|status| (200..300).contains(&status))
            || first.tokens == 0
        {
            return Err(format!(
                "the first stream was answered {:?} with {} tokens of usage: the token limit is measured with streams that report their usage, on a key with no other limit spent",
                first.status, first.tokens
            ));
        }
        let per_request = first.tokens;
        let offered = offered(plan, limit as f64 / per_request as f64).saturating_sub(1);
        let mut answers = vec![first];
        answers.extend(offer(&client, plan, &body, offered).await);
        found.push(summarize("tokens", limit, offered + 1, &answers, |a| {
            a.tokens
        }));
    }
    Ok(found)
}

/// With `--straddle-minute`, waits until half a window before the next UTC minute.
async fn straddle(plan: &LimitsPlan) {
    if !plan.straddle_minute {
        return;
    }
    let now = wire::unix_time::since_epoch();
    let into_minute = now.as_millis() % 60_000;
    let start = (60_000 - u128::from(plan.window_seconds) * 500) % 60_000;
    let wait = (start + 60_000 - into_minute) % 60_000;
    tokio::time::sleep(Duration::from_millis(u64::try_from(wait).unwrap_or(0))).await;
}

/// Requests to offer for a limit of `per_minute` requests.
fn offered(plan: &LimitsPlan, per_minute: f64) -> usize {
    (plan.offered_factor * per_minute).ceil() as usize
}

/// Sends `count` copies of `body`, evenly spread over the window and over the replicas.
async fn offer(
    client: &reqwest::Client,
    plan: &LimitsPlan,
    body: &Value,
    count: usize,
) -> Vec<Answer> {
    let started = Instant::now();
    let interval = Duration::from_secs(plan.window_seconds).div_f64(count.max(1) as f64);
    let mut sent = Vec::with_capacity(count);
    for n in 0..count {
        tokio::time::sleep_until((started + interval.mul_f64(n as f64)).into()).await;
        let (client, plan, body) = (client.clone(), plan.clone(), body.clone());
        sent.push(tokio::spawn(async move {
            send(&client, &plan, n % plan.urls.len(), &body).await
        }));
    }
    let mut answers = Vec::with_capacity(count);
    for task in sent {
        if let Ok(answer) = task.await {
            answers.push(answer);
        }
    }
    answers
}

/// One request to `replica`, read to its end.
async fn send(client: &reqwest::Client, plan: &LimitsPlan, replica: usize, body: &Value) -> Answer {
    let url = format!(
        "{}/v1/chat/completions",
        plan.urls[replica].trim_end_matches('/')
    );
    let mut answer = Answer {
        replica,
        status: None,
        timed_out: false,
        retry_after: false,
        remaining: None,
        tokens: 0,
    };
    let response = match client
        .post(url)
        .bearer_auth(&plan.key)
        .json(body)
        .send()
        .await
    {
        Ok(response) => response,
        Err(error) => {
            answer.timed_out = error.is_timeout();
            return answer;
        }
    };
    answer.status = Some(response.status().as_u16());
    let headers = response.headers();
    answer.retry_after = headers.contains_key("retry-after");
    answer.remaining = headers
        .get("x-ratelimit-remaining-requests")
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.trim().parse().ok());
    let mut body = response.bytes_stream();
    let mut text = Vec::new();
    while let Some(piece) = body.next().await {
        match piece {
            Ok(piece) => text.extend_from_slice(&piece),
            Err(error) => {
                answer.timed_out = error.is_timeout();
                break;
            }
        }
    }
    answer.tokens = String::from_utf8_lossy(&text)
        .lines()
        .filter_map(|line| line.strip_prefix("data:"))
        .filter_map(|data| serde_json::from_str::<Value>(data.trim()).ok())
        .find_map(|event| event["usage"]["total_tokens"].as_u64())
        .unwrap_or(0);
    answer
}

fn summarize(
    measure: &'static str,
    limit: u64,
    offered: usize,
    answers: &[Answer],
    amount: impl Fn(&Answer) -> u64,
) -> Accuracy {
    let replicas = answers.iter().map(|a| a.replica + 1).max().unwrap_or(1);
    let mut admitted_by_replica = vec![0; replicas];
    let (mut with, mut without, mut unanswered, mut other) = (0, 0, 0, 0);
    let mut seen: Vec<Vec<u64>> = vec![Vec::new(); replicas];
    for answer in answers {
        match answer.status {
            _ if answer.timed_out => unanswered += 1,
            Some(status) if (200..300).contains(&status) => {
                admitted_by_replica[answer.replica] += amount(answer);
                if let Some(remaining) = answer.remaining {
                    seen[answer.replica].push(remaining);
                }
            }
            Some(429) if answer.retry_after => with += 1,
            Some(429) => without += 1,
            _ => other += 1,
        }
    }
    let carried = seen.iter().any(|values| !values.is_empty());
    let remaining_decreases = carried.then(|| {
        seen.iter()
            .any(|values| values.windows(2).any(|pair| pair[1] < pair[0]))
    });
    Accuracy {
        measure,
        limit,
        offered,
        admitted_by_replica,
        refused_with_retry_after: with,
        refused_without_retry_after: without,
        unanswered,
        other,
        remaining_decreases,
    }
}

/// The head of the report's table.
pub const TABLE_HEAD: &str = "| target | replicas | limit | offered | admitted (per replica) | admitted ÷ limit | 429 with / without Retry-After | no answer within 60 s | other failures | remaining-requests decreases |\n|---|---:|---|---:|---|---:|---|---:|---:|---|\n";

/// The report's table rows for `name`'s measures.
pub fn rows(name: &str, replicas: usize, found: &[Accuracy]) -> String {
    let mut out = String::new();
    for accuracy in found {
        let per_replica: Vec<String> = accuracy
            .admitted_by_replica
            .iter()
            .map(u64::to_string)
            .collect();
        out.push_str(&format!(
            "| {name} | {replicas} | {} {}/min | {} requests | {} ({}) | {:.3} | {} / {} | {} | {} | {} |\n",
            accuracy.limit,
            accuracy.measure,
            accuracy.offered,
            accuracy.admitted(),
            per_replica.join(" + "),
            accuracy.admitted() as f64 / accuracy.limit as f64,
            accuracy.refused_with_retry_after,
            accuracy.refused_without_retry_after,
            accuracy.unanswered,
            accuracy.other,
            match accuracy.remaining_decreases {
                Some(true) => "yes",
                Some(false) => "no",
                None => "not sent",
            },
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(replica: usize, status: u16, retry_after: bool, remaining: Option<u64>) -> Answer {
        Answer {
            replica,
            status: Some(status),
            timed_out: false,
            retry_after,
            remaining,
            tokens: 7,
        }
    }

    #[test]
    fn admissions_refusals_and_the_remaining_count_are_told_apart() {
        let answers = [
            answer(0, 200, false, Some(2)),
            answer(1, 200, false, Some(1)),
            answer(0, 200, false, Some(0)),
            answer(1, 429, true, Some(0)),
            answer(0, 429, false, None),
            answer(1, 503, true, None),
            Answer {
                status: None,
                timed_out: true,
                ..answer(0, 0, false, None)
            },
        ];
        let found = summarize("requests", 3, 7, &answers, |_| 1);
        assert_eq!(found.admitted_by_replica, [2, 1]);
        assert_eq!(found.admitted(), 3);
        assert_eq!(
            (
                found.refused_with_retry_after,
                found.refused_without_retry_after,
                found.unanswered,
                found.other
            ),
            (1, 1, 1, 1)
        );
        assert_eq!(found.remaining_decreases, Some(true));
        let tokens = summarize("tokens", 100, 7, &answers, |a| a.tokens);
        assert_eq!(tokens.admitted(), 21);
        let constant = [
            answer(0, 200, false, Some(5)),
            answer(0, 200, false, Some(5)),
        ];
        assert_eq!(
            summarize("requests", 3, 2, &constant, |_| 1).remaining_decreases,
            Some(false)
        );
        let absent = [answer(0, 200, false, None)];
        assert_eq!(
            summarize("requests", 3, 1, &absent, |_| 1).remaining_decreases,
            None
        );
    }
}
